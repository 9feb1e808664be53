use scope::model;

model! {
    /// The struct is still emitted, with every error.
    pub struct Broken("broken") {
        layer {
            weights: [2, 2],
            weights: [2],
        }
        biases: = zeros,
    }
}

fn main() {}
