//! BERT against TensorFlow's own numbers: google-research/bert run unmodified by TF 2.21
//! (`tests/data/bert/{classifier,pretraining}`, and every directory listed in the env var
//! `SCOPE_TF_BERT_FIXTURE`, `:`-separated). For each fixture:
//!
//! * every variable the port creates (model, head, optimizer): name, shape, dtype, trainable
//!   flag and creation order, against the fixture's `variables`;
//! * a strict restore from `model.ckpt` with the TF1 checkpoint reader;
//! * every forward output (1e-5), every gradient (1e-6) and the global norm;
//! * the loss before each recorded step and after the last (1e-5);
//! * every variable of the after-N-steps checkpoint: parameters (1e-5), `adam_m` (1e-6),
//!   `adam_v` (1e-8), `global_step` (exact).
//!
//! Nothing is tied to the vendored configs: sizes, heads, label counts and schedules all
//! come from the fixture.

use std::error::Error;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use scope::bert::{
    bert_optimizer, BertClassifier, BertConfig, BertInputs, BertOutputs, BertPretraining,
    PretrainingLabels,
};
use scope::checkpoint::{CheckpointError, Restore, TfCheckpoint};
use scope::optim::{AdamWeightDecay, Optimizer};
use scope::tape::{NodeId, Tape};
use scope::{Model, Registry, TrainError};
use serde_json::Value;

use crate::support::{data_dir, fixture_dirs, tensor, Checks, Fixture, Rule};

type AnyResult<T> = Result<T, Box<dyn Error>>;

// One rule per quantity. TF's outputs may be `[b * s, h]` where the port has `[b, s, h]`:
// the elements are what counts, in order.
const OUTPUT: Rule = Rule::abs("output", 1e-5).by_elements();
const GRADIENT: Rule = Rule::abs("gradient", 1e-6).by_elements();
const LOSS: Rule = Rule::abs("loss", 1e-5).by_elements();
const PARAM: Rule = Rule::abs("trained parameter", 1e-5).by_elements();
const ADAM_M: Rule = Rule::abs("adam_m", 1e-6).by_elements();
const ADAM_V: Rule = Rule::abs("adam_v", 1e-8).by_elements();

const VENDORED: [&str; 2] = ["bert/classifier", "bert/pretraining"];
const ENV: &str = "SCOPE_TF_BERT_FIXTURE";

/// A tape node's value against a recorded tensor.
fn check_node<T: scope::tape::Real>(
    checks: &mut Checks,
    rule: &Rule,
    what: &str,
    tape: &Tape<T>,
    node: NodeId,
    want: &Value,
) -> AnyResult<()> {
    let v = tape.value(node)?;
    let got: Vec<f64> = v.iter().map(|x| x.to_f64()).collect();
    checks.compare(rule, what, &got, v.shape(), &tensor::f64s(want)?);
    Ok(())
}

fn ints2(v: &Value) -> AnyResult<Array2<i64>> {
    Ok(tensor::array_nd(v)?)
}

fn ints1(v: &Value) -> AnyResult<Vec<i64>> {
    Ok(tensor::data(v)?)
}

/// The model of a fixture's task, its optimizer, and what it needs to run.
enum Task {
    Classifier {
        model: BertClassifier,
        labels: Vec<i64>,
    },
    Pretraining {
        model: Box<BertPretraining>,
        labels: PretrainingLabels,
    },
}

/// The nodes one forward pass gives, by the fixture's output names.
struct Pass {
    loss: NodeId,
    named: Vec<(String, NodeId)>,
}

fn bert_named(out: &BertOutputs) -> Vec<(String, NodeId)> {
    let mut named = vec![
        ("embedding_output".to_owned(), out.embedding_output),
        ("pooled_output".to_owned(), out.pooled_output),
    ];
    for (i, &node) in out.layer_outputs.iter().enumerate() {
        named.push((format!("layer_{i}_output"), node));
    }
    named
}

impl Task {
    fn forward(
        &self,
        tape: &mut Tape<f32>,
        cfg: &BertConfig,
        inputs: &BertInputs,
    ) -> Result<Pass, TrainError> {
        match self {
            Task::Classifier { model, labels } => {
                let out = model.forward(tape, cfg, inputs, labels)?;
                let mut named = bert_named(&out.bert);
                named.extend([
                    ("logits".to_owned(), out.logits),
                    ("probabilities".to_owned(), out.probabilities),
                    ("per_example_loss".to_owned(), out.per_example_loss),
                    ("loss".to_owned(), out.loss),
                ]);
                Ok(Pass {
                    loss: out.loss,
                    named,
                })
            }
            Task::Pretraining { model, labels } => {
                let out = model.forward(tape, cfg, inputs, labels)?;
                let mut named = bert_named(&out.bert);
                named.extend([
                    ("masked_lm_loss".to_owned(), out.masked_lm_loss),
                    ("masked_lm_log_probs".to_owned(), out.masked_lm_log_probs),
                    ("next_sentence_loss".to_owned(), out.next_sentence_loss),
                    (
                        "next_sentence_log_probs".to_owned(),
                        out.next_sentence_log_probs,
                    ),
                    ("loss".to_owned(), out.loss),
                ]);
                Ok(Pass {
                    loss: out.loss,
                    named,
                })
            }
        }
    }
}

/// Builds the fixture's model and optimizer in a fresh registry, as TF's scripts do.
fn build(fx: &Fixture) -> AnyResult<(Registry, BertConfig, Task, AdamWeightDecay, BertInputs)> {
    let spec = &fx["spec"];
    let cfg = BertConfig::from_json(&spec["config"].to_string())?;
    let inputs_json = &fx["inputs"];
    let inputs = BertInputs::new(
        ints2(&inputs_json["input_ids"])?,
        ints2(&inputs_json["input_mask"])?,
        ints2(&inputs_json["token_type_ids"])?,
    )?;
    let reg = Registry::with_seed(7);
    let task = match fx["task"].as_str() {
        Some("classifier") => {
            let num_labels = fx.u64_at("/spec/num_labels")? as usize;
            Task::Classifier {
                model: BertClassifier::build_here(&reg, (cfg, num_labels))?,
                labels: ints1(&inputs_json["labels"])?,
            }
        }
        Some("pretraining") => Task::Pretraining {
            model: Box::new(BertPretraining::build_here(&reg, (cfg,))?),
            labels: PretrainingLabels {
                masked_lm_positions: ints2(&inputs_json["masked_lm_positions"])?,
                masked_lm_ids: ints2(&inputs_json["masked_lm_ids"])?,
                masked_lm_weights: tensor::array_nd(&inputs_json["masked_lm_weights"])?,
                next_sentence_labels: Array1::from(ints1(&inputs_json["next_sentence_labels"])?),
            },
        },
        other => return Err(format!("unknown task {other:?}").into()),
    };
    let opt = bert_optimizer(
        &reg,
        fx.f64_at("/spec/init_lr")? as f32,
        fx.u64_at("/spec/num_train_steps")?,
        fx.u64_at("/spec/num_warmup_steps")?,
    )?;
    Ok((reg, cfg, task, opt, inputs))
}

/// The rule for a tensor of the after-N checkpoint, by its name.
fn trained_rule(name: &str) -> &'static Rule {
    if name.ends_with("/adam_m") {
        &ADAM_M
    } else if name.ends_with("/adam_v") {
        &ADAM_V
    } else {
        &PARAM
    }
}

fn run(dir: &Path, checks: &mut Checks) -> AnyResult<()> {
    let fx = Fixture::load(dir)?;
    let (reg, cfg, task, mut opt, inputs) = build(&fx)?;
    checks.variables(&reg, &fx.variables()?);

    // Strict restore: every variable from the checkpoint, nothing missing or left over.
    let initial = fx.checkpoint("model.ckpt")?;
    let report = Restore::new(&reg).restore(&initial)?;
    checks.truth(
        "strict restore from model.ckpt",
        report.matched.len() == reg.len(),
    );

    // Forward outputs and gradients at the checkpoint's weights.
    let mut tape = Tape::<f32>::new();
    let pass = task.forward(&mut tape, &cfg, &inputs)?;
    let outputs = fx["outputs"].as_object().ok_or("outputs")?;
    let grads = tape.backward(pass.loss)?.into_gradients();
    for (name, want) in outputs {
        if name == "global_norm" {
            let got = grads.global_norm();
            checks.compare(&OUTPUT, "global_norm", &[got], &[], &tensor::f64s(want)?);
            continue;
        }
        match pass.named.iter().find(|(n, _)| n == name) {
            Some((_, node)) => check_node(checks, &OUTPUT, name, &tape, *node, want)?,
            None => checks.fail(&format!("output {name}: the port does not compute it")),
        }
    }
    checks.gradients(&GRADIENT, &grads, &reg, &fx["gradients"]);

    // Training: the loss before each step, then after the last.
    let train = &fx["train"];
    let losses = train["losses_before_each_step"]
        .as_array()
        .ok_or("train.losses_before_each_step")?;
    for (k, want) in losses.iter().enumerate() {
        tape.clear();
        let pass = task.forward(&mut tape, &cfg, &inputs)?;
        check_node(
            checks,
            &LOSS,
            &format!("loss before step {k}"),
            &tape,
            pass.loss,
            want,
        )?;
        opt.minimize(&tape, pass.loss)?;
    }
    tape.clear();
    let pass = task.forward(&mut tape, &cfg, &inputs)?;
    check_node(
        checks,
        &LOSS,
        "loss after the last step",
        &tape,
        pass.loss,
        &train["loss_after"],
    )?;
    checks.trained(
        &reg,
        &fx.checkpoint_at("/train/checkpoint_after")?,
        trained_rule,
    )?;
    Ok(())
}

#[test]
fn tf_bert_fixture() {
    let mut checks = Checks::new();
    for dir in fixture_dirs(&VENDORED, ENV) {
        checks.fixture(&dir, |checks| run(&dir, checks));
    }
    checks.print_margins();
    checks.finish("tf_bert_fixture");
}

/// The vendored classifier fixture's config and checkpoint.
fn classifier() -> (BertConfig, usize, PathBuf) {
    let fx = Fixture::load(data_dir().join(VENDORED[0])).expect("fixture");
    let cfg = BertConfig::from_json(&fx["spec"]["config"].to_string()).expect("config");
    let labels = fx["spec"]["num_labels"].as_u64().expect("num_labels") as usize;
    (cfg, labels, fx.dir.join("model.ckpt"))
}

/// Builds a classifier (and its optimizer) for `cfg` and restores the vendored checkpoint
/// strictly; returns the refusal's message.
fn restore_error(cfg: BertConfig, num_labels: usize, ckpt: &Path) -> String {
    let reg = Registry::new();
    BertClassifier::build_here(&reg, (cfg, num_labels)).expect("model");
    bert_optimizer(&reg, 1e-3, 10, 0).expect("optimizer");
    let before: Vec<scope::Tensor> = reg.global_variables().iter().map(|v| v.value()).collect();
    let err = Restore::new(&reg)
        .restore(&TfCheckpoint::open(ckpt).expect("checkpoint"))
        .expect_err("a checkpoint of another config must be refused");
    assert!(matches!(err, CheckpointError::Preflight { .. }), "{err}");
    let after: Vec<scope::Tensor> = reg.global_variables().iter().map(|v| v.value()).collect();
    assert!(before == after, "a refused restore changed a variable");
    err.to_string()
}

#[test]
fn a_checkpoint_of_another_config_is_refused_naming_what_differs() {
    let (cfg, labels, ckpt) = classifier();
    // One layer fewer: the checkpoint's last layer is left over.
    let fewer = BertConfig {
        num_hidden_layers: cfg.num_hidden_layers - 1,
        ..cfg
    };
    let msg = restore_error(fewer, labels, &ckpt);
    let last = format!("bert/encoder/layer_{}/", cfg.num_hidden_layers - 1);
    assert!(msg.contains(&last), "{msg}");
    // One layer more: the new layer is missing from the checkpoint.
    let more = BertConfig {
        num_hidden_layers: cfg.num_hidden_layers + 1,
        ..cfg
    };
    let msg = restore_error(more, labels, &ckpt);
    let extra = format!("bert/encoder/layer_{}/", cfg.num_hidden_layers);
    assert!(msg.contains(&extra), "{msg}");
    // Another hidden size: every matrix differs in shape.
    let wider = BertConfig {
        hidden_size: cfg.hidden_size + cfg.num_attention_heads,
        ..cfg
    };
    let msg = restore_error(wider, labels, &ckpt);
    assert!(msg.contains("bert/pooler/dense/kernel"), "{msg}");
    assert!(
        msg.contains(&format!("{}", cfg.hidden_size + cfg.num_attention_heads)),
        "{msg}"
    );
    // Another vocabulary: the word-embedding table (and its slots) differ.
    let vocab = BertConfig {
        vocab_size: cfg.vocab_size + 1,
        ..cfg
    };
    let msg = restore_error(vocab, labels, &ckpt);
    assert!(msg.contains("bert/embeddings/word_embeddings"), "{msg}");
    assert!(msg.contains(&format!("{}", cfg.vocab_size + 1)), "{msg}");
}

#[test]
fn bad_inputs_are_refused_before_any_computation() {
    let (cfg, labels, _) = classifier();
    let reg = Registry::with_seed(3);
    let model = BertClassifier::build_here(&reg, (cfg, labels)).expect("model");
    let (b, s) = (2, 5.min(cfg.max_position_embeddings));
    let ok = || {
        BertInputs::new(
            Array2::from_elem((b, s), 1),
            Array2::from_elem((b, s), 1),
            Array2::zeros((b, s)),
        )
        .expect("inputs")
    };
    let refused = |inputs: BertInputs, labels: &[i64]| -> TrainError {
        let mut tape = Tape::<f32>::new();
        let err = model
            .forward(&mut tape, &cfg, &inputs, labels)
            .expect_err("refused");
        assert!(tape.is_empty(), "{err}: something was computed first");
        err
    };
    // Sanity: the good inputs run.
    let mut tape = Tape::<f32>::new();
    model
        .forward(&mut tape, &cfg, &ok(), &[0, 0])
        .expect("runs");

    // A token id outside the vocabulary, named with its position.
    let mut inputs = ok();
    inputs.input_ids[[1, 2]] = cfg.vocab_size as i64;
    let err = refused(inputs, &[0, 0]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, index, .. } if input == "input_ids" && *index == s + 2),
        "{err}"
    );
    let mut inputs = ok();
    inputs.input_ids[[0, 0]] = -1;
    assert!(matches!(
        refused(inputs, &[0, 0]),
        TrainError::OutOfRange { .. }
    ));
    // A token type outside the token-type table.
    let mut inputs = ok();
    inputs.token_type_ids[[0, 1]] = cfg.type_vocab_size as i64;
    let err = refused(inputs, &[0, 0]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "token_type_ids"),
        "{err}"
    );
    // A mask value other than 0 or 1.
    let mut inputs = ok();
    inputs.input_mask[[0, 1]] = 2;
    let err = refused(inputs, &[0, 0]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "input_mask"),
        "{err}"
    );
    // A sequence longer than the position table.
    let long = cfg.max_position_embeddings + 1;
    let inputs = BertInputs::new(
        Array2::from_elem((1, long), 1),
        Array2::from_elem((1, long), 1),
        Array2::zeros((1, long)),
    )
    .expect("consistent shapes");
    let err = refused(inputs, &[0]);
    assert!(
        matches!(
            &err,
            TrainError::InputShape {
                input: "input_ids",
                ..
            }
        ),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains(&format!("{}", cfg.max_position_embeddings)));
    // A mask of another shape than the ids.
    let err = BertInputs::new(
        Array2::from_elem((b, s), 1),
        Array2::from_elem((b, s - 1), 1),
        Array2::zeros((b, s)),
    )
    .expect_err("mismatched mask");
    assert!(
        matches!(
            &err,
            TrainError::InputShape {
                input: "input_mask",
                ..
            }
        ),
        "{err}"
    );
    // Labels: out of range, and not one per sequence.
    let err = refused(ok(), &[0, labels as i64]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "labels"),
        "{err}"
    );
    assert!(matches!(
        refused(ok(), &[0]),
        TrainError::InputShape {
            input: "labels",
            ..
        }
    ));
    // A config other than the model's.
    let other = BertConfig {
        num_attention_heads: cfg.num_attention_heads * 2,
        hidden_size: cfg.hidden_size * 2,
        ..cfg
    };
    let mut tape = Tape::<f32>::new();
    assert!(matches!(
        model.forward(&mut tape, &other, &ok(), &[0, 0]),
        Err(TrainError::Config { .. })
    ));
    assert!(tape.is_empty());
}

#[test]
fn pretraining_labels_are_checked_before_any_computation() {
    let fx = Fixture::load(data_dir().join(VENDORED[1])).expect("fixture");
    let cfg = BertConfig::from_json(&fx["spec"]["config"].to_string()).expect("config");
    let reg = Registry::with_seed(4);
    let model = BertPretraining::build_here(&reg, (cfg,)).expect("model");
    let (b, s, p) = (2, 4.min(cfg.max_position_embeddings), 2);
    let inputs = BertInputs::new(
        Array2::from_elem((b, s), 1),
        Array2::from_elem((b, s), 1),
        Array2::zeros((b, s)),
    )
    .expect("inputs");
    let labels = || PretrainingLabels {
        masked_lm_positions: Array2::zeros((b, p)),
        masked_lm_ids: Array2::zeros((b, p)),
        masked_lm_weights: Array2::ones((b, p)),
        next_sentence_labels: Array1::zeros(b),
    };
    let mut tape = Tape::<f32>::new();
    model
        .forward(&mut tape, &cfg, &inputs, &labels())
        .expect("runs");
    let refused = |l: PretrainingLabels| {
        let mut tape = Tape::<f32>::new();
        let err = model
            .forward(&mut tape, &cfg, &inputs, &l)
            .expect_err("refused");
        assert!(tape.is_empty(), "{err}");
        err
    };
    let mut l = labels();
    l.masked_lm_positions[[1, 0]] = s as i64;
    assert!(
        matches!(refused(l), TrainError::OutOfRange { input, .. } if input == "masked_lm_positions")
    );
    let mut l = labels();
    l.masked_lm_ids[[0, 1]] = cfg.vocab_size as i64;
    assert!(matches!(refused(l), TrainError::OutOfRange { input, .. } if input == "masked_lm_ids"));
    let mut l = labels();
    l.next_sentence_labels[1] = 2;
    assert!(
        matches!(refused(l), TrainError::OutOfRange { input, .. } if input == "next_sentence_labels")
    );
    let mut l = labels();
    l.masked_lm_weights = Array2::ones((b, p + 1));
    assert!(matches!(
        refused(l),
        TrainError::InputShape {
            input: "masked_lm_weights",
            ..
        }
    ));
    // The masked-LM output layer is the word-embedding table itself.
    let table = &model.bert.embeddings.word_embeddings;
    assert!(model.cls_predictions.output_weights.ptr_eq(table));
    assert_eq!(
        reg.global_variables()
            .iter()
            .filter(|v| v.ptr_eq(table))
            .count(),
        1
    );
}
