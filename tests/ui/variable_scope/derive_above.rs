// `#[derive(Clone)]` above `#[variable_scope]`: the derive sees the struct before the macro
// adds its scope handle, so its `clone` misses that field.
use scope::{variable_scope, Variable};

#[derive(Clone)]
#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2])]
    pub weights: Variable,
}

fn main() {}
