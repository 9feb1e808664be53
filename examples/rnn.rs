//! The seed RNN (MorvanZhou's `tf22_RNN_scope.py`): a train RNN (20 time steps) and a test RNN
//! (1 time step) built in one `variable_scope("rnn")` with `reuse_variables()` between them,
//! so whatever training does to the weights, the test RNN sees.
//!
//! ```text
//! cargo run --release --example rnn                 # the whole story, < 30 s
//! cargo run --release --example rnn -- --bench      # train_step_ms, test_step_us, build_us
//! cargo run --release --example rnn -- --restore    # reload out/rnn.safetensors and go on
//! ```
//!
//! The TF original, for reference:
//!
//! ```python
//! with tf.variable_scope('rnn') as scope:
//!     sess = tf.Session()
//!     train_rnn = RNN(train_config)
//!     scope.reuse_variables()
//!     test_rnn = RNN(test_config)
//! ```

#[path = "support/timing.rs"]
mod timing;
// The test suite's per-thread counting allocator, so `--bench` can count a step's allocations.
#[path = "../tests/it/alloc.rs"]
mod alloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use timing::timed;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array3};
use plotters::prelude::*;
use scope::checkpoint::{save_safetensors, Restore, SafetensorsCheckpoint};
use scope::models::seed_rnn::{InitialState, SeedRnn, SeedRnnConfig};
use scope::nn::LstmState;
use scope::{Model, Registry, TrainError, Variable};

/// What can stop a run. The library's three errors arrive as one: `?` turns a registry
/// `scope::Error` and a `CheckpointError` into a `TrainError`. The rest is this program's own:
/// the output directory, and a test RNN that does not share the train RNN's storage.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("cannot create the output directory: {0}")]
    OutDir(#[source] std::io::Error),
    #[error("the test RNN does not share the train RNN's variables")]
    NotShared,
}

/// What a plot can fail with (the bitmap backend's errors, in plotters' wrapper).
type PlotResult =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

/// The seed's `TrainConfig`; its `TestConfig` is the same with one time step.
const TRAIN_CONFIG: SeedRnnConfig = SeedRnnConfig {
    batch_size: 20,
    time_steps: 20,
    input_size: 10,
    output_size: 2,
    cell_size: 11,
    learning_rate: 0.01,
};

#[derive(Parser, Debug)]
#[command(about = "Train the seed RNN; the test RNN shares every parameter through the registry")]
struct Args {
    /// Adam steps (each one batch of 20 sequences x 20 time steps).
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    /// Seed of the registry's initializers and of the synthetic data's phases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the plots and the checkpoint go.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Reload `<out>/rnn.safetensors` (weights, Adam slots, beta powers) and continue training.
    #[arg(long)]
    restore: bool,
    /// Time the train step, the test step and the build instead (medians, single thread).
    #[arg(long)]
    bench: bool,
}

/// The seed's `RNN(config)`: builds in the caller's current variable scope. The parameters
/// are declared once, by `scope::models::seed_rnn::SeedRnnParams` (`model!`); the trainer
/// adds the forward, backward and Adam in sub-scope `trian`.
fn build(reg: &Registry, config: SeedRnnConfig) -> Result<SeedRnn, TrainError> {
    let mut net = SeedRnn::new(reg, config)?;
    net.set_check_finite(true);
    Ok(net)
}

/// The right way: one scope, `reuse_variables()` between the train and the test RNN.
fn build_shared(reg: &Registry) -> Result<(SeedRnn, SeedRnn), TrainError> {
    reg.variable_scope("rnn").with(|scope| {
        let train = build(reg, TRAIN_CONFIG)?;
        scope.reuse_variables();
        let test = build(reg, TRAIN_CONFIG.for_test())?;
        Ok((train, test))
    })
}

/// The synthetic task. Ten input channels are sinusoids, each channel with its own frequency
/// and each sequence with its own phase; the two targets depend on the inputs' recent past, so
/// the LSTM has to remember:
///
/// `y0(t) = 0.5 + 0.4 tanh(x0(t-1) + x3(t-3))`, `y1(t) = 0.5 + 0.35 x2(t) x5(t-2)`,
///
/// both within `[0.1, 0.9]`: non-negative, as the ReLU output layer needs.
struct Task {
    freqs: [f32; 10],
}

impl Task {
    fn new() -> Task {
        let mut freqs = [0.0; 10];
        for (i, f) in freqs.iter_mut().enumerate() {
            *f = 0.15 + 0.07 * i as f32;
        }
        Task { freqs }
    }

    fn x(&self, phase: f32, channel: usize, t: i64) -> f32 {
        (self.freqs[channel] * t as f32 + phase + 0.7 * channel as f32).sin()
    }

    fn y(&self, phase: f32, t: i64) -> [f32; 2] {
        let x = |c, dt| self.x(phase, c, t - dt);
        [
            0.5 + 0.4 * (x(0, 1) + x(3, 3)).tanh(),
            0.5 + 0.35 * x(2, 0) * x(5, 2),
        ]
    }

    /// Inputs and targets of `phases.len()` sequences over time steps `start..start + len`.
    fn window(&self, phases: &[f32], start: i64, len: usize) -> (Array3<f32>, Array3<f32>) {
        let mut xs = Array3::zeros((phases.len(), len, 10));
        let mut ys = Array3::zeros((phases.len(), len, 2));
        for (b, &phase) in phases.iter().enumerate() {
            for step in 0..len {
                let t = start + step as i64;
                for c in 0..10 {
                    xs[[b, step, c]] = self.x(phase, c, t);
                }
                let y = self.y(phase, t);
                ys[[b, step, 0]] = y[0];
                ys[[b, step, 1]] = y[1];
            }
        }
        (xs, ys)
    }
}

/// Deterministic phases in `[0, 2π)` (SplitMix64), so a run is reproducible from `--seed`.
fn phases(seed: u64, stream: u64, n: usize) -> Vec<f32> {
    (0..n as u64)
        .map(|i| {
            let mut z = seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(stream.wrapping_mul(0xbf58_476d_1ce4_e5b9))
                .wrapping_add(i.wrapping_mul(0x94d0_49bb_1331_11eb));
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f32 / (1u64 << 53) as f32 * std::f32::consts::TAU
        })
        .collect()
}

/// Held-out evaluation: the test RNN runs one step at a time over `steps` steps of 20 unseen
/// sequences, carrying its LSTM state; returns the mean squared error and, for sequence 0, the
/// targets and predictions.
fn evaluate(
    test: &mut SeedRnn,
    task: &Task,
    held_out: &[f32],
    steps: usize,
) -> Result<Eval, TrainError> {
    let (xs, ys) = task.window(held_out, 0, steps);
    let batch = held_out.len();
    test.set_state(&LstmState::zeros(batch, TRAIN_CONFIG.cell_size))?;
    let mut sq = 0.0f64;
    let mut target = Vec::with_capacity(steps);
    let mut pred = Vec::with_capacity(steps);
    for t in 0..steps {
        let x = xs.slice(s![.., t..t + 1, ..]);
        let p = test.forward(x, InitialState::Carried)?;
        for b in 0..batch {
            for k in 0..2 {
                sq += f64::from((p[[b, k]] - ys[[b, t, k]]).powi(2));
            }
        }
        target.push([ys[[0, t, 0]], ys[[0, t, 1]]]);
        pred.push([p[[0, 0]], p[[0, 1]]]);
    }
    Ok(Eval {
        mse: sq / (steps * batch * 2) as f64,
        target,
        pred,
    })
}

struct Eval {
    mse: f64,
    target: Vec<[f32; 2]>,
    pred: Vec<[f32; 2]>,
}

/// Trains on consecutive 20-step windows of 20 streams, carrying the LSTM state from one
/// window to the next (truncated backpropagation through time); every 25 windows the streams
/// are replaced by new ones and the state starts from zeros again.
fn train(
    train: &mut SeedRnn,
    task: &Task,
    seed: u64,
    steps: usize,
) -> Result<Vec<f32>, TrainError> {
    const WINDOWS_PER_STREAM: usize = 25;
    let t = TRAIN_CONFIG.time_steps;
    let report_every = (steps / 10).max(1);
    let bar = ProgressBar::new(steps as u64).with_style(
        ProgressStyle::with_template("  training {bar:40} {pos}/{len} steps  loss {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut losses = Vec::with_capacity(steps);
    let mut streams = Vec::new();
    for step in 0..steps {
        let window = step % WINDOWS_PER_STREAM;
        if window == 0 {
            streams = phases(seed, 1 + (step / WINDOWS_PER_STREAM) as u64, 20);
        }
        let (xs, ys) = task.window(&streams, (window * t) as i64, t);
        let init = if window == 0 {
            InitialState::Zeros
        } else {
            InitialState::Carried
        };
        let loss = train.train_step(xs.view(), ys.view(), init)?;
        losses.push(loss);
        bar.set_message(format!("{loss:.4}"));
        bar.inc(1);
        if (step + 1) % report_every == 0 {
            bar.println(format!("  step {:>5}  loss {loss:.5}", step + 1));
        }
    }
    bar.finish_and_clear();
    Ok(losses)
}

/// Whether every variable of `test` (parameters and Adam slots) is `train`'s storage.
fn check_sharing(train: &SeedRnn, test: &SeedRnn) -> (usize, usize, usize, usize) {
    let (a, b) = (train.params().variables(), test.params().variables());
    let params = a
        .iter()
        .zip(&b)
        .filter(|((_, x), (_, y))| x.ptr_eq(y))
        .count();
    let mut slots = 0;
    let mut slot_total = 0;
    for (_, var) in &a {
        if let (Some((m1, v1)), Some((m2, v2))) =
            (train.optimizer().slots(var), test.optimizer().slots(var))
        {
            slot_total += 2;
            slots += usize::from(m1.ptr_eq(m2)) + usize::from(v1.ptr_eq(v2));
        }
    }
    (params, a.len(), slots, slot_total)
}

/// A Keras-style summary of the registry: every variable, who holds it, and totals.
fn summary(reg: &Registry, holders: &[(&str, Vec<Variable>)]) -> String {
    let vars = reg.global_variables();
    let width = vars
        .iter()
        .map(|v| v.name().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let header = format!(
        "{:<width$}  {:<9} {:<8} {:>7}  {:<9}  held by",
        "name", "shape", "dtype", "params", "trainable"
    );
    out.push_str(&header);
    out.push('\n');
    out.push_str(&"─".repeat(header.chars().count() + 16));
    out.push('\n');
    let (mut total, mut trainable) = (0, 0);
    for v in &vars {
        let held: Vec<&str> = holders
            .iter()
            .filter(|(_, vs)| vs.iter().any(|h| h.ptr_eq(v)))
            .map(|(label, _)| *label)
            .collect();
        total += v.numel();
        if v.trainable() {
            trainable += v.numel();
        }
        out.push_str(&format!(
            "{:<width$}  {:<9} {:<8} {:>7}  {:<9}  {} ({})\n",
            v.name(),
            format!("{:?}", v.shape()),
            v.dtype(),
            v.numel(),
            if v.trainable() { "yes" } else { "no" },
            held.len(),
            held.join(", "),
        ));
    }
    out.push_str(&format!(
        "{} variables; total params: {total}; trainable params: {trainable}; non-trainable \
         params: {}\n",
        vars.len(),
        total - trainable
    ));
    out
}

/// The plots' font: DejaVu Sans, embedded at build time and drawn by plotters' pure-Rust
/// `ab_glyph` rasterizer, so plotting needs no system font library.
const FONT: &str = "sans-serif";

fn register_font() -> Result<(), &'static str> {
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the embedded DejaVu Sans font did not parse")
}

fn plot_prediction(path: &Path, before: &Eval, after: &Eval) -> PlotResult {
    let root = BitMapBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 1));
    for (k, panel) in panels.iter().enumerate() {
        let n = after.target.len();
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("held-out sequence 0, output {k}: target vs test-RNN prediction"),
                (FONT, 18),
            )
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(0..n, -0.05f32..1.0f32)?;
        chart.configure_mesh().x_desc("time step").draw()?;
        let series = |e: &Eval| -> Vec<(usize, f32)> {
            e.pred.iter().enumerate().map(|(t, p)| (t, p[k])).collect()
        };
        let target: Vec<(usize, f32)> = after
            .target
            .iter()
            .enumerate()
            .map(|(t, y)| (t, y[k]))
            .collect();
        chart
            .draw_series(LineSeries::new(target, BLACK.stroke_width(2)))?
            .label("target")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK));
        let grey = RGBColor(170, 170, 170);
        chart
            .draw_series(LineSeries::new(series(before), grey))?
            .label("before training")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], grey));
        chart
            .draw_series(LineSeries::new(series(after), BLUE.stroke_width(2)))?
            .label("after training (shared weights)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn plot_loss(path: &Path, losses: &[f32]) -> PlotResult {
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let finite = losses.iter().copied().filter(|l| l.is_finite() && *l > 0.0);
    let top = finite.clone().fold(1e-6f32, f32::max) * 1.5;
    let bottom = finite.fold(top, f32::min) / 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption("train RNN loss (sum of the cost vector)", (FONT, 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0..losses.len(), (bottom..top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("Adam step")
        .y_desc("loss (log scale)")
        .draw()?;
    chart.draw_series(LineSeries::new(
        losses.iter().enumerate().map(|(i, &l)| (i, l.max(bottom))),
        RED,
    ))?;
    root.present()?;
    Ok(())
}

/// `--bench`: medians of individually timed iterations, after a warm-up, on this thread.
fn bench(seed: u64) -> Result<(), TrainError> {
    let task = Task::new();
    let reg = Registry::with_seed(seed);
    let (mut train, mut test) = build_shared(&reg)?;
    let (xs, ys) = task.window(&phases(seed, 1, 20), 0, TRAIN_CONFIG.time_steps);
    let train_step = timed::<TrainError>(500, 50, &mut || {
        train.train_step(xs.view(), ys.view(), InitialState::Zeros)?;
        Ok(())
    })?;
    let x1 = xs.slice(s![.., 0..1, ..]).to_owned();
    let test_step = timed::<TrainError>(5000, 500, &mut || {
        test.forward(x1.view(), InitialState::Carried)?;
        Ok(())
    })?;
    let build = timed::<TrainError>(300, 20, &mut || {
        let reg = Registry::with_seed(seed);
        build_shared(&reg)?;
        Ok(())
    })?;
    // Heap allocations of 100 steady train and test steps (after the timed ones).
    let (steps, allocated) = alloc::measure(|| -> Result<(), TrainError> {
        for _ in 0..100 {
            train.train_step(xs.view(), ys.view(), InitialState::Zeros)?;
            test.forward(x1.view(), InitialState::Carried)?;
        }
        Ok(())
    });
    steps?;
    println!("train_step_ms={:.4}", train_step * 1e3);
    println!("test_step_us={:.2}", test_step * 1e6);
    println!("build_us={:.1}", build * 1e6);
    println!(
        "allocations_in_100_steps={} ({} bytes, the largest {})",
        allocated.calls, allocated.bytes, allocated.largest
    );
    Ok(())
}

fn names_demo() -> Result<(), TrainError> {
    println!("1. Two ways to build the train and the test RNN");
    let reg = Registry::new();
    let wrong = |scope: &str, config: SeedRnnConfig| {
        reg.variable_scope(scope).with(|_| build(&reg, config))
    };
    let train = wrong("train_rnn", TRAIN_CONFIG)?;
    let test = wrong("test_rnn", TRAIN_CONFIG.for_test())?;
    println!("   wrong way (two scopes, two parameter sets):");
    println!("   {}", train.params().input_layer_weights.tensor_name());
    println!("   {}", test.params().input_layer_weights.tensor_name());
    let reg = Registry::new();
    let (train, test) = build_shared(&reg)?;
    println!("   right way (one scope, reuse_variables() between them):");
    println!("   {}", train.params().input_layer_weights.tensor_name());
    println!("   {}", test.params().input_layer_weights.tensor_name());
    Ok(())
}

/// `--restore`: reloads every variable (weights, Adam slots, beta powers) from `path`.
/// Checkpoint errors convert into `TrainError` with `?`.
fn restore(reg: &Registry, path: &Path) -> Result<usize, TrainError> {
    let ckpt = SafetensorsCheckpoint::open(path)?;
    let report = Restore::new(reg).restore(&ckpt)?;
    Ok(report.matched.len())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.bench {
        bench(args.seed).map_err(RunError::from)
    } else {
        run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), RunError> {
    let started = Instant::now();
    names_demo()?;

    let reg = Registry::with_seed(args.seed);
    let (mut train_rnn, mut test_rnn) = build_shared(&reg)?;
    std::fs::create_dir_all(&args.out).map_err(RunError::OutDir)?;
    let checkpoint = args.out.join("rnn.safetensors");
    if args.restore {
        let restored = restore(&reg, &checkpoint)?;
        println!(
            "   restored {restored} variables from {} (weights, Adam slots and beta powers)",
            checkpoint.display()
        );
    }

    let task = Task::new();
    let held_out = phases(args.seed, 0, TRAIN_CONFIG.batch_size);
    let eval_steps = 120;
    let before = evaluate(&mut test_rnn, &task, &held_out, eval_steps)?;

    println!(
        "\n2. Training the train RNN: Adam, {} steps of 20 sequences x 20 steps x 10 inputs",
        args.steps
    );
    println!("   task: 10 sinusoid channels; targets y0(t) = 0.5 + 0.4 tanh(x0(t-1) + x3(t-3)),");
    println!("         y1(t) = 0.5 + 0.35 x2(t) x5(t-2), so the LSTM must remember the last steps");
    let train_started = Instant::now();
    let losses = train(&mut train_rnn, &task, args.seed, args.steps)?;
    let first = losses.first().copied().unwrap_or(f32::NAN);
    let last = losses.last().copied().unwrap_or(f32::NAN);
    println!(
        "   loss {first:.4} -> {last:.4} in {:.2} s",
        train_started.elapsed().as_secs_f64()
    );

    println!("\n3. The test RNN (1 time step, LSTM state carried) on 20 held-out sequences");
    let after = evaluate(&mut test_rnn, &task, &held_out, eval_steps)?;
    // With --restore the "before" model is the restored one, already trained.
    let before_label = if args.restore {
        "before this run (restored)"
    } else {
        "before training"
    };
    let change = if after.mse <= before.mse {
        format!("{:.1}x lower", before.mse / after.mse)
    } else {
        format!("{:.1}x higher", after.mse / before.mse)
    };
    println!(
        "   mean squared error over {eval_steps} steps: {before_label} {:.5}, after {:.5} \
         ({change}; the test RNN was never trained itself)",
        before.mse, after.mse
    );
    let (params, n_params, slots, n_slots) = check_sharing(&train_rnn, &test_rnn);
    println!(
        "   every test-RNN variable is the train RNN's storage: {params}/{n_params} parameters, \
         {slots}/{n_slots} Adam slots"
    );
    if params != n_params || slots != n_slots {
        return Err(RunError::NotShared);
    }

    println!("\n4. The registry");
    let own = |rnn: &SeedRnn| rnn.optimizer().own_variables();
    let vars = |rnn: &SeedRnn| {
        rnn.params()
            .variables()
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    };
    let holders = [
        ("train RNN", vars(&train_rnn)),
        ("test RNN", vars(&test_rnn)),
        ("train Adam", own(&train_rnn)),
        ("test Adam", own(&test_rnn)),
    ];
    print!("{}", summary(&reg, &holders));

    println!("\n5. Outputs");
    let prediction = args.out.join("prediction.png");
    let loss_curve = args.out.join("loss.png");
    match register_font() {
        Ok(()) => {
            for (path, result) in [
                (&prediction, plot_prediction(&prediction, &before, &after)),
                (&loss_curve, plot_loss(&loss_curve, &losses)),
            ] {
                match result {
                    Ok(()) => println!("   plot: {}", path.display()),
                    Err(e) => println!("   plot {} not written: {e}", path.display()),
                }
            }
        }
        Err(e) => println!("   plots not written: {e}"),
    }
    save_safetensors(&checkpoint, &reg).map_err(TrainError::from)?;
    println!(
        "   checkpoint: {} (resume with --restore)",
        checkpoint.display()
    );
    println!("   done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_non_negative() {
        let task = Task::new();
        for phase in phases(3, 0, 50) {
            for t in 0..200 {
                let y = task.y(phase, t);
                assert!(y.iter().all(|v| (0.0..=1.0).contains(v)));
            }
        }
    }

    #[test]
    fn phases_are_reproducible_and_in_range() {
        assert_eq!(phases(1, 2, 5), phases(1, 2, 5));
        assert_ne!(phases(1, 2, 5), phases(1, 3, 5));
        assert!(phases(7, 0, 100)
            .iter()
            .all(|p| (0.0..std::f32::consts::TAU).contains(p)));
    }

    #[test]
    fn the_window_matches_the_formula() {
        let task = Task::new();
        let (xs, ys) = task.window(&[0.5], 3, 4);
        assert_eq!(xs.dim(), (1, 4, 10));
        assert_eq!(ys[[0, 2, 0]], task.y(0.5, 5)[0]);
        assert_eq!(xs[[0, 1, 7]], task.x(0.5, 7, 4));
    }
}
