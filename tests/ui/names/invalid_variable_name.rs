use scope::{variable_scope, Variable};

#[variable_scope("rnn")]
pub struct Rnn {
    #[var(shape = [2], name = "w:0")]
    pub w: Variable,
}

fn main() {}
