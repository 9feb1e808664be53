//! Runtime of the [`scope`](https://docs.rs/scope) crate: TensorFlow 1's variable registry,
//! name and variable scopes, initializers and shared variable storage over `ndarray`.
//!
//! Use it through the `scope` facade, which adds the `#[variable_scope]` and `model!` macros.

pub mod checkpoint;
pub mod dtype;
pub mod error;
mod index;
pub mod init;
pub mod linalg;
pub mod model;
pub mod names;
pub mod registry;
pub mod scope;
pub mod tensor;
pub mod variable;

pub use dtype::DType;
pub use error::{Error, NameContext, Result};
pub use init::Initializer;
pub use model::{
    flatten_manifest, repeated_scope_name, tied_variable, ManifestEntry, Model, ModelScope,
    TiedManifest, VarManifest,
};
pub use registry::{Collection, Registry, RegistryBuilder, VarSpec};
pub use scope::{
    NameScopeBuilder, NameScopeGuard, Reuse, ScopeTarget, VariableScope, VariableScopeBuilder,
    VariableScopeGuard,
};
pub use tensor::{format_shape, Shape, Tensor, TensorData};
pub use variable::{Variable, VariableOptions, VariableWrite};
pub mod nn;
pub mod optim;
pub mod tape;
pub mod train_error;
pub use train_error::TrainError;
