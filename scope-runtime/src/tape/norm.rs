//! Contrib's `layer_norm` over the last axis, forward and backward.

use ndarray::{ArrayD, IxDyn};

use super::buffers::{self, accumulate, flat, flat_mut, rows_of, shape_error, Backprop};
use super::scalar::Real;
use super::simd::wide;
use super::softmax::each_row;
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the normalization ops.
#[derive(Clone, Debug)]
pub(crate) enum NormOp {
    LayerNorm {
        x: NodeId,
        gamma: NodeId,
        beta: NodeId,
        epsilon: f64,
    },
}

impl NormOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            NormOp::LayerNorm { x, gamma, beta, .. } => {
                f(*x);
                f(*gamma);
                f(*beta);
            }
        }
    }
}

/// Mean and `rsqrt(var + eps)` of a row (biased variance, from the centred values).
#[inline(always)]
fn moments<T: Real>(row: &[T], inv_d: T, eps: T) -> (T, T) {
    let mean = super::simd::sum(row) * inv_d;
    let var = super::simd::centered_sq_sum(row, mean) * inv_d;
    (mean, T::ONE / (var + eps).sqrt())
}

impl<T: Real> Tape<T> {
    /// Layer normalization over the last axis, as `tf.contrib.layers.layer_norm` computes it:
    /// mean and biased variance of each row, then `x * inv + (beta - mean * inv)` with
    /// `inv = rsqrt(var + epsilon) * gamma`. `gamma` and `beta` are `[d]` for `x` `[.., d]`.
    pub fn layer_norm(
        &mut self,
        x: NodeId,
        gamma: NodeId,
        beta: NodeId,
        epsilon: f64,
    ) -> Result<NodeId, TrainError> {
        let vx = self.value(x)?;
        let (rows, d) = rows_of("layer_norm", "x", vx)?;
        for (what, id) in [("gamma", gamma), ("beta", beta)] {
            let v = self.value(id)?;
            if v.shape() != [d] {
                return Err(shape_error(
                    "layer_norm",
                    format!(
                        "{what} must be [{d}] for x of shape {}, got {}",
                        format_shape(vx.shape()),
                        format_shape(v.shape())
                    ),
                ));
            }
        }
        if !(epsilon.is_finite() && epsilon >= 0.0) {
            return Err(shape_error(
                "layer_norm",
                format!("epsilon {epsilon} must be finite and not negative"),
            ));
        }
        let (g, b) = (flat(self.value(gamma)?), flat(self.value(beta)?));
        let mut out = self.pool.scratch("layer_norm", vx.shape())?;
        let eps = T::from_f64(epsilon);
        let inv_d = T::ONE / T::from_f64(d as f64);
        // Blocks of whole rows, one thread each; about 8 operations an element.
        each_row(
            flat(vx),
            flat_mut(&mut out),
            d,
            8,
            #[inline(always)]
            |row, o| {
                let (mean, rstd) = moments(row, inv_d, eps);
                // Zipped, not indexed: bounds checks kept this loop scalar.
                for (((o, &x), &gk), &bk) in o.iter_mut().zip(row).zip(g).zip(b) {
                    let inv = rstd * gk;
                    *o = x * inv + (bk - mean * inv);
                }
            },
        );
        debug_assert_eq!(rows * d, vx.len());
        Ok(self.push(
            out,
            NormOp::LayerNorm {
                x,
                gamma,
                beta,
                epsilon,
            },
        ))
    }
}

/// Rows per piece when rows and their column sums are computed together
/// ([`rows_and_column_sums`]).
pub(super) const SUM_ROWS: usize = 32;

/// Fills `dst`, rows of `d`, and sums `sums` vectors of `d` over the rows: `f(first_row,
/// rows, partial)` handles up to [`SUM_ROWS`] rows starting at `first_row`, adding their
/// terms, in row order, into `partial` (`sums * d`, zeroed); the pieces run in blocks across
/// threads (`work`: about how many operations in all), and their partial sums are added in
/// piece order. The split into pieces is fixed, so the sums do not depend on the thread
/// count (and with at most [`SUM_ROWS`] rows they are the plain sums in row order).
pub(super) fn rows_and_column_sums<T: Real>(
    pool: &buffers::Pool<T>,
    dst: &mut [T],
    d: usize,
    sums: usize,
    work: usize,
    f: impl Fn(usize, &mut [T], &mut [T]) + Send + Sync,
) -> Vec<T> {
    let width = sums * d;
    let pieces = (dst.len() / d.max(1)).div_ceil(SUM_ROWS);
    let mut partial = buffers::zeros(pool, &[pieces, width]);
    let piece = SUM_ROWS * d.max(1);
    crate::threads::for_each_block2(
        (dst, piece),
        (flat_mut(&mut partial), width),
        work,
        |first, rows, part| {
            let pieces = rows.chunks_mut(piece).zip(part.chunks_exact_mut(width));
            for (j, (rows, part)) in pieces.enumerate() {
                f((first + j) * SUM_ROWS, rows, part);
            }
        },
    );
    let mut total = vec![T::ZERO; width];
    for part in flat(&partial).chunks_exact(width.max(1)) {
        for (t, &p) in total.iter_mut().zip(part) {
            *t = *t + p;
        }
    }
    pool.put(partial);
    total
}

/// One row's `dx` from its gradient `gr`, `gamma`, the normalized row `xhat` and `rstd`.
#[inline(always)]
fn row_dx<T: Real>(gr: &[T], gm: &[T], xhat: &[T], rstd: T, inv_d: T, dxr: &mut [T]) {
    let (mut s1, mut s2) = (T::ZERO, T::ZERO);
    for ((&gk, &gmk), &xh) in gr.iter().zip(gm).zip(xhat) {
        let dxh = gk * gmk;
        s1 = s1 + dxh;
        s2 = s2 + dxh * xh;
    }
    let (m1, m2) = (s1 * inv_d, s2 * inv_d);
    for (((o, &gk), &gmk), &xh) in dxr.iter_mut().zip(gr).zip(gm).zip(xhat) {
        *o = rstd * (gk * gmk - m1 - xh * m2);
    }
}

impl NormOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop {
            nodes,
            g,
            lower,
            pool,
            ..
        } = cx;
        let val = |id: NodeId| &nodes[id.0].value;
        let scratch = |shape: &[usize]| buffers::scratch(pool, shape);
        match self {
            NormOp::LayerNorm {
                x,
                gamma,
                beta,
                epsilon,
            } => {
                let vx = val(*x);
                let d = *vx.shape().last().expect("checked in forward");
                let gm = flat(val(*gamma));
                let eps = T::from_f64(*epsilon);
                let inv_d = T::ONE / T::from_f64(d as f64);
                let mut dx = scratch(vx.shape());
                let (xs, gs) = (flat(vx), flat(g));
                // About 12 operations an element. Each row's dx, and its terms of the two
                // column sums (gamma's, then beta's).
                let work = xs.len().saturating_mul(12);
                let sums = rows_and_column_sums(
                    pool,
                    flat_mut(&mut dx),
                    d,
                    2,
                    work,
                    |first, dxb, part| {
                        let mut xhat = vec![T::ZERO; d];
                        let span = first * d..first * d + dxb.len();
                        let rows = xs[span.clone()]
                            .chunks_exact(d)
                            .zip(gs[span].chunks_exact(d));
                        let (dgamma, dbeta) = part.split_at_mut(d);
                        wide(
                            #[inline(always)]
                            || {
                                for ((row, gr), dxr) in rows.zip(dxb.chunks_exact_mut(d)) {
                                    let (mean, rstd) = moments(row, inv_d, eps);
                                    // Element-wise first (vectorized), then the two row sums.
                                    for ((((xh, &x), &gk), dgk), dbk) in xhat
                                        .iter_mut()
                                        .zip(row)
                                        .zip(gr)
                                        .zip(dgamma.iter_mut())
                                        .zip(dbeta.iter_mut())
                                    {
                                        *xh = (x - mean) * rstd;
                                        *dgk = *dgk + gk * *xh;
                                        *dbk = *dbk + gk;
                                    }
                                    row_dx(gr, gm, &xhat, rstd, inv_d, dxr);
                                }
                            },
                        );
                    },
                );
                let (dgamma, dbeta) = (sums[..d].to_vec(), sums[d..].to_vec());
                accumulate(pool, &mut lower[x.0], dx);
                let vec1 = |v: Vec<T>| ArrayD::from_shape_vec(IxDyn(&[d]), v).expect("[d]");
                accumulate(pool, &mut lower[gamma.0], vec1(dgamma));
                accumulate(pool, &mut lower[beta.0], vec1(dbeta));
            }
        }
        Ok(())
    }
}

/// The thread-count checks of every op family split across threads.
#[cfg(test)]
#[path = "threads_tests.rs"]
mod threads_tests;
