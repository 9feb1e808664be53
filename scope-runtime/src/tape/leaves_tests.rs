//! Variable leaves kept across `Tape::clear`: a repeated step over unchanged variables copies
//! nothing, and a variable changed by any route is never served stale.

use ndarray::{arr1, ArrayD, IxDyn};

use super::{Real, Tape};
use crate::checkpoint::{to_safetensors_bytes, Restore, SafetensorsCheckpoint};
use crate::dtype::DType;
use crate::optim::{Optimizer, Sgd};
use crate::tensor::Tensor;
use crate::{Initializer, Registry, VarSpec, Variable};

/// A `float32` variable `name` of `shape` holding `0, 1, 2, ..` (scaled by `scale`).
fn var(reg: &Registry, name: &str, shape: &[usize], scale: f32) -> Variable {
    let v = reg
        .get_variable(
            name,
            VarSpec::new().shape(shape).initializer(Initializer::Zeros),
        )
        .unwrap();
    v.assign(counting(shape, scale)).unwrap();
    v
}

fn counting(shape: &[usize], scale: f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|k| k as f32 * scale).collect()).unwrap()
}

/// The variable's value, flat.
fn now(v: &Variable) -> Vec<f32> {
    v.read().as_f32().unwrap().to_vec()
}

/// One step: clear, read `v` onto the tape, and return the leaf's value, flat.
fn step<T: Real>(tape: &mut Tape<T>, v: &Variable) -> Vec<T> {
    tape.clear();
    let leaf = tape.variable(v).unwrap();
    tape.value(leaf).unwrap().iter().copied().collect()
}

#[test]
fn a_repeated_step_over_an_unchanged_variable_copies_nothing() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[64, 32], 0.5);
    let mut tape = Tape::<f32>::new();
    assert_eq!(step(&mut tape, &w), now(&w));
    assert_eq!(tape.copies, 1);
    let first = tape
        .value(tape.variables().next().unwrap().1)
        .unwrap()
        .as_ptr();
    for _ in 0..3 {
        assert_eq!(step(&mut tape, &w), now(&w));
    }
    assert_eq!(
        tape.copies, 1,
        "the kept copy is taken back, not copied again"
    );
    let leaf = tape.variables().next().unwrap().1;
    assert_eq!(tape.value(leaf).unwrap().as_ptr(), first);
    // Clearing an empty tape (a second `clear` in a row) keeps the copies too.
    tape.clear();
    tape.clear();
    assert_eq!(step(&mut tape, &w), now(&w));
    assert_eq!(tape.copies, 1);
}

/// Changes `w` by `route` between two steps, and checks the second step sees the change.
fn sees_change(route: impl FnOnce(&Registry, &Variable)) {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 1.0);
    let mut tape = Tape::<f32>::new();
    let before = step(&mut tape, &w);
    route(&reg, &w);
    let after = now(&w);
    assert_ne!(before, after, "the route changed the variable");
    assert_eq!(step(&mut tape, &w), after, "the tape saw the new value");
    assert_eq!(tape.copies, 2);
    // And the new copy is kept in turn.
    assert_eq!(step(&mut tape, &w), after);
    assert_eq!(tape.copies, 2);
}

#[test]
fn an_assign_is_seen() {
    sees_change(|_, w| w.assign(counting(&[40, 30], 2.0)).unwrap());
}

#[test]
fn an_assign_through_a_cloned_handle_is_seen() {
    sees_change(|_, w| {
        let other = w.clone();
        other.assign(counting(&[40, 30], 3.0)).unwrap();
    });
}

#[test]
fn an_assign_through_the_registry_handle_is_seen() {
    sees_change(|reg, _| {
        let again = reg.variable("w").unwrap();
        again.assign(counting(&[40, 30], 4.0)).unwrap();
    });
}

#[test]
fn a_write_guard_is_seen() {
    sees_change(|_, w| {
        let mut g = w.write();
        g.as_f32_mut().unwrap()[7] = -1.0;
    });
    sees_change(|_, w| {
        let mut g = w.write();
        g.view_f32_mut().unwrap()[[1, 2]] = -2.0;
    });
    sees_change(|_, w| {
        let mut g = w.write();
        g.copy_from(&Tensor::from(counting(&[40, 30], 5.0)))
            .unwrap();
    });
}

#[test]
fn an_optimizer_step_is_seen() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 1.0);
    let mut tape = Tape::<f32>::new();
    let mut sgd = Sgd::new(0.5);
    for _ in 0..3 {
        tape.clear();
        let leaf = tape.variable(&w).unwrap();
        assert_eq!(
            tape.value(leaf)
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            now(&w)
        );
        let loss = tape.sum_all(leaf).unwrap();
        sgd.minimize(&tape, loss).unwrap();
    }
    assert_eq!(tape.copies, 3, "a changed variable is copied every step");
}

#[test]
fn a_checkpoint_restore_is_seen() {
    let saved = Registry::new();
    var(&saved, "w", &[40, 30], 7.0);
    let ckpt = SafetensorsCheckpoint::from_bytes(
        to_safetensors_bytes(&saved, &Default::default()).unwrap(),
    )
    .unwrap();
    sees_change(|reg, _| {
        Restore::new(reg).restore(&ckpt).unwrap();
    });
}

#[test]
fn a_write_on_another_thread_is_seen() {
    sees_change(|_, w| {
        let other = w.clone();
        std::thread::spawn(move || other.assign(counting(&[40, 30], 6.0)).unwrap())
            .join()
            .unwrap();
    });
}

#[test]
fn a_cast_read_is_not_served_the_unrounded_copy() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 0.001);
    let half = w.cast_read(DType::F16).unwrap();
    let mut tape = Tape::<f32>::new();
    let full = step(&mut tape, &w);
    let rounded = step(&mut tape, &half);
    assert_ne!(full, rounded);
    let want: Vec<f32> = full
        .iter()
        .map(|&x| half::f16::from_f32(x).to_f32())
        .collect();
    assert_eq!(rounded, want);
    assert_eq!(step(&mut tape, &w), full);
    assert_eq!(tape.copies, 3);
}

#[test]
fn release_variables_frees_the_kept_copies() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 1.0);
    let mut tape = Tape::<f32>::new();
    step(&mut tape, &w);
    tape.clear();
    assert_eq!(tape.kept.len(), 1);
    tape.release_variables();
    assert!(tape.kept.is_empty());
    assert_eq!(step(&mut tape, &w), now(&w));
    assert_eq!(tape.copies, 2);
}

#[test]
fn only_the_last_steps_variables_are_kept() {
    let reg = Registry::new();
    let a = var(&reg, "a", &[40, 30], 1.0);
    let b = var(&reg, "b", &[40, 30], 2.0);
    let mut tape = Tape::<f32>::new();
    step(&mut tape, &a);
    step(&mut tape, &b);
    tape.clear();
    assert_eq!(tape.kept.keys().copied().collect::<Vec<_>>(), [b.id()]);
}

#[test]
fn a_reshaped_leaf_is_kept_and_its_gradient_has_the_variables_shape() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[1, 4, 3], 1.0);
    let mut tape = Tape::<f32>::new();
    for round in 0..2 {
        tape.clear();
        let m = tape.variable_reshaped(&w, &[4, 3]).unwrap();
        assert_eq!(tape.value(m).unwrap(), &counting(&[4, 3], 1.0));
        let sq = tape.square(m).unwrap();
        let loss = tape.sum_all(sq).unwrap();
        let want = counting(&[1, 4, 3], 2.0);
        let grads = tape.gradients(loss).unwrap();
        assert_eq!(grads.get(&w).unwrap(), want);
        let all = tape.backward(loss).unwrap();
        assert_eq!(all.variable(&w).unwrap(), &want);
        assert_eq!(all.node(m).unwrap(), &want);
        assert_eq!(all.into_gradients().get(&w).unwrap(), want);
        assert_eq!(tape.copies, 1, "round {round}");
    }
    // Next step in the variable's own shape: the same copy, relabelled.
    tape.clear();
    let leaf = tape.variable(&w).unwrap();
    assert_eq!(tape.value(leaf).unwrap(), &counting(&[1, 4, 3], 1.0));
    assert_eq!(tape.copies, 1);
}

#[test]
fn a_variable_read_in_two_shapes_is_one_leaf_with_the_summed_gradient() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[1, 4, 3], 1.0);
    for reshaped_first in [true, false] {
        let mut tape = Tape::<f32>::new();
        let (m, full) = if reshaped_first {
            let m = tape.variable_reshaped(&w, &[4, 3]).unwrap();
            (m, tape.variable(&w).unwrap())
        } else {
            let full = tape.variable(&w).unwrap();
            (tape.variable_reshaped(&w, &[4, 3]).unwrap(), full)
        };
        assert_eq!(tape.variables().count(), 1);
        assert_eq!(tape.value(full).unwrap(), &counting(&[1, 4, 3], 1.0));
        let a = tape.sum_all(m).unwrap();
        let sq = tape.square(full).unwrap();
        let b = tape.sum_all(sq).unwrap();
        let loss = tape.add(a, b).unwrap();
        let want = counting(&[1, 4, 3], 2.0).mapv(|x| x + 1.0);
        assert_eq!(tape.gradients(loss).unwrap().get(&w).unwrap(), want);
        let all = tape.backward(loss).unwrap();
        assert_eq!(all.into_gradients().get(&w).unwrap(), want);
    }
}

#[test]
fn a_gathered_then_whole_table_takes_the_kept_copy() {
    let reg = Registry::new();
    let w = var(&reg, "emb", &[50, 8], 1.0);
    let mut tape = Tape::<f32>::new();
    for _ in 0..3 {
        tape.clear();
        let rows = tape.gather_variable(&w, &[3, 1]).unwrap();
        assert_eq!(
            tape.value(rows).unwrap().as_slice().unwrap()[..8],
            now(&w)[24..32]
        );
        let whole = tape.variable(&w).unwrap();
        assert_eq!(tape.value(whole).unwrap(), &counting(&[50, 8], 1.0));
    }
    assert_eq!(tape.copies, 1);
    // A gather after the whole table reads the leaf.
    tape.clear();
    tape.variable_reshaped(&w, &[25, 16]).unwrap();
    let rows = tape.gather_variable(&w, &[2]).unwrap();
    assert_eq!(
        tape.value(rows).unwrap().as_slice().unwrap(),
        &now(&w)[16..24]
    );
    assert_eq!(tape.copies, 1);
}

#[test]
fn variable_reshaped_refuses_another_element_count() {
    let reg = Registry::new();
    let w = var(&reg, "layer/w", &[1, 4, 3], 1.0);
    let mut tape = Tape::<f32>::new();
    let err = tape.variable_reshaped(&w, &[4, 4]).unwrap_err().to_string();
    assert!(
        err.contains("layer/w") && err.contains("same element count"),
        "{err}"
    );
    assert!(tape.is_empty());
    assert!(tape
        .variable_reshaped(&w, &[usize::MAX, 2])
        .unwrap_err()
        .to_string()
        .contains("layer/w"));
}

#[test]
fn a_non_float32_variable_is_refused_and_nothing_is_kept() {
    let reg = Registry::new();
    let v = Variable::new(&reg, "ints", Tensor::from(arr1(&[1i32, 2]).into_dyn())).unwrap();
    let mut tape = Tape::<f32>::new();
    assert!(tape.variable(&v).is_err());
    assert!(tape.variable_reshaped(&v, &[2, 1]).is_err());
    assert!(tape.is_empty());
}

#[test]
fn f64_tapes_keep_their_converted_copies() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 0.1);
    let want: Vec<f64> = now(&w).iter().map(|&x| f64::from(x)).collect();
    let mut tape = Tape::<f64>::new();
    assert_eq!(step(&mut tape, &w), want);
    assert_eq!(step(&mut tape, &w), want);
    assert_eq!(tape.copies, 1);
}

#[test]
fn recycled_gradients_give_the_same_results_and_their_storage_is_reused() {
    let reg = Registry::new();
    let w = var(&reg, "w", &[40, 30], 0.01);
    let run = |recycle: bool| {
        let mut tape = Tape::<f32>::new();
        let mut sgd = Sgd::new(0.5);
        w.assign(counting(&[40, 30], 0.01)).unwrap();
        let mut kept = Vec::new();
        for _ in 0..3 {
            tape.clear();
            let leaf = tape.variable(&w).unwrap();
            let sq = tape.square(leaf).unwrap();
            let loss = tape.sum_all(sq).unwrap();
            let grads = tape.gradients(loss).unwrap();
            sgd.apply(&grads).unwrap();
            if recycle {
                tape.recycle(grads);
            }
            kept.push(tape.grad_pool.kept());
        }
        (now(&w), kept)
    };
    let (plain, kept) = run(false);
    let (recycled, kept_recycled) = run(true);
    assert_eq!(plain, recycled);
    // The pool holds one sweep's buffers, not one more each step (square's backward makes
    // a fresh one every step); a recycled gradient joins it until the next sweep ends.
    assert_eq!(kept, [kept[0]; 3]);
    assert_eq!(kept_recycled, [kept[0] + 1; 3]);
}

#[test]
fn a_large_copy_split_across_threads_is_the_variable() {
    // 1.2M elements: above the size from which the copy is split across threads.
    let reg = Registry::new();
    let w = var(&reg, "big", &[1200, 1000], 0.5);
    let expected = counting(&[1200, 1000], 0.5);
    crate::threads::assert_same_bits_at_thread_counts("variable copy", || {
        let mut t = Tape::<f32>::new();
        let leaf = t.variable(&w).unwrap();
        let value = t.value(leaf).unwrap().clone();
        assert_eq!(value, expected);
        value.iter().map(|&x| f64::from(x)).collect()
    });
}
