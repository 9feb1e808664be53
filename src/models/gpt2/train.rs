//! Fine-tuning: TF1 Adam on the language-model loss.

use ndarray::ArrayView2;

use super::Gpt2;
use crate::optim::{Adam, Optimizer};
use crate::tape::Tape;
use crate::{Registry, TrainError, Variable};

/// `tf.train.AdamOptimizer(learning_rate).minimize(loss)` over the model's trainable
/// variables, in the current variable scope (the root, as the fine-tuning scripts build it):
/// `beta1_power`, `beta2_power`, then `<var>/Adam` and `<var>/Adam_1` for each variable in
/// creation order, as TF creates them.
pub fn gpt2_adam(reg: &Registry, model: &Gpt2, learning_rate: f32) -> Result<Adam, TrainError> {
    let vars: Vec<Variable> = model
        .variables()
        .into_iter()
        .map(|(_, v)| v)
        .filter(Variable::trainable)
        .collect();
    Adam::new(reg, learning_rate, &vars)
}

impl Gpt2 {
    /// One fine-tuning step: clears `tape`, records [`Gpt2::lm_loss`] on `tokens`, and lets
    /// `adam` apply its gradients. Returns the loss before the step.
    ///
    /// Fails before changing any variable as [`Gpt2::lm_loss`] or the optimizer does.
    pub fn train_step(
        &self,
        tape: &mut Tape<f32>,
        adam: &mut Adam,
        tokens: ArrayView2<'_, i64>,
    ) -> Result<f32, TrainError> {
        tape.clear();
        let out = self.lm_loss(tape, tokens)?;
        adam.minimize(tape, out.loss)
    }
}
