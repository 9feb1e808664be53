//! A private model in a private module: no `unreachable_pub`, no dead-code noise from the
//! generated code, and nested models of both macros mix.
#![deny(warnings)]

mod layers {
    use scope::{model, variable_scope, Variable};

    model! {
        /// A private layer.
        #[derive(Clone)]
        pub(crate) struct Dense("dense", units: usize) {
            weights: [units, units],
        }
    }

    /// Holds a `model!` model inside a `#[variable_scope]` one; derives go below the attribute.
    #[variable_scope("tower", units: usize)]
    #[derive(Clone)]
    pub(crate) struct Tower {
        #[model(args(units))]
        pub(crate) dense: Dense,
        #[var(shape = [], dtype = i64, trainable = false, init = zeros)]
        pub(crate) step: Variable,
    }
}

fn main() {
    let reg = scope::Registry::new();
    let tower = layers::Tower::new(&reg, 3).expect("builds");
    assert_eq!(tower.dense.weights.name(), "tower/dense/weights");
    assert_eq!(tower.step.name(), "tower/step");
    let copy = tower.clone();
    assert!(scope::Model::shares_storage_with(&tower, &copy));
}
