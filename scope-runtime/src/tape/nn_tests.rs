//! The transformer ops against central finite differences (in `f64`), against their unfused
//! compositions, and their refusals.

use ndarray::{array, ArrayD, IxDyn};

use crate::tape::tests::{check, values};
use crate::tape::{Gradients, Tape};
use crate::train_error::TrainError;
use crate::{Initializer, Registry, VarSpec};

fn positive(shape: &[usize], seed: u64) -> ArrayD<f64> {
    values(shape, seed, 0.1).mapv(f64::abs)
}

#[test]
fn gather_scatters_back_and_sums_repeated_ids() {
    check("gather", vec![values(&[5, 3], 1, 0.0)], &|t, x| {
        t.gather(x[0], &[1, 3, 1, 0])
    });
    check(
        "gather rank 3",
        vec![values(&[4, 2, 3], 2, 0.0)],
        &|t, x| t.gather(x[0], &[3, 3, 2]),
    );
    let mut t = Tape::<f64>::new();
    let table = t.constant(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn());
    let g = t.gather(table, &[2, 0, 2]).unwrap();
    assert_eq!(
        t.value(g).unwrap(),
        &array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]].into_dyn()
    );
    let l = t.sum_all(g).unwrap();
    let grads = t.backward(l).unwrap();
    assert_eq!(
        grads.node(table).unwrap(),
        &array![[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]].into_dyn()
    );
}

#[test]
fn one_hot_rows() {
    let mut t = Tape::<f32>::new();
    let h = t.one_hot(&[2, 0], 3).unwrap();
    assert_eq!(
        t.value(h).unwrap(),
        &array![[0.0f32, 0.0, 1.0], [1.0, 0.0, 0.0]].into_dyn()
    );
    assert!(matches!(
        t.one_hot(&[0, 3], 3),
        Err(TrainError::OutOfRange {
            index: 1,
            value: 3,
            limit: 3,
            ..
        })
    ));
}

#[test]
fn layer_norm_gradient_and_value() {
    check(
        "layer_norm",
        vec![
            values(&[4, 6], 3, 0.0),
            values(&[6], 4, 0.2),
            values(&[6], 5, 0.0),
        ],
        &|t, x| t.layer_norm(x[0], x[1], x[2], 1e-12),
    );
    check(
        "layer_norm rank 3",
        vec![
            values(&[2, 3, 5], 6, 0.0),
            values(&[5], 7, 0.2),
            values(&[5], 8, 0.0),
        ],
        &|t, x| t.layer_norm(x[0], x[1], x[2], 1e-3),
    );
    // Unit gamma, zero beta: each row has mean 0 and variance 1.
    let mut t = Tape::<f64>::new();
    let x = t.constant(values(&[3, 8], 9, 0.0));
    let g = t.constant(ArrayD::ones(IxDyn(&[8])));
    let b = t.constant(ArrayD::zeros(IxDyn(&[8])));
    let y = t.layer_norm(x, g, b, 1e-12).unwrap();
    for row in t.value(y).unwrap().outer_iter() {
        let mean = row.sum() / 8.0;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 8.0;
        assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-9);
    }
}

#[test]
fn softmax_and_log_softmax_gradients() {
    let x = || vec![values(&[3, 5], 10, 0.0)];
    check("softmax", x(), &|t, x| t.softmax(x[0]));
    check("log_softmax", x(), &|t, x| t.log_softmax(x[0]));
    check(
        "softmax rank 3",
        vec![values(&[2, 3, 4], 11, 0.0)],
        &|t, x| t.softmax(x[0]),
    );
    // log_softmax is the log of softmax.
    let mut t = Tape::<f64>::new();
    let xs = t.constant(values(&[4, 7], 12, 0.0).mapv(|v| 30.0 * v));
    let s = t.softmax(xs).unwrap();
    let ls = t.log_softmax(xs).unwrap();
    let d = t.value(s).unwrap().mapv(f64::ln) - t.value(ls).unwrap();
    assert!(d.iter().all(|v| v.abs() < 1e-12));
}

#[test]
fn masked_softmax_gradient_and_unfused_form() {
    let (b, h, s, to) = (2, 2, 3, 4);
    check(
        "masked_softmax",
        vec![values(&[b, h, s, to], 13, 0.0), values(&[b, to], 14, 0.0)],
        &|t, x| t.masked_softmax(x[0], x[1], 0.5),
    );
    // softmax(scores * scale + adder[b, 1, 1, t]) from primitive ops, with a real mask.
    let mut t = Tape::<f64>::new();
    let scores = t.constant(values(&[b, h, s, to], 15, 0.0));
    let mask = array![[1i64, 1, 0, 1], [1, 0, 0, 0]];
    let adder = t.attention_mask_adder(mask.view()).unwrap();
    let fused = t.masked_softmax(scores, adder, 0.125).unwrap();
    let scaled = t.scale(scores, 0.125).unwrap();
    let adder4 = t.reshape(adder, &[b, 1, 1, to]).unwrap();
    let z = t.add(scaled, adder4).unwrap();
    let plain = t.softmax(z).unwrap();
    let d = t.value(fused).unwrap() - t.value(plain).unwrap();
    assert!(d.iter().all(|v| v.abs() < 1e-15));
    // Masked keys get (numerically) zero probability.
    assert!(t.value(fused).unwrap()[[1, 0, 2, 3]] < 1e-30);
    assert!(matches!(
        t.attention_mask_adder(array![[1i64, 2]].view()),
        Err(TrainError::OutOfRange { value: 2, .. })
    ));
}

#[test]
fn gelu_gradients_and_fused_bias() {
    check("gelu", vec![values(&[3, 5], 16, 0.0)], &|t, x| {
        let y = t.scale(x[0], 3.0)?;
        t.gelu(y)
    });
    check(
        "bias_gelu",
        vec![values(&[3, 5], 17, 0.0), values(&[5], 18, 0.0)],
        &|t, x| t.bias_gelu(x[0], x[1]),
    );
    let mut t = Tape::<f64>::new();
    let x = t.constant(values(&[4, 6], 19, 0.0).mapv(|v| 4.0 * v));
    let bias = t.constant(values(&[6], 20, 0.0));
    let fused = t.bias_gelu(x, bias).unwrap();
    let xb = t.add(x, bias).unwrap();
    let plain = t.gelu(xb).unwrap();
    assert_eq!(t.value(fused).unwrap(), t.value(plain).unwrap());
    // BERT's formula at a few points.
    let p = t.constant(array![-1.0, 0.0, 0.5, 2.0].into_dyn());
    let g = t.gelu(p).unwrap();
    for (&x, &y) in [-1.0f64, 0.0, 0.5, 2.0].iter().zip(t.value(g).unwrap()) {
        let want = 0.5
            * x
            * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh());
        assert!((y - want).abs() < 1e-7, "gelu({x})");
    }
}

#[test]
fn permute_gradient() {
    check("permute", vec![values(&[2, 3, 4], 21, 0.0)], &|t, x| {
        t.permute(x[0], &[2, 0, 1])
    });
    check(
        "permute rank 4",
        vec![values(&[2, 3, 2, 2], 22, 0.0)],
        &|t, x| t.permute(x[0], &[0, 2, 1, 3]),
    );
}

#[test]
fn batch_matmul_gradients_with_every_transpose() {
    for ta in [false, true] {
        for tb in [false, true] {
            let (m, k, n) = (3, 4, 2);
            let sa = if ta { [2, k, m] } else { [2, m, k] };
            let sb = if tb { [2, n, k] } else { [2, k, n] };
            check(
                "batch_matmul",
                vec![values(&sa, 23, 0.0), values(&sb, 24, 0.0)],
                &move |t, x| t.batch_matmul(x[0], x[1], ta, tb),
            );
            let a2 = if ta { [k, m] } else { [m, k] };
            let b2 = if tb { [n, k] } else { [k, n] };
            check(
                "matmul rank 2",
                vec![values(&a2, 25, 0.0), values(&b2, 26, 0.0)],
                &move |t, x| t.batch_matmul(x[0], x[1], ta, tb),
            );
        }
    }
    check(
        "batch_matmul rank 4",
        vec![
            values(&[2, 2, 3, 4], 27, 0.0),
            values(&[2, 2, 3, 4], 28, 0.0),
        ],
        &|t, x| t.batch_matmul(x[0], x[1], false, true),
    );
    // Rank 2 agrees with the plain matmul.
    let mut t = Tape::<f64>::new();
    let a = t.constant(values(&[3, 4], 29, 0.0));
    let b = t.constant(values(&[4, 5], 30, 0.0));
    let x = t.batch_matmul(a, b, false, false).unwrap();
    let y = t.matmul(a, b).unwrap();
    assert_eq!(t.value(x).unwrap(), t.value(y).unwrap());
}

#[test]
fn exp_log_rsqrt_scale_gradients() {
    check("exp", vec![values(&[3, 4], 31, 0.0)], &|t, x| t.exp(x[0]));
    check("log", vec![positive(&[3, 4], 32)], &|t, x| t.log(x[0]));
    check("rsqrt", vec![positive(&[3, 4], 33)], &|t, x| t.rsqrt(x[0]));
    check("scale", vec![values(&[3, 4], 34, 0.0)], &|t, x| {
        t.scale(x[0], -2.5)
    });
}

#[test]
fn weighted_mean_and_losses() {
    check(
        "weighted_mean",
        vec![values(&[6], 35, 0.0), positive(&[6], 36)],
        &|t, x| t.weighted_mean(x[0], x[1], 1e-5),
    );
    const LABELS: [usize; 3] = [2, 0, 3];
    let labels = LABELS;
    check("nll", vec![values(&[3, 4], 37, 0.0)], &|t, x| {
        t.nll(x[0], &LABELS)
    });
    check(
        "softmax_cross_entropy",
        vec![values(&[3, 4], 38, 0.0)],
        &|t, x| t.softmax_cross_entropy(x[0], &LABELS),
    );
    // The fused loss is the nll of the log-softmax; the mean loss is the weighted mean with
    // unit weights (up to epsilon).
    let mut t = Tape::<f64>::new();
    let logits = t.constant(values(&[3, 4], 39, 0.0).mapv(|v| 10.0 * v));
    let fused = t.softmax_cross_entropy(logits, &labels).unwrap();
    let lp = t.log_softmax(logits).unwrap();
    let plain = t.nll(lp, &labels).unwrap();
    let d = t.value(fused).unwrap() - t.value(plain).unwrap();
    assert!(d.iter().all(|v| v.abs() < 1e-12));
    let ones = t.constant(ArrayD::ones(IxDyn(&[3])));
    let wm = t.weighted_mean(plain, ones, 0.0).unwrap();
    let m = t.mean(plain, &[0]).unwrap();
    assert!((t.value(wm).unwrap()[[]] - t.value(m).unwrap()[[]]).abs() < 1e-12);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut t = Tape::<f32>::new();
    let m = t.constant(ArrayD::zeros(IxDyn(&[2, 3])));
    let v3 = t.constant(ArrayD::zeros(IxDyn(&[3])));
    let v4 = t.constant(ArrayD::zeros(IxDyn(&[4])));
    let s = t.constant(ArrayD::zeros(IxDyn(&[])));
    let e = t.constant(ArrayD::zeros(IxDyn(&[2, 0])));
    let shape = |r: Result<_, TrainError>| matches!(r, Err(TrainError::Shape { .. }));
    assert!(matches!(
        t.gather(m, &[0, 2]),
        Err(TrainError::OutOfRange {
            index: 1,
            value: 2,
            limit: 2,
            ..
        })
    ));
    assert!(shape(t.gather(s, &[0])));
    assert!(shape(t.layer_norm(m, v4, v3, 1e-12)));
    assert!(shape(t.layer_norm(m, v3, v4, 1e-12)));
    assert!(shape(t.layer_norm(m, v3, v3, -1.0)));
    assert!(shape(t.layer_norm(e, v3, v3, 1e-12)));
    assert!(shape(t.softmax(s)));
    assert!(shape(t.log_softmax(e)));
    let adder = t.constant(ArrayD::zeros(IxDyn(&[2, 4])));
    assert!(shape(t.masked_softmax(m, adder, 1.0)));
    assert!(shape(t.masked_softmax(v3, v3, 1.0)));
    assert!(shape(t.bias_gelu(m, v4)));
    assert!(shape(t.permute(m, &[0, 0])));
    assert!(shape(t.permute(m, &[0])));
    assert!(shape(t.permute(m, &[0, 2])));
    let b = t.constant(ArrayD::zeros(IxDyn(&[2, 4, 5])));
    assert!(shape(t.batch_matmul(m, b, false, false)));
    assert!(shape(t.batch_matmul(m, m, false, false)));
    assert!(shape(t.batch_matmul(v3, v3, false, false)));
    assert!(t.batch_matmul(m, m, false, true).is_ok());
    assert!(shape(t.weighted_mean(m, v3, 1e-5)));
    assert!(shape(t.nll(v3, &[0])));
    assert!(shape(t.nll(m, &[0])));
    assert!(matches!(
        t.nll(m, &[0, 3]),
        Err(TrainError::OutOfRange { index: 1, .. })
    ));
    assert!(matches!(
        t.softmax_cross_entropy(m, &[5, 0]),
        Err(TrainError::OutOfRange { index: 0, .. })
    ));
    let mut other = Tape::<f32>::new();
    for _ in 0..20 {
        other.constant(ArrayD::zeros(IxDyn(&[1])));
    }
    let far = other.constant(ArrayD::zeros(IxDyn(&[1])));
    assert!(matches!(t.exp(far), Err(TrainError::UnknownNode { .. })));
}

/// A tied table read by a gather and by a matmul gets both gradients; TF's global norm counts
/// a gather-only gradient's rows unsummed, and a tied one dense.
#[test]
fn tied_table_accumulates_and_slices_norm() {
    let reg = Registry::with_seed(5);
    let table = reg
        .get_variable(
            "table",
            VarSpec::new()
                .shape([4, 2])
                .initializer(Initializer::random_normal(0.0, 1.0)),
        )
        .unwrap();
    let ids = [1usize, 3, 1];

    // Gather only: token 1 occurs twice, so its two rows count separately.
    let mut t = Tape::<f64>::new();
    let w = t.variable(&table).unwrap();
    let x = t.gather(w, &ids).unwrap();
    let c = t.constant(values(&[3, 2], 40, 0.1));
    let y = t.mul(x, c).unwrap();
    let l = t.sum_all(y).unwrap();
    let grads: Gradients<f64> = t.backward(l).unwrap().into_gradients();
    let cv = values(&[3, 2], 40, 0.1);
    let slices: f64 = cv.iter().map(|v| v * v).sum();
    let dense_g = grads.get(&table).unwrap();
    let dense: f64 = dense_g.iter().map(|v| v * v).sum();
    assert!((grads.tf_global_norm() - slices.sqrt()).abs() < 1e-12);
    assert!((grads.global_norm() - dense.sqrt()).abs() < 1e-12);
    assert!((dense_g[[1, 0]] - (cv[[0, 0]] + cv[[2, 0]])).abs() < 1e-12);

    // Tied: the same variable also feeds a matmul (logits = h · table^T).
    check_tied(&table, &ids);
}

fn check_tied(table: &crate::Variable, ids: &[usize]) {
    let mut t = Tape::<f64>::new();
    let w = t.variable(table).unwrap();
    let x = t.gather(w, ids).unwrap();
    let w2 = t.variable(table).unwrap();
    assert_eq!(w, w2);
    let logits = t.batch_matmul(x, w2, false, true).unwrap();
    let l = t.sum_all(logits).unwrap();
    let tape_grads = t.backward(l).unwrap();
    let g = tape_grads.node(w).unwrap().clone();
    // d/dW sum(gather(W) W^T) = scatter(1 · W) + sum of gathered rows for every row.
    let tv = t.value(w).unwrap().clone();
    let gathered = t.value(x).unwrap().clone();
    let col_sum = gathered.sum_axis(ndarray::Axis(0));
    let mut want = ArrayD::zeros(tv.raw_dim());
    for &id in ids {
        let row_sum = tv.sum_axis(ndarray::Axis(0));
        let mut r = want.index_axis_mut(ndarray::Axis(0), id);
        r += &row_sum;
    }
    for mut r in want.outer_iter_mut() {
        r += &col_sum;
    }
    assert!((&g - &want).iter().all(|v| v.abs() < 1e-12));
    let grads = tape_grads.into_gradients();
    assert!((grads.tf_global_norm() - grads.global_norm()).abs() < 1e-12);
}

#[test]
fn linear_gradient_and_unfused_form() {
    check(
        "linear",
        vec![
            values(&[3, 4], 41, 0.0),
            values(&[4, 5], 42, 0.0),
            values(&[5], 43, 0.0),
        ],
        &|t, x| t.linear(x[0], x[1], x[2]),
    );
    let mut t = Tape::<f64>::new();
    let x = t.constant(values(&[3, 4], 44, 0.0));
    let k = t.constant(values(&[4, 5], 45, 0.0));
    let b = t.constant(values(&[5], 46, 0.0));
    let fused = t.linear(x, k, b).unwrap();
    let xk = t.matmul(x, k).unwrap();
    let plain = t.add(xk, b).unwrap();
    let d = t.value(fused).unwrap() - t.value(plain).unwrap();
    assert!(d.iter().all(|v| v.abs() < 1e-14));
    let shape = |r: Result<_, TrainError>| matches!(r, Err(TrainError::Shape { .. }));
    assert!(shape(t.linear(x, x, b)));
    assert!(shape(t.linear(x, k, k)));
    assert!(shape(t.linear(b, k, b)));
}

#[test]
fn permute_keeping_the_last_axis_matches_ndarray() {
    let x = values(&[2, 3, 4, 5], 47, 0.0);
    let mut t = Tape::<f64>::new();
    let n = t.constant(x.clone());
    for perm in [[0, 2, 1, 3], [2, 0, 1, 3], [1, 2, 0, 3], [0, 1, 3, 2]] {
        let p = t.permute(n, &perm).unwrap();
        let want = x
            .view()
            .permuted_axes(IxDyn(&perm))
            .as_standard_layout()
            .into_owned();
        assert_eq!(t.value(p).unwrap(), &want, "{perm:?}");
    }
}

/// Masked keys get exactly 0 in f32, as in TF (denormals flushed), so no subnormal reaches a
/// GEMM.
#[test]
fn masked_probabilities_are_exact_zeros_not_subnormals() {
    let mut t = Tape::<f32>::new();
    let scores = t.constant(ArrayD::from_elem(IxDyn(&[1, 2, 3, 3]), 0.5f32));
    let adder = t.attention_mask_adder(array![[1i64, 0, 0]].view()).unwrap();
    let p = t.masked_softmax(scores, adder, 1.0).unwrap();
    let v = t.value(p).unwrap();
    assert!(v.iter().all(|&x| x == 0.0 || x.is_normal()));
    assert_eq!(v[[0, 1, 2, 0]], 1.0);
    assert_eq!(v[[0, 1, 2, 2]], 0.0);
    let l = t.sum_all(p).unwrap();
    let g = t.backward(l).unwrap();
    assert!(g
        .node(scores)
        .unwrap()
        .iter()
        .all(|&x| x == 0.0 || x.is_normal()));
}
