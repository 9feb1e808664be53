//! Every op family split across threads gives the same bits at 1, 2 and 3 threads, forward
//! and backward, on shapes large enough to be split.

use ndarray::ArrayD;

use crate::tape::tests::values;
use crate::tape::{NodeId, Tape};
use crate::threads::assert_same_bits_at_thread_counts;
use crate::train_error::TrainError;

type Build<'a> = dyn Fn(&mut Tape<f32>, &[NodeId]) -> Result<NodeId, TrainError> + 'a;

/// Records `build` on constants of `shapes` (the `adders` positions hold 0 and -10000, an
/// attention mask's adder), and returns its value followed by the gradient of
/// `sum(y * w)`, for a fixed `w`, with respect to every input.
fn value_and_gradients(shapes: &[&[usize]], adders: &[usize], build: &Build<'_>) -> Vec<f64> {
    let mut t = Tape::<f32>::new();
    let ids: Vec<NodeId> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let v = values(s, k as u64 + 1, 0.0).mapv(|x| x as f32);
            let v = if adders.contains(&k) {
                v.mapv(|x| if x < -0.5 { -10000.0 } else { 0.0 })
            } else {
                v
            };
            t.constant(v)
        })
        .collect();
    let y = build(&mut t, &ids).unwrap();
    let shape = t.value(y).unwrap().shape().to_vec();
    let w = t.constant(values(&shape, 99, 0.0).mapv(|x| x as f32));
    let l = t.mul(y, w).unwrap();
    let l = t.sum_all(l).unwrap();
    let grads = t.backward(l).unwrap();
    let mut out: Vec<f64> = t.value(y).unwrap().iter().map(|&x| x.into()).collect();
    for id in ids {
        let g: &ArrayD<f32> = grads.node(id).unwrap();
        out.extend(g.iter().map(|&x| f64::from(x)));
    }
    out
}

fn check(what: &str, shapes: &[&[usize]], adders: &[usize], build: &Build<'_>) {
    assert_same_bits_at_thread_counts(what, || value_and_gradients(shapes, adders, build));
}

#[test]
fn layer_norm_same_bits_at_every_thread_count() {
    // 300 rows: nine whole 32-row pieces of the gamma/beta sums and a short one.
    check(
        "layer_norm",
        &[&[300, 520], &[520], &[520]],
        &[],
        &|t, x| t.layer_norm(x[0], x[1], x[2], 1e-12),
    );
}

#[test]
fn softmax_family_same_bits_at_every_thread_count() {
    check("softmax", &[&[300, 520]], &[], &|t, x| t.softmax(x[0]));
    check("log_softmax", &[&[300, 520]], &[], &|t, x| {
        t.log_softmax(x[0])
    });
    check(
        "masked_softmax",
        &[&[8, 8, 128, 128], &[8, 128]],
        &[1],
        &|t, x| t.masked_softmax(x[0], x[1], 0.125),
    );
    check("softmax_cross_entropy", &[&[50, 6000]], &[], &|t, x| {
        let labels: Vec<usize> = (0..50).map(|i| i * 113 % 6000).collect();
        t.softmax_cross_entropy(x[0], &labels)
    });
}

#[test]
fn elementwise_same_bits_at_every_thread_count() {
    // Over 1M elements: even the cheapest ops (`relu`, `add`) are split.
    let big: &[usize] = &[1100, 1000];
    check("add", &[big, big], &[], &|t, x| t.add(x[0], x[1]));
    check("add bias", &[big, &[1000]], &[], &|t, x| t.add(x[1], x[0]));
    check("scale", &[big], &[], &|t, x| t.scale(x[0], 0.3));
    check("unary", &[big], &[], &|t, x| {
        let a = t.tanh(x[0])?;
        let b = t.sigmoid(a)?;
        let c = t.relu(x[0])?;
        let d = t.gelu(c)?;
        let e = t.exp(b)?;
        let f = t.add(d, e)?;
        t.square(f)
    });
    check("bias_gelu", &[big, &[1000]], &[], &|t, x| {
        t.bias_gelu(x[0], x[1])
    });
}

#[test]
fn products_same_bits_at_every_thread_count() {
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        let a: &[usize] = if ta { &[12, 40, 64] } else { &[12, 64, 40] };
        let b: &[usize] = if tb { &[12, 64, 40] } else { &[12, 40, 64] };
        check("batch_matmul", &[a, b], &[], &move |t, x| {
            t.batch_matmul(x[0], x[1], ta, tb)
        });
    }
    // The bias gradient's column sums over 2100 rows.
    check("linear", &[&[2100, 8], &[8, 520], &[520]], &[], &|t, x| {
        t.linear(x[0], x[1], x[2])
    });
}

#[test]
fn attention_same_bits_at_every_thread_count() {
    // Batch 8, sequence 64, 4 heads of 16.
    check(
        "attention",
        &[&[512, 64], &[512, 64], &[8, 64], &[512, 64]],
        &[2],
        &|t, x| {
            let p = t.attention_probs(x[0], x[1], x[2], 4, 0.25)?;
            t.attention_context(p, x[3])
        },
    );
}
