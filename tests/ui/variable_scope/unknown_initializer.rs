use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2, 2], init = xavier)]
    pub weights: Variable,
}

fn main() {}
