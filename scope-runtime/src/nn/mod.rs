//! General layers built from registry variables, named as TF names them: TF1's
//! `BasicLSTMCell`, `tf.layers.dense` ([`Dense`]), contrib's `layer_norm` ([`LayerNorm`]),
//! embedding lookup, and BERT's self-attention ([`BertSelfAttention`]); and fused,
//! allocation-free training paths ([`LstmSequence`], [`linear_forward`], [`linear_backward`]).

mod attention;
mod dense;
mod embedding;
mod fused;
mod layer_norm;
mod lstm;

pub use attention::BertSelfAttention;
pub use dense::{Activation, Dense};
pub use embedding::{check_ids, embedding_lookup};
pub use fused::{linear_backward, linear_forward, LstmSequence};
pub use layer_norm::LayerNorm;
pub use lstm::{BasicLstmCell, LstmState};

#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod tests;
