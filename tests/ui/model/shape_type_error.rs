// A dimension must be a usize: rustc's error lands on the offending argument.
use scope::model;

model! {
    pub struct Dense("dense", units: u32) {
        biases: [units],
    }
}

fn main() {}
