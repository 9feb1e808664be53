//! Mapping errors are whole reports naming the culprits, and nothing is read, written or
//! restored when a mapping does not apply.

use scope::checkpoint::{
    to_safetensors_bytes, CheckpointError, CheckpointSource, Mapping, MappingProblem, Restore,
    SafetensorsCheckpoint, Save, Side, TensorInfo,
};
use scope::{DType, Initializer, Registry, VarSpec};

/// A TF-named checkpoint of a two-layer model, and a registry expecting dotted names.
fn setup() -> (SafetensorsCheckpoint, Registry) {
    let tf = Registry::with_seed(3);
    for layer in ["layer_0", "layer_1"] {
        tf.variable_scope(format!("enc/{layer}").as_str())
            .with(|_| {
                tf.get_variable("kernel", VarSpec::new().shape([3, 2]))?;
                tf.get_variable("bias", VarSpec::new().shape([2]))
            })
            .unwrap();
    }
    tf.get_variable(
        "global_step",
        VarSpec::new().shape([]).dtype(DType::I64).trainable(false),
    )
    .unwrap();
    let ckpt =
        SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&tf, &Default::default()).unwrap())
            .unwrap();
    let reg = Registry::new();
    for layer in ["0", "1"] {
        for (leaf, shape) in [("weight", &[2, 3][..]), ("bias", &[2][..])] {
            reg.get_variable(
                &format!("enc.layer.{layer}.{leaf}"),
                VarSpec::new().shape(shape).initializer(Initializer::Ones),
            )
            .unwrap();
        }
    }
    (ckpt, reg)
}

fn good() -> Mapping {
    Mapping::new("tf-to-dotted")
        .rename(r"enc/layer_(\d+)/kernel", "enc.layer.${1}.weight")
        .unwrap()
        .rename(r"enc/layer_(\d+)/bias", "enc.layer.${1}.bias")
        .unwrap()
        .transpose(r".*/kernel")
        .unwrap()
        .skip("global_step")
        .unwrap()
}

/// Runs `mapping` both ways (restore through a view, save through it): each must refuse,
/// loading and writing nothing. Returns the error's message and report.
fn refused(mapping: &Mapping) -> (String, Vec<MappingProblem>) {
    let (ckpt, reg) = setup();
    let err = mapping.view(&ckpt).map(|v| Restore::new(&reg).restore(&v));
    let Err(err) = err else {
        panic!("the mapping applied")
    };
    for v in reg.global_variables() {
        assert!(v.value().to_f64_vec().iter().all(|&x| x == 1.0), "loaded");
    }
    let dir = std::env::temp_dir().join(format!("scope-map-{}", std::process::id()));
    let path = dir.join(format!("{}.safetensors", mapping.name()));
    let saved = Save::from_checkpoint(&ckpt).mapping(mapping).save(&path);
    assert!(saved.is_err() && !path.exists(), "written");
    let message = err.to_string();
    assert!(
        message.contains("nothing was read, written or restored"),
        "{message}"
    );
    let CheckpointError::Mapping { report } = err else {
        panic!("{err:?}")
    };
    (message, report.problems)
}

#[test]
fn the_good_mapping_restores_and_transposes() {
    let (ckpt, reg) = setup();
    let view = good().view(&ckpt).unwrap();
    let shown = view.report().to_string();
    assert!(
        shown.contains("enc/layer_1/kernel  ->  enc.layer.1.weight  float32 (2, 3)  transposed"),
        "{shown}"
    );
    assert!(
        shown.contains("global_step         (skipped)  [rule 4]"),
        "{shown}"
    );
    Restore::new(&reg).restore(&view).unwrap();
    let k = ckpt.read_tensor("enc/layer_0/kernel").unwrap().to_f64_vec();
    let w = reg
        .variable("enc.layer.0.weight")
        .unwrap()
        .value()
        .to_f64_vec();
    assert_eq!(w, [k[0], k[2], k[4], k[1], k[3], k[5]]);
}

#[test]
fn an_unused_rule_is_an_error_naming_it_with_the_near_miss() {
    let m = good()
        .rename(r"enc/layer_(\d+)/kernal", "enc.k.$1")
        .unwrap()
        .with_name("typo");
    let (message, problems) = refused(&m);
    assert!(
        message.contains(
            "rule 5 (rename `enc/layer_(\\d+)/kernal` -> `enc.k.$1`) matched no name; did you \
             mean `enc/layer_0/kernel`? it matches `enc/layer_0/kern` then `el`"
        ),
        "{message}"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn a_name_mapped_twice_is_an_error_naming_both_rules() {
    let m = good().keep(r"enc/layer_1/.*").unwrap().with_name("twice");
    let (message, problems) = refused(&m);
    for name in ["enc/layer_1/kernel", "enc/layer_1/bias"] {
        assert!(
            message.contains(&format!("`{name}` is mapped twice, by rule ")),
            "{message}"
        );
    }
    assert!(
        message.contains("and rule 5 (keep `enc/layer_1/.*`)"),
        "{message}"
    );
    assert_eq!(problems.len(), 2);
}

#[test]
fn two_names_to_one_target_is_an_error_naming_both() {
    let m = Mapping::new("collide")
        .rename(r"enc/layer_\d+/kernel", "enc.weight")
        .unwrap()
        .rename(r"enc/layer_(\d+)/bias", "enc.layer.${1}.bias")
        .unwrap()
        .skip("global_step")
        .unwrap();
    let (message, problems) = refused(&m);
    assert!(
        message.contains("`enc/layer_0/kernel`, `enc/layer_1/kernel` all map to `enc.weight`"),
        "{message}"
    );
    assert_eq!(problems.len(), 1);
}

#[test]
fn an_unmapped_name_is_an_error_with_the_nearest_rule() {
    let m = Mapping::new("unmapped")
        .rename(r"enc/layer_(\d+)/kernel", "enc.layer.${1}.weight")
        .unwrap()
        .rename(r"enc/layer_(\d+)/bias", "enc.layer.${1}.bias")
        .unwrap();
    let (message, problems) = refused(&m);
    assert!(
        message.contains("`global_step` is not mapped by any rule (add a rename, keep or skip"),
        "{message}"
    );
    assert_eq!(problems.len(), 1);
    // A near miss names the rule and where the name leaves it.
    let m = Mapping::new("near")
        .rename(r"enc/layer_(\d+)/kernel", "enc.layer.${1}.weight")
        .unwrap()
        .rename(r"enc/layer_(\d+)/biases", "enc.layer.${1}.bias")
        .unwrap()
        .skip("global_step")
        .unwrap();
    let (message, _) = refused(&m);
    assert!(
        message.contains(
            "`enc/layer_0/bias` is not mapped by any rule; nearest is rule 2 (rename \
             `enc/layer_(\\d+)/biases` -> `enc.layer.${1}.bias`), which matches \
             `enc/layer_0/bias` (the name ends too early)"
        ),
        "{message}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let m = Mapping::new("all")
        .rename(r"enc/layer_\d+/kernel", "w")
        .unwrap()
        .keep(r"enc/layer_0/.*")
        .unwrap()
        .rename("nothing", "x")
        .unwrap()
        .transpose(r"enc/layer_0/bias")
        .unwrap()
        .rename("enc/layer_1/bias", "w")
        .unwrap();
    let (_, problems) = refused(&m);
    let kinds: Vec<&str> = problems
        .iter()
        .map(|p| match p {
            MappingProblem::UnusedRule { .. } => "unused",
            MappingProblem::Unmapped { .. } => "unmapped",
            MappingProblem::MappedTwice { .. } => "twice",
            MappingProblem::SameTarget { .. } => "same target",
            MappingProblem::NotTransposable { .. } => "not 2-D",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["unused", "unmapped", "not 2-D", "twice", "same target"],
        "{problems:?}"
    );
}

#[test]
fn optional_rules_may_match_nothing() {
    let (ckpt, _) = setup();
    let m = good().skip(".*/adam_[mv]").unwrap().optional();
    assert!(m.view(&ckpt).is_ok());
}

#[test]
fn casts_check_their_source_dtype_and_round_trip_when_widening() {
    let names = [
        TensorInfo::new("h", DType::F16, &[2]),
        TensorInfo::new("step", DType::I32, &[]),
    ];
    let m = Mapping::new("widen")
        .keep("h|step")
        .unwrap()
        .cast("h", DType::F16, DType::F32)
        .unwrap()
        .cast("step", DType::I32, DType::I64)
        .unwrap();
    let report = m.apply(&names).unwrap();
    let targets: Vec<TensorInfo> = report
        .entries
        .iter()
        .map(|e| e.target.clone().unwrap())
        .collect();
    assert_eq!(targets[0], TensorInfo::new("h", DType::F32, &[2]));
    let back = m.inverse().unwrap().apply(&targets).unwrap();
    let again: Vec<TensorInfo> = back
        .entries
        .iter()
        .map(|e| e.target.clone().unwrap())
        .collect();
    assert_eq!(again, names);
    // A cast whose source dtype differs is refused.
    let bad = Mapping::new("bad")
        .keep("h|step")
        .unwrap()
        .cast("h", DType::F32, DType::F16)
        .unwrap();
    let err = bad.apply(&names).unwrap_err().to_string();
    assert!(
        err.contains("`h` has dtype float16, which rule 2 (cast `h` float32 -> float16)"),
        "{err}"
    );
}

#[test]
fn transforms_can_match_target_names() {
    let names = [TensorInfo::new("a/kernel", DType::F32, &[2, 3])];
    let m = Mapping::new("t")
        .rename("a/kernel", "a.weight")
        .unwrap()
        .transpose_on(Side::Target, r".*\.weight")
        .unwrap();
    let report = m.apply(&names).unwrap();
    assert!(report.entries[0].transposed);
    let inverse = m.inverse().unwrap();
    assert_eq!(inverse.rules()[1].to_string(), r"transpose `.*\.weight`");
}

#[test]
fn bad_rules_and_non_invertible_mappings_say_why() {
    let err = Mapping::new("m").rename("a(", "b").unwrap_err().to_string();
    assert!(
        err.contains("rule `a(` is invalid: the pattern is not a valid regex"),
        "{err}"
    );
    let err = Mapping::new("m")
        .rename(r"a(\d)", "b$2")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refers to ${2}, but the pattern has 1 capture group(s)"),
        "{err}"
    );
    let m = Mapping::new("lossy").rename(r"a/(\d+)/.*", "b.$1").unwrap();
    let err = m.inverse().unwrap_err().to_string();
    assert!(
        err.contains("mapping `lossy` has no inverse: rule 1 (rename `a/(\\d+)/.*` -> `b.$1`): `.*` stands outside a capture group"),
        "{err}"
    );
}

/// Issue 25, item 8: casts lost data silently (f32 `1e6` -> f16 stored inf, f32 NaN -> i32
/// stored 0, i64 `2^40` -> i32 stored 0) while the report said "3 cast, 0 problem(s)". Now
/// the read refuses, naming the tensor, the first offending element and its value, and no
/// variable changes; the explicit modes give the documented values.
#[test]
fn casts_that_lose_data_are_refused_naming_the_element() {
    use scope::checkpoint::CastMode;
    use scope::Tensor;
    let src = Registry::new();
    let put = |name: &str, t: Tensor| {
        let spec = VarSpec::new().shape(t.shape()).dtype(t.dtype());
        src.get_variable(name, spec).unwrap().assign(t).unwrap();
    };
    put(
        "half",
        Tensor::from_f32(&[2, 2], vec![1.0, 2.0, 3.0, 1e6]).unwrap(),
    );
    put(
        "count",
        Tensor::from_f32(&[2], vec![4.0, f32::NAN]).unwrap(),
    );
    put("step", Tensor::from_i64(&[1], vec![1 << 40]).unwrap());
    let ckpt =
        SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&src, &Default::default()).unwrap())
            .unwrap();
    let cases = [
        (
            "half",
            DType::F32,
            DType::F16,
            "element at [1, 1] is 1000000.0",
        ),
        ("count", DType::F32, DType::I32, "element at [1] is NaN"),
        (
            "step",
            DType::I64,
            DType::I32,
            "element at [0] is 1099511627776",
        ),
    ];
    let mut m = Mapping::new("narrow");
    for (name, from, to, _) in cases {
        m = m.keep(name).unwrap().cast(name, from, to).unwrap();
    }
    let view = m.view(&ckpt).unwrap();
    assert!(view.report().is_ok(), "names and dtypes alone are fine");
    let dst = Registry::new();
    let targets: Vec<_> = [
        ("half", DType::F16, vec![2, 2]),
        ("count", DType::I32, vec![2]),
    ]
    .into_iter()
    .chain([("step", DType::I32, vec![1])])
    .map(|(name, dtype, shape)| {
        dst.get_variable(name, VarSpec::new().shape(shape).dtype(dtype))
            .unwrap()
    })
    .collect();
    let before: Vec<Vec<f64>> = targets.iter().map(|v| v.value().to_f64_vec()).collect();
    for (name, _, to, expected) in cases {
        let err = view.read_tensor(name).unwrap_err();
        assert!(matches!(err, CheckpointError::Cast { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("`{name}`"))
                && msg.contains(expected)
                && msg.contains(&to.to_string()),
            "{msg}"
        );
    }
    let err = Restore::new(&dst).restore(&view).unwrap_err().to_string();
    assert!(err.contains("cannot cast"), "{err}");
    let after: Vec<Vec<f64>> = targets.iter().map(|v| v.value().to_f64_vec()).collect();
    assert_eq!(
        format!("{before:?}"),
        format!("{after:?}"),
        "a refused restore changes nothing"
    );
    // A save through the mapping refuses the same way, and writes nothing.
    let dir = std::env::temp_dir().join(format!("scope-cast-refused-{}", std::process::id()));
    let path = dir.join("narrow.safetensors");
    let saved = Save::from_checkpoint(&ckpt).mapping(&m).save(&path);
    assert!(matches!(saved, Err(CheckpointError::Cast { .. })));
    assert!(!path.exists());
    // Asked for: saturating clamps, wrapping does what tf.cast does.
    let value = |mode, name: &str| {
        let view = m.clone().with_cast_mode(mode).view(&ckpt).unwrap();
        view.read_tensor(name).unwrap().to_f64_vec()
    };
    assert_eq!(value(CastMode::Saturating, "half")[3], 65504.0);
    assert_eq!(value(CastMode::Wrapping, "half")[3], f64::INFINITY);
    assert_eq!(value(CastMode::Saturating, "step"), [f64::from(i32::MAX)]);
    assert_eq!(value(CastMode::Wrapping, "step"), [0.0]);
    assert_eq!(value(CastMode::Saturating, "count"), [4.0, 0.0]);
    let _ = std::fs::remove_dir_all(&dir);
}
