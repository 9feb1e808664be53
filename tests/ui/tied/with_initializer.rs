use scope::{model, Variable};

model! {
    pub struct Head("predictions", table: Variable) {
        #[var(tied = table)]
        output_weights: [7, 4] = zeros,
    }
}

fn main() {}
