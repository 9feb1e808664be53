//! TF1's `AdamOptimizer`: the `ApplyAdam` kernel's float32 update, with its slot and power
//! variables created through the registry under TF's names.

use super::{check_gradients, check_slot, check_var_list, slots, update_with_slots, Optimizer};
use crate::dtype::DType;
use crate::init::Initializer;
use crate::registry::{Registry, VarSpec};
use crate::tape::Gradients;
use crate::tensor::Tensor;
use crate::train_error::TrainError;
use crate::variable::{Variable, VariableOptions};

/// Adam's hyperparameters, float32 as TF holds them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// The step size `lr`.
    pub learning_rate: f32,
    /// Decay of the first moment (TF default 0.9).
    pub beta1: f32,
    /// Decay of the second moment (TF default 0.999).
    pub beta2: f32,
    /// Added to `sqrt(v)` (TF default 1e-8; the "epsilon hat" form).
    pub epsilon: f32,
}

impl AdamConfig {
    /// TF's defaults with this learning rate.
    pub fn new(learning_rate: f32) -> AdamConfig {
        AdamConfig {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }

    /// Refuses hyperparameters that would write NaN or Inf into the variables: the learning
    /// rate must be finite and not negative, each beta in `[0, 1)`, epsilon finite and
    /// positive.
    pub fn validate(&self) -> Result<(), TrainError> {
        let AdamConfig {
            learning_rate,
            beta1,
            beta2,
            epsilon,
        } = *self;
        let problem = if !(learning_rate.is_finite() && learning_rate >= 0.0) {
            Some(format!(
                "learning_rate {learning_rate} must be finite and not negative"
            ))
        } else if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
            Some(format!(
                "beta1 {beta1} and beta2 {beta2} must each be in [0, 1)"
            ))
        } else if !(epsilon.is_finite() && epsilon > 0.0) {
            Some(format!("epsilon {epsilon} must be finite and positive"))
        } else {
            None
        };
        match problem {
            Some(detail) => Err(TrainError::Config {
                detail: format!("Adam: {detail}"),
            }),
            None => Ok(()),
        }
    }
}

/// TF1's Adam optimizer.
///
/// Built in the current variable scope, it creates what TF's `AdamOptimizer.minimize`
/// creates, in TF's order and with TF's names:
///
/// * `beta1_power` and `beta2_power` (scalars, not trainable), named in the current name
///   scope: `rnn/trian/beta1_power`;
/// * for each variable, in order, the slots `m` and `v` (zeros, not trainable):
///   `<scope>/<var>/Adam` and `<scope>/<var>/Adam_1`, e.g.
///   `rnn/trian/rnn/input_layer/weights/Adam`.
///
/// Slots go through [`Registry::get_variable`], so a second optimizer built in a reusing
/// scope shares them (as TF's does); the beta powers are always new (`rnn/trian_1/...`).
///
/// One step, exactly as TF's `ApplyAdam` kernel in float32 (bit-exact when done in this
/// order), with `p1`, `p2` the current beta powers:
///
/// ```text
/// alpha = lr * sqrt(1 - p2) / (1 - p1)
/// m = m + (g - m) * (1 - beta1)
/// v = v + (g * g - v) * (1 - beta2)
/// var = var - (m * alpha) / (sqrt(v) + epsilon)
/// p1 = p1 * beta1;  p2 = p2 * beta2
/// ```
///
/// ```
/// use scope::optim::{Adam, Optimizer};
/// use scope::tape::Gradients;
/// use scope::{Registry, VarSpec, Initializer};
///
/// let reg = Registry::new();
/// let (w, mut adam) = reg.variable_scope("model").with(|_| {
///     let w = reg.get_variable("w", VarSpec::new().shape([2]).initializer(Initializer::Ones))?;
///     let adam = reg.variable_scope("train").with(|_| Adam::new(&reg, 0.1, &[w.clone()]))?;
///     Ok::<_, scope::TrainError>((w, adam))
/// })?;
/// assert_eq!(adam.slots(&w).unwrap().0.name(), "model/train/model/w/Adam");
/// let mut grads = Gradients::new();
/// grads.add(&w, ndarray::arr1(&[1.0f32, -1.0]).into_dyn())?;
/// adam.apply(&grads)?;
/// // The first Adam step moves each element by about lr against its gradient's sign.
/// let w = w.read().as_f32().unwrap().to_vec();
/// assert!((w[0] - 0.9).abs() < 1e-3 && (w[1] - 1.1).abs() < 1e-3);
/// # Ok::<(), scope::TrainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    config: AdamConfig,
    vars: Vec<Variable>,
    m: Vec<Variable>,
    v: Vec<Variable>,
    beta1_power: Variable,
    beta2_power: Variable,
    check_finite: bool,
}

impl Adam {
    /// Adam with TF's default betas and epsilon, for `vars` (usually the model's trainable
    /// variables, in creation order). See [`Adam::with_config`].
    pub fn new(reg: &Registry, learning_rate: f32, vars: &[Variable]) -> Result<Adam, TrainError> {
        Adam::with_config(reg, AdamConfig::new(learning_rate), vars)
    }

    /// Adam with the given hyperparameters for `vars`, creating (or, under reuse, sharing)
    /// its variables in the current scope.
    ///
    /// Fails if a variable is not `float32` or is listed twice, or if the registry refuses a
    /// name (for instance [`crate::Error::NotFound`] for a slot under reuse when the first optimizer
    /// was never built).
    pub fn with_config(
        reg: &Registry,
        config: AdamConfig,
        vars: &[Variable],
    ) -> Result<Adam, TrainError> {
        config.validate()?;
        check_var_list(vars)?;
        // TF's `_create_slots`: the powers first, then m and v per variable.
        let power = |name: &str, value: f32| {
            Variable::new_with(
                reg,
                Tensor::from(value),
                VariableOptions::named(name).trainable(false),
            )
        };
        let beta1_power = power("beta1_power", config.beta1)?;
        let beta2_power = power("beta2_power", config.beta2)?;
        let mut m = Vec::with_capacity(vars.len());
        let mut v = Vec::with_capacity(vars.len());
        for var in vars {
            m.push(zeros_slot(reg, var)?);
            v.push(zeros_slot(reg, var)?);
        }
        Ok(Adam {
            config,
            vars: vars.to_vec(),
            m,
            v,
            beta1_power,
            beta2_power,
            check_finite: false,
        })
    }

    /// Whether [`Optimizer::apply`] refuses NaN/Inf gradients (with
    /// [`TrainError::NonFiniteGradient`] naming the variable, before writing anything).
    /// Off by default, as in TF.
    pub fn check_finite(mut self, on: bool) -> Adam {
        self.check_finite = on;
        self
    }

    /// Turns the finite check on or off in place (see [`Adam::check_finite`]).
    pub fn set_check_finite(&mut self, on: bool) {
        self.check_finite = on;
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// The variables this optimizer updates, in order.
    pub fn variables(&self) -> &[Variable] {
        &self.vars
    }

    /// The slots `(m, v)` of `var` (TF's `get_slot(var, "m")`, `get_slot(var, "v")`).
    pub fn slots(&self, var: &Variable) -> Option<(&Variable, &Variable)> {
        let k = self.vars.iter().position(|x| x.ptr_eq(var))?;
        Some((&self.m[k], &self.v[k]))
    }

    /// The `beta1_power` variable: `beta1^(t+1)` after `t` steps.
    pub fn beta1_power(&self) -> &Variable {
        &self.beta1_power
    }

    /// The `beta2_power` variable: `beta2^(t+1)` after `t` steps.
    pub fn beta2_power(&self) -> &Variable {
        &self.beta2_power
    }

    /// Every variable the optimizer created or shares, in TF's creation order: the beta
    /// powers, then `m`, `v` per variable.
    pub fn own_variables(&self) -> Vec<Variable> {
        let mut out = vec![self.beta1_power.clone(), self.beta2_power.clone()];
        for (m, v) in self.m.iter().zip(&self.v) {
            out.push(m.clone());
            out.push(v.clone());
        }
        out
    }
}

/// TF's `slot_creator.create_zeros_slot(var, "Adam")`: a `default_name` scope
/// `<var>/Adam` (uniquified to `..._1` the second time) under the current scope, and
/// `get_variable("")` in it, which names the variable after the scope itself.
fn zeros_slot(reg: &Registry, var: &Variable) -> Result<Variable, TrainError> {
    let zeros = Tensor::zeros(DType::F32, var.shape())?;
    let slot = reg
        .variable_scope(None)
        .default_name(slots::slot_name(var.name(), slots::ADAM))
        .with(|_| {
            reg.get_variable(
                "",
                VarSpec::new()
                    .initializer(Initializer::Value(zeros))
                    .trainable(false),
            )
        })?;
    check_slot(&slot, var)?;
    Ok(slot)
}

fn scalar(var: &Variable) -> Result<f32, TrainError> {
    var.read()
        .as_f32()
        .and_then(|s| s.first().copied())
        .ok_or_else(|| TrainError::unsupported(var))
}

fn set_scalar(var: &Variable, value: f32) -> Result<(), TrainError> {
    let mut w = var.write();
    let s = w.as_f32_mut().ok_or_else(|| TrainError::unsupported(var))?;
    if let Some(x) = s.first_mut() {
        *x = value;
    }
    Ok(())
}

impl Optimizer for Adam {
    fn checks_finite(&self) -> bool {
        self.check_finite
    }

    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError> {
        check_gradients(&self.vars, grads, self.check_finite)?;
        let AdamConfig {
            learning_rate: lr,
            beta1,
            beta2,
            epsilon,
        } = self.config;
        let p1 = scalar(&self.beta1_power)?;
        let p2 = scalar(&self.beta2_power)?;
        // The powers are variables, so a checkpoint restore can set them to anything. Outside
        // [0, 1) the step size is NaN, infinite, or of the wrong sign (p1 > 1 moves every
        // weight up its gradient): refused before anything is written.
        let alpha = lr * (1.0 - p2).sqrt() / (1.0 - p1);
        let in_range = |p: f32| (0.0..1.0).contains(&p);
        if !(in_range(p1) && in_range(p2) && alpha.is_finite()) {
            return Err(TrainError::Config {
                detail: format!(
                    "Adam: {} = {p1} and {} = {p2} must each be in [0, 1) (they are beta^t; \
                     restore them from a checkpoint of this optimizer, or build a new one); no \
                     update was applied",
                    self.beta1_power.name(),
                    self.beta2_power.name()
                ),
            });
        }
        let (one_b1, one_b2) = (1.0 - beta1, 1.0 - beta2);
        update_with_slots(&self.vars, &self.m, &self.v, grads, |_, w, m, v, g| {
            adam_update(w, m, v, g, alpha, one_b1, one_b2, epsilon)
        })?;
        set_scalar(&self.beta1_power, p1 * beta1)?;
        set_scalar(&self.beta2_power, p2 * beta2)?;
        Ok(())
    }
}

/// The `ApplyAdam` kernel on flat buffers of equal length, split across threads by
/// elements when they are large.
#[allow(clippy::too_many_arguments)]
#[inline]
fn adam_update(
    w: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    alpha: f32,
    one_b1: f32,
    one_b2: f32,
    epsilon: f32,
) {
    super::each_element(
        [w, m, v],
        g,
        10,
        #[inline(always)]
        |w, m, v, g| {
            *m += (g - *m) * one_b1;
            *v += (g * g - *v) * one_b2;
            *w -= (*m * alpha) / (v.sqrt() + epsilon);
        },
    );
}
