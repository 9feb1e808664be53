use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2], shape = [3])]
    pub biases: Variable,
}

fn main() {}
