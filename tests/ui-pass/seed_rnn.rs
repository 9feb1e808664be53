//! The seed RNN compiles, runs and shares its variables, with strict lints on the generated code.
#![deny(warnings, missing_docs, unreachable_pub, rust_2018_idioms)]

use scope::{model, Model, Registry};

model! {
    /// The seed RNN.
    pub struct Rnn("rnn", input_size: usize, hidden: usize, classes: usize) {
        input_layer {
            weights: [input_size, hidden] = random_normal(0.0, 0.5),
            biases: [hidden] = constant(0.1),
        }
        cell {
            basic_lstm_cell {
                kernel: [hidden + hidden, 4 * hidden],
                bias: [4 * hidden] = zeros,
            }
        }
        output_layer {
            weights: [hidden, classes] = random_normal(0.0, 0.5),
            biases: [classes] = constant(0.1),
        }
    }
}

fn main() {
    let reg = Registry::with_seed(0);
    let train = Rnn::new(&reg, 10, 11, 2).expect("first build creates");
    reg.reuse_variables();
    let test = Rnn::new(&reg, 10, 11, 2).expect("second build reuses");
    assert!(train.shares_storage_with(&test));
    assert_eq!(train.variables().len(), 6);
}
