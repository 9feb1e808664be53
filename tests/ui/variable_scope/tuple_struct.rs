use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense(Variable);

fn main() {}
