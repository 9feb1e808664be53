use scope::{variable_scope, Variable};

/// On error the struct is still emitted, helper attributes stripped, next to every error.
#[variable_scope("_bad")]
pub struct Broken {
    #[var(shap = [2])]
    pub weights: Variable,
    #[var(shape = [2], init = normal(0.0, 1.0))]
    pub biases: Variable,
}

fn main() {}
