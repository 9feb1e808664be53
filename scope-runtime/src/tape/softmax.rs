//! Softmax and log-softmax over the last axis (plain, and fused with the attention scale and
//! mask), and BERT's attention mask adder, forward and backward.

use ndarray::{ArrayD, IxDyn};

use super::buffers::{self, accumulate, flat, flat_mut, rows_of, shape_error, Backprop};
use super::scalar::Real;
use super::simd::{flush, softmax_in_place, wide};
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the softmax ops.
#[derive(Clone, Debug)]
pub(crate) enum SoftmaxOp {
    Softmax(NodeId),
    LogSoftmax(NodeId),
    MaskedSoftmax {
        scores: NodeId,
        adder: NodeId,
        scale: f64,
    },
}

impl SoftmaxOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            SoftmaxOp::Softmax(a) | SoftmaxOp::LogSoftmax(a) => f(*a),
            SoftmaxOp::MaskedSoftmax { scores, adder, .. } => {
                f(*scores);
                f(*adder);
            }
        }
    }
}

/// `dx = alpha * y * (g - sum(g * y))` row by row, for softmax output `y`, in blocks of
/// whole rows across threads.
fn softmax_backward<T: Real>(y: &[T], g: &[T], dx: &mut [T], d: usize, alpha: T) {
    // About 5 operations an element.
    let work = dx.len().saturating_mul(5);
    crate::threads::for_each_block(dx, d, work, |first, block| {
        let span = first * d..first * d + block.len();
        let (y, g) = (&y[span.clone()], &g[span]);
        wide(
            #[inline(always)]
            || {
                for ((yr, gr), o) in y
                    .chunks_exact(d)
                    .zip(g.chunks_exact(d))
                    .zip(block.chunks_exact_mut(d))
                {
                    let dot = super::simd::dot(yr, gr);
                    for ((o, &y), &gk) in o.iter_mut().zip(yr).zip(gr) {
                        *o = alpha * y * (gk - dot);
                    }
                }
            },
        );
    });
}

/// Calls `row(x_row, out_row)` on every row of `d` elements of `src` and `dst`, in blocks of
/// whole rows across threads (`per_element`: about how many operations an element costs),
/// each block compiled for the CPU's vector unit ([`wide`]).
#[inline(always)]
pub(super) fn each_row<T: Real>(
    src: &[T],
    dst: &mut [T],
    d: usize,
    per_element: usize,
    row: impl Fn(&[T], &mut [T]) + Send + Sync,
) {
    let work = dst.len().saturating_mul(per_element);
    crate::threads::for_each_block(dst, d, work, |first, block| {
        let rows = &src[first * d..first * d + block.len()];
        wide(
            #[inline(always)]
            || {
                for (x, o) in rows.chunks_exact(d).zip(block.chunks_exact_mut(d)) {
                    row(x, o);
                }
            },
        );
    });
}

impl<T: Real> Tape<T> {
    /// Softmax over the last axis (TF's `tf.nn.softmax`).
    pub fn softmax(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let vx = self.value(x)?;
        let (_, d) = rows_of("softmax", "x", vx)?;
        let mut out = self.pool.scratch("softmax", vx.shape())?;
        each_row(
            flat(vx),
            flat_mut(&mut out),
            d,
            20,
            #[inline(always)]
            |row, o| {
                o.copy_from_slice(row);
                softmax_in_place(o);
            },
        );
        Ok(self.push(out, SoftmaxOp::Softmax(x)))
    }

    /// Log-softmax over the last axis (TF's `tf.nn.log_softmax`):
    /// `x - max - log(sum(exp(x - max)))`.
    pub fn log_softmax(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let vx = self.value(x)?;
        let (_, d) = rows_of("log_softmax", "x", vx)?;
        let mut out = self.pool.scratch("log_softmax", vx.shape())?;
        each_row(
            flat(vx),
            flat_mut(&mut out),
            d,
            20,
            #[inline(always)]
            |row, o| {
                let max = row
                    .iter()
                    .copied()
                    .fold(row[0], |m, v| if v > m { v } else { m });
                let sum = row.iter().fold(T::ZERO, |s, &v| s + (v - max).exp());
                let log_sum = sum.ln();
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = (v - max) - log_sum;
                }
            },
        );
        Ok(self.push(out, SoftmaxOp::LogSoftmax(x)))
    }

    /// BERT's attention probabilities, fused: `softmax(scores * scale + adder)` over the last
    /// axis, where `scores` is `[batch, .., to]` and `adder` is `[batch, to]`, broadcast over
    /// the middle axes (heads and `from` positions). BERT's adder is
    /// `(1 - input_mask) * -10000` ([`Tape::attention_mask_adder`]).
    pub fn masked_softmax(
        &mut self,
        scores: NodeId,
        adder: NodeId,
        scale: f64,
    ) -> Result<NodeId, TrainError> {
        let (vs, va) = (self.value(scores)?, self.value(adder)?);
        let (_, to) = rows_of("masked_softmax", "scores", vs)?;
        if vs.ndim() < 2 || va.shape() != [vs.shape()[0], to] {
            return Err(shape_error(
                "masked_softmax",
                format!(
                    "scores must be [batch, .., to] and the mask adder [batch, to]; got scores \
                     {} and adder {}",
                    format_shape(vs.shape()),
                    format_shape(va.shape())
                ),
            ));
        }
        let batch = vs.shape()[0];
        let per_batch = vs.len() / batch.max(1);
        let sc = T::from_f64(scale);
        let mut out = self.pool.scratch("masked_softmax", vs.shape())?;
        let (src, add) = (flat(vs), flat(va));
        let dst = flat_mut(&mut out);
        // Rows of `to` scores, one thread per block of whole rows (each row's result is the
        // same whichever thread computes it); about 20 operations an element.
        let work = dst.len().saturating_mul(20);
        crate::threads::for_each_chunk(dst, to, work, |r, o| {
            let b = r * to / per_batch.max(1);
            let add_b = &add[b * to..(b + 1) * to];
            let row = &src[r * to..(r + 1) * to];
            wide(
                #[inline(always)]
                || {
                    for ((z, &s), &a) in o.iter_mut().zip(row).zip(add_b) {
                        *z = s * sc + a;
                    }
                    softmax_in_place(o);
                },
            );
        });
        Ok(self.push(
            out,
            SoftmaxOp::MaskedSoftmax {
                scores,
                adder,
                scale,
            },
        ))
    }

    /// BERT's additive attention mask as a constant `[batch, to]`: `(1 - mask) * -10000`,
    /// from `input_mask` `[batch, to]` of 0 (padding) and 1 (real token).
    ///
    /// Fails with [`TrainError::OutOfRange`] for a mask value other than 0 or 1.
    pub fn attention_mask_adder(
        &mut self,
        input_mask: ndarray::ArrayView2<'_, i64>,
    ) -> Result<NodeId, TrainError> {
        let mut out = ArrayD::zeros(IxDyn(&[input_mask.nrows(), input_mask.ncols()]));
        let big = T::from_f64(-10000.0);
        for (index, (o, &m)) in out.iter_mut().zip(input_mask.iter()).enumerate() {
            *o = match m {
                1 => T::ZERO,
                0 => big,
                _ => {
                    return Err(TrainError::OutOfRange {
                        input: "input_mask".into(),
                        index,
                        value: m,
                        limit: 2,
                    })
                }
            };
        }
        Ok(self.constant(out))
    }
}

impl SoftmaxOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop {
            out,
            g,
            lower,
            pool,
            ..
        } = cx;
        let zeros = |shape: &[usize]| buffers::zeros(pool, shape);
        let scratch = |shape: &[usize]| buffers::scratch(pool, shape);
        match self {
            SoftmaxOp::Softmax(x) => {
                let d = *out.shape().last().expect("checked in forward");
                let mut dx = scratch(out.shape());
                softmax_backward(flat(out), flat(g), flat_mut(&mut dx), d, T::ONE);
                accumulate(pool, &mut lower[x.0], dx);
            }
            SoftmaxOp::LogSoftmax(x) => {
                let d = *out.shape().last().expect("checked in forward");
                let mut dx = scratch(out.shape());
                let (y, gs) = (flat(out), flat(g));
                let work = y.len().saturating_mul(20);
                crate::threads::for_each_block(flat_mut(&mut dx), d, work, |first, block| {
                    let span = first * d..first * d + block.len();
                    let rows = y[span.clone()]
                        .chunks_exact(d)
                        .zip(gs[span].chunks_exact(d));
                    wide(
                        #[inline(always)]
                        || {
                            for ((y, gr), o) in rows.zip(block.chunks_exact_mut(d)) {
                                let sum = gr.iter().fold(T::ZERO, |s, &v| s + v);
                                for k in 0..d {
                                    o[k] = gr[k] - flush(y[k].exp()) * sum;
                                }
                            }
                        },
                    );
                });
                accumulate(pool, &mut lower[x.0], dx);
            }
            SoftmaxOp::MaskedSoftmax {
                scores,
                adder,
                scale,
            } => {
                let to = *out.shape().last().expect("checked in forward");
                let batch = out.shape()[0];
                let mut dz = scratch(out.shape());
                softmax_backward(flat(out), flat(g), flat_mut(&mut dz), to, T::ONE);
                // d adder[b, t] = sum over the middle axes of dz: one batch per piece, its
                // rows added in order.
                let per_batch = dz.len() / batch.max(1);
                let mut dadd = zeros(&[batch, to]);
                {
                    let (src, dst) = (flat(&dz), flat_mut(&mut dadd));
                    crate::threads::for_each_chunk(dst, to, src.len(), |b, acc| {
                        let rows = src[b * per_batch..(b + 1) * per_batch].chunks_exact(to);
                        wide(
                            #[inline(always)]
                            || {
                                for row in rows {
                                    for (a, &v) in acc.iter_mut().zip(row) {
                                        *a = *a + v;
                                    }
                                }
                            },
                        );
                    });
                }
                let sc = T::from_f64(*scale);
                let dzs = flat_mut(&mut dz);
                let work = dzs.len();
                crate::threads::for_each_block(dzs, to, work, |_, block| {
                    wide(
                        #[inline(always)]
                        || block.iter_mut().for_each(|v| *v = *v * sc),
                    );
                });
                accumulate(pool, &mut lower[scores.0], dz);
                accumulate(pool, &mut lower[adder.0], dadd);
            }
        }
        Ok(())
    }
}
