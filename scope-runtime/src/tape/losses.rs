//! Losses: the weighted mean, the negative log-likelihood of log-probabilities and the
//! fused softmax cross-entropy of logits, forward and backward.

use ndarray::{ArrayD, IxDyn, Zip};

use super::buffers::{self, accumulate, flat, flat_mut, shape_error, Backprop};
use super::scalar::Real;
use super::simd::{exp_row, flush, wide};
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the losses.
#[derive(Clone, Debug)]
pub(crate) enum LossOp {
    WeightedMean {
        x: NodeId,
        weights: NodeId,
        epsilon: f64,
    },
    Nll {
        log_probs: NodeId,
        labels: Vec<usize>,
    },
    SoftmaxCrossEntropy {
        logits: NodeId,
        labels: Vec<usize>,
    },
}

impl LossOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            LossOp::WeightedMean { x, weights, .. } => {
                f(*x);
                f(*weights);
            }
            LossOp::Nll { log_probs, .. } => f(*log_probs),
            LossOp::SoftmaxCrossEntropy { logits, .. } => f(*logits),
        }
    }
}

/// Checks labels against `[n, classes]` log-probabilities or logits.
fn check_labels<T: Real>(
    op: &'static str,
    x: &ArrayD<T>,
    labels: &[usize],
) -> Result<(), TrainError> {
    if x.ndim() != 2 || x.shape()[0] != labels.len() {
        return Err(shape_error(
            op,
            format!(
                "needs [examples, classes] scores with one label per example, got scores {} and \
                 {} labels",
                format_shape(x.shape()),
                labels.len()
            ),
        ));
    }
    let classes = x.shape()[1];
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(TrainError::OutOfRange {
            input: format!("{op} labels"),
            index,
            value: label as i64,
            limit: classes,
        });
    }
    Ok(())
}

impl<T: Real> Tape<T> {
    /// `sum(weights * x) / (sum(weights) + epsilon)`, a scalar, for `x` and `weights` of the
    /// same shape: BERT's masked-LM loss from per-prediction losses and label weights.
    pub fn weighted_mean(
        &mut self,
        x: NodeId,
        weights: NodeId,
        epsilon: f64,
    ) -> Result<NodeId, TrainError> {
        let (vx, vw) = (self.value(x)?, self.value(weights)?);
        if vx.shape() != vw.shape() {
            return Err(shape_error(
                "weighted_mean",
                format!(
                    "x {} and weights {} must have the same shape",
                    format_shape(vx.shape()),
                    format_shape(vw.shape())
                ),
            ));
        }
        let num = Zip::from(vx).and(vw).fold(T::ZERO, |s, &x, &w| s + w * x);
        let den = vw.iter().fold(T::ZERO, |s, &w| s + w) + T::from_f64(epsilon);
        let out = ArrayD::from_elem(IxDyn(&[]), num / den);
        Ok(self.push(
            out,
            LossOp::WeightedMean {
                x,
                weights,
                epsilon,
            },
        ))
    }

    /// The negative log-likelihood of each example: `-log_probs[i, labels[i]]`, `[n]` for
    /// `log_probs` `[n, classes]` (BERT's `-reduce_sum(one_hot_labels * log_probs, -1)`).
    ///
    /// Fails with [`TrainError::OutOfRange`] for a label `>= classes`.
    pub fn nll(&mut self, log_probs: NodeId, labels: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(log_probs)?;
        check_labels("nll", v, labels)?;
        let c = v.shape()[1];
        let src = flat(v);
        let data: Vec<T> = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| -src[i * c + l])
            .collect();
        let out = ArrayD::from_shape_vec(IxDyn(&[labels.len()]), data)
            .map_err(|e| shape_error("nll", e.to_string()))?;
        Ok(self.push(
            out,
            LossOp::Nll {
                log_probs,
                labels: labels.to_vec(),
            },
        ))
    }

    /// Softmax cross-entropy of each example, fused: `-log_softmax(logits)[i, labels[i]]`,
    /// `[n]` for `logits` `[n, classes]` (TF's
    /// `tf.nn.sparse_softmax_cross_entropy_with_logits`).
    pub fn softmax_cross_entropy(
        &mut self,
        logits: NodeId,
        labels: &[usize],
    ) -> Result<NodeId, TrainError> {
        let v = self.value(logits)?;
        check_labels("softmax_cross_entropy", v, labels)?;
        let c = v.shape()[1];
        let mut data = vec![T::ZERO; labels.len()];
        let src = flat(v);
        // One example a piece, each with its own row of scratch; about 20 operations a logit.
        let work = src.len().saturating_mul(20);
        crate::threads::for_each_block(&mut data, 1, work, |first, block| {
            let mut scratch = vec![T::ZERO; c];
            let rows = src[first * c..].chunks_exact(c).zip(&labels[first..]);
            wide(
                #[inline(always)]
                || {
                    for (o, (row, &l)) in block.iter_mut().zip(rows) {
                        let max = row
                            .iter()
                            .copied()
                            .fold(row[0], |m, x| if x > m { x } else { m });
                        let sum = exp_row(row, &mut scratch);
                        *o = sum.ln() - (row[l] - max);
                    }
                },
            );
        });
        let out = ArrayD::from_shape_vec(IxDyn(&[labels.len()]), data)
            .map_err(|e| shape_error("softmax_cross_entropy", e.to_string()))?;
        Ok(self.push(
            out,
            LossOp::SoftmaxCrossEntropy {
                logits,
                labels: labels.to_vec(),
            },
        ))
    }
}

impl LossOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop {
            nodes,
            out,
            g,
            lower,
            pool,
        } = cx;
        let val = |id: NodeId| &nodes[id.0].value;
        let zeros = |shape: &[usize]| buffers::zeros(pool, shape);
        let scratch = |shape: &[usize]| buffers::scratch(pool, shape);
        match self {
            LossOp::WeightedMean {
                x,
                weights,
                epsilon,
            } => {
                let (vx, vw) = (val(*x), val(*weights));
                let g0 = g.iter().next().copied().unwrap_or(T::ZERO);
                let den = vw.iter().fold(T::ZERO, |s, &w| s + w) + T::from_f64(*epsilon);
                let loss = out.iter().next().copied().unwrap_or(T::ZERO);
                let scale = g0 / den;
                accumulate(pool, &mut lower[x.0], vw.mapv(|w| w * scale));
                accumulate(pool, &mut lower[weights.0], vx.mapv(|v| (v - loss) * scale));
            }
            LossOp::Nll { log_probs, labels } => {
                let v = val(*log_probs);
                let c = v.shape()[1];
                let mut dx = zeros(v.shape());
                let dst = flat_mut(&mut dx);
                for ((i, &l), &gi) in labels.iter().enumerate().zip(flat(g)) {
                    dst[i * c + l] = -gi;
                }
                accumulate(pool, &mut lower[log_probs.0], dx);
            }
            LossOp::SoftmaxCrossEntropy { logits, labels } => {
                let v = val(*logits);
                let c = v.shape()[1];
                let mut dx = scratch(v.shape());
                let (src, gs) = (flat(v), flat(g));
                let work = src.len().saturating_mul(20);
                crate::threads::for_each_block(flat_mut(&mut dx), c, work, |first, block| {
                    let rows = src[first * c..].chunks_exact(c);
                    let rows = rows.zip(&labels[first..]).zip(&gs[first..]);
                    wide(
                        #[inline(always)]
                        || {
                            for (o, ((row, &l), &gi)) in block.chunks_exact_mut(c).zip(rows) {
                                let inv = T::ONE / exp_row(row, o);
                                o.iter_mut().for_each(|p| *p = flush(*p * inv) * gi);
                                o[l] = o[l] - gi;
                            }
                        },
                    );
                });
                accumulate(pool, &mut lower[logits.0], dx);
            }
        }
        Ok(())
    }
}
