use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[cfg(not(test))]
    #[var(shape = [2])]
    pub biases: Variable,
}

fn main() {}
