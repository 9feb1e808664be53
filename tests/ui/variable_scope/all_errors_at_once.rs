// Three independent mistakes: all three are reported, each under its own tokens.
use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2], dtype = f33)]
    pub a: Variable,
    #[var(shape = [2], trainable = "no")]
    pub b: Variable,
    pub c: Variable,
}

fn main() {}
