//! Optimizers: TF1's `AdamOptimizer` (bit-exact update, slots in the registry),
//! `GradientDescentOptimizer`, and BERT's `AdamWeightDecayOptimizer` with its learning-rate
//! schedule and gradient clipping (`optimization.create_optimizer`).
//!
//! Both write the variables' shared storage in place, so every model holding a handle to a
//! trained variable (for instance a test model built under reuse) sees the update.

mod adam;
mod adam_weight_decay;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use adam_weight_decay::{AdamWeightDecay, AdamWeightDecayConfig};
pub use sgd::Sgd;

use crate::tape::{Gradients, NodeId, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// Applies gradients to variables.
pub trait Optimizer {
    /// Updates every variable that has a gradient in `grads`, in place. Variables without a
    /// gradient are left alone (TF skips `None` gradients).
    ///
    /// Nothing is written if the call fails: shapes, and (when the optimizer's finite check is
    /// on) NaN/Inf, are checked before any update.
    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError>;

    /// Whether this optimizer refuses NaN/Inf losses and gradients (off unless turned on).
    fn checks_finite(&self) -> bool {
        false
    }

    /// TF's `optimizer.minimize(loss)` on a tape: the gradients of the sum of `loss`'s
    /// elements with respect to the variables on the tape, applied. Returns that sum.
    ///
    /// With the finite check on, a NaN/Inf loss fails with [`TrainError::NonFiniteLoss`]
    /// before anything is computed or written.
    fn minimize(&mut self, tape: &Tape<f32>, loss: NodeId) -> Result<f32, TrainError> {
        let value: f32 = tape.value(loss)?.iter().sum();
        if self.checks_finite() && !value.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                value: f64::from(value),
            });
        }
        let grads = tape.backward(loss)?.into_gradients();
        self.apply(&grads)?;
        Ok(value)
    }
}

/// Checks an optimizer's variable list: every variable `float32`, none listed twice.
pub(crate) fn check_var_list(vars: &[Variable]) -> Result<(), TrainError> {
    let mut seen = std::collections::HashSet::new();
    for var in vars {
        if var.dtype() != crate::dtype::DType::F32 {
            return Err(TrainError::unsupported(var));
        }
        if !seen.insert(var.id()) {
            return Err(TrainError::Config {
                detail: format!(
                    "variable {} is listed twice in the optimizer's variable list (list each \
                     variable once)",
                    var.name()
                ),
            });
        }
    }
    Ok(())
}

/// Checks a gradient against its variable before anything is written: shape, and finiteness
/// when `check_finite` is set.
pub(crate) fn check_gradient(
    var: &Variable,
    grad: &ndarray::ArrayD<f32>,
    check_finite: bool,
) -> Result<(), TrainError> {
    if grad.shape() != var.shape() {
        return Err(TrainError::GradientShape {
            name: var.name().to_owned(),
            expected: var.shape().to_vec(),
            got: grad.shape().to_vec(),
        });
    }
    if check_finite {
        if let Some((index, value)) = grad.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(TrainError::NonFiniteGradient {
                name: var.name().to_owned(),
                value: f64::from(*value),
                index,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
