// `#[variable_scope]` twice on one struct: one error, at the second.
use scope::{variable_scope, Variable};

#[variable_scope("dense")]
#[variable_scope("dense")]
pub struct Dense {
    #[var(shape = [2])]
    pub weights: Variable,
}

fn main() {
    let reg = scope::Registry::new();
    let _ = Dense::new(&reg).map(|d| d.weights);
}
