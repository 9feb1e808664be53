use scope::model;

model! {
    pub struct Attention("attention") {
        #[scope(name = "self attention")]
        self_attn { w: [2] }
    }
}

fn main() {}
