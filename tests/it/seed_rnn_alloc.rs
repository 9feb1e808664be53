//! A steady seed-RNN train step makes no heap allocation (issue #11): after a few warm-up
//! steps, further Adam train steps of the seed's configuration, and forward passes of the
//! one-step test RNN that shares its weights, are counted by the binary's allocator
//! ([`crate::alloc`]) and must make zero calls. Other sizes are checked too, so that the
//! property is not tied to the seed's.

use ndarray::{s, Array3};
use scope::models::seed_rnn::{InitialState, SeedRnn, SeedRnnConfig};
use scope::{Registry, TrainError};

use crate::alloc::{measure, Allocated};

/// Steps run before counting: the first steps may size thread-local scratch space.
const WARM_UP: usize = 3;
/// Steps counted.
const COUNTED: usize = 20;

/// The seed's `sines` data for `config`, `steps` time steps.
fn batch(config: &SeedRnnConfig, steps: usize) -> (Array3<f32>, Array3<f32>) {
    let (b, i, o) = (config.batch_size, config.input_size, config.output_size);
    let x = |bb: usize, t: usize, ii: usize| {
        (0.4 * t as f32 + 0.9 * bb as f32 + 0.55 * ii as f32).sin()
    };
    let xs = Array3::from_shape_fn((b, steps, i), |(bb, t, ii)| x(bb, t, ii));
    let ys = Array3::from_shape_fn((b, steps, o), |(bb, t, k)| {
        0.3 + 0.5 * (x(bb, t, k % i) + 0.5 * x(bb, t, (k + 1) % i)).tanh()
    });
    (xs, ys)
}

/// The train RNN and, under reuse, the one-step test RNN, as the seed builds them.
fn build(config: SeedRnnConfig) -> (Registry, SeedRnn, SeedRnn) {
    let reg = Registry::with_seed(7);
    let (train, test) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let train = SeedRnn::new(&reg, config)?;
            scope.reuse_variables();
            let test = SeedRnn::new(&reg, config.for_test())?;
            Ok::<_, TrainError>((train, test))
        })
        .expect("the seed RNN builds");
    (reg, train, test)
}

#[track_caller]
fn assert_none(what: &str, config: &SeedRnnConfig, used: Allocated) {
    assert!(
        used.calls == 0,
        "{what} ({config:?}) made {} heap allocation calls, {} bytes in all, the largest {} \
         bytes; a steady step must allocate nothing",
        used.calls,
        used.bytes,
        used.largest
    );
}

fn check(config: SeedRnnConfig, check_finite: bool) {
    let (_reg, mut train, mut test) = build(config);
    train.set_check_finite(check_finite);
    let (xs, ys) = batch(&config, config.time_steps);
    let x1 = xs.slice(s![.., ..1, ..]).to_owned();
    for _ in 0..WARM_UP {
        train
            .train_step(xs.view(), ys.view(), InitialState::Zeros)
            .expect("train step");
        test.forward(x1.view(), InitialState::Carried)
            .expect("test step");
    }
    let before = train.loss();
    let (losses, used) = measure(|| {
        let mut last = f32::NAN;
        for k in 0..COUNTED {
            let init = if k % 2 == 0 {
                InitialState::Zeros
            } else {
                InitialState::Carried
            };
            last = train
                .train_step(xs.view(), ys.view(), init)
                .expect("train step");
        }
        last
    });
    assert_none(
        &format!("{COUNTED} train steps (check_finite {check_finite})"),
        &config,
        used,
    );
    // The counted steps did train.
    assert!(
        losses.is_finite() && losses != before,
        "{before} -> {losses}"
    );

    let (pred_sum, used) = measure(|| {
        let mut sum = 0.0f32;
        for _ in 0..COUNTED {
            let pred = test
                .forward(x1.view(), InitialState::Carried)
                .expect("test step");
            sum += pred.sum();
        }
        sum
    });
    assert_none(&format!("{COUNTED} one-step test forwards"), &config, used);
    assert!(pred_sum.is_finite());
}

#[test]
fn a_steady_seed_rnn_train_step_allocates_nothing() {
    // With and without the NaN/Inf scan (the seed's example turns it on).
    check(SeedRnnConfig::default(), false);
    check(SeedRnnConfig::default(), true);
}

#[test]
fn a_steady_train_step_allocates_nothing_at_other_sizes() {
    for (b, t, i, h, o) in [
        (3, 5, 7, 5, 3),
        (1, 1, 1, 1, 1),
        (2, 3, 4, 1, 9),
        (33, 9, 17, 19, 4),
    ] {
        check(
            SeedRnnConfig {
                batch_size: b,
                time_steps: t,
                input_size: i,
                cell_size: h,
                output_size: o,
                learning_rate: 0.01,
            },
            true,
        );
    }
}
