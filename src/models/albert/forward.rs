//! ALBERT's forward pass on the tape: `AlbertModel` (embeddings, `transformer_model`, the
//! pooler) and `classifier_utils.create_model`'s head.

use super::ops::{dense_layer_2d, dense_layer_3d_proj};
use super::{AlbertClassifier, AlbertInputs, AlbertLayer, AlbertModel};
use crate::models::bert::{check_labels, classify, pool};
use crate::nn::Activation;
use crate::tape::{NodeId, Real, Tape};
use crate::TrainError;

/// The nodes of [`AlbertModel::forward`].
#[derive(Clone, Debug)]
pub struct AlbertOutputs {
    /// The embeddings after their layer norm, `[batch, seq, E]`.
    pub embedding_output: NodeId,
    /// The output of every inner-group application, layer by layer, `[batch * seq, H]`
    /// each (`get_all_encoder_layers()`: `num_hidden_layers * inner_group_num` of them).
    pub layer_outputs: Vec<NodeId>,
    /// The last of them.
    pub sequence_output: NodeId,
    /// `tanh(first token's final state · pooler kernel + bias)`, `[batch, H]`.
    pub pooled_output: NodeId,
}

/// The nodes of [`AlbertClassifier::forward`].
#[derive(Clone, Debug)]
pub struct AlbertClassifierOutputs {
    /// ALBERT's outputs.
    pub albert: AlbertOutputs,
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

impl AlbertModel {
    /// Checks `inputs` before anything is computed, as BERT does ([`AlbertInputs::check`]):
    /// ids within the vocabulary, token types within the token-type table, mask values 0 or
    /// 1, no more positions than the position table has rows.
    pub fn check_inputs(&self, inputs: &AlbertInputs) -> Result<(), TrainError> {
        inputs.check(&self.cfg.embeddings())
    }

    /// `AlbertModel(config, is_training=False, input_ids, input_mask, token_type_ids)` on a
    /// tape: the embeddings, `transformer_model` (layer `i` applies the inner groups of group
    /// [`AlbertConfig::group_of`](super::AlbertConfig::group_of)`(i)`), the pooler.
    ///
    /// Runs with the config the model was built with (its `cfg` field). Fails before putting
    /// anything on the tape if that config is invalid
    /// ([`AlbertConfig::validate`](super::AlbertConfig::validate)) or the inputs do not fit it.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &AlbertInputs,
    ) -> Result<AlbertOutputs, TrainError> {
        let cfg = &self.cfg;
        cfg.validate()?;
        self.check_inputs(inputs)?;
        let (batch, seq) = inputs.dims();
        let embedding_output = self.embeddings.forward(tape, inputs)?;

        // transformer_model: embedding_hidden_mapping_in when E != H, then the layers.
        let mut prev = tape.reshape(embedding_output, &[batch * seq, cfg.embedding_size])?;
        if let Some(mapping) = &self.encoder_embedding_hidden_mapping_in {
            prev = dense_layer_2d(tape, mapping, prev, Activation::Linear)?;
        }
        let adder = tape.attention_mask_adder(inputs.input_mask.view())?;
        let groups = &self.encoder_transformer.group;
        let mut layer_outputs =
            Vec::with_capacity(cfg.bert.num_hidden_layers * cfg.inner_group_num);
        for layer in 0..cfg.bert.num_hidden_layers {
            for inner in &groups[cfg.group_of(layer)].inner_group {
                prev = inner.forward(tape, prev, adder, batch, seq)?;
                layer_outputs.push(prev);
            }
        }

        let pooled_output = pool(tape, &self.pooler_dense, prev, batch, seq)?;
        Ok(AlbertOutputs {
            embedding_output,
            layer_outputs,
            sequence_output: prev,
            pooled_output,
        })
    }
}

impl AlbertLayer {
    /// `attention_ffn_block` on `x` `[batch * seq, H]`: self-attention (`dense_layer_3d`
    /// for query, key and value, then `dot_product_attention`: BERT's), `attention_1/output`
    /// (`dense_layer_3d_proj`), residual and `LayerNorm`; `ffn_1/intermediate/dense`
    /// (`dense_layer_2d` with the activation), `ffn_1/intermediate/output/dense`, residual and
    /// `LayerNorm_1`.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        x: NodeId,
        adder: NodeId,
        batch: usize,
        seq: usize,
    ) -> Result<NodeId, TrainError> {
        let heads = self.cfg.bert.num_attention_heads;
        let context = self
            .attention_1_self_attention
            .forward(tape, x, adder, batch, seq)?;
        let attention = dense_layer_3d_proj(tape, &self.attention_1_output_dense, context, heads)?;
        let attention = tape.add(attention, x)?;
        let attention = self.layer_norm.forward(tape, attention)?;
        let intermediate = dense_layer_2d(
            tape,
            &self.ffn_1_intermediate_dense,
            attention,
            self.cfg.bert.hidden_act,
        )?;
        let ffn = dense_layer_2d(
            tape,
            &self.ffn_1_intermediate_output_dense,
            intermediate,
            Activation::Linear,
        )?;
        let out = tape.add(ffn, attention)?;
        self.layer_norm_1.forward(tape, out)
    }
}

impl AlbertClassifier {
    /// `classifier_utils.create_model(is_training=False)` on a tape: ALBERT, the logits over
    /// the pooled output (in scope `loss`), the probabilities and the mean cross-entropy
    /// against `labels`.
    ///
    /// Fails before computing anything if a label is outside `0..num_labels` or there is not
    /// one per sequence, or as [`AlbertModel::forward`] does.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &AlbertInputs,
        labels: &[i64],
    ) -> Result<AlbertClassifierOutputs, TrainError> {
        let num_labels = self.output_bias.shape()[0];
        let labels = check_labels(labels, inputs.dims().0, num_labels)?;
        let albert = self.bert.forward(tape, inputs)?;
        let head = classify(
            tape,
            albert.pooled_output,
            &self.output_weights,
            &self.output_bias,
            &labels,
        )?;
        Ok(AlbertClassifierOutputs {
            albert,
            logits: head.logits,
            probabilities: head.probabilities,
            log_probs: head.log_probs,
            per_example_loss: head.per_example_loss,
            loss: head.loss,
        })
    }
}
