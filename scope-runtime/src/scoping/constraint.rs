//! Constraints: TF's `constraint=` on `get_variable` and `variable_scope`, applied by every
//! optimizer after it updates the variable.

use std::fmt;
use std::sync::Arc;

use crate::variable::Variable;

type ConstraintFn = dyn Fn(&mut [f32], &[usize]) + Send + Sync;

/// A projection applied to a variable's value after each optimizer update of it (TF1's
/// optimizers assign `var.constraint(var)` after the update op). Acts on `float32`
/// variables, which are the ones the optimizers train.
///
/// ```
/// use scope::{Constraint, Initializer, Registry, VarSpec};
/// let reg = Registry::new();
/// let w = reg.get_variable("w", VarSpec::new().shape([2])
///     .initializer(Initializer::Constant(-1.0)).constraint(Constraint::non_neg()))?;
/// w.constraint().unwrap().apply_to(&w);
/// assert_eq!(w.value().to_f64_vec(), vec![0.0, 0.0]);
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone)]
pub struct Constraint {
    label: Arc<str>,
    f: Arc<ConstraintFn>,
}

impl Constraint {
    /// A constraint from a function of the flat values and the shape; `label` names it in
    /// `Debug` output.
    pub fn new(
        label: impl Into<String>,
        f: impl Fn(&mut [f32], &[usize]) + Send + Sync + 'static,
    ) -> Constraint {
        Constraint {
            label: label.into().into(),
            f: Arc::new(f),
        }
    }

    /// `tf.keras.constraints.NonNeg()`: negative elements become 0.
    pub fn non_neg() -> Constraint {
        Constraint::new("non_neg", |w, _| {
            for x in w {
                if *x < 0.0 {
                    *x = 0.0;
                }
            }
        })
    }

    /// `lambda w: tf.clip_by_value(w, lo, hi)`.
    pub fn clip_by_value(lo: f32, hi: f32) -> Constraint {
        Constraint::new(format!("clip_by_value({lo}, {hi})"), move |w, _| {
            for x in w {
                *x = x.max(lo).min(hi);
            }
        })
    }

    /// `lambda w: tf.clip_by_norm(w, max_norm)`: the whole tensor scaled down to an L2 norm
    /// of at most `max_norm`, computed as TF computes it (`w * max / max(norm, max)`).
    pub fn clip_by_norm(max_norm: f32) -> Constraint {
        Constraint::new(format!("clip_by_norm({max_norm})"), move |w, _| {
            let sum: f32 = w.iter().map(|x| x * x).sum();
            let norm = if sum > 0.0 { sum.sqrt() } else { sum };
            let denom = norm.max(max_norm);
            for x in w {
                *x = *x * max_norm / denom;
            }
        })
    }

    /// Applies the constraint to flat `values` of shape `shape`.
    pub fn apply(&self, values: &mut [f32], shape: &[usize]) {
        (self.f)(values, shape);
    }

    /// Applies the constraint to `var`'s value in place (nothing for a variable that is not
    /// `float32`).
    pub fn apply_to(&self, var: &Variable) {
        let mut w = var.write();
        if let Some(values) = w.as_f32_mut() {
            (self.f)(values, var.shape());
        }
    }

    /// Whether two handles are the same constraint.
    pub fn ptr_eq(&self, other: &Constraint) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }
}

impl PartialEq for Constraint {
    fn eq(&self, other: &Constraint) -> bool {
        self.ptr_eq(other)
    }
}

impl fmt::Debug for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Constraint({})", self.label)
    }
}
