//! BERT's self-attention: its manifest against what it builds, its forward pass against
//! plain loops, its variable gradients against finite differences.

use ndarray::Array2;

use super::BertSelfAttention;
use crate::nn::Dense;
use crate::tape::{NodeId, Tape};
use crate::{Initializer, Model, Registry, Tensor, TrainError, Variable};

#[test]
fn manifest_matches_what_build_creates() {
    let reg = Registry::with_seed(1);
    let init = Initializer::truncated_normal(0.0, 0.02);
    let attn = BertSelfAttention::build(&reg, (8, 2, init)).unwrap();
    // The manifest, the model's listing and the registry's creation order agree.
    let declared: Vec<String> = BertSelfAttention::manifest()
        .into_iter()
        .map(|(path, _)| format!("self/{path}"))
        .collect();
    let listed: Vec<String> = attn.variables().into_iter().map(|(n, _)| n).collect();
    let created: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(listed, declared);
    assert_eq!(created, declared);
    assert!(reg.global_variables().iter().all(|v| v.trainable()));
    assert_eq!(attn.query().kernel().name(), "self/query/kernel");
    assert_eq!(attn.value().bias().name(), "self/value/bias");
    assert_eq!(attn.num_heads(), 2);
}

fn set(var: &Variable, f: impl Fn(usize) -> f32) {
    let data: Vec<f32> = (0..var.numel()).map(f).collect();
    var.assign(Tensor::from_f32(var.shape(), data).unwrap())
        .unwrap();
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
    let loss = |attn: &BertSelfAttention| -> (Tape<f64>, NodeId) {
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
