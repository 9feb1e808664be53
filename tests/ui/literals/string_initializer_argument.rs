use scope::model;

model! {
    pub struct Dense("dense") {
        biases: [2] = constant("0.1"),
    }
}

fn main() {}
