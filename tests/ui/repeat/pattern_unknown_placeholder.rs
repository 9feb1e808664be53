use scope::{variable_scope, Variable};

#[variable_scope("block", width: usize)]
pub struct Block {
    #[var(shape = [width])]
    pub w: Variable,
}

#[variable_scope("model", n: usize)]
pub struct Gpt2 {
    #[model(repeat = n, scope = "h{n}", args(4))]
    pub h: Vec<Block>,
}

fn main() {}
