//! Multi-head attention on the `[batch * seq, hidden]` layout dense layers produce, without
//! TF's reshape and transpose of every head.
//!
//! BERT's `attention_layer` reshapes the query, key and value to `[batch, seq, heads, d]`,
//! transposes them to `[batch, heads, seq, d]`, multiplies, and transposes and reshapes the
//! context back: four copies forward and four backward per layer. Here head `h` of batch `b`
//! is read in place as the `[seq, d]` block at rows `b * seq..`, columns `h * d..` (row stride
//! `hidden`), which the GEMM takes as it is. Two ops, each with its backward:
//!
//! - [`Tape::attention_probs`]: `softmax(q_bh · k_bhᵀ * scale + adder_b)`, `[batch, heads,
//!   seq, seq]` (the node TF calls `attention_probs`);
//! - [`Tape::attention_context`]: `probs_bh · v_bh`, written back as `[batch * seq, hidden]`.

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::buffers::{accumulate, flat, flat_mut, scratch, shape_error, zeros, Backprop};
use super::scalar::Real;
use super::simd::{self, wide};
use super::{NodeId, Op, Tape};
use crate::kernels::mat_mul;
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the two ops (one variant of [`Op`]).
#[derive(Clone, Debug)]
pub(crate) enum AttentionOp {
    Probs {
        q: NodeId,
        k: NodeId,
        adder: NodeId,
        heads: usize,
        scale: f64,
    },
    Context {
        probs: NodeId,
        v: NodeId,
    },
}

impl AttentionOp {
    /// Calls `f` on every input node.
    pub(crate) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            AttentionOp::Probs { q, k, adder, .. } => {
                f(*q);
                f(*k);
                f(*adder);
            }
            AttentionOp::Context { probs, v } => {
                f(*probs);
                f(*v);
            }
        }
    }
}

/// The sizes of one attention op.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    heads: usize,
    seq: usize,
    /// Width of a head.
    d: usize,
}

impl Dims {
    /// The batches to loop over: none when the sequences are empty (no head has a row, and
    /// a head's offset could lie past the end of the empty buffer).
    fn batches(&self) -> usize {
        if self.seq == 0 {
            0
        } else {
            self.batch
        }
    }

    fn hidden(&self) -> usize {
        self.heads * self.d
    }

    /// The sizes of one batch's piece of a buffer (its rows of a `[batch * seq, hidden]`
    /// buffer, or its heads' blocks of a `[batch, heads, seq, seq]` one).
    fn one_batch(&self) -> Dims {
        Dims { batch: 1, ..*self }
    }

    /// Head `h` of batch `b` in a `[batch * seq, hidden]` buffer: `[seq, d]`, row stride
    /// `hidden`.
    fn head<'a, T>(&self, buf: &'a [T], b: usize, h: usize) -> ArrayView2<'a, T> {
        let start = b * self.seq * self.hidden() + h * self.d;
        ArrayView2::from_shape(
            (self.seq, self.d).strides((self.hidden(), 1)),
            &buf[start..],
        )
        .expect("a head lies inside its [batch * seq, hidden] buffer")
    }

    fn head_mut<'a, T>(&self, buf: &'a mut [T], b: usize, h: usize) -> ArrayViewMut2<'a, T> {
        let start = b * self.seq * self.hidden() + h * self.d;
        ArrayViewMut2::from_shape(
            (self.seq, self.d).strides((self.hidden(), 1)),
            &mut buf[start..],
        )
        .expect("a head lies inside its [batch * seq, hidden] buffer")
    }

    /// The `[seq, seq]` block of head `h` of batch `b` in a `[batch, heads, seq, seq]` buffer.
    fn block<'a, T>(&self, buf: &'a [T], b: usize, h: usize) -> ArrayView2<'a, T> {
        let n = self.seq * self.seq;
        let start = (b * self.heads + h) * n;
        ArrayView2::from_shape((self.seq, self.seq), &buf[start..start + n])
            .expect("a block lies inside its buffer")
    }

    fn block_mut<'a, T>(&self, buf: &'a mut [T], b: usize, h: usize) -> ArrayViewMut2<'a, T> {
        let n = self.seq * self.seq;
        let start = (b * self.heads + h) * n;
        ArrayViewMut2::from_shape((self.seq, self.seq), &mut buf[start..start + n])
            .expect("a block lies inside its buffer")
    }
}

impl<T: Real> Tape<T> {
    /// BERT's attention probabilities straight from the projections: for `q` and `k`
    /// `[batch * seq, hidden]` split into `heads` heads of `hidden / heads` columns and the
    /// additive mask `adder` `[batch, seq]` ([`Tape::attention_mask_adder`]), the
    /// `[batch, heads, seq, seq]` node `softmax(q_h · k_hᵀ * scale + adder)`, softmax over
    /// the last axis. The same values as reshaping, transposing, [`Tape::batch_matmul`] and
    /// [`Tape::masked_softmax`], without the copies.
    ///
    /// Fails with [`TrainError::Config`] if `heads` does not divide `hidden`, and with
    /// [`TrainError::Shape`] if the shapes do not fit each other.
    pub fn attention_probs(
        &mut self,
        q: NodeId,
        k: NodeId,
        adder: NodeId,
        heads: usize,
        scale: f64,
    ) -> Result<NodeId, TrainError> {
        let (vq, vk, va) = (self.value(q)?, self.value(k)?, self.value(adder)?);
        let hidden = vq.shape().get(1).copied().unwrap_or(0);
        if heads == 0 || hidden % heads != 0 {
            return Err(TrainError::Config {
                detail: format!(
                    "the hidden size ({hidden}) is not a multiple of the number of attention \
                     heads ({heads})"
                ),
            });
        }
        let fits = vq.ndim() == 2
            && vk.shape() == vq.shape()
            && va.ndim() == 2
            && va.shape()[0] * va.shape()[1] == vq.shape()[0];
        if !fits {
            return Err(shape_error(
                "attention_probs",
                format!(
                    "needs q and k [batch * seq, hidden] and the mask adder [batch, seq]; got q \
                     {}, k {} and adder {}",
                    format_shape(vq.shape()),
                    format_shape(vk.shape()),
                    format_shape(va.shape())
                ),
            ));
        }
        let dims = Dims {
            batch: va.shape()[0],
            heads,
            seq: va.shape()[1],
            d: hidden / heads,
        };
        let shape = [dims.batch, heads, dims.seq, dims.seq];
        let mut out = self.pool.scratch("attention_probs", &shape)?;
        let (sq, sk, add) = (flat(vq), flat(vk), flat(va));
        let sc = T::from_f64(scale);
        let seq = dims.seq;
        if dims.batches() > 0 {
            // One `[seq, seq]` block (a head of a batch) a piece: its product and softmax.
            let work = dims.batch * heads * seq * seq * (2 * dims.d + 20);
            crate::threads::for_each_chunk(flat_mut(&mut out), seq * seq, work, |i, block| {
                let (b, h) = (i / heads, i % heads);
                let add_b = &add[b * seq..(b + 1) * seq];
                let mut block2 =
                    ArrayViewMut2::from_shape((seq, seq), &mut *block).expect("a [seq, seq] block");
                let (qh, kh) = (dims.head(sq, b, h), dims.head(sk, b, h));
                mat_mul(T::ONE, &qh, &kh.t(), T::ZERO, &mut block2);
                wide(
                    #[inline(always)]
                    || {
                        for row in block.chunks_exact_mut(seq) {
                            for (z, &a) in row.iter_mut().zip(add_b) {
                                *z = *z * sc + a;
                            }
                            simd::softmax_in_place(row);
                        }
                    },
                );
            });
        }
        Ok(self.push(
            out,
            Op::Attention(AttentionOp::Probs {
                q,
                k,
                adder,
                heads,
                scale,
            }),
        ))
    }

    /// The attention context: for `probs` `[batch, heads, seq, seq]`
    /// ([`Tape::attention_probs`]) and `v` `[batch * seq, hidden]`, the `[batch * seq,
    /// hidden]` node whose head `h` is `probs_h · v_h` (BERT's context layer after its
    /// transpose and reshape back).
    ///
    /// Fails with [`TrainError::Shape`] if the shapes do not fit each other.
    pub fn attention_context(&mut self, probs: NodeId, v: NodeId) -> Result<NodeId, TrainError> {
        let (vp, vv) = (self.value(probs)?, self.value(v)?);
        let fits = vp.ndim() == 4
            && vp.shape()[2] == vp.shape()[3]
            && vp.shape()[1] > 0
            && vv.ndim() == 2
            && vv.shape()[0] == vp.shape()[0] * vp.shape()[2]
            && vv.shape()[1] % vp.shape()[1] == 0;
        if !fits {
            return Err(shape_error(
                "attention_context",
                format!(
                    "needs probs [batch, heads, seq, seq] and v [batch * seq, heads * d]; got \
                     probs {} and v {}",
                    format_shape(vp.shape()),
                    format_shape(vv.shape())
                ),
            ));
        }
        let dims = Dims {
            batch: vp.shape()[0],
            heads: vp.shape()[1],
            seq: vp.shape()[2],
            d: vv.shape()[1] / vp.shape()[1],
        };
        let mut out = self.pool.scratch("attention_context", vv.shape())?;
        let (sp, sv) = (flat(vp), flat(vv));
        if dims.batches() > 0 {
            // One batch's rows a piece (its heads interleave by columns).
            let one = dims.one_batch();
            let work = 2 * sp.len() * dims.d;
            let rows = dims.seq * dims.hidden();
            crate::threads::for_each_chunk(flat_mut(&mut out), rows, work, |b, ob| {
                for h in 0..dims.heads {
                    let mut oh = one.head_mut(ob, 0, h);
                    mat_mul(
                        T::ONE,
                        &dims.block(sp, b, h),
                        &dims.head(sv, b, h),
                        T::ZERO,
                        &mut oh,
                    );
                }
            });
        }
        Ok(self.push(out, Op::Attention(AttentionOp::Context { probs, v })))
    }
}

/// The backward half of [`AttentionOp`]: sends `g`, the gradient of the node whose value is
/// `out`, to its inputs. Inlined into its caller's [`wide`] dispatch.
#[inline(always)]
pub(super) fn backward<T: Real>(op: &AttentionOp, cx: Backprop<'_, T>) {
    let Backprop {
        nodes,
        out,
        g,
        lower,
        pool,
    } = cx;
    let val = |id: NodeId| &nodes[id.0].value;
    match op {
        AttentionOp::Context { probs, v } => {
            let (vp, vv) = (val(*probs), val(*v));
            let dims = Dims {
                batch: vp.shape()[0],
                heads: vp.shape()[1],
                seq: vp.shape()[2],
                d: vv.shape()[1] / vp.shape()[1],
            };
            // Every element of both is written (each head's block by a product).
            let mut dp = scratch(pool, vp.shape());
            let mut dv = scratch(pool, vv.shape());
            let (sp, sv, sg) = (flat(vp), flat(vv), flat(g));
            if dims.batches() > 0 {
                // One batch a piece: its heads' blocks of dp and its rows of dv.
                let one = dims.one_batch();
                let work = 4 * sp.len() * dims.d;
                let blocks = dims.heads * dims.seq * dims.seq;
                crate::threads::for_each_block2(
                    (flat_mut(&mut dp), blocks),
                    (flat_mut(&mut dv), dims.seq * dims.hidden()),
                    work,
                    |first, dpb, dvb| {
                        let pieces = dpb.chunks_exact_mut(blocks);
                        let pieces = pieces.zip(dvb.chunks_exact_mut(dims.seq * dims.hidden()));
                        for (j, (dpb, dvb)) in pieces.enumerate() {
                            let b = first + j;
                            for h in 0..dims.heads {
                                let gh = dims.head(sg, b, h);
                                // d probs = g · vᵀ; d v = probsᵀ · g.
                                let mut dph = one.block_mut(dpb, 0, h);
                                mat_mul(T::ONE, &gh, &dims.head(sv, b, h).t(), T::ZERO, &mut dph);
                                let mut dvh = one.head_mut(dvb, 0, h);
                                mat_mul(T::ONE, &dims.block(sp, b, h).t(), &gh, T::ZERO, &mut dvh);
                            }
                        }
                    },
                );
            }
            accumulate(pool, &mut lower[probs.0], dp);
            accumulate(pool, &mut lower[v.0], dv);
        }
        AttentionOp::Probs {
            q,
            k,
            adder,
            heads,
            scale,
        } => {
            let (vq, vk) = (val(*q), val(*k));
            let dims = Dims {
                batch: out.shape()[0],
                heads: *heads,
                seq: out.shape()[2],
                d: vq.shape()[1] / heads,
            };
            let seq = dims.seq;
            // dz = softmax's backward, row by row; d adder[b] sums dz over heads and rows;
            // d scores = dz * scale.
            let mut ds = scratch(pool, out.shape());
            let mut dadd = zeros(pool, val(*adder).shape());
            let sc = T::from_f64(*scale);
            let mut dq = scratch(pool, vq.shape());
            let mut dk = scratch(pool, vk.shape());
            if dims.batches() > 0 {
                // One batch a piece: its rows of the softmax's backward and its sum into
                // d adder (rows added in order), then its rows of dq and dk.
                let (y, gy) = (flat(out), flat(g));
                let per_batch = dims.heads * seq * seq;
                let work = 8 * y.len();
                crate::threads::for_each_block2(
                    (flat_mut(&mut ds), per_batch),
                    (flat_mut(&mut dadd), seq),
                    work,
                    |first, dsb, addb| {
                        let span = first * per_batch..first * per_batch + dsb.len();
                        let rows = y[span.clone()]
                            .chunks_exact(seq)
                            .zip(gy[span].chunks_exact(seq));
                        let rows = rows.zip(dsb.chunks_exact_mut(seq));
                        wide(
                            #[inline(always)]
                            || {
                                for (r, ((yr, gr), o)) in rows.enumerate() {
                                    let acc_b = &mut addb[(r / (dims.heads * seq)) * seq..][..seq];
                                    let dot = simd::dot(yr, gr);
                                    let cols = o.iter_mut().zip(acc_b.iter_mut()).zip(yr).zip(gr);
                                    for (((o, a), &y), &gk) in cols {
                                        let dz = y * (gk - dot);
                                        *a = *a + dz;
                                        *o = dz * sc;
                                    }
                                }
                            },
                        );
                    },
                );
                // d q = d scores · k; d k = d scoresᵀ · q.
                let (sq, sk, sds) = (flat(vq), flat(vk), flat(&ds));
                let one = dims.one_batch();
                let rows = seq * dims.hidden();
                crate::threads::for_each_block2(
                    (flat_mut(&mut dq), rows),
                    (flat_mut(&mut dk), rows),
                    4 * sds.len() * dims.d,
                    |first, dqb, dkb| {
                        let pieces = dqb.chunks_exact_mut(rows).zip(dkb.chunks_exact_mut(rows));
                        for (j, (dqb, dkb)) in pieces.enumerate() {
                            let b = first + j;
                            for h in 0..dims.heads {
                                let dsh = dims.block(sds, b, h);
                                let mut dqh = one.head_mut(dqb, 0, h);
                                mat_mul(T::ONE, &dsh, &dims.head(sk, b, h), T::ZERO, &mut dqh);
                                let mut dkh = one.head_mut(dkb, 0, h);
                                mat_mul(T::ONE, &dsh.t(), &dims.head(sq, b, h), T::ZERO, &mut dkh);
                            }
                        }
                    },
                );
            }
            accumulate(pool, &mut lower[q.0], dq);
            accumulate(pool, &mut lower[k.0], dk);
            accumulate(pool, &mut lower[adder.0], dadd);
            pool.put(ds);
        }
    }
}

#[cfg(test)]
#[path = "attention_tests.rs"]
mod tests;
