use scope::{variable_scope, Variable};

#[variable_scope("_rnn")]
pub struct Rnn {
    #[var(shape = [2])]
    pub w: Variable,
}

fn main() {}
