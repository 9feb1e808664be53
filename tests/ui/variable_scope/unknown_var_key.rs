use scope::{variable_scope, Variable};

#[variable_scope("dense", units: usize)]
pub struct Dense {
    #[var(shap = [units])]
    pub biases: Variable,
}

fn main() {}
