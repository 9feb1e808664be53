//! Regularizers: TF's `regularizer=` on `get_variable` and `variable_scope`, with
//! `tf.contrib.layers`' `l1_regularizer`, `l2_regularizer` and `l1_l2_regularizer`.

use crate::error::{Error, Result};
use crate::variable::Variable;

/// A weight penalty whose loss joins `REGULARIZATION_LOSSES` when a variable is created with
/// it (TF adds nothing when reusing). As `tf.contrib.layers` defines them:
///
/// * `l1(scale)`: `scale * sum(|w|)`;
/// * `l2(scale)`: `scale * l2_loss(w)` = `scale * sum(w²) / 2`;
/// * `l1_l2(s1, s2)`: the sum of both.
///
/// A scale of 0 disables a term; a regularizer with every term disabled adds no loss.
///
/// ```
/// use scope::{Initializer, Registry, Regularizer, VarSpec};
/// let reg = Registry::new();
/// let _s = reg.variable_scope("fc").regularizer(Regularizer::l2(0.1)?).enter()?;
/// reg.get_variable("w", VarSpec::new().shape([2]).initializer(Initializer::Constant(3.0)))?;
/// let losses = reg.regularization_losses(None)?;
/// assert_eq!(losses[0].name(), "fc/w/Regularizer/l2_regularizer");
/// assert!((reg.regularization_loss(None)? - 0.9).abs() < 1e-6); // 0.1 * (9 + 9) / 2
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regularizer {
    /// `tf.contrib.layers.l1_regularizer(scale)`.
    L1 {
        /// The factor.
        scale: f64,
    },
    /// `tf.contrib.layers.l2_regularizer(scale)`.
    L2 {
        /// The factor (of `l2_loss`, which is half the sum of squares).
        scale: f64,
    },
    /// `tf.contrib.layers.l1_l2_regularizer(scale_l1, scale_l2)`.
    L1L2 {
        /// The L1 factor.
        l1: f64,
        /// The L2 factor.
        l2: f64,
    },
}

fn check_scale(scale: f64) -> Result<f64> {
    if scale.is_nan() || scale.is_infinite() {
        return Err(Error::RegularizerScale {
            reason: format!("regularizer scale {scale} is not a finite number"),
        });
    }
    if scale < 0.0 {
        return Err(Error::RegularizerScale {
            reason: format!("Setting a scale less than 0 on a regularizer: {scale}"),
        });
    }
    Ok(scale)
}

impl Regularizer {
    /// `l1_regularizer(scale)`; a negative or non-finite scale is refused as TF refuses it.
    pub fn l1(scale: f64) -> Result<Regularizer> {
        Ok(Regularizer::L1 {
            scale: check_scale(scale)?,
        })
    }

    /// `l2_regularizer(scale)`.
    pub fn l2(scale: f64) -> Result<Regularizer> {
        Ok(Regularizer::L2 {
            scale: check_scale(scale)?,
        })
    }

    /// `l1_l2_regularizer(scale_l1, scale_l2)`.
    pub fn l1_l2(scale_l1: f64, scale_l2: f64) -> Result<Regularizer> {
        Ok(Regularizer::L1L2 {
            l1: check_scale(scale_l1)?,
            l2: check_scale(scale_l2)?,
        })
    }

    /// The name TF gives the loss op (under `<variable>/Regularizer/`).
    pub fn op_name(&self) -> &'static str {
        match self {
            Regularizer::L1 { .. } => "l1_regularizer",
            Regularizer::L2 { .. } => "l2_regularizer",
            Regularizer::L1L2 { .. } => "l1_l2_regularizer",
        }
    }

    /// Whether it makes a loss at all (some scale is not 0).
    pub fn is_active(&self) -> bool {
        match *self {
            Regularizer::L1 { scale } | Regularizer::L2 { scale } => scale != 0.0,
            Regularizer::L1L2 { l1, l2 } => l1 != 0.0 || l2 != 0.0,
        }
    }

    /// The penalty of `values`.
    pub fn penalty(&self, values: &[f64]) -> f64 {
        let l1 = || values.iter().map(|x| x.abs()).sum::<f64>();
        let l2 = || values.iter().map(|x| x * x).sum::<f64>() / 2.0;
        match *self {
            Regularizer::L1 { scale } => scale * l1(),
            Regularizer::L2 { scale } => scale * l2(),
            Regularizer::L1L2 { l1: a, l2: b } => {
                let mut sum = 0.0;
                if a != 0.0 {
                    sum += a * l1();
                }
                if b != 0.0 {
                    sum += b * l2();
                }
                sum
            }
        }
    }

    fn describe(&self) -> String {
        match *self {
            Regularizer::L1 { scale } | Regularizer::L2 { scale } => {
                format!("{}({scale})", self.op_name())
            }
            Regularizer::L1L2 { l1, l2 } => format!("{}({l1}, {l2})", self.op_name()),
        }
    }

    /// Refuses a variable that is not floating point (TF fails converting the scale).
    pub(crate) fn check(&self, name: &str, dtype: crate::DType) -> Result<()> {
        if self.is_active() && !dtype.is_floating() {
            let scale = match *self {
                Regularizer::L1 { scale } | Regularizer::L2 { scale } => scale,
                Regularizer::L1L2 { l1, l2 } => {
                    [l1, l2].into_iter().find(|&s| s != 0.0).unwrap_or(l1)
                }
            };
            return Err(Error::RegularizerDtype {
                name: name.to_owned(),
                dtype,
                scale: format!("{scale:?}"),
                regularizer: self.describe(),
            });
        }
        Ok(())
    }
}

/// One entry of `REGULARIZATION_LOSSES`: the penalty of one variable, evaluated on its
/// current value.
#[derive(Clone, Debug)]
pub struct RegularizationLoss {
    pub(crate) name: String,
    pub(crate) variable: Variable,
    pub(crate) regularizer: Regularizer,
}

impl RegularizationLoss {
    /// The loss op's name, as TF names it: `<variable>/Regularizer/l2_regularizer`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The variable it penalizes.
    pub fn variable(&self) -> &Variable {
        &self.variable
    }

    /// The regularizer.
    pub fn regularizer(&self) -> Regularizer {
        self.regularizer
    }

    /// The penalty of the variable's current value.
    pub fn value(&self) -> f64 {
        self.regularizer
            .penalty(&self.variable.value().to_f64_vec())
    }
}
