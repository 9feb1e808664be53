//! Runtime of the [`scope`](https://docs.rs/scope) crate: TensorFlow 1's variable registry,
//! name and variable scopes, initializers and shared variable storage over `ndarray`.
//!
//! Use it through the `scope` facade, which adds the `#[variable_scope]` and `model!` macros.

// Code that needs raw pointers, intrinsics or memory maps lives in one module, `kernels`, behind
// safe functions; every other module is compiled under the lint below.
#![deny(unsafe_code)]

// Namespaces users name (`scope::checkpoint::Restore`, `scope::nn::BasicLstmCell`, ...); every
// other module is private and its items are re-exported once, below.
pub mod checkpoint;
pub mod nn;
pub mod optim;
pub mod partition;
pub mod tape;

mod dtype;
mod error;
mod index;
mod init;
#[allow(unsafe_code)]
mod kernels;
mod model;
mod names;
mod pattern;
mod registry;
mod scope;
mod scoping;
mod tensor;
mod threads;
mod train_error;
mod uniquifier;
mod variable;

pub use dtype::DType;
pub use error::{Error, NameContext, Result};
pub use init::Initializer;
pub use model::{
    atomic_build, flatten_manifest, repeated_scope_name, tied_variable, ManifestEntry, Model,
    ModelScope, TiedManifest, VarManifest,
};
pub use names::validate_scope_name;
pub use registry::{
    Collection, Registry, RegistryBuilder, VarSpec, DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_NAME_LEN,
    DEFAULT_MAX_SCOPE_DEPTH,
};
pub use scope::{
    NameScopeBuilder, NameScopeGuard, Reuse, ScopeTarget, VariableScope, VariableScopeBuilder,
    VariableScopeGuard,
};
pub use scoping::{
    keys, Constraint, CustomGetter, GetterArgs, NextGetter, RegularizationLoss, Regularizer,
    Template,
};
pub use tensor::{format_shape, Shape, Tensor, TensorData};
pub use threads::{num_threads, set_num_threads, NUM_THREADS_ENV};
pub use train_error::TrainError;
pub use variable::{Variable, VariableOptions, VariableWrite};
