//! BERT's variables, declared once with `model!` under the names TF1 gives them: the model
//! (`bert/...`) and the heads of `run_classifier` and `run_pretraining`.

use super::{BertConfig, BertSelfAttention};
use crate::nn::{Dense, LayerNorm};
use crate::{model, Variable};

model! {
    /// `modeling.BertModel`'s variables, and the config they were built with (the forward
    /// pass reads it there). Built as a field with `default_name`, it opens `bert` as
    /// `tf.variable_scope(scope, default_name="bert")` does.
    pub struct BertModel("bert", cfg: BertConfig) {
        #[keep]
        cfg,
        embeddings: model BertEmbeddings(cfg),
        encoder {
            #[model(repeat = cfg.num_hidden_layers)]
            layer: model BertLayer(cfg),
        }
        pooler {
            #[model(default_name)]
            dense: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer()),
        }
    }

    /// `embedding_lookup` and `embedding_postprocessor`: the three tables, then the
    /// embeddings' `LayerNorm`.
    pub struct BertEmbeddings("embeddings", cfg: BertConfig) {
        word_embeddings: [cfg.vocab_size, cfg.hidden_size]
            = truncated_normal(0.0, cfg.initializer_range),
        #[var(when = cfg.use_token_type)]
        token_type_embeddings: [cfg.type_vocab_size, cfg.hidden_size]
            = truncated_normal(0.0, cfg.initializer_range),
        #[var(when = cfg.use_position_embeddings)]
        position_embeddings: [cfg.max_position_embeddings, cfg.hidden_size]
            = truncated_normal(0.0, cfg.initializer_range),
        #[model(default_name)]
        layer_norm: model LayerNorm(cfg.hidden_size),
    }

    /// One `layer_{i}` of `transformer_model`, with the config it was built with.
    pub struct BertLayer("layer", cfg: BertConfig) {
        #[keep]
        cfg,
        attention {
            #[model(scope = "self")]
            self_attention: model BertSelfAttention(
                cfg.hidden_size, cfg.num_attention_heads, cfg.initializer()
            ),
            output {
                #[model(default_name)]
                dense: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer()),
                #[model(default_name)]
                layer_norm: model LayerNorm(cfg.hidden_size),
            }
        }
        intermediate {
            #[model(default_name)]
            dense: model Dense(cfg.hidden_size, cfg.intermediate_size, cfg.initializer()),
        }
        output {
            #[model(default_name)]
            dense: model Dense(cfg.intermediate_size, cfg.hidden_size, cfg.initializer()),
            #[model(default_name)]
            layer_norm: model LayerNorm(cfg.hidden_size),
        }
    }

    /// `run_classifier.create_model`: BERT, then `output_weights` and `output_bias` in the
    /// caller's scope (the root). Build it with `build_here`.
    pub struct BertClassifier("classifier", cfg: BertConfig, num_labels: usize) {
        #[model(default_name)]
        bert: model BertModel(cfg),
        output_weights: [num_labels, cfg.hidden_size] = truncated_normal(0.0, 0.02),
        output_bias: [num_labels] = zeros,
    }

    /// `run_pretraining`'s model: BERT, then `get_masked_lm_output`'s `cls/predictions`
    /// (over the word-embedding table) and `get_next_sentence_output`'s
    /// `cls/seq_relationship`, in the caller's scope (the root). Build it with `build_here`.
    pub struct BertPretraining("pretraining", cfg: BertConfig) {
        #[model(default_name)]
        bert: model BertModel(cfg),
        cls {
            predictions: model MaskedLmHead(cfg, bert.embeddings.word_embeddings.clone()),
            seq_relationship {
                output_weights: [2, cfg.hidden_size]
                    = truncated_normal(0.0, cfg.initializer_range),
                output_bias: [2] = zeros,
            }
        }
    }

    /// `cls/predictions`: `transform` (dense with BERT's activation, then `LayerNorm`), and
    /// `output_bias`; the output weights are the word-embedding table, owned by the
    /// embeddings.
    pub struct MaskedLmHead("predictions", cfg: BertConfig, word_embeddings: Variable) {
        transform {
            #[model(default_name)]
            dense: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer()),
            #[model(default_name)]
            layer_norm: model LayerNorm(cfg.hidden_size),
        }
        output_bias: [cfg.vocab_size] = zeros,
        #[var(tied = word_embeddings)]
        output_weights: [cfg.vocab_size, cfg.hidden_size],
    }
}
