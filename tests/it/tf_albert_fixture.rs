//! ALBERT against TensorFlow's own numbers: google-research/albert run unmodified by TF 2.21
//! (`tests/data/albert/{adamw,lamb}`, and every directory listed in the env var
//! `SCOPE_TF_ALBERT_FIXTURE`, `:`-separated), with the BERT fixture's checks and tolerances
//! (`tests/support`'s model checks): every variable (name, shape, dtype, trainable flag,
//! order), a strict restore, every forward output (1e-5) and gradient (1e-6, a shared
//! variable's summed over the layers that use it), the losses (1e-5) and every variable
//! after the steps (parameters 1e-5, `adam_m` 1e-6, `adam_v` 1e-8, `global_step` exact).
//!
//! Nothing is tied to the vendored configs: sizes, groups, inner groups, layer counts, label
//! counts, the optimizer and its schedule all come from the fixture.

use std::path::{Path, PathBuf};

use scope::checkpoint::{CheckpointError, Restore};
use scope::models::albert::{
    albert_optimizer, AlbertClassifier, AlbertClassifierOutputs, AlbertConfig, AlbertOptimizer,
    AlbertOptimizerKind,
};
use scope::models::bert::BertInputs;
use scope::optim::Optimizer;
use scope::tape::{NodeId, Tape};
use scope::{Model, Registry, TrainError};

use serde_json::Value;

use crate::support::{data_dir, fixture_dirs, tensor, Checks, Fixture, Rule};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

// TF's outputs are `[b, s, h]` where the port keeps `[b * s, h]`: the elements count, in order.
const OUTPUT: Rule = Rule::abs("output", 1e-5).by_elements();
const GRADIENT: Rule = Rule::abs("gradient", 1e-6).by_elements();
const LOSS: Rule = Rule::abs("loss", 1e-5).by_elements();
const PARAM: Rule = Rule::abs("trained parameter", 1e-5).by_elements();
const ADAM_M: Rule = Rule::abs("adam_m", 1e-6).by_elements();
const ADAM_V: Rule = Rule::abs("adam_v", 1e-8).by_elements();

const VENDORED: [&str; 2] = ["albert/adamw", "albert/lamb"];
const ENV: &str = "SCOPE_TF_ALBERT_FIXTURE";

fn vendored(k: usize) -> PathBuf {
    data_dir().join(VENDORED[k])
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

/// A tape node's value against a recorded tensor.
fn check_node(
    checks: &mut Checks,
    rule: &Rule,
    what: &str,
    tape: &Tape<f32>,
    node: NodeId,
    want: &Value,
) -> AnyResult<()> {
    let v = tape.value(node)?;
    let got: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
    checks.compare(rule, what, &got, v.shape(), &tensor::f64s(want)?);
    Ok(())
}

/// A fixture's model, optimizer and inputs, built in a fresh registry as TF's script does.
struct Setup {
    reg: Registry,
    model: AlbertClassifier,
    opt: AlbertOptimizer,
    inputs: BertInputs,
    labels: Vec<i64>,
}

fn build(fx: &Fixture) -> AnyResult<Setup> {
    let cfg = AlbertConfig::from_json(&fx["spec"]["config"].to_string())?;
    let inputs_json = &fx["inputs"];
    let inputs = BertInputs::new(
        tensor::array_nd(&inputs_json["input_ids"])?,
        tensor::array_nd(&inputs_json["input_mask"])?,
        tensor::array_nd(&inputs_json["token_type_ids"])?,
    )?;
    let reg = Registry::with_seed(7);
    let num_labels = fx.u64_at("/spec/num_labels")? as usize;
    let model = AlbertClassifier::build_here(&reg, (cfg, num_labels))?;
    let kind = fx.str_at("/spec/optimizer")?;
    let kind = AlbertOptimizerKind::from_name(kind).ok_or("unknown optimizer")?;
    let opt = albert_optimizer(
        &reg,
        kind,
        fx.f64_at("/spec/init_lr")? as f32,
        fx.u64_at("/spec/num_train_steps")?,
        fx.u64_at("/spec/num_warmup_steps")?,
    )?;
    Ok(Setup {
        reg,
        model,
        opt,
        inputs,
        labels: tensor::data(&inputs_json["labels"])?,
    })
}

/// The fixture's output names for a forward pass's nodes.
fn named(out: &AlbertClassifierOutputs) -> Vec<(String, NodeId)> {
    let a = &out.albert;
    let mut named = vec![
        ("embedding_output".to_owned(), a.embedding_output),
        ("pooled_output".to_owned(), a.pooled_output),
        ("logits".to_owned(), out.logits),
        ("probabilities".to_owned(), out.probabilities),
        ("per_example_loss".to_owned(), out.per_example_loss),
        ("loss".to_owned(), out.loss),
    ];
    for (k, &node) in a.layer_outputs.iter().enumerate() {
        named.push((format!("layer_{k}_output"), node));
    }
    named
}

fn run(dir: &Path, checks: &mut Checks) -> AnyResult<()> {
    let fx = Fixture::load(dir)?;
    let mut s = build(&fx)?;
    checks.variables(&s.reg, &fx.variables()?);

    let report = Restore::new(&s.reg).restore(&fx.checkpoint("model.ckpt")?)?;
    checks.truth(
        "strict restore from model.ckpt",
        report.matched.len() == s.reg.len(),
    );

    let mut tape = Tape::<f32>::new();
    let out = s.model.forward(&mut tape, &s.inputs, &s.labels)?;
    let nodes = named(&out);
    let grads = tape.backward(out.loss)?.into_gradients();
    for (name, want) in fx["outputs"].as_object().ok_or("outputs")? {
        if name == "global_norm" {
            let got = [grads.global_norm()];
            checks.compare(&OUTPUT, name, &got, &[], &tensor::f64s(want)?);
            continue;
        }
        match nodes.iter().find(|(n, _)| n == name) {
            Some((_, node)) => check_node(checks, &OUTPUT, name, &tape, *node, want)?,
            None => checks.fail(&format!("output {name}: the port does not compute it")),
        }
    }
    checks.gradients(&GRADIENT, &grads, &s.reg, &fx["gradients"]);

    let train = &fx["train"];
    let losses = train["losses_before_each_step"]
        .as_array()
        .ok_or("train.losses_before_each_step")?;
    for (k, want) in losses.iter().enumerate() {
        tape.clear();
        let out = s.model.forward(&mut tape, &s.inputs, &s.labels)?;
        let what = format!("loss before step {k}");
        check_node(checks, &LOSS, &what, &tape, out.loss, want)?;
        s.opt.minimize(&tape, out.loss)?;
    }
    tape.clear();
    let out = s.model.forward(&mut tape, &s.inputs, &s.labels)?;
    let want = &train["loss_after"];
    check_node(
        checks,
        &LOSS,
        "loss after the last step",
        &tape,
        out.loss,
        want,
    )?;
    checks.truth(
        "global_step counts the steps",
        s.opt.step()? == losses.len() as i64,
    );
    let after = fx.checkpoint_at("/train/checkpoint_after")?;
    checks.trained(&s.reg, &after, trained_rule)?;
    Ok(())
}

#[test]
fn tf_albert_fixture() {
    let mut checks = Checks::new();
    for dir in fixture_dirs(&VENDORED, ENV) {
        checks.fixture(&dir, |checks| run(&dir, checks));
    }
    checks.print_margins();
    checks.finish("tf_albert_fixture");
}

/// Builds a classifier and its optimizer for `cfg`, restores the vendored `lamb` checkpoint:
/// `Ok` if it restored every variable, else the refusal's message (nothing changed).
fn restore(cfg: AlbertConfig) -> Result<usize, String> {
    let fx = Fixture::load(vendored(1)).expect("fixture");
    let labels = fx.u64_at("/spec/num_labels").expect("num_labels") as usize;
    let reg = Registry::new();
    AlbertClassifier::build_here(&reg, (cfg, labels)).expect("model");
    albert_optimizer(&reg, AlbertOptimizerKind::Lamb, 1e-3, 10, 0).expect("optimizer");
    let before: Vec<scope::Tensor> = reg.global_variables().iter().map(|v| v.value()).collect();
    let ckpt = fx.checkpoint("model.ckpt").expect("checkpoint");
    match Restore::new(&reg).restore(&ckpt) {
        Ok(report) => Ok(report.matched.len()),
        Err(err) => {
            assert!(matches!(err, CheckpointError::Preflight { .. }), "{err}");
            let after: Vec<scope::Tensor> =
                reg.global_variables().iter().map(|v| v.value()).collect();
            assert!(before == after, "a refused restore changed a variable");
            Err(err.to_string())
        }
    }
}

/// What the docs promise: a layer count that changes only the forward restores; another
/// group count, inner-group count or embedding width is refused naming what differs.
#[test]
fn a_checkpoint_of_another_config_restores_only_where_the_variables_match() {
    let fx = Fixture::load(vendored(1)).expect("fixture");
    let cfg = AlbertConfig::from_json(&fx["spec"]["config"].to_string()).expect("config");
    assert_eq!(cfg.num_hidden_groups, 2, "the lamb fixture has two groups");
    let with = |f: &dyn Fn(&mut AlbertConfig)| {
        let mut c = cfg;
        f(&mut c);
        c
    };
    // More layers over the same groups: the same variables, a longer forward.
    let more_layers = with(&|c| c.bert.num_hidden_layers *= 3);
    assert!(restore(more_layers).is_ok());
    // One group fewer: group_1 is left over in the checkpoint.
    let msg = restore(with(&|c| c.num_hidden_groups = 1)).unwrap_err();
    assert!(msg.contains("group_1/"), "{msg}");
    // One inner group fewer: inner_group_1 is left over.
    let msg = restore(with(&|c| c.inner_group_num = 1)).unwrap_err();
    assert!(msg.contains("inner_group_1/"), "{msg}");
    // E == H: no embedding_hidden_mapping_in, and the embedding tables differ in width.
    let msg = restore(with(&|c| c.embedding_size = c.bert.hidden_size)).unwrap_err();
    assert!(msg.contains("embedding_hidden_mapping_in"), "{msg}");
    assert!(msg.contains("bert/embeddings/word_embeddings"), "{msg}");
}

#[test]
fn bad_inputs_and_configs_are_refused_before_any_computation() {
    let fx = Fixture::load(vendored(0)).expect("fixture");
    let cfg = AlbertConfig::from_json(&fx["spec"]["config"].to_string()).expect("config");
    let reg = Registry::with_seed(3);
    let model = AlbertClassifier::build_here(&reg, (cfg, 3)).expect("model");
    let inputs = |ids: i64, types: i64| {
        BertInputs::new(
            ndarray::Array2::from_elem((2, 4), ids),
            ndarray::Array2::from_elem((2, 4), 1),
            ndarray::Array2::from_elem((2, 4), types),
        )
        .expect("inputs")
    };
    let refused = |m: &AlbertClassifier, i: BertInputs, labels: &[i64]| {
        let mut tape = Tape::<f32>::new();
        let err = m.forward(&mut tape, &i, labels).expect_err("refused");
        assert!(tape.is_empty(), "{err}: something was computed first");
        err
    };
    let mut tape = Tape::<f32>::new();
    model
        .forward(&mut tape, &inputs(1, 0), &[0, 2])
        .expect("runs");
    let v = cfg.bert.vocab_size as i64;
    let err = refused(&model, inputs(v, 0), &[0, 0]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "input_ids"),
        "{err}"
    );
    let err = refused(&model, inputs(1, 2), &[0, 0]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "token_type_ids"),
        "{err}"
    );
    let err = refused(&model, inputs(1, 0), &[0, 3]);
    assert!(
        matches!(&err, TrainError::OutOfRange { input, .. } if input == "labels"),
        "{err}"
    );
    // A model built from a config transformer_model cannot run (more groups than layers) is
    // refused when run, naming the groups TF would build.
    let bad = AlbertConfig {
        num_hidden_groups: cfg.bert.num_hidden_layers + 1,
        ..cfg
    };
    let bad_model = AlbertClassifier::build_here(&Registry::new(), (bad, 3)).expect("model");
    let err = refused(&bad_model, inputs(1, 0), &[0, 0]);
    assert!(
        err.to_string().contains("transformer_model builds only"),
        "{err}"
    );
}
