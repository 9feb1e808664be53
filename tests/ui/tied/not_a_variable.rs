use scope::model;

model! {
    pub struct Head("predictions", vocab: usize) {
        #[var(tied = vocab)]
        output_weights: [vocab, 4],
    }
}

fn main() {}
