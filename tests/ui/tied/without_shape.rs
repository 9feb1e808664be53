use scope::{model, Variable};

model! {
    pub struct Head("predictions", table: Variable) {
        #[var(tied = table)]
        output_weights:,
    }
}

fn main() {}
