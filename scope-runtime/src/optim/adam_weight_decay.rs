//! BERT's optimizer, as `optimization.create_optimizer` builds it: `global_step`, a linear
//! warmup then linear decay of the learning rate, gradients clipped by global norm 1.0, and
//! `AdamWeightDecayOptimizer` (Adam without bias correction, plus decoupled weight decay).

use super::{check_gradients, check_slot, check_var_list, slots, update_with_slots, Optimizer};
use crate::dtype::DType;
use crate::init::Initializer;
use crate::registry::{Registry, VarSpec};
use crate::tape::Gradients;
use crate::tensor::Tensor;
use crate::train_error::TrainError;
use crate::variable::Variable;

/// The settings of [`AdamWeightDecay`]; [`AdamWeightDecayConfig::bert`] gives what
/// `create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps, use_tpu)` hard-codes.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWeightDecayConfig {
    /// The peak learning rate `init_lr`.
    pub init_lr: f32,
    /// Steps over which the rate decays linearly to 0 (`num_train_steps`).
    pub num_train_steps: u64,
    /// Steps of linear warmup from 0 (`num_warmup_steps`; 0 for none).
    pub num_warmup_steps: u64,
    /// `weight_decay_rate` (BERT: 0.01).
    pub weight_decay_rate: f32,
    /// `beta_1` (0.9), a Python float as BERT passes it.
    pub beta_1: f64,
    /// `beta_2` (0.999).
    pub beta_2: f64,
    /// `epsilon` (1e-6), added to `sqrt(v)`.
    pub epsilon: f32,
    /// Variables whose name contains any of these get no weight decay (BERT:
    /// `["LayerNorm", "layer_norm", "bias"]`; BERT matches them with `re.search`, and these
    /// are plain words).
    pub exclude_from_weight_decay: Vec<String>,
    /// The global norm gradients are clipped to (1.0).
    pub clip_norm: f32,
}

impl AdamWeightDecayConfig {
    /// BERT's `create_optimizer` settings for this schedule.
    pub fn bert(init_lr: f32, num_train_steps: u64, num_warmup_steps: u64) -> Self {
        AdamWeightDecayConfig {
            init_lr,
            num_train_steps,
            num_warmup_steps,
            weight_decay_rate: 0.01,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-6,
            exclude_from_weight_decay: vec!["LayerNorm".into(), "layer_norm".into(), "bias".into()],
            clip_norm: 1.0,
        }
    }

    /// Refuses settings that would write NaN or Inf: rates finite and not negative, betas in
    /// `[0, 1)`, epsilon and the clip norm finite and positive, at least one train step.
    pub fn validate(&self) -> Result<(), TrainError> {
        let problem = if !(self.init_lr.is_finite() && self.init_lr >= 0.0) {
            Some(format!(
                "init_lr {} must be finite and not negative",
                self.init_lr
            ))
        } else if self.num_train_steps == 0 {
            Some("num_train_steps must be at least 1 (the decay divides by it)".into())
        } else if !(self.weight_decay_rate.is_finite() && self.weight_decay_rate >= 0.0) {
            Some(format!(
                "weight_decay_rate {} must be finite and not negative",
                self.weight_decay_rate
            ))
        } else if !(0.0..1.0).contains(&self.beta_1) || !(0.0..1.0).contains(&self.beta_2) {
            Some(format!(
                "beta_1 {} and beta_2 {} must each be in [0, 1)",
                self.beta_1, self.beta_2
            ))
        } else if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            Some(format!(
                "epsilon {} must be finite and positive",
                self.epsilon
            ))
        } else if !(self.clip_norm.is_finite() && self.clip_norm > 0.0) {
            Some(format!(
                "clip_norm {} must be finite and positive",
                self.clip_norm
            ))
        } else {
            None
        };
        match problem {
            Some(detail) => Err(TrainError::Config {
                detail: format!("AdamWeightDecay: {detail}"),
            }),
            None => Ok(()),
        }
    }

    /// The learning rate BERT's schedule gives at step `s`, in float32 as TF computes it:
    /// `init_lr * (1 - min(s, num_train_steps) / num_train_steps)`, and when
    /// `s < num_warmup_steps`, `init_lr * s / num_warmup_steps` instead.
    pub fn learning_rate(&self, s: i64) -> f32 {
        // tf.train.polynomial_decay(init_lr, s, num_train_steps, end=0.0, power=1.0).
        let decay_steps = self.num_train_steps as f32;
        let step = (s as f32).min(decay_steps);
        let p = step / decay_steps;
        let decayed = self.init_lr * (1.0 - p);
        if self.num_warmup_steps == 0 {
            return decayed;
        }
        // The warmup, with TF's int32 casts of the steps.
        let (s32, warmup32) = (s as i32, self.num_warmup_steps as i32);
        let warmup_lr = self.init_lr * (s32 as f32 / warmup32 as f32);
        let is_warmup = if s32 < warmup32 { 1.0f32 } else { 0.0 };
        (1.0 - is_warmup) * decayed + is_warmup * warmup_lr
    }

    /// Whether `name` gets weight decay.
    pub fn decays(&self, name: &str) -> bool {
        self.weight_decay_rate != 0.0
            && !self
                .exclude_from_weight_decay
                .iter()
                .any(|w| name.contains(w.as_str()))
    }
}

/// BERT's `AdamWeightDecayOptimizer` with `create_optimizer`'s schedule and clipping.
///
/// Built in the current variable scope (BERT builds it at the root), it creates, with TF's
/// names and in TF's order:
///
/// * `global_step` (int64 scalar, zero, not trainable: `tf.train.get_or_create_global_step`);
/// * for each variable, in the order given (BERT: the trainable variables), the slots
///   `<variable name>/adam_m` then `<variable name>/adam_v` (zeros, not trainable), through
///   [`Registry::get_variable`], so under reuse they are shared.
///
/// One step ([`Optimizer::apply`]), all in float32 as TF's graph computes it:
///
/// 1. the learning rate is [`AdamWeightDecayConfig::learning_rate`] at
///    `global_step + 1`: `create_optimizer` groups the increment with the update without
///    ordering them, and in TF's recordings the increment ran first (upstream issue 1050);
/// 2. gradients are scaled by `clip_norm / max(norm, clip_norm)`, `norm` being TF's global
///    norm ([`Gradients::tf_global_norm`]: a gather's gradient counts its rows unsummed);
/// 3. per variable `m = 0.9 m + 0.1 g`, `v = 0.999 v + 0.001 g^2`,
///    `update = m / (sqrt(v) + 1e-6)` (no bias correction), plus `0.01 * param` unless the
///    name contains `LayerNorm`, `layer_norm` or `bias`; `param -= lr * update`;
/// 4. `global_step += 1`.
///
/// ```
/// use scope::optim::{AdamWeightDecay, AdamWeightDecayConfig, Optimizer};
/// use scope::tape::Gradients;
/// use scope::{Initializer, Registry, VarSpec};
///
/// let reg = Registry::new();
/// let w = reg.variable_scope("dense").with(|_| {
///     reg.get_variable("kernel", VarSpec::new().shape([2]).initializer(Initializer::Ones))
/// })?;
/// let mut opt = AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(0.1, 10, 0), &[w.clone()])?;
/// let names: Vec<String> = reg.global_variables().iter().map(|v| v.name().to_owned()).collect();
/// assert_eq!(names, ["dense/kernel", "global_step", "dense/kernel/adam_m", "dense/kernel/adam_v"]);
/// let mut grads = Gradients::new();
/// grads.add(&w, ndarray::arr1(&[0.5f32, -0.5]).into_dyn())?;
/// opt.apply(&grads)?;
/// assert_eq!(opt.step()?, 1);
/// # Ok::<(), scope::TrainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AdamWeightDecay {
    config: AdamWeightDecayConfig,
    global_step: Variable,
    vars: Vec<Variable>,
    m: Vec<Variable>,
    v: Vec<Variable>,
    decay: Vec<bool>,
    check_finite: bool,
    last_norm: Option<f64>,
}

impl AdamWeightDecay {
    /// Creates `global_step` and the slots of `vars` in the current variable scope (see the
    /// type's docs).
    ///
    /// Fails if the settings are invalid, a variable is not `float32` or is listed twice, or
    /// the registry refuses a name (a `global_step` that exists already, outside reuse).
    pub fn new(
        reg: &Registry,
        config: AdamWeightDecayConfig,
        vars: &[Variable],
    ) -> Result<AdamWeightDecay, TrainError> {
        config.validate()?;
        check_var_list(vars)?;
        let global_step = global_step(reg)?;
        let mut m = Vec::with_capacity(vars.len());
        let mut v = Vec::with_capacity(vars.len());
        for var in vars {
            m.push(slot(reg, var, slots::ADAM_M)?);
            v.push(slot(reg, var, slots::ADAM_V)?);
        }
        let decay = vars.iter().map(|x| config.decays(x.name())).collect();
        Ok(AdamWeightDecay {
            config,
            global_step,
            vars: vars.to_vec(),
            m,
            v,
            decay,
            check_finite: false,
            last_norm: None,
        })
    }

    /// Whether [`Optimizer::apply`] refuses NaN/Inf gradients by name before writing anything
    /// (off by default, as in TF; a non-finite global norm is always refused).
    pub fn set_check_finite(&mut self, on: bool) {
        self.check_finite = on;
    }

    /// The settings.
    pub fn config(&self) -> &AdamWeightDecayConfig {
        &self.config
    }

    /// The variables this optimizer updates, in order.
    pub fn variables(&self) -> &[Variable] {
        &self.vars
    }

    /// The `global_step` variable.
    pub fn global_step(&self) -> &Variable {
        &self.global_step
    }

    /// The current value of `global_step`: the number of steps applied (or restored).
    pub fn step(&self) -> Result<i64, TrainError> {
        read_step(&self.global_step)
    }

    /// The learning rate the next [`Optimizer::apply`] uses: the schedule at
    /// `global_step + 1` (see the type's docs).
    pub fn next_learning_rate(&self) -> Result<f32, TrainError> {
        Ok(self.config.learning_rate(self.step()? + 1))
    }

    /// The slots `(adam_m, adam_v)` of `var`.
    pub fn slots(&self, var: &Variable) -> Option<(&Variable, &Variable)> {
        let k = self.vars.iter().position(|x| x.ptr_eq(var))?;
        Some((&self.m[k], &self.v[k]))
    }

    /// Every variable the optimizer created or shares, in TF's creation order:
    /// `global_step`, then `adam_m`, `adam_v` per variable.
    pub fn own_variables(&self) -> Vec<Variable> {
        let mut out = vec![self.global_step.clone()];
        for (m, v) in self.m.iter().zip(&self.v) {
            out.push(m.clone());
            out.push(v.clone());
        }
        out
    }

    /// TF's global norm of the gradients of the last [`Optimizer::apply`], before clipping.
    pub fn last_global_norm(&self) -> Option<f64> {
        self.last_norm
    }
}

/// `tf.train.get_or_create_global_step()` in the current scope: `global_step`, an int64
/// scalar, zero, not trainable (an existing one, under reuse, must be such a scalar).
pub(super) fn global_step(reg: &Registry) -> Result<Variable, TrainError> {
    let global_step = reg.get_variable(
        "global_step",
        VarSpec::new()
            .shape([0usize; 0])
            .dtype(DType::I64)
            .initializer(Initializer::Zeros)
            .trainable(false),
    )?;
    if global_step.dtype() != DType::I64 || !global_step.shape().is_empty() {
        return Err(TrainError::Config {
            detail: format!(
                "{} is {} {:?}, but the global step must be an int64 scalar",
                global_step.name(),
                global_step.dtype(),
                global_step.shape()
            ),
        });
    }
    Ok(global_step)
}

/// The value of a `global_step` variable.
pub(super) fn read_step(global_step: &Variable) -> Result<i64, TrainError> {
    global_step
        .read()
        .view_i64()
        .and_then(|v| v.iter().next().copied())
        .ok_or_else(|| TrainError::unsupported(global_step))
}

/// `tf.clip_by_global_norm(grads, clip_norm)` over the gradients of `vars`: TF's global
/// norm ([`Gradients::tf_sum_of_squares`]) and the float32 factor every gradient is scaled
/// by, `clip_norm / max(norm, clip_norm)` in TF's form. A non-finite norm is refused.
pub(super) fn clip_by_global_norm(
    vars: &[Variable],
    grads: &Gradients<f32>,
    clip_norm: f32,
) -> Result<(f64, f32), TrainError> {
    let sum_sq: f64 = vars.iter().filter_map(|v| grads.tf_sum_of_squares(v)).sum();
    let norm = sum_sq.sqrt();
    if !norm.is_finite() {
        grads.check_finite()?;
        return Err(TrainError::NonFiniteGradient {
            name: "(the global norm of all gradients)".into(),
            value: norm,
            index: 0,
        });
    }
    let use_norm = norm as f32;
    Ok((norm, clip_norm * (1.0 / use_norm).min(1.0 / clip_norm)))
}

/// `tf.get_variable(name=<var>/<slot>, shape, float32, trainable=False, zeros)`.
pub(super) fn slot(reg: &Registry, var: &Variable, name: &str) -> Result<Variable, TrainError> {
    let slot = reg.get_variable(
        &slots::slot_name(var.name(), name),
        VarSpec::new()
            .shape(var.shape())
            .dtype(DType::F32)
            .initializer(Initializer::Zeros)
            .trainable(false),
    )?;
    check_slot(&slot, var)?;
    Ok(slot)
}

impl Optimizer for AdamWeightDecay {
    fn checks_finite(&self) -> bool {
        self.check_finite
    }

    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError> {
        check_gradients(&self.vars, grads, self.check_finite)?;
        let step = self.step()?;
        let lr = self.config.learning_rate(step + 1);
        let (norm, scale) = clip_by_global_norm(&self.vars, grads, self.config.clip_norm)?;
        let config = &self.config;
        let decay = &self.decay;
        update_with_slots(&self.vars, &self.m, &self.v, grads, |k, p, m, v, g| {
            Kernel::new(config, scale, lr, decay[k]).run(p, m, v, g)
        })?;
        self.global_step.assign(Tensor::from(step + 1))?;
        self.last_norm = Some(norm);
        Ok(())
    }
}

/// One AdamWeightDecay update of a variable's flat buffers, in TF's float32 order.
pub(super) struct Kernel {
    scale: f32,
    b1: f32,
    b2: f32,
    one_b1: f32,
    one_b2: f32,
    eps: f32,
    wd: Option<f32>,
    lr: f32,
}

impl Kernel {
    /// The update for gradients scaled by `scale` (the clipping), at learning rate `lr`,
    /// with weight decay when `decay`.
    pub(super) fn new(config: &AdamWeightDecayConfig, scale: f32, lr: f32, decay: bool) -> Kernel {
        Kernel {
            scale,
            b1: config.beta_1 as f32,
            b2: config.beta_2 as f32,
            one_b1: (1.0 - config.beta_1) as f32,
            one_b2: (1.0 - config.beta_2) as f32,
            eps: config.epsilon,
            wd: decay.then_some(config.weight_decay_rate),
            lr,
        }
    }

    /// Adam's moments without bias correction, in place, and the update they give (with
    /// the decoupled weight decay), for one element: `m = b1 m + (1 - b1) g`,
    /// `v = b2 v + (1 - b2) g^2`, `m / (sqrt(v) + eps) + wd * p`.
    #[inline(always)]
    pub(super) fn moments(&self, p: f32, m: &mut f32, v: &mut f32, g: f32) -> f32 {
        let g = g * self.scale;
        *m = self.b1 * *m + self.one_b1 * g;
        *v = self.b2 * *v + self.one_b2 * (g * g);
        let update = *m / (v.sqrt() + self.eps);
        match self.wd {
            Some(wd) => update + wd * p,
            None => update,
        }
    }

    /// The update of a variable's buffers, in blocks of elements across threads when they
    /// are large, each compiled for the CPU's vector unit (square root and division are
    /// exact, so every width gives the same bits).
    fn run(&self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        super::each_element(
            [p, m, v],
            g,
            12,
            #[inline(always)]
            |p, m, v, g| *p -= self.lr * self.moments(*p, m, v, g),
        );
    }
}

#[cfg(test)]
#[path = "adam_weight_decay_tests.rs"]
mod tests;
