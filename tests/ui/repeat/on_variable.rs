use scope::{variable_scope, Variable};

#[variable_scope("encoder", n: usize)]
pub struct Encoder {
    #[var(repeat = n, shape = [2])]
    pub bias: Variable,
}

fn main() {}
