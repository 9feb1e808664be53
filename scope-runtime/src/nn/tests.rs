//! TF1's `BasicLSTMCell`: its names, its step without a tape against the tape's, and shapes
//! that overflow.

use ndarray::Array2;

use super::{BasicLstmCell, LstmState};
use crate::tape::Tape;
use crate::train_error::TrainError;
use crate::{Error, Model, Registry, Tensor};

#[test]
fn cell_step_without_tape_matches_the_tape() {
    let reg = Registry::with_seed(11);
    let cell = reg
        .variable_scope("lstm")
        .with(|_| BasicLstmCell::new(&reg, 3, 4))
        .unwrap();
    assert_eq!(BasicLstmCell::SCOPE, "basic_lstm_cell");
    assert_eq!(cell.scope_name(), "lstm/basic_lstm_cell");
    let names: Vec<String> = cell.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["lstm/basic_lstm_cell/kernel", "lstm/basic_lstm_cell/bias"]
    );
    assert_eq!(cell.kernel().shape(), &[7, 16]);
    assert_eq!(
        cell.bias().value(),
        Tensor::zeros(crate::DType::F32, &[16]).unwrap()
    );
    let x = Array2::from_shape_fn((2, 3), |(b, i)| (b as f32 - i as f32) * 0.4);
    let mut state = LstmState {
        c: Array2::from_elem((2, 4), 0.3),
        h: Array2::from_elem((2, 4), -0.2),
    };
    let mut tape = Tape::<f64>::new();
    let xn = tape.constant(x.mapv(f64::from).into_dyn());
    let cn = tape.constant(state.c.mapv(f64::from).into_dyn());
    let hn = tape.constant(state.h.mapv(f64::from).into_dyn());
    let (c2, h2) = cell.step(&mut tape, xn, (cn, hn)).unwrap();
    cell.step_f32(x.view(), &mut state).unwrap();
    for (got, node) in [(&state.c, c2), (&state.h, h2)] {
        let want = tape.value(node).unwrap();
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((f64::from(*g) - w).abs() < 1e-6);
        }
    }
    let bad = Array2::<f32>::zeros((2, 5));
    assert!(matches!(
        cell.step_f32(bad.view(), &mut state),
        Err(TrainError::InputShape { .. })
    ));
}

#[test]
fn lstm_shapes_that_overflow_are_errors() {
    let reg = Registry::new();
    assert!(matches!(
        BasicLstmCell::new(&reg, usize::MAX, 2),
        Err(Error::ShapeOverflow { .. })
    ));
    assert!(matches!(
        BasicLstmCell::new(&reg, 1, usize::MAX / 2),
        Err(Error::ShapeOverflow { .. })
    ));
}

/// The fused LSTM over a whole sequence (input width 3, 5 units, so the kernel's `x` and
/// `h` parts differ in height) against the cell's steps on a tape: the outputs, the final
/// state, and the gradients of `Σ dh ⊙ h` for the kernel, the bias and the inputs.
#[test]
fn lstm_sequence_matches_the_cell_on_a_tape() {
    use super::LstmSequence;
    use ndarray::{s, Array1};

    let (b, t, i, u) = (2, 4, 3, 5);
    let reg = Registry::with_seed(5);
    let cell = BasicLstmCell::new(&reg, i, u).unwrap();
    let bias = Array1::from_shape_fn(4 * u, |k| (k as f32 * 0.37).sin() * 0.5);
    cell.bias()
        .assign(Tensor::from(bias.clone().into_dyn()))
        .unwrap();
    let kernel = cell.kernel().value();
    let kernel = kernel
        .view_f32()
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .to_owned();
    // Time-major rows: row `step * b + r`.
    let x = Array2::from_shape_fn((t * b, i), |(n, k)| ((n * 7 + k * 3) as f32 * 0.21).cos());
    let dh = Array2::from_shape_fn((t * b, u), |(n, k)| ((n * 5 + k) as f32 * 0.13).sin());
    let init = LstmState {
        c: Array2::from_shape_fn((b, u), |(r, k)| 0.1 * (r + k) as f32 - 0.2),
        h: Array2::from_shape_fn((b, u), |(r, k)| 0.05 * (k as f32 - r as f32)),
    };

    let mut seq = LstmSequence::new(b, t, i, u).unwrap();
    let mut state = init.clone();
    let bias = bias.as_slice().unwrap();
    seq.forward(
        x.view(),
        kernel.view(),
        bias,
        cell.forget_bias(),
        &mut state,
    );
    let (mut g_kernel, mut g_bias) = (vec![0.0; (i + u) * 4 * u], vec![0.0; 4 * u]);
    let mut dx = vec![0.0; t * b * i];
    let dh_flat = dh.as_slice().unwrap();
    seq.backward(
        x.view(),
        kernel.view(),
        dh_flat,
        &mut g_kernel,
        &mut g_bias,
        &mut dx,
    );

    let mut tape = Tape::<f32>::new();
    let mut c = tape.constant(init.c.clone().into_dyn());
    let mut h = tape.constant(init.h.clone().into_dyn());
    let mut xs = Vec::new();
    let mut loss = None;
    for step in 0..t {
        let rows = s![step * b..(step + 1) * b, ..];
        let xt = tape.constant(x.slice(rows).to_owned().into_dyn());
        xs.push(xt);
        (c, h) = cell.step(&mut tape, xt, (c, h)).unwrap();
        let want = tape.value(h).unwrap();
        for (got, want) in seq.outputs().slice(rows).iter().zip(want.iter()) {
            assert!(
                (got - want).abs() < 2e-6,
                "h at step {step}: {got} vs {want}"
            );
        }
        let weight = tape.constant(dh.slice(rows).to_owned().into_dyn());
        let term = tape.mul(h, weight).unwrap();
        let term = tape.sum(term, &[0, 1]).unwrap();
        loss = Some(match loss {
            None => term,
            Some(l) => tape.add(l, term).unwrap(),
        });
    }
    for (got, node) in [(&state.c, c), (&state.h, h)] {
        for (g, w) in got.iter().zip(tape.value(node).unwrap().iter()) {
            assert!((g - w).abs() < 2e-6, "final state: {g} vs {w}");
        }
    }
    let grads = tape.backward(loss.unwrap()).unwrap();
    let close = |what: &str, got: &[f32], want: &ndarray::ArrayD<f32>| {
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() < 1e-5 * (1.0 + w.abs()), "{what}: {g} vs {w}");
        }
    };
    close("kernel", &g_kernel, grads.variable(cell.kernel()).unwrap());
    close("bias", &g_bias, grads.variable(cell.bias()).unwrap());
    for (step, &xt) in xs.iter().enumerate() {
        let rows = step * b * i..(step + 1) * b * i;
        close("x", &dx[rows], grads.node(xt).unwrap());
    }
}
