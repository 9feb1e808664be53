use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2], name = biases)]
    pub b: Variable,
}

fn main() {}
