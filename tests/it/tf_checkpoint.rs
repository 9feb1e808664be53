//! Loads real TensorFlow checkpoints (V2 TensorBundle, written by `tf.train.Saver`) into a
//! registry through the public restore API and compares every value with `fixture.json`.
//!
//! Reads `tests/data/seed_rnn/`, and every directory listed in `SCOPE_TF_CHECKPOINT_FIXTURE`
//! (`:`-separated; held-out checkpoints of other models in the same layout). Nothing about the model is
//! hard-coded: names, dtypes, shapes and the Adam slot mapping all come from the files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use scope::checkpoint::{format_listing, CheckpointSource, Restore, TensorInfo, TfCheckpoint};
use scope::{DType, Initializer, Registry, Tensor, TensorData, VarSpec, Variable, VariableOptions};
use serde_json::Value;

use crate::support::{fixture_dirs, tensor, tf1, Fixture, Kind};

fn dirs() -> Vec<PathBuf> {
    fixture_dirs(&["seed_rnn"], "SCOPE_TF_CHECKPOINT_FIXTURE")
}

/// A fixture tensor (`{"shape", "data"}`) or scalar (a plain number), as flat `f64`s.
fn json_values(v: &Value) -> Option<Vec<f64>> {
    tensor::data(v).ok()
}

/// Runs `f` inside nested variable scopes, one per component of `path` (`rnn/cell` opens
/// `rnn`, then `cell`), as model code would.
fn in_scopes<R>(
    reg: &Registry,
    path: &[&str],
    f: impl FnOnce() -> Result<R, scope::Error>,
) -> Result<R, scope::Error> {
    match path.split_first() {
        None => f(),
        Some((first, rest)) => reg.variable_scope(*first).with(|_| in_scopes(reg, rest, f)),
    }
}

/// Creates a variable whose op name is exactly `info.name`, the way a model would: open the
/// nested variable scopes of the key's parent path and `get_variable` the last component.
/// If the registry's uniquifier would rename it (a case-insensitive clash between keys),
/// fall back to an absolute name.
fn create_variable(reg: &Registry, info: &TensorInfo, trainable: bool) -> Result<Variable, String> {
    let dtype = info
        .dtype
        .supported()
        .ok_or_else(|| format!("{}: unsupported dtype {}", info.name, info.dtype))?;
    let spec = VarSpec::new()
        .shape(&info.shape)
        .dtype(dtype)
        .initializer(Initializer::Zeros)
        .trainable(trainable);
    let parts: Vec<&str> = info.name.split('/').collect();
    let (last, parents) = parts.split_last().expect("split yields one part");
    let made = in_scopes(reg, parents, || reg.get_variable(last, spec));
    match made {
        Ok(v) if v.name() == info.name => Ok(v),
        _ => {
            let zeros = Tensor::zeros(dtype, &info.shape).map_err(|e| e.to_string())?;
            let options = VariableOptions::named(format!("{}/", info.name)).trainable(trainable);
            Variable::new_with(reg, zeros, options).map_err(|e| format!("{}: {e}", info.name))
        }
    }
}

/// Whether `value` equals `expected` once `expected` is converted to the tensor's dtype
/// (bit-exact: the fixture's decimals round-trip the stored floats).
fn same_values(value: &Tensor, expected: &[f64]) -> bool {
    let want = TensorData::from_f64_iter(value.dtype(), expected.iter().copied())
        .expect("fixture values fit in memory");
    match (value.data(), &want) {
        (TensorData::F32(a), TensorData::F32(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        }
        (a, b) => a == b,
    }
}

struct Expectations<'a> {
    fixture: &'a Value,
    /// Variable names that have Adam slots, longest first.
    slot_vars: Vec<String>,
}

impl Expectations<'_> {
    /// The variable a slot key belongs to, with the optimizer prefix and the slot (`m`/`v`).
    fn slot_of(&self, key: &str) -> Option<(String, String, &'static str)> {
        let (base, slot) = if let Some(b) = key.strip_suffix("/Adam") {
            (b, "m")
        } else if let Some(b) = key.strip_suffix("/Adam_1") {
            (b, "v")
        } else {
            return None;
        };
        self.slot_vars.iter().find_map(|var| {
            let prefix = base.strip_suffix(var.as_str())?;
            (prefix.is_empty() || prefix.ends_with('/'))
                .then(|| (prefix.to_owned(), var.clone(), slot))
        })
    }

    /// What `key` should hold in checkpoint `which` (`initial` or `after_5`).
    fn expected(
        &self,
        which: &str,
        key: &str,
        trained_prefixes: &HashSet<String>,
    ) -> Option<Vec<f64>> {
        let f = self.fixture;
        let hparam = |name: &str| f["adam_hparams"][name].as_f64().map(|x| vec![x]);
        let after = &f["adam"]["after_5"];
        if which == "initial" {
            if let Some(v) = f["variables"].as_array()?.iter().find(|v| v["name"] == key) {
                return json_values(&v["init"]);
            }
        } else if let Some(v) = after["variables"].get(key) {
            return json_values(v);
        }
        if let Some((_, var, slot)) = self.slot_of(key) {
            return if which == "initial" {
                let record = f["variables"]
                    .as_array()?
                    .iter()
                    .find(|v| v["name"] == var.as_str())?;
                let n = tensor::shape(record).ok()?.iter().product();
                Some(vec![0.0; n])
            } else {
                json_values(&after["slots"][var.as_str()][slot])
            };
        }
        for (suffix, beta) in [("beta1_power", "beta1"), ("beta2_power", "beta2")] {
            if let Some(prefix) = key.strip_suffix(suffix) {
                // An optimizer that ran holds beta^(t+1); one that never ran (or the
                // initial state) holds beta.
                return if which == "after_5" && trained_prefixes.contains(prefix) {
                    json_values(&after[suffix])
                } else {
                    hparam(beta)
                };
            }
        }
        None
    }
}

#[test]
fn tf_checkpoints_load_into_a_registry() {
    let mut matched = 0usize;
    let mut failed: Vec<String> = Vec::new();
    let mut unverified: Vec<String> = Vec::new();
    for dir in dirs() {
        match Fixture::load(&dir) {
            Ok(fx) => load_fixture(&fx, &mut matched, &mut failed, &mut unverified),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if !unverified.is_empty() {
        println!(
            "note: {} restored entries have no value in fixture.json to compare: {unverified:?}",
            unverified.len()
        );
    }
    for f in &failed {
        println!("FAILED {f}");
    }
    // Straight to stdout, past libtest's capture: this summary line is the test's report.
    let _ = writeln!(
        std::io::stdout(),
        "tf_checkpoint: {matched} variables matched, {} failed",
        failed.len()
    );
    assert!(failed.is_empty(), "{} failures (see above)", failed.len());
    assert!(matched > 0, "nothing was compared");
}

/// Restores every checkpoint of one fixture into one registry and compares the values.
fn load_fixture(
    fx: &Fixture,
    matched: &mut usize,
    failed: &mut Vec<String>,
    unverified: &mut Vec<String>,
) {
    let (dir, fixture) = (&fx.dir, &fx.json);
    let trainable: HashSet<String> = fixture["variables"]
        .as_array()
        .expect("fixture.variables")
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        .collect();
    let mut slot_vars: Vec<String> = fixture["adam"]["after_5"]["slots"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    slot_vars.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let expect = Expectations { fixture, slot_vars };
    let checkpoints: BTreeMap<String, Value> = fixture["checkpoints"]
        .as_object()
        .expect("fixture.checkpoints")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // One registry for every checkpoint, as a program restoring several would have.
    let reg = Registry::with_seed(0);
    let mut vars: HashMap<String, Variable> = HashMap::new();
    for which in ["initial", "after_5"] {
        let Some(meta) = checkpoints.get(which) else {
            failed.push(format!("fixture.json has no checkpoints.{which}"));
            continue;
        };
        let prefix = dir.join(meta["prefix"].as_str().expect("checkpoint prefix"));
        let ckpt = match TfCheckpoint::open(&prefix) {
            Ok(c) => c,
            Err(e) => {
                failed.push(format!("{which}: {e}"));
                continue;
            }
        };
        println!(
            "{which}: {} ({} tensors)",
            prefix.display(),
            ckpt.tensors().len()
        );
        print!("{}", format_listing(&ckpt));

        // The listing is what TF's checkpoint reader lists.
        let want: Vec<(String, String, Vec<usize>)> = meta["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let shape = tensor::shape(e).unwrap_or_else(|e| panic!("{e}"));
                (
                    e["name"].as_str().expect("name").to_owned(),
                    e["dtype"].as_str().expect("dtype").to_owned(),
                    shape,
                )
            })
            .collect();
        let got: Vec<(String, String, Vec<usize>)> = ckpt
            .list_variables()
            .iter()
            .map(|t| (t.name.clone(), t.dtype.to_string(), t.shape.clone()))
            .collect();
        if got != want {
            failed.push(format!(
                "{which}: listing differs: got {got:?}, want {want:?}"
            ));
        }

        // Build every listed variable, then restore through the public API.
        for info in ckpt.list_variables() {
            if vars.contains_key(&info.name) {
                continue;
            }
            match create_variable(&reg, info, trainable.contains(&info.name)) {
                Ok(v) => {
                    vars.insert(info.name.clone(), v);
                }
                Err(e) => failed.push(format!("{which}: {e}")),
            }
        }
        let targets: Vec<Variable> = ckpt
            .list_variables()
            .iter()
            .filter_map(|t| vars.get(&t.name).cloned())
            .collect();
        let restore = Restore::new(&reg).variables(targets.clone());
        match restore.preflight(&ckpt) {
            Ok(report) => {
                print!("{report}");
                if !report.is_clean() {
                    failed.push(format!("{which}: pre-flight not clean:\n{report}"));
                }
            }
            Err(e) => failed.push(format!("{which}: pre-flight: {e}")),
        }
        if let Err(e) = restore.restore(&ckpt) {
            failed.push(format!("{which}: restore: {e}"));
            continue;
        }

        let trained: HashSet<String> = ckpt
            .keys()
            .iter()
            .filter_map(|k| expect.slot_of(k).map(|(p, _, _)| p))
            .collect();
        for var in &targets {
            match expect.expected(which, var.name(), &trained) {
                Some(values) if same_values(&var.value(), &values) => *matched += 1,
                Some(values) => failed.push(format!(
                    "{which}: {} = {:?}, fixture says {:?}",
                    var.name(),
                    var.value(),
                    &values[..values.len().min(8)]
                )),
                None => unverified.push(format!("{which}: {}", var.name())),
            }
        }
    }
}

/// Each fixture checkpoint, imported under another scope with a prefix remap, saved to
/// safetensors and reopened, holds the same tensors as the TF file.
#[test]
fn tf_checkpoints_convert_to_safetensors_under_a_remapped_scope() {
    for dir in dirs() {
        let fx = Fixture::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        convert_fixture(&fx);
    }
}

fn convert_fixture(fx: &Fixture) {
    let checkpoints = fx["checkpoints"].as_object().expect("checkpoints");
    for (which, meta) in checkpoints {
        let prefix = fx.dir.join(meta["prefix"].as_str().expect("prefix"));
        let ckpt = TfCheckpoint::open(&prefix).expect("open");
        let reg = Registry::new();
        let imported: Vec<Variable> = ckpt
            .list_variables()
            .iter()
            .map(|t| {
                let renamed = TensorInfo {
                    name: format!("import/{}", t.name),
                    ..t.clone()
                };
                create_variable(&reg, &renamed, false).expect("create")
            })
            .collect();
        let report = Restore::new(&reg)
            .variables(imported.clone())
            .remap_prefix("", "import/")
            .restore(&ckpt)
            .unwrap_or_else(|e| panic!("{which}: {e}"));
        assert!(report.is_clean(), "{which}: {report}");
        let bytes =
            scope::checkpoint::to_safetensors_bytes(&imported, &Default::default()).unwrap();
        let st = scope::checkpoint::SafetensorsCheckpoint::from_bytes(bytes).unwrap();
        assert_eq!(st.tensors().len(), ckpt.tensors().len());
        for t in ckpt.list_variables() {
            let key = format!("import/{}", t.name);
            assert_eq!(
                st.read_tensor(&key).unwrap(),
                ckpt.read_tensor(&t.name).unwrap(),
                "{which}: {key}"
            );
        }
    }
}

/// The tests' TF1 writer (`support::tf1`) writes bundles the reader takes: every dtype,
/// scalars and empty tensors, read back bit for bit, from files and from memory; a flipped
/// data byte is caught by the entry's checksum.
#[test]
fn crafted_bundles_of_every_dtype_read_back() {
    let tensors: Vec<(&str, Tensor)> = vec![
        (
            "a/f32",
            Tensor::from_f32(
                &[2, 3],
                vec![1.5, -0.0, f32::MIN_POSITIVE, 3.25, -7.0, 1e-8],
            )
            .unwrap(),
        ),
        ("a/f64", Tensor::from(std::f64::consts::PI)),
        ("b/i32", Tensor::from(vec![1i32, -7, 1 << 30])),
        ("b/i64", Tensor::from(vec![i64::MIN, 0, i64::MAX])),
        ("c/bool", Tensor::from(vec![true, false, true])),
        (
            "c/f16",
            Tensor::from(vec![0.5f32, -1.25]).cast(DType::F16).unwrap(),
        ),
        ("empty", Tensor::zeros(DType::F32, &[0, 4]).unwrap()),
        ("global_step", Tensor::from(5i64)),
    ];
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tf1_writer");
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("model.ckpt");
    tf1::write(&prefix, &refs).unwrap();
    let (index, data) = tf1::bundle(&refs);
    let mut names: Vec<&str> = tensors.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    for ckpt in [
        TfCheckpoint::open(&prefix).unwrap(),
        TfCheckpoint::from_bytes(&index, vec![data.clone()]).unwrap(),
    ] {
        assert_eq!(ckpt.keys(), names);
        for (name, want) in &tensors {
            let got = ckpt.read_tensor(name).unwrap();
            assert_eq!(got.dtype(), want.dtype(), "{name}");
            assert_eq!(got.shape(), want.shape(), "{name}");
            assert_eq!(
                got.to_le_bytes().unwrap(),
                want.to_le_bytes().unwrap(),
                "{name}"
            );
        }
    }
    let mut damaged = data;
    damaged[0] ^= 1; // the first byte of `a/f32`, the first name
    let ckpt = TfCheckpoint::from_bytes(&index, vec![damaged]).unwrap();
    let err = ckpt.read_tensor("a/f32").unwrap_err().to_string();
    assert!(err.contains("a/f32"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a fixture or checkpoint holds is told from its content: the fixture's `format`, the
/// checkpoint's names (an ALBERT checkpoint also has `bert/` names; a folder's name says
/// nothing).
#[test]
fn fixtures_and_checkpoints_are_told_apart_by_content() {
    for dir in fixture_dirs(
        &["seed_rnn", "bert/classifier", "bert/pretraining"],
        "SCOPE_IMPORT_FIXTURES",
    ) {
        let fx = Fixture::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let kind = fx.kind();
        assert!(
            kind.is_some(),
            "{}: format {:?}",
            dir.display(),
            fx.format()
        );
        for name in ["model.ckpt", "model_step3.ckpt", "model_step5.ckpt"] {
            let Ok(ckpt) = fx.checkpoint(name) else {
                continue;
            };
            assert_eq!(
                Kind::of_checkpoint(ckpt.keys()),
                kind,
                "{}/{name}",
                dir.display()
            );
        }
    }
    let albert = [
        "bert/embeddings/word_embeddings",
        "bert/encoder/embedding_hidden_mapping_in/kernel",
        "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/kernel",
        "bert/pooler/dense/kernel",
    ];
    assert_eq!(Kind::of_checkpoint(albert), Some(Kind::Albert));
    assert_eq!(
        Kind::of_checkpoint(["model/wte", "model/h0/attn/c_attn/w", "model/ln_f/g"]),
        Some(Kind::Gpt2)
    );
    assert_eq!(
        Kind::of_checkpoint(["bert/encoder/layer_11/output/dense/kernel", "global_step"]),
        Some(Kind::Bert)
    );
    assert_eq!(Kind::of_checkpoint(["model/hidden/w", "albert/x"]), None);
    assert_eq!(
        Kind::from_format("albert-tf1-fixture/1"),
        Some(Kind::Albert)
    );
}
