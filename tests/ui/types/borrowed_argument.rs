// `Model::Args` holds the constructor's arguments, so they cannot borrow.
use scope::{model, variable_scope, Variable};

pub struct Config {
    pub units: usize,
}

#[variable_scope("dense", cfg: &Config)]
pub struct Dense {
    #[var(shape = [cfg.units])]
    pub w: Variable,
}

model! {
    pub struct Named("named", name: &str, init: impl Fn() -> f64, sizes: Vec<&'static [usize]>) {
        w: [2],
    }
}

pub struct View<'a>(pub &'a [usize]);

// Only this error: `'a` is declared nowhere, yet nothing else reports it.
#[variable_scope("view", view: View<'a>)]
pub struct Viewed {
    #[var(shape = [view.0[0]])]
    pub w: Variable,
}

pub fn build(reg: &scope::Registry, cfg: &Config) -> scope::Result<Dense> {
    Dense::new(reg, cfg)
}

fn main() {}
