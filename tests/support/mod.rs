//! Test support shared by every test binary: one way to find fixtures, read their
//! `fixture.json`, decode their tensors, compare with their numbers and craft TF1
//! checkpoints. Include it with a path (it is not a crate, so each binary compiles only what
//! it uses):
//!
//! ```ignore
//! // tests/it/main.rs (or tests/conformance.rs: `#[path = "support/mod.rs"]`)
//! #[path = "../support/mod.rs"]
//! mod support;
//! ```
//!
//! A fixture test, start to end (the GPT-2 and ALBERT suites are written this way):
//!
//! ```ignore
//! use crate::support::{fixture_dirs, tensor, Checks, Fixture, Rule};
//!
//! const LOGITS: Rule = Rule::abs("output", 1e-5);
//! const GRADIENT: Rule = Rule::abs("gradient", 1e-6);
//!
//! #[test]
//! fn tf_gpt2_fixture() {
//!     let mut checks = Checks::new();
//!     // The vendored fixtures, then every directory in $SCOPE_TF_GPT2_FIXTURE (`:`-separated).
//!     for dir in fixture_dirs(&["gpt2/small"], "SCOPE_TF_GPT2_FIXTURE") {
//!         checks.fixture(&dir, |checks| -> Result<(), Box<dyn std::error::Error>> {
//!             let fx = Fixture::load(&dir)?;
//!             let tokens = tensor::array_nd::<i64, ndarray::Ix2>(&fx["inputs"]["tokens"])?;
//!             let ckpt = fx.checkpoint("model.ckpt")?;
//!             // ... build the model, restore `ckpt`, run it on `tokens`: `got`, `got_shape` ...
//!             let want = tensor::f64s(&fx["outputs"]["logits"])?;
//!             checks.compare(&LOGITS, "logits", &got, &got_shape, &want);
//!             checks.truth("the port creates TF's variables", names == want_names);
//!             Ok(())
//!         });
//!     }
//!     checks.print_margins(); // `  worst output error: 3.1e-7`, per rule
//!     checks.finish("tf_gpt2_fixture"); // `tf_gpt2_fixture: N checks passed, M failed`
//! }
//! ```
//!
//! What a fixture or a checkpoint is comes from its content: [`Fixture::kind`] reads the
//! `format` field, [`Kind::of_checkpoint`] the tensor names. Never from its path.
//!
//! Modules: [`tensor`] (the `{shape, data}` decoder), [`fixture`] (directories, the
//! `fixture.json` reader, kinds), [`checks`] (named rules and the counting comparator),
//! [`tf1`] (the SSTable / TF1 bundle writer and table surgery).

// Each test binary uses a part of this module; `pub` marks its API (the including binary
// sees it as crate-private).
#![allow(dead_code, unused_imports, unreachable_pub)]

pub mod checks;
pub mod fixture;
pub mod tensor;
pub mod tf1;

pub use checks::{Checks, Rule, Tol};
pub use fixture::{data_dir, extra_dirs, fixture_dirs, Fixture, Kind, VarRecord};
pub use tensor::DecodeError;
