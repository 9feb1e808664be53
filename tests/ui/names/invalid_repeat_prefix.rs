use scope::model;

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Cells("multi_rnn_cell", n: usize) {
        #[model(repeat = n, scope = "cell#")]
        cells: model Dense(2),
    }
}

fn main() {}
