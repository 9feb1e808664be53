//! ALBERT (google-research/albert), declared once with [`model!`](macro@crate::model) under
//! the names TF1 gives its variables, with the forward pass on the [`Tape`](crate::tape::Tape)
//! and the LAMB or AdamWeightDecay optimizer of `optimization.create_optimizer`.
//!
//! ALBERT is BERT with one layer's weights shared by many layers. `transformer_model` opens
//! `tf.variable_scope("transformer", reuse=tf.AUTO_REUSE)` and, for layer `i` of `L`, enters
//! `group_{g}` with `g = int(i / L * num_hidden_groups)`, then each `inner_group_{j}`: the
//! variables exist once per (group, inner group), however many layers use them. The
//! declaration says exactly that: [`AlbertTransformer`] holds `num_hidden_groups`
//! [`AlbertGroup`]s of `inner_group_num` [`AlbertLayer`]s, and
//! [`AlbertModel::forward`] applies group [`AlbertConfig::group_of`]`(i)` to layer `i`.
//!
//! What else differs from BERT, each visible in the declaration:
//!
//! * the embeddings are BERT's at width `E` ([`AlbertConfig::embeddings`]), and
//!   `encoder/embedding_hidden_mapping_in` exists only when `E != H`
//!   (`#[model(when = ..)]`);
//! * an inner group's scopes are `attention_1/{self,output}`, then `LayerNorm`, then
//!   `ffn_1/intermediate/dense` and `ffn_1/intermediate/output/dense` (nested inside
//!   `intermediate`), then `LayerNorm_1`: contrib's layer norm takes its scope from the
//!   `default_name` counter, which starts again whenever `inner_group_{j}` is entered, so
//!   every layer meets `LayerNorm` and `LayerNorm_1` again rather than `LayerNorm_2`;
//! * its dense layers are einsums ([`dense_layer_2d`], [`dense_layer_3d`],
//!   [`dense_layer_3d_proj`]) over kernels stored as `[H, H]`.
//!
//! Building a model creates exactly TF's variables in TF's order; building it again under
//! `Reuse::Auto` (as TF builds every layer after the first of a group) creates nothing and
//! shares every variable.
//!
//! ```
//! use scope::models::bert::{BertConfig, BertInputs};
//! use scope::models::albert::{AlbertClassifier, AlbertConfig};
//! use scope::tape::Tape;
//! use scope::{Model, Registry};
//!
//! // 6 layers in 2 groups: two layers' worth of variables.
//! let cfg = AlbertConfig::new(BertConfig::tiny(50, 16, 6, 2, 32, 20), 8, 2, 1);
//! let reg = Registry::with_seed(1);
//! let model = AlbertClassifier::build_here(&reg, (cfg, 3))?;
//! let names: Vec<String> = model.variables().into_iter().map(|(n, _)| n).collect();
//! assert!(names.contains(&"bert/encoder/transformer/group_1/inner_group_0/LayerNorm_1/gamma".into()));
//! assert!(!names.iter().any(|n| n.contains("group_2")));
//!
//! let inputs = BertInputs::new(
//!     ndarray::array![[1, 7, 9, 2], [1, 4, 2, 0]],
//!     ndarray::array![[1, 1, 1, 1], [1, 1, 1, 0]],
//!     ndarray::array![[0, 0, 1, 1], [0, 0, 0, 0]],
//! )?;
//! let mut tape = Tape::<f32>::new();
//! let out = model.forward(&mut tape, &inputs, &[2, 0])?;
//! assert_eq!(out.albert.layer_outputs.len(), 6);
//! assert_eq!(tape.value(out.probabilities)?.shape(), &[2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod forward;
mod ops;
mod optimizer;
pub mod presets;

pub use config::AlbertConfig;
pub use forward::{AlbertClassifierOutputs, AlbertOutputs};
pub use ops::{dense_layer_2d, dense_layer_3d, dense_layer_3d_proj};
pub use optimizer::{albert_optimizer, AlbertOptimizer, AlbertOptimizerKind};

use crate::model;
use crate::models::bert::BertEmbeddings;
use crate::models::bert::BertSelfAttention;
use crate::nn::{Dense, LayerNorm};

/// ALBERT's three inputs: BERT's (`input_ids`, `input_mask`, `token_type_ids`, each
/// `[batch, seq]`).
pub type AlbertInputs = crate::models::bert::BertInputs;

model! {
    /// `modeling.AlbertModel`'s variables, and the config they were built with (the forward
    /// pass reads it there). Built as a field with `default_name`, it opens `bert` as
    /// `tf.variable_scope(scope, default_name="bert")` does.
    pub struct AlbertModel("bert", cfg: AlbertConfig) {
        #[keep]
        cfg,
        embeddings: model BertEmbeddings(cfg.embeddings()),
        encoder {
            #[model(when = cfg.embedding_size != cfg.bert.hidden_size, scope = "embedding_hidden_mapping_in")]
            embedding_hidden_mapping_in: model Dense(
                cfg.embedding_size, cfg.bert.hidden_size, cfg.initializer()
            ),
            transformer: model AlbertTransformer(cfg),
        }
        pooler {
            #[model(default_name)]
            dense: model Dense(cfg.bert.hidden_size, cfg.bert.hidden_size, cfg.initializer()),
        }
    }

    /// `transformer_model`'s `transformer` scope: the variables of every group, once.
    pub struct AlbertTransformer("transformer", cfg: AlbertConfig) {
        #[model(repeat = cfg.num_hidden_groups)]
        group: model AlbertGroup(cfg),
    }

    /// `group_{g}`: the inner groups every layer of the group applies, in order.
    pub struct AlbertGroup("group", cfg: AlbertConfig) {
        #[model(repeat = cfg.inner_group_num)]
        inner_group: model AlbertLayer(cfg),
    }

    /// `inner_group_{j}`: `attention_ffn_block`'s variables, and the config.
    pub struct AlbertLayer("inner_group", cfg: AlbertConfig) {
        #[keep]
        cfg,
        attention_1 {
            /// `dense_layer_3d` for `query`, `key`, `value` (kernels `[H, H]` used as
            /// `[H, A, D]`): BERT's self-attention.
            #[model(scope = "self")]
            self_attention: model BertSelfAttention(
                cfg.bert.hidden_size, cfg.bert.num_attention_heads, cfg.initializer()
            ),
            output {
                /// `dense_layer_3d_proj` (kernel `[H, H]` used as `[A, D, H]`).
                dense: model Dense(cfg.bert.hidden_size, cfg.bert.hidden_size, cfg.initializer()),
            }
        }
        #[model(default_name)]
        layer_norm: model LayerNorm(cfg.bert.hidden_size),
        ffn_1 {
            intermediate {
                dense: model Dense(
                    cfg.bert.hidden_size, cfg.bert.intermediate_size, cfg.initializer()
                ),
                output {
                    dense: model Dense(
                        cfg.bert.intermediate_size, cfg.bert.hidden_size, cfg.initializer()
                    ),
                }
            }
        }
        #[model(default_name)]
        layer_norm_1: model LayerNorm(cfg.bert.hidden_size),
    }

    /// `classifier_utils.create_model`: ALBERT, then `output_weights` and `output_bias` in
    /// the caller's scope (the root). Build it with `build_here`.
    pub struct AlbertClassifier("classifier", cfg: AlbertConfig, num_labels: usize) {
        #[model(default_name)]
        bert: model AlbertModel(cfg),
        output_weights: [num_labels, cfg.bert.hidden_size] = truncated_normal(0.0, 0.02),
        output_bias: [num_labels] = zeros,
    }
}

#[cfg(test)]
mod tests;
