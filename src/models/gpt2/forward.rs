//! `model.model` on the tape: the training graph, differentiable.

use ndarray::{ArrayD, ArrayView2, IxDyn};

use super::declaration::{Block, Conv1d, Norm};
use super::Gpt2;
use crate::tape::{NodeId, Real, Tape};
use crate::TrainError;

/// `norm`'s epsilon in `model.py`.
pub(crate) const NORM_EPSILON: f64 = 1e-5;

/// What `model.py` adds where the causal mask is 0 (`w*b - 1e10*(1-b)`).
pub(crate) const MASKED: f64 = -1e10;

/// The nodes of [`Gpt2::forward`].
#[derive(Clone, Debug)]
pub struct Gpt2Outputs {
    /// The final hidden states after `ln_f`, `[batch * seq, n_embd]`.
    pub hidden: NodeId,
    /// `h @ wte^T`, `[batch * seq, n_vocab]` (TF's `logits` `[batch, seq, n_vocab]`, in
    /// the same order).
    pub logits: NodeId,
}

/// The nodes of [`Gpt2::lm_loss`].
#[derive(Clone, Debug)]
pub struct LmOutputs {
    /// The model's outputs.
    pub model: Gpt2Outputs,
    /// The cross-entropy of each prediction, `[batch * (seq - 1)]`.
    pub per_token_loss: NodeId,
    /// Their mean: the loss every GPT-2 fine-tuning script minimizes, a scalar.
    pub loss: NodeId,
}

impl Norm {
    /// `norm(x)`: `(x - mean) * rsqrt(var + 1e-5) * g + b` over the last axis.
    pub fn forward<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let g = tape.variable(&self.g)?;
        let b = tape.variable(&self.b)?;
        tape.layer_norm(x, g, b, NORM_EPSILON)
    }
}

impl Conv1d {
    /// The weight as the `[nx, nf]` matrix `conv1d` multiplies by (a leaf in that shape:
    /// no copy while the weight is unchanged since the tape's last step).
    fn matrix<T: Real>(&self, tape: &mut Tape<T>) -> Result<NodeId, TrainError> {
        tape.variable_reshaped(&self.w, &self.w.shape()[1..])
    }

    /// `conv1d(x)`: `x @ reshape(w, [nx, nf]) + b` for `x` `[n, nx]`.
    pub fn forward<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let w = self.matrix(tape)?;
        let b = tape.variable(&self.b)?;
        tape.linear(x, w, b)
    }

    /// `gelu(conv1d(x))`, the bias added inside the fused activation.
    fn forward_gelu<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let w = self.matrix(tape)?;
        let b = tape.variable(&self.b)?;
        let xw = tape.matmul(x, w)?;
        tape.bias_gelu(xw, b)
    }
}

/// The shape of an attention input: batch, sequence, heads, head width.
#[derive(Clone, Copy)]
struct Heads {
    batch: usize,
    seq: usize,
    heads: usize,
    d: usize,
}

impl Heads {
    /// `split_heads`: `[batch * seq, heads * d]` to `[batch, heads, seq, d]`.
    fn split<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let x = tape.reshape(x, &[self.batch, self.seq, self.heads, self.d])?;
        tape.permute(x, &[0, 2, 1, 3])
    }

    /// `merge_heads`: back to `[batch * seq, heads * d]`.
    fn merge<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let x = tape.permute(x, &[0, 2, 1, 3])?;
        tape.reshape(x, &[self.batch * self.seq, self.heads * self.d])
    }
}

impl Block {
    /// `block(x)` on `x` `[batch * seq, n_embd]`: `x + attn(ln_1(x))`, then
    /// `x + mlp(ln_2(x))`. `mask` is the additive causal mask `[seq, seq]`.
    fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        x: NodeId,
        mask: NodeId,
        dims: Heads,
    ) -> Result<NodeId, TrainError> {
        let e = dims.heads * dims.d;
        let h = self.ln_1.forward(tape, x)?;
        let qkv = self.attn_c_attn.forward(tape, h)?;
        let parts = tape.split(qkv, 1, &[e, e, e])?;
        let q = dims.split(tape, parts[0])?;
        let k = dims.split(tape, parts[1])?;
        let v = dims.split(tape, parts[2])?;
        // multihead_attn: w = q k^T * rsqrt(d), the causal mask, softmax, w v.
        let w = tape.batch_matmul(q, k, false, true)?;
        let w = tape.scale(w, 1.0 / (dims.d as f64).sqrt())?;
        let w = tape.add(w, mask)?;
        let w = tape.softmax(w)?;
        let a = tape.batch_matmul(w, v, false, false)?;
        let a = dims.merge(tape, a)?;
        let a = self.attn_c_proj.forward(tape, a)?;
        let x = tape.add(x, a)?;
        let h = self.ln_2.forward(tape, x)?;
        let m = self.mlp_c_fc.forward_gelu(tape, h)?;
        let m = self.mlp_c_proj.forward(tape, m)?;
        tape.add(x, m)
    }
}

/// `attention_mask(nd, ns)` as an additive mask `[nd, ns]`: 0 where query `i` may see key
/// `j` (`i >= j - ns + nd`, counted from the lower right corner), [`MASKED`] elsewhere.
pub(crate) fn causal_mask<T: Real>(nd: usize, ns: usize) -> ArrayD<T> {
    let masked = T::from_f64(MASKED);
    ArrayD::from_shape_fn(IxDyn(&[nd, ns]), |ix| {
        if ix[0] + ns >= ix[1] + nd {
            T::ZERO
        } else {
            masked
        }
    })
}

impl Gpt2 {
    /// Checks a batch of token ids `[batch, seq]` before anything runs: at least one row
    /// and one token, no more tokens than `n_ctx` positions after `past` cached ones, every
    /// id in the vocabulary. Returns the ids, flat.
    pub(crate) fn check_input(
        &self,
        input: &'static str,
        tokens: ArrayView2<'_, i64>,
        past: usize,
    ) -> Result<Vec<usize>, TrainError> {
        let (batch, seq) = tokens.dim();
        if batch == 0 || seq == 0 || past + seq > self.cfg.n_ctx {
            return Err(TrainError::InputShape {
                input,
                expected: vec![batch.max(1), self.cfg.n_ctx.saturating_sub(past).max(1)],
                got: vec![batch, seq],
            });
        }
        self.check_tokens(input, tokens.iter())
    }

    /// `model.model(hparams, X)` on a tape, without a cache: embeddings, every block,
    /// `ln_f`, and the logits over `wte` (tied).
    ///
    /// Fails before putting anything on the tape if a token is outside the vocabulary, or
    /// there are more than `n_ctx` tokens per row (or none).
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        tokens: ArrayView2<'_, i64>,
    ) -> Result<Gpt2Outputs, TrainError> {
        let ids = self.check_input("tokens", tokens, 0)?;
        let (batch, seq) = tokens.dim();
        let cfg = &self.cfg;
        let p = &self.params;
        let positions: Vec<usize> = (0..batch).flat_map(|_| 0..seq).collect();
        let te = tape.gather_variable(&p.wte, &ids)?;
        let pe = tape.gather_variable(&p.wpe, &positions)?;
        let mut x = tape.add(te, pe)?;
        let mask = tape.constant(causal_mask(seq, seq));
        let dims = Heads {
            batch,
            seq,
            heads: cfg.n_head,
            d: cfg.head_width(),
        };
        for block in &p.h {
            x = block.forward(tape, x, mask, dims)?;
        }
        let hidden = p.ln_f.forward(tape, x)?;
        let wte = tape.variable(&p.wte)?;
        let logits = tape.batch_matmul(hidden, wte, false, true)?;
        Ok(Gpt2Outputs { hidden, logits })
    }

    /// The language-model loss every GPT-2 fine-tuning script minimizes: the mean of
    /// `sparse_softmax_cross_entropy_with_logits(labels=X[:, 1:], logits=logits[:, :-1])`.
    ///
    /// Fails as [`Gpt2::forward`] does, and with [`TrainError::InputShape`] for rows of
    /// fewer than two tokens (nothing to predict).
    pub fn lm_loss<T: Real>(
        &self,
        tape: &mut Tape<T>,
        tokens: ArrayView2<'_, i64>,
    ) -> Result<LmOutputs, TrainError> {
        let (batch, seq) = tokens.dim();
        if seq < 2 {
            return Err(TrainError::InputShape {
                input: "tokens",
                expected: vec![batch.max(1), 2],
                got: vec![batch, seq],
            });
        }
        self.check_input("tokens", tokens, 0)?;
        let labels: Vec<usize> = tokens
            .rows()
            .into_iter()
            .flat_map(|row| row.iter().skip(1).map(|&t| t as usize).collect::<Vec<_>>())
            .collect();
        let model = self.forward(tape, tokens)?;
        let v = self.cfg.n_vocab;
        let logits = tape.reshape(model.logits, &[batch, seq, v])?;
        let logits = tape.slice(logits, 1, 0, seq - 1)?;
        let logits = tape.reshape(logits, &[batch * (seq - 1), v])?;
        let per_token_loss = tape.softmax_cross_entropy(logits, &labels)?;
        let loss = tape.mean(per_token_loss, &[0])?;
        Ok(LmOutputs {
            model,
            per_token_loss,
            loss,
        })
    }
}
