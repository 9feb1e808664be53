use scope::model;

model! {
    pub struct Dense("dense") {
        biases [2],
    }
}

fn main() {}
