// The struct is still emitted on error: using it elsewhere adds no "cannot find type".
use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2], init = zero)]
    pub biases: Variable,
}

pub fn bias_of(d: &Dense) -> &Variable {
    &d.biases
}

fn main() {}
