use scope::{variable_scope, Variable};

pub struct Config {
    pub width: usize,
}

#[variable_scope("layer", cfg: Config)]
pub struct Layer {
    pub cfg: Config,
    #[var(shape = [cfg.width])]
    pub w: Variable,
}

fn main() {}
