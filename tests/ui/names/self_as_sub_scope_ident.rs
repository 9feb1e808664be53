use scope::model;

model! {
    pub struct Attention("attention") {
        self { w: [2] }
    }
}

fn main() {}
