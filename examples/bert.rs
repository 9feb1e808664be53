//! BERT (google-research/bert) ported by name: the classifier (or, with `--pretraining`, the
//! pretraining model) declared once with `model!` in `scope::models::bert`, restored
//! strictly from the TF1 checkpoint TensorFlow wrote, run, and fine-tuned with BERT's own
//! optimizer, beside TensorFlow's recorded numbers.
//!
//! ```text
//! cargo run --release --example bert                    # the classifier fixture
//! cargo run --release --example bert -- --pretraining   # masked LM + next sentence
//! cargo run --release --example bert -- --fixture DIR   # another fixture directory
//! cargo run --release --example bert -- --bench         # BERT-Tiny timings, every core
//! cargo run --release --example bert -- --bench --base --threads 1   # BERT-Base, one thread
//! ```

#[path = "support/timing.rs"]
mod timing;
// The test suite's per-thread counting allocator, so `--bench` can count a step's allocations.
#[path = "../tests/it/alloc.rs"]
mod alloc;
// The test suite's fixture reader and `{shape, data}` decoder.
#[path = "../tests/support/mod.rs"]
mod test_support;

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use timing::timed;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array1, Array2};
use scope::checkpoint::{Restore, TfCheckpoint};
use scope::models::bert::{
    bert_optimizer, BertClassifier, BertConfig, BertInputs, BertPretraining, PretrainingLabels,
};
use scope::optim::Optimizer;
use scope::tape::{NodeId, Tape};
use scope::{Model, Registry, TrainError, Variable};
use serde_json::Value;

use test_support::{tensor, Fixture};

type AnyResult<T> = Result<T, Box<dyn Error>>;

#[derive(Parser, Debug)]
#[command(about = "BERT from TF1 checkpoints: restore by name, compare with TF, fine-tune")]
struct Args {
    /// Run the pretraining fixture (masked LM + next sentence) instead of the classifier.
    #[arg(long)]
    pretraining: bool,
    /// A fixture directory (fixture.json, model.ckpt.*) instead of the vendored one.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Fine-tuning steps (default: the fixture's num_train_steps, the whole schedule).
    #[arg(long)]
    steps: Option<usize>,
    /// Time BERT-Tiny (2 layers, hidden 128, vocab 30522, batch 8 x 128) instead.
    #[arg(long)]
    bench: bool,
    /// With `--bench`: BERT-Base (12 layers, hidden 768, 12 heads, intermediate 3072) instead.
    #[arg(long)]
    base: bool,
    /// Threads for `--bench` (default: every core, or `SCOPE_NUM_THREADS`).
    #[arg(long)]
    threads: Option<usize>,
    /// Timed iterations of `--bench` (default 20 forward and 10 train steps for BERT-Tiny,
    /// 3 and 2 for BERT-Base).
    #[arg(long)]
    iters: Option<usize>,
}

fn main() -> AnyResult<()> {
    let args = Args::parse();
    if args.bench {
        return bench(args.base, args.threads, args.iters);
    }
    let dir = args.fixture.clone().unwrap_or_else(|| {
        let task = if args.pretraining {
            "pretraining"
        } else {
            "classifier"
        };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/bert")
            .join(task)
    });
    run(&dir, args.steps)
}

/// A fixture's model and what it is fed.
enum Task {
    Classifier(BertClassifier, Vec<i64>),
    Pretraining(Box<BertPretraining>, PretrainingLabels),
}

impl Task {
    /// The forward pass: `(loss, pooled_output)`.
    fn forward(
        &self,
        tape: &mut Tape<f32>,
        inputs: &BertInputs,
    ) -> Result<(NodeId, NodeId), TrainError> {
        Ok(match self {
            Task::Classifier(m, labels) => {
                let out = m.forward(tape, inputs, labels)?;
                (out.loss, out.bert.pooled_output)
            }
            Task::Pretraining(m, labels) => {
                let out = m.forward(tape, inputs, labels)?;
                (out.loss, out.bert.pooled_output)
            }
        })
    }
}

fn matrix(v: &Value) -> AnyResult<Array2<i64>> {
    Ok(tensor::array_nd(v)?)
}

fn ints(v: &Value) -> AnyResult<Vec<i64>> {
    Ok(tensor::data(v)?)
}

fn floats(v: &Value) -> AnyResult<Vec<f64>> {
    Ok(tensor::data(v)?)
}

fn run(dir: &Path, steps: Option<usize>) -> AnyResult<()> {
    let fx = Fixture::load(dir)?;
    let spec = &fx["spec"];
    let cfg = BertConfig::from_json(&spec["config"].to_string())?;
    let inp = &fx["inputs"];
    let inputs = BertInputs::new(
        matrix(&inp["input_ids"])?,
        matrix(&inp["input_mask"])?,
        matrix(&inp["token_type_ids"])?,
    )?;
    let (batch, seq) = inputs.dims();
    println!(
        "BERT {} ({}): vocab {}, hidden {}, {} layers, {} heads, intermediate {}; batch {batch} x \
         {seq} tokens",
        fx["task"].as_str().unwrap_or("?"),
        dir.display(),
        cfg.vocab_size,
        cfg.hidden_size,
        cfg.num_hidden_layers,
        cfg.num_attention_heads,
        cfg.intermediate_size
    );

    // 1. Build the model, its head and BERT's optimizer, at the root, as TF's scripts do.
    let reg = Registry::new();
    let task = match fx["task"].as_str() {
        Some("pretraining") => Task::Pretraining(
            Box::new(BertPretraining::build_here(&reg, (cfg,))?),
            PretrainingLabels {
                masked_lm_positions: matrix(&inp["masked_lm_positions"])?,
                masked_lm_ids: matrix(&inp["masked_lm_ids"])?,
                masked_lm_weights: tensor::array_nd(&inp["masked_lm_weights"])?,
                next_sentence_labels: Array1::from(ints(&inp["next_sentence_labels"])?),
            },
        ),
        _ => {
            let labels = spec["num_labels"].as_u64().ok_or("spec.num_labels")? as usize;
            Task::Classifier(
                BertClassifier::build_here(&reg, (cfg, labels))?,
                ints(&inp["labels"])?,
            )
        }
    };
    let num_train_steps = spec["num_train_steps"].as_u64().ok_or("num_train_steps")?;
    let mut opt = bert_optimizer(
        &reg,
        spec["init_lr"].as_f64().ok_or("init_lr")? as f32,
        num_train_steps,
        spec["num_warmup_steps"]
            .as_u64()
            .ok_or("num_warmup_steps")?,
    )?;
    println!("\n1. The variables, folded by layer");
    print_tree(&reg.global_variables());

    // 2. Restore every variable from TF's checkpoint, strictly by name.
    let ckpt = TfCheckpoint::open(dir.join("model.ckpt"))?;
    let report = Restore::new(&reg).restore(&ckpt)?;
    println!(
        "\n2. Restored {} variables from {} by name (strict: nothing missing, nothing left \
         over, every shape and dtype equal)",
        report.matched.len(),
        dir.join("model.ckpt").display()
    );

    // 3. The forward pass against TF's.
    let mut tape = Tape::<f32>::new();
    let start = Instant::now();
    let (loss, pooled) = task.forward(&mut tape, &inputs)?;
    let took = start.elapsed();
    let want = floats(&fx["outputs"]["pooled_output"])?;
    let got = tape.value(pooled)?;
    let diff = got
        .iter()
        .zip(&want)
        .fold(0.0f64, |m, (&g, &w)| m.max((f64::from(g) - w).abs()));
    let tf_loss = floats(&fx["outputs"]["loss"])?[0];
    println!(
        "\n3. Forward pass ({:.2} ms): pooled output {:?}, max |scope - TF| = {diff:.2e}; loss \
         {:.6} (TF {tf_loss:.6})",
        took.as_secs_f64() * 1e3,
        got.shape(),
        tape.value(loss)?.sum()
    );

    // 4. Fine-tune with BERT's optimizer, beside TF's recorded losses.
    // TF's loss before each recorded step, and after the last (= before the next).
    let mut tf_losses: Vec<f64> = fx["train"]["losses_before_each_step"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let recorded = tf_losses.len();
    tf_losses.extend(fx["train"]["loss_after"].as_f64());
    let steps = steps.unwrap_or(num_train_steps as usize);
    let warmup = opt.config().num_warmup_steps;
    println!(
        "\n4. Fine-tuning {steps} steps (AdamWeightDecay, {}linear decay to 0 at step \
         {num_train_steps}, clipped at global norm 1.0); TF recorded {recorded} steps",
        if warmup > 0 {
            format!("{warmup} warmup steps, ")
        } else {
            String::new()
        }
    );
    let bar = ProgressBar::new(steps as u64).with_style(
        ProgressStyle::with_template("  {bar:40} {pos}/{len} steps  loss {msg}")
            .map_err(|e| e.to_string())?,
    );
    for k in 0..steps {
        tape.clear();
        let lr = opt.next_learning_rate()?;
        let (loss, _) = task.forward(&mut tape, &inputs)?;
        let value = opt.minimize(&tape, loss)?;
        let tf = tf_losses
            .get(k)
            .map(|t| format!("TF {t:.6}  |diff| {:.1e}", (f64::from(value) - t).abs()))
            .unwrap_or_else(|| "TF -".into());
        let line = format!("  step {k:>3}  lr {lr:.2e}  loss {value:.6}  {tf}");
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
        bar.set_message(format!("{value:.4}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    tape.clear();
    let (loss, _) = task.forward(&mut tape, &inputs)?;
    let tf_after = fx["train"]["loss_after"].as_f64();
    let after_note = match (tf_after, recorded == steps) {
        (Some(t), true) => format!(" (TF {t:.6})"),
        _ => String::new(),
    };
    println!(
        "  loss after {steps} steps: {:.6}{after_note}; global_step = {}",
        tape.value(loss)?.sum(),
        opt.step()?
    );
    Ok(())
}

/// `bert/encoder/layer_3/attention/...` -> (`bert/encoder/layer_{i}`, 3, rest).
fn layer_of(name: &str) -> Option<(String, usize, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    let k = parts.iter().position(|p| {
        p.strip_prefix("layer_")
            .is_some_and(|n| n.parse::<usize>().is_ok())
    })?;
    let index = parts[k]["layer_".len()..].parse().ok()?;
    Some((
        format!("{}/layer_{{i}}", parts[..k].join("/")),
        index,
        parts[k + 1..].join("/"),
    ))
}

fn group(var: &Variable) -> &'static str {
    if var.name().ends_with("/adam_m") || var.name().ends_with("/adam_v") {
        "optimizer slots"
    } else if !var.trainable() {
        "optimizer state"
    } else {
        "model"
    }
}

/// The variables as a tree: every repeated `layer_{i}` shown once, where its first layer
/// is, with its count.
fn print_tree(vars: &[Variable]) {
    let model: Vec<&Variable> = vars.iter().filter(|v| group(v) == "model").collect();
    // Per repeated prefix: its layer indices, and the first layer's variables.
    let mut layers: BTreeMap<String, (Vec<usize>, Vec<&Variable>)> = BTreeMap::new();
    for v in &model {
        if let Some((prefix, index, _)) = layer_of(v.name()) {
            let entry = layers.entry(prefix).or_default();
            if !entry.0.contains(&index) {
                entry.0.push(index);
            }
            if index == 0 {
                entry.1.push(v);
            }
        }
    }
    println!("  {:<58} {:>12} {:>10}", "name", "shape", "params");
    let row = |indent: &str, name: &str, v: &Variable| {
        println!(
            "  {indent}{:<w$} {:>12} {:>10}",
            name,
            format!("{:?}", v.shape()),
            v.numel(),
            w = 58 - indent.len()
        );
    };
    let mut shown = std::collections::HashSet::new();
    for v in &model {
        let Some((prefix, _, _)) = layer_of(v.name()) else {
            row("", v.name(), v);
            continue;
        };
        if !shown.insert(prefix.clone()) {
            continue;
        }
        let (indices, first) = &layers[&prefix];
        let per_layer: usize = first.iter().map(|v| v.numel()).sum();
        println!(
            "  {prefix}  (i = 0..{}: {} layers x {} variables, {} x {per_layer} = {} params)",
            indices.len() - 1,
            indices.len(),
            first.len(),
            indices.len(),
            indices.len() * per_layer
        );
        for v in first {
            let rest = layer_of(v.name()).map(|(_, _, r)| r).unwrap_or_default();
            row("    ", &rest, v);
        }
    }
    let slots: Vec<&Variable> = vars
        .iter()
        .filter(|v| group(v) == "optimizer slots")
        .collect();
    let state: Vec<&Variable> = vars
        .iter()
        .filter(|v| group(v) == "optimizer state")
        .collect();
    println!(
        "  optimizer: {} ({}), then {} slots <variable>/adam_m, <variable>/adam_v ({} floats)",
        state
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", "),
        state
            .iter()
            .map(|v| v.dtype().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        slots.len(),
        slots.iter().map(|v| v.numel()).sum::<usize>()
    );
    println!(
        "  {} variables, {} trainable parameters",
        vars.len(),
        model.iter().map(|v| v.numel()).sum::<usize>()
    );
}

/// BERT-Tiny (or, with `base`, BERT-Base) on random weights: build, forward, and a training
/// step, each timed as the median after warm-up, on `threads` threads (default every core),
/// with the GFLOP/s each achieved beside the machine's measured peak.
fn bench(base: bool, threads: Option<usize>, iters: Option<usize>) -> AnyResult<()> {
    let threads = timing::use_threads(threads);
    timing::print_peak(threads);
    let (cfg, name) = if base {
        (BertConfig::tiny(30522, 768, 12, 12, 3072, 512), "bert_base")
    } else {
        (BertConfig::tiny(30522, 128, 2, 2, 512, 512), "bert")
    };
    let cfg = BertConfig {
        type_vocab_size: 2,
        ..cfg
    };
    let (fwd_iters, train_iters, warm) = match (base, iters) {
        (_, Some(n)) => (n.max(1), n.max(1), 1),
        (true, None) => (3, 2, 1),
        (false, None) => (20, 10, 3),
    };
    let (batch, seq, labels) = (8, 128, 2);
    let build = || -> AnyResult<_> {
        let reg = Registry::with_seed(1);
        let model = BertClassifier::build_here(&reg, (cfg, labels))?;
        let opt = bert_optimizer(&reg, 1e-4, 1000, 100)?;
        Ok((reg, model, opt))
    };
    let build_ms =
        timed::<Box<dyn Error>>(if base { 1 } else { 5 }, 1, &mut || build().map(|_| ()))?;
    let (_reg, model, mut opt) = build()?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n) as i64
    };
    let ids = Array2::from_shape_fn((batch, seq), |_| next(cfg.vocab_size as u64));
    let types = Array2::from_shape_fn((batch, seq), |(_, t)| i64::from(t >= seq / 2));
    let mask = Array2::from_shape_fn((batch, seq), |(b, t)| i64::from(t < seq - 8 * b));
    let inputs = BertInputs::new(ids, mask, types)?;
    let y: Vec<i64> = (0..batch).map(|b| (b % labels) as i64).collect();
    let mut tape = Tape::<f32>::new();
    let forward = timed::<Box<dyn Error>>(fwd_iters, warm, &mut || {
        tape.clear();
        model.forward(&mut tape, &inputs, &y)?;
        Ok(())
    })?;
    let mut train_step = || -> AnyResult<()> {
        tape.clear();
        let out = model.forward(&mut tape, &inputs, &y)?;
        opt.minimize(&tape, out.loss)?;
        Ok(())
    };
    let train = timed(train_iters, warm, &mut train_step)?;
    // Multiply-adds of the forward pass: per layer the four [T, H]·[H, H] projections, the
    // two [T, H]·[H, I] ones and the attention's two [S, S]·[S, H/heads] per head; the
    // training step counts three forwards (the backward pass is two products per product).
    let (t, h, i) = (
        (batch * seq) as f64,
        cfg.hidden_size as f64,
        cfg.intermediate_size as f64,
    );
    let layer = 2.0 * t * (4.0 * h * h + 2.0 * h * i) + 4.0 * (batch * seq * seq) as f64 * h;
    let gflop = layer * cfg.num_hidden_layers as f64 / 1e9;
    println!(
        "{name}_forward_ms={:.3} threads={threads} gflops={:.1} ({gflop:.1} GFLOP)",
        forward * 1e3,
        gflop / forward
    );
    println!(
        "{name}_train_step_ms={:.3} threads={threads} gflops={:.1} (3 x {gflop:.1} GFLOP)",
        train * 1e3,
        3.0 * gflop / train
    );
    println!("{name}_build_ms={:.3} threads={threads}", build_ms * 1e3);
    if base {
        return Ok(());
    }
    // Heap allocations of two steady training steps five steps apart: equal when nothing
    // grows with the step count.
    let (first, a) = alloc::measure(&mut train_step);
    first?;
    for _ in 0..4 {
        train_step()?;
    }
    let (last, b) = alloc::measure(&mut train_step);
    last?;
    println!(
        "bert_train_step_allocations={} ({} KB, the largest {} KB; five steps later {} ({} KB)) threads={threads}",
        a.calls,
        a.bytes / 1024,
        a.largest.max(b.largest) / 1024,
        b.calls,
        b.bytes / 1024
    );
    Ok(())
}
