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
use std::path::Path;

use ndarray::{s, Array2, Ix2};
use scope::checkpoint::Restore;
use scope::models::gpt2::{gpt2_adam, Gpt2, Gpt2Config, SampleOptions, Start};
use scope::optim::Adam;
use scope::tape::Tape;
use scope::{Registry, TrainError};
use serde_json::Value;

use crate::support::{fixture_dirs, tensor, Checks, Fixture, Rule};

type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Logits and `present` (`[b * s, v]` logits against TF's `[b, s, v]`).
const OUTPUT: Rule = Rule::abs("output", 1e-5).by_elements();
const LOSS: Rule = Rule::abs("loss", 1e-5).by_elements();
const GRADIENT: Rule = Rule::abs("gradient", 1e-6);
const PARAM: Rule = Rule::abs("trained parameter", 1e-5);
const ADAM_M: Rule = Rule::abs("Adam", 1e-6);
const ADAM_V: Rule = Rule::abs("Adam_1", 1e-8);
const POWER: Rule = Rule::abs("beta power", 1e-7);

/// The fixture's hparams, from the `hparams.json` beside it.
fn hparams(dir: &Path) -> AnyResult<Gpt2Config> {
    let path = dir.join("hparams.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Gpt2Config::from_json(&text)?)
}

fn ints2(v: &Value) -> AnyResult<Array2<i64>> {
    Ok(tensor::array_nd::<i64, Ix2>(v)?)
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

/// `got` (any dimension) against TF's tensor `want`, element by element.
fn compare<D: ndarray::Dimension>(
    checks: &mut Checks,
    rule: &Rule,
    what: &str,
    got: &ndarray::Array<f32, D>,
    want: &Value,
) -> AnyResult<()> {
    let got = got.view().into_dyn().to_owned();
    checks.compare_arrays(rule, what, &got, &tensor::f64s(want)?);
    Ok(())
}

/// The cache: the batch fed whole, then in two parts through `past`.
fn check_cache(
    checks: &mut Checks,
    model: &Gpt2,
    fx: &Fixture,
    tokens: &Array2<i64>,
) -> AnyResult<()> {
    let out = &fx["outputs"];
    let (batch, seq) = tokens.dim();
    let mut cache = model.new_cache(batch)?;
    let logits = model.step(&mut cache, tokens.view())?;
    compare(
        checks,
        &OUTPUT,
        "logits (through the cache)",
        &logits,
        &out["logits"],
    )?;
    let present = cache.present(0..seq)?;
    checks.truth(
        "present has TF's shape",
        present.shape() == tensor::shape(&out["present"])?.as_slice(),
    );
    compare(checks, &OUTPUT, "present", &present, &out["present"])?;

    let prefix = fx.u64_at("/spec/prefix")? as usize;
    let mut cache = model.new_cache(batch)?;
    let first = model.step(&mut cache, tokens.slice(s![.., ..prefix]))?;
    compare(
        checks,
        &OUTPUT,
        "prefix_logits",
        &first,
        &out["prefix_logits"],
    )?;
    let present = cache.present(0..prefix)?;
    compare(
        checks,
        &OUTPUT,
        "prefix_present",
        &present,
        &out["prefix_present"],
    )?;
    let rest = model.step(&mut cache, tokens.slice(s![.., prefix..]))?;
    compare(
        checks,
        &OUTPUT,
        "cached_logits",
        &rest,
        &out["cached_logits"],
    )?;
    let present = cache.present(prefix..seq)?;
    compare(
        checks,
        &OUTPUT,
        "cached_present",
        &present,
        &out["cached_present"],
    )?;
    Ok(())
}

fn check_gradients(
    checks: &mut Checks,
    b: &Built,
    fx: &Fixture,
    tokens: &Array2<i64>,
) -> AnyResult<()> {
    let out = &fx["outputs"];
    let mut tape = Tape::<f32>::new();
    let lm = b.train.lm_loss(&mut tape, tokens.view())?;
    compare(
        checks,
        &OUTPUT,
        "logits (tape)",
        tape.value(lm.model.logits)?,
        &out["logits"],
    )?;
    compare(checks, &LOSS, "loss", tape.value(lm.loss)?, &out["loss"])?;
    let grads = tape.backward(lm.loss)?.into_gradients();
    checks.gradients(&GRADIENT, &grads, &b.reg, &fx["gradients"]);
    Ok(())
}

fn check_samples(
    checks: &mut Checks,
    model: &Gpt2,
    fx: &Fixture,
    want: &Value,
    when: &str,
) -> AnyResult<()> {
    let context = ints2(&fx["inputs"]["sample_context"])?;
    let length = fx.u64_at("/spec/sample_length")? as usize;
    let got = model.sample(&Start::Context(context), &SampleOptions::greedy(length))?;
    let want = ints2(want)?;
    checks.truth(
        &format!("greedy samples {when}: port {got:?}, TensorFlow {want:?}"),
        got == want,
    );
    Ok(())
}

/// The rule for a variable of the after-steps checkpoint, by its name.
fn trained_rule(name: &str) -> &'static Rule {
    if name.ends_with("/Adam") {
        &ADAM_M
    } else if name.ends_with("/Adam_1") {
        &ADAM_V
    } else if name.ends_with("_power") {
        &POWER
    } else {
        &PARAM
    }
}

fn run(dir: &Path, checks: &mut Checks) -> AnyResult<()> {
    let fx = Fixture::load(dir)?;
    let cfg = hparams(dir)?;
    checks.truth(
        "hparams.json matches the recording's spec",
        Gpt2Config::from_json(&fx["spec"]["hparams"].to_string())? == cfg,
    );
    let mut b = build(cfg, fx.f64_at("/spec/lr")? as f32)?;
    checks.variables(&b.reg, &fx.variables()?);
    checks.truth(
        "the cached model shares every variable of the training model",
        b.train.shares_storage_with(&b.cached),
    );
    checks.truth(
        "the sampler shares every variable of the training model",
        b.train.shares_storage_with(&b.sampler),
    );

    let initial = fx.checkpoint_at("/checkpoints/initial")?;
    let report = Restore::new(&b.reg).restore(&initial)?;
    checks.truth(
        "strict restore from the initial checkpoint",
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
        losses.len() as u64 == fx.u64_at("/train/steps")?,
    );
    let mut tape = Tape::<f32>::new();
    for (k, want) in losses.iter().enumerate() {
        let loss = b.train.train_step(&mut tape, &mut b.adam, tokens.view())?;
        let got = ndarray::arr0(loss);
        compare(checks, &LOSS, &format!("loss before step {k}"), &got, want)?;
    }
    tape.clear();
    let lm = b.train.lm_loss(&mut tape, tokens.view())?;
    compare(
        checks,
        &LOSS,
        "loss after the last step",
        tape.value(lm.loss)?,
        &train["loss_after"],
    )?;
    let after = fx.checkpoint_at("/checkpoints/after_steps")?;
    checks.trained(&b.reg, &after, trained_rule)?;
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
    let mut checks = Checks::new();
    for dir in fixture_dirs(&["gpt2/small"], "SCOPE_TF_GPT2_FIXTURE") {
        checks.fixture(&dir, |checks| run(&dir, checks));
    }
    checks.print_margins();
    checks.finish("tf_gpt2_fixture");
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

#[test]
fn weights_travel_to_hugging_face_names_and_back() {
    use scope::checkpoint::{CheckpointSource, SafetensorsCheckpoint, Save};
    use scope::models::gpt2::presets::{gpt2_hf_to_tf, gpt2_tf_to_hf};

    let cfg = odd_config();
    let reg = Registry::with_seed(9);
    let model = Gpt2::train(&reg, cfg).unwrap();
    let dir = std::env::temp_dir().join(format!("scope-gpt2-hf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let to_hf = gpt2_tf_to_hf();
    Save::new(&reg).mapping(&to_hf).save(&path).unwrap();
    let hf = SafetensorsCheckpoint::open(&path).unwrap();
    let names: Vec<&str> = hf.tensors().iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"h.2.mlp.c_fc.weight") && names.contains(&"wte.weight"));
    let w = hf
        .tensors()
        .iter()
        .find(|t| t.name == "h.0.attn.c_attn.weight")
        .unwrap();
    assert_eq!(w.shape, [cfg.n_embd, 3 * cfg.n_embd]);

    // Back into a fresh model under TF's names: the same logits.
    let other = Registry::with_seed(10);
    let copy = Gpt2::train(&other, cfg).unwrap();
    let to_tf = gpt2_hf_to_tf();
    Restore::new(&other)
        .restore(&to_tf.view(&hf).unwrap())
        .unwrap();
    let tokens = pseudo_tokens(2, 5, cfg.n_vocab, 4);
    let (mut a, mut b) = (model.new_cache(2).unwrap(), copy.new_cache(2).unwrap());
    let (la, lb) = (
        model.step(&mut a, tokens.view()).unwrap(),
        copy.step(&mut b, tokens.view()).unwrap(),
    );
    assert_eq!(la, lb);
    std::fs::remove_dir_all(&dir).ok();
}
