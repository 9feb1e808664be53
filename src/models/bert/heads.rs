//! The heads' forward passes: `run_classifier`'s logits and loss, `run_pretraining`'s
//! masked-LM and next-sentence outputs.

use ndarray::{Array1, Array2, ArrayD, IxDyn};

use super::{BertClassifier, BertInputs, BertOutputs, BertPretraining};
use crate::nn::check_ids;
use crate::tape::{NodeId, Real, Tape};
use crate::{TrainError, Variable};

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
    weights: &Variable,
    bias: &Variable,
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
    /// [`BertModel::forward`](super::BertModel::forward) does.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &BertInputs,
        labels: &[i64],
    ) -> Result<ClassifierOutputs, TrainError> {
        let num_labels = self.output_bias.shape()[0];
        let labels = check_labels(labels, inputs.dims().0, num_labels)?;
        let bert = self.bert.forward(tape, inputs)?;
        let head = classify(
            tape,
            bert.pooled_output,
            &self.output_weights,
            &self.output_bias,
            &labels,
        )?;
        Ok(ClassifierOutputs {
            bert,
            logits: head.logits,
            probabilities: head.probabilities,
            log_probs: head.log_probs,
            per_example_loss: head.per_example_loss,
            loss: head.loss,
        })
    }
}

/// `labels` as indices, refused unless there is one per sequence, each in `0..num_labels`.
pub(crate) fn check_labels(
    labels: &[i64],
    batch: usize,
    num_labels: usize,
) -> Result<Vec<usize>, TrainError> {
    if labels.len() != batch {
        return Err(TrainError::InputShape {
            input: "labels",
            expected: vec![batch],
            got: vec![labels.len()],
        });
    }
    check_ids("labels", labels.iter().copied(), num_labels)
}

/// The nodes of a classifier head ([`classify`]).
pub(crate) struct Head {
    pub(crate) logits: NodeId,
    pub(crate) probabilities: NodeId,
    pub(crate) log_probs: NodeId,
    pub(crate) per_example_loss: NodeId,
    pub(crate) loss: NodeId,
}

/// `create_model`'s head over `pooled`: the logits, the probabilities and the mean
/// cross-entropy against checked `labels`.
pub(crate) fn classify<T: Real>(
    tape: &mut Tape<T>,
    pooled: NodeId,
    weights: &Variable,
    bias: &Variable,
    labels: &[usize],
) -> Result<Head, TrainError> {
    let logits = logits(tape, pooled, weights, bias)?;
    let probabilities = tape.softmax(logits)?;
    let log_probs = tape.log_softmax(logits)?;
    let per_example_loss = tape.nll(log_probs, labels)?;
    let loss = tape.mean(per_example_loss, &[0])?;
    Ok(Head {
        logits,
        probabilities,
        log_probs,
        per_example_loss,
        loss,
    })
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
    /// or as [`BertModel::forward`](super::BertModel::forward) does.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &BertInputs,
        labels: &PretrainingLabels,
    ) -> Result<PretrainingOutputs, TrainError> {
        let cfg = &self.bert.cfg;
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
        let bert = self.bert.forward(tape, inputs)?;

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
