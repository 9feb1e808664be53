//! The TF-named layers: their manifests against what they build, and their forward passes
//! against plain loops and finite differences.

use ndarray::Array2;

use super::{embedding_lookup, Activation, BertSelfAttention, Dense, LayerNorm};
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
    let attn = manifest_matches::<BertSelfAttention>((8, 2, init()));
    assert_eq!(attn.query().kernel().name(), "self/query/kernel");
    assert_eq!(attn.value().bias().name(), "self/value/bias");
    assert_eq!(attn.num_heads(), 2);
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

/// Attention computed with plain loops in f64.
fn reference_attention(
    x: &Array2<f64>,
    w: [&(Vec<f64>, Vec<f64>); 3],
    mask: &Array2<i64>,
    heads: usize,
) -> Array2<f64> {
    let (n, h) = x.dim();
    let (batch, seq) = mask.dim();
    let d = h / heads;
    let proj = |(k, b): &(Vec<f64>, Vec<f64>)| {
        Array2::from_shape_fn((n, h), |(r, c)| {
            b[c] + (0..h).map(|i| x[[r, i]] * k[i * h + c]).sum::<f64>()
        })
    };
    let (q, k, v) = (proj(w[0]), proj(w[1]), proj(w[2]));
    let mut out = Array2::zeros((n, h));
    for b in 0..batch {
        for a in 0..heads {
            for f in 0..seq {
                let scores: Vec<f64> = (0..seq)
                    .map(|t| {
                        let dot: f64 = (0..d)
                            .map(|j| q[[b * seq + f, a * d + j]] * k[[b * seq + t, a * d + j]])
                            .sum();
                        dot / (d as f64).sqrt() + (1.0 - mask[[b, t]] as f64) * -10000.0
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let z: f64 = e.iter().sum();
                for j in 0..d {
                    out[[b * seq + f, a * d + j]] = (0..seq)
                        .map(|t| e[t] / z * v[[b * seq + t, a * d + j]])
                        .sum();
                }
            }
        }
    }
    out
}

fn attention_setup() -> (Registry, BertSelfAttention, Array2<f64>, Array2<i64>) {
    let reg = Registry::with_seed(9);
    let attn =
        BertSelfAttention::build(&reg, (6, 2, Initializer::random_normal(0.0, 0.4))).unwrap();
    for dense in [attn.query(), attn.key(), attn.value()] {
        set(dense.bias(), |k| 0.1 * (k as f32 * 1.7).sin());
    }
    let (batch, seq) = (2, 3);
    let x = Array2::from_shape_fn((batch * seq, 6), |(r, c)| ((r * 6 + c) as f64 * 0.37).sin());
    let mask = ndarray::array![[1i64, 1, 1], [1, 1, 0]];
    (reg, attn, x, mask)
}

fn values_of(d: &Dense) -> (Vec<f64>, Vec<f64>) {
    (
        d.kernel().value().to_f64_vec(),
        d.bias().value().to_f64_vec(),
    )
}

#[test]
fn attention_matches_plain_loops() {
    let (_reg, attn, x, mask) = attention_setup();
    let mut t = Tape::<f64>::new();
    let xn = t.constant(x.clone().into_dyn());
    let adder = t.attention_mask_adder(mask.view()).unwrap();
    let y = attn.forward(&mut t, xn, adder, 2, 3).unwrap();
    let (q, k, v) = (
        values_of(attn.query()),
        values_of(attn.key()),
        values_of(attn.value()),
    );
    let want = reference_attention(&x, [&q, &k, &v], &mask, 2);
    let got = t.value(y).unwrap();
    let err = (got - &want.into_dyn())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err < 1e-12, "max error {err}");
    // Shapes that do not fit are refused.
    assert!(matches!(
        attn.forward(&mut t, xn, adder, 3, 2),
        Err(TrainError::Shape { .. })
    ));
    let reg = Registry::new();
    let odd = BertSelfAttention::build(&reg, (6, 4, Initializer::Zeros)).unwrap();
    assert!(matches!(
        odd.forward(&mut t, xn, adder, 2, 3),
        Err(TrainError::Config { .. })
    ));
}

/// The attention's variable gradients against central differences of the f64 tape.
#[test]
fn attention_variable_gradients() {
    let (_reg, attn, x, mask) = attention_setup();
    let w = x.mapv(|v| (v * 3.1).cos()).into_dyn();
    let loss = |attn: &BertSelfAttention| -> (Tape<f64>, crate::tape::NodeId) {
        let mut t = Tape::<f64>::new();
        let xn = t.constant(x.clone().into_dyn());
        let adder = t.attention_mask_adder(mask.view()).unwrap();
        let y = attn.forward(&mut t, xn, adder, 2, 3).unwrap();
        let wn = t.constant(w.clone());
        let yw = t.mul(y, wn).unwrap();
        let l = t.sum_all(yw).unwrap();
        (t, l)
    };
    let (t, l) = loss(&attn);
    let grads = t.backward(l).unwrap().into_gradients();
    for (_, var) in attn.variables() {
        let g = grads.get(&var).unwrap().clone();
        for e in (0..var.numel()).step_by(5) {
            let base = var.value().to_f64_vec();
            let eval = |delta: f64| {
                let mut v = base.clone();
                v[e] += delta;
                let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                var.assign(Tensor::from_f32(var.shape(), data).unwrap())
                    .unwrap();
                let (t, l) = loss(&attn);
                t.value(l).unwrap()[[]]
            };
            // f32 storage: a step of 1e-2 keeps the rounding of the perturbation small.
            let h = 1e-2;
            let numeric = (eval(h) - eval(-h)) / (2.0 * h);
            let data: Vec<f32> = base.iter().map(|&x| x as f32).collect();
            var.assign(Tensor::from_f32(var.shape(), data).unwrap())
                .unwrap();
            let a = g.as_slice().unwrap()[e];
            assert!(
                (a - numeric).abs() <= 2e-4 * (1.0 + numeric.abs()),
                "{} element {e}: analytic {a} vs numeric {numeric}",
                var.name()
            );
        }
    }
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
