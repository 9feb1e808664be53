//! GPT-2 (openai/gpt-2's `model.py` and `sample.py`) ported by name: declared once with
//! `model!` in `scope::models::gpt2`, built three times over one registry as the repository
//! builds it (training, cached, sampler), restored strictly from the TF1 checkpoint
//! TensorFlow wrote, sampled greedily and fine-tuned with TF1 Adam beside TensorFlow's
//! recorded numbers.
//!
//! ```text
//! cargo run --release --example gpt2                    # the vendored fixture
//! cargo run --release --example gpt2 -- --fixture DIR   # another fixture directory
//! cargo run --release --example gpt2 -- --bench         # GPT-2 small timings, every core
//! cargo run --release --example gpt2 -- --bench --threads 1
//! ```

#[path = "support/timing.rs"]
mod timing;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use scope::checkpoint::{Restore, TfCheckpoint};
use scope::models::gpt2::{gpt2_adam, Gpt2, Gpt2Config, SampleOptions, Start};
use scope::tape::Tape;
use scope::Registry;
use serde_json::Value;
use timing::timed;

type AnyResult<T> = Result<T, Box<dyn Error>>;

#[derive(Parser, Debug)]
#[command(about = "GPT-2 from a TF1 checkpoint: three builds, one set of weights, TF's numbers")]
struct Args {
    /// A fixture directory (hparams.json, fixture.json, model.ckpt.*) instead of the
    /// vendored one.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Time GPT-2 small (12 blocks, n_embd 768, 12 heads, 50257 tokens, n_ctx 1024) on
    /// random weights instead.
    #[arg(long)]
    bench: bool,
    /// Threads for `--bench` (default: every core, or `SCOPE_NUM_THREADS`).
    #[arg(long)]
    threads: Option<usize>,
    /// Timed iterations of `--bench`'s forward pass and training step (default 3; the cached
    /// token runs 10).
    #[arg(long)]
    iters: Option<usize>,
}

fn main() -> AnyResult<()> {
    let args = Args::parse();
    if args.bench {
        return bench(args.threads, args.iters);
    }
    let dir = args
        .fixture
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpt2/small"));
    run(&dir)
}

fn ints(v: &Value) -> AnyResult<Array2<i64>> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .ok_or("shape")?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize).ok_or("extent"))
        .collect::<Result<_, _>>()?;
    let data = v["data"]
        .as_array()
        .ok_or("data")?
        .iter()
        .map(|x| x.as_i64().ok_or("integer"))
        .collect::<Result<_, _>>()?;
    Ok(Array2::from_shape_vec((shape[0], shape[1]), data)?)
}

fn tokens(row: ndarray::ArrayView1<'_, i64>) -> String {
    row.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
}

fn run(dir: &Path) -> AnyResult<()> {
    let cfg = Gpt2Config::from_json(&std::fs::read_to_string(dir.join("hparams.json"))?)?;
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json"))?)?;
    let spec = &fx["spec"];
    println!("GPT-2 from {} ({cfg:?})\n", dir.display());

    // The repository's three builds over one registry, then Adam at the root.
    let reg = Registry::with_seed(1);
    let train = Gpt2::train(&reg, cfg)?;
    let cached = Gpt2::cached(&reg, cfg)?;
    let sampler = Gpt2::sampler(&reg, cfg)?;
    let lr = spec["lr"].as_f64().ok_or("spec.lr")? as f32;
    let mut adam = gpt2_adam(&reg, &train, lr)?;
    let report = Restore::new(&reg).restore(&TfCheckpoint::open(dir.join("model.ckpt"))?)?;
    println!(
        "restored {} of {} variables strictly from model.ckpt",
        report.matched.len(),
        reg.len()
    );

    // Every variable, and which build holds its storage.
    let builds = [
        ("train", &train),
        ("cached", &cached),
        ("sampler", &sampler),
    ];
    let width = reg
        .global_variables()
        .iter()
        .map(|v| v.name().len())
        .max()
        .unwrap_or(4);
    println!(
        "\n{:<width$}  {:<14} {:>7}  train  cached  sampler",
        "variable", "shape", "params"
    );
    let holders: Vec<Vec<scope::Variable>> = builds
        .iter()
        .map(|(_, m)| m.variables().into_iter().map(|(_, v)| v).collect())
        .collect();
    let mut shared = 0;
    for var in train.variables().iter().map(|(_, v)| v) {
        let held: Vec<bool> = holders
            .iter()
            .map(|hs| hs.iter().any(|h| h.ptr_eq(var)))
            .collect();
        shared += usize::from(held.iter().all(|&h| h));
        let mark = |b: bool| if b { "yes" } else { "NO" };
        println!(
            "{:<width$}  {:<14} {:>7}  {:<5}  {:<6}  {}",
            var.name(),
            format!("{:?}", var.shape()),
            var.numel(),
            mark(held[0]),
            mark(held[1]),
            mark(held[2])
        );
    }
    println!(
        "{shared} of {} variables are one storage in all three builds (shares_storage_with: {})",
        train.variables().len(),
        train.shares_storage_with(&cached) && train.shares_storage_with(&sampler)
    );

    // Greedy continuation (top_k = 1), as sample.py's while loop produced it.
    let context = ints(&fx["inputs"]["sample_context"])?;
    let length = spec["sample_length"].as_u64().ok_or("spec.sample_length")? as usize;
    let greedy = |label: &str, want: &Value| -> AnyResult<()> {
        let got = sampler.sample(
            &Start::Context(context.clone()),
            &SampleOptions::greedy(length),
        )?;
        let want = ints(want)?;
        println!("\ngreedy samples {label}:");
        println!("  port       {}", tokens(got.row(0)));
        println!("  TensorFlow {}", tokens(want.row(0)));
        println!(
            "  {}",
            if got == want {
                "identical"
            } else {
                "DIFFERENT"
            }
        );
        Ok(())
    };
    greedy("at the checkpoint's weights", &fx["sampled_tokens"])?;

    // Fine-tuning with TF1 Adam on the language-model loss.
    let batch = ints(&fx["inputs"]["tokens"])?;
    let tf_losses: Vec<f64> = fx["train"]["losses_before_each_step"]
        .as_array()
        .ok_or("train.losses_before_each_step")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let bar = ProgressBar::new(tf_losses.len() as u64).with_style(ProgressStyle::with_template(
        "fine-tuning {bar:30} {pos}/{len} loss {msg}",
    )?);
    let mut tape = Tape::<f32>::new();
    let mut rows = Vec::new();
    for want in &tf_losses {
        let loss = train.train_step(&mut tape, &mut adam, batch.view())?;
        bar.set_message(format!("{loss:.6}"));
        bar.inc(1);
        rows.push((loss, *want));
    }
    bar.finish_and_clear();
    println!("\nstep  loss (port)  loss (TensorFlow)  |diff|");
    for (k, (got, want)) in rows.iter().enumerate() {
        println!(
            "{k:>4}  {got:>11.6}  {want:>17.6}  {:.1e}",
            (f64::from(*got) - want).abs()
        );
    }
    tape.clear();
    let lm = train.lm_loss(&mut tape, batch.view())?;
    let after = tape
        .value(lm.loss)?
        .iter()
        .next()
        .copied()
        .unwrap_or(f32::NAN);
    let want = fx["train"]["loss_after"]
        .as_f64()
        .ok_or("train.loss_after")?;
    println!(
        " end  {after:>11.6}  {want:>17.6}  {:.1e}",
        (f64::from(after) - want).abs()
    );
    greedy("after fine-tuning", &fx["train"]["sampled_tokens_after"])?;
    Ok(())
}

/// GPT-2 small on random weights: build, forward of 1 x 128 tokens on the tape, one new
/// token through the cache after a 128-token context, and an Adam step on 1 x 128; each the
/// median of a few runs after a warm-up, on this one thread (the runtime starts no other).
fn bench(threads: Option<usize>, iters: Option<usize>) -> AnyResult<()> {
    let threads = timing::use_threads(threads);
    timing::print_peak(threads);
    timing::print_peak_bandwidth(threads);
    let iters = iters.unwrap_or(3).max(1);
    let cfg = Gpt2Config::small();
    let seq = 128;
    let start = Instant::now();
    let reg = Registry::with_seed(1);
    let model = Gpt2::train(&reg, cfg)?;
    let build = start.elapsed().as_secs_f64();
    let mut adam = gpt2_adam(&reg, &model, 1e-4)?;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let tokens = Array2::from_shape_fn((1, seq), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % cfg.n_vocab as u64) as i64
    });
    let mut tape = Tape::<f32>::new();
    let forward = timed::<Box<dyn Error>>(iters, 1, &mut || {
        tape.clear();
        model.forward(&mut tape, tokens.view())?;
        Ok(())
    })?;
    let mut cache = model.new_cache(1)?;
    model.step(&mut cache, tokens.view())?;
    let next = Array2::from_elem((1, 1), 464i64);
    let token = timed::<Box<dyn Error>>(10, 2, &mut || {
        cache.truncate(seq);
        model.step(&mut cache, next.view())?;
        Ok(())
    })?;
    let train = timed::<Box<dyn Error>>(iters, 1, &mut || {
        model.train_step(&mut tape, &mut adam, tokens.view())?;
        Ok(())
    })?;
    // Multiply-adds: per block the [T, H]·[H, 3H], [T, H]·[H, H], [T, H]·[H, 4H] and
    // [T, 4H]·[4H, H] products and the attention's two [T, T]·[T, H/heads] per head, then the
    // logits' [T, H]·[H, vocab]; a training step counts three forwards. A cached token reads
    // every weight once (the token embedding twice: its row, then all of it for the logits,
    // counted once) and the cache's keys and values.
    let (t, h, v, l) = (
        seq as f64,
        cfg.n_embd as f64,
        cfg.n_vocab as f64,
        cfg.n_layer as f64,
    );
    let gflop = (l * (2.0 * t * 12.0 * h * h + 4.0 * t * t * h) + 2.0 * t * h * v) / 1e9;
    let weights = v * h + l * (12.0 * h * h + 13.0 * h + 4.0 * h) + 2.0 * h;
    let token_gb = 4.0 * (weights + l * 2.0 * t * h) / 1e9;
    println!(
        "gpt2_forward_ms={:.3} threads={threads} gflops={:.1} ({gflop:.1} GFLOP, 1 x {seq} tokens)",
        forward * 1e3,
        gflop / forward
    );
    println!(
        "gpt2_token_ms={:.3} threads={threads} gbps={:.1} ({token_gb:.3} GB read: weights and the {seq}-token cache)",
        token * 1e3,
        token_gb / token
    );
    println!(
        "gpt2_train_step_ms={:.3} threads={threads} gflops={:.1} (3 x {gflop:.1} GFLOP, Adam)",
        train * 1e3,
        3.0 * gflop / train
    );
    println!("gpt2_build_ms={:.3} threads={threads}", build * 1e3);
    Ok(())
}
