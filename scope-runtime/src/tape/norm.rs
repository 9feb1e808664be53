//! Contrib's `layer_norm` over the last axis, forward and backward.

use ndarray::{ArrayD, IxDyn};

use super::buffers::{self, accumulate, flat, flat_mut, rows_of, shape_error, Backprop};
use super::scalar::Real;
use super::simd::wide;
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
        let src = flat(vx);
        let dst = flat_mut(&mut out);
        // Blocks of whole rows, one thread each; about 8 operations an element.
        let work = dst.len().saturating_mul(8);
        crate::threads::for_each_block(dst, d, work, |first, block| {
            let rows = &src[first * d..first * d + block.len()];
            wide(
                #[inline(always)]
                || {
                    for (row, o) in rows.chunks_exact(d).zip(block.chunks_exact_mut(d)) {
                        let (mean, rstd) = moments(row, inv_d, eps);
                        // Zipped, not indexed: bounds checks kept this loop scalar.
                        for (((o, &x), &gk), &bk) in o.iter_mut().zip(row).zip(g).zip(b) {
                            let inv = rstd * gk;
                            *o = x * inv + (bk - mean * inv);
                        }
                    }
                },
            );
        });
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

/// Columns per piece when column sums are split across threads (whole vector registers).
const COLUMNS: usize = 64;

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
                let mut dgamma = vec![T::ZERO; d];
                let mut dbeta = vec![T::ZERO; d];
                let (xs, gs) = (flat(vx), flat(g));
                let rows = xs.len() / d;
                // About 12 operations an element.
                let work = xs.len().saturating_mul(12);
                if crate::threads::blocks_for(rows, work) <= 1 {
                    // One pass: each row's dx, and its terms of the two column sums.
                    let mut xhat = vec![T::ZERO; d];
                    for ((row, gr), dxr) in xs
                        .chunks_exact(d)
                        .zip(gs.chunks_exact(d))
                        .zip(flat_mut(&mut dx).chunks_exact_mut(d))
                    {
                        let (mean, rstd) = moments(row, inv_d, eps);
                        // Element-wise first (vectorized), then the two row sums in order.
                        for ((((xh, &x), &gk), dgk), dbk) in xhat
                            .iter_mut()
                            .zip(row)
                            .zip(gr)
                            .zip(&mut dgamma)
                            .zip(&mut dbeta)
                        {
                            *xh = (x - mean) * rstd;
                            *dgk = *dgk + gk * *xh;
                            *dbk = *dbk + gk;
                        }
                        row_dx(gr, gm, &xhat, rstd, inv_d, dxr);
                    }
                } else {
                    // Two passes with the same arithmetic: dx by blocks of rows (keeping each
                    // row's moments), then the column sums by blocks of columns, each column
                    // adding its rows in order as the one pass does.
                    let mut stats = vec![(T::ZERO, T::ZERO); rows];
                    crate::threads::for_each_block2(
                        (flat_mut(&mut dx), d),
                        (&mut stats, 1),
                        work,
                        |first, dxb, st| {
                            let mut xhat = vec![T::ZERO; d];
                            let span = first * d..first * d + dxb.len();
                            let (xb, gb) = (&xs[span.clone()], &gs[span]);
                            let it = xb.chunks_exact(d).zip(gb.chunks_exact(d));
                            let it = it.zip(dxb.chunks_exact_mut(d)).zip(st);
                            wide(
                                #[inline(always)]
                                || {
                                    for (((row, gr), dxr), st) in it {
                                        let (mean, rstd) = moments(row, inv_d, eps);
                                        *st = (mean, rstd);
                                        for (xh, &x) in xhat.iter_mut().zip(row) {
                                            *xh = (x - mean) * rstd;
                                        }
                                        row_dx(gr, gm, &xhat, rstd, inv_d, dxr);
                                    }
                                },
                            );
                        },
                    );
                    crate::threads::for_each_block2(
                        (&mut dgamma, COLUMNS),
                        (&mut dbeta, COLUMNS),
                        work / 2,
                        |first, dgb, dbb| {
                            let c0 = first * COLUMNS;
                            let cols = c0..c0 + dgb.len();
                            let it = xs.chunks_exact(d).zip(gs.chunks_exact(d)).zip(&stats);
                            wide(
                                #[inline(always)]
                                || {
                                    for ((row, gr), &(mean, rstd)) in it {
                                        let (row, gr) = (&row[cols.clone()], &gr[cols.clone()]);
                                        let sums = dgb.iter_mut().zip(dbb.iter_mut());
                                        for (((dgk, dbk), &x), &gk) in sums.zip(row).zip(gr) {
                                            *dgk = *dgk + gk * ((x - mean) * rstd);
                                            *dbk = *dbk + gk;
                                        }
                                    }
                                },
                            );
                        },
                    );
                }
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
