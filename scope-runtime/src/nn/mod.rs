//! Layers built from registry variables, named as TF names them: TF1's `BasicLSTMCell`,
//! `tf.layers.dense` ([`Dense`]), contrib's `layer_norm` ([`LayerNorm`]), embedding lookup,
//! BERT's self-attention ([`BertSelfAttention`]), and the seed RNN (input layer, LSTM, output
//! layer, mean-squared cost, Adam).

mod attention;
mod dense;
mod embedding;
mod kernels;
mod layer_norm;
mod lstm;
mod seed_rnn;

pub use attention::BertSelfAttention;
pub use dense::{Activation, Dense};
pub use embedding::{check_ids, embedding_lookup};
pub use layer_norm::LayerNorm;
pub use lstm::{BasicLstmCell, LstmState};
pub use seed_rnn::{InitialState, SeedRnn, SeedRnnConfig, SeedRnnParams};

#[cfg(test)]
mod layer_tests;
#[cfg(test)]
mod tests;
