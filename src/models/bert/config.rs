//! `modeling.BertConfig`: BERT's sizes, read from a `bert_config.json`.

use serde::Deserialize;

use crate::nn::Activation;
use crate::{Initializer, TrainError};

/// `modeling.BertConfig`, read from a `bert_config.json` ([`BertConfig::from_json`]).
///
/// `use_token_type` and `use_position_embeddings` are `BertModel`'s
/// `embedding_postprocessor` flags (both on in BERT); they are not in BERT's JSON, and
/// default to `true` here.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Rows of the word-embedding table.
    pub vocab_size: usize,
    /// Width `H` of every hidden state.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer (they must divide `hidden_size`).
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// The feed-forward activation (`gelu`, `relu`, `tanh` or `linear`).
    #[serde(deserialize_with = "activation")]
    pub hidden_act: Activation,
    /// Dropout on hidden states (not applied: the model runs as with `is_training=False`).
    #[serde(default)]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities (not applied, likewise).
    #[serde(default)]
    pub attention_probs_dropout_prob: f64,
    /// Rows of the position-embedding table: the longest sequence.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    pub type_vocab_size: usize,
    /// Standard deviation of the truncated-normal initializers.
    pub initializer_range: f32,
    /// Whether the embeddings add token-type embeddings (`token_type_embeddings` exists).
    #[serde(default = "yes")]
    pub use_token_type: bool,
    /// Whether the embeddings add position embeddings (`position_embeddings` exists).
    #[serde(default = "yes")]
    pub use_position_embeddings: bool,
}

fn yes() -> bool {
    true
}

fn activation<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Activation, D::Error> {
    let name = String::deserialize(d)?;
    Activation::from_name(&name).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown hidden_act `{name}` (BERT knows gelu, relu, tanh and linear)"
        ))
    })
}

impl BertConfig {
    /// A config with BERT's defaults for what is not given (gelu, no dropout, two token
    /// types, initializer range 0.02).
    pub fn tiny(
        vocab_size: usize,
        hidden_size: usize,
        num_hidden_layers: usize,
        num_attention_heads: usize,
        intermediate_size: usize,
        max_position_embeddings: usize,
    ) -> BertConfig {
        BertConfig {
            vocab_size,
            hidden_size,
            num_hidden_layers,
            num_attention_heads,
            intermediate_size,
            hidden_act: Activation::Gelu,
            hidden_dropout_prob: 0.0,
            attention_probs_dropout_prob: 0.0,
            max_position_embeddings,
            type_vocab_size: 2,
            initializer_range: 0.02,
            use_token_type: true,
            use_position_embeddings: true,
        }
    }

    /// Reads a `bert_config.json` (`BertConfig.from_json_file`), then [`BertConfig::validate`].
    pub fn from_json(json: &str) -> Result<BertConfig, TrainError> {
        let cfg: BertConfig = serde_json::from_str(json).map_err(|e| TrainError::Config {
            detail: format!("not a BERT config: {e}"),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Refuses sizes BERT cannot run with: any zero size, or heads that do not divide the
    /// hidden size (BERT raises the same `ValueError`).
    pub fn validate(&self) -> Result<(), TrainError> {
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(TrainError::Config {
                detail: format!("BERT config: {name} is 0; it must be at least 1"),
            });
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(TrainError::Config {
                detail: format!(
                    "BERT config: the hidden size ({}) is not a multiple of the number of \
                     attention heads ({})",
                    self.hidden_size, self.num_attention_heads
                ),
            });
        }
        if !(self.initializer_range.is_finite() && self.initializer_range >= 0.0) {
            return Err(TrainError::Config {
                detail: format!(
                    "BERT config: initializer_range {} must be finite and not negative",
                    self.initializer_range
                ),
            });
        }
        Ok(())
    }

    /// `create_initializer(initializer_range)`: a truncated normal of that deviation.
    pub fn initializer(&self) -> Initializer {
        Initializer::truncated_normal(0.0, f64::from(self.initializer_range))
    }
}
