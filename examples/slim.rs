//! TF-Slim's naming, with a custom getter and a scope regularizer: a two-layer perceptron
//! whose layers ask for `kernel` and `bias` (as `tf.layers` does) while a getter on the model's
//! scope renames them to Slim's `weights` and `biases`, and whose variables are all
//! regularized by the scope's default `l2(0.01)`. The weights are restored from a TF1
//! checkpoint recorded for this model (`tests/data/slim/record_slim.py`), and the output and
//! the regularization losses are checked against what TensorFlow computed.
//!
//! ```python
//! def slim_getter(getter, name, *args, **kwargs):
//!     head, _, last = name.rpartition("/")
//!     return getter(head + "/" + {"kernel": "weights", "bias": "biases"}.get(last, last),
//!                   *args, **kwargs)
//!
//! with tf.variable_scope("mlp", custom_getter=slim_getter,
//!                        regularizer=tf.contrib.layers.l2_regularizer(0.01)):
//!     h = dense(x, 8, "fc1", tf.nn.relu)      # mlp/fc1/weights, mlp/fc1/biases
//!     y = dense(h, 3, "fc2")                  # mlp/fc2/weights, mlp/fc2/biases
//! loss = tf.losses.get_regularization_loss()
//! ```
//!
//! Run with `cargo run --example slim`.

use std::error::Error;
use std::path::PathBuf;

use scope::checkpoint::{Restore, TfCheckpoint};
use scope::{CustomGetter, Registry, Regularizer, VarSpec, Variable};

/// `tf.layers.dense`-style: asks for `kernel` and `bias` in its own scope.
fn dense(
    reg: &Registry,
    x: &[Vec<f32>],
    units: usize,
    name: &str,
    relu: bool,
) -> scope::Result<Vec<Vec<f32>>> {
    reg.variable_scope(name).with(|_| {
        let inputs = x.first().map_or(0, Vec::len);
        let w = reg.get_variable("kernel", VarSpec::new().shape([inputs, units]))?;
        let b = reg.get_variable("bias", VarSpec::new().shape([units]))?;
        Ok(affine(x, &w, &b, relu))
    })
}

/// `x @ w + b`, then ReLU if asked.
fn affine(x: &[Vec<f32>], w: &Variable, b: &Variable, relu: bool) -> Vec<Vec<f32>> {
    let (w, b) = (w.value().to_f64_vec(), b.value().to_f64_vec());
    let units = b.len();
    x.iter()
        .map(|row| {
            (0..units)
                .map(|j| {
                    let dot: f64 = row
                        .iter()
                        .enumerate()
                        .map(|(i, &xi)| f64::from(xi) * w[i * units + j])
                        .sum();
                    let y = (dot + b[j]) as f32;
                    if relu {
                        y.max(0.0)
                    } else {
                        y
                    }
                })
                .collect()
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/slim");
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json"))?)?;
    let x: Vec<Vec<f32>> = serde_json::from_value(fixture["input"].clone())?;
    let want: Vec<Vec<f32>> = serde_json::from_value(fixture["output"].clone())?;

    let reg = Registry::with_seed(0);
    let slim = CustomGetter::rename([("kernel", "weights"), ("bias", "biases")]);
    let y = reg
        .variable_scope("mlp")
        .custom_getter(slim)
        .regularizer(Regularizer::l2(0.01)?)
        .with(|_| {
            let h = dense(&reg, &x, 8, "fc1", true)?;
            dense(&reg, &h, 3, "fc2", false)
        })?;
    println!("variables:");
    for v in reg.global_variables() {
        println!("  {:<18} {:?}", v.name(), v.shape());
    }

    // The variables TF-Slim named, filled from TF's checkpoint (strict: every name matches).
    let report = Restore::new(&reg).restore(&TfCheckpoint::open(dir.join("model.ckpt"))?)?;
    println!(
        "restored {} variables from tests/data/slim/model.ckpt",
        report.matched.len()
    );

    // Forward again, now with the restored weights: the getter hands back the same variables.
    let y_restored = reg
        .variable_scope("mlp")
        .custom_getter(CustomGetter::rename([
            ("kernel", "weights"),
            ("bias", "biases"),
        ]))
        .reuse(true)
        .with(|_| {
            let h = dense(&reg, &x, 8, "fc1", true)?;
            dense(&reg, &h, 3, "fc2", false)
        })?;
    assert_ne!(y, y_restored, "the restore changed the weights");
    let worst = y_restored
        .iter()
        .flatten()
        .zip(want.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("output vs TensorFlow: max |diff| = {worst:.2e}");

    println!("regularization losses (REGULARIZATION_LOSSES):");
    let tf_losses = fixture["regularization_losses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let losses = reg.regularization_losses(None)?;
    for (loss, tf) in losses.iter().zip(&tf_losses) {
        println!(
            "  {:<45} {:.6}  (TF {:.6})",
            loss.name(),
            loss.value(),
            tf["value"].as_f64().unwrap_or(f64::NAN)
        );
        if Some(loss.name()) != tf["name"].as_str() {
            return Err(format!("loss {} where TF has {}", loss.name(), tf["name"]).into());
        }
    }
    let total = reg.regularization_loss(None)?;
    let tf_total = fixture["regularization_loss"].as_f64().unwrap_or(f64::NAN);
    println!("get_regularization_loss() = {total:.6} (TF {tf_total:.6})");
    if worst > 1e-5 || losses.len() != tf_losses.len() || (total - tf_total).abs() > 1e-6 {
        return Err("the restored model does not match TensorFlow's".into());
    }
    Ok(())
}
