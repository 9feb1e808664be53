//! BERT checkpoints that travel: TF1 names to Hugging Face's and back bit-exact, sharded
//! saves, and restores of one layer that open only its shards.
//!
//! Reads the vendored `tests/data/bert/{classifier,pretraining}`, plus the fixture
//! directories listed in `SCOPE_TF_BERT_FIXTURE` (separated like `PATH`).

use std::path::{Path, PathBuf};

use scope::checkpoint::{
    bert_hf_to_tf, bert_tf_to_hf, BertLayout, CheckpointSource, Restore, Save, ShardedCheckpoint,
    TfCheckpoint,
};
use scope::{Initializer, Registry, VarSpec};
use serde_json::Value;

use crate::support::{fixture_dirs, variable_at, Fixture, Kind};

const VENDORED: [&str; 2] = ["bert/classifier", "bert/pretraining"];
const ENV: &str = "SCOPE_TF_BERT_FIXTURE";

/// The vendored classifier fixture.
fn classifier() -> Fixture {
    Fixture::load(&fixture_dirs(&VENDORED, ENV)[0]).unwrap_or_else(|e| panic!("{e}"))
}

/// The checkpoint after training (the values differ from their initializers).
fn trained(fx: &Fixture) -> TfCheckpoint {
    fx.checkpoint_at("/train/checkpoint_after")
        .unwrap_or_else(|e| panic!("{}: {e}", fx.dir.display()))
}

/// The model's own variables (no optimizer state), in TF's creation order.
fn model_names(fx: &Fixture) -> Vec<String> {
    fx.variables()
        .unwrap()
        .into_iter()
        .filter(|v| v.trainable == Some(true))
        .map(|v| v.name)
        .collect()
}

/// A registry holding the fixture variables `keep` selects (by name and trainable flag),
/// zero-filled.
fn registry(fx: &Fixture, keep: impl Fn(&str, bool) -> bool) -> Registry {
    let reg = Registry::new();
    for v in fx.variables().unwrap() {
        let trainable = v.trainable.expect("BERT fixtures record `trainable`");
        if !keep(&v.name, trainable) {
            continue;
        }
        let spec = VarSpec::new()
            .shape(&v.shape)
            .dtype(v.dtype)
            .trainable(trainable)
            .initializer(Initializer::Zeros);
        variable_at(&reg, &v.name, spec).unwrap();
    }
    reg
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scope-bert-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bytes(source: &dyn CheckpointSource, name: &str) -> Vec<u8> {
    source.read_tensor(name).unwrap().to_le_bytes().unwrap()
}

#[test]
fn tf_to_hf_to_tf_is_bit_exact() {
    for (i, dir) in fixture_dirs(&VENDORED, ENV).iter().enumerate() {
        let fx = Fixture::load(dir).unwrap_or_else(|e| panic!("{e}"));
        let tag = dir.display().to_string();
        // What the checkpoint is comes from the fixture's content: its format and task.
        assert_eq!(fx.kind(), Some(Kind::Bert), "{tag}: not a BERT fixture");
        let tf = trained(&fx);
        let layout = BertLayout::detect_tf(tf.keys());
        let expected = match fx["task"].as_str() {
            Some("pretraining") => BertLayout::PreTraining,
            Some("classifier") => BertLayout::SequenceClassification,
            other => panic!("{tag}: unknown task {other:?}"),
        };
        assert_eq!(layout, expected, "{tag}");
        let tmp = temp_dir(&format!("rt-{i}"));

        // TF -> HF: every model variable, renamed, kernels transposed, optimizer skipped.
        let to_hf = bert_tf_to_hf(layout);
        let saved = Save::from_checkpoint(&tf)
            .mapping(&to_hf)
            .save(tmp.join("hf/model.safetensors"))
            .unwrap();
        let report = saved.mapping.unwrap();
        assert!(report.is_ok());
        let hf = ShardedCheckpoint::open(tmp.join("hf")).unwrap();
        assert_eq!(hf.tensors().len(), model_names(&fx).len(), "{tag}");
        for t in hf.tensors() {
            assert!(!t.name.contains('/'), "{tag}: {} is not an HF name", t.name);
        }
        let query = format!(
            "{}encoder.layer.0.attention.self.query.weight",
            if layout == BertLayout::Model {
                ""
            } else {
                "bert."
            }
        );
        let kernel = tf
            .read_tensor("bert/encoder/layer_0/attention/self/query/kernel")
            .unwrap();
        let weight = hf.read_tensor(&query).unwrap();
        let (h, v) = (kernel.as_f32().unwrap(), weight.as_f32().unwrap());
        let n = kernel.shape()[0];
        assert_eq!(kernel.shape()[1], n);
        // weight[o][i] == kernel[i][o]
        assert_eq!(
            v[n + 2].to_bits(),
            h[2 * n + 1].to_bits(),
            "{tag}: not transposed"
        );
        let raw = std::fs::read(tmp.join("hf/model.safetensors")).unwrap();
        let header_len = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
        let header = std::str::from_utf8(&raw[8..8 + header_len]).unwrap();
        assert!(header.contains(r#""format":"pt""#), "{tag}: {header}");

        // HF -> TF, derived: the same names, the same bits.
        let back_path = tmp.join("tf/model.safetensors");
        Save::from_checkpoint(&hf)
            .mapping(&bert_hf_to_tf(layout))
            .save(&back_path)
            .unwrap();
        let back = ShardedCheckpoint::open(&back_path).unwrap();
        let mut names = model_names(&fx);
        names.sort();
        assert_eq!(back.keys(), names, "{tag}");
        for name in &names {
            assert_eq!(bytes(&back, name), bytes(&tf, name), "{tag}: {name}");
        }

        // And straight into a TF-named registry, strictly, through a view.
        let reg = registry(&fx, |_, trainable| trainable);
        let view = bert_hf_to_tf(layout).view(&hf).unwrap();
        let restored = Restore::new(&reg).restore(&view).unwrap();
        assert_eq!(restored.matched.len(), names.len());
        for v in reg.global_variables() {
            assert_eq!(
                v.value().to_le_bytes().unwrap(),
                bytes(&tf, v.name()),
                "{tag}"
            );
        }
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

#[test]
fn sharded_classifier_in_64k_shards_restores_bit_exact() {
    let fx = classifier();
    let tf = trained(&fx);
    // Every variable, optimizer slots and global_step included.
    let reg = registry(&fx, |_, _| true);
    Restore::new(&reg).restore(&tf).unwrap();

    let tmp = temp_dir("64k");
    let saved = Save::new(&reg)
        .max_shard_size(64 << 10)
        .save(tmp.join("model.safetensors"))
        .unwrap();
    let n = saved.files.len();
    assert!(n > 1, "{n} shard(s)");
    for (k, file) in saved.files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, format!("model-{:05}-of-{n:05}.safetensors", k + 1));
        let shard = scope::checkpoint::SafetensorsCheckpoint::open(file).unwrap();
        let data: usize = shard
            .tensors()
            .iter()
            .map(|t| t.shape.iter().product::<usize>() * t.dtype.supported().unwrap().size_of())
            .sum();
        assert!(
            data <= 64 << 10 || shard.tensors().len() == 1,
            "{name}: {data}"
        );
    }
    assert!(!tmp.join("model.safetensors").exists());
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.join("model.safetensors.index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        index["metadata"]["total_size"].as_u64(),
        Some(saved.total_size)
    );
    let map = index["weight_map"].as_object().unwrap();
    assert_eq!(map.len(), fx.variables().unwrap().len());
    assert!(map["bert/embeddings/word_embeddings"]
        .as_str()
        .unwrap()
        .starts_with("model-00001-of-"));

    let fresh = registry(&fx, |_, _| true);
    let sharded = ShardedCheckpoint::open(&tmp).unwrap();
    assert_eq!(sharded.shard_count(), n);
    assert_eq!(
        sharded.trainable("bert/pooler/dense/kernel"),
        Some(true),
        "trainable flags travel"
    );
    assert_eq!(sharded.trainable("global_step"), Some(false));
    Restore::new(&fresh).restore(&sharded).unwrap();
    for v in fresh.global_variables() {
        assert_eq!(
            v.value().to_le_bytes().unwrap(),
            bytes(&tf, v.name()),
            "{}",
            v.name()
        );
    }

    // Saving again unsharded removes the stale shards and index.
    Save::new(&reg).save(tmp.join("model.safetensors")).unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn one_layer_from_many_shards_opens_only_its_shards() {
    let fx = classifier();
    let tf = trained(&fx);
    let reg = registry(&fx, |_, trainable| trainable);
    Restore::new(&reg).allow_unexpected().restore(&tf).unwrap();
    let tmp = temp_dir("layer");
    // 2 KiB shards: the embedding tables (12 KiB and more) are larger than a shard.
    let saved = Save::new(&reg)
        .max_shard_size(2 << 10)
        .save(tmp.join("model.safetensors"))
        .unwrap();
    assert!(saved.files.len() > 10, "{}", saved.files.len());

    let prefix = "bert/encoder/layer_1/";
    let layer = ShardedCheckpoint::open_prefix(&tmp, prefix).unwrap();
    let opened: Vec<PathBuf> = layer
        .opened_shards()
        .into_iter()
        .map(Path::to_owned)
        .collect();
    assert!(opened.len() < saved.files.len() / 2, "{opened:?}");
    assert!(layer.keys().iter().all(|k| k.starts_with(prefix)));
    // The other shards are not needed: remove them, and the layer still restores.
    for f in &saved.files {
        if !opened.contains(f) {
            std::fs::remove_file(f).unwrap();
        }
    }
    let layer = ShardedCheckpoint::open_prefix(&tmp, prefix).unwrap();
    let fresh = registry(&fx, |_, trainable| trainable);
    let vars = fresh.collection(scope::Collection::Global, Some(prefix));
    let report = Restore::new(&fresh)
        .variables(vars)
        .restore(&layer)
        .unwrap();
    assert_eq!(report.matched.len(), 16);
    for m in &report.matched {
        let v = fresh.variable(&m.variable).unwrap();
        assert_eq!(v.value().to_le_bytes().unwrap(), bytes(&tf, &m.variable));
    }
    // The same from Hugging Face shards, through the inverse preset: the mapping is
    // partial (its rules for other scopes fire on nothing here), still checked per name.
    let hf_dir = tmp.join("hf");
    let to_hf = bert_tf_to_hf(BertLayout::SequenceClassification);
    let saved = Save::new(&reg)
        .mapping(&to_hf)
        .max_shard_size(2 << 10)
        .save(hf_dir.join("model.safetensors"))
        .unwrap();
    let hf_layer = ShardedCheckpoint::open_prefix(&hf_dir, "bert.encoder.layer.1.").unwrap();
    assert!(hf_layer.opened_shards().len() < saved.files.len() / 2);
    let to_tf = bert_hf_to_tf(BertLayout::SequenceClassification);
    let err = to_tf.view(&hf_layer).unwrap_err().to_string();
    assert!(err.contains("matched no name"), "{err}");
    let fresh = registry(&fx, |_, trainable| trainable);
    let vars = fresh.collection(scope::Collection::Global, Some(prefix));
    let view = to_tf.partial().view(&hf_layer).unwrap();
    let report = Restore::new(&fresh).variables(vars).restore(&view).unwrap();
    assert_eq!(report.matched.len(), 16);
    for m in &report.matched {
        let v = fresh.variable(&m.variable).unwrap();
        assert_eq!(v.value().to_le_bytes().unwrap(), bytes(&tf, &m.variable));
    }

    // A full open needs every shard.
    let err = ShardedCheckpoint::open(&tmp).unwrap_err().to_string();
    assert!(err.contains("cannot open"), "{err}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn bad_indexes_are_refused_with_the_reason() {
    let fx = classifier();
    let reg = registry(&fx, |_, trainable| trainable);
    let tmp = temp_dir("index");
    Save::new(&reg)
        .max_shard_size(16 << 10)
        .save(tmp.join("model.safetensors"))
        .unwrap();
    let index_path = tmp.join("model.safetensors.index.json");
    let good = std::fs::read_to_string(&index_path).unwrap();
    let cases = [
        (
            good.replace("model-00002-of-", "../model-00002-of-"),
            "not a plain file name",
        ),
        (
            good.replace("\"bert/pooler/dense/bias\"", "\"bert/pooler/dense/bais\""),
            "does not place there",
        ),
        ("{\"metadata\": {}}".to_owned(), "weight_map"),
    ];
    for (text, expected) in cases {
        std::fs::write(&index_path, text).unwrap();
        let err = ShardedCheckpoint::open(&tmp).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
