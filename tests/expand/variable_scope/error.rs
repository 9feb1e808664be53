use scope::{variable_scope, Variable};

/// On error the struct is still emitted, helper attributes stripped, with stubs of `new`,
/// `impl Model` and `impl Debug`, next to every error.
#[variable_scope("_bad", n: usize)]
pub struct Broken {
    #[var(shap = [2])]
    pub weights: Variable,
    #[var(shape = [n], init = normal(0.0, 1.0))]
    pub biases: Variable,
}

fn main() {}
