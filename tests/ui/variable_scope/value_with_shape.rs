use scope::{variable_scope, Variable};

#[variable_scope("table")]
pub struct Table {
    #[var(shape = [3], init = value([1.0f32, 2.0, 3.0]))]
    pub values: Variable,
}

fn main() {}
