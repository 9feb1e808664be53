//! Interop between scope's BERT checkpoints and candle-transformers' `BertModel`: the
//! fixtures, their inputs and TF's outputs, as candle tensors and configs, and this
//! project's BERT on the same inputs.
//!
//! The tests in `tests/` do the checking; this library holds what they share.

use std::path::{Path, PathBuf};

mod scope_bert;

pub use self::scope_bert::ScopeBert;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::bert::Config;
use serde_json::{json, Value};

/// The vendored fixtures of the main repository, plus the directories listed in
/// `SCOPE_TF_BERT_FIXTURE` (separated like `PATH`).
pub fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bert");
    let mut dirs = vec![root.join("classifier"), root.join("pretraining")];
    if let Some(extra) = std::env::var_os("SCOPE_TF_BERT_FIXTURE") {
        dirs.extend(std::env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs
}

/// One BERT fixture: `fixture.json` and its directory.
pub struct Fixture {
    /// The fixture's directory.
    pub dir: PathBuf,
    /// `fixture.json`.
    pub json: Value,
}

impl Fixture {
    /// Reads `dir/fixture.json`.
    pub fn load(dir: &Path) -> Fixture {
        let text = std::fs::read_to_string(dir.join("fixture.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Fixture {
            dir: dir.to_owned(),
            json: serde_json::from_str(&text).expect("fixture.json is JSON"),
        }
    }

    /// The fixture's task: `classifier` or `pretraining`.
    pub fn task(&self) -> &str {
        self.json["spec"]["task"].as_str().expect("spec.task")
    }

    /// A number from `spec.config`.
    pub fn config_usize(&self, key: &str) -> usize {
        self.json["spec"]["config"][key]
            .as_u64()
            .unwrap_or_else(|| panic!("spec.config.{key}")) as usize
    }

    /// candle's `Config` for the fixture's `BertConfig`: BERT's tanh gelu is candle's
    /// `GeluApproximate`, and its LayerNorm epsilon 1e-12.
    pub fn candle_config(&self) -> Config {
        let c = &self.json["spec"]["config"];
        assert_eq!(c["hidden_act"], "gelu", "TF BERT's gelu is the tanh form");
        serde_json::from_value(json!({
            "vocab_size": c["vocab_size"],
            "hidden_size": c["hidden_size"],
            "num_hidden_layers": c["num_hidden_layers"],
            "num_attention_heads": c["num_attention_heads"],
            "intermediate_size": c["intermediate_size"],
            "hidden_act": "geluapproximate",
            "hidden_dropout_prob": 0.0,
            "max_position_embeddings": c["max_position_embeddings"],
            "type_vocab_size": c["type_vocab_size"],
            "initializer_range": c["initializer_range"],
            "layer_norm_eps": 1e-12,
            "pad_token_id": 0,
            "classifier_dropout": null,
            "model_type": "bert",
        }))
        .expect("a candle BERT config")
    }

    /// An input (`input_ids`, `input_mask`, ...) as a candle tensor of `dtype`.
    pub fn input(&self, name: &str, dtype: DType) -> Tensor {
        let input = &self.json["inputs"][name];
        let shape: Vec<usize> = input["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|d| d.as_u64().expect("a dimension") as usize)
            .collect();
        let data: Vec<f64> = input["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|x| x.as_f64().expect("a number"))
            .collect();
        Tensor::from_vec(data, shape, &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .expect("an input tensor")
    }

    /// An output TF computed, flattened.
    pub fn output(&self, name: &str) -> Vec<f32> {
        let output = &self.json["outputs"][name];
        let data = output.get("data").unwrap_or(output);
        data.as_array()
            .unwrap_or_else(|| panic!("outputs.{name}"))
            .iter()
            .map(|x| x.as_f64().expect("a number") as f32)
            .collect()
    }

    /// The checkpoint the fixture's outputs were computed at.
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("model.ckpt")
    }

    /// The checkpoint after training.
    pub fn trained_checkpoint(&self) -> PathBuf {
        let name = self.json["train"]["checkpoint_after"]
            .as_str()
            .expect("train.checkpoint_after");
        self.dir.join(name)
    }
}

/// The largest absolute difference between two equally long lists of numbers.
pub fn max_abs_diff(got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "element count");
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scope-candle-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
