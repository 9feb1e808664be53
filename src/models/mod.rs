//! The applications: models declared with the DSL under the names TF1 gives their variables,
//! with their forward passes on the tape.

pub mod albert;
