//! Layers built from registry variables: TF1's `BasicLSTMCell` and the seed RNN (input
//! layer, LSTM, output layer, mean-squared cost, Adam).

mod kernels;
mod lstm;
mod seed_rnn;

pub use lstm::{BasicLstmCell, LstmState};
pub use seed_rnn::{InitialState, SeedRnn, SeedRnnConfig, SeedRnnParams};

#[cfg(test)]
mod tests;
