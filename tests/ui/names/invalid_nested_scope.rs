use scope::model;

model! {
    pub struct Cell("cell") {
        kernel: [2, 2],
    }

    pub struct Rnn("rnn") {
        #[model(scope = "lstm cell")]
        cell: model Cell,
    }
}

fn main() {}
