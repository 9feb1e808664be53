//! `BertModel`'s forward pass on a tape: its inputs, their checks, the embeddings, every
//! encoder layer and the pooler.

use ndarray::Array2;

use super::{BertConfig, BertEmbeddings, BertLayer, BertModel};
use crate::nn::{check_ids, embedding_lookup, Activation, Dense};
use crate::tape::{NodeId, Real, Tape};
use crate::TrainError;

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
    /// Checks `inputs` against the model before anything is computed: ids within the
    /// vocabulary, token types within the token-type table, mask values 0 or 1, and no more
    /// positions than the position table has rows ([`BertInputs::check`]).
    pub fn check_inputs(&self, inputs: &BertInputs) -> Result<(), TrainError> {
        inputs.check(&self.cfg)
    }

    /// `BertModel(config, is_training=False, input_ids, input_mask, token_type_ids)` on a
    /// tape: embeddings, every encoder layer, the pooler.
    ///
    /// Runs with the config the model was built with (its `cfg` field), so no other can be
    /// given. Fails before putting anything on the tape if that config is invalid (see
    /// [`BertConfig::validate`](super::BertConfig::validate)) or the inputs do not fit it (see
    /// [`BertModel::check_inputs`]).
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &BertInputs,
    ) -> Result<BertOutputs, TrainError> {
        let cfg = &self.cfg;
        cfg.validate()?;
        self.check_inputs(inputs)?;
        let (batch, seq) = inputs.dims();
        let h = cfg.hidden_size;
        let embedding_output = self.embeddings.forward(tape, inputs)?;

        // transformer_model.
        let adder = tape.attention_mask_adder(inputs.input_mask.view())?;
        let mut prev = tape.reshape(embedding_output, &[batch * seq, h])?;
        let mut layer_outputs = Vec::with_capacity(self.encoder_layer.len());
        for layer in &self.encoder_layer {
            prev = layer.forward(tape, prev, adder, batch, seq)?;
            layer_outputs.push(prev);
        }

        let pooled_output = pool(tape, &self.pooler_dense, prev, batch, seq)?;
        Ok(BertOutputs {
            embedding_output,
            layer_outputs,
            sequence_output: prev,
            pooled_output,
        })
    }
}

impl BertInputs {
    /// Checks the inputs against `cfg` before anything is computed: ids within the
    /// vocabulary, token types within the token-type table, mask values 0 or 1, and no more
    /// positions than the position table has rows.
    pub fn check(&self, cfg: &BertConfig) -> Result<(), TrainError> {
        let (batch, seq) = self.dims();
        if cfg.use_position_embeddings && seq > cfg.max_position_embeddings {
            return Err(TrainError::InputShape {
                input: "input_ids",
                expected: vec![batch, cfg.max_position_embeddings],
                got: self.input_ids.shape().to_vec(),
            });
        }
        check_ids("input_ids", self.input_ids.iter().copied(), cfg.vocab_size)?;
        if cfg.use_token_type {
            let types = self.token_type_ids.iter().copied();
            check_ids("token_type_ids", types, cfg.type_vocab_size)?;
        }
        check_ids("input_mask", self.input_mask.iter().copied(), 2)?;
        Ok(())
    }
}

impl BertEmbeddings {
    /// `embedding_lookup`, then `embedding_postprocessor` (token-type and position
    /// embeddings, the layer norm): `[batch, seq, width]`, `width` being the tables' (BERT's
    /// hidden size, ALBERT's embedding size). The inputs are checked against the tables.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        inputs: &BertInputs,
    ) -> Result<NodeId, TrainError> {
        let (batch, seq) = inputs.dims();
        let ids = inputs.input_ids.iter().copied();
        let mut x = embedding_lookup(tape, "input_ids", &self.word_embeddings, ids)?;
        if let Some(table) = &self.token_type_embeddings {
            let types_n = table.shape()[0];
            let types = inputs.token_type_ids.iter().copied();
            let types = check_ids("token_type_ids", types, types_n)?;
            let one_hot = tape.one_hot(&types, types_n)?;
            let table = tape.variable(table)?;
            let rows = tape.matmul(one_hot, table)?;
            x = tape.add(x, rows)?;
        }
        let width = self.word_embeddings.shape()[1];
        let mut x = tape.reshape(x, &[batch, seq, width])?;
        if let Some(table) = &self.position_embeddings {
            let table = tape.variable(table)?;
            let positions = tape.slice(table, 0, 0, seq)?;
            x = tape.add(x, positions)?;
        }
        self.layer_norm.forward(tape, x)
    }
}

/// The pooler: `tanh(dense(first token))` of `sequence` `[batch * seq, h]`, `[batch, h]`.
pub(crate) fn pool<T: Real>(
    tape: &mut Tape<T>,
    dense: &Dense,
    sequence: NodeId,
    batch: usize,
    seq: usize,
) -> Result<NodeId, TrainError> {
    let h = dense.inputs();
    let seq3 = tape.reshape(sequence, &[batch, seq, h])?;
    let first = tape.slice(seq3, 1, 0, 1)?;
    let first = tape.reshape(first, &[batch, h])?;
    dense.forward_with(tape, first, Activation::Tanh)
}

impl BertLayer {
    /// One layer on `x` `[batch * seq, hidden]`: self-attention, `attention/output` (dense,
    /// residual, layer norm), `intermediate` (dense with BERT's activation), `output` (dense,
    /// residual, layer norm).
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
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
        let intermediate =
            self.intermediate_dense
                .forward_with(tape, attention, self.cfg.hidden_act)?;
        let out = self.output_dense.forward(tape, intermediate)?;
        let out = tape.add(out, attention)?;
        self.output_layer_norm.forward(tape, out)
    }
}
