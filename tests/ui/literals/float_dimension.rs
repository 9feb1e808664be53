use scope::model;

model! {
    pub struct Dense("dense") {
        biases: [2.5],
    }
}

fn main() {}
