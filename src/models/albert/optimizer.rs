//! ALBERT's `optimization.create_optimizer(.., optimizer=..)`: AdamWeightDecay or LAMB,
//! with the schedule and clipping both share.

use crate::optim::{AdamWeightDecay, AdamWeightDecayConfig, Lamb, LambConfig, Optimizer};
use crate::tape::Gradients;
use crate::{Registry, TrainError};

/// `create_optimizer`'s `optimizer` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlbertOptimizerKind {
    /// `"adamw"`: [`AdamWeightDecay`].
    AdamW,
    /// `"lamb"`: [`Lamb`].
    Lamb,
}

impl AlbertOptimizerKind {
    /// ALBERT's name for it (`adamw`, `lamb`); `None` for any other.
    pub fn from_name(name: &str) -> Option<AlbertOptimizerKind> {
        match name {
            "adamw" => Some(AlbertOptimizerKind::AdamW),
            "lamb" => Some(AlbertOptimizerKind::Lamb),
            _ => None,
        }
    }
}

/// The optimizer [`albert_optimizer`] builds.
#[derive(Clone, Debug)]
pub enum AlbertOptimizer {
    /// `AdamWeightDecayOptimizer`.
    AdamW(AdamWeightDecay),
    /// `LAMBOptimizer`.
    Lamb(Lamb),
}

impl AlbertOptimizer {
    /// The current value of `global_step`.
    pub fn step(&self) -> Result<i64, TrainError> {
        match self {
            AlbertOptimizer::AdamW(o) => o.step(),
            AlbertOptimizer::Lamb(o) => o.step(),
        }
    }
}

impl Optimizer for AlbertOptimizer {
    fn apply(&mut self, grads: &Gradients<f32>) -> Result<(), TrainError> {
        match self {
            AlbertOptimizer::AdamW(o) => o.apply(grads),
            AlbertOptimizer::Lamb(o) => o.apply(grads),
        }
    }

    fn checks_finite(&self) -> bool {
        match self {
            AlbertOptimizer::AdamW(o) => o.checks_finite(),
            AlbertOptimizer::Lamb(o) => o.checks_finite(),
        }
    }
}

/// `optimization.create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps,
/// optimizer=kind)`: over the registry's trainable variables (TF's `tvars`), created in the
/// current variable scope (the root, as ALBERT does) after the model and its head.
pub fn albert_optimizer(
    reg: &Registry,
    kind: AlbertOptimizerKind,
    init_lr: f32,
    num_train_steps: u64,
    num_warmup_steps: u64,
) -> Result<AlbertOptimizer, TrainError> {
    let tvars = reg.trainable_variables();
    Ok(match kind {
        AlbertOptimizerKind::AdamW => AlbertOptimizer::AdamW(AdamWeightDecay::new(
            reg,
            AdamWeightDecayConfig::bert(init_lr, num_train_steps, num_warmup_steps),
            &tvars,
        )?),
        AlbertOptimizerKind::Lamb => AlbertOptimizer::Lamb(Lamb::new(
            reg,
            LambConfig::albert(init_lr, num_train_steps, num_warmup_steps),
            &tvars,
        )?),
    })
}
