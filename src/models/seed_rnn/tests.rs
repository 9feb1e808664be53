//! The seed RNN's fused kernels against the generic tape, carried state, errors, and
//! sharing through reuse.

use ndarray::{s, Array3, ArrayD};

use super::{InitialState, SeedRnn, SeedRnnConfig};
use crate::nn::LstmState;
use crate::optim::{Optimizer, Sgd};
use crate::tape::{Gradients, Tape};
use crate::TrainError;
use crate::{Error, Registry, Tensor, Variable};

fn small() -> SeedRnnConfig {
    SeedRnnConfig {
        batch_size: 3,
        time_steps: 4,
        input_size: 5,
        output_size: 3,
        cell_size: 6,
        learning_rate: 0.05,
    }
}

fn data(c: &SeedRnnConfig, t: usize) -> (Array3<f32>, Array3<f32>) {
    let xs = Array3::from_shape_fn((c.batch_size, t, c.input_size), |(b, t, i)| {
        (0.4 * t as f32 + 0.9 * b as f32 + 0.55 * i as f32).sin()
    });
    let ys = Array3::from_shape_fn((c.batch_size, t, c.output_size), |(b, t, k)| {
        0.3 + 0.5 * (0.7 * b as f32 - 0.3 * t as f32 + k as f32).cos()
    });
    (xs, ys)
}

fn build(reg: &Registry, config: SeedRnnConfig) -> SeedRnn {
    reg.variable_scope("rnn")
        .with(|_| SeedRnn::new(reg, config))
        .unwrap()
}

fn max_rel(got: &ArrayD<f32>, want: &ArrayD<f64>) -> f64 {
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-6);
    got.iter()
        .zip(want.iter())
        .fold(0.0f64, |m, (&g, &w)| m.max((f64::from(g) - w).abs()))
        / scale
}

/// At several sizes: cells narrower and wider than a 16-lane register, more outputs than
/// gate columns, and step counts that leave partial blocks in the bias and sum loops.
#[test]
fn fused_kernels_match_the_tape_in_f64() {
    let sizes = [
        (3, 4, 5, 6, 3),
        (3, 7, 5, 6, 3),
        (2, 3, 4, 1, 9),
        (5, 6, 3, 17, 2),
    ];
    for (batch_size, time_steps, input_size, cell_size, output_size) in sizes {
        fused_kernels_match_the_tape(SeedRnnConfig {
            batch_size,
            time_steps,
            input_size,
            cell_size,
            output_size,
            ..small()
        });
    }
}

fn fused_kernels_match_the_tape(config: SeedRnnConfig) {
    let reg = Registry::with_seed(5);
    let mut rnn = build(&reg, config);
    // Non-zero biases, so every term of the backward pass matters.
    for v in rnn.variables() {
        let n = v.numel();
        let vals: Vec<f32> = (0..n).map(|k| 0.3 * ((k * 7 + 3) as f32).sin()).collect();
        if v.name().ends_with("bias") || v.name().ends_with("biases") {
            v.assign(Tensor::from_f32(v.shape(), vals).unwrap())
                .unwrap();
        }
    }
    let (xs, ys) = data(&config, config.time_steps);
    let mut tape = Tape::<f64>::new();
    let cost = rnn.cost_on_tape(&mut tape, xs.view(), ys.view()).unwrap();
    let want_cost = tape.value(cost).unwrap().clone();
    let want = tape.backward(cost).unwrap().into_gradients();
    let got_cost = rnn
        .cost(xs.view(), ys.view(), InitialState::Zeros)
        .unwrap()
        .to_owned()
        .into_dyn();
    assert!(max_rel(&got_cost, &want_cost) < 1e-5, "{config:?}");
    let got = rnn
        .compute_gradients(xs.view(), ys.view(), InitialState::Zeros)
        .unwrap()
        .clone();
    assert_eq!(got.len(), 6);
    for v in rnn.variables() {
        let (g, w) = (got.get(&v).unwrap(), want.get(&v).unwrap());
        let err = max_rel(g, w);
        assert!(err < 1e-4, "{config:?} {}: relative error {err}", v.name());
    }
}

#[test]
fn carried_state_continues_the_sequence() {
    let reg = Registry::with_seed(6);
    let config = small();
    let (whole, mut half) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let whole = SeedRnn::new(&reg, config)?;
            scope.reuse_variables();
            let half = SeedRnn::new(
                &reg,
                SeedRnnConfig {
                    time_steps: 2,
                    ..config
                },
            )?;
            Ok::<_, TrainError>((whole, half))
        })
        .unwrap();
    let mut whole = whole;
    let (xs, _) = data(&config, 4);
    let full_pred = whole
        .forward(xs.view(), InitialState::Zeros)
        .unwrap()
        .to_owned();
    half.forward(xs.slice(s![.., ..2, ..]), InitialState::Zeros)
        .unwrap();
    let second = half
        .forward(xs.slice(s![.., 2.., ..]), InitialState::Carried)
        .unwrap()
        .to_owned();
    // Row b * 2 + t of the second half is row b * 4 + 2 + t of the whole.
    for b in 0..config.batch_size {
        for t in 0..2 {
            for k in 0..config.output_size {
                let d = second[[b * 2 + t, k]] - full_pred[[b * 4 + 2 + t, k]];
                assert!(d.abs() < 1e-6);
            }
        }
    }
    let d = &half.state().c - &whole.state().c;
    assert!(d.iter().all(|x| x.abs() < 1e-6));
    // set_state then Carried is the same as feeding TF's `cell_init_state`.
    let saved = half.state().clone();
    half.set_state(&LstmState::zeros(3, 6)).unwrap();
    half.set_state(&saved).unwrap();
    assert_eq!(half.state(), &saved);
}

#[test]
fn training_is_seen_by_the_reusing_model() {
    let reg = Registry::with_seed(7);
    let config = small();
    let (mut train, mut test) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let train = SeedRnn::new(&reg, config)?;
            scope.reuse_variables();
            let test = SeedRnn::new(&reg, config.for_test())?;
            Ok::<_, TrainError>((train, test))
        })
        .unwrap();
    let (xs, ys) = data(&config, config.time_steps);
    let x1 = xs.slice(s![.., ..1, ..]);
    let before = test.forward(x1, InitialState::Zeros).unwrap().to_owned();
    let first = train
        .train_step(xs.view(), ys.view(), InitialState::Zeros)
        .unwrap();
    let mut last = first;
    for _ in 0..30 {
        last = train
            .train_step(xs.view(), ys.view(), InitialState::Zeros)
            .unwrap();
    }
    assert!(last < first * 0.5, "loss {first} -> {last}");
    let after = test.forward(x1, InitialState::Zeros).unwrap().to_owned();
    assert!(
        before != after,
        "the test model must see the trained weights"
    );
    // The test model's prediction is the train model's first time step.
    train.forward(xs.view(), InitialState::Zeros).unwrap();
    for b in 0..config.batch_size {
        for k in 0..config.output_size {
            let d = after[[b, k]] - train.pred()[[b * config.time_steps, k]];
            assert!(d.abs() < 1e-6);
        }
    }
}

#[test]
fn non_finite_loss_is_refused_before_any_update() {
    let reg = Registry::with_seed(8);
    let config = small();
    let mut rnn = build(&reg, config);
    rnn.set_check_finite(true);
    let (mut xs, ys) = data(&config, config.time_steps);
    xs[[1, 2, 3]] = f32::NAN;
    let before: Vec<Tensor> = rnn.variables().iter().map(Variable::value).collect();
    let err = rnn
        .train_step(xs.view(), ys.view(), InitialState::Zeros)
        .unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteLoss { .. }), "{err}");
    let after: Vec<Tensor> = rnn.variables().iter().map(Variable::value).collect();
    assert_eq!(before, after);
    assert_eq!(rnn.optimizer().beta1_power().value(), Tensor::from(0.9f32));
}

#[test]
fn bad_inputs_and_configs_are_typed_errors() {
    let reg = Registry::with_seed(9);
    let config = small();
    let mut rnn = build(&reg, config);
    let (xs, ys) = data(&config, config.time_steps);
    let wrong = Array3::<f32>::zeros((3, 4, 7));
    assert!(matches!(
        rnn.forward(wrong.view(), InitialState::Zeros),
        Err(TrainError::InputShape { input: "xs", .. })
    ));
    assert!(matches!(
        rnn.train_step(xs.view(), wrong.view(), InitialState::Zeros),
        Err(TrainError::InputShape { input: "ys", .. })
    ));
    assert!(matches!(
        rnn.set_state(&LstmState::zeros(2, 6)),
        Err(TrainError::InputShape { .. })
    ));
    let _ = ys;
    for bad in [
        SeedRnnConfig {
            cell_size: 0,
            ..config
        },
        SeedRnnConfig {
            batch_size: 0,
            ..config
        },
        SeedRnnConfig {
            learning_rate: f32::NAN,
            ..config
        },
        SeedRnnConfig {
            time_steps: usize::MAX,
            ..config
        },
    ] {
        let r = Registry::new();
        assert!(matches!(
            SeedRnn::new(&r, bad),
            Err(TrainError::Config { .. })
        ));
    }
    // Reusing with other sizes is the registry's shape error, not a panic.
    let err = reg
        .variable_scope("rnn")
        .reuse(true)
        .with(|_| {
            SeedRnn::new(
                &reg,
                SeedRnnConfig {
                    cell_size: 7,
                    ..config
                },
            )
        })
        .unwrap_err();
    assert!(
        matches!(err, TrainError::Registry(Error::ShapeMismatch { .. })),
        "{err}"
    );
}

#[test]
fn sgd_trains_through_train_step_with() {
    let reg = Registry::with_seed(10);
    let config = small();
    let mut rnn = build(&reg, config);
    let (xs, ys) = data(&config, config.time_steps);
    let mut sgd = Sgd::new(0.05).check_finite(true);
    let first = rnn
        .train_step_with(xs.view(), ys.view(), InitialState::Zeros, &mut sgd)
        .unwrap();
    let second = rnn
        .train_step_with(xs.view(), ys.view(), InitialState::Zeros, &mut sgd)
        .unwrap();
    assert!(second < first);
    // SGD is exactly var -= lr * grad.
    let w = rnn.variables()[5].clone();
    let before = w.value();
    let mut grads = Gradients::new();
    grads
        .add(&w, ArrayD::from_elem(ndarray::IxDyn(w.shape()), 2.0f32))
        .unwrap();
    sgd.apply(&grads).unwrap();
    for (a, b) in w.value().to_f64_vec().iter().zip(before.to_f64_vec()) {
        assert_eq!(*a as f32, b as f32 - 0.05f32 * 2.0);
    }
}

#[test]
fn non_finite_gradient_names_the_variable_and_applies_nothing() {
    let reg = Registry::with_seed(12);
    let config = small();
    let rnn = build(&reg, config);
    let mut adam = reg
        .variable_scope("other")
        .with(|_| crate::optim::Adam::new(&reg, 0.1, &rnn.variables()))
        .unwrap()
        .check_finite(true);
    let vars = rnn.variables();
    let mut grads = Gradients::new();
    for v in &vars {
        grads
            .add(v, ArrayD::from_elem(ndarray::IxDyn(v.shape()), 1.0f32))
            .unwrap();
    }
    grads.get_mut(&vars[3]).unwrap()[[5]] = f32::INFINITY;
    let before: Vec<Tensor> = vars.iter().map(Variable::value).collect();
    let err = adam.apply(&grads).unwrap_err();
    match &err {
        TrainError::NonFiniteGradient { name, index, .. } => {
            assert_eq!(name, "rnn/cell/basic_lstm_cell/bias");
            assert_eq!(*index, 5);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("rnn/cell/basic_lstm_cell/bias"));
    let after: Vec<Tensor> = vars.iter().map(Variable::value).collect();
    assert_eq!(before, after);
    let (m, _) = adam.slots(&vars[0]).unwrap();
    assert!(m.value().to_f64_vec().iter().all(|&x| x == 0.0));
    // A wrong-shaped gradient is refused too.
    let mut bad = Gradients::new();
    assert!(matches!(
        bad.add(&vars[0], ArrayD::zeros(ndarray::IxDyn(&[2]))),
        Err(TrainError::GradientShape { .. })
    ));
    bad.add(&vars[0], ArrayD::zeros(ndarray::IxDyn(vars[0].shape())))
        .unwrap();
    adam.apply(&bad).unwrap();
}

/// A config whose buffers would not fit is a typed error, not an aborted process.
#[test]
fn oversized_configs_are_errors_not_aborts() {
    let reg = Registry::new();
    let config = SeedRnnConfig {
        batch_size: 1 << 14,
        time_steps: 1 << 14,
        input_size: 1,
        cell_size: 1,
        output_size: 1 << 16,
        learning_rate: 0.01,
    };
    let err = SeedRnn::new(&reg, config).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
    assert!(reg.is_empty());
}
