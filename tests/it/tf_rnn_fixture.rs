//! The seed RNN against TensorFlow's own numbers (`tests/data/seed_rnn/`, and every
//! directory listed in `SCOPE_TF_RNN_FIXTURE`, `:`-separated): prediction, cost, gradients, final state, Adam after
//! each recorded step (variables, slots, beta powers) and the test RNN that shares the
//! weights, each within 1e-4 relative (1e-6 absolute near zero).

use ndarray::{Array3, ArrayD, IxDyn};
use scope::seed_rnn::{InitialState, SeedRnn, SeedRnnConfig};
use scope::{Registry, Tensor, TrainError, Variable};
use serde_json::Value;

use crate::support::{fixture_dirs, tensor, Checks, Fixture, Rule};

/// Every tensor: within 1e-4 of its largest magnitude, or 1e-6 absolute near zero.
const TENSOR: Rule = Rule::rel("tensor", 1e-4, 1e-6);

const VENDORED: [&str; 1] = ["seed_rnn"];
const ENV: &str = "SCOPE_TF_RNN_FIXTURE";

/// A recorded `{shape, data}` tensor (or scalar) as float32.
fn tensor(v: &Value) -> ArrayD<f32> {
    tensor::f32s(v).unwrap_or_else(|e| panic!("{e}"))
}

fn array3(v: &Value) -> Array3<f32> {
    tensor::array_nd(v).unwrap_or_else(|e| panic!("{e}"))
}

fn config(v: &Value, lr: &Value) -> SeedRnnConfig {
    let size = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("config.{k}")) as usize;
    SeedRnnConfig {
        batch_size: size("batch_size"),
        time_steps: size("time_steps"),
        input_size: size("input_size"),
        output_size: size("output_size"),
        cell_size: size("cell_size"),
        learning_rate: lr.as_f64().expect("learning_rate") as f32,
    }
}

/// An array against a recorded tensor.
fn check_array(checks: &mut Checks, what: &str, got: &ArrayD<f32>, want: &Value) {
    checks.compare_arrays(&TENSOR, what, got, &tensor(want));
}

/// A variable's value against a recorded tensor.
fn check_var(checks: &mut Checks, what: &str, var: &Variable, want: &Value) {
    let t = var.read();
    checks.compare(
        &TENSOR,
        what,
        t.as_f32().expect("float32"),
        t.shape(),
        &tensor(want),
    );
}

/// Prediction, cost, loss and final state of `rnn` on `(xs, ys)` against `want`.
fn check_pass(
    checks: &mut Checks,
    label: &str,
    rnn: &mut SeedRnn,
    xs: &Array3<f32>,
    ys: &Array3<f32>,
    want: &Value,
) -> Result<(), TrainError> {
    let cost = rnn
        .cost(xs.view(), ys.view(), InitialState::Zeros)?
        .to_owned();
    check_array(
        checks,
        &format!("{label} cost"),
        &cost.into_dyn(),
        &want["cost"],
    );
    let loss = ArrayD::from_elem(IxDyn(&[]), rnn.loss());
    check_array(
        checks,
        &format!("{label} loss_sum"),
        &loss,
        &want["loss_sum"],
    );
    let pred = rnn.pred().to_owned().into_dyn();
    check_array(checks, &format!("{label} pred"), &pred, &want["pred"]);
    if let Some(state) = want.get("final_state") {
        let s = rnn.state().clone();
        check_array(
            checks,
            &format!("{label} final_state.c"),
            &s.c.into_dyn(),
            &state["c"],
        );
        check_array(
            checks,
            &format!("{label} final_state.h"),
            &s.h.into_dyn(),
            &state["h"],
        );
    }
    Ok(())
}

fn check_grads(checks: &mut Checks, label: &str, rnn: &SeedRnn, want: &Value) {
    for var in rnn.variables() {
        match rnn.gradients().get(&var) {
            Some(g) => check_array(
                checks,
                &format!("{label} grad {}", var.name()),
                g,
                &want[var.name()],
            ),
            None => {
                checks.fail(&format!("{label} grad {} exists", var.name()));
            }
        }
    }
}

fn check_adam_state(checks: &mut Checks, label: &str, rnn: &SeedRnn, want: &Value) {
    let adam = rnn.optimizer();
    for var in rnn.variables() {
        let name = var.name();
        check_var(
            checks,
            &format!("{label} variable {name}"),
            &var,
            &want["variables"][name],
        );
        let (m, v) = adam.slots(&var).expect("every variable has slots");
        check_var(
            checks,
            &format!("{label} slot m of {name}"),
            m,
            &want["slots"][name]["m"],
        );
        check_var(
            checks,
            &format!("{label} slot v of {name}"),
            v,
            &want["slots"][name]["v"],
        );
    }
    check_var(
        checks,
        &format!("{label} beta1_power"),
        adam.beta1_power(),
        &want["beta1_power"],
    );
    check_var(
        checks,
        &format!("{label} beta2_power"),
        adam.beta2_power(),
        &want["beta2_power"],
    );
}

fn run(fx: &Value, checks: &mut Checks) -> Result<(), TrainError> {
    let lr = &fx["adam_hparams"]["learning_rate"];
    let train_config = config(&fx["config"], lr);
    let test_config = config(&fx["test_rnn"]["config"], lr);
    let hp = &fx["adam_hparams"];
    for (k, default) in [("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)] {
        checks.truth(
            &format!("adam_hparams.{k} is TF's default"),
            hp[k].as_f64() == Some(default),
        );
    }

    // The seed's graph: train RNN in `rnn`, then the test RNN in the same scope with reuse.
    let reg = Registry::with_seed(1);
    let (mut train, mut test) = reg.variable_scope("rnn").with(|scope| {
        let train = SeedRnn::new(&reg, train_config)?;
        scope.reuse_variables();
        let test = SeedRnn::new(&reg, test_config)?;
        Ok::<_, TrainError>((train, test))
    })?;
    let names: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    let want_names: Vec<String> = fx["variable_names_all"]
        .as_array()
        .expect("variable_names_all")
        .iter()
        .map(|n| n.as_str().expect("name").to_owned())
        .collect();
    if names != want_names {
        eprintln!("  got names {names:#?}");
    }
    checks.truth("global variable names and order", names == want_names);
    let shared = train
        .variables()
        .iter()
        .zip(test.variables())
        .all(|(a, b)| a.ptr_eq(&b));
    checks.truth("test RNN shares the train RNN's variables", shared);
    let slots_shared = train.variables().iter().all(|v| {
        let (a, b) = (train.optimizer().slots(v), test.optimizer().slots(v));
        matches!((a, b), (Some(a), Some(b)) if a.0.ptr_eq(b.0) && a.1.ptr_eq(b.1))
    });
    checks.truth("test RNN's Adam shares the slots", slots_shared);

    // TF's initial weights, by name.
    for v in fx["variables"].as_array().expect("variables") {
        let name = v["name"].as_str().expect("name");
        let init = tensor(&v["init"]);
        let var = reg
            .variable(name)
            .unwrap_or_else(|| panic!("no variable {name}"));
        var.assign(Tensor::from(init))?;
    }

    let xs = array3(&fx["xs"]);
    let ys = array3(&fx["ys"]);
    let test_xs = array3(&fx["test_rnn"]["xs"]);
    let test_ys = array3(&fx["test_rnn"]["ys"]);

    check_pass(checks, "initial", &mut train, &xs, &ys, fx)?;
    train.compute_gradients(xs.view(), ys.view(), InitialState::Zeros)?;
    check_grads(checks, "initial", &train, &fx["grads"]);
    check_pass(
        checks,
        "test_rnn initial",
        &mut test,
        &test_xs,
        &test_ys,
        &fx["test_rnn"]["initial"],
    )?;

    // `after_K` snapshots: the train RNN's state after K steps, and the test RNN's
    // predictions after the train RNN's K steps.
    let after = |v: &Value| -> Vec<(u64, Value)> {
        v.as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| {
                        let n = k.strip_prefix("after_")?.parse().ok()?;
                        Some((n, v.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let adam = &fx["adam"];
    let snapshots = after(adam);
    let test_snapshots = after(&fx["test_rnn"]);
    checks.truth("the fixture has Adam snapshots", !snapshots.is_empty());
    let per_step = adam["per_step"].as_array().expect("adam.per_step");
    for (k, step) in per_step.iter().enumerate() {
        let loss = train.train_step(xs.view(), ys.view(), InitialState::Zeros)?;
        let label = format!("step {}", k + 1);
        let loss = ArrayD::from_elem(IxDyn(&[]), loss);
        check_array(
            checks,
            &format!("{label} loss_sum_before"),
            &loss,
            &step["loss_sum_before"],
        );
        check_grads(checks, &label, &train, &step["grads"]);
        let done = (k + 1) as u64;
        for (_, snap) in snapshots.iter().filter(|(n, _)| *n == done) {
            let label = format!("after {done} steps");
            check_adam_state(checks, &label, &train, snap);
            check_pass(checks, &label, &mut train, &xs, &ys, snap)?;
        }
        for (_, snap) in test_snapshots.iter().filter(|(n, _)| *n == done) {
            let label = format!("test_rnn after {done} train steps");
            check_pass(checks, &label, &mut test, &test_xs, &test_ys, snap)?;
        }
    }
    Ok(())
}

#[test]
fn tf_rnn_fixture() {
    let mut checks = Checks::new();
    for dir in fixture_dirs(&VENDORED, ENV) {
        checks.fixture(&dir, |checks| -> Result<(), Box<dyn std::error::Error>> {
            let fx = Fixture::load(&dir)?;
            Ok(run(&fx.json, checks)?)
        });
    }
    checks.finish("tf_rnn_fixture");
}

/// Replaying TF's recorded per-step gradients through [`scope::optim::Adam`] reproduces
/// TF's variables, slots and beta powers bit for bit (the fixture's README says float32 in
/// `ApplyAdam`'s order is exact).
#[test]
fn adam_replay_is_bit_exact() {
    for dir in fixture_dirs(&VENDORED, ENV) {
        let fx = Fixture::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        adam_replay(&fx.json);
    }
}

fn adam_replay(fx: &Value) {
    use scope::optim::{Adam, Optimizer};
    use scope::tape::Gradients;

    let lr = fx["adam_hparams"]["learning_rate"].as_f64().expect("lr") as f32;
    let reg = Registry::new();
    let (vars, mut adam) = reg
        .variable_scope("rnn")
        .with(|_| {
            let mut vars = Vec::new();
            for v in fx["variables"].as_array().expect("variables") {
                let name = v["name"].as_str().expect("name");
                let init = Tensor::from(tensor(&v["init"]));
                // Absolute names (`x/`) recreate TF's names directly.
                let var = Variable::new_with(
                    &reg,
                    init,
                    scope::VariableOptions::named(format!("{name}/")),
                )?;
                vars.push(var);
            }
            let adam = reg
                .variable_scope("trian")
                .with(|_| Adam::new(&reg, lr, &vars))?;
            Ok::<_, TrainError>((vars, adam))
        })
        .expect("variables and Adam build");
    let bits = |v: &Variable| -> Vec<u32> {
        v.read()
            .as_f32()
            .expect("f32")
            .iter()
            .map(|x| x.to_bits())
            .collect()
    };
    let want_bits = |v: &Value| -> Vec<u32> { tensor(v).iter().map(|x| x.to_bits()).collect() };
    let per_step = fx["adam"]["per_step"].as_array().expect("per_step");
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (k, step) in per_step.iter().enumerate() {
        let mut grads = Gradients::new();
        for v in &vars {
            grads
                .add(v, tensor(&step["grads"][v.name()]))
                .expect("grad shape");
        }
        adam.apply(&grads).expect("apply");
        for snap in fx["adam"].as_object().expect("adam").values() {
            if snap.get("steps_done").and_then(Value::as_u64) != Some(k as u64 + 1) {
                continue;
            }
            for v in &vars {
                let (m, s) = adam.slots(v).expect("slots");
                for (what, var, want) in [
                    ("variable", v, &snap["variables"][v.name()]),
                    ("m", m, &snap["slots"][v.name()]["m"]),
                    ("v", s, &snap["slots"][v.name()]["v"]),
                ] {
                    compared += 1;
                    if bits(var) != want_bits(want) {
                        mismatches.push(format!("step {}: {what} of {}", k + 1, v.name()));
                    }
                }
            }
            for (var, key) in [
                (adam.beta1_power(), "beta1_power"),
                (adam.beta2_power(), "beta2_power"),
            ] {
                if bits(var) != want_bits(&snap[key]) {
                    mismatches.push(format!("step {}: {key}", k + 1));
                }
            }
        }
    }
    assert!(
        compared > 0,
        "the fixture has no `adam.after_*` snapshot to compare"
    );
    assert!(mismatches.is_empty(), "not bit-exact: {mismatches:#?}");
}
