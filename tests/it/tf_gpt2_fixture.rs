//! GPT-2 against TensorFlow's own numbers: openai/gpt-2's `model.py` and `sample.py` run
//! unmodified by TF 2.21 (`tests/data/gpt2/small`, and every directory listed in the env var
//! `SCOPE_TF_GPT2_FIXTURE`, `:`-separated). For each fixture:
//!
//! * the three builds (train, cached, sampler) and Adam create exactly TF's variables: name,
//!   shape, dtype, trainable flag and order; the three share every variable;
//! * a strict restore from `model.ckpt`;
//! * `logits` and `present` fed whole, `prefix_*` and `cached_*` fed in two parts through
//!   the cache (1e-5), the tape's logits and loss (1e-5), every gradient (1e-6);
//! * the greedy samples exactly, before and after training;
//! * the loss before each Adam step and after the last (1e-5), and every variable after the
//!   recorded steps: parameters (1e-5), `Adam` (1e-6), `Adam_1` (1e-8), beta powers (1e-7).
//!
//! Nothing is tied to the vendored hparams: sizes, lengths and steps come from the fixture.

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{s, Array2, ArrayD, IxDyn};
use scope::checkpoint::{CheckpointSource, Restore, TfCheckpoint};
use scope::models::gpt2::{gpt2_adam, Gpt2, Gpt2Config, SampleOptions, Start};
use scope::optim::Adam;
use scope::tape::Tape;
use scope::{Registry, TrainError};
use serde_json::Value;

type AnyResult<T> = Result<T, Box<dyn Error>>;

const OUTPUT_TOL: f64 = 1e-5;
const GRAD_TOL: f64 = 1e-6;
const PARAM_TOL: f64 = 1e-5;
const ADAM_M_TOL: f64 = 1e-6;
const ADAM_V_TOL: f64 = 1e-8;
const POWER_TOL: f64 = 1e-7;

fn vendored() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpt2/small")
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![vendored()];
    if let Some(extra) = std::env::var_os("SCOPE_TF_GPT2_FIXTURE") {
        dirs.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs
}

fn load(dir: &Path) -> AnyResult<(Value, Gpt2Config)> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let fx: Value = serde_json::from_str(&read("fixture.json")?)?;
    let cfg = Gpt2Config::from_json(&read("hparams.json")?)?;
    Ok((fx, cfg))
}

fn shape_of(v: &Value) -> AnyResult<Vec<usize>> {
    v["shape"]
        .as_array()
        .ok_or("tensor without a shape")?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| "bad extent".into())
        })
        .collect()
}

/// A `{"shape", "data"}` tensor, or a bare number as a scalar.
fn floats(v: &Value) -> AnyResult<ArrayD<f64>> {
    if let Some(x) = v.as_f64() {
        return Ok(ArrayD::from_elem(IxDyn(&[]), x));
    }
    let data: Vec<f64> = v["data"]
        .as_array()
        .ok_or("tensor without data")?
        .iter()
        .map(|x| x.as_f64().ok_or("not a number"))
        .collect::<Result<_, _>>()?;
    Ok(ArrayD::from_shape_vec(IxDyn(&shape_of(v)?), data)?)
}

fn ints2(v: &Value) -> AnyResult<Array2<i64>> {
    let data: Vec<i64> = v["data"]
        .as_array()
        .ok_or("tensor without data")?
        .iter()
        .map(|x| x.as_i64().ok_or("not an integer"))
        .collect::<Result<_, _>>()?;
    let shape = shape_of(v)?;
    if shape.len() != 2 {
        return Err(format!("expected a matrix, got shape {shape:?}").into());
    }
    Ok(Array2::from_shape_vec((shape[0], shape[1]), data)?)
}

fn usize_of(v: &Value, what: &str) -> AnyResult<usize> {
    Ok(v.as_u64().ok_or_else(|| format!("{what} missing"))? as usize)
}

#[derive(Default)]
struct Checks {
    passed: usize,
    failed: usize,
    /// Worst error seen per kind of check, to show the margins.
    worst: Vec<(&'static str, f64)>,
}

impl Checks {
    /// `max |got - want| <= tol` over the elements in order, with the same element count
    /// (`[b * s, v]` logits against TF's `[b, s, v]`).
    fn close<'a>(
        &mut self,
        kind: &'static str,
        what: &str,
        got: impl ExactSizeIterator<Item = f64>,
        want: &ArrayD<f64>,
        tol: f64,
    ) {
        if got.len() != want.len() {
            self.fail(&format!(
                "{what}: {} elements, TensorFlow has {:?}",
                got.len(),
                want.shape()
            ));
            return;
        }
        let err = got.zip(want.iter()).fold(0.0f64, |m, (g, &w)| {
            let e = (g - w).abs();
            if e.is_nan() {
                f64::INFINITY
            } else {
                m.max(e)
            }
        });
        match self.worst.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, w)) => *w = w.max(err),
            None => self.worst.push((kind, err)),
        }
        if err <= tol {
            self.passed += 1;
        } else {
            self.fail(&format!("{what}: max |got - want| = {err:.3e} > {tol:.0e}"));
        }
    }

    fn f32s<'a>(
        &mut self,
        kind: &'static str,
        what: &str,
        got: impl IntoIterator<Item = &'a f32, IntoIter: ExactSizeIterator>,
        want: &Value,
        tol: f64,
    ) -> AnyResult<()> {
        let got = got.into_iter().map(|&x| f64::from(x));
        self.close(kind, what, got, &floats(want)?, tol);
        Ok(())
    }

    fn truth(&mut self, what: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.fail(what);
        }
    }

    fn fail(&mut self, what: &str) {
        eprintln!("  MISMATCH {what}");
        self.failed += 1;
    }
}

/// The fixture's graph: the three builds in the recording's order over one registry, then
/// Adam at the root.
struct Built {
    reg: Registry,
    train: Gpt2,
    cached: Gpt2,
    sampler: Gpt2,
    adam: Adam,
}

fn build(cfg: Gpt2Config, lr: f32) -> Result<Built, TrainError> {
    let reg = Registry::with_seed(31);
    let train = Gpt2::train(&reg, cfg)?;
    let cached = Gpt2::cached(&reg, cfg)?;
    let sampler = Gpt2::sampler(&reg, cfg)?;
    let adam = gpt2_adam(&reg, &train, lr)?;
    Ok(Built {
        reg,
        train,
        cached,
        sampler,
        adam,
    })
}

fn check_variables(checks: &mut Checks, b: &Built, fx: &Value) -> AnyResult<()> {
    let want = fx["variables"].as_array().ok_or("variables")?;
    let got = b.reg.global_variables();
    checks.truth(
        &format!(
            "variable count: port {} vs TensorFlow {}",
            got.len(),
            want.len()
        ),
        got.len() == want.len(),
    );
    for (k, w) in want.iter().enumerate() {
        let name = w["name"].as_str().ok_or("variable name")?;
        let Some(v) = got.get(k) else {
            checks.fail(&format!("variable #{k} {name}: the port created none"));
            continue;
        };
        let shape = shape_of(w)?;
        let dtype = w["dtype"].as_str().ok_or("dtype")?;
        let trainable = w["trainable"].as_bool().ok_or("trainable")?;
        let ok = v.name() == name
            && v.shape() == shape.as_slice()
            && v.dtype().to_string() == dtype
            && v.trainable() == trainable;
        checks.truth(
            &format!(
                "variable #{k}: port {} {:?} {} trainable={}, TensorFlow {name} {shape:?} \
                 {dtype} trainable={trainable}",
                v.name(),
                v.shape(),
                v.dtype(),
                v.trainable()
            ),
            ok,
        );
    }
    checks.truth(
        "the cached model shares every variable of the training model",
        b.train.shares_storage_with(&b.cached),
    );
    checks.truth(
        "the sampler shares every variable of the training model",
        b.train.shares_storage_with(&b.sampler),
    );
    Ok(())
}

/// The cache: the batch fed whole, then in two parts through `past`.
fn check_cache(
    checks: &mut Checks,
    model: &Gpt2,
    fx: &Value,
    tokens: &Array2<i64>,
) -> AnyResult<()> {
    let out = &fx["outputs"];
    let (batch, seq) = tokens.dim();
    let mut cache = model.new_cache(batch)?;
    let logits = model.step(&mut cache, tokens.view())?;
    checks.f32s(
        "output",
        "logits (through the cache)",
        &logits,
        &out["logits"],
        OUTPUT_TOL,
    )?;
    let present = cache.present(0..seq)?;
    checks.truth(
        "present has TF's shape",
        present.shape() == shape_of(&out["present"])?.as_slice(),
    );
    checks.f32s("output", "present", &present, &out["present"], OUTPUT_TOL)?;

    let prefix = usize_of(&fx["spec"]["prefix"], "spec.prefix")?;
    let mut cache = model.new_cache(batch)?;
    let first = model.step(&mut cache, tokens.slice(s![.., ..prefix]))?;
    checks.f32s(
        "output",
        "prefix_logits",
        &first,
        &out["prefix_logits"],
        OUTPUT_TOL,
    )?;
    let present = cache.present(0..prefix)?;
    checks.f32s(
        "output",
        "prefix_present",
        &present,
        &out["prefix_present"],
        OUTPUT_TOL,
    )?;
    let rest = model.step(&mut cache, tokens.slice(s![.., prefix..]))?;
    checks.f32s(
        "output",
        "cached_logits",
        &rest,
        &out["cached_logits"],
        OUTPUT_TOL,
    )?;
    let present = cache.present(prefix..seq)?;
    checks.f32s(
        "output",
        "cached_present",
        &present,
        &out["cached_present"],
        OUTPUT_TOL,
    )?;
    Ok(())
}

fn check_gradients(
    checks: &mut Checks,
    b: &Built,
    fx: &Value,
    tokens: &Array2<i64>,
) -> AnyResult<()> {
    let out = &fx["outputs"];
    let mut tape = Tape::<f32>::new();
    let lm = b.train.lm_loss(&mut tape, tokens.view())?;
    checks.f32s(
        "output",
        "logits (tape)",
        tape.value(lm.model.logits)?,
        &out["logits"],
        OUTPUT_TOL,
    )?;
    checks.f32s(
        "loss",
        "loss",
        tape.value(lm.loss)?,
        &out["loss"],
        OUTPUT_TOL,
    )?;
    let grads = tape.backward(lm.loss)?.into_gradients();
    let want = fx["gradients"].as_object().ok_or("gradients")?;
    let trainable = b.reg.trainable_variables();
    checks.truth(
        "a recorded gradient for every trainable variable",
        want.len() == trainable.len(),
    );
    for var in &trainable {
        let name = var.name();
        match (want.get(name), grads.get(var)) {
            (Some(w), Some(g)) => {
                checks.f32s("gradient", &format!("gradient {name}"), g, w, GRAD_TOL)?
            }
            (None, _) => checks.fail(&format!("gradient {name}: not in the fixture")),
            (_, None) => checks.fail(&format!("gradient {name}: the port has none")),
        }
    }
    Ok(())
}

fn check_samples(
    checks: &mut Checks,
    model: &Gpt2,
    fx: &Value,
    want: &Value,
    when: &str,
) -> AnyResult<()> {
    let context = ints2(&fx["inputs"]["sample_context"])?;
    let length = usize_of(&fx["spec"]["sample_length"], "spec.sample_length")?;
    let got = model.sample(&Start::Context(context), &SampleOptions::greedy(length))?;
    let want = ints2(want)?;
    checks.truth(
        &format!("greedy samples {when}: port {got:?}, TensorFlow {want:?}"),
        got == want,
    );
    Ok(())
}

/// Every tensor of the after-N checkpoint against the port's variable of that name.
fn check_trained(checks: &mut Checks, reg: &Registry, ckpt: &TfCheckpoint) -> AnyResult<()> {
    let report = Restore::new(reg).preflight(ckpt)?;
    checks.truth(
        "the after-steps checkpoint holds exactly the port's variables",
        report.is_clean(),
    );
    for info in ckpt.tensors() {
        let name = &info.name;
        let Some(var) = reg.variable(name) else {
            checks.fail(&format!("trained {name}: the port has no such variable"));
            continue;
        };
        let want = ckpt.read_tensor(name)?;
        let (kind, tol) = if name.ends_with("/Adam") {
            ("Adam", ADAM_M_TOL)
        } else if name.ends_with("/Adam_1") {
            ("Adam_1", ADAM_V_TOL)
        } else if name.ends_with("_power") {
            ("beta power", POWER_TOL)
        } else {
            ("trained parameter", PARAM_TOL)
        };
        let w = ArrayD::from_shape_vec(IxDyn(want.shape()), want.to_f64_vec())?;
        let got = var.value().to_f64_vec();
        checks.truth(
            &format!(
                "trained {name}: shape {:?}, TensorFlow {:?}",
                var.shape(),
                want.shape()
            ),
            var.shape() == want.shape(),
        );
        checks.close(kind, &format!("trained {name}"), got.into_iter(), &w, tol);
    }
    Ok(())
}

fn run(dir: &Path, checks: &mut Checks) -> AnyResult<()> {
    let (fx, cfg) = load(dir)?;
    let spec = &fx["spec"];
    checks.truth(
        "hparams.json matches the recording's spec",
        Gpt2Config::from_json(&spec["hparams"].to_string())? == cfg,
    );
    let lr = spec["lr"].as_f64().ok_or("spec.lr")? as f32;
    let mut b = build(cfg, lr)?;
    check_variables(checks, &b, &fx)?;

    let report = Restore::new(&b.reg).restore(&TfCheckpoint::open(dir.join("model.ckpt"))?)?;
    checks.truth(
        "strict restore from model.ckpt",
        report.matched.len() == b.reg.len(),
    );

    let tokens = ints2(&fx["inputs"]["tokens"])?;
    check_cache(checks, &b.cached, &fx, &tokens)?;
    check_gradients(checks, &b, &fx, &tokens)?;
    check_samples(
        checks,
        &b.sampler,
        &fx,
        &fx["sampled_tokens"],
        "at the initial weights",
    )?;

    let train = &fx["train"];
    let losses = train["losses_before_each_step"]
        .as_array()
        .ok_or("train.losses_before_each_step")?;
    checks.truth(
        "one recorded loss per step",
        losses.len() == usize_of(&train["steps"], "train.steps")?,
    );
    let mut tape = Tape::<f32>::new();
    for (k, want) in losses.iter().enumerate() {
        let loss = b.train.train_step(&mut tape, &mut b.adam, tokens.view())?;
        checks.f32s(
            "loss",
            &format!("loss before step {k}"),
            [&loss],
            want,
            OUTPUT_TOL,
        )?;
    }
    tape.clear();
    let lm = b.train.lm_loss(&mut tape, tokens.view())?;
    checks.f32s(
        "loss",
        "loss after the last step",
        tape.value(lm.loss)?,
        &train["loss_after"],
        OUTPUT_TOL,
    )?;
    let after = fx["checkpoints"]["after_steps"]
        .as_str()
        .ok_or("checkpoints.after_steps")?;
    check_trained(checks, &b.reg, &TfCheckpoint::open(dir.join(after))?)?;
    check_samples(
        checks,
        &b.sampler,
        &fx,
        &train["sampled_tokens_after"],
        "after training",
    )?;
    Ok(())
}

#[test]
fn tf_gpt2_fixture() {
    let mut checks = Checks::default();
    for dir in fixture_dirs() {
        let before = (checks.passed, checks.failed);
        if let Err(e) = run(&dir, &mut checks) {
            eprintln!("  ERROR {}: {e}", dir.display());
            checks.failed += 1;
        }
        let _ = writeln!(
            std::io::stdout(),
            "  {}: {} passed, {} failed",
            dir.display(),
            checks.passed - before.0,
            checks.failed - before.1
        );
    }
    for (kind, err) in &checks.worst {
        let _ = writeln!(std::io::stdout(), "  worst {kind} error: {err:.3e}");
    }
    crate::report_checks("tf_gpt2_fixture", checks.passed, checks.failed);
}

/// Hparams unlike the vendored fixture's, for the tests that need no TF numbers.
fn odd_config() -> Gpt2Config {
    Gpt2Config {
        n_vocab: 23,
        n_ctx: 11,
        n_embd: 12,
        n_head: 3,
        n_layer: 3,
    }
}

fn pseudo_tokens(batch: usize, seq: usize, vocab: usize, salt: usize) -> Array2<i64> {
    Array2::from_shape_fn((batch, seq), |(b, t)| {
        ((b * 7 + t * 13 + salt * 5 + 3) % vocab) as i64
    })
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn feeding_in_parts_equals_feeding_whole_and_the_tape() {
    let cfg = odd_config();
    let reg = Registry::with_seed(5);
    let model = Gpt2::sampler(&reg, cfg).expect("first build under AUTO_REUSE");
    let (batch, seq) = (3, cfg.n_ctx);
    let tokens = pseudo_tokens(batch, seq, cfg.n_vocab, 1);
    let mut whole = model.new_cache(batch).unwrap();
    let all = model.step(&mut whole, tokens.view()).unwrap();
    // The tape's forward agrees with the cached one.
    let mut tape = Tape::<f32>::new();
    let out = model.forward(&mut tape, tokens.view()).unwrap();
    let taped = tape.value(out.logits).unwrap();
    assert!(max_diff(taped.as_slice().unwrap(), all.as_slice().unwrap()) < 1e-5);
    // Parts of every length, one token at a time included.
    for cuts in [
        vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        vec![4, 7],
        vec![2, 5, 4],
    ] {
        let mut cache = model.new_cache(batch).unwrap();
        let mut start = 0;
        for len in cuts {
            let part = model
                .step(&mut cache, tokens.slice(s![.., start..start + len]))
                .unwrap();
            let want = all.slice(s![.., start..start + len, ..]).to_owned();
            assert!(max_diff(part.as_slice().unwrap(), want.as_slice().unwrap()) < 1e-5);
            start += len;
        }
        assert_eq!(cache.len(), seq);
        let (a, b) = (
            cache.present(0..seq).unwrap(),
            whole.present(0..seq).unwrap(),
        );
        assert_eq!(a.shape(), &cfg.past_shape(batch, seq));
        assert!(max_diff(a.as_slice().unwrap(), b.as_slice().unwrap()) < 1e-5);
    }
}

#[test]
fn sampling_is_seeded_per_row_and_greedy_ignores_the_seed() {
    let cfg = odd_config();
    let reg = Registry::with_seed(6);
    let model = Gpt2::sampler(&reg, cfg).unwrap();
    let start = Start::Token { token: 0, batch: 4 };
    let opts = SampleOptions {
        top_k: 5,
        top_p: 0.9,
        temperature: 0.7,
        seed: 11,
        ..SampleOptions::new(6)
    };
    let a = model.sample(&start, &opts).unwrap();
    assert_eq!(a.shape(), &[4, 7]);
    assert_eq!(a, model.sample(&start, &opts).unwrap());
    assert!(a.iter().all(|&t| (0..cfg.n_vocab as i64).contains(&t)));
    // Greedy: every row is the argmax continuation, whatever the seed, and a batch of equal
    // contexts gives equal rows.
    let context = Start::Context(pseudo_tokens(1, 3, cfg.n_vocab, 2));
    let g1 = model.sample(&context, &SampleOptions::greedy(5)).unwrap();
    let g2 = model
        .sample(
            &context,
            &SampleOptions {
                seed: 99,
                ..SampleOptions::greedy(5)
            },
        )
        .unwrap();
    assert_eq!(g1, g2);
    let mut cache = model.new_cache(1).unwrap();
    let mut prev = g1.slice(s![.., ..3]).to_owned();
    for t in 3..g1.ncols() {
        let logits = model.step(&mut cache, prev.view()).unwrap();
        let last = logits.slice(s![0, -1, ..]);
        let argmax = last
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |m, (i, &v)| if v > m.1 { (i, v) } else { m },
            )
            .0;
        assert_eq!(g1[[0, t]], argmax as i64);
        prev = g1.slice(s![.., t..t + 1]).to_owned();
    }
}

#[test]
fn bad_input_is_refused_before_any_computation() {
    let cfg = odd_config();
    let reg = Registry::with_seed(8);
    let model = Gpt2::train(&reg, cfg).unwrap();
    let before: Vec<scope::Tensor> = reg.global_variables().iter().map(|v| v.value()).collect();
    let ok = pseudo_tokens(2, 4, cfg.n_vocab, 3);

    // A token outside the vocabulary, named with its flat position: on the tape, through
    // the cache and as a sampling context.
    let mut bad = ok.clone();
    bad[[1, 2]] = cfg.n_vocab as i64;
    let mut tape = Tape::<f32>::new();
    let err = model.lm_loss(&mut tape, bad.view()).unwrap_err();
    assert!(
        matches!(&err, TrainError::OutOfRange { index: 6, .. }),
        "{err}"
    );
    assert!(tape.is_empty());
    let mut cache = model.new_cache(2).unwrap();
    assert!(matches!(
        model.step(&mut cache, bad.view()),
        Err(TrainError::OutOfRange { .. })
    ));
    assert!(cache.is_empty());
    let err = model
        .sample(&Start::Context(bad.clone()), &SampleOptions::new(2))
        .unwrap_err();
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "context"),
        "{err}"
    );
    bad[[0, 0]] = -1;
    assert!(model.step(&mut cache, bad.view()).is_err());

    // Context plus length past n_ctx, on every path.
    let err = model
        .sample(
            &Start::Context(ok.clone()),
            &SampleOptions::new(cfg.n_ctx - 3),
        )
        .unwrap_err();
    assert!(err.to_string().contains("n_ctx"), "{err}");
    assert!(model
        .sample(
            &Start::Context(ok.clone()),
            &SampleOptions::new(cfg.n_ctx - 4)
        )
        .is_ok());
    let long = pseudo_tokens(1, cfg.n_ctx + 1, cfg.n_vocab, 0);
    assert!(matches!(
        model.forward(&mut tape, long.view()),
        Err(TrainError::InputShape { .. })
    ));
    assert!(tape.is_empty());
    model.step(&mut cache, ok.view()).unwrap();
    let rest = pseudo_tokens(2, cfg.n_ctx - 3, cfg.n_vocab, 0);
    let err = model.step(&mut cache, rest.view()).unwrap_err();
    assert!(matches!(err, TrainError::InputShape { .. }), "{err}");
    assert_eq!(cache.len(), 4, "a refused step leaves the cache as it was");

    // A cache of another config, or another batch size.
    let other = Gpt2Config { n_head: 4, ..cfg };
    let mut foreign = scope::models::gpt2::KvCache::new(&other, 2).unwrap();
    let err = model.step(&mut foreign, ok.view()).unwrap_err();
    assert!(
        matches!(&err, TrainError::Config { detail } if detail.contains("cache")),
        "{err}"
    );
    let mut wrong_batch = model.new_cache(3).unwrap();
    assert!(model.step(&mut wrong_batch, ok.view()).is_err());

    // A config that is not the model's: refused when checked, and by the registry when a
    // build would reuse variables of other shapes.
    assert!(model.check_config(&cfg).is_ok());
    assert!(matches!(
        model.check_config(&other),
        Err(TrainError::Config { .. })
    ));
    let wider = Gpt2Config {
        n_embd: cfg.n_embd + cfg.n_head,
        ..cfg
    };
    let err = Gpt2::cached(&reg, wider).unwrap_err();
    assert!(err.to_string().contains("model/wpe"), "{err}");
    assert!(Gpt2::sampler(&reg, wider).is_err());
    let n = reg.len();
    assert!(Gpt2::sampler(&reg, Gpt2Config { n_layer: 2, ..cfg }).is_ok());
    assert_eq!(
        reg.len(),
        n,
        "a shallower sampler reuses and creates nothing"
    );

    // Invalid sampling options and hparams.
    for opts in [
        SampleOptions {
            temperature: 0.0,
            ..SampleOptions::new(1)
        },
        SampleOptions {
            top_p: 0.0,
            ..SampleOptions::new(1)
        },
        SampleOptions {
            top_p: 1.5,
            ..SampleOptions::new(1)
        },
    ] {
        assert!(matches!(
            model.sample(&Start::Context(ok.clone()), &opts),
            Err(TrainError::Config { .. })
        ));
    }
    assert!(Gpt2Config::from_json(
        r#"{"n_vocab": 5, "n_ctx": 4, "n_embd": 6, "n_head": 4, "n_layer": 1}"#
    )
    .is_err());
    assert!(Gpt2Config::from_json(r#"{"n_vocab": 5}"#).is_err());

    let after: Vec<scope::Tensor> = reg.global_variables().iter().map(|v| v.value()).collect();
    assert!(before == after, "a refused call changed a variable");
}
