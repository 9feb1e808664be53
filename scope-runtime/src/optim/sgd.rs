//! Plain gradient descent (TF's `GradientDescentOptimizer`): `var -= lr * grad`.

use super::{check_gradient, Optimizer};
use crate::tape::Gradients;
use crate::train_error::TrainError;

/// Stochastic gradient descent: `var -= learning_rate * grad` for every variable with a
/// gradient. Creates no variables.
#[derive(Clone, Debug)]
pub struct Sgd {
    learning_rate: f32,
    check_finite: bool,
}

impl Sgd {
    /// Gradient descent with this learning rate. A rate that is NaN, infinite or negative is
    /// refused by [`Optimizer::apply`], which then writes nothing.
    pub fn new(learning_rate: f32) -> Sgd {
        Sgd {
            learning_rate,
            check_finite: false,
        }
    }

    /// Whether [`Optimizer::apply`] refuses NaN/Inf gradients (with
    /// [`TrainError::NonFiniteGradient`], before writing anything). Off by default, as in TF.
    pub fn check_finite(mut self, on: bool) -> Sgd {
        self.check_finite = on;
        self
    }

    /// The learning rate.
    pub fn learning_rate(&self) -> f32 {
        self.learning_rate
    }
}

impl Optimizer for Sgd {
    fn checks_finite(&self) -> bool {
        self.check_finite
    }

    /// Refuses a learning rate that is NaN, infinite or negative (the rule
    /// [`crate::optim::AdamConfig::validate`] applies) before writing anything.
    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError> {
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(TrainError::Config {
                detail: format!(
                    "SGD: learning_rate {lr} must be finite and not negative; no update was \
                     applied"
                ),
            });
        }
        for (var, _) in grads.iter() {
            check_gradient(var, grads, self.check_finite)?;
            if var.read().as_f32().is_none() {
                return Err(TrainError::unsupported(var));
            }
        }
        for (var, grad) in grads.iter() {
            let mut w = var.write();
            let w = w.as_f32_mut().ok_or_else(|| TrainError::unsupported(var))?;
            match grad.as_slice() {
                Some(g) => super::each_pair(
                    w,
                    g,
                    2,
                    #[inline(always)]
                    |w, g| *w -= lr * g,
                ),
                None => w
                    .iter_mut()
                    .zip(grad.iter())
                    .for_each(|(w, g)| *w -= lr * g),
            }
        }
        for (var, _) in grads.iter() {
            super::apply_constraint(var);
        }
        Ok(())
    }
}
