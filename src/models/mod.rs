//! Applications declared with the crate's own macros.

pub mod gpt2;
