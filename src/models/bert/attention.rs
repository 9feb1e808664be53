//! BERT's self-attention (`modeling.attention_layer` with `from_tensor == to_tensor`): the
//! `query`, `key` and `value` dense layers in scope `self`, and multi-head scaled dot-product
//! attention with an additive padding mask.

use crate::nn::Dense;
use crate::tape::{NodeId, Real, Tape};
use crate::{
    Error, Initializer, ManifestEntry, Model, ModelScope, Registry, TrainError, Variable,
    VariableScope,
};

/// BERT's `attention_layer` as a [`Model`]: scope `self` (as in
/// `bert/encoder/layer_0/attention/self`), holding three [`Dense`] layers named `query`,
/// `key` and `value`, each `[hidden, hidden]` with a `[hidden]` bias.
///
/// `Args` is `(hidden_size, num_attention_heads, kernel_initializer)`.
///
/// The forward pass ([`BertSelfAttention::forward`]), for `x` `[batch * seq, hidden]` and
/// `A` heads of `D = hidden / A`:
/// `Q, K, V = x · W + b` reshaped to `[batch, A, seq, D]`;
/// `probs = softmax(Q K^T / sqrt(D) + adder)` over the keys, `adder[b, t]` being
/// `(1 - input_mask[b, t]) * -10000`; `context = probs V`, heads concatenated back to
/// `[batch * seq, hidden]`.
///
/// ```
/// use scope::models::bert::BertSelfAttention;
/// use scope::{Initializer, Model, Registry};
///
/// let reg = Registry::new();
/// let init = Initializer::truncated_normal(0.0, 0.02);
/// let attn = reg.variable_scope("attention").with(|_| BertSelfAttention::build(&reg, (8, 2, init)))?;
/// let names: Vec<String> = attn.variables().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[0], "attention/self/query/kernel");
/// assert_eq!(names[5], "attention/self/value/bias");
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BertSelfAttention {
    scope: VariableScope,
    query: Dense,
    key: Dense,
    value: Dense,
    num_heads: usize,
}

impl BertSelfAttention {
    /// The `query` projection.
    pub fn query(&self) -> &Dense {
        &self.query
    }

    /// The `key` projection.
    pub fn key(&self) -> &Dense {
        &self.key
    }

    /// The `value` projection.
    pub fn value(&self) -> &Dense {
        &self.value
    }

    /// The number of attention heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Self-attention on a tape: `x` is `[batch * seq, hidden]`, `adder` the `[batch, seq]`
    /// additive mask ([`Tape::attention_mask_adder`]); returns the context
    /// `[batch * seq, hidden]` (before BERT's `attention/output` dense layer).
    ///
    /// Fails with [`TrainError::Config`] if the heads do not divide the hidden size, and with
    /// [`TrainError::Shape`] if `x` or `adder` do not fit `batch` and `seq`.
    pub fn forward<T: Real>(
        &self,
        tape: &mut Tape<T>,
        x: NodeId,
        adder: NodeId,
        batch: usize,
        seq: usize,
    ) -> Result<NodeId, TrainError> {
        let hidden = self.query.units();
        let heads = self.num_heads;
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(TrainError::Config {
                detail: format!(
                    "the hidden size ({hidden}) is not a multiple of the number of attention \
                     heads ({heads}) in {}",
                    self.scope.name()
                ),
            });
        }
        let want_x = [batch * seq, self.query.inputs()];
        if tape.value(x)?.shape() != want_x {
            return Err(TrainError::Shape {
                op: "attention",
                detail: format!(
                    "x must be [batch * seq, hidden] = {want_x:?}, got {:?}",
                    tape.value(x)?.shape()
                ),
            });
        }
        if tape.value(adder)?.shape() != [batch, seq] {
            return Err(TrainError::Shape {
                op: "attention",
                detail: format!(
                    "the mask adder must be [batch, seq] = [{batch}, {seq}], got {:?}",
                    tape.value(adder)?.shape()
                ),
            });
        }
        let d = hidden / heads;
        // The heads are read in place from the [batch * seq, hidden] projections (see
        // `Tape::attention_probs`), where BERT reshapes and transposes to
        // [batch, heads, seq, d] and back.
        let q = self.query.forward(tape, x)?;
        let k = self.key.forward(tape, x)?;
        let v = self.value.forward(tape, x)?;
        let probs = tape.attention_probs(q, k, adder, heads, 1.0 / (d as f64).sqrt())?;
        tape.attention_context(probs, v)
    }
}

impl Model for BertSelfAttention {
    /// `(hidden_size, num_attention_heads, kernel_initializer)`.
    type Args = (usize, usize, Initializer);
    const SCOPE: &'static str = "self";
    const MANIFEST: &'static [ManifestEntry] = &[
        ManifestEntry::Model {
            scope: "query",
            type_name: "Dense",
            manifest: Dense::MANIFEST,
        },
        ManifestEntry::Model {
            scope: "key",
            type_name: "Dense",
            manifest: Dense::MANIFEST,
        },
        ManifestEntry::Model {
            scope: "value",
            type_name: "Dense",
            manifest: Dense::MANIFEST,
        },
    ];

    fn build_in(
        reg: &Registry,
        scope: &str,
        (hidden, num_heads, init): (usize, usize, Initializer),
    ) -> Result<BertSelfAttention, Error> {
        let entered = ModelScope::enter(reg, scope)?;
        let query = Dense::build_in(reg, "query", (hidden, hidden, init.clone()))?;
        let key = Dense::build_in(reg, "key", (hidden, hidden, init.clone()))?;
        let value = Dense::build_in(reg, "value", (hidden, hidden, init))?;
        Ok(BertSelfAttention {
            scope: entered.scope().clone(),
            query,
            key,
            value,
            num_heads,
        })
    }

    fn scope(&self) -> &VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        self.query.for_each_variable(f);
        self.key.for_each_variable(f);
        self.value.for_each_variable(f);
    }
}
