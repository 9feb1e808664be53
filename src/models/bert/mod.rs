//! BERT (google-research/bert), declared once with [`model!`](macro@crate::model) under the names
//! TF1 gives its variables, with the forward pass and the heads on the [`Tape`](crate::tape::Tape).
//!
//! The declaration reads like `modeling.py`: [`BertModel`] opens `bert` the way
//! `tf.variable_scope(scope, default_name="bert")` does and holds [`BertEmbeddings`], the
//! encoder's `layer_{i}` ([`BertLayer`], repeated `num_hidden_layers` times) and the pooler.
//! [`BertClassifier`] adds `run_classifier.create_model`'s `output_weights` and
//! `output_bias` at the root; [`BertPretraining`] adds `run_pretraining`'s
//! `cls/predictions` (whose output layer is the word-embedding table, tied) and
//! `cls/seq_relationship`. Built with [`Model::build_here`](crate::Model::build_here) at the root, each creates exactly
//! TF's variables in TF's order; [`bert_optimizer`] then adds `create_optimizer`'s.
//!
//! The model runs as BERT builds it with `is_training=False`: dropout is not applied.
//!
//! ```
//! use scope::models::bert::{BertClassifier, BertConfig, BertInputs};
//! use scope::tape::Tape;
//! use scope::{Model, Registry};
//!
//! let cfg = BertConfig::tiny(50, 16, 2, 2, 32, 20);
//! let reg = Registry::with_seed(1);
//! let model = BertClassifier::build_here(&reg, (cfg, 3))?;
//! assert_eq!(model.variables()[0].0, "bert/embeddings/word_embeddings");
//! assert_eq!(model.variables().last().unwrap().0, "output_bias");
//!
//! let inputs = BertInputs::new(
//!     ndarray::array![[1, 7, 9, 2], [1, 4, 2, 0]],
//!     ndarray::array![[1, 1, 1, 1], [1, 1, 1, 0]],
//!     ndarray::array![[0, 0, 1, 1], [0, 0, 0, 0]],
//! )?;
//! let mut tape = Tape::<f32>::new();
//! let out = model.forward(&mut tape, &inputs, &[2, 0])?;
//! assert_eq!(tape.value(out.probabilities)?.shape(), &[2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

//!
//! The module holds BERT whole: its config ([`BertConfig`]), its declaration ([`BertModel`]
//! and the heads), its own self-attention layer ([`BertSelfAttention`], named as
//! `modeling.attention_layer` names its variables), the forward passes, the optimizer
//! ([`bert_optimizer`]) and the checkpoint presets that map its TF names to Hugging
//! Face's ([`PRESETS`], registered in [`crate::models::presets`]).

mod attention;
mod config;
mod declaration;
mod forward;
mod heads;
mod optimizer;
mod presets;

pub use self::attention::BertSelfAttention;
pub use self::config::BertConfig;
pub use self::declaration::{
    BertClassifier, BertEmbeddings, BertLayer, BertModel, BertPretraining, MaskedLmHead,
};
pub(crate) use self::forward::pool;
pub use self::forward::{BertInputs, BertOutputs};
pub(crate) use self::heads::{check_labels, classify};
pub use self::heads::{ClassifierOutputs, PretrainingLabels, PretrainingOutputs};
pub use self::optimizer::bert_optimizer;
pub use self::presets::{bert_hf_to_tf, bert_tf_to_hf, BertLayout, PRESETS};
pub(crate) use self::presets::{rename_module, transpose_and_skip_state, Module};

#[cfg(test)]
mod attention_tests;
