//! Variables at a full name, as a checkpoint lists them: `a/b/c` is `get_variable("c")`
//! inside variable scope `a/b`, the way model code creates it.

use scope::{Registry, VarSpec, Variable};

/// Creates (or, under reuse, gets) the variable `name` in `reg`: its parent path opened as a
/// variable scope, its last component passed to `get_variable`.
pub fn variable_at(reg: &Registry, name: &str, spec: VarSpec) -> Result<Variable, scope::Error> {
    match name.rsplit_once('/') {
        Some((parent, last)) => reg
            .variable_scope(parent)
            .with(|_| reg.get_variable(last, spec)),
        None => reg.get_variable(name, spec),
    }
}
