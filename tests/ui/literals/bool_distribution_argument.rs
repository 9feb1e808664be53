use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2, 2], init = random_uniform(-1.0, true))]
    pub weights: Variable,
}

fn main() {}
