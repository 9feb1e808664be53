use scope::{variable_scope, Variable};

/// A config the model keeps.
#[derive(Debug)]
pub struct Config {
    pub width: usize,
}

/// A layer that keeps its config: its forward pass needs no other.
#[variable_scope("layer", cfg: Config)]
pub struct Layer {
    #[keep]
    pub cfg: Config,
    #[var(shape = [cfg.width])]
    pub w: Variable,
}

fn main() {}
