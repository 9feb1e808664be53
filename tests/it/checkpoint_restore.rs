//! Safetensors round trips and the restore pre-flight: missing, unexpected, shape and dtype
//! mismatches, did-you-mean, all-or-nothing, partial restore, prefix remap, explicit map.

use std::collections::BTreeMap;
use std::path::PathBuf;

use scope::checkpoint::{
    save_safetensors, save_safetensors_with_metadata, to_safetensors_bytes, CheckpointError,
    CheckpointSource, Restore, SafetensorsCheckpoint, StoredDType, METADATA_TRAINABLE_KEY,
};
use scope::{Collection, DType, Initializer, Registry, Tensor, VarSpec, Variable};

/// A fresh directory for one test's files.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scope-ckpt-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// `name` (a path `a/b/c`) made with `get_variable` inside its parent's variable scope.
fn var(reg: &Registry, name: &str, spec: VarSpec) -> Variable {
    let v = crate::support::variable_at(reg, name, spec).expect("create variable");
    assert_eq!(v.name(), name);
    v
}

fn value(t: impl Into<Tensor>) -> VarSpec {
    VarSpec::new().initializer(Initializer::value(t))
}

fn zeros(shape: &[usize]) -> VarSpec {
    VarSpec::new().shape(shape).initializer(Initializer::Zeros)
}

/// A checkpoint (in memory) of the given variables.
fn ckpt_of(vars: &[Variable]) -> SafetensorsCheckpoint {
    SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(vars, &BTreeMap::new()).unwrap())
        .unwrap()
}

/// A registry with one variable per name, each `[2]` float32 filled with `fill`.
fn reg_with(names: &[&str], fill: f64) -> (Registry, Vec<Variable>) {
    let reg = Registry::new();
    let vars = names
        .iter()
        .map(|n| {
            var(
                &reg,
                n,
                VarSpec::new()
                    .shape([2])
                    .initializer(Initializer::Constant(fill)),
            )
        })
        .collect();
    (reg, vars)
}

#[test]
fn safetensors_round_trip_every_dtype_and_trainable_flags() {
    let dir = temp_dir("round-trip");
    let path = dir.join("model.safetensors");
    let src = Registry::with_seed(3);
    let w = var(
        &src,
        "rnn/input_layer/weights",
        VarSpec::new().shape([3, 4]),
    );
    let f16 = var(
        &src,
        "rnn/half",
        value(Tensor::from(vec![0.5f32, -2.0]).cast(DType::F16).unwrap()),
    );
    let f64v = var(&src, "rnn/double", value(Tensor::from(2.25f64)));
    let i32v = var(&src, "rnn/ints", value(vec![1i32, -2, 3]));
    let i64v = var(
        &src,
        "global_step",
        value(Tensor::from(5i64)).trainable(false),
    );
    let b = var(&src, "rnn/mask", value(vec![true, false, true]));
    let slot = var(
        &src,
        "rnn/trian/rnn/input_layer/weights/Adam",
        zeros(&[3, 4]).trainable(false),
    );
    let mut extra = BTreeMap::new();
    extra.insert("step".to_owned(), "5".to_owned());
    save_safetensors_with_metadata(&path, &src, &extra).unwrap();

    let ckpt = SafetensorsCheckpoint::open(&path).unwrap();
    assert_eq!(ckpt.metadata().get("step").map(String::as_str), Some("5"));
    assert!(ckpt.metadata().contains_key(METADATA_TRAINABLE_KEY));
    assert_eq!(ckpt.trainable("rnn/input_layer/weights"), Some(true));
    assert_eq!(ckpt.trainable("global_step"), Some(false));
    assert_eq!(ckpt.trainable(slot.name()), Some(false));
    let keys = ckpt.keys();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "listing is sorted");
    assert_eq!(keys.len(), 7);
    let info = ckpt.info("rnn/input_layer/weights").unwrap();
    assert_eq!(info.dtype, StoredDType::Supported(DType::F32));
    assert_eq!(info.shape, vec![3, 4]);
    for v in [&w, &f16, &f64v, &i32v, &i64v, &b, &slot] {
        assert_eq!(
            ckpt.read_tensor(v.name()).unwrap(),
            v.value(),
            "{}",
            v.name()
        );
    }

    // Restore into a second program that built the same model with other values.
    let dst = Registry::with_seed(99);
    let targets: Vec<Variable> = src
        .global_variables()
        .iter()
        .map(|v| {
            var(
                &dst,
                v.name(),
                VarSpec::new()
                    .shape(v.shape())
                    .dtype(v.dtype())
                    .initializer(Initializer::Zeros)
                    .trainable(v.trainable()),
            )
        })
        .collect();
    let report = Restore::new(&dst).restore(&ckpt).unwrap();
    assert!(report.is_clean());
    assert_eq!(report.matched.len(), 7);
    for (a, b) in src.global_variables().iter().zip(&targets) {
        assert_eq!(a.value(), b.value(), "{}", a.name());
    }

    // A collection saves just its members.
    let path2 = dir.join("trainable.safetensors");
    save_safetensors(&path2, &src.collection(Collection::Trainable, None)).unwrap();
    let t = SafetensorsCheckpoint::open(&path2).unwrap();
    assert!(t.info("global_step").is_none());
    assert_eq!(t.tensors().len(), 5);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn saving_the_same_variable_twice_is_an_error() {
    let (_, vars) = reg_with(&["a"], 1.0);
    let twice = vec![vars[0].clone(), vars[0].clone()];
    let err = to_safetensors_bytes(&twice, &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, CheckpointError::DuplicateName { ref name } if name == "a"));
}

#[test]
fn missing_variable_fails_strict_restore_and_changes_nothing() {
    let (_, src) = reg_with(&["rnn/w"], 1.0);
    let ckpt = ckpt_of(&src);
    let (reg, vars) = reg_with(&["rnn/w", "rnn/extra"], 0.0);
    let err = Restore::new(&reg).restore(&ckpt).unwrap_err();
    let CheckpointError::Preflight { report } = &err else {
        panic!("expected a pre-flight error, got {err}")
    };
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.missing[0].variable, "rnn/extra");
    assert_eq!(report.matched.len(), 1);
    assert!(!report.passes());
    // All or nothing: even the matching variable kept its value.
    assert_eq!(vars[0].value().to_f64_vec(), vec![0.0, 0.0]);
    let msg = err.to_string();
    assert!(msg.contains("no variable was changed"), "{msg}");
    assert!(msg.contains("rnn/extra"), "{msg}");
}

#[test]
fn unexpected_keys_fail_unless_allowed() {
    let (_, src) = reg_with(&["rnn/w", "rnn/trian/rnn/w/Adam"], 1.0);
    let ckpt = ckpt_of(&src);
    let (reg, vars) = reg_with(&["rnn/w"], 0.0);
    let report = Restore::new(&reg).preflight(&ckpt).unwrap();
    assert_eq!(report.unexpected.len(), 1);
    assert_eq!(report.unexpected[0].key, "rnn/trian/rnn/w/Adam");
    assert!(Restore::new(&reg).restore(&ckpt).is_err());
    assert_eq!(vars[0].value().to_f64_vec(), vec![0.0, 0.0]);
    let report = Restore::new(&reg)
        .allow_unexpected()
        .restore(&ckpt)
        .unwrap();
    assert!(report.passes() && !report.is_clean());
    assert_eq!(vars[0].value().to_f64_vec(), vec![1.0, 1.0]);
}

#[test]
fn shape_and_dtype_mismatches_are_reported() {
    let src = Registry::new();
    let a = var(&src, "a", zeros(&[2, 3]));
    let b = var(&src, "b", zeros(&[4]).dtype(DType::F64));
    let ckpt = ckpt_of(&[a, b]);
    let reg = Registry::new();
    var(&reg, "a", zeros(&[3, 2]));
    var(&reg, "b", zeros(&[4]));
    let report = Restore::new(&reg).preflight(&ckpt).unwrap();
    assert_eq!(report.shape_mismatches.len(), 1);
    let m = &report.shape_mismatches[0];
    assert_eq!(
        (m.variable.as_str(), &m.shape[..], &m.stored_shape[..]),
        ("a", &[3, 2][..], &[2, 3][..])
    );
    assert_eq!(report.dtype_mismatches.len(), 1);
    let m = &report.dtype_mismatches[0];
    assert_eq!(m.dtype, DType::F32);
    assert_eq!(m.stored_dtype, StoredDType::Supported(DType::F64));
    let table = report.to_string();
    assert!(
        table.contains("shape mismatch") && table.contains("(2, 3)"),
        "{table}"
    );
    assert!(
        table.contains("dtype mismatch") && table.contains("float64 (4,)"),
        "{table}"
    );
    assert!(Restore::new(&reg).restore(&ckpt).is_err());
}

#[test]
fn did_you_mean_for_typos_and_prefixes() {
    let (_, src) = reg_with(&["rnn/input_layer/weights", "rnn/output_layer/biases"], 1.0);
    let ckpt = ckpt_of(&src);
    let (reg, _) = reg_with(&["rnn/input_layer/wieghts", "rnn/output_layer/biases"], 0.0);
    let report = Restore::new(&reg).preflight(&ckpt).unwrap();
    assert_eq!(report.missing.len(), 1);
    assert_eq!(
        report.missing[0].suggestion.as_deref(),
        Some("rnn/input_layer/weights")
    );
    assert_eq!(
        report.unexpected[0].suggestion.as_deref(),
        Some("rnn/input_layer/wieghts")
    );
    let table = report.to_string();
    assert!(table.contains("did you mean"), "{table}");
    assert!(table.contains("`rnn/input_layer/weights`"), "{table}");
    println!("{table}");

    // A whole model under another scope: suggestions plus a remap hint.
    let (reg, _) = reg_with(
        &[
            "model/rnn/input_layer/weights",
            "model/rnn/output_layer/biases",
        ],
        0.0,
    );
    let report = Restore::new(&reg).preflight(&ckpt).unwrap();
    assert_eq!(
        report.missing[0].suggestion.as_deref(),
        Some("rnn/input_layer/weights")
    );
    assert_eq!(
        report.remap_hint,
        Some(("rnn/".to_owned(), "model/rnn/".to_owned()))
    );
    let table = report.to_string();
    assert!(
        table.contains(r#".remap_prefix("rnn/", "model/rnn/")"#),
        "{table}"
    );
    println!("{table}");
}

#[test]
fn partial_restore_restores_what_matches() {
    let src = Registry::new();
    let a = var(&src, "a", value(vec![1.0f32, 2.0]));
    let b = var(&src, "b", value(vec![3.0f32, 4.0, 5.0]));
    let u = var(&src, "unused", value(vec![9.0f32]));
    let ckpt = ckpt_of(&[a, b, u]);
    let reg = Registry::new();
    let a2 = var(&reg, "a", zeros(&[2]));
    let b2 = var(&reg, "b", zeros(&[2]));
    let c2 = var(&reg, "c", zeros(&[1]));
    let report = Restore::new(&reg).partial().restore(&ckpt).unwrap();
    assert_eq!(report.matched.len(), 1);
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.shape_mismatches.len(), 1);
    assert_eq!(report.unexpected.len(), 1);
    assert_eq!(a2.value().to_f64_vec(), vec![1.0, 2.0]);
    assert_eq!(b2.value().to_f64_vec(), vec![0.0, 0.0]);
    assert_eq!(c2.value().to_f64_vec(), vec![0.0]);
    assert!(report.partial);
}

#[test]
fn prefix_remap_loads_rnn_into_model_rnn() {
    let (_, src) = reg_with(&["rnn/cell/kernel", "rnn/cell/bias"], 4.0);
    let ckpt = ckpt_of(&src);
    let (reg, vars) = reg_with(&["model/rnn/cell/kernel", "model/rnn/cell/bias"], 0.0);
    assert!(Restore::new(&reg).restore(&ckpt).is_err());
    let report = Restore::new(&reg)
        .remap_prefix("rnn/", "model/rnn/")
        .restore(&ckpt)
        .unwrap();
    assert!(report.is_clean());
    assert_eq!(report.matched[0].key, "rnn/cell/kernel");
    assert_eq!(report.matched[0].variable, "model/rnn/cell/kernel");
    for v in &vars {
        assert_eq!(v.value().to_f64_vec(), vec![4.0, 4.0]);
    }

    // init_from_checkpoint style: only the mapped scope is restored; the rest is left
    // alone and not reported missing.
    let (reg, vars) = reg_with(
        &["model/rnn/cell/kernel", "model/rnn/cell/bias", "head/w"],
        0.0,
    );
    let report = Restore::new(&reg)
        .remap_prefix("rnn/", "model/rnn/")
        .only_mapped()
        .restore(&ckpt)
        .unwrap();
    assert_eq!(report.matched.len(), 2);
    assert!(report.missing.is_empty());
    assert_eq!(vars[2].value().to_f64_vec(), vec![0.0, 0.0]);
}

#[test]
fn explicit_map_like_saver_var_list_dict() {
    let (_, src) = reg_with(&["old/name", "other"], 7.0);
    let ckpt = ckpt_of(&src);
    let (reg, vars) = reg_with(&["new/name", "other"], 0.0);
    let report = Restore::new(&reg)
        .variables(vec![vars[1].clone()])
        .map("old/name", "new/name")
        .restore(&ckpt)
        .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(vars[0].value().to_f64_vec(), vec![7.0, 7.0]);
    assert_eq!(vars[1].value().to_f64_vec(), vec![7.0, 7.0]);

    // Only the mapped variable, leaving `other` in the checkpoint alone.
    let (reg, vars) = reg_with(&["new/name", "other"], 0.0);
    let report = Restore::new(&reg)
        .map("old/name", "new/name")
        .only_mapped()
        .restore(&ckpt)
        .unwrap();
    assert_eq!(report.matched.len(), 1);
    assert!(report.unexpected.is_empty());
    assert_eq!(vars[1].value().to_f64_vec(), vec![0.0, 0.0]);

    let err = Restore::new(&reg)
        .map("old/name", "new/nmae")
        .restore(&ckpt)
        .unwrap_err();
    assert!(
        matches!(&err, CheckpointError::UnknownVariable { suggestion: Some(s), .. } if s == "new/name"),
        "{err}"
    );
    let err = Restore::new(&reg)
        .map("old/name", "new/name")
        .map("other", "new/name")
        .restore(&ckpt)
        .unwrap_err();
    assert!(
        matches!(err, CheckpointError::ConflictingMapping { .. }),
        "{err}"
    );
}

#[test]
fn optimizer_slots_round_trip() {
    let src = Registry::with_seed(5);
    let w = var(&src, "rnn/w", VarSpec::new().shape([3]));
    let m = var(
        &src,
        "rnn/trian/rnn/w/Adam",
        value(vec![0.1f32, 0.2, 0.3]).trainable(false),
    );
    let v = var(
        &src,
        "rnn/trian/rnn/w/Adam_1",
        value(vec![0.01f32, 0.02, 0.03]).trainable(false),
    );
    let p = var(
        &src,
        "rnn/trian/beta1_power",
        value(Tensor::from(0.729f32)).trainable(false),
    );
    let dir = temp_dir("slots");
    let path = dir.join("train.safetensors");
    save_safetensors(&path, &src).unwrap();

    let dst = Registry::with_seed(6);
    let restored: Vec<Variable> = [&w, &m, &v, &p]
        .iter()
        .map(|x| var(&dst, x.name(), zeros(x.shape()).trainable(x.trainable())))
        .collect();
    Restore::new(&dst)
        .restore(&SafetensorsCheckpoint::open(&path).unwrap())
        .unwrap();
    for (a, b) in [&w, &m, &v, &p].iter().zip(&restored) {
        assert_eq!(a.value(), b.value(), "{}", a.name());
        assert_eq!(a.trainable(), b.trainable());
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn file_errors_name_the_file() {
    let err = SafetensorsCheckpoint::open("/nonexistent/dir/model.safetensors").unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }));
    assert!(err
        .to_string()
        .contains("/nonexistent/dir/model.safetensors"));
    let err =
        SafetensorsCheckpoint::from_bytes(b"\xff\xff\xff\xff\xff\xff\xff\x7fgarbage".to_vec())
            .unwrap_err();
    assert!(matches!(err, CheckpointError::Safetensors { .. }), "{err}");
    let err = scope::checkpoint::TfCheckpoint::open("/nonexistent/model.ckpt").unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/model.ckpt.index"),
        "{err}"
    );
}

#[test]
fn a_corrupt_tensor_fails_the_restore_before_any_variable_changes() {
    let dir = crate::support::data_dir().join("seed_rnn");
    let index = std::fs::read(dir.join("model.ckpt.index")).unwrap();
    let mut data = std::fs::read(dir.join("model.ckpt.data-00000-of-00001")).unwrap();
    let clean = scope::checkpoint::TfCheckpoint::from_bytes(&index, vec![data.clone()]).unwrap();
    // Damage the last tensor's bytes: the pre-flight (names, shapes, dtypes) still passes.
    let last = data.len() - 1;
    data[last] ^= 0x40;
    let damaged = scope::checkpoint::TfCheckpoint::from_bytes(&index, vec![data]).unwrap();

    let reg = Registry::new();
    let vars: Vec<Variable> = clean
        .tensors()
        .iter()
        .map(|t| var(&reg, &t.name, zeros(&t.shape)))
        .collect();
    assert!(Restore::new(&reg).preflight(&damaged).unwrap().is_clean());
    for restore in [Restore::new(&reg), Restore::new(&reg).partial()] {
        let err = restore.restore(&damaged).unwrap_err();
        assert!(matches!(err, CheckpointError::Checksum { .. }), "{err}");
        for v in &vars {
            assert!(
                v.value().to_f64_vec().iter().all(|&x| x == 0.0),
                "{} changed",
                v.name()
            );
        }
    }
    Restore::new(&reg).restore(&clean).unwrap();
    assert!(vars
        .iter()
        .any(|v| v.value().to_f64_vec().iter().any(|&x| x != 0.0)));
}

/// A save replaces the previous file in one rename and leaves no temporary behind, also when
/// it fails.
#[test]
fn saving_replaces_the_file_atomically() {
    use scope::checkpoint::save_safetensors;
    let dir = std::env::temp_dir().join(format!("scope-atomic-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let reg = Registry::with_seed(3);
    let w = reg.get_variable("w", VarSpec::new().shape([2])).unwrap();
    save_safetensors(&path, &reg).unwrap();
    w.assign(vec![4.0f32, 5.0]).unwrap();
    save_safetensors(&path, &reg).unwrap();
    let ckpt = scope::checkpoint::SafetensorsCheckpoint::open(&path).unwrap();
    use scope::checkpoint::CheckpointSource;
    assert_eq!(ckpt.read_tensor("w").unwrap(), w.value());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("model.safetensors")]
    );
    assert!(save_safetensors(dir.join("missing/model.safetensors"), &reg).is_err());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
