//! General layers built from registry variables, named as TF names them: TF1's
//! `BasicLSTMCell`, `tf.layers.dense` ([`Dense`]), contrib's `layer_norm` ([`LayerNorm`]),
//! embedding lookup, and fused, allocation-free training paths ([`LstmSequence`],
//! [`linear_forward`], [`linear_backward`]). Layers one model names its own way (BERT's
//! self-attention) live with that model, in the `scope` facade's `models`.

mod dense;
mod embedding;
mod fused;
mod gemm;
mod layer_norm;
mod lstm;

pub use dense::{Activation, Dense};
pub use embedding::{check_ids, embedding_lookup};
pub use fused::{linear_backward, linear_forward, LstmSequence};
pub use gemm::gemm;
pub use layer_norm::LayerNorm;
pub use lstm::{BasicLstmCell, LstmState};

#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod tests;
