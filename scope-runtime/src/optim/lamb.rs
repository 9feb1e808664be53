//! ALBERT's `lamb_optimizer.LAMBOptimizer` with `optimization.create_optimizer`'s schedule
//! and clipping: AdamWeightDecay's moments and decay, then a layer-wise trust ratio.

use super::adam_weight_decay::{clip_by_global_norm, global_step, read_step, slot, Kernel};
use super::{check_gradients, check_var_list, update_with_slots, AdamWeightDecayConfig, Optimizer};
use crate::registry::Registry;
use crate::tape::Gradients;
use crate::tensor::Tensor;
use crate::train_error::TrainError;
use crate::variable::Variable;

/// The settings of [`Lamb`]: AdamWeightDecay's (schedule, betas, epsilon, weight decay and
/// its exclusions, clipping) and the names the trust ratio skips.
#[derive(Clone, Debug, PartialEq)]
pub struct LambConfig {
    /// What LAMB shares with AdamWeightDecay.
    pub adam: AdamWeightDecayConfig,
    /// Variables whose name contains any of these get no trust ratio
    /// (`exclude_from_layer_adaptation`); `None`, or an empty list, means the weight-decay
    /// exclusions, as `LAMBOptimizer` falls back to them.
    pub exclude_from_layer_adaptation: Option<Vec<String>>,
}

impl LambConfig {
    /// ALBERT's `create_optimizer(.., optimizer="lamb")` settings for this schedule: those of
    /// [`AdamWeightDecayConfig::bert`], the trust ratio skipping the same names.
    pub fn albert(init_lr: f32, num_train_steps: u64, num_warmup_steps: u64) -> Self {
        LambConfig {
            adam: AdamWeightDecayConfig::bert(init_lr, num_train_steps, num_warmup_steps),
            exclude_from_layer_adaptation: None,
        }
    }

    /// Whether `name` gets the trust ratio (`_do_layer_adaptation`).
    pub fn adapts(&self, name: &str) -> bool {
        let list = match &self.exclude_from_layer_adaptation {
            Some(list) if !list.is_empty() => list,
            _ => &self.adam.exclude_from_weight_decay,
        };
        !list.iter().any(|w| name.contains(w.as_str()))
    }
}

/// ALBERT's `LAMBOptimizer`, as `optimization.create_optimizer(.., optimizer="lamb")` runs
/// it.
///
/// It creates what [`super::AdamWeightDecay`] creates, with the same names and order
/// (`global_step`, then `<var>/adam_m`, `<var>/adam_v` per variable), and one step is
/// AdamWeightDecay's (the schedule at `global_step + 1`, clipping by TF's global norm, the
/// moments without bias correction, `update = m / (sqrt(v) + eps)` plus the decoupled
/// weight decay unless the name is excluded) until the last line, which becomes
/// `param -= ratio * lr * update` with the layer-wise trust ratio
/// `ratio = |param| / |update|`: 2-norms over the whole variable, 1 when either norm is 0,
/// and 1 for names [`LambConfig::adapts`] excludes. Then `global_step += 1`.
///
/// ```
/// use scope_runtime::optim::{Lamb, LambConfig, Optimizer};
/// use scope_runtime::tape::Gradients;
/// use scope_runtime::{Initializer, Registry, VarSpec};
///
/// let reg = Registry::new();
/// let w = reg.get_variable("kernel", VarSpec::new().shape([2]).initializer(Initializer::Ones))?;
/// let mut opt = Lamb::new(&reg, LambConfig::albert(0.1, 10, 0), &[w.clone()])?;
/// let mut grads = Gradients::new();
/// grads.add(&w, ndarray::arr1(&[0.5f32, -0.5]).into_dyn())?;
/// opt.apply(&grads)?;
/// // lr is 0.09 at step 1; the update is Adam's plus 0.01 * w; the trust ratio |w| / |update|.
/// let u = [0.05 / (0.00025f64.sqrt() + 1e-6) + 0.01, -0.05 / (0.00025f64.sqrt() + 1e-6) + 0.01];
/// let ratio = 2f64.sqrt() / (u[0] * u[0] + u[1] * u[1]).sqrt();
/// let after = w.value().to_f64_vec();
/// assert!((after[0] - (1.0 - 0.09 * ratio * u[0])).abs() < 1e-5, "{after:?}");
/// assert!((after[1] - (1.0 - 0.09 * ratio * u[1])).abs() < 1e-5, "{after:?}");
/// assert_eq!(opt.step()?, 1);
/// # Ok::<(), scope_runtime::TrainError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Lamb {
    config: LambConfig,
    global_step: Variable,
    vars: Vec<Variable>,
    m: Vec<Variable>,
    v: Vec<Variable>,
    decay: Vec<bool>,
    adapt: Vec<bool>,
    check_finite: bool,
    last_norm: Option<f64>,
    /// Each variable's update of the step being applied (kept to save the allocations).
    updates: Vec<Vec<f32>>,
}

impl Lamb {
    /// Creates `global_step` and the slots of `vars` in the current variable scope (see the
    /// type's docs).
    ///
    /// Fails if the settings are invalid, a variable is not `float32` or is listed twice, or
    /// the registry refuses a name (a `global_step` that exists already, outside reuse).
    pub fn new(reg: &Registry, config: LambConfig, vars: &[Variable]) -> Result<Lamb, TrainError> {
        config.adam.validate().map_err(|e| match e {
            TrainError::Config { detail } => TrainError::Config {
                detail: detail.replacen("AdamWeightDecay", "LAMB", 1),
            },
            other => other,
        })?;
        check_var_list(vars)?;
        let global_step = global_step(reg)?;
        let mut m = Vec::with_capacity(vars.len());
        let mut v = Vec::with_capacity(vars.len());
        for var in vars {
            m.push(slot(reg, var, "adam_m")?);
            v.push(slot(reg, var, "adam_v")?);
        }
        Ok(Lamb {
            decay: vars.iter().map(|x| config.adam.decays(x.name())).collect(),
            adapt: vars.iter().map(|x| config.adapts(x.name())).collect(),
            updates: vec![Vec::new(); vars.len()],
            config,
            global_step,
            vars: vars.to_vec(),
            m,
            v,
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
    pub fn config(&self) -> &LambConfig {
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

    /// The current value of `global_step`.
    pub fn step(&self) -> Result<i64, TrainError> {
        read_step(&self.global_step)
    }

    /// The slots `(adam_m, adam_v)` of `var`.
    pub fn slots(&self, var: &Variable) -> Option<(&Variable, &Variable)> {
        let k = self.vars.iter().position(|x| x.ptr_eq(var))?;
        Some((&self.m[k], &self.v[k]))
    }

    /// TF's global norm of the gradients of the last [`Optimizer::apply`], before clipping.
    pub fn last_global_norm(&self) -> Option<f64> {
        self.last_norm
    }
}

/// The float32 2-norm of a buffer (`tf.norm(x, ord=2)` over every element), summed in f64.
fn norm(x: &[f32]) -> f32 {
    x.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt() as f32
}

/// AdamWeightDecay's moments (in place) and update of every element, written to `out`, in
/// blocks of elements across threads when the variable is large.
fn moments_into(
    kernel: &Kernel,
    p: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    g: &[f32],
    out: &mut [f32],
) {
    use super::ELEMENTS;
    let work = p.len().saturating_mul(12);
    crate::threads::for_each_block3([m, v, out], ELEMENTS, work, |first, m, v, out| {
        let span = first * ELEMENTS..first * ELEMENTS + m.len();
        let (p, g) = (&p[span.clone()], &g[span]);
        crate::tape::wide(
            #[inline(always)]
            || {
                for ((((&p, m), v), &g), o) in p.iter().zip(m).zip(v).zip(g).zip(out) {
                    *o = kernel.moments(p, m, v, g);
                }
            },
        );
    });
}

impl Optimizer for Lamb {
    fn checks_finite(&self) -> bool {
        self.check_finite
    }

    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError> {
        check_gradients(&self.vars, grads, self.check_finite)?;
        let step = self.step()?;
        let lr = self.config.adam.learning_rate(step + 1);
        let (global_norm, scale) =
            clip_by_global_norm(&self.vars, grads, self.config.adam.clip_norm)?;
        // The moments, in place, and each variable's whole update (a gather's gradient comes
        // in runs, in order).
        let (adam, decay) = (&self.config.adam, &self.decay);
        let updates = &mut self.updates;
        updates.iter_mut().for_each(Vec::clear);
        update_with_slots(&self.vars, &self.m, &self.v, grads, |k, p, m, v, g| {
            let kernel = Kernel::new(adam, scale, lr, decay[k]);
            let out = &mut updates[k];
            let start = out.len();
            out.resize(start + p.len(), 0.0);
            moments_into(&kernel, p, m, v, g, &mut out[start..]);
        })?;
        // param -= ratio * lr * update, the trust ratio over the whole variable.
        for ((var, update), &adapt) in self.vars.iter().zip(&self.updates).zip(&self.adapt) {
            if update.is_empty() {
                continue;
            }
            let mut guard = var.write();
            let p = guard
                .as_f32_mut()
                .ok_or_else(|| TrainError::unsupported(var))?;
            let mut ratio = 1.0f32;
            if adapt {
                let (w, u) = (norm(p), norm(update));
                if w > 0.0 && u > 0.0 {
                    ratio = w / u;
                }
            }
            let step_size = ratio * lr;
            super::each_pair(
                p,
                update,
                2,
                #[inline(always)]
                |p, u| *p -= step_size * u,
            );
        }
        self.global_step.assign(Tensor::from(step + 1))?;
        self.last_norm = Some(global_norm);
        Ok(())
    }
}

#[cfg(test)]
#[path = "lamb_tests.rs"]
mod tests;
