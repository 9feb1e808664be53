use scope::model;

model! {
    /// The seed RNN: an input layer, a basic LSTM cell and an output layer.
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

fn main() {}
