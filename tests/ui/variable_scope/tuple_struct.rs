// Only the struct error: the helper attribute is stripped from the tuple field.
use scope::{variable_scope, Variable};

#[variable_scope("dense")]
pub struct Dense(#[var(shape = [2])] Variable);

fn main() {}
