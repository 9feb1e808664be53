//! TF1 checkpoints of partitioned variables, against what TensorFlow itself reads from them.
//!
//! For `tests/data/partitioned/*` (vendored from `shared/fixtures/partitioned`, written by
//! `tf.train.Saver` over `partitioner=` variables) and each directory in
//! `SCOPE_TF_PARTITIONED_FIXTURE` (`:`-separated; each holds `model.ckpt.*` and a
//! `values.json` in the same format):
//!
//! * the reader lists what `tf.train.load_checkpoint` lists: every full name once, with its
//!   full shape and dtype, and every value equal to what TF's `get_tensor` returns;
//! * each partitioned entry has as many slices as the graph had parts, and those slices are
//!   the ones `get_partitioned_variable` makes for that many parts (TF's split rule);
//! * the graph's variables rebuilt here restore strictly, save back to TF's own bytes, and
//!   restore across partitionings: into other part counts, into one unpartitioned variable,
//!   and from unpartitioned entries into parts.
//!
//! Nothing is tied to the visible fixture: names, shapes, dtypes and partitionings all come
//! from the files.

use std::collections::BTreeMap;
use std::path::Path;

use scope::checkpoint::{
    save_tf_checkpoint, CheckpointSource, Restore, TfCheckpoint, TfCheckpointWriter,
};
use scope::partition::{PartitionedVariable, Partitioner, Slice};
use scope::{DType, Registry, Tensor, VarSpec, Variable};

use crate::support::{fixture_dirs, Checks};
use serde_json::Value;

/// A check whose message is only built when it fails.
trait CheckLazily {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String);
}

impl CheckLazily for Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.truth("", true);
        } else {
            self.fail(&what());
        }
    }
}

/// One stored tensor as `values.json` gives it.
struct Expected {
    shape: Vec<usize>,
    dtype: String,
    data: Vec<f64>,
}

fn expected(values: &Value) -> BTreeMap<String, Expected> {
    let number = |v: &Value| match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        v => v.as_f64().expect("a number"),
    };
    values["checkpoint"]
        .as_object()
        .expect("checkpoint")
        .iter()
        .map(|(name, t)| {
            let shape = t["shape"].as_array().expect("shape").iter();
            let data = t["data"].as_array().expect("data").iter();
            (
                name.clone(),
                Expected {
                    shape: shape.map(|d| d.as_u64().expect("dim") as usize).collect(),
                    dtype: t["dtype"].as_str().expect("dtype").to_owned(),
                    data: data.map(number).collect(),
                },
            )
        })
        .collect()
}

/// Equal as TF's values are: f32 and f16 data to the bit, integers exactly, f64 to the ulp
/// (serde_json's default float parsing may round the last bit of a 17-digit literal; the
/// bytes themselves are compared exactly when the checkpoint is saved back).
fn same_values(t: &Tensor, want: &[f64]) -> bool {
    let got = t.to_f64_vec();
    got.len() == want.len()
        && got.iter().zip(want).all(|(&a, &b)| match t.dtype() {
            DType::F32 => a as f32 == b as f32 || (a.is_nan() && b.is_nan()),
            DType::F64 => (a - b).abs() <= f64::EPSILON * a.abs() || (a.is_nan() && b.is_nan()),
            _ => a == b || (a.is_nan() && b.is_nan()),
        })
}

/// The graph's parts per full name, in part order (`emb/part_0`, `emb/part_1` ..).
fn graph_parts(values: &Value) -> BTreeMap<String, Vec<String>> {
    let mut parts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in values["graph_variables"]
        .as_array()
        .expect("graph_variables")
    {
        let name = name.as_str().expect("name");
        if let Some((full, k)) = name.rsplit_once("/part_") {
            if k.parse::<usize>().is_ok() {
                parts
                    .entry(full.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
    }
    parts
}

/// The axis a set of slices splits (0 when only one slice).
fn split_axis(slices: &[Slice], full: &[usize]) -> usize {
    (0..full.len())
        .find(|&d| slices.iter().any(|s| s.shape[d] != full[d]))
        .unwrap_or(0)
}

/// Rebuilds the graph's variables in its creation order: the partitioned ones with as many
/// parts (along the stored axis) as `parts_for` says, the rest whole.
fn rebuild(
    ckpt: &TfCheckpoint,
    values: &Value,
    parts_for: impl Fn(&str, usize, usize) -> Option<usize>,
) -> (Registry, Vec<PartitionedVariable>) {
    let reg = Registry::with_seed(9);
    let mut made = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in values["graph_variables"]
        .as_array()
        .expect("graph_variables")
    {
        let name = name.as_str().expect("name");
        let full = name
            .rsplit_once("/part_")
            .filter(|(_, k)| k.parse::<usize>().is_ok())
            .map_or(name, |(f, _)| f);
        if !seen.insert(full.to_owned()) {
            continue;
        }
        let info = ckpt.info(full).expect("every graph variable is stored");
        let dtype = info.dtype.supported().expect("a supported dtype");
        let spec = VarSpec::new().shape(&info.shape).dtype(dtype);
        let slices = ckpt.slices(full);
        let axis = split_axis(&slices, &info.shape);
        let stored_parts = if full == name { 0 } else { slices.len() };
        match parts_for(full, stored_parts, axis) {
            Some(n) => {
                let spec = spec.partitioner(Partitioner::fixed_size(n, axis));
                made.push(
                    reg.get_partitioned_variable(full, spec)
                        .expect("partitioned"),
                );
            }
            None => {
                reg.get_variable(full, spec).expect("whole");
            }
        }
    }
    (reg, made)
}

fn run_fixture(dir: &Path, checks: &mut Checks) {
    let at = dir.display().to_string();
    let values: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("values.json")).expect("values.json"),
    )
    .expect("values.json parses");
    let prefix = dir.join("model.ckpt");
    let ckpt = match TfCheckpoint::open(&prefix) {
        Ok(c) => c,
        Err(e) => {
            checks.truth(&format!("{at}: open: {e}"), false);
            return;
        }
    };
    let want = expected(&values);

    // What TF lists, and what it reads.
    let keys: Vec<&str> = ckpt.keys();
    let want_keys: Vec<&str> = want.keys().map(String::as_str).collect();
    checks.check(keys == want_keys, || {
        format!("{at}: keys {keys:?}, TF lists {want_keys:?}")
    });
    for (name, e) in &want {
        let Some(info) = ckpt.info(name) else {
            continue;
        };
        checks.check(info.shape == e.shape, || {
            format!("{at}: {name}: shape {:?} vs {:?}", info.shape, e.shape)
        });
        checks.check(info.dtype.to_string() == e.dtype, || {
            format!("{at}: {name}: dtype {} vs {}", info.dtype, e.dtype)
        });
        match ckpt.read_tensor(name) {
            Ok(t) => checks.check(same_values(&t, &e.data), || {
                format!("{at}: {name}: values differ from TF's")
            }),
            Err(err) => checks.check(false, || format!("{at}: {name}: {err}")),
        }
    }

    // As many slices as the graph had parts, laid out as our partitioning lays them out.
    let parts = graph_parts(&values);
    for name in want.keys() {
        let n = parts.get(name).map_or(0, Vec::len);
        let slices = ckpt.slices(name);
        checks.check(slices.len() == n, || {
            format!(
                "{at}: {name}: {} slices, the graph had {n} parts",
                slices.len()
            )
        });
    }
    let (reg, made) = rebuild(&ckpt, &values, |_, n, _| (n > 0).then_some(n));
    for pv in &made {
        let ours = pv.slices();
        let theirs = ckpt.slices(pv.name());
        checks.check(ours == theirs, || {
            format!("{at}: {}: our split {ours:?}, TF's {theirs:?}", pv.name())
        });
    }
    let graph_names: Vec<String> = values["graph_variables"]
        .as_array()
        .expect("graph_variables")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    let our_names: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    checks.check(our_names == graph_names, || {
        format!("{at}: variables {our_names:?}, TF's graph {graph_names:?}")
    });

    // Strict restore, then save: TF's own files, byte for byte.
    match Restore::new(&reg).restore(&ckpt) {
        Ok(_) => {
            for pv in &made {
                let ok = pv
                    .value()
                    .is_ok_and(|v| same_values(&v, &want[pv.name()].data));
                checks.truth(&format!("{at}: {}: restored parts differ", pv.name()), ok);
            }
            let out = std::env::temp_dir().join(format!(
                "scope-it-part-{}-{}",
                std::process::id(),
                checks.passed()
            ));
            std::fs::create_dir_all(&out).expect("temp dir");
            match save_tf_checkpoint(out.join("model.ckpt"), &reg) {
                Ok(_) => {
                    for suffix in [".index", ".data-00000-of-00001"] {
                        let ours = std::fs::read(out.join(format!("model.ckpt{suffix}")))
                            .unwrap_or_default();
                        let tf = std::fs::read(dir.join(format!("model.ckpt{suffix}")))
                            .unwrap_or_default();
                        checks.check(ours == tf, || {
                            format!("{at}: saved {suffix} differs from TF's")
                        });
                    }
                }
                Err(e) => checks.check(false, || format!("{at}: save: {e}")),
            }
            std::fs::remove_dir_all(&out).ok();
        }
        Err(e) => checks.check(false, || format!("{at}: strict restore: {e}")),
    }

    // Across partitionings: one more part where the axis allows, and none at all.
    let other = |full: &str, n: usize, axis: usize| {
        let dim = ckpt
            .info(full)
            .map_or(1, |i| i.shape.get(axis).copied().unwrap_or(1));
        (n > 0).then_some(if n < dim { n + 1 } else { 1 })
    };
    for (label, (reg, made)) in [
        ("other part counts", rebuild(&ckpt, &values, other)),
        ("unpartitioned", rebuild(&ckpt, &values, |_, _, _| None)),
    ] {
        match Restore::new(&reg).restore(&ckpt) {
            Ok(_) => {
                for pv in &made {
                    let ok = pv
                        .value()
                        .is_ok_and(|v| same_values(&v, &want[pv.name()].data));
                    checks.truth(&format!("{at}: {label}: {} differs", pv.name()), ok);
                }
                for v in reg
                    .global_variables()
                    .iter()
                    .filter(|v| v.save_slice_info().is_none())
                {
                    let ok = same_values(&v.value(), &want[v.name()].data);
                    checks.truth(&format!("{at}: {label}: {} differs", v.name()), ok);
                }
            }
            Err(e) => checks.check(false, || format!("{at}: {label}: restore: {e}")),
        }
    }

    // Unpartitioned entries into parts: the checkpoint re-saved whole, restored into parts.
    let mut whole = TfCheckpointWriter::new();
    for name in want.keys() {
        if let Ok(t) = ckpt.read_tensor(name) {
            whole.add(name, t).expect("add");
        }
    }
    let (index, data) = whole.to_bytes().expect("whole checkpoint");
    let flat = TfCheckpoint::from_bytes(&index, vec![data]).expect("reads back");
    checks.check(
        flat.keys().iter().all(|k| flat.slice_count(k).is_none()),
        || format!("{at}: re-saved whole still sliced"),
    );
    let (reg, made) = rebuild(&ckpt, &values, |_, n, _| (n > 0).then_some(n));
    match Restore::new(&reg).restore(&flat) {
        Ok(_) => {
            for pv in &made {
                let ok = pv
                    .value()
                    .is_ok_and(|v| same_values(&v, &want[pv.name()].data));
                checks.check(ok, || {
                    format!("{at}: whole into parts: {} differs", pv.name())
                });
            }
        }
        Err(e) => checks.check(false, || format!("{at}: whole into parts: {e}")),
    }
}

#[test]
fn tf_partitioned_fixture() {
    let mut checks = Checks::new();
    let vendored = ["partitioned/p6", "partitioned/p_dtypes"];
    for dir in fixture_dirs(&vendored, "SCOPE_TF_PARTITIONED_FIXTURE") {
        checks.fixture(&dir, |checks| {
            run_fixture(&dir, checks);
            Ok::<(), String>(())
        });
    }
    checks.finish("tf_partitioned_fixture");
}

/// A strict restore into parts whose full name the checkpoint lacks names the full name, and
/// changes nothing.
#[test]
fn missing_partitioned_entry_is_reported_by_full_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/partitioned/p6");
    let ckpt = TfCheckpoint::open(dir.join("model.ckpt")).expect("p6");
    let reg = Registry::new();
    let spec = VarSpec::new()
        .shape([8, 2])
        .partitioner(Partitioner::fixed_size(2, 0));
    let pv = reg
        .get_partitioned_variable("not_there", spec)
        .expect("made");
    let before = pv.value().expect("value");
    let err = Restore::new(&reg).restore(&ckpt).unwrap_err().to_string();
    assert!(err.contains("not_there"), "{err}");
    assert_eq!(pv.value().expect("value").to_f64_vec(), before.to_f64_vec());
    let _: &[Variable] = pv.parts();
}

/// Conformance cases for partitioned variables recorded from TF 2.21
/// (`tests/data/partitioned/record_cases.py`: names, part shapes, reuse and errors), plus
/// every file in `SCOPE_PARTITIONED_CASES` (`:`-separated) of the same format.
#[test]
fn partitioned_conformance() {
    let mut files = vec![crate::support::data_dir().join("partitioned/cases.json")];
    if let Some(extra) = std::env::var_os("SCOPE_PARTITIONED_CASES") {
        files.extend(std::env::split_paths(&extra));
    }
    let mut checks = Checks::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a case file");
        let cases: Value = serde_json::from_str(&text).expect("a JSON case file");
        for case in cases["cases"].as_array().expect("cases") {
            replay_case(case, &mut checks);
        }
    }
    checks.finish("partitioned_conformance");
}

fn partitioner(spec: &Value) -> Option<Partitioner> {
    let (kind, args) = spec.as_object()?.iter().next()?;
    let arg = |i: usize| args.get(i).and_then(Value::as_u64);
    Some(match kind.as_str() {
        "fixed_size" => Partitioner::fixed_size(arg(0)? as usize, arg(1)? as usize),
        "variable_axis_size" => {
            Partitioner::variable_axis_size(arg(0)?, arg(1)? as usize, arg(2).map(|m| m as usize))
        }
        "min_max" => Partitioner::min_max(arg(0)? as usize, arg(1)? as usize, arg(2)?),
        _ => return None,
    })
}

/// The category a recorded TF error maps to.
fn category(e: &scope::Error) -> &'static str {
    use scope::Error as E;
    match e {
        E::PartitionedExists { .. } => "PartitionedExists",
        E::PartitionedNotFound { .. } => "PartitionedNotFound",
        E::PartitionMismatch { .. } => "PartitionMismatch",
        E::UnpartitionedExists { .. } => "UnpartitionedExists",
        E::PartitionedFound { .. } => "PartitionedFound",
        E::Partition { .. } => "Partition",
        E::AlreadyExists { .. } => "AlreadyExists",
        _ => "Other",
    }
}

fn replay_case(case: &Value, checks: &mut Checks) {
    let id = case["id"].as_str().unwrap_or("?");
    let reg = Registry::new();
    let mut guards: Vec<Box<dyn std::any::Any>> = Vec::new();
    for (i, op) in case["ops"].as_array().expect("ops").iter().enumerate() {
        let at = format!("{id} op {i}");
        let expect = &op["expect"];
        let outcome: Result<Value, scope::Error> = match op["op"].as_str().unwrap_or("") {
            "variable_scope" => {
                let mut b = reg.variable_scope(op["name"].as_str().unwrap_or(""));
                match &op["reuse"] {
                    Value::Bool(r) => b = b.reuse(*r),
                    Value::String(s) if s == "auto" => b = b.reuse(scope::Reuse::Auto),
                    _ => {}
                }
                if let Some(p) = partitioner(&op["partitioner"]) {
                    b = b.partitioner(p);
                }
                b.enter().map(|g| {
                    guards.push(Box::new(g));
                    Value::Null
                })
            }
            "name_scope" => reg
                .name_scope(op["name"].as_str().unwrap_or(""))
                .enter()
                .map(|g| {
                    guards.push(Box::new(g));
                    Value::Null
                }),
            "exit" => {
                drop(guards.pop());
                Ok(Value::Null)
            }
            "list_global" => Ok(Value::from(
                reg.global_variables()
                    .iter()
                    .map(|v| v.name().to_owned())
                    .collect::<Vec<_>>(),
            )),
            "get_variable" => {
                let mut spec = VarSpec::new();
                if let Some(shape) = op["shape"].as_array() {
                    spec = spec.shape(
                        shape
                            .iter()
                            .map(|d| d.as_u64().unwrap_or(0) as usize)
                            .collect::<Vec<_>>(),
                    );
                }
                if let Some(d) = op["dtype"].as_str() {
                    spec = spec.dtype(d.parse().expect("a dtype"));
                }
                if let Some(p) = partitioner(&op["partitioner"]) {
                    spec = spec.partitioner(p);
                }
                let name = op["name"].as_str().unwrap_or("");
                if op["api"] == "partitioned" {
                    reg.get_partitioned_variable(name, spec).map(|pv| {
                        serde_json::json!({
                            "name": pv.name(),
                            "parts": pv.parts().iter().map(|p| p.name()).collect::<Vec<_>>(),
                            "shapes": pv.parts().iter().map(|p| p.shape().to_vec()).collect::<Vec<_>>(),
                            "partitions": pv.partitions(),
                            "dtype": pv.dtype().to_string(),
                        })
                    })
                } else {
                    reg.get_variable(name, spec).map(|v| {
                        serde_json::json!({
                            "name": v.name(), "shape": v.shape(), "dtype": v.dtype().to_string(),
                        })
                    })
                }
            }
            other => panic!("{at}: unknown op {other}"),
        };
        if expect.is_null() {
            checks.check(outcome.is_ok(), || {
                format!("{at}: unexpected error {outcome:?}")
            });
            continue;
        }
        match (outcome, expect.get("error").and_then(Value::as_str)) {
            (Ok(got), None) => {
                checks.check(&got == expect, || format!("{at}: got {got}, TF {expect}"))
            }
            (Err(e), Some(want)) => {
                let msg = e.to_string();
                let contains = expect["message_contains"].as_str().unwrap_or("");
                checks.check(category(&e) == want && msg.contains(contains), || {
                    format!("{at}: got {} ({msg}), TF {want}: {contains}", category(&e))
                });
            }
            (Ok(got), Some(want)) => {
                checks.check(false, || format!("{at}: got {got}, TF raised {want}"))
            }
            (Err(e), None) => {
                checks.check(false, || format!("{at}: got error {e}, TF gave {expect}"))
            }
        }
    }
    while let Some(g) = guards.pop() {
        drop(g);
    }
}
