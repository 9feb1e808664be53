use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2, 2])]
    pub weights: Variable,
    #[var(shape = [2, 2], name = "weights")]
    pub kernel: Variable,
}

fn main() {}
