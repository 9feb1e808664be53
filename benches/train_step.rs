//! One Adam train step of the seed RNN (B=20, T=20, I=10, H=11, O=2) and one step of the
//! test RNN (T=1) with carried state, single-threaded.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array3;
use scope::models::seed_rnn::{InitialState, SeedRnn, SeedRnnConfig};
use scope::{Registry, TrainError};

/// The seed's `sines` data: `xs[b,t,i] = sin(0.4 t + 0.9 b + 0.55 i)`,
/// `ys[b,t,k] = 0.3 + 0.5 tanh(xs[b,t,k % I] + 0.5 xs[b,t,(k+1) % I])`.
fn sines(c: &SeedRnnConfig, steps: usize) -> (Array3<f32>, Array3<f32>) {
    let (b, i, o) = (c.batch_size, c.input_size, c.output_size);
    let x = |bb: usize, t: usize, ii: usize| {
        (0.4 * t as f64 + 0.9 * bb as f64 + 0.55 * ii as f64).sin()
    };
    let xs = Array3::from_shape_fn((b, steps, i), |(bb, t, ii)| x(bb, t, ii) as f32);
    let ys = Array3::from_shape_fn((b, steps, o), |(bb, t, k)| {
        (0.3 + 0.5 * (x(bb, t, k % i) + 0.5 * x(bb, t, (k + 1) % i)).tanh()) as f32
    });
    (xs, ys)
}

fn bench(c: &mut Criterion) {
    let reg = Registry::with_seed(1);
    let config = SeedRnnConfig::default();
    let (mut train, mut test) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let train = SeedRnn::new(&reg, config)?;
            scope.reuse_variables();
            let test = SeedRnn::new(&reg, config.for_test())?;
            Ok::<_, TrainError>((train, test))
        })
        .expect("seed RNN builds");
    let (xs, ys) = sines(&config, config.time_steps);
    let (txs, _) = sines(&config, 1);

    c.bench_function("seed_rnn_adam_train_step", |b| {
        b.iter(|| {
            train
                .train_step(
                    black_box(xs.view()),
                    black_box(ys.view()),
                    InitialState::Zeros,
                )
                .expect("train step")
        })
    });
    c.bench_function("seed_rnn_forward_only", |b| {
        b.iter(|| {
            train
                .forward(black_box(xs.view()), InitialState::Zeros)
                .expect("forward")[[0, 0]]
        })
    });
    c.bench_function("seed_rnn_test_step_carried_state", |b| {
        b.iter(|| {
            test.forward(black_box(txs.view()), InitialState::Carried)
                .expect("test step")[[0, 0]]
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
