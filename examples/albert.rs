//! ALBERT (google-research/albert) ported by name: the classifier declared once with `model!`
//! in `scope::models::albert`, restored strictly from the TF1 checkpoint TensorFlow wrote, its
//! variable tree (one layer's weights per group, for every layer), its forward pass beside
//! TensorFlow's, and fine-tuning with ALBERT's own optimizer (LAMB or AdamWeightDecay) beside
//! TensorFlow's losses.
//!
//! ```text
//! cargo run --release --example albert                    # 3 layers over one layer's weights
//! cargo run --release --example albert -- --lamb          # 4 layers, 2 groups of 2, LAMB
//! cargo run --release --example albert -- --fixture DIR   # another fixture directory
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;

use clap::Parser;
use ndarray::Array2;
use scope::checkpoint::{Restore, TfCheckpoint};
use scope::models::albert::{
    albert_optimizer, AlbertClassifier, AlbertConfig, AlbertOptimizerKind,
};
use scope::models::bert::{BertClassifier, BertInputs};
use scope::optim::Optimizer;
use scope::tape::Tape;
use scope::{Model, Registry};
use serde_json::Value;

type AnyResult<T> = Result<T, Box<dyn Error>>;

#[derive(Parser, Debug)]
#[command(about = "ALBERT from TF1 checkpoints: shared layers, restore by name, compare with TF")]
struct Args {
    /// Run the vendored LAMB fixture (2 groups of 2 inner groups) instead of the AdamW one.
    #[arg(long)]
    lamb: bool,
    /// A fixture directory (fixture.json, model.ckpt.*) instead of a vendored one.
    #[arg(long)]
    fixture: Option<PathBuf>,
}

fn main() -> AnyResult<()> {
    let args = Args::parse();
    let dir = args.fixture.unwrap_or_else(|| {
        let name = if args.lamb { "lamb" } else { "adamw" };
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/albert")
            .join(name)
    });
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json"))?)?;
    let spec = &fx["spec"];
    let cfg = AlbertConfig::from_json(&std::fs::read_to_string(dir.join("albert_config.json"))?)?;
    let labels_n = spec["num_labels"].as_u64().ok_or("spec.num_labels")? as usize;

    // The model and ALBERT's optimizer, in TF's order; then a strict restore.
    let reg = Registry::new();
    let model = AlbertClassifier::build_here(&reg, (cfg, labels_n))?;
    let kind = spec["optimizer"].as_str().unwrap_or("lamb");
    let mut opt = albert_optimizer(
        &reg,
        AlbertOptimizerKind::from_name(kind).ok_or("unknown optimizer")?,
        spec["init_lr"].as_f64().ok_or("spec.init_lr")? as f32,
        spec["num_train_steps"]
            .as_u64()
            .ok_or("spec.num_train_steps")?,
        spec["num_warmup_steps"]
            .as_u64()
            .ok_or("spec.num_warmup_steps")?,
    )?;
    let report = Restore::new(&reg).restore(&TfCheckpoint::open(dir.join("model.ckpt"))?)?;
    println!(
        "restored {} of {} variables from {} (strict: nothing missing, nothing left over)\n",
        report.matched.len(),
        reg.len(),
        dir.join("model.ckpt").display()
    );

    print_tree(&model, &cfg);
    compare_sizes(&model, &cfg, labels_n)?;

    // The forward pass beside TF's outputs.
    let inputs = inputs(&fx["inputs"])?;
    let labels = ints(&fx["inputs"]["labels"])?;
    let mut tape = Tape::<f32>::new();
    let out = model.forward(&mut tape, &inputs, &labels)?;
    let mut named = vec![
        ("embedding_output".to_owned(), out.albert.embedding_output),
        ("pooled_output".to_owned(), out.albert.pooled_output),
        ("logits".to_owned(), out.logits),
        ("loss".to_owned(), out.loss),
    ];
    for (k, &node) in out.albert.layer_outputs.iter().enumerate() {
        named.push((format!("layer_{k}_output"), node));
    }
    println!("\nforward pass, max |port - TensorFlow|:");
    for (name, node) in &named {
        let want = floats(&fx["outputs"][name.as_str()])?;
        let got = tape.value(*node)?;
        let err = got
            .iter()
            .zip(&want)
            .map(|(&g, &w)| (f64::from(g) - w).abs())
            .fold(0.0, f64::max);
        println!("  {name:<18} {err:.1e}");
    }

    // Fine-tuning beside TF's recorded losses.
    let tf_losses = fx["train"]["losses_before_each_step"]
        .as_array()
        .ok_or("train.losses_before_each_step")?;
    println!("\nfine-tuning with {kind}:\n  step  port loss   TensorFlow");
    for (step, want) in tf_losses.iter().enumerate() {
        tape.clear();
        let out = model.forward(&mut tape, &inputs, &labels)?;
        let loss = opt.minimize(&tape, out.loss)?;
        println!(
            "  {step:>4}  {loss:.7}  {:.7}",
            want.as_f64().unwrap_or(f64::NAN)
        );
    }
    tape.clear();
    let out = model.forward(&mut tape, &inputs, &labels)?;
    let after = tape.value(out.loss)?.iter().sum::<f32>();
    let want = fx["train"]["loss_after"].as_f64().unwrap_or(f64::NAN);
    println!("  after {after:.7}  {want:.7}");
    Ok(())
}

/// The model's variable tree, one line per scope with its own variables, and which layers
/// apply each group.
fn print_tree(model: &AlbertClassifier, cfg: &AlbertConfig) {
    let mut layers: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for l in 0..cfg.bert.num_hidden_layers {
        layers.entry(cfg.group_of(l)).or_default().push(l);
    }
    let mut scopes: Vec<(String, Vec<String>)> = Vec::new();
    for (name, var) in model.variables() {
        let (scope, leaf) = name.rsplit_once('/').unwrap_or(("", &name));
        let leaf = format!("{leaf} {:?}", var.shape());
        match scopes.last_mut() {
            Some((s, leaves)) if s == scope => leaves.push(leaf),
            _ => scopes.push((scope.to_owned(), vec![leaf])),
        }
    }
    println!(
        "variables ({} layers, {} groups of {} inner groups):",
        cfg.bert.num_hidden_layers, cfg.num_hidden_groups, cfg.inner_group_num
    );
    let mut shown_group = None;
    for (scope, leaves) in scopes {
        if let Some(g) = group_in(&scope) {
            if shown_group != Some(g) {
                println!(
                    "  {} -- applied by layers {:?}",
                    scope.split("/inner_group").next().unwrap_or(&scope),
                    layers.get(&g).cloned().unwrap_or_default()
                );
                shown_group = Some(g);
            }
            let inner = scope
                .split_once("/inner_group")
                .map_or(scope.as_str(), |(_, r)| r);
            println!("      inner_group{inner}: {}", leaves.join(", "));
        } else {
            println!(
                "  {}: {}",
                if scope.is_empty() { "(root)" } else { &scope },
                leaves.join(", ")
            );
        }
    }
}

/// The group a scope belongs to (`.../transformer/group_{g}/...`).
fn group_in(scope: &str) -> Option<usize> {
    let rest = scope.split_once("/transformer/group_")?.1;
    rest.split('/').next()?.parse().ok()
}

/// Parameters of the model beside BERT's at the same sizes (vocabulary, H, layers, heads,
/// intermediate size, head).
fn compare_sizes(model: &AlbertClassifier, cfg: &AlbertConfig, labels: usize) -> AnyResult<()> {
    let count = |vars: Vec<(String, scope::Variable)>| -> usize {
        vars.iter()
            .map(|(_, v)| v.shape().iter().product::<usize>())
            .sum()
    };
    let bert = BertClassifier::build_here(&Registry::new(), (cfg.bert, labels))?;
    println!(
        "\nparameters: ALBERT {} (E = {}; {} layers x {} inner groups applying {} blocks); BERT \
         with the same vocabulary, H, layers and intermediate size: {}",
        count(model.variables()),
        cfg.embedding_size,
        cfg.bert.num_hidden_layers,
        cfg.inner_group_num,
        cfg.num_hidden_groups * cfg.inner_group_num,
        count(bert.variables())
    );
    Ok(())
}

fn ints(v: &Value) -> AnyResult<Vec<i64>> {
    let data = v["data"].as_array().ok_or("tensor without data")?;
    Ok(data
        .iter()
        .map(|x| x.as_i64().ok_or("not an integer"))
        .collect::<Result<_, _>>()?)
}

fn floats(v: &Value) -> AnyResult<Vec<f64>> {
    if let Some(x) = v.as_f64() {
        return Ok(vec![x]);
    }
    let data = v["data"].as_array().ok_or("tensor without data")?;
    Ok(data
        .iter()
        .map(|x| x.as_f64().ok_or("not a number"))
        .collect::<Result<_, _>>()?)
}

fn inputs(v: &Value) -> AnyResult<BertInputs> {
    let matrix = |name: &str| -> AnyResult<Array2<i64>> {
        let shape = v[name]["shape"].as_array().ok_or("shape")?;
        let (b, s) = (
            shape[0].as_u64().ok_or("b")? as usize,
            shape[1].as_u64().ok_or("s")? as usize,
        );
        Ok(Array2::from_shape_vec((b, s), ints(&v[name])?)?)
    };
    Ok(BertInputs::new(
        matrix("input_ids")?,
        matrix("input_mask")?,
        matrix("token_type_ids")?,
    )?)
}
