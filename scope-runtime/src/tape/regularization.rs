//! Regularization losses on the tape: `loss + tf.losses.get_regularization_loss()`, with
//! gradients to the regularized variables.

use ndarray::ArrayD;

use super::{NodeId, Tape};
use crate::scoping::{RegularizationLoss, Regularizer};
use crate::train_error::TrainError;

impl Tape<f32> {
    /// The sum of `losses` (from [`Registry::regularization_losses`](crate::Registry)) as a
    /// scalar node, to add to a model's loss: each variable is put on the tape (or found
    /// there), so the penalties' gradients reach it. `None` when there is no loss (TF's
    /// `get_regularization_loss` is then the constant 0).
    ///
    /// ```
    /// use scope::{Initializer, Registry, Regularizer, VarSpec, tape::Tape};
    /// let reg = Registry::new();
    /// let _s = reg.variable_scope("fc").regularizer(Regularizer::l2(0.5)?).enter()?;
    /// let w = reg.get_variable("w", VarSpec::new().shape([2]).initializer(Initializer::Constant(2.0)))?;
    /// let mut tape = Tape::<f32>::new();
    /// let loss = tape.regularization_loss(&reg.regularization_losses(None)?)?.unwrap();
    /// assert_eq!(tape.value(loss)?.sum(), 2.0); // 0.5 * (4 + 4) / 2
    /// let grads = tape.gradients(loss)?;
    /// let g: Vec<f32> = grads.get(&w).unwrap().iter().copied().collect();
    /// assert_eq!(g, [1.0, 1.0]); // 0.5 * w
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn regularization_loss(
        &mut self,
        losses: &[RegularizationLoss],
    ) -> Result<Option<NodeId>, TrainError> {
        let mut total = None;
        for loss in losses {
            let Some(term) = self.penalty(loss)? else {
                continue;
            };
            total = Some(match total {
                None => term,
                Some(t) => self.add(t, term)?,
            });
        }
        Ok(total)
    }

    /// One variable's penalty: `scale * sum(|w|)` (as `relu(w) + relu(-w)`, whose gradient at
    /// 0 is 0 as TF's is), `scale * sum(w²) / 2`, or both.
    fn penalty(&mut self, loss: &RegularizationLoss) -> Result<Option<NodeId>, TrainError> {
        let var = loss.variable();
        let w = self.variable(var)?;
        let shape = var.shape().to_vec();
        let (l1, l2) = match loss.regularizer() {
            Regularizer::L1 { scale } => (scale, 0.0),
            Regularizer::L2 { scale } => (0.0, scale),
            Regularizer::L1L2 { l1, l2 } => (l1, l2),
        };
        let mut terms = Vec::new();
        if l1 != 0.0 {
            let neg = self.constant(ArrayD::from_elem(shape.clone(), -1.0));
            let minus_w = self.mul(w, neg)?;
            let (pos, negpart) = (self.relu(w)?, self.relu(minus_w)?);
            let abs = self.add(pos, negpart)?;
            terms.push(self.scaled_sum(abs, &shape, l1 as f32)?);
        }
        if l2 != 0.0 {
            let sq = self.square(w)?;
            terms.push(self.scaled_sum(sq, &shape, (l2 / 2.0) as f32)?);
        }
        let mut it = terms.into_iter();
        let Some(first) = it.next() else {
            return Ok(None);
        };
        it.try_fold(first, |acc, t| self.add(acc, t)).map(Some)
    }

    fn scaled_sum(&mut self, x: NodeId, shape: &[usize], scale: f32) -> Result<NodeId, TrainError> {
        let c = self.constant(ArrayD::from_elem(shape.to_vec(), scale));
        let scaled = self.mul(x, c)?;
        self.sum_all(scaled)
    }
}
