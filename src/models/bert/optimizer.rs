//! BERT's optimizer: `optimization.create_optimizer`.

use crate::optim::{AdamWeightDecay, AdamWeightDecayConfig};
use crate::{Registry, TrainError};

/// `optimization.create_optimizer(loss, init_lr, num_train_steps, num_warmup_steps)`:
/// [`AdamWeightDecay`] over the registry's trainable variables (TF's `tvars`), created in the
/// current variable scope (the root, as BERT does) after the model and its heads.
pub fn bert_optimizer(
    reg: &Registry,
    init_lr: f32,
    num_train_steps: u64,
    num_warmup_steps: u64,
) -> Result<AdamWeightDecay, TrainError> {
    AdamWeightDecay::new(
        reg,
        AdamWeightDecayConfig::bert(init_lr, num_train_steps, num_warmup_steps),
        &reg.trainable_variables(),
    )
}
