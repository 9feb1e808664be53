//! Layer generators written with `macro_rules!`: models declared from `ident`, `expr`, `ty`
//! and `literal` fragments, with both macros, resolve as if written out (issue #16, 1 and 2).
#![deny(warnings)]

use ndarray::IxDyn;
use scope::{Model, Registry, Variable};

/// A dense layer named `$scope`, with one weight `$f` of shape `$shape` and initializer
/// `$init`, and a bias `$b` of dtype `$dtype` (a `model!` generator).
macro_rules! dense_model {
    ($name:ident, $scope:literal, $n:ident: $t:ty, $f:ident: $shape:expr, $init:expr, $b:ident: $dtype:ident) => {
        scope::model! {
            /// A generated layer.
            pub struct $name($scope, $n: $t) {
                $f: $shape = $init,
                $b: $dtype[$n] = zeros,
                #[var(shape = $shape, init = $init)]
                again:,
            }
        }
    };
}

dense_model!(Dense, "dense", k: usize, weights: [k, 2], random_normal(0.0, 0.5), bias: f64);
dense_model!(Zeroed, "zeroed", k: usize, w: [k], zeros, b: i64);

/// The same with `#[variable_scope]`.
macro_rules! dense_attr {
    ($name:ident, $scope:literal, $n:ident: $t:ty, $f:ident, $shape:expr, $init:expr, $value:expr) => {
        /// A generated layer.
        #[scope::variable_scope($scope, $n: $t)]
        pub struct $name {
            /// The weights.
            #[var(shape = $shape, init = $init)]
            pub $f: Variable,
            /// A value.
            #[var(init = value($value))]
            pub v: Variable,
            /// A nested generated model.
            #[model(args($n))]
            pub inner: Dense,
        }
    };
}

dense_attr!(
    Layer,
    "layer",
    units: usize,
    kernel,
    [units, units],
    constant(0.5),
    ndarray::Array::<f32, IxDyn>::zeros(IxDyn(&[units, 1]))
);

/// A field that only the generator names, and a nested model's type given as a fragment.
macro_rules! tower {
    ($name:ident, $inner:ty, $arg:expr) => {
        scope::model! {
            /// A generated tower.
            pub struct $name("tower") {
                first: model $inner($arg),
                #[model(scope = "second", args($arg))]
                second: model $inner,
            }
        }
    };
}

tower!(Tower, Zeroed, 3);

fn main() {
    let reg = Registry::with_seed(0);
    let dense = Dense::new(&reg, 4).expect("builds");
    assert_eq!(dense.weights.name(), "dense/weights");
    assert_eq!(dense.weights.shape(), [4, 2]);
    assert_eq!(dense.bias.shape(), [4]);
    assert_eq!(dense.again.shape(), [4, 2]);
    assert_eq!(dense.variables().len(), 3);
    let layer = Layer::new(&reg, 3).expect("builds");
    assert_eq!(layer.kernel.name(), "layer/kernel");
    assert_eq!(layer.v.shape(), [3, 1]);
    assert_eq!(layer.inner.weights.name(), "layer/dense/weights");
    assert!(format!("{layer:?}").contains("kernel"));
    let tower = Tower::new(&reg).expect("builds");
    assert_eq!(tower.second.w.name(), "tower/second/w");
    assert_eq!(Zeroed::manifest().len(), 3);
}
