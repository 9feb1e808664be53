//! BERT (google-research/bert), declared once with [`model!`](macro@crate::model) under the names
//! TF1 gives its variables, with the forward pass and the heads on the [`Tape`].
//!
//! The declaration reads like `modeling.py`: [`BertModel`] opens `bert` the way
//! `tf.variable_scope(scope, default_name="bert")` does and holds [`BertEmbeddings`], the
//! encoder's `layer_{i}` ([`BertLayer`], repeated `num_hidden_layers` times) and the pooler.
//! [`BertClassifier`] adds `run_classifier.create_model`'s `output_weights` and
//! `output_bias` at the root; [`BertPretraining`] adds `run_pretraining`'s
//! `cls/predictions` (whose output layer is the word-embedding table, tied) and
//! `cls/seq_relationship`. Built with [`Model::build_here`] at the root, each creates exactly
//! TF's variables in TF's order; [`bert_optimizer`] then adds `create_optimizer`'s.
//!
//! The model runs as BERT builds it with `is_training=False`: dropout is not applied.
//!
//! ```
//! use scope::bert::{BertClassifier, BertConfig, BertInputs};
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
//! let out = model.forward(&mut tape, &cfg, &inputs, &[2, 0])?;
//! assert_eq!(tape.value(out.probabilities)?.shape(), &[2, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use serde::Deserialize;

use crate::nn::{check_ids, embedding_lookup, Activation, BertSelfAttention, Dense, LayerNorm};
use crate::optim::{AdamWeightDecay, AdamWeightDecayConfig};
use crate::tape::{NodeId, Real, Tape};
use crate::{model, Initializer, Model, Registry, TrainError, Variable};

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

model! {
    /// `modeling.BertModel`'s variables. Built as a field with `default_name`, it opens
    /// `bert` as `tf.variable_scope(scope, default_name="bert")` does.
    pub struct BertModel("bert", cfg: BertConfig) {
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

    /// One `layer_{i}` of `transformer_model`.
    pub struct BertLayer("layer", cfg: BertConfig) {
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

/// BERT's three inputs, each `[batch, seq]`: token ids, the mask (1 = real token, 0 =
/// padding) and the token types.
#[derive(Clone, Debug, PartialEq)]
pub struct BertInputs {
    /// `input_ids`.
    pub input_ids: Array2<i64>,
    /// `input_mask`.
    pub input_mask: Array2<i64>,
    /// `token_type_ids`.
    pub token_type_ids: Array2<i64>,
}

impl BertInputs {
    /// The inputs, refused with [`TrainError::InputShape`] unless all three have the same
    /// shape, with at least one row and one position.
    pub fn new(
        input_ids: Array2<i64>,
        input_mask: Array2<i64>,
        token_type_ids: Array2<i64>,
    ) -> Result<BertInputs, TrainError> {
        let want = input_ids.shape().to_vec();
        if want.contains(&0) {
            return Err(TrainError::InputShape {
                input: "input_ids",
                expected: vec![1, 1],
                got: want,
            });
        }
        for (input, a) in [
            ("input_mask", &input_mask),
            ("token_type_ids", &token_type_ids),
        ] {
            if a.shape() != want.as_slice() {
                return Err(TrainError::InputShape {
                    input,
                    expected: want,
                    got: a.shape().to_vec(),
                });
            }
        }
        Ok(BertInputs {
            input_ids,
            input_mask,
            token_type_ids,
        })
    }

    /// `(batch, seq)`.
    pub fn dims(&self) -> (usize, usize) {
        self.input_ids.dim()
    }
}

/// The nodes of [`BertModel::forward`].
#[derive(Clone, Debug)]
pub struct BertOutputs {
    /// The embeddings after their layer norm, `[batch, seq, hidden]`.
    pub embedding_output: NodeId,
    /// Each layer's output, `[batch * seq, hidden]` (BERT's `all_encoder_layers`, before
    /// the final reshape).
    pub layer_outputs: Vec<NodeId>,
    /// The last layer's output, `[batch * seq, hidden]`.
    pub sequence_output: NodeId,
    /// `tanh(first token's final state · pooler kernel + bias)`, `[batch, hidden]`.
    pub pooled_output: NodeId,
}

impl BertModel {
    /// Checks that `cfg` is the config this model was built with (the shapes it fixes).
    fn check_config(&self, cfg: &BertConfig) -> Result<(), TrainError> {
        cfg.validate()?;
        let emb = &self.embeddings;
        let mut problems = Vec::new();
        if emb.word_embeddings.shape() != [cfg.vocab_size, cfg.hidden_size] {
            problems.push(format!(
                "{} is {:?}",
                emb.word_embeddings.name(),
                emb.word_embeddings.shape()
            ));
        }
        if self.encoder_layer.len() != cfg.num_hidden_layers {
            problems.push(format!("{} layers were built", self.encoder_layer.len()));
        }
        if emb.token_type_embeddings.is_some() != cfg.use_token_type
            || emb.position_embeddings.is_some() != cfg.use_position_embeddings
        {
            problems.push("the embedding flags differ".into());
        }
        let layer_ok = self.encoder_layer.iter().all(|l| {
            l.attention_self_attention.num_heads() == cfg.num_attention_heads
                && l.intermediate_dense.units() == cfg.intermediate_size
        });
        if !layer_ok {
            problems.push("the heads or the intermediate size differ".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TrainError::Config {
                detail: format!(
                    "the BERT config does not match the model in {}: {}; pass the config the \
                     model was built with",
                    self.scope_name(),
                    problems.join(", ")
                ),
            })
        }
    }

    /// Checks `inputs` against the model before anything is computed: ids within the
    /// vocabulary, token types within the token-type table, mask values 0 or 1, and no more
    /// positions than the position table has rows.
    pub fn check_inputs(&self, cfg: &BertConfig, inputs: &BertInputs) -> Result<(), TrainError> {
        let (_, seq) = inputs.dims();
        if cfg.use_position_embeddings && seq > cfg.max_position_embeddings {
            return Err(TrainError::InputShape {
                input: "input_ids",
                expected: vec![inputs.dims().0, cfg.max_position_embeddings],
                got: inputs.input_ids.shape().to_vec(),
            });
        }
        check_ids(
            "input_ids",
            inputs.input_ids.iter().copied(),
            cfg.vocab_size,
        )?;
        if cfg.use_token_type {
            check_ids(
                "token_type_ids",
                inputs.token_type_ids.iter().copied(),
                cfg.type_vocab_size,
            )?;
        }
        check_ids("input_mask", inputs.input_mask.iter().copied(), 2)?;
        Ok(())
    }

    /// `BertModel(config, is_training=False, input_ids, input_mask, token_type_ids)` on a
    /// tape: embeddings, every encoder layer, the pooler.
    ///
    /// Fails before putting anything on the tape if `cfg` is not the model's config or the
    /// inputs do not fit it (see [`BertModel::check_inputs`]).
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        cfg: &BertConfig,
        inputs: &BertInputs,
    ) -> Result<BertOutputs, TrainError> {
        self.check_config(cfg)?;
        self.check_inputs(cfg, inputs)?;
        let (batch, seq) = inputs.dims();
        let h = cfg.hidden_size;
        let emb = &self.embeddings;

        // embedding_lookup, then embedding_postprocessor.
        let mut x = embedding_lookup(
            tape,
            "input_ids",
            &emb.word_embeddings,
            inputs.input_ids.iter().copied(),
        )?;
        if let Some(table) = &emb.token_type_embeddings {
            let ids = check_ids(
                "token_type_ids",
                inputs.token_type_ids.iter().copied(),
                cfg.type_vocab_size,
            )?;
            let one_hot = tape.one_hot(&ids, cfg.type_vocab_size)?;
            let table = tape.variable(table)?;
            let types = tape.matmul(one_hot, table)?;
            x = tape.add(x, types)?;
        }
        let mut x = tape.reshape(x, &[batch, seq, h])?;
        if let Some(table) = &emb.position_embeddings {
            let table = tape.variable(table)?;
            let positions = tape.slice(table, 0, 0, seq)?;
            x = tape.add(x, positions)?;
        }
        let embedding_output = emb.layer_norm.forward(tape, x)?;

        // transformer_model.
        let adder = tape.attention_mask_adder(inputs.input_mask.view())?;
        let mut prev = tape.reshape(embedding_output, &[batch * seq, h])?;
        let mut layer_outputs = Vec::with_capacity(self.encoder_layer.len());
        for layer in &self.encoder_layer {
            prev = layer.forward(tape, cfg, prev, adder, batch, seq)?;
            layer_outputs.push(prev);
        }

        // The pooler: tanh(dense(first token)).
        let seq3 = tape.reshape(prev, &[batch, seq, h])?;
        let first = tape.slice(seq3, 1, 0, 1)?;
        let first = tape.reshape(first, &[batch, h])?;
        let pooled_output = self
            .pooler_dense
            .forward_with(tape, first, Activation::Tanh)?;
        Ok(BertOutputs {
            embedding_output,
            layer_outputs,
            sequence_output: prev,
            pooled_output,
        })
    }
}

impl BertLayer {
    /// One layer on `x` `[batch * seq, hidden]`: self-attention, `attention/output` (dense,
    /// residual, layer norm), `intermediate` (dense with BERT's activation), `output` (dense,
    /// residual, layer norm).
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        cfg: &BertConfig,
        x: NodeId,
        adder: NodeId,
        batch: usize,
        seq: usize,
    ) -> Result<NodeId, TrainError> {
        let context = self
            .attention_self_attention
            .forward(tape, x, adder, batch, seq)?;
        let attention = self.attention_output_dense.forward(tape, context)?;
        let attention = tape.add(attention, x)?;
        let attention = self.attention_output_layer_norm.forward(tape, attention)?;
        let intermediate = self
            .intermediate_dense
            .forward_with(tape, attention, cfg.hidden_act)?;
        let out = self.output_dense.forward(tape, intermediate)?;
        let out = tape.add(out, attention)?;
        self.output_layer_norm.forward(tape, out)
    }
}

/// The nodes of [`BertClassifier::forward`].
#[derive(Clone, Debug)]
pub struct ClassifierOutputs {
    /// BERT's outputs.
    pub bert: BertOutputs,
    /// `pooled · output_weights^T + output_bias`, `[batch, num_labels]`.
    pub logits: NodeId,
    /// `softmax(logits)`.
    pub probabilities: NodeId,
    /// `log_softmax(logits)`.
    pub log_probs: NodeId,
    /// `-log_probs[i, label_i]`, `[batch]`.
    pub per_example_loss: NodeId,
    /// The mean of `per_example_loss`, a scalar.
    pub loss: NodeId,
}

/// `x · weights^T + bias` for `x` `[n, h]`, `weights` `[k, h]`, `bias` `[k]`.
fn logits<T: Real>(
    tape: &mut Tape<T>,
    x: NodeId,
    weights: &crate::Variable,
    bias: &crate::Variable,
) -> Result<NodeId, TrainError> {
    let w = tape.variable(weights)?;
    let b = tape.variable(bias)?;
    let xw = tape.batch_matmul(x, w, false, true)?;
    tape.add(xw, b)
}

impl BertClassifier {
    /// `run_classifier.create_model(is_training=False)` on a tape: BERT, the logits over the
    /// pooled output, the probabilities and the mean cross-entropy against `labels`.
    ///
    /// Fails before computing anything if a label is outside `0..num_labels`, or as
    /// [`BertModel::forward`] does.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        cfg: &BertConfig,
        inputs: &BertInputs,
        labels: &[i64],
    ) -> Result<ClassifierOutputs, TrainError> {
        let num_labels = self.output_bias.shape()[0];
        let (batch, _) = inputs.dims();
        if labels.len() != batch {
            return Err(TrainError::InputShape {
                input: "labels",
                expected: vec![batch],
                got: vec![labels.len()],
            });
        }
        let labels = check_ids("labels", labels.iter().copied(), num_labels)?;
        let bert = self.bert.forward(tape, cfg, inputs)?;
        let logits = logits(
            tape,
            bert.pooled_output,
            &self.output_weights,
            &self.output_bias,
        )?;
        let probabilities = tape.softmax(logits)?;
        let log_probs = tape.log_softmax(logits)?;
        let per_example_loss = tape.nll(log_probs, &labels)?;
        let loss = tape.mean(per_example_loss, &[0])?;
        Ok(ClassifierOutputs {
            bert,
            logits,
            probabilities,
            log_probs,
            per_example_loss,
            loss,
        })
    }
}

/// `run_pretraining`'s extra inputs: for each sequence, `P` positions to predict, the true
/// ids there and their weights (0 for padding predictions), and the next-sentence label.
#[derive(Clone, Debug, PartialEq)]
pub struct PretrainingLabels {
    /// `masked_lm_positions`, `[batch, P]`, each in `0..seq`.
    pub masked_lm_positions: Array2<i64>,
    /// `masked_lm_ids`, `[batch, P]`, each in `0..vocab_size`.
    pub masked_lm_ids: Array2<i64>,
    /// `masked_lm_weights`, `[batch, P]`.
    pub masked_lm_weights: Array2<f32>,
    /// `next_sentence_labels`, `[batch]`, each 0 or 1.
    pub next_sentence_labels: Array1<i64>,
}

/// The nodes of [`BertPretraining::forward`].
#[derive(Clone, Debug)]
pub struct PretrainingOutputs {
    /// BERT's outputs.
    pub bert: BertOutputs,
    /// The masked-LM log-probabilities, `[batch * P, vocab_size]`.
    pub masked_lm_log_probs: NodeId,
    /// The weighted mean masked-LM loss, a scalar.
    pub masked_lm_loss: NodeId,
    /// The next-sentence log-probabilities, `[batch, 2]`.
    pub next_sentence_log_probs: NodeId,
    /// The mean next-sentence loss, a scalar.
    pub next_sentence_loss: NodeId,
    /// `masked_lm_loss + next_sentence_loss`.
    pub loss: NodeId,
}

impl BertPretraining {
    /// `run_pretraining`'s `model_fn` (with `is_training=False`) on a tape: BERT,
    /// `get_masked_lm_output` and `get_next_sentence_output`, and their sum.
    ///
    /// Fails before computing anything if a label input has the wrong shape or a value out
    /// of range (positions in `0..seq`, ids in the vocabulary, next-sentence labels 0 or 1),
    /// or as [`BertModel::forward`] does.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        cfg: &BertConfig,
        inputs: &BertInputs,
        labels: &PretrainingLabels,
    ) -> Result<PretrainingOutputs, TrainError> {
        let (batch, seq) = inputs.dims();
        let p = labels.masked_lm_positions.ncols();
        for (input, shape) in [
            ("masked_lm_positions", labels.masked_lm_positions.shape()),
            ("masked_lm_ids", labels.masked_lm_ids.shape()),
            ("masked_lm_weights", labels.masked_lm_weights.shape()),
        ] {
            if shape != [batch, p] {
                return Err(TrainError::InputShape {
                    input,
                    expected: vec![batch, p],
                    got: shape.to_vec(),
                });
            }
        }
        if labels.next_sentence_labels.len() != batch {
            return Err(TrainError::InputShape {
                input: "next_sentence_labels",
                expected: vec![batch],
                got: vec![labels.next_sentence_labels.len()],
            });
        }
        let positions = check_ids(
            "masked_lm_positions",
            labels.masked_lm_positions.iter().copied(),
            seq,
        )?;
        let ids = check_ids(
            "masked_lm_ids",
            labels.masked_lm_ids.iter().copied(),
            cfg.vocab_size,
        )?;
        let next = check_ids(
            "next_sentence_labels",
            labels.next_sentence_labels.iter().copied(),
            2,
        )?;
        let bert = self.bert.forward(tape, cfg, inputs)?;

        // get_masked_lm_output: gather_indexes, transform, logits over the tied table.
        let flat: Vec<usize> = positions
            .iter()
            .enumerate()
            .map(|(k, &pos)| (k / p.max(1)) * seq + pos)
            .collect();
        let head = &self.cls_predictions;
        let x = tape.gather(bert.sequence_output, &flat)?;
        let x = head.transform_dense.forward_with(tape, x, cfg.hidden_act)?;
        let x = head.transform_layer_norm.forward(tape, x)?;
        let lm_logits = logits(tape, x, &head.output_weights, &head.output_bias)?;
        let masked_lm_log_probs = tape.log_softmax(lm_logits)?;
        let per_prediction = tape.nll(masked_lm_log_probs, &ids)?;
        let weights: Vec<T> = labels
            .masked_lm_weights
            .iter()
            .map(|&w| T::from_f32(w))
            .collect();
        let weights = ArrayD::from_shape_vec(IxDyn(&[weights.len()]), weights).map_err(|e| {
            TrainError::Shape {
                op: "masked_lm_weights",
                detail: e.to_string(),
            }
        })?;
        let weights = tape.constant(weights);
        let masked_lm_loss = tape.weighted_mean(per_prediction, weights, 1e-5)?;

        // get_next_sentence_output.
        let ns_logits = logits(
            tape,
            bert.pooled_output,
            &self.cls_seq_relationship_output_weights,
            &self.cls_seq_relationship_output_bias,
        )?;
        let next_sentence_log_probs = tape.log_softmax(ns_logits)?;
        let per_example = tape.nll(next_sentence_log_probs, &next)?;
        let next_sentence_loss = tape.mean(per_example, &[0])?;
        let loss = tape.add(masked_lm_loss, next_sentence_loss)?;
        Ok(PretrainingOutputs {
            bert,
            masked_lm_log_probs,
            masked_lm_loss,
            next_sentence_log_probs,
            next_sentence_loss,
            loss,
        })
    }
}

/// `optimization.create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps)`:
/// [`AdamWeightDecay`] over the registry's trainable variables (TF's `tvars`), created in the
/// current variable scope (the root, as BERT does) after the model and its heads.
pub fn bert_optimizer(
    reg: &Registry,
    init_lr: f32,
    num_train_steps: u64,
    num_warmup_steps: u64,
) -> Result<AdamWeightDecay, TrainError> {
    AdamWeightDecay::new(
        reg,
        AdamWeightDecayConfig::bert(init_lr, num_train_steps, num_warmup_steps),
        &reg.trainable_variables(),
    )
}
