//! `modeling.AlbertConfig`, read from an `albert_config.json`.

use serde::Deserialize;

use crate::models::bert::BertConfig;
use crate::{Initializer, TrainError};

/// `modeling.AlbertConfig`: BERT's fields ([`BertConfig`], flattened: the JSON is one
/// object) plus the three that make ALBERT. Read it with [`AlbertConfig::from_json`].
///
/// Keys of ALBERT's JSON this port does not use (`down_scale_factor`, `net_structure_type`,
/// `gap_size`, `num_memory_blocks`, ...) are ignored, as `transformer_model` ignores them.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct AlbertConfig {
    /// The BERT fields: vocabulary, hidden size `H`, layers, heads, intermediate size,
    /// activation, position and token-type tables, initializer range.
    #[serde(flatten)]
    pub bert: BertConfig,
    /// Width `E` of the embeddings (ALBERT's factorization: `E < H` in the released
    /// models). When `E != H`, `encoder/embedding_hidden_mapping_in` maps `E` to `H`.
    #[serde(default = "default_embedding_size")]
    pub embedding_size: usize,
    /// Groups of layers that share their weights (`num_hidden_groups`, 1 by default: every
    /// layer shares one group's variables).
    #[serde(default = "one")]
    pub num_hidden_groups: usize,
    /// Blocks (attention + feed-forward) applied one after the other within each layer
    /// (`inner_group_num`, 1 by default); each has its own variables.
    #[serde(default = "one")]
    pub inner_group_num: usize,
}

fn default_embedding_size() -> usize {
    128
}

fn one() -> usize {
    1
}

impl AlbertConfig {
    /// ALBERT from BERT's sizes with an embedding width `E` and the sharing layout.
    pub fn new(
        bert: BertConfig,
        embedding_size: usize,
        num_hidden_groups: usize,
        inner_group_num: usize,
    ) -> AlbertConfig {
        AlbertConfig {
            bert,
            embedding_size,
            num_hidden_groups,
            inner_group_num,
        }
    }

    /// Reads an `albert_config.json` (`AlbertConfig.from_json_file`), then
    /// [`AlbertConfig::validate`].
    pub fn from_json(json: &str) -> Result<AlbertConfig, TrainError> {
        let cfg: AlbertConfig = serde_json::from_str(json).map_err(|e| TrainError::Config {
            detail: format!("not an ALBERT config: {e}"),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Refuses what ALBERT cannot run with: BERT's refusals ([`BertConfig::validate`]), a
    /// zero embedding size, group count or inner-group count, no layers, and a layout in
    /// which some group would never be used.
    ///
    /// `transformer_model` builds group `int(layer / num_hidden_layers * num_hidden_groups)`
    /// for each layer: with more groups than layers some group is never built, so TF's
    /// checkpoint would not hold it. Such a config is refused here, naming the groups TF
    /// would build, rather than creating variables TF never has.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.bert.validate().map_err(|e| match e {
            TrainError::Config { detail } => TrainError::Config {
                detail: detail.replacen("BERT config", "ALBERT config", 1),
            },
            other => other,
        })?;
        let sizes = [
            ("embedding_size", self.embedding_size),
            ("num_hidden_layers", self.bert.num_hidden_layers),
            ("num_hidden_groups", self.num_hidden_groups),
            ("inner_group_num", self.inner_group_num),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(TrainError::Config {
                detail: format!("ALBERT config: {name} is 0; it must be at least 1"),
            });
        }
        let mut used: Vec<usize> = (0..self.bert.num_hidden_layers)
            .map(|l| self.group_of(l))
            .collect();
        used.dedup();
        if used.len() != self.num_hidden_groups {
            return Err(TrainError::Config {
                detail: format!(
                    "ALBERT config: with {} layers and {} groups, transformer_model builds only \
                     groups {used:?}; use at most as many groups as layers",
                    self.bert.num_hidden_layers, self.num_hidden_groups
                ),
            });
        }
        Ok(())
    }

    /// The group layer `layer` applies: `int(layer_idx / num_hidden_layers *
    /// num_hidden_groups)`, computed in double precision as Python computes it.
    ///
    /// ```
    /// use scope::models::bert::BertConfig;
    /// use scope::models::albert::AlbertConfig;
    /// let cfg = AlbertConfig::new(BertConfig::tiny(10, 8, 4, 2, 16, 8), 4, 2, 1);
    /// let groups: Vec<usize> = (0..4).map(|l| cfg.group_of(l)).collect();
    /// assert_eq!(groups, [0, 0, 1, 1]);
    /// ```
    pub fn group_of(&self, layer: usize) -> usize {
        let at = layer as f64 / self.bert.num_hidden_layers as f64 * self.num_hidden_groups as f64;
        at as usize
    }

    /// `create_initializer(initializer_range)`: a truncated normal of that deviation.
    pub fn initializer(&self) -> Initializer {
        self.bert.initializer()
    }

    /// The embeddings' config: BERT's, at width `E` (ALBERT's embedding tables and their
    /// layer norm are BERT's, `embedding_size` wide).
    pub fn embeddings(&self) -> BertConfig {
        BertConfig {
            hidden_size: self.embedding_size,
            ..self.bert
        }
    }
}
