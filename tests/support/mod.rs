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
//! A fixture test, start to end (`tests/it/tf_bert_fixture.rs` is the full one; GPT-2 and
//! ALBERT suites are written the same way):
//!
//! ```ignore
//! use crate::support::{fixture_dirs, tensor, Checks, Fixture, Rule};
//!
//! // One rule per quantity; its name is printed in the margins (`worst output error`).
//! const OUTPUT: Rule = Rule::abs("output", 1e-5).by_elements(); // [b*s, v] vs [b, s, v]
//! const GRADIENT: Rule = Rule::abs("gradient", 1e-6);
//! const PARAM: Rule = Rule::abs("trained parameter", 1e-5);
//!
//! #[test]
//! fn tf_gpt2_fixture() {
//!     let mut checks = Checks::new();
//!     // The vendored fixtures, then every directory in $SCOPE_TF_GPT2_FIXTURE (`:`-separated).
//!     for dir in fixture_dirs(&["gpt2/small"], "SCOPE_TF_GPT2_FIXTURE") {
//!         // Prints `  DIR: N passed, M failed`; an `Err` is printed and counted as a failure.
//!         checks.fixture(&dir, |checks| -> Result<(), Box<dyn std::error::Error>> {
//!             let fx = Fixture::load(&dir)?;
//!             let tokens = tensor::array_nd::<i64, ndarray::Ix2>(&fx["inputs"]["tokens"])?;
//!             let reg = scope::Registry::new();
//!             // ... build the model and its optimizer in `reg` ...
//!             checks.variables(&reg, &fx.variables()?); // names, shapes, dtypes, order
//!             let initial = fx.checkpoint_at("/checkpoints/initial")?;
//!             scope::checkpoint::Restore::new(&reg).restore(&initial)?;
//!             // ... run it on `tokens` into `tape`: node `logits`, gradients `grads` ...
//!             let want = tensor::f64s(&fx["outputs"]["logits"])?;
//!             checks.compare_arrays(&OUTPUT, "logits", tape.value(logits)?, &want);
//!             checks.gradients(&GRADIENT, &grads, &reg, &fx["gradients"]);
//!             // ... train `fx.u64_at("/train/steps")?` steps ...
//!             let after = fx.checkpoint_at("/checkpoints/after_steps")?;
//!             checks.trained(&reg, &after, |_name| &PARAM)?; // a rule per slot, by name
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
//! [`sstable`] (the table writer and table surgery, shared with the runtime's unit tests),
//! [`tf1`] (TF1 bundle entries and whole checkpoints from tensors), [`vars`] (a variable at
//! a checkpoint's full name), [`mutate`] (a seeded RNG and generic damage for robustness
//! tests).

// Each test binary uses a part of this module; `pub` marks its API (the including binary
// sees it as crate-private).
#![allow(dead_code, unused_imports, unreachable_pub)]

pub mod checks;
pub mod fixture;
pub mod model;
pub mod mutate;
pub mod sstable;
pub mod tensor;
pub mod tf1;
pub mod vars;

pub use checks::{Checks, Rule, Tol};
pub use fixture::{data_dir, extra_dirs, fixture_dirs, Fixture, Kind, VarRecord};
pub use tensor::DecodeError;
pub use vars::variable_at;
