//! The TF-named layers: their manifests against what they build, and their forward passes
//! against plain loops and finite differences.

use super::{embedding_lookup, Activation, Dense, LayerNorm};
use crate::tape::Tape;
use crate::train_error::TrainError;
use crate::{Initializer, Model, Registry, Tensor, Variable};

/// Builds `M` in its default scope and checks that its manifest lists exactly the variables
/// it created, in order, with their trainable flags.
fn manifest_matches<M: Model>(args: M::Args) -> M {
    let reg = Registry::with_seed(1);
    let model = M::build(&reg, args).unwrap();
    let built: Vec<(String, bool)> = model
        .variables()
        .into_iter()
        .map(|(n, v)| (n, v.trainable()))
        .collect();
    let declared: Vec<(String, bool)> = M::manifest()
        .into_iter()
        .map(|(path, var)| (format!("{}/{path}", M::SCOPE), var.trainable))
        .collect();
    assert_eq!(built, declared, "{}", M::SCOPE);
    let global: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    let listed: Vec<String> = built.into_iter().map(|(n, _)| n).collect();
    assert_eq!(global, listed, "creation order");
    model
}

#[test]
fn manifests_match_what_build_creates() {
    let init = || Initializer::truncated_normal(0.0, 0.02);
    let dense = manifest_matches::<Dense>((3, 5, init()));
    assert_eq!(dense.kernel().shape(), &[3, 5]);
    assert_eq!(dense.bias().shape(), &[5]);
    assert_eq!(dense.bias().value().to_f64_vec(), vec![0.0; 5]);
    let ln = manifest_matches::<LayerNorm>((4,));
    assert_eq!(ln.beta().value().to_f64_vec(), vec![0.0; 4]);
    assert_eq!(ln.gamma().value().to_f64_vec(), vec![1.0; 4]);
}

#[test]
fn layers_share_under_reuse_and_refuse_other_shapes() {
    let reg = Registry::new();
    let a = Dense::build(&reg, (2, 3, Initializer::GlorotUniform)).unwrap();
    reg.reuse_variables();
    let b = Dense::build(&reg, (2, 3, Initializer::GlorotUniform)).unwrap();
    assert!(a.shares_storage_with(&b));
    assert!(matches!(
        Dense::build(&reg, (2, 4, Initializer::GlorotUniform)),
        Err(crate::Error::ShapeMismatch { .. })
    ));
}

fn set(var: &Variable, f: impl Fn(usize) -> f32) {
    let data: Vec<f32> = (0..var.numel()).map(f).collect();
    var.assign(Tensor::from_f32(var.shape(), data).unwrap())
        .unwrap();
}

#[test]
fn dense_forward_with_each_activation() {
    let reg = Registry::new();
    let dense = Dense::build(&reg, (2, 3, Initializer::Zeros)).unwrap();
    set(dense.kernel(), |k| k as f32 - 2.0);
    set(dense.bias(), |k| 0.5 * k as f32);
    for act in [
        Activation::Linear,
        Activation::Relu,
        Activation::Gelu,
        Activation::Tanh,
    ] {
        let mut t = Tape::<f64>::new();
        let x = t.constant(ndarray::array![[1.0, -1.0], [0.5, 2.0]].into_dyn());
        let y = dense.forward_with(&mut t, x, act).unwrap();
        let got = t.value(y).unwrap().clone();
        let kernel = [[-2.0, -1.0, 0.0], [1.0, 2.0, 3.0]];
        for (r, xr) in [[1.0, -1.0], [0.5, 2.0]].iter().enumerate() {
            for c in 0..3 {
                let z = xr[0] * kernel[0][c] + xr[1] * kernel[1][c] + 0.5 * c as f64;
                let want = match act {
                    Activation::Linear => z,
                    Activation::Relu => z.max(0.0),
                    Activation::Tanh => z.tanh(),
                    Activation::Gelu => {
                        0.5 * z
                            * (1.0
                                + ((2.0 / std::f64::consts::PI).sqrt()
                                    * (z + 0.044715 * z.powi(3)))
                                .tanh())
                    }
                };
                assert!((got[[r, c]] - want).abs() < 1e-12, "{act:?} [{r}, {c}]");
            }
        }
    }
    assert_eq!(Activation::from_name("gelu"), Some(Activation::Gelu));
    assert_eq!(Activation::from_name("swish"), None);
}

#[test]
fn embedding_lookup_copies_rows_and_scatters_back() {
    let reg = Registry::new();
    let table = reg
        .get_variable(
            "word_embeddings",
            crate::VarSpec::new()
                .shape([5, 2])
                .initializer(Initializer::Zeros),
        )
        .unwrap();
    set(&table, |k| k as f32);
    let mut t = Tape::<f32>::new();
    let e = embedding_lookup(&mut t, "input_ids", &table, [4, 1, 4]).unwrap();
    assert_eq!(
        t.value(e).unwrap(),
        &ndarray::array![[8.0f32, 9.0], [2.0, 3.0], [8.0, 9.0]].into_dyn()
    );
    // Nothing but the gathered rows was copied: the leaf is empty until needed densely.
    let (_, leaf) = t.variables().next().unwrap();
    assert_eq!(t.value(leaf).unwrap().len(), 0);
    let l = t.sum_all(e).unwrap();
    let grads = t.backward(l).unwrap().into_gradients();
    assert_eq!(
        grads.get(&table).unwrap(),
        &ndarray::array![
            [0.0f32, 0.0],
            [1.0, 1.0],
            [0.0, 0.0],
            [0.0, 0.0],
            [2.0, 2.0]
        ]
        .into_dyn()
    );
    // TF's norm counts the three gathered rows: 3 rows of two ones.
    assert!((grads.tf_global_norm() - 6f64.sqrt()).abs() < 1e-12);
    assert!((grads.global_norm() - 10f64.sqrt()).abs() < 1e-12);
    // A later dense use copies the value in; both uses share the leaf.
    let leaf2 = t.variable(&table).unwrap();
    assert_eq!(leaf, leaf2);
    assert_eq!(t.value(leaf2).unwrap().shape(), &[5, 2]);
    let again = embedding_lookup(&mut t, "input_ids", &table, [0]).unwrap();
    assert_eq!(
        t.value(again).unwrap(),
        &ndarray::array![[0.0f32, 1.0]].into_dyn()
    );
    // Ids outside the vocabulary are refused, naming the input.
    let err = embedding_lookup(&mut t, "input_ids", &table, [1, 5]).unwrap_err();
    assert!(matches!(
        &err,
        TrainError::OutOfRange { input, index: 1, value: 5, limit: 5 } if input == "input_ids"
    ));
    assert!(err.to_string().contains("input_ids"));
    assert!(embedding_lookup(&mut t, "input_ids", &table, [-1]).is_err());
}
