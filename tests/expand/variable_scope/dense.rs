use scope::{variable_scope, Variable};

/// A dense layer: `x @ weights + biases`.
#[variable_scope("dense", in_size: usize, units: usize)]
pub struct Dense {
    /// The weights.
    #[var(shape = [in_size, units], init = random_normal(0.0, 0.5))]
    pub weights: Variable,
    /// The biases.
    #[var(shape = [units], init = constant(0.1))]
    pub biases: Variable,
}

fn main() {}
