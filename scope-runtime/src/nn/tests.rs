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
