//! Errors of training: autodiff, layers and optimizers ([`TrainError`]), which also carries
//! the registry's and the checkpoints' errors, so a training program needs one error type.

use crate::dtype::DType;
use crate::error::Error;
use crate::tensor::{format_shape, Shape};

/// What went wrong while building, differentiating or applying a training step.
///
/// Every variant names what to fix. Bad user input (shapes, axes, non-finite numbers) is
/// reported here rather than panicking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// Registry failure while creating or reusing variables.
    #[error(transparent)]
    Registry(#[from] Error),

    /// Saving or restoring a checkpoint failed (a training loop that checkpoints returns
    /// one error type). Boxed: checkpoint errors are large and rare, training errors are
    /// returned on every step's path.
    #[error(transparent)]
    Checkpoint(Box<crate::checkpoint::CheckpointError>),

    /// Operand shapes an op cannot combine.
    #[error("{op}: {detail}")]
    Shape {
        /// The op (`matmul`, `add`, ...).
        op: &'static str,
        /// Which shapes, and what the op needs.
        detail: String,
    },

    /// An axis outside a tensor's rank.
    #[error("{op}: axis {axis} is out of range for a tensor of rank {rank} (use 0..{rank})")]
    Axis {
        /// The op.
        op: &'static str,
        /// The axis asked for.
        axis: usize,
        /// The rank of the tensor.
        rank: usize,
    },

    /// A node id that this tape did not hand out (it came from another tape, or from before
    /// [`crate::tape::Tape::clear`]).
    #[error(
        "node #{index} does not exist on this tape of {len} nodes (node ids are only valid on \
         the tape that made them, until it is cleared)"
    )]
    UnknownNode {
        /// The node's index.
        index: usize,
        /// How many nodes the tape holds.
        len: usize,
    },

    /// A variable whose dtype training does not support.
    #[error(
        "variable {name} is {dtype}, but training supports float32 variables only (create it \
         with dtype float32, or leave it out of the optimizer's variable list)"
    )]
    UnsupportedDtype {
        /// Full name of the variable.
        name: String,
        /// Its dtype.
        dtype: DType,
    },

    /// A gradient whose shape differs from its variable's.
    #[error(
        "gradient for variable {name} has shape {}, but the variable has shape {} (pass the \
         gradient of this very variable)",
        format_shape(got),
        format_shape(expected)
    )]
    GradientShape {
        /// Full name of the variable.
        name: String,
        /// The variable's shape.
        expected: Shape,
        /// The gradient's shape.
        got: Shape,
    },

    /// A NaN or infinity in a gradient: nothing was applied.
    #[error(
        "gradient for variable {name} holds a non-finite value ({value}) at flat index {index}; \
         no update was applied (lower the learning rate, check the inputs for NaN/Inf, or clip \
         the gradients)"
    )]
    NonFiniteGradient {
        /// Full name of the variable.
        name: String,
        /// The first bad element.
        value: f64,
        /// Its flat (row-major) index.
        index: usize,
    },

    /// A NaN or infinity in the loss: nothing was applied.
    #[error(
        "the loss is non-finite ({value}); no update was applied (check the inputs and targets \
         for NaN/Inf, or lower the learning rate)"
    )]
    NonFiniteLoss {
        /// The loss value.
        value: f64,
    },

    /// A model configuration that cannot be built.
    #[error("invalid configuration: {detail}")]
    Config {
        /// What is wrong and how to fix it.
        detail: String,
    },

    /// An input batch whose shape does not fit the model.
    #[error(
        "input `{input}` has shape {}, but the model expects {}",
        format_shape(got),
        format_shape(expected)
    )]
    InputShape {
        /// Which input (`xs`, `ys`, `state.c`, ...).
        input: &'static str,
        /// The shape the model was built for.
        expected: Shape,
        /// The shape given.
        got: Shape,
    },

    /// An index input (token id, label, position, mask value) outside the range it indexes.
    #[error(
        "{input} holds {value} at flat index {index}, but must be in 0..{limit} (check the \
         inputs against the model's sizes: vocabulary, token types, labels, sequence length)"
    )]
    OutOfRange {
        /// Which input (`input_ids`, `labels`, `gather ids`, ...).
        input: String,
        /// Flat (row-major) position of the first bad value.
        index: usize,
        /// The bad value.
        value: i64,
        /// The exclusive upper bound.
        limit: usize,
    },
}

impl From<crate::checkpoint::CheckpointError> for TrainError {
    fn from(e: crate::checkpoint::CheckpointError) -> TrainError {
        TrainError::Checkpoint(Box::new(e))
    }
}

impl TrainError {
    /// The error for a variable the training core cannot work on (it computes in `float32`).
    pub fn unsupported(var: &crate::variable::Variable) -> TrainError {
        TrainError::UnsupportedDtype {
            name: var.name().to_owned(),
            dtype: var.dtype(),
        }
    }
}
