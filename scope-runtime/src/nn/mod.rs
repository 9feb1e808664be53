//! General layers built from registry variables, named as TF names them: TF1's
//! `BasicLSTMCell`.

mod lstm;

pub use lstm::{BasicLstmCell, LstmState};

#[cfg(test)]
mod tests;
