use scope::model;

model! {
    pub struct Rnn("rnn") {
        layer { weights: [2, 2] }
        layer { biases: [2] }
    }
}

fn main() {}
