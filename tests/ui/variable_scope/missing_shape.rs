use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(init = random_normal(0.0, 0.5))]
    pub weights: Variable,
}

fn main() {}
