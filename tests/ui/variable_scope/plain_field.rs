use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2])]
    pub biases: Variable,
    pub units: usize,
}

fn main() {}
