//! Every op against central finite differences, in `f64`.

use ndarray::{ArrayD, IxDyn};

use super::{NodeId, Tape};
use crate::train_error::TrainError;
use crate::{Initializer, Registry, VarSpec};

/// Deterministic values in `±[lo, 1)`: a xorshift stream, so no sample sits near a kink.
pub(super) fn values(shape: &[usize], seed: u64, lo: f64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            let mag = lo + (1.0 - lo) * u;
            if (s >> 3) & 1 == 0 {
                mag
            } else {
                -mag
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), data).unwrap()
}

pub(super) type Build = dyn Fn(&mut Tape<f64>, &[NodeId]) -> Result<NodeId, TrainError>;

/// `sum(build(inputs) ⊙ w)` for fixed random `w`, so every output element gets its own
/// upstream gradient.
fn loss(build: &Build, inputs: &[ArrayD<f64>]) -> (Tape<f64>, Vec<NodeId>, NodeId) {
    let mut tape = Tape::<f64>::new();
    let leaves: Vec<NodeId> = inputs.iter().map(|x| tape.constant(x.clone())).collect();
    let y = build(&mut tape, &leaves).unwrap();
    let w = tape.constant(values(tape.value(y).unwrap().shape(), 99, 0.2));
    let yw = tape.mul(y, w).unwrap();
    let l = tape.sum_all(yw).unwrap();
    (tape, leaves, l)
}

pub(super) fn check(name: &str, inputs: Vec<ArrayD<f64>>, build: &Build) {
    let (tape, leaves, l) = loss(build, &inputs);
    let grads = tape.backward(l).unwrap();
    let eps = 1e-6;
    for (k, x) in inputs.iter().enumerate() {
        let analytic = grads
            .node(leaves[k])
            .cloned()
            .unwrap_or_else(|| ArrayD::zeros(x.raw_dim()));
        assert_eq!(
            analytic.shape(),
            x.shape(),
            "{name}: gradient shape of input {k}"
        );
        for e in 0..x.len() {
            let eval = |delta: f64| {
                let mut xs = inputs.clone();
                xs[k].as_slice_mut().unwrap()[e] += delta;
                let (t, _, l) = loss(build, &xs);
                t.value(l).unwrap().iter().next().copied().unwrap()
            };
            let numeric = (eval(eps) - eval(-eps)) / (2.0 * eps);
            let a = analytic.as_slice().unwrap()[e];
            assert!(
                (a - numeric).abs() <= 1e-6 * (1.0 + numeric.abs()),
                "{name}: input {k} element {e}: analytic {a} vs numeric {numeric}"
            );
        }
    }
}

#[test]
fn matmul_gradient() {
    check(
        "matmul",
        vec![values(&[3, 4], 1, 0.0), values(&[4, 5], 2, 0.0)],
        &|t, x| t.matmul(x[0], x[1]),
    );
}

#[test]
fn add_sub_mul_gradients_with_broadcasting() {
    let pairs: [(&[usize], &[usize]); 4] = [
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[3, 1], &[1, 4]),
        (&[2, 3, 4], &[3, 1]),
    ];
    for (i, (a, b)) in pairs.into_iter().enumerate() {
        let inputs = vec![values(a, 10 + i as u64, 0.0), values(b, 20 + i as u64, 0.0)];
        check("add", inputs.clone(), &|t, x| t.add(x[0], x[1]));
        check("sub", inputs.clone(), &|t, x| t.sub(x[0], x[1]));
        check("mul", inputs.clone(), &|t, x| t.mul(x[0], x[1]));
        check("sub reversed", inputs, &|t, x| t.sub(x[1], x[0]));
    }
}

#[test]
fn elementwise_gradients() {
    let x = || vec![values(&[3, 5], 3, 0.05)];
    check("relu", x(), &|t, x| t.relu(x[0]));
    check("sigmoid", x(), &|t, x| t.sigmoid(x[0]));
    check("tanh", x(), &|t, x| t.tanh(x[0]));
    check("square", x(), &|t, x| t.square(x[0]));
}

#[test]
fn concat_split_slice_reshape_gradients() {
    let ab = || vec![values(&[2, 3], 4, 0.0), values(&[2, 5], 5, 0.0)];
    check("concat axis 1", ab(), &|t, x| t.concat(&[x[0], x[1]], 1));
    let cd = vec![values(&[2, 3], 6, 0.0), values(&[4, 3], 7, 0.0)];
    check("concat axis 0", cd, &|t, x| t.concat(&[x[0], x[1]], 0));
    check("split", vec![values(&[4, 6], 8, 0.0)], &|t, x| {
        let parts = t.split(x[0], 1, &[1, 2, 3])?;
        // Use the pieces unevenly so each gets its own gradient.
        let a = t.square(parts[0])?;
        let b = t.tanh(parts[2])?;
        let ab = t.concat(&[a, parts[1], b], 1)?;
        Ok(ab)
    });
    check("slice", vec![values(&[3, 4, 5], 9, 0.0)], &|t, x| {
        t.slice(x[0], 2, 1, 3)
    });
    check("reshape", vec![values(&[3, 4], 10, 0.0)], &|t, x| {
        let r = t.reshape(x[0], &[2, 6])?;
        t.square(r)
    });
}

#[test]
fn sum_and_mean_gradients() {
    let x = || vec![values(&[2, 3, 4], 11, 0.0)];
    for axes in [&[0usize][..], &[1], &[2], &[0, 2], &[2, 0, 1]] {
        check("sum", x(), &|t, x| t.sum(x[0], axes));
        check("mean", x(), &|t, x| t.mean(x[0], axes));
    }
    check("sum_all", x(), &|t, x| t.sum_all(x[0]));
}

#[test]
fn lstm_gate_gradients() {
    let (b, h) = (3, 4);
    check(
        "lstm_c",
        vec![values(&[b, 4 * h], 12, 0.0), values(&[b, h], 13, 0.0)],
        &|t, x| t.lstm_c(x[0], x[1], 1.0),
    );
    check(
        "lstm_h",
        vec![values(&[b, 4 * h], 14, 0.0), values(&[b, h], 15, 0.0)],
        &|t, x| t.lstm_h(x[0], x[1]),
    );
}

#[test]
fn lstm_ops_match_the_unfused_cell() {
    // c = c_prev σ(f+1) + σ(i) tanh(j); h = tanh(c) σ(o), from primitive ops.
    let (b, h) = (2, 3);
    let z = values(&[b, 4 * h], 16, 0.0);
    let c0 = values(&[b, h], 17, 0.0);
    let mut t = Tape::<f64>::new();
    let (zn, cn) = (t.constant(z), t.constant(c0));
    let fused_c = t.lstm_c(zn, cn, 1.0).unwrap();
    let fused_h = t.lstm_h(zn, fused_c).unwrap();
    let g = t.split(zn, 1, &[h, h, h, h]).unwrap();
    let one = t.constant(ArrayD::from_elem(IxDyn(&[]), 1.0));
    let f1 = t.add(g[2], one).unwrap();
    let sf = t.sigmoid(f1).unwrap();
    let si = t.sigmoid(g[0]).unwrap();
    let tj = t.tanh(g[1]).unwrap();
    let keep = t.mul(cn, sf).unwrap();
    let write = t.mul(si, tj).unwrap();
    let c = t.add(keep, write).unwrap();
    let tc = t.tanh(c).unwrap();
    let so = t.sigmoid(g[3]).unwrap();
    let hh = t.mul(tc, so).unwrap();
    for (a, b) in [(fused_c, c), (fused_h, hh)] {
        let d = t.value(a).unwrap() - t.value(b).unwrap();
        assert!(d.iter().all(|x| x.abs() < 1e-12));
    }
}

#[test]
fn shared_variable_gets_the_summed_gradient() {
    let reg = Registry::with_seed(3);
    let w = reg
        .get_variable(
            "w",
            VarSpec::new().shape([2, 2]).initializer(Initializer::Ones),
        )
        .unwrap();
    let mut t = Tape::<f32>::new();
    let x1 = t.constant(ndarray::array![[1.0f32, 2.0]].into_dyn());
    let x2 = t.constant(ndarray::array![[3.0f32, 5.0]].into_dyn());
    // Two "models" each put the same variable on the tape.
    let w1 = t.variable(&w).unwrap();
    let w2 = t.variable(&w).unwrap();
    assert_eq!(w1, w2);
    let y1 = t.matmul(x1, w1).unwrap();
    let y2 = t.matmul(x2, w2).unwrap();
    let y = t.add(y1, y2).unwrap();
    let l = t.sum_all(y).unwrap();
    let grads = t.backward(l).unwrap().into_gradients();
    assert_eq!(grads.len(), 1);
    assert_eq!(
        grads.get(&w).unwrap().as_slice().unwrap(),
        &[4.0, 4.0, 7.0, 7.0]
    );
}

#[test]
fn bad_operands_are_typed_errors() {
    let mut t = Tape::<f32>::new();
    let a = t.constant(ArrayD::zeros(IxDyn(&[2, 3])));
    let b = t.constant(ArrayD::zeros(IxDyn(&[4, 5])));
    assert!(matches!(
        t.matmul(a, b),
        Err(TrainError::Shape { op: "matmul", .. })
    ));
    assert!(matches!(
        t.add(a, b),
        Err(TrainError::Shape { op: "add", .. })
    ));
    assert!(matches!(
        t.sum(a, &[2]),
        Err(TrainError::Axis {
            axis: 2,
            rank: 2,
            ..
        })
    ));
    assert!(matches!(t.sum(a, &[1, 1]), Err(TrainError::Shape { .. })));
    assert!(matches!(t.slice(a, 1, 2, 2), Err(TrainError::Shape { .. })));
    assert!(matches!(
        t.slice(a, 1, usize::MAX, 2),
        Err(TrainError::Shape { .. })
    ));
    assert!(matches!(
        t.split(a, 1, &[1, 1]),
        Err(TrainError::Shape { .. })
    ));
    assert!(matches!(t.reshape(a, &[5]), Err(TrainError::Shape { .. })));
    assert!(matches!(
        t.concat(&[a, b], 0),
        Err(TrainError::Shape { .. })
    ));
    assert!(matches!(t.concat(&[], 0), Err(TrainError::Shape { .. })));
    assert!(matches!(t.lstm_c(a, a, 1.0), Err(TrainError::Shape { .. })));
    let e = t.constant(ArrayD::zeros(IxDyn(&[0, 3])));
    assert!(matches!(t.mean(e, &[0]), Err(TrainError::Shape { .. })));
    let mut other = Tape::<f32>::new();
    let far = other.constant(ArrayD::zeros(IxDyn(&[1])));
    let far = other.square(far).unwrap();
    let far = other.square(far).unwrap();
    let far = other.square(far).unwrap();
    assert!(matches!(t.relu(far), Err(TrainError::UnknownNode { .. })));
    let reg = Registry::new();
    let iv = reg
        .get_variable("i", VarSpec::new().shape([1]).dtype(crate::DType::I32))
        .unwrap();
    assert!(matches!(
        t.variable(&iv),
        Err(TrainError::UnsupportedDtype { .. })
    ));
}

#[test]
fn gradients_from_two_tapes_merge_by_variable_and_tapes_clear() {
    let reg = Registry::with_seed(4);
    let w = reg
        .get_variable(
            "w",
            VarSpec::new().shape([2]).initializer(Initializer::Ones),
        )
        .unwrap();
    let mut tape = Tape::<f32>::new();
    let mut total = crate::tape::Gradients::new();
    for scale in [1.0f32, 3.0] {
        tape.clear();
        assert!(tape.is_empty());
        let x = tape.constant(ndarray::arr1(&[scale, 2.0 * scale]).into_dyn());
        let wn = tape.variable(&w).unwrap();
        let y = tape.mul(x, wn).unwrap();
        let l = tape.sum_all(y).unwrap();
        let grads = tape.backward(l).unwrap().into_gradients();
        assert_eq!(
            grads.by_name("w").unwrap().as_slice().unwrap(),
            &[scale, 2.0 * scale]
        );
        total.merge(&grads).unwrap();
    }
    assert_eq!(total.len(), 1);
    assert_eq!(total.get(&w).unwrap().as_slice().unwrap(), &[4.0, 8.0]);
    total.check_finite().unwrap();
    total.get_mut(&w).unwrap()[[1]] = f32::NAN;
    assert!(matches!(
        total.check_finite(),
        Err(TrainError::NonFiniteGradient { index: 1, .. })
    ));
    total.fill_zero();
    assert_eq!(total.get(&w).unwrap().as_slice().unwrap(), &[0.0, 0.0]);
}

/// Ops that take an unzeroed pool buffer must still write every element.
#[test]
fn products_with_an_empty_inner_dimension_are_zeros_on_reused_buffers() {
    let mut t = crate::tape::Tape::<f32>::new();
    t.constant(ndarray::ArrayD::from_elem(
        ndarray::IxDyn(&[64, 32]),
        f32::NAN,
    ));
    t.constant(ndarray::ArrayD::from_elem(
        ndarray::IxDyn(&[2, 2, 32, 32]),
        f32::NAN,
    ));
    t.clear();
    let a = t.constant(ndarray::ArrayD::zeros(ndarray::IxDyn(&[64, 0])));
    let b = t.constant(ndarray::ArrayD::zeros(ndarray::IxDyn(&[0, 32])));
    let c = t.matmul(a, b).unwrap();
    assert!(t.value(c).unwrap().iter().all(|&x| x == 0.0));
    let a = t.constant(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 2, 32, 0])));
    let c = t.batch_matmul(a, a, false, true).unwrap();
    assert!(t.value(c).unwrap().iter().all(|&x| x == 0.0));
}
