// On error the struct is still emitted, with `new` and `impl Model` stubs: using them
// elsewhere adds no "cannot find type" nor "no function named `new`".
use scope::{variable_scope, Model, Registry, Variable};

#[variable_scope("dense", n: usize)]
pub struct Dense {
    #[var(shape = [n], init = zero)]
    pub biases: Variable,
}

pub fn bias_of(d: &Dense) -> &Variable {
    &d.biases
}

pub fn build(reg: &Registry) -> scope::Result<Vec<(String, Variable)>> {
    let dense = Dense::new(reg, 2)?;
    println!("{dense:?} in {}", Dense::SCOPE);
    Ok(dense.variables())
}

fn main() {}
