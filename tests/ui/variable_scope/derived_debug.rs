// `#[variable_scope]` goes above `#[derive]`s (which then see the finished struct); a
// derived `Debug` clashes with the generated one.
use scope::{variable_scope, Variable};

#[variable_scope("dense")]
#[derive(Clone, Debug)]
pub struct Dense {
    #[var(shape = [2])]
    pub biases: Variable,
}

fn main() {}
