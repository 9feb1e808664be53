use scope::{variable_scope, Variable};

/// Sizes of a layer.
#[derive(Clone, Copy)]
pub struct Config {
    pub inputs: usize,
    pub units: usize,
}

#[variable_scope("dense", cfg: Config)]
pub struct Dense {
    #[var(shape = [cfg.inputs, cfg.units])]
    pub weights: Variable,
}

/// Two layers: one in an overridden scope, one in its type's default scope.
#[variable_scope("mlp", inputs: usize, hidden: usize)]
pub struct Mlp {
    #[model(scope = "hidden_layer", args(Config { inputs, units: hidden }))]
    pub first: Dense,
    #[model(args(Config { inputs: hidden, units: 1 }))]
    pub out: Dense,
}

fn main() {}
