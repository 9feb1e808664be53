//! The attention ops against finite differences, against BERT's reshape-and-transpose
//! composition, on reused buffers, and their refusals.

use ndarray::{array, ArrayD};

use crate::tape::tests::{check, values};
use crate::tape::{NodeId, Tape};
use crate::train_error::TrainError;

const B: usize = 2;
const HEADS: usize = 2;
const S: usize = 3;
const D: usize = 2;
const H: usize = HEADS * D;

#[test]
fn probs_and_context_gradients() {
    check(
        "attention_probs",
        vec![
            values(&[B * S, H], 21, 0.0),
            values(&[B * S, H], 22, 0.0),
            values(&[B, S], 23, 0.0),
        ],
        &|t, x| t.attention_probs(x[0], x[1], x[2], HEADS, 0.7),
    );
    check(
        "attention_probs with q = k",
        vec![values(&[B * S, H], 24, 0.0), values(&[B, S], 25, 0.0)],
        &|t, x| t.attention_probs(x[0], x[0], x[1], HEADS, 0.7),
    );
    check(
        "attention_context",
        vec![
            values(&[B, HEADS, S, S], 26, 0.0),
            values(&[B * S, H], 27, 0.0),
        ],
        &|t, x| t.attention_context(x[0], x[1]),
    );
}

/// BERT's `attention_layer` as modeling.py writes it: reshape, transpose, batched matmul,
/// masked softmax, matmul, transpose back, reshape.
fn unfused(t: &mut Tape<f64>, q: NodeId, k: NodeId, v: NodeId, adder: NodeId) -> NodeId {
    let mut heads = |x| {
        let x = t.reshape(x, &[B, S, HEADS, D]).unwrap();
        t.permute(x, &[0, 2, 1, 3]).unwrap()
    };
    let (q, k, v) = (heads(q), heads(k), heads(v));
    let scores = t.batch_matmul(q, k, false, true).unwrap();
    let probs = t.masked_softmax(scores, adder, 0.5).unwrap();
    let context = t.batch_matmul(probs, v, false, false).unwrap();
    let context = t.permute(context, &[0, 2, 1, 3]).unwrap();
    t.reshape(context, &[B * S, H]).unwrap()
}

#[test]
fn the_same_values_and_gradients_as_the_transposing_composition() {
    let mut t = Tape::<f64>::new();
    let q = t.constant(values(&[B * S, H], 31, 0.0));
    let k = t.constant(values(&[B * S, H], 32, 0.0));
    let v = t.constant(values(&[B * S, H], 33, 0.0));
    let adder = t
        .attention_mask_adder(array![[1i64, 1, 0], [1, 0, 0]].view())
        .unwrap();
    let probs = t.attention_probs(q, k, adder, HEADS, 0.5).unwrap();
    let fused = t.attention_context(probs, v).unwrap();
    let plain = unfused(&mut t, q, k, v, adder);
    let close = |a: &ArrayD<f64>, b: &ArrayD<f64>| {
        assert_eq!(a.shape(), b.shape());
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-14)
    };
    assert!(close(t.value(fused).unwrap(), t.value(plain).unwrap()));
    // Weighted sums, so every output element gets its own gradient.
    let w = t.constant(values(&[B * S, H], 34, 0.0));
    let mut grads = Vec::new();
    for out in [fused, plain] {
        let y = t.mul(out, w).unwrap();
        let l = t.sum_all(y).unwrap();
        let g = t.backward(l).unwrap();
        grads.push([q, k, v].map(|x| g.node(x).unwrap().clone()));
    }
    for (a, b) in grads[0].iter().zip(&grads[1]) {
        assert!(close(a, b));
    }
}

#[test]
fn reused_buffers_do_not_leak_into_results() {
    let run = |t: &mut Tape<f32>| {
        let q = t.constant(values(&[64, 32], 41, 0.0).mapv(|x| x as f32));
        let v = t.constant(values(&[64, 32], 42, 0.0).mapv(|x| x as f32));
        let adder = t.constant(ArrayD::zeros(ndarray::IxDyn(&[4, 16])));
        let probs = t.attention_probs(q, q, adder, 2, 0.25).unwrap();
        let context = t.attention_context(probs, v).unwrap();
        (
            t.value(probs).unwrap().clone(),
            t.value(context).unwrap().clone(),
        )
    };
    let fresh = run(&mut Tape::new());
    // A step whose buffers are full of NaN, then the same step on the kept buffers.
    let mut t = Tape::<f32>::new();
    for shape in [[4, 2, 16, 16].as_slice(), &[64, 32]] {
        t.constant(ArrayD::from_elem(ndarray::IxDyn(shape), f32::NAN));
    }
    t.clear();
    assert_eq!(run(&mut t), fresh);
    t.clear();
    assert_eq!(run(&mut t), fresh);
}

#[test]
fn bad_shapes_are_typed_errors() {
    let mut t = Tape::<f32>::new();
    let q = t.constant(ArrayD::zeros(ndarray::IxDyn(&[6, 4])));
    let k5 = t.constant(ArrayD::zeros(ndarray::IxDyn(&[6, 5])));
    let adder = t.constant(ArrayD::zeros(ndarray::IxDyn(&[2, 3])));
    let adder_bad = t.constant(ArrayD::zeros(ndarray::IxDyn(&[2, 4])));
    assert!(matches!(
        t.attention_probs(q, q, adder, 3, 1.0),
        Err(TrainError::Config { .. })
    ));
    assert!(matches!(
        t.attention_probs(q, q, adder, 0, 1.0),
        Err(TrainError::Config { .. })
    ));
    assert!(matches!(
        t.attention_probs(q, k5, adder, 2, 1.0),
        Err(TrainError::Shape { .. })
    ));
    assert!(matches!(
        t.attention_probs(q, q, adder_bad, 2, 1.0),
        Err(TrainError::Shape { .. })
    ));
    let probs = t.attention_probs(q, q, adder, 2, 1.0).unwrap();
    assert!(matches!(
        t.attention_context(probs, k5),
        Err(TrainError::Shape { .. })
    ));
    assert!(matches!(
        t.attention_context(q, q),
        Err(TrainError::Shape { .. })
    ));
    let before = t.len();
    assert!(t.attention_context(adder, q).is_err());
    assert_eq!(t.len(), before, "a refused op records nothing");
}

#[test]
fn empty_sequences_give_empty_results() {
    let mut t = Tape::<f32>::new();
    let q = t.constant(ArrayD::zeros(ndarray::IxDyn(&[0, 4])));
    let adder = t.constant(ArrayD::zeros(ndarray::IxDyn(&[2, 0])));
    let probs = t.attention_probs(q, q, adder, 2, 1.0).unwrap();
    assert_eq!(t.value(probs).unwrap().shape(), [2, 2, 0, 0]);
    let context = t.attention_context(probs, q).unwrap();
    assert_eq!(t.value(context).unwrap().shape(), [0, 4]);
    let l = t.sum_all(context).unwrap();
    let g = t.backward(l).unwrap();
    assert_eq!(g.node(q).unwrap().shape(), [0, 4]);
}
