use scope::model;

model! {
    pub struct Rnn("rnn", hidden: usize) {
        cell {
            kernel: = glorot_uniform,
        }
    }
}

fn main() {}
