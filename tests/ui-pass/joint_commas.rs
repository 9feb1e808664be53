//! One argument splitter: commas before punctuation and commas inside generic arguments.
#![deny(warnings)]

use ndarray::IxDyn;

scope::model! {
    /// Arguments written without spaces, and a turbofish with two type arguments.
    pub struct Dense("dense", n: usize) {
        w: [n,2] = random_uniform(-1.0,-0.5),
        b: [n] = random_normal(-1.0,0.5),
        v: f32 = value(ndarray::Array::<f32, IxDyn>::zeros(IxDyn(&[n,3]))),
    }
}

/// The same in the attribute form.
#[scope::variable_scope("layer", n: usize)]
pub struct Layer {
    /// Uniform in `[-1, -0.5)`.
    #[var(shape = [n,2], init = random_uniform(-1.0,-0.5))]
    pub w: scope::Variable,
    /// A zero `[n, 3]` tensor.
    #[var(init = value(ndarray::Array::<f32, IxDyn>::zeros(IxDyn(&[n,3]))))]
    pub v: scope::Variable,
}

fn main() {
    let reg = scope::Registry::with_seed(1);
    let dense = Dense::new(&reg, 4).expect("builds");
    assert_eq!(dense.v.shape(), [4, 3]);
    let layer = Layer::new(&reg, 2).expect("builds");
    assert_eq!(layer.w.shape(), [2, 2]);
    assert_eq!(layer.v.shape(), [2, 3]);
}
