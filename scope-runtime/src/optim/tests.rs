//! Adam's names, sharing under reuse, its exact update, and its refusals.

use ndarray::{ArrayD, IxDyn};

use super::{Adam, AdamConfig, Optimizer};
use crate::tape::Gradients;
use crate::train_error::TrainError;
use crate::{DType, Error, Initializer, Registry, VarSpec, Variable};

fn two_vars(reg: &Registry) -> Vec<Variable> {
    let spec = || VarSpec::new().initializer(Initializer::Constant(0.5));
    vec![
        reg.get_variable("w", spec().shape([2, 3])).unwrap(),
        reg.get_variable("b", spec().shape([3])).unwrap(),
    ]
}

#[test]
fn slots_have_tf_names_and_are_shared_under_reuse() {
    let reg = Registry::with_seed(1);
    let (first, second) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let vars = two_vars(&reg);
            let first = reg
                .variable_scope("trian")
                .with(|_| Adam::new(&reg, 0.01, &vars))?;
            scope.reuse_variables();
            let second = reg
                .variable_scope("trian")
                .with(|_| Adam::new(&reg, 0.01, &vars))?;
            Ok::<_, TrainError>((first, second))
        })
        .unwrap();
    let names: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "rnn/w",
            "rnn/b",
            "rnn/trian/beta1_power",
            "rnn/trian/beta2_power",
            "rnn/trian/rnn/w/Adam",
            "rnn/trian/rnn/w/Adam_1",
            "rnn/trian/rnn/b/Adam",
            "rnn/trian/rnn/b/Adam_1",
            "rnn/trian_1/beta1_power",
            "rnn/trian_1/beta2_power",
        ]
    );
    for v in first.variables() {
        let (a, b) = (first.slots(v).unwrap(), second.slots(v).unwrap());
        assert!(a.0.ptr_eq(b.0) && a.1.ptr_eq(b.1));
        assert!(!a.0.trainable() && !a.1.trainable());
    }
    assert!(!first.beta1_power().ptr_eq(second.beta1_power()));
    assert_eq!(first.own_variables().len(), 6);
    assert_eq!(reg.trainable_variables().len(), 2);
}

#[test]
fn one_step_is_tf_apply_adam_in_f32() {
    let reg = Registry::with_seed(2);
    let vars = two_vars(&reg);
    let config = AdamConfig {
        learning_rate: 0.01,
        ..AdamConfig::new(0.01)
    };
    let mut adam = Adam::with_config(&reg, config, &vars).unwrap();
    let mut grads = Gradients::new();
    let g: Vec<f32> = (0..6).map(|k| k as f32 * 0.37 - 1.1).collect();
    grads
        .add(
            &vars[0],
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), g.clone()).unwrap(),
        )
        .unwrap();
    for _ in 0..3 {
        adam.apply(&grads).unwrap();
    }
    // The same arithmetic, written out.
    let (b1, b2, eps, lr) = (0.9f32, 0.999f32, 1e-8f32, 0.01f32);
    let (mut p1, mut p2) = (b1, b2);
    let mut w = [0.5f32; 6];
    let (mut m, mut v) = ([0.0f32; 6], [0.0f32; 6]);
    for _ in 0..3 {
        let alpha = lr * (1.0 - p2).sqrt() / (1.0 - p1);
        for k in 0..6 {
            m[k] += (g[k] - m[k]) * (1.0 - b1);
            v[k] += (g[k] * g[k] - v[k]) * (1.0 - b2);
            w[k] -= (m[k] * alpha) / (v[k].sqrt() + eps);
        }
        p1 *= b1;
        p2 *= b2;
    }
    assert_eq!(vars[0].read().as_f32().unwrap(), &w);
    let (ms, vs) = adam.slots(&vars[0]).unwrap();
    assert_eq!(ms.read().as_f32().unwrap(), &m);
    assert_eq!(vs.read().as_f32().unwrap(), &v);
    assert_eq!(adam.beta1_power().read().as_f32().unwrap(), &[p1]);
    assert_eq!(adam.beta2_power().read().as_f32().unwrap(), &[p2]);
    // No gradient: left alone.
    assert_eq!(vars[1].read().as_f32().unwrap(), &[0.5; 3]);
}

#[test]
fn refuses_bad_variable_lists() {
    let reg = Registry::with_seed(3);
    let vars = two_vars(&reg);
    let twice = [vars[0].clone(), vars[0].clone()];
    assert!(matches!(
        Adam::new(&reg, 0.1, &twice),
        Err(TrainError::Config { .. })
    ));
    let int = reg
        .get_variable("n", VarSpec::new().shape([2]).dtype(DType::I32))
        .unwrap();
    assert!(matches!(
        Adam::new(&reg, 0.1, &[int]),
        Err(TrainError::UnsupportedDtype { .. })
    ));
    // Under reuse, slots must already exist.
    let err = reg
        .variable_scope("fresh")
        .reuse(true)
        .with(|_| Adam::new(&reg, 0.1, &vars))
        .unwrap_err();
    assert!(
        matches!(err, TrainError::Registry(Error::NotFound { .. })),
        "{err}"
    );
}

#[test]
fn minimize_on_a_tape_trains_a_shared_variable() {
    use crate::tape::Tape;
    let reg = Registry::with_seed(4);
    let w = reg
        .get_variable(
            "w",
            VarSpec::new().shape([2, 1]).initializer(Initializer::Zeros),
        )
        .unwrap();
    let mut adam = Adam::new(&reg, 0.1, std::slice::from_ref(&w))
        .unwrap()
        .check_finite(true);
    let x = ndarray::array![[1.0f32, 2.0], [3.0, -1.0]].into_dyn();
    let y = ndarray::array![[5.0f32], [1.0]].into_dyn(); // w = [1, 2]
    let mut tape = Tape::<f32>::new();
    let mut losses = Vec::new();
    for _ in 0..300 {
        tape.clear();
        // Two "models" using the same variable: one leaf, summed gradient.
        let (xa, ya) = (tape.constant(x.clone()), tape.constant(y.clone()));
        let wa = tape.variable(&w).unwrap();
        let wb = tape.variable(&w).unwrap();
        let pa = tape.matmul(xa, wa).unwrap();
        let pb = tape.matmul(xa, wb).unwrap();
        let p = tape.add(pa, pb).unwrap();
        let half = tape.constant(ArrayD::from_elem(IxDyn(&[]), 0.5f32));
        let p = tape.mul(p, half).unwrap();
        let d = tape.sub(p, ya).unwrap();
        let sq = tape.square(d).unwrap();
        let loss = tape.mean(sq, &[0, 1]).unwrap();
        losses.push(adam.minimize(&tape, loss).unwrap());
    }
    assert!(
        losses[299] < 1e-4 * losses[0],
        "{} -> {}",
        losses[0],
        losses[299]
    );
    let w = w.read().as_f32().unwrap().to_vec();
    assert!(
        (w[0] - 1.0).abs() < 1e-2 && (w[1] - 2.0).abs() < 1e-2,
        "{w:?}"
    );
    // A NaN loss is refused before anything is written.
    tape.clear();
    let nan = tape.constant(ArrayD::from_elem(IxDyn(&[1]), f32::NAN));
    assert!(matches!(
        adam.minimize(&tape, nan),
        Err(TrainError::NonFiniteLoss { .. })
    ));
}

/// Hyperparameters that would write NaN or Inf are refused before anything is created.
#[test]
fn refuses_hyperparameters_that_would_write_nan() {
    let reg = Registry::new();
    let vars = two_vars(&reg);
    let before = reg.len();
    for config in [
        AdamConfig {
            beta1: 1.0,
            ..AdamConfig::new(0.1)
        },
        AdamConfig {
            beta2: -0.5,
            ..AdamConfig::new(0.1)
        },
        AdamConfig::new(f32::NAN),
        AdamConfig {
            epsilon: 0.0,
            ..AdamConfig::new(0.1)
        },
    ] {
        let err = Adam::with_config(&reg, config, &vars).unwrap_err();
        assert!(matches!(err, TrainError::Config { .. }), "{err}");
    }
    assert_eq!(reg.len(), before);
}

/// A beta power outside [0, 1) (say, restored from a bad checkpoint) is refused before any
/// variable is written.
#[test]
fn refuses_a_non_finite_step_size() {
    let reg = Registry::new();
    let vars = two_vars(&reg);
    let mut adam = Adam::new(&reg, 0.1, &vars).unwrap();
    adam.beta1_power().assign(1.0f32).unwrap();
    let before = vars[0].value();
    let mut grads = Gradients::new();
    for v in &vars {
        grads.add(v, ArrayD::ones(IxDyn(v.shape()))).unwrap();
    }
    assert!(matches!(adam.apply(&grads), Err(TrainError::Config { .. })));
    assert_eq!(vars[0].value(), before);
}

/// Under reuse a slot is shared as it stands; one that no longer fits its variable is an
/// error naming both, not a silent partial update.
#[test]
fn refuses_a_shared_slot_of_another_shape() {
    let reg = Registry::new();
    let w = reg
        .variable_scope("m")
        .with(|_| reg.get_variable("w", VarSpec::new().shape([3])))
        .unwrap();
    // A stale variable of the wrong shape under the store key Adam's `m/w/Adam` slot uses.
    reg.get_variable("m/w/Adam/", VarSpec::new().shape([2]))
        .unwrap();
    reg.reuse_variables();
    let err = Adam::new(&reg, 0.1, &[w]).unwrap_err();
    assert!(err.to_string().contains("m/w/Adam"), "{err}");
}

/// A gather-only table's gradient reaches optimizers as its rows ([`crate::tape::Tape::gradients`]);
/// every row, gathered or not, must then change exactly as under the dense gradient (Adam's
/// and AdamWeightDecay's math is dense: untouched rows still decay their slots and move).
fn rows_update_like_dense<O: Optimizer>(make: impl Fn(&Registry, &[Variable]) -> O) {
    // 1100 x 4 floats: longer than the optimizers' run of zeros, so runs are split.
    let build = |reg: &Registry| {
        let spec = |shape: &[usize]| {
            VarSpec::new()
                .shape(shape)
                .initializer(Initializer::random_normal(0.0, 1.0))
        };
        vec![
            reg.get_variable("word_embeddings", spec(&[1100, 4]))
                .unwrap(),
            reg.get_variable("dense/kernel", spec(&[4, 2])).unwrap(),
        ]
    };
    let (reg_rows, reg_dense) = (Registry::with_seed(3), Registry::with_seed(3));
    let (vars_rows, vars_dense) = (build(&reg_rows), build(&reg_dense));
    let mut opt_rows = make(&reg_rows, &vars_rows);
    let mut opt_dense = make(&reg_dense, &vars_dense);
    let loss = |tape: &mut crate::tape::Tape<f32>, vars: &[Variable], ids: &[usize]| {
        tape.clear();
        let x = tape.gather_variable(&vars[0], ids).unwrap();
        let k = tape.variable(&vars[1]).unwrap();
        let y = tape.matmul(x, k).unwrap();
        let y = tape.tanh(y).unwrap();
        tape.sum_all(y).unwrap()
    };
    let mut tape = crate::tape::Tape::<f32>::new();
    for ids in [&[3usize, 1050, 3, 7][..], &[0, 1099], &[512, 513, 1024]] {
        let l = loss(&mut tape, &vars_rows, ids);
        let rows = tape.gradients(l).unwrap();
        assert!(matches!(
            rows.view(&vars_rows[0]),
            Some(crate::tape::GradView::Rows { .. })
        ));
        opt_rows.apply(&rows).unwrap();
        let l = loss(&mut tape, &vars_dense, ids);
        let dense = tape.backward(l).unwrap().into_gradients();
        assert!(matches!(
            dense.view(&vars_dense[0]),
            Some(crate::tape::GradView::Dense(_))
        ));
        opt_dense.apply(&dense).unwrap();
        let all = |reg: &Registry| -> Vec<(String, Vec<f32>)> {
            reg.global_variables()
                .iter()
                .filter_map(|v| Some((v.name().to_owned(), v.read().as_f32()?.to_vec())))
                .collect()
        };
        assert_eq!(all(&reg_rows), all(&reg_dense), "after ids {ids:?}");
    }
}

#[test]
fn rows_of_a_gathered_table_update_exactly_as_its_dense_gradient() {
    rows_update_like_dense(|reg, vars| Adam::new(reg, 0.01, vars).unwrap());
    rows_update_like_dense(|reg, vars| {
        let config = super::AdamWeightDecayConfig::bert(1e-3, 10, 2);
        super::AdamWeightDecay::new(reg, config, vars).unwrap()
    });
}

/// Two steps of `make`'s optimizer on a variable large enough to be split across threads
/// (and a small one beside it): the variable's values and its slots' afterwards.
fn two_steps<O: Optimizer>(make: &dyn Fn(&Registry, &[Variable]) -> O) -> Vec<f64> {
    let reg = Registry::with_seed(3);
    let spec = |shape: &[usize]| {
        VarSpec::new()
            .shape(shape)
            .initializer(Initializer::RandomNormal {
                mean: 0.0,
                stddev: 1.0,
            })
    };
    let vars = vec![
        reg.get_variable("kernel", spec(&[1800, 301])).unwrap(),
        reg.get_variable("bias", spec(&[301])).unwrap(),
    ];
    let mut opt = make(&reg, &vars);
    for step in 0..2u32 {
        let mut grads = Gradients::new();
        for var in &vars {
            let n: usize = var.shape().iter().product();
            let g = (0..n).map(|k| {
                ((k as u32).wrapping_mul(2654435761).wrapping_add(step) % 1000) as f32 / 500.0 - 1.0
            });
            let g = ArrayD::from_shape_vec(IxDyn(var.shape()), g.collect()).unwrap();
            grads.add(var, g).unwrap();
        }
        opt.apply(&grads).unwrap();
    }
    reg.global_variables()
        .iter()
        .filter(|v| v.dtype() == DType::F32)
        .flat_map(|v| v.value().to_f64_vec())
        .collect()
}

#[test]
fn optimizers_same_bits_at_every_thread_count() {
    use crate::threads::assert_same_bits_at_thread_counts as same;
    same("Adam", || {
        two_steps(&|reg, vars| Adam::new(reg, 0.01, vars).unwrap())
    });
    same("AdamWeightDecay", || {
        two_steps(&|reg, vars| {
            let config = super::AdamWeightDecayConfig::bert(1e-3, 10, 1);
            super::AdamWeightDecay::new(reg, config, vars).unwrap()
        })
    });
    same("LAMB", || {
        two_steps(&|reg, vars| {
            let config = super::LambConfig::albert(1e-3, 10, 1);
            super::Lamb::new(reg, config, vars).unwrap()
        })
    });
    same("SGD", || two_steps(&|_, _| super::Sgd::new(0.1)));
}
