//! Optimizers: TF1's `AdamOptimizer` (bit-exact update, slots in the registry),
//! `GradientDescentOptimizer`, BERT's `AdamWeightDecayOptimizer` with its learning-rate
//! schedule and gradient clipping (`optimization.create_optimizer`), and ALBERT's
//! `LAMBOptimizer` beside it.
//!
//! Both write the variables' shared storage in place, so every model holding a handle to a
//! trained variable (for instance a test model built under reuse) sees the update.

mod adam;
mod adam_weight_decay;
mod lamb;
mod sgd;
pub mod slots;

pub use adam::{Adam, AdamConfig};
pub use adam_weight_decay::{AdamWeightDecay, AdamWeightDecayConfig};
pub use lamb::{Lamb, LambConfig};
pub use sgd::Sgd;

use crate::tape::{GradView, Gradients, NodeId, Tape};
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
        let grads = tape.gradients(loss)?;
        let applied = self.apply(&grads);
        // The gradients' storage (a variable's size each) serves the next step.
        tape.recycle(grads);
        applied.map(|()| value)
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

/// Checks the gradient of `var` in `grads` (if it has one) before anything is written: its
/// shape, and its finiteness when `check_finite` is set; a gather's rows are checked as they
/// are, without making them dense.
pub(crate) fn check_gradient(
    var: &Variable,
    grads: &Gradients<f32>,
    check_finite: bool,
) -> Result<(), TrainError> {
    let Some(shape) = grads.shape_of(var) else {
        return Ok(());
    };
    if shape != var.shape() {
        return Err(TrainError::GradientShape {
            name: var.name().to_owned(),
            expected: var.shape().to_vec(),
            got: shape.to_vec(),
        });
    }
    if check_finite {
        if let Some((index, value)) = grads.first_non_finite(var) {
            return Err(TrainError::NonFiniteGradient {
                name: var.name().to_owned(),
                value: f64::from(value),
                index,
            });
        }
    }
    Ok(())
}

/// [`check_gradient`] for every variable of `vars`.
pub(crate) fn check_gradients(
    vars: &[Variable],
    grads: &Gradients<f32>,
    check_finite: bool,
) -> Result<(), TrainError> {
    vars.iter()
        .try_for_each(|var| check_gradient(var, grads, check_finite))
}

/// A slot shared under reuse is used as it is: it must fit its variable.
pub(crate) fn check_slot(slot: &Variable, var: &Variable) -> Result<(), TrainError> {
    if slot.shape() != var.shape() || slot.dtype() != crate::dtype::DType::F32 {
        return Err(TrainError::Config {
            detail: format!(
                "slot {} is {} {:?}, but variable {} is float32 {:?}; a slot shared under reuse \
                 must match its variable",
                slot.name(),
                slot.dtype(),
                slot.shape(),
                var.name(),
                var.shape()
            ),
        });
    }
    Ok(())
}

/// Calls `update(k, param, m, v, grad)` with the flat buffers of every variable `k` of
/// `vars` that has a gradient, and of its two slots, each write-locked.
///
/// A gather's gradient (rows, [`Gradients::view`]) is passed row by row, and the rows it
/// did not touch in runs with a zero gradient: an element-wise update then gives exactly what
/// it gives on the dense gradient, without a table of zeros.
pub(crate) fn update_with_slots(
    vars: &[Variable],
    m: &[Variable],
    v: &[Variable],
    grads: &Gradients<f32>,
    mut update: impl FnMut(usize, &mut [f32], &mut [f32], &mut [f32], &[f32]),
) -> Result<(), TrainError> {
    for (k, ((var, m), v)) in vars.iter().zip(m).zip(v).enumerate() {
        let Some(grad) = grads.view(var) else {
            continue;
        };
        update_one(var, m, v, grad, &mut |p, m, v, g| update(k, p, m, v, g))?;
        apply_constraint(var);
    }
    Ok(())
}

/// Applies `var`'s constraint, if it has one, after an optimizer updated it: TF1's optimizers
/// assign `var.constraint(var)` after each variable's update op. Every optimizer calls this
/// for each variable it updated ([`update_with_slots`] does it for the slot optimizers).
pub(crate) fn apply_constraint(var: &Variable) {
    if let Some(c) = var.constraint() {
        c.apply_to(var);
    }
}

/// An element-wise update of a variable and its two slots: `(param, m, v, grad)`.
type SlotUpdate<'a> = &'a mut dyn FnMut(&mut [f32], &mut [f32], &mut [f32], &[f32]);

/// [`update_with_slots`] for one variable, its slots write-locked for the update only.
fn update_one(
    var: &Variable,
    m: &Variable,
    v: &Variable,
    grad: GradView<'_, f32>,
    update: SlotUpdate<'_>,
) -> Result<(), TrainError> {
    {
        let (mut pg, mut mg, mut vg) = (var.write(), m.write(), v.write());
        let p = pg
            .as_f32_mut()
            .ok_or_else(|| TrainError::unsupported(var))?;
        let ms = mg.as_f32_mut().ok_or_else(|| TrainError::unsupported(m))?;
        let vs = vg.as_f32_mut().ok_or_else(|| TrainError::unsupported(v))?;
        match grad {
            GradView::Dense(g) => update(p, ms, vs, &g),
            GradView::Rows { width, ids, values } => {
                let mut rows = ids.iter().zip(values.chunks_exact(width.max(1))).peekable();
                let mut next = 0;
                while next < p.len() {
                    let (end, g): (usize, &[f32]) = match rows.peek() {
                        Some(&(&id, g)) if id * width == next => {
                            rows.next();
                            (next + width, g)
                        }
                        Some(&(&id, _)) => ((id * width).min(next + ZEROS.len()), &ZEROS),
                        None => (p.len().min(next + ZEROS.len()), &ZEROS),
                    };
                    let r = next..end;
                    let g = &g[..end - next];
                    update(&mut p[r.clone()], &mut ms[r.clone()], &mut vs[r], g);
                    next = end;
                }
            }
        }
    }
    Ok(())
}

/// The gradient of the rows a gather did not touch, a run at a time.
static ZEROS: [f32; 4096] = [0.0; 4096];

#[cfg(test)]
mod tests;
