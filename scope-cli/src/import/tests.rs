use std::fmt::Write as _;
use std::path::Path;

use scope::checkpoint::{open, Checkpoint, SafetensorsCheckpoint, TensorInfo};

use super::*;

/// A safetensors file of f32 tensors, written by hand so that any name can be stored.
fn safetensors(tensors: &[(String, Vec<usize>)]) -> Checkpoint {
    let mut header = String::from("{");
    let mut offset = 0;
    for (i, (name, shape)) in tensors.iter().enumerate() {
        let n: usize = shape.iter().product();
        if i > 0 {
            header.push(',');
        }
        let _ = write!(
            header,
            "{}:{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{offset},{}]}}",
            serde_json::to_string(name).unwrap(),
            offset + 4 * n
        );
        offset += 4 * n;
    }
    header.push('}');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.resize(bytes.len() + offset, 0);
    Checkpoint::from(SafetensorsCheckpoint::from_bytes(bytes).unwrap())
}

fn opts(name: &str) -> ImportOptions {
    ImportOptions {
        name: name.to_owned(),
        scope: None,
        command: None,
    }
}

fn named(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
    list.iter()
        .map(|(n, s)| ((*n).to_owned(), s.to_vec()))
        .collect()
}

#[test]
fn seed_rnn() {
    let ckpt =
        open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed_rnn/model.ckpt"))
            .unwrap();
    let src = import(&ckpt, &opts("Rnn")).unwrap();
    assert!(
        src.contains("pub struct Rnn(\n        \"rnn\",\n        hidden: usize,"),
        "{src}"
    );
    assert!(
        src.contains("kernel: [2 * hidden, basic_lstm_cell_size] = zeros,"),
        "{src}"
    );
    assert!(src.contains("Rnn::new(reg, HIDDEN"), "{src}");
    assert!(src.contains("Adam` slots of 6 variables"), "{src}");
    // input_layer, then cell, then output_layer
    let (i, c, o) = (
        src.find("input_layer {").unwrap(),
        src.find("cell {").unwrap(),
        src.find("output_layer {").unwrap(),
    );
    assert!(i < c && c < o, "{src}");
}

#[test]
fn bert_structure() {
    let ckpt = open(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/bert/classifier/model.ckpt"),
    )
    .unwrap();
    let src = import(&ckpt, &opts("Bert")).unwrap();
    assert!(src.contains("#[model(repeat = num_layers)]\n                layer: model Layer(hidden, intermediate_size),"), "{src}");
    assert_eq!(src.matches("pub struct Layer(").count(), 1, "{src}");
    assert!(
        src.contains("pub struct Dense(\"dense\", hidden: usize) {"),
        "{src}"
    );
    assert!(
        src.contains("pub struct LayerNorm(\"LayerNorm\", hidden: usize) {"),
        "{src}"
    );
    assert!(
        src.contains("#[scope(name = \"self\")]\n            self_scope {"),
        "{src}"
    );
    assert!(
        src.contains("output_weights: [output_size, hidden] = zeros,"),
        "{src}"
    );
    assert!(src.contains("pub const NUM_LAYERS: usize = 2;"), "{src}");
    assert!(
        src.contains("build_here"),
        "root variables: built at the root\n{src}"
    );

    let scoped = ImportOptions {
        scope: Some("bert".to_owned()),
        ..opts("Bert")
    };
    let src = import(&ckpt, &scoped).unwrap();
    assert!(src.contains("pub struct Bert(\n        \"bert\","), "{src}");
    assert!(
        src.contains("outside scope `bert`: 2 model variables"),
        "{src}"
    );
    assert!(!src.contains("output_weights"), "{src}");
}

#[test]
fn names_no_identifier_carries() {
    let ckpt = safetensors(&named(&[
        ("m/self/w", &[2]),
        ("m/LayerNorm/gamma", &[2]),
        ("m/a.b", &[1]),
        ("m/a_b", &[1]),
        ("m/a-b", &[1]),
        ("m/type", &[1]),
        ("m/0", &[1]),
        ("m/x", &[3]),
        ("m/x/y", &[3]),
        ("m/super", &[1]),
    ]));
    let src = import(&ckpt, &opts("M")).unwrap();
    for line in [
        "#[scope(name = \"self\")]\n        self_scope {",
        "#[scope(name = \"LayerNorm\")]\n        layer_norm {",
        "r#type: [1] = zeros,",
        "#[var(name = \"0\")]\n        v0: [1] = zeros,",
        "#[var(name = \"super\")]\n        super_: [1] = zeros,",
        "x: [x_size] = zeros,\n        #[var(name = \"x/y\")]\n        x_y: [x_size] = zeros,",
        "a_b: [1] = zeros,",
        "#[var(name = \"a-b\")]\n        a_b_2: [1] = zeros,",
        "#[var(name = \"a.b\")]\n        a_b_3: [1] = zeros,",
    ] {
        assert!(src.contains(line), "`{line}` missing in\n{src}");
    }
}

#[test]
fn refuses_names_tf_refuses() {
    for (name, what) in [
        ("m/a b", "characters TF's scope and variable names refuse"),
        ("m//b", "empty scope component"),
        ("_root", "at the root a name must start"),
    ] {
        let ckpt = safetensors(&named(&[(name, &[1]), ("m/ok", &[1])]));
        let err = import(&ckpt, &opts("M")).unwrap_err().to_string();
        assert!(err.contains(what), "{name}: {err}");
        assert!(err.starts_with("cannot declare"), "{err}");
    }
    let ckpt = safetensors(&named(&[("m/w", &[1])]));
    assert!(import(&ckpt, &opts("not a type")).is_err());
    let only = ImportOptions {
        scope: Some("other".to_owned()),
        ..opts("M")
    };
    let err = import(&ckpt, &only).unwrap_err().to_string();
    assert!(
        err.contains("no model variables under scope `other`"),
        "{err}"
    );
}

#[test]
fn shared_types_and_single_layers() {
    let ckpt = safetensors(&named(&[
        ("net/dense/kernel", &[4, 8]),
        ("net/dense/bias", &[8]),
        ("net/dense_1/kernel", &[4, 8]),
        ("net/dense_1/bias", &[8]),
        ("net/block_0/w", &[8]),
        ("net/block_0/v", &[8]),
    ]));
    let src = import(&ckpt, &opts("Net")).unwrap();
    assert!(src.contains("dense: model Dense("), "{src}");
    assert!(
        src.contains("#[model(scope = \"dense_1\")]\n        dense_1: model Dense("),
        "{src}"
    );
    assert!(src.contains("#[model(repeat = num_blocks)]"), "{src}");
    assert!(src.contains("pub const NUM_BLOCKS: usize = 1;"), "{src}");
}

#[test]
fn a_hundred_thousand_variables() {
    // 1,000 scopes of 100 variables with distinct shapes: nothing folds.
    let list: Vec<(String, Vec<usize>)> = (0..100_000)
        .map(|i| {
            let shape = if i % 100 == 0 {
                vec![1 + i / 100]
            } else {
                vec![1 + i % 5, 2]
            };
            (format!("big/s{}/v{}", i / 100, i % 100), shape)
        })
        .collect();
    let src = import(&safetensors(&list), &opts("Big")).unwrap();
    assert_eq!(src.matches("= zeros,").count(), 100_000);
    // 1,000 identical blocks: one repeated type.
    let list: Vec<(String, Vec<usize>)> = (0..100_000)
        .map(|i| (format!("big/block_{}/v{}", i / 100, i % 100), vec![2]))
        .collect();
    let src = import(&safetensors(&list), &opts("Big")).unwrap();
    assert!(src.contains("pub const NUM_BLOCKS: usize = 1000;"), "{src}");
    assert_eq!(src.matches("= zeros,").count(), 100);
}

/// Names that differ only by case are refused with both named (issue 25, item 6): TF
/// compares names ignoring case, so no declaration creates both, and the DSL refuses them.
#[test]
fn names_equal_but_for_case_are_refused() {
    for (first, second) in [
        ("Dense/kernel", "dense/kernel"),
        ("m/Self/w", "m/self/w"),
        ("m/Kernel", "m/kernel"),
        ("m/W", "m/w/x"),
    ] {
        let ckpt = safetensors(&named(&[(first, &[1]), (second, &[1]), ("m/ok", &[1])]));
        let err = import(&ckpt, &opts("M")).unwrap_err().to_string();
        assert!(err.starts_with("cannot declare"), "{err}");
        assert!(err.contains("differs from it only by case"), "{err}");
    }
}

/// Names that give one identifier once escaped become distinct snake-case fields, each
/// renamed one keeping its TF name.
#[test]
fn names_that_escape_to_one_identifier() {
    let ckpt = safetensors(&named(&[
        ("m/self", &[1]),
        ("m/self_", &[1]),
        ("m/super/w", &[2]),
        ("m/super_/w", &[2]),
    ]));
    let src = import(&ckpt, &opts("M")).unwrap();
    for line in [
        "#[var(name = \"self\")]\n        self_: [1] = zeros,",
        "#[var(name = \"self_\")]\n        self_2: [1] = zeros,",
        "#[scope(name = \"super\")]\n        super_scope {\n            w: [super_size] = zeros,",
        "#[scope(name = \"super_\")]\n        super_scope_2 {\n            w: [super_size] = zeros,",
    ] {
        assert!(src.contains(line), "`{line}` missing in\n{src}");
    }
}

/// `--name` is a type name in UpperCamelCase: keywords, the crate's own name, lowercase
/// names and `Self` are refused, not written into source that does not compile (item 7).
#[test]
fn refuses_type_names_that_do_not_compile() {
    let ckpt = safetensors(&named(&[("m/w", &[1])]));
    for name in [
        "self",
        "fn",
        "scope",
        "Self",
        "model",
        "",
        "9Lives",
        "My_Model",
        "Bert\u{e9}",
    ] {
        let err = import(&ckpt, &opts(name)).unwrap_err().to_string();
        assert!(
            err.contains("--name must be a Rust type name"),
            "{name}: {err}"
        );
    }
    assert!(import(&ckpt, &opts("Bert2")).is_ok());
}

/// What a default registry refuses is refused up front, not by the generated `build`
/// (item 11): a name over `DEFAULT_MAX_NAME_LEN` bytes, a shape over `DEFAULT_MAX_ELEMENTS`.
#[test]
fn refuses_what_the_generated_build_would_refuse() {
    let long = format!("m/{}", "a".repeat(scope::DEFAULT_MAX_NAME_LEN));
    let ckpt = safetensors(&named(&[(long.as_str(), &[1]), ("m/ok", &[1])]));
    let err = import(&ckpt, &opts("M")).unwrap_err().to_string();
    assert!(err.contains("bytes long, over the 4096 bytes"), "{err}");
    assert!(err.starts_with("cannot declare `m/aaaa"), "{err}");
    let fits = format!("m/{}", "a".repeat(scope::DEFAULT_MAX_NAME_LEN - 2));
    let ckpt = safetensors(&named(&[(fits.as_str(), &[1])]));
    assert!(import(&ckpt, &opts("M")).is_ok());

    let mut big = TensorInfo::new("m/big", scope::DType::F32, &[1 << 15, 1 << 15]);
    assert_eq!(registry_refuses(&big), None);
    big.shape[1] += 1;
    let why = registry_refuses(&big).unwrap();
    assert!(
        why.contains("holds more than the 1073741824 elements"),
        "{why}"
    );
    big.shape = vec![usize::MAX, 2];
    assert!(registry_refuses(&big).is_some(), "an overflowing shape");
}

/// Issue 23, item 2: a TF checkpoint's partitioned variables are declared under their full
/// names and shapes with the partitioner that makes their parts; slices that no partitioner
/// makes are declared whole, and say so.
#[test]
fn partitioned_entries_get_their_partitioner() {
    let ckpt =
        open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/partitioned/p6")).unwrap();
    let src = import(&ckpt, &opts("Wide")).unwrap();
    let over = |field: &str| {
        let at = src
            .find(&format!(" {field}: "))
            .unwrap_or_else(|| panic!("{src}"));
        src[..at]
            .trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    assert_eq!(
        over("embedding"),
        "#[var(partitioner = fixed_size(2, 0))]",
        "{src}"
    );
    assert_eq!(
        over("cols"),
        "#[var(partitioner = fixed_size(3, 1))]",
        "{src}"
    );
    // Saved whole: no key over it.
    assert!(over("scale").starts_with("int_table: i64["), "{src}");
    assert_eq!(src.matches("#[var(partitioner = ").count(), 6, "{src}");
    assert!(src.contains("Partitioned (6 variables)"), "{src}");

    // Uneven row blocks, and blocks on two axes: no partitioner makes them.
    use scope::checkpoint::TfCheckpointWriter;
    use scope::partition::Slice;
    let block = |start: [usize; 2], shape: [usize; 2]| {
        let t = scope::Tensor::zeros(scope::DType::F32, &shape).unwrap();
        (
            Slice {
                start: start.to_vec(),
                shape: shape.to_vec(),
            },
            t,
        )
    };
    let mut w = TfCheckpointWriter::new();
    for (s, t) in [block([0, 0], [2, 4]), block([2, 0], [8, 4])] {
        w.add_slice("m/uneven", &[10, 4], &s, t).unwrap();
    }
    for (s, t) in [
        block([0, 0], [5, 2]),
        block([5, 0], [5, 2]),
        block([0, 2], [10, 2]),
    ] {
        w.add_slice("m/grid", &[10, 4], &s, t).unwrap();
    }
    let dir = std::env::temp_dir().join(format!("scope-cli-import-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    w.write(dir.join("model.ckpt")).unwrap();
    let src = import(&open(dir.join("model.ckpt")).unwrap(), &opts("Odd")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!src.contains("partitioner ="), "{src}");
    let comment = |field: &str| {
        let at = src.find(&format!(" {field}: ")).unwrap();
        let before = &src[..at];
        let start = before
            .rfind("// Partitioned")
            .unwrap_or_else(|| panic!("{src}"));
        before[start..]
            .replace("//", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        comment("uneven"),
        "Partitioned in the checkpoint: 2 slices on axis 0, not as TF's partitioners split. \
         Declared whole: a restore reads the slices into it."
    );
    assert!(
        comment("grid").starts_with("Partitioned in the checkpoint: 3 slices, on several axes"),
        "{src}"
    );
}
