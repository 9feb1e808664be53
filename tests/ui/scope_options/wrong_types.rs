use scope::{variable_scope, Variable};

#[variable_scope("m", n: usize, custom_getter = n)]
pub struct M {
    #[var(shape = [n], regularizer = 0.1f64 + 1.0, constraint = n)]
    pub a: Variable,
}

fn main() {}
