use scope::{model, Variable};

model! {
    pub struct Head("predictions", table: Variable, tie: bool) {
        #[var(tied = table, when = tie)]
        output_weights: [7, 4],
    }
}

fn main() {}
