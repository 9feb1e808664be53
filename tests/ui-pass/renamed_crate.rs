//! `scope` under another name (`tf = { package = "scope" }` in Cargo.toml, here `extern crate
//! scope as tf`): `crate = tf` in the header makes generated code reach the runtime through
//! `tf`. (`::scope` also resolves in this test crate; the macro crate's unit test
//! `crate_key_replaces_every_scope_path` checks that no `::scope` path is generated.)
#![deny(warnings)]

extern crate scope as tf;

use tf::{model, variable_scope, Model, Registry, Variable};

model! {
    /// A layer.
    pub struct Dense(crate = tf, "dense", units: usize) {
        kernel: [units, units] = random_normal(0.0, 0.5),
        #[var(when = units > 1)]
        bias: [units] = zeros,
    }
}

/// A stack of layers; the string form (serde's `crate = ".."`) is accepted too.
#[variable_scope(crate = "tf", "stack", n: usize)]
pub struct Stack {
    /// In `layer_0 ..`.
    #[model(repeat = n, args(2))]
    pub layer: Vec<Dense>,
    /// Not trained.
    #[var(shape = [], dtype = i64, init = zeros, trainable = false)]
    pub step: Variable,
}

fn main() {
    let reg = Registry::new();
    let stack = Stack::new(&reg, 2).expect("builds");
    assert_eq!(stack.layer[1].kernel.name(), "stack/layer_1/kernel");
    assert_eq!(stack.variables().len(), 5);
    assert_eq!(Stack::SCOPE, "stack");
}
