use scope::{variable_scope, Variable};

#[variable_scope]
pub struct Dense {
    #[var(shape = [2])]
    pub biases: Variable,
}

fn main() {}
