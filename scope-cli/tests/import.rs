//! Round-trips checkpoints through `scope import`: for each one, the binary writes the
//! `model!` source; all of them are compiled together into one crate (under
//! `CARGO_TARGET_TMPDIR`, depending on this repository's `scope`), which builds each model in
//! a fresh registry, compares its variables with the checkpoint's model variables (names,
//! shapes, dtypes: none missing, none extra; a partitioned variable's parts by their full
//! variable, and their slices equal to the checkpoint's), and restores the checkpoint into it
//! strictly (every variable found, shapes and dtypes equal; the only unused keys are training
//! state).
//!
//! Checkpoints: every one in `tests/data/seed_rnn`, `tests/data/bert/{classifier,
//! pretraining}` and `tests/data/partitioned/{p6,p_dtypes}` (TF's partitioned variables,
//! saved in slices; vendored copies of `../shared/fixtures`), three safetensors files written by
//! this crate (the seed RNN's model variables; awkward names and dtypes, see
//! `awkward_safetensors`; names that escape to one identifier, see `escaped_safetensors`), and every
//! checkpoint in the directories listed in `SCOPE_IMPORT_FIXTURES` (`:`-separated). Prints
//! `import: N checkpoints round-tripped, M failed`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use scope::checkpoint::{
    save_safetensors, CheckpointSource, SafetensorsCheckpoint, TensorInfo, TfCheckpoint,
};
use scope::{DType, Registry, VarSpec, Variable};

#[path = "../../tests/support/mod.rs"]
mod support;

use support::{data_dir, Kind};

/// What this test counts as training state, stated independently of the importer: the last
/// name component is an optimizer slot or a step counter.
fn is_training_state(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    matches!(
        last,
        "Adam" | "Adam_1" | "adam_m" | "adam_v" | "Momentum" | "global_step"
    ) || (last.starts_with("beta1_power") || last.starts_with("beta2_power"))
}

struct Case {
    label: String,
    path: PathBuf,
    tf: bool,
    name: String,
}

/// The workspace: the `scope` crate the generated sources depend on.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The checkpoints in `dir` (TF1 prefixes and safetensors files), or `dir` itself.
fn checkpoints(dir: &Path) -> Vec<(PathBuf, bool)> {
    if !dir.is_dir() {
        let tf = !dir.to_string_lossy().ends_with(".safetensors");
        return vec![(dir.to_path_buf(), tf)];
    }
    let mut out: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| {
            let p = e.ok()?.path();
            let s = p.to_string_lossy().into_owned();
            if let Some(prefix) = s.strip_suffix(".index") {
                Some((PathBuf::from(prefix), true))
            } else if s.ends_with(".safetensors") {
                Some((p, false))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or('M');
            std::iter::once(first).chain(c).collect::<String>()
        })
        .collect::<String>()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_owned()
}

/// Creates variable `name` (its scopes opened as a model would) in `reg`.
fn create(reg: &Registry, name: &str, shape: &[usize], dtype: DType) -> Variable {
    let spec = VarSpec::new().shape(shape).dtype(dtype);
    match name.rsplit_once('/') {
        Some((scope, var)) => reg
            .variable_scope(scope)
            .with(|_| reg.get_variable(var, spec))
            .unwrap(),
        None => reg.get_variable(name, spec).unwrap(),
    }
}

/// A safetensors copy of the seed RNN's model variables, written the way this crate writes
/// checkpoints.
fn seed_safetensors(dir: &Path) -> PathBuf {
    let ckpt = TfCheckpoint::open(data_dir().join("seed_rnn/model.ckpt")).unwrap();
    let reg = Registry::new();
    for t in ckpt.tensors() {
        if is_training_state(&t.name) {
            continue;
        }
        let v = create(&reg, &t.name, &t.shape, t.dtype.supported().unwrap());
        v.assign(ckpt.read_tensor(&t.name).unwrap()).unwrap();
    }
    let path = dir.join("seed_rnn.safetensors");
    save_safetensors(&path, &reg).unwrap();
    path
}

/// A checkpoint of names that no Rust identifier carries, keywords, names that flatten to
/// one field, a variable beside a scope of its name, tf.layers' `dense_1`, a one-layer run,
/// dtypes other than float32, and a variable at the root.
fn awkward_safetensors(dir: &Path) -> PathBuf {
    let reg = Registry::new();
    for (name, shape, dtype) in [
        ("m/self/w", &[2][..], DType::F32),
        ("m/LayerNorm/gamma", &[2], DType::F32),
        ("m/a.b", &[1], DType::F32),
        ("m/a_b", &[1], DType::F32),
        ("m/a-b", &[1], DType::F32),
        ("m/a__b", &[1], DType::F32),
        ("m/_a", &[1], DType::F32),
        ("m/type", &[1], DType::F32),
        ("m/super", &[1], DType::F32),
        ("m/0", &[1], DType::F32),
        ("m/x", &[3], DType::F32),
        ("m/x/y", &[3], DType::F32),
        ("m/dense/kernel", &[4, 8], DType::F32),
        ("m/dense/bias", &[8], DType::F32),
        ("m/dense_1/kernel", &[4, 8], DType::F32),
        ("m/dense_1/bias", &[8], DType::F32),
        ("m/block_0/w", &[8], DType::F64),
        ("m/block_0/steps", &[], DType::I64),
        ("m/mask", &[4], DType::Bool),
        ("top", &[2, 3], DType::F32),
    ] {
        create(&reg, name, shape, dtype);
    }
    let path = dir.join("awkward.safetensors");
    save_safetensors(&path, &reg).unwrap();
    path
}

/// Names that give one identifier once written as Rust (keywords escaped, `_` trimmed):
/// each must become its own field and keep its TF name.
fn escaped_safetensors(dir: &Path) -> PathBuf {
    let reg = Registry::new();
    for name in [
        "e/self",
        "e/self_",
        "e/type",
        "e/type_",
        "e/super/w",
        "e/super_/w",
        "e/crate/w",
        "e/crate_",
    ] {
        create(&reg, name, &[2], DType::F32);
    }
    let path = dir.join("escaped.safetensors");
    save_safetensors(&path, &reg).unwrap();
    path
}

fn open(case: &Case) -> Box<dyn CheckpointSource> {
    if case.tf {
        Box::new(TfCheckpoint::open(&case.path).unwrap())
    } else {
        Box::new(SafetensorsCheckpoint::open(&case.path).unwrap())
    }
}

fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn tensor_list(tensors: &[&TensorInfo]) -> String {
    let mut out = String::from("&[");
    for t in tensors {
        let dims: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        let _ = write!(
            out,
            "({}, &[{}], {}), ",
            lit(&t.name),
            dims.join(", "),
            lit(&t.dtype.to_string())
        );
    }
    out.push(']');
    out
}

const MAIN: &str = r#"
use scope::checkpoint::{CheckpointSource, Restore, SafetensorsCheckpoint, TfCheckpoint};
use scope::{Model, Registry};

type Listing = &'static [(&'static str, &'static [usize], &'static str)];

struct Case {
    label: &'static str,
    path: &'static str,
    tf: bool,
    build: fn(&Registry) -> scope::Result<Vec<String>>,
    model: Listing,
    state: &'static [&'static str],
}

fn check(case: &Case) -> Result<usize, String> {
    let reg = Registry::new();
    let held = (case.build)(&reg).map_err(|e| format!("build: {e}"))?;
    // A part of a partitioned variable stands for its full variable (as the checkpoint
    // lists it): once, by its full name and shape.
    let mut created: Vec<(String, Vec<usize>, String)> = reg
        .global_variables()
        .iter()
        .map(|v| match v.save_slice_info() {
            Some(info) => (info.full_name.clone(), info.full_shape.clone(), v.dtype().to_string()),
            None => (v.name().to_owned(), v.shape().to_vec(), v.dtype().to_string()),
        })
        .collect();
    let mut held_sorted = held.clone();
    held_sorted.sort();
    let mut names: Vec<String> = reg
        .global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    names.sort();
    if held_sorted != names {
        return Err("the model does not hold exactly the registry's variables".to_owned());
    }
    created.sort();
    created.dedup();
    let mut expected: Vec<(String, Vec<usize>, String)> = case
        .model
        .iter()
        .map(|(n, s, d)| (n.to_string(), s.to_vec(), d.to_string()))
        .collect();
    expected.sort();
    let missing: Vec<_> = expected.iter().filter(|e| !created.contains(e)).collect();
    let extra: Vec<_> = created.iter().filter(|c| !expected.contains(c)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!("missing {missing:?}; extra {extra:?}"));
    }
    let source: Box<dyn CheckpointSource> = if case.tf {
        Box::new(TfCheckpoint::open(case.path).map_err(|e| e.to_string())?)
    } else {
        Box::new(SafetensorsCheckpoint::open(case.path).map_err(|e| e.to_string())?)
    };
    let report = Restore::new(&reg)
        .allow_unexpected()
        .restore(&*source)
        .map_err(|e| format!("restore: {e}"))?;
    let keys: std::collections::BTreeSet<&str> =
        report.matched.iter().map(|m| m.key.as_str()).collect();
    if keys.len() != expected.len() || !report.passes() {
        return Err(format!("restore: {report}"));
    }
    let mut unused: Vec<&str> = report.unexpected.iter().map(|u| u.key.as_str()).collect();
    unused.sort();
    let mut state = case.state.to_vec();
    state.sort();
    if unused != state {
        return Err(format!("unused keys {unused:?}, expected the training state {state:?}"));
    }
    let mut parts: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for v in reg.global_variables() {
        let stored = match v.save_slice_info() {
            Some(info) => {
                parts.entry(info.full_name.clone()).or_default().push(info.slice.to_string());
                source.read_region(&info.full_name, &info.slice)
            }
            None => source.read_tensor(v.name()),
        };
        if v.value() != stored.map_err(|e| e.to_string())? {
            return Err(format!("{}: value differs after the restore", v.name()));
        }
    }
    // Every variable TF saved in slices is declared partitioned, its parts TF's slices.
    if case.tf {
        let tf = TfCheckpoint::open(case.path).map_err(|e| e.to_string())?;
        for (name, _, _) in &expected {
            let mut want: Vec<String> = tf.slices(name).iter().map(|s| s.to_string()).collect();
            let mut got = parts.remove(name).unwrap_or_default();
            want.sort();
            got.sort();
            if got != want {
                return Err(format!("{name}: parts {got:?}, the checkpoint's slices {want:?}"));
            }
        }
    }
    Ok(expected.len())
}

fn main() {
    let mut failed = 0;
    for case in CASES {
        match check(case) {
            Ok(n) => println!("ok {} ({n} variables)", case.label),
            Err(e) => {
                failed += 1;
                println!("FAIL {}: {e}", case.label);
            }
        }
    }
    std::process::exit(i32::from(failed > 0));
}
"#;

#[test]
fn import_round_trips() {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("import_roundtrip");
    std::fs::create_dir_all(work.join("src")).unwrap();
    let mut dirs: Vec<PathBuf> = [
        "seed_rnn",
        "bert/classifier",
        "bert/pretraining",
        "partitioned/p6",
        "partitioned/p_dtypes",
    ]
    .iter()
    .map(|d| data_dir().join(d))
    .collect();
    if let Some(extra) = std::env::var_os("SCOPE_IMPORT_FIXTURES") {
        dirs.extend(std::env::split_paths(&extra));
    }
    let mut cases = Vec::new();
    for dir in &dirs {
        let found = checkpoints(dir);
        assert!(!found.is_empty(), "no checkpoint in {}", dir.display());
        let stem = dir.file_name().unwrap_or_default().to_string_lossy();
        for (path, tf) in found {
            cases.push(Case {
                label: path.display().to_string(),
                path,
                tf,
                name: camel(&stem),
            });
        }
    }
    for (path, name) in [
        (seed_safetensors(&work), "SeedRnn"),
        (awkward_safetensors(&work), "Awkward"),
        (escaped_safetensors(&work), "Escaped"),
    ] {
        cases.push(Case {
            label: path.display().to_string(),
            path,
            tf: false,
            name: name.to_owned(),
        });
    }

    // Generate: one module per checkpoint, through the binary.
    let mut lib = String::from("//! Generated by tests/import.rs.\n#![deny(warnings)]\n");
    let mut table = String::from("const CASES: &[Case] = &[\n");
    let mut failed_early = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let out = Command::new(env!("CARGO_BIN_EXE_scope"))
            .args(["import", &case.path.to_string_lossy(), "--name", &case.name])
            .output()
            .unwrap();
        if !out.status.success() {
            failed_early.push(format!(
                "{}: scope import failed: {}",
                case.label,
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let source = String::from_utf8(out.stdout).unwrap();
        let ckpt = open(case);
        let kind = Kind::of_checkpoint(ckpt.tensors().iter().map(|t| t.name.as_str()));
        if kind == Some(Kind::Bert) {
            // One repeated layer type, not one per layer, and the dimensions by name.
            assert!(source.contains("#[model(repeat = num_layers)]"), "{source}");
            assert!(!source.contains("layer_1"), "{source}");
            for arg in [
                "hidden: usize",
                "intermediate_size: usize",
                "vocab_size: usize",
                "max_positions: usize",
                "type_vocab_size: usize",
                "num_layers: usize",
            ] {
                assert!(source.contains(arg), "`{arg}` missing in\n{source}");
            }
        }
        std::fs::write(work.join(format!("src/ckpt_{i}.rs")), &source).unwrap();
        let _ = writeln!(lib, "pub mod ckpt_{i};");
        let (state, model): (Vec<&TensorInfo>, Vec<&TensorInfo>) = ckpt
            .tensors()
            .iter()
            .partition(|t| is_training_state(&t.name));
        let state: Vec<String> = state.iter().map(|t| lit(&t.name)).collect();
        let _ = writeln!(
            table,
            "    Case {{ label: {}, path: {}, tf: {}, build: |reg| import_roundtrip::ckpt_{i}::build(reg).map(|m| m.variables().into_iter().map(|(n, _)| n).collect()), model: {}, state: &[{}] }},",
            lit(&case.label),
            lit(&case.path.to_string_lossy()),
            case.tf,
            tensor_list(&model),
            state.join(", ")
        );
    }
    table.push_str("];\n");
    std::fs::write(work.join("src/lib.rs"), lib).unwrap();
    std::fs::write(work.join("src/main.rs"), format!("{MAIN}\n{table}")).unwrap();
    std::fs::write(
        work.join("Cargo.toml"),
        format!(
            "[package]\nname = \"import-roundtrip\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[workspace]\n\n[dependencies]\nscope = {{ path = {}, \
             default-features = false }}\n\n[profile.dev]\ndebug = 0\n",
            lit(&root().to_string_lossy())
        ),
    )
    .unwrap();
    // The same versions as this workspace, without resolving anything.
    std::fs::copy(root().join("Cargo.lock"), work.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["run", "--quiet"])
        .current_dir(&work)
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    let ok = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    let failed = cases.len() - ok;
    println!("import: {ok} checkpoints round-tripped, {failed} failed");
    for f in &failed_early {
        println!("FAIL {f}");
    }
    assert!(
        failed == 0 && out.status.success(),
        "{failed} failed; the generated crate is in {}\n{stderr}",
        work.display()
    );
}
