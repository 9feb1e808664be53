//! [`Tape::gradients`] against [`Tape::backward`]: the same numbers, with a gather-only
//! table's gradient kept as its rows; and [`Gradients`] on such rows.

use ndarray::{ArrayD, IxDyn};

use super::{GradView, Gradients, Rows};
use crate::tape::{NodeId, Tape};
use crate::train_error::TrainError;
use crate::{Initializer, Registry, VarSpec, Variable};

fn table(reg: &Registry, name: &str, shape: [usize; 2]) -> Variable {
    reg.get_variable(
        name,
        VarSpec::new()
            .shape(shape)
            .initializer(Initializer::random_normal(0.0, 1.0)),
    )
    .unwrap()
}

/// Two gathers of `emb` (ids repeated within and across them), a dense `w`, and, when `tied`,
/// a matmul reading `emb` densely too.
fn model(t: &mut Tape<f32>, emb: &Variable, w: &Variable, tied: bool) -> NodeId {
    let a = t.gather_variable(emb, &[4, 1, 4, 0]).unwrap();
    let b = t.gather_variable(emb, &[1, 6]).unwrap();
    let x = t.concat(&[a, b], 0).unwrap();
    let wn = t.variable(w).unwrap();
    let h = t.matmul(x, wn).unwrap();
    let h = t.tanh(h).unwrap();
    let h = if tied {
        let e = t.variable(emb).unwrap();
        t.batch_matmul(h, e, false, true).unwrap()
    } else {
        h
    };
    let sq = t.square(h).unwrap();
    t.sum_all(sq).unwrap()
}

fn same_gradients(lean: &Gradients<f32>, full: &Gradients<f32>, vars: &[&Variable]) {
    assert_eq!(lean.len(), full.len());
    for v in vars {
        assert_eq!(lean.get(v), full.get(v), "{}", v.name());
        assert_eq!(lean.tf_sum_of_squares(v), full.tf_sum_of_squares(v));
    }
    assert_eq!(lean.tf_global_norm(), full.tf_global_norm());
    assert_eq!(lean.global_norm(), full.global_norm());
}

#[test]
fn a_gather_only_table_gets_its_rows_and_the_numbers_of_backward() {
    let reg = Registry::with_seed(7);
    let (emb, w) = (table(&reg, "emb", [8, 3]), table(&reg, "w", [3, 3]));
    let mut t = Tape::<f32>::new();
    let loss = model(&mut t, &emb, &w, false);
    let lean = t.gradients(loss).unwrap();
    let full = t.backward(loss).unwrap().into_gradients();
    match lean.view(&emb).unwrap() {
        GradView::Rows { width, ids, values } => {
            assert_eq!((width, ids), (3, &[0usize, 1, 4, 6][..]));
            assert_eq!(values.len(), 12);
        }
        GradView::Dense(_) => panic!("a gather-only table's gradient should be its rows"),
    }
    assert!(matches!(lean.view(&w), Some(GradView::Dense(_))));
    // Rows not gathered are zero; TF's norm counts the repeated ids' rows unsummed.
    let dense = lean.get(&emb).unwrap();
    assert!(dense.outer_iter().nth(2).unwrap().iter().all(|&x| x == 0.0));
    assert_ne!(lean.tf_global_norm(), lean.global_norm());
    same_gradients(&lean, &full, &[&emb, &w]);
}

#[test]
fn a_table_also_read_densely_gets_a_dense_gradient() {
    let reg = Registry::with_seed(8);
    let (emb, w) = (table(&reg, "emb", [8, 3]), table(&reg, "w", [3, 3]));
    let mut t = Tape::<f32>::new();
    let loss = model(&mut t, &emb, &w, true);
    let lean = t.gradients(loss).unwrap();
    assert!(matches!(lean.view(&emb), Some(GradView::Dense(_))));
    let full = t.backward(loss).unwrap().into_gradients();
    same_gradients(&lean, &full, &[&emb, &w]);
}

#[test]
fn gradients_of_an_unconnected_variable_are_left_out_as_by_backward() {
    let reg = Registry::with_seed(9);
    let (emb, w) = (table(&reg, "emb", [8, 3]), table(&reg, "w", [3, 3]));
    let mut t = Tape::<f32>::new();
    t.gather_variable(&emb, &[1, 2]).unwrap();
    let wn = t.variable(&w).unwrap();
    let loss = t.sum_all(wn).unwrap();
    let lean = t.gradients(loss).unwrap();
    assert!(lean.get(&emb).is_none());
    same_gradients(&lean, &t.backward(loss).unwrap().into_gradients(), &[&w]);
    let far = NodeId(t.len());
    assert!(matches!(
        t.gradients(far),
        Err(TrainError::UnknownNode { .. })
    ));
}

#[test]
fn rows_become_dense_when_changed_summed_or_merged() {
    let reg = Registry::with_seed(10);
    let (emb, w) = (table(&reg, "emb", [8, 3]), table(&reg, "w", [3, 3]));
    let mut t = Tape::<f32>::new();
    let loss = model(&mut t, &emb, &w, false);
    let full = t.backward(loss).unwrap().into_gradients();
    let dense = full.get(&emb).unwrap().clone();

    // Merged into empty gradients, rows stay rows and keep TF's norm.
    let mut merged = Gradients::new();
    merged.merge(&t.gradients(loss).unwrap()).unwrap();
    assert!(matches!(merged.view(&emb), Some(GradView::Rows { .. })));
    same_gradients(&merged, &full, &[&emb, &w]);
    // Merged twice: the rows are summed (TF concatenates the slices, so their squares add).
    merged.merge(&t.gradients(loss).unwrap()).unwrap();
    assert_eq!(merged.get(&emb).unwrap(), &(&dense * 2.0));
    assert_eq!(
        merged.tf_sum_of_squares(&emb),
        full.tf_sum_of_squares(&emb).map(|s| 2.0 * s)
    );

    // A dense addition makes the gradient dense, and TF's norm that of the sum.
    let mut lean = t.gradients(loss).unwrap();
    lean.add(&emb, ArrayD::ones(IxDyn(&[8, 3]))).unwrap();
    assert!(matches!(lean.view(&emb), Some(GradView::Dense(_))));
    assert_eq!(lean.get(&emb).unwrap(), &(&dense + 1.0));
    let sum: f64 = lean
        .get(&emb)
        .unwrap()
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    let got = lean.tf_sum_of_squares(&emb).unwrap();
    assert!((got - sum).abs() <= 1e-12 * sum, "{got} vs {sum}");

    // Changing it in place, through `get_mut` or `iter_mut`, changes what optimizers read.
    let mut lean = t.gradients(loss).unwrap();
    lean.get_mut(&emb).unwrap()[[2, 1]] = 5.0;
    match lean.view(&emb).unwrap() {
        GradView::Dense(g) => assert_eq!(g[2 * 3 + 1], 5.0),
        GradView::Rows { .. } => panic!("get_mut should make the rows dense"),
    }
    let mut lean = t.gradients(loss).unwrap();
    for (_, g) in lean.iter_mut() {
        g.fill(1.0);
    }
    assert!(lean.get(&emb).unwrap().iter().all(|&x| x == 1.0));

    // NaN in a row is found at its dense index; zeroing keeps the rows.
    let mut lean = t.gradients(loss).unwrap();
    lean.fill_zero();
    assert!(lean.get(&emb).unwrap().iter().all(|&x| x == 0.0));
    lean.check_finite().unwrap();
    let mut rows = Gradients::new();
    let values = vec![1.0, 2.0, 3.0, 4.0, 5.0, f32::NAN];
    rows.add_rows(&emb, Rows::new(vec![8, 3], vec![1, 6], values));
    assert!(matches!(
        rows.check_finite(),
        Err(TrainError::NonFiniteGradient { index: 20, .. })
    ));
    assert_eq!(rows.first_non_finite(&emb).map(|(i, _)| i), Some(20));
    assert_eq!(rows.get(&emb).unwrap()[[1, 2]], 3.0);
    assert_eq!(t.gradients(loss).unwrap().by_name("w"), full.get(&w));
}
