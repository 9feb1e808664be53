//! The integration tests, one binary: each module is one suite (run one with
//! `cargo test --test it registry::`). One binary links the crate once instead of once per
//! suite, which is most of `cargo test`'s build time on two cores.
//!
//! Suites that need a binary of their own stay apart: `conformance` (its own harness),
//! `ui` (trybuild), and `import` and `convert` (the `scope` binary).
//! The binary's one global allocator is [`alloc`]'s, which counts per thread.

#[path = "../support/mod.rs"]
mod support;

mod alloc;
mod bert_checkpoints;
mod checkpoint_interop;
mod checkpoint_mapping;
mod checkpoint_restore;
mod checkpoint_robustness;
mod concurrency;
mod hostile_input;
// `pub`: its models are declared `pub`, as users declare them.
pub mod macros;
mod proptest_registry;
mod registry;
mod seed_rnn_alloc;
mod tf_albert_fixture;
mod tf_bert_fixture;
mod tf_checkpoint;
mod tf_gpt2_fixture;
mod tf_partitioned;
mod tf_rnn_fixture;
mod train_alloc;
