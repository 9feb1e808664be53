use scope::{variable_scope, Variable};

#[variable_scope("layer", width: usize)]
pub struct Layer {
    #[keep]
    #[var(shape = [width])]
    pub width: Variable,
}

fn main() {}
