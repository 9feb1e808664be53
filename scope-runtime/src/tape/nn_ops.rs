//! Ops for transformer models, as BERT's `modeling.py` uses them: gather (embedding lookup)
//! with a scatter-add gradient, one-hot, layer norm, softmax and log-softmax (plain, and fused
//! with the attention scale and mask), BERT's tanh-form gelu (plain, and fused with a bias),
//! axis permutation, batched matmul with transposes, `exp`, `log`, `rsqrt`, scaling by a
//! constant, a weighted mean, and the cross-entropy of log-probabilities.
//!
//! Every op checks the rank and shape of each input (and the range of index inputs) and returns
//! a [`TrainError`] instead of panicking. Rows (the last axis) are processed as contiguous
//! slices; the matmuls go through [`crate::kernels::mat_mul`].

use std::collections::HashMap;

use ndarray::{ArrayD, ArrayView3, ArrayViewMut3, IxDyn, Zip};

use super::grad::accumulate;
use super::pool::Pool;
use super::scalar::Real;
use super::simd::{exp_row, flush, softmax_in_place, wide};
use super::{Node, NodeId, Op, Tape};
use crate::kernels::mat_mul;
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the ops of this module (one variant of [`Op`]).
#[derive(Clone, Debug)]
pub(crate) enum NnOp {
    Gather {
        table: NodeId,
        /// The table's shape (its leaf may hold no value: see `Tape::gather_variable`).
        table_shape: Vec<usize>,
        ids: Vec<usize>,
    },
    LayerNorm {
        x: NodeId,
        gamma: NodeId,
        beta: NodeId,
        epsilon: f64,
    },
    Softmax(NodeId),
    LogSoftmax(NodeId),
    MaskedSoftmax {
        scores: NodeId,
        adder: NodeId,
        scale: f64,
    },
    Gelu(NodeId),
    BiasGelu {
        x: NodeId,
        bias: NodeId,
    },
    Permute {
        input: NodeId,
        perm: Vec<usize>,
    },
    BatchMatMul {
        a: NodeId,
        b: NodeId,
        transpose_a: bool,
        transpose_b: bool,
    },
    Linear {
        x: NodeId,
        kernel: NodeId,
        bias: NodeId,
    },
    Exp(NodeId),
    Log(NodeId),
    Rsqrt(NodeId),
    Scale {
        input: NodeId,
        factor: f64,
    },
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

impl NnOp {
    /// Calls `f` on every input node.
    pub(crate) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            NnOp::Gather { table, .. } => f(*table),
            NnOp::LayerNorm { x, gamma, beta, .. } => {
                f(*x);
                f(*gamma);
                f(*beta);
            }
            NnOp::Softmax(a)
            | NnOp::LogSoftmax(a)
            | NnOp::Gelu(a)
            | NnOp::Exp(a)
            | NnOp::Log(a)
            | NnOp::Rsqrt(a) => f(*a),
            NnOp::MaskedSoftmax { scores, adder, .. } => {
                f(*scores);
                f(*adder);
            }
            NnOp::BiasGelu { x, bias } => {
                f(*x);
                f(*bias);
            }
            NnOp::Permute { input, .. } | NnOp::Scale { input, .. } => f(*input),
            NnOp::BatchMatMul { a, b, .. } => {
                f(*a);
                f(*b);
            }
            NnOp::WeightedMean { x, weights, .. } => {
                f(*x);
                f(*weights);
            }
            NnOp::Linear { x, kernel, bias } => {
                f(*x);
                f(*kernel);
                f(*bias);
            }
            NnOp::Nll { log_probs, .. } => f(*log_probs),
            NnOp::SoftmaxCrossEntropy { logits, .. } => f(*logits),
        }
    }
}

pub(super) fn shape_error(op: &'static str, detail: String) -> TrainError {
    TrainError::Shape { op, detail }
}

/// The elements of a tape value, row-major. Every value the tape makes is in standard layout.
pub(super) fn flat<T: Real>(a: &ArrayD<T>) -> &[T] {
    a.as_slice()
        .expect("tape values are owned arrays in standard layout")
}

pub(super) fn flat_mut<T: Real>(a: &mut ArrayD<T>) -> &mut [T] {
    a.as_slice_mut()
        .expect("tape values are owned arrays in standard layout")
}

/// `(rows, last)` of a value of rank >= 1 that rows-wise ops work on.
fn rows_of<T: Real>(
    op: &'static str,
    what: &str,
    a: &ArrayD<T>,
) -> Result<(usize, usize), TrainError> {
    let Some(&last) = a.shape().last() else {
        return Err(shape_error(
            op,
            format!("{what} must have rank 1 or more, got a scalar"),
        ));
    };
    if last == 0 {
        return Err(shape_error(
            op,
            format!(
                "{what} has an empty last axis (shape {}); there is nothing to normalize over",
                format_shape(a.shape())
            ),
        ));
    }
    Ok((a.len() / last, last))
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

/// A value of rank >= 2 seen as `[batch, rows, cols]`.
fn as_batches<T: Real>(a: &ArrayD<T>) -> ArrayView3<'_, T> {
    let n = a.ndim();
    let (r, c) = (a.shape()[n - 2], a.shape()[n - 1]);
    let b = a.shape()[..n - 2].iter().product();
    a.view()
        .into_shape_with_order((b, r, c))
        .expect("standard layout")
}

fn as_batches_mut<T: Real>(a: &mut ArrayD<T>) -> ArrayViewMut3<'_, T> {
    let n = a.ndim();
    let (r, c) = (a.shape()[n - 2], a.shape()[n - 1]);
    let b = a.shape()[..n - 2].iter().product();
    a.view_mut()
        .into_shape_with_order((b, r, c))
        .expect("standard layout")
}

/// `out = alpha * op(x) · op(y) + beta * out`, batch by batch, where `op` transposes the last
/// two axes when asked.
fn bmm<T: Real>(x: &ArrayD<T>, tx: bool, y: &ArrayD<T>, ty: bool, beta: T, out: &mut ArrayD<T>) {
    let (x3, y3) = (as_batches(x), as_batches(y));
    let mut o3 = as_batches_mut(out);
    for ((xi, yi), mut oi) in x3
        .outer_iter()
        .zip(y3.outer_iter())
        .zip(o3.outer_iter_mut())
    {
        let xi = if tx { xi.reversed_axes() } else { xi };
        let yi = if ty { yi.reversed_axes() } else { yi };
        mat_mul(T::ONE, &xi, &yi, beta, &mut oi);
    }
}

fn gelu_consts<T: Real>() -> (T, T, T) {
    // BERT: `0.5 * (1.0 + tf.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3))))`.
    (
        T::from_f64((2.0 / std::f64::consts::PI).sqrt()),
        T::from_f64(0.044715),
        T::from_f64(0.5),
    )
}

#[inline(always)]
fn gelu<T: Real>(x: T, (c, k, half): (T, T, T)) -> T {
    let cdf = half * (T::ONE + (c * (x + k * (x * x * x))).tanh());
    x * cdf
}

#[inline(always)]
fn gelu_grad<T: Real>(x: T, (c, k, half): (T, T, T)) -> T {
    let x2 = x * x;
    let t = (c * (x + k * x2 * x)).tanh();
    let three = T::from_f64(3.0);
    half * (T::ONE + t) + x * half * (T::ONE - t * t) * c * (T::ONE + three * k * x2)
}

/// `a` with its axes reordered by `perm`, in standard layout. When the last axis stays last
/// (attention's head split and merge), rows are copied whole.
fn permuted<T: Real>(a: &ArrayD<T>, perm: &[usize]) -> ArrayD<T> {
    let n = a.ndim();
    if n == 0 || perm[n - 1] != n - 1 {
        return a
            .view()
            .permuted_axes(IxDyn(perm))
            .as_standard_layout()
            .into_owned();
    }
    let src = flat(a);
    let row = a.shape()[n - 1];
    let out_shape: Vec<usize> = perm.iter().map(|&p| a.shape()[p]).collect();
    // Source strides (in elements) of the output's axes.
    let mut strides = vec![0; n];
    let mut s = 1;
    for k in (0..n).rev() {
        strides[k] = s;
        s *= a.shape()[k];
    }
    let out_strides: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    let mut data = Vec::with_capacity(a.len());
    let mut index = vec![0usize; n - 1];
    let rows = a.len() / row.max(1);
    for _ in 0..rows {
        let offset: usize = index.iter().zip(&out_strides).map(|(i, s)| i * s).sum();
        data.extend_from_slice(&src[offset..offset + row]);
        for k in (0..n - 1).rev() {
            index[k] += 1;
            if index[k] < out_shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    ArrayD::from_shape_vec(IxDyn(&out_shape), data).expect("same element count")
}

/// Rows `ids` of a row-major table of `shape`, converted by `convert`.
fn gather_rows<S: Copy, T: Real>(
    pool: &Pool<T>,
    input: &str,
    shape: &[usize],
    src: &[S],
    ids: &[usize],
    convert: impl Fn(S) -> T,
) -> Result<ArrayD<T>, TrainError> {
    let Some(&rows) = shape.first() else {
        return Err(shape_error(
            "gather",
            "the table must have rank 1 or more, got a scalar".into(),
        ));
    };
    if let Some((index, &id)) = ids.iter().enumerate().find(|(_, &i)| i >= rows) {
        return Err(TrainError::OutOfRange {
            input: input.to_owned(),
            index,
            value: id as i64,
            limit: rows,
        });
    }
    let width: usize = shape[1..].iter().product();
    let mut out_shape = shape.to_vec();
    out_shape[0] = ids.len();
    pool.build("gather", &out_shape, |data| {
        for &id in ids {
            data.extend(
                src[id * width..(id + 1) * width]
                    .iter()
                    .map(|&x| convert(x)),
            );
        }
    })
}

impl<T: Real> Tape<T> {
    fn push_nn(&mut self, value: ArrayD<T>, op: NnOp) -> NodeId {
        self.push(value, Op::Nn(op))
    }

    /// Rows `ids` of `table` (TF's `tf.gather(table, ids)` on axis 0): `table` is
    /// `[rows, ...]`, the result `[ids.len(), ...]`. The gradient scatters back (summing
    /// repeated ids); see [`super::Gradients::tf_global_norm`] for the norm TF computes over
    /// it.
    ///
    /// Fails with [`TrainError::OutOfRange`] if an id is not a row of `table`.
    pub fn gather(&mut self, table: NodeId, ids: &[usize]) -> Result<NodeId, TrainError> {
        let t = self.value(table)?;
        let shape = t.shape().to_vec();
        let out = gather_rows(&self.pool, "gather ids", &shape, flat(t), ids, |x| x)?;
        Ok(self.push_nn(
            out,
            NnOp::Gather {
                table,
                table_shape: shape,
                ids: ids.to_vec(),
            },
        ))
    }

    /// [`Tape::gather`] straight from a registry variable (TF's `tf.gather(var, ids)`, BERT's
    /// embedding lookup): copies only the rows gathered, not the whole table, so a large
    /// vocabulary costs nothing per step but its gradient.
    ///
    /// The variable's leaf ([`Tape::variable`]) is shared with every other use; if the table
    /// was not on the tape yet, the leaf holds no value (an empty array) until
    /// [`Tape::variable`] is called for it, which copies the value in.
    ///
    /// Fails with [`TrainError::UnsupportedDtype`] unless the variable is `float32`, and
    /// with [`TrainError::OutOfRange`] if an id is not a row of it.
    pub fn gather_variable(
        &mut self,
        var: &crate::variable::Variable,
        ids: &[usize],
    ) -> Result<NodeId, TrainError> {
        if let Some(&leaf) = self.var_nodes.get(&var.id()) {
            if self.value(leaf)?.shape() == var.shape() {
                return self.gather(leaf, ids);
            }
        }
        let shape = var.shape().to_vec();
        let out = {
            let guard = var.read();
            let src = guard.as_f32().ok_or_else(|| TrainError::unsupported(var))?;
            gather_rows(
                &self.pool,
                &format!("ids into {}", var.name()),
                &shape,
                src,
                ids,
                T::from_f32,
            )?
        };
        let leaf = match self.var_nodes.get(&var.id()) {
            Some(&leaf) => leaf,
            None => {
                let leaf = self.push(ArrayD::zeros(IxDyn(&[0])), Op::Leaf);
                self.var_nodes.insert(var.id(), leaf);
                self.vars.push((var.clone(), leaf));
                leaf
            }
        };
        Ok(self.push_nn(
            out,
            NnOp::Gather {
                table: leaf,
                table_shape: shape,
                ids: ids.to_vec(),
            },
        ))
    }

    /// A constant `[ids.len(), depth]` of one-hot rows (TF's `tf.one_hot(ids, depth)`).
    ///
    /// Fails with [`TrainError::OutOfRange`] for an id `>= depth` (where TF would silently
    /// give a zero row).
    pub fn one_hot(&mut self, ids: &[usize], depth: usize) -> Result<NodeId, TrainError> {
        if let Some((index, &id)) = ids.iter().enumerate().find(|(_, &i)| i >= depth) {
            return Err(TrainError::OutOfRange {
                input: "one_hot ids".into(),
                index,
                value: id as i64,
                limit: depth,
            });
        }
        let mut out = ArrayD::zeros(IxDyn(&[ids.len(), depth]));
        for (row, &id) in out.outer_iter_mut().zip(ids) {
            let mut row = row;
            row[[id]] = T::ONE;
        }
        Ok(self.constant(out))
    }

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
        wide(
            #[inline(always)]
            || {
                for (row, o) in flat(vx)
                    .chunks_exact(d)
                    .zip(flat_mut(&mut out).chunks_exact_mut(d))
                {
                    let (mean, rstd) = moments(row, inv_d, eps);
                    // Zipped, not indexed: bounds checks kept this loop scalar.
                    for (((o, &x), &gk), &bk) in o.iter_mut().zip(row).zip(g).zip(b) {
                        let inv = rstd * gk;
                        *o = x * inv + (bk - mean * inv);
                    }
                }
            },
        );
        debug_assert_eq!(rows * d, vx.len());
        Ok(self.push_nn(
            out,
            NnOp::LayerNorm {
                x,
                gamma,
                beta,
                epsilon,
            },
        ))
    }

    /// Softmax over the last axis (TF's `tf.nn.softmax`).
    pub fn softmax(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let vx = self.value(x)?;
        let (_, d) = rows_of("softmax", "x", vx)?;
        let mut out = self.pool.scratch("softmax", vx.shape())?;
        wide(
            #[inline(always)]
            || {
                for (row, o) in flat(vx)
                    .chunks_exact(d)
                    .zip(flat_mut(&mut out).chunks_exact_mut(d))
                {
                    o.copy_from_slice(row);
                    softmax_in_place(o);
                }
            },
        );
        Ok(self.push_nn(out, NnOp::Softmax(x)))
    }

    /// Log-softmax over the last axis (TF's `tf.nn.log_softmax`):
    /// `x - max - log(sum(exp(x - max)))`.
    pub fn log_softmax(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let vx = self.value(x)?;
        let (_, d) = rows_of("log_softmax", "x", vx)?;
        let mut out = ArrayD::zeros(vx.raw_dim());
        for (row, o) in flat(vx)
            .chunks_exact(d)
            .zip(flat_mut(&mut out).chunks_exact_mut(d))
        {
            let max = row
                .iter()
                .copied()
                .fold(row[0], |m, v| if v > m { v } else { m });
            let sum = row.iter().fold(T::ZERO, |s, &v| s + (v - max).exp());
            let log_sum = sum.ln();
            for (o, &v) in o.iter_mut().zip(row) {
                *o = (v - max) - log_sum;
            }
        }
        Ok(self.push_nn(out, NnOp::LogSoftmax(x)))
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
        wide(
            #[inline(always)]
            || {
                for b in 0..batch {
                    let add_b = &add[b * to..(b + 1) * to];
                    let span = b * per_batch..(b + 1) * per_batch;
                    for (row, o) in src[span.clone()]
                        .chunks_exact(to)
                        .zip(dst[span].chunks_exact_mut(to))
                    {
                        for ((z, &s), &a) in o.iter_mut().zip(row).zip(add_b) {
                            *z = s * sc + a;
                        }
                        softmax_in_place(o);
                    }
                }
            },
        );
        Ok(self.push_nn(
            out,
            NnOp::MaskedSoftmax {
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

    /// BERT's gelu, the tanh form: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    pub fn gelu(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let k = gelu_consts::<T>();
        let out = self.value(x)?.mapv(|v| gelu(v, k));
        Ok(self.push_nn(out, NnOp::Gelu(x)))
    }

    /// `gelu(x + bias)` fused, for `x` `[.., d]` and `bias` `[d]` (a dense layer's bias and
    /// BERT's intermediate activation).
    pub fn bias_gelu(&mut self, x: NodeId, bias: NodeId) -> Result<NodeId, TrainError> {
        let (vx, vb) = (self.value(x)?, self.value(bias)?);
        let (_, d) = rows_of("bias_gelu", "x", vx)?;
        if vb.shape() != [d] {
            return Err(shape_error(
                "bias_gelu",
                format!(
                    "the bias must be [{d}] for x of shape {}, got {}",
                    format_shape(vx.shape()),
                    format_shape(vb.shape())
                ),
            ));
        }
        let k = gelu_consts::<T>();
        let mut out = self.pool.scratch("bias_gelu", vx.shape())?;
        let b = flat(vb);
        wide(
            #[inline(always)]
            || {
                let rows = flat(vx)
                    .chunks_exact(d)
                    .zip(flat_mut(&mut out).chunks_exact_mut(d));
                for (row, o) in rows {
                    for ((o, &v), &bk) in o.iter_mut().zip(row).zip(b) {
                        *o = gelu(v + bk, k);
                    }
                }
            },
        );
        Ok(self.push_nn(out, NnOp::BiasGelu { x, bias }))
    }

    /// The axes of `input` reordered: axis `k` of the result is axis `perm[k]` of the input
    /// (TF's `tf.transpose(x, perm)`).
    pub fn permute(&mut self, input: NodeId, perm: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        let mut seen = vec![false; v.ndim()];
        let valid = perm.len() == v.ndim()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(shape_error(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the {} axes of shape {}",
                    v.ndim(),
                    format_shape(v.shape())
                ),
            ));
        }
        let out = permuted(v, perm);
        Ok(self.push_nn(
            out,
            NnOp::Permute {
                input,
                perm: perm.to_vec(),
            },
        ))
    }

    /// Batched matrix product over the last two axes (TF's
    /// `tf.matmul(a, b, transpose_a, transpose_b)`): `a` is `[.., m, k]` (`[.., k, m]` when
    /// transposed), `b` is `[.., k, n]` (`[.., n, k]`), the leading axes equal; the result is
    /// `[.., m, n]`. Rank 2 is a plain matrix product.
    pub fn batch_matmul(
        &mut self,
        a: NodeId,
        b: NodeId,
        transpose_a: bool,
        transpose_b: bool,
    ) -> Result<NodeId, TrainError> {
        let (va, vb) = (self.value(a)?, self.value(b)?);
        let n = va.ndim();
        let bad = || {
            shape_error(
                "batch_matmul",
                format!(
                    "needs a [.., m, k] and b [.., k, n] of the same rank >= 2 with equal leading \
                     axes (transpose_a {transpose_a}, transpose_b {transpose_b}); got a {} and b \
                     {}",
                    format_shape(va.shape()),
                    format_shape(vb.shape())
                ),
            )
        };
        if n < 2 || vb.ndim() != n || va.shape()[..n - 2] != vb.shape()[..n - 2] {
            return Err(bad());
        }
        let (ra, ca) = (va.shape()[n - 2], va.shape()[n - 1]);
        let (rb, cb) = (vb.shape()[n - 2], vb.shape()[n - 1]);
        let (m, ka) = if transpose_a { (ca, ra) } else { (ra, ca) };
        let (kb, nn) = if transpose_b { (cb, rb) } else { (rb, cb) };
        if ka != kb {
            return Err(bad());
        }
        let mut shape = va.shape().to_vec();
        shape[n - 2] = m;
        shape[n - 1] = nn;
        let mut out = self.pool.scratch("batch_matmul", &shape)?;
        bmm(va, transpose_a, vb, transpose_b, T::ZERO, &mut out);
        Ok(self.push_nn(
            out,
            NnOp::BatchMatMul {
                a,
                b,
                transpose_a,
                transpose_b,
            },
        ))
    }

    /// `x · kernel + bias`, fused (a dense layer without activation): `x` is `[n, in]`,
    /// `kernel` `[in, out]`, `bias` `[out]`; the result `[n, out]`.
    pub fn linear(
        &mut self,
        x: NodeId,
        kernel: NodeId,
        bias: NodeId,
    ) -> Result<NodeId, TrainError> {
        let (vx, vk, vb) = (self.value(x)?, self.value(kernel)?, self.value(bias)?);
        let fits = vx.ndim() == 2
            && vk.ndim() == 2
            && vx.shape()[1] == vk.shape()[0]
            && vb.shape() == [vk.shape()[1]];
        if !fits {
            return Err(shape_error(
                "linear",
                format!(
                    "needs x [n, in], kernel [in, out] and bias [out]; got x {}, kernel {}, bias \
                     {}",
                    format_shape(vx.shape()),
                    format_shape(vk.shape()),
                    format_shape(vb.shape())
                ),
            ));
        }
        let (n, out_width) = (vx.shape()[0], vk.shape()[1]);
        let b = flat(vb);
        let mut out = self.pool.build("linear", &[n, out_width], |data| {
            for _ in 0..n {
                data.extend_from_slice(b);
            }
        })?;
        bmm(vx, false, vk, false, T::ONE, &mut out);
        Ok(self.push_nn(out, NnOp::Linear { x, kernel, bias }))
    }

    /// `e^x`, elementwise.
    pub fn exp(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let out = self.value(x)?.mapv(Real::exp);
        Ok(self.push_nn(out, NnOp::Exp(x)))
    }

    /// The natural logarithm, elementwise (NaN below 0, `-inf` at 0, as in TF).
    pub fn log(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let out = self.value(x)?.mapv(Real::ln);
        Ok(self.push_nn(out, NnOp::Log(x)))
    }

    /// `1 / sqrt(x)`, elementwise (TF's `tf.math.rsqrt`).
    pub fn rsqrt(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let out = self.value(x)?.mapv(|v| T::ONE / v.sqrt());
        Ok(self.push_nn(out, NnOp::Rsqrt(x)))
    }

    /// `x * factor` for a constant `factor` (rounded to `T`).
    pub fn scale(&mut self, input: NodeId, factor: f64) -> Result<NodeId, TrainError> {
        let f = T::from_f64(factor);
        let out = self.value(input)?.mapv(|v| v * f);
        Ok(self.push_nn(out, NnOp::Scale { input, factor }))
    }

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
        Ok(self.push_nn(
            out,
            NnOp::WeightedMean {
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
        Ok(self.push_nn(
            out,
            NnOp::Nll {
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
        let mut data = Vec::with_capacity(labels.len());
        let mut scratch = vec![T::ZERO; c];
        for (row, &l) in flat(v).chunks_exact(c).zip(labels) {
            let max = row
                .iter()
                .copied()
                .fold(row[0], |m, x| if x > m { x } else { m });
            let sum = exp_row(row, &mut scratch);
            data.push(sum.ln() - (row[l] - max));
        }
        let out = ArrayD::from_shape_vec(IxDyn(&[labels.len()]), data)
            .map_err(|e| shape_error("softmax_cross_entropy", e.to_string()))?;
        Ok(self.push_nn(
            out,
            NnOp::SoftmaxCrossEntropy {
                logits,
                labels: labels.to_vec(),
            },
        ))
    }
}

/// Mean and `rsqrt(var + eps)` of a row (biased variance, from the centred values).
#[inline(always)]
fn moments<T: Real>(row: &[T], inv_d: T, eps: T) -> (T, T) {
    let mean = super::simd::sum(row) * inv_d;
    let var = super::simd::centered_sq_sum(row, mean) * inv_d;
    (mean, T::ONE / (var + eps).sqrt())
}

/// The backward half of [`NnOp`]: sends `g`, the gradient of node `i`, to its inputs.
/// Inlined into its caller's [`wide`] dispatch, so its loops are compiled for each vector
/// width.
#[inline(always)]
pub(crate) fn propagate<T: Real>(
    nodes: &[Node<T>],
    op: &NnOp,
    out: &ArrayD<T>,
    g: &ArrayD<T>,
    lower: &mut [Option<ArrayD<T>>],
    pool: &Pool<T>,
) {
    let val = |id: NodeId| &nodes[id.0].value;
    let (zeros, scratch) = (
        |shape: &[usize]| super::grad::zeros(pool, shape),
        |shape: &[usize]| super::grad::scratch(pool, shape),
    );
    match op {
        NnOp::Gather {
            table,
            table_shape,
            ids,
        } => {
            let width: usize = table_shape[1..].iter().product();
            let slot = &mut lower[table.0];
            if slot.is_none() {
                *slot = Some(ArrayD::zeros(IxDyn(table_shape)));
            }
            let dst = flat_mut(slot.as_mut().expect("just filled"));
            for (&id, gr) in ids.iter().zip(flat(g).chunks_exact(width.max(1))) {
                for (d, &v) in dst[id * width..(id + 1) * width].iter_mut().zip(gr) {
                    *d = *d + v;
                }
            }
        }
        NnOp::LayerNorm {
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
            let mut xhat = vec![T::ZERO; d];
            for ((row, gr), dxr) in flat(vx)
                .chunks_exact(d)
                .zip(flat(g).chunks_exact(d))
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
                let (mut s1, mut s2) = (T::ZERO, T::ZERO);
                for ((&gk, &gmk), &xh) in gr.iter().zip(gm).zip(&xhat) {
                    let dxh = gk * gmk;
                    s1 = s1 + dxh;
                    s2 = s2 + dxh * xh;
                }
                let (m1, m2) = (s1 * inv_d, s2 * inv_d);
                for (((o, &gk), &gmk), &xh) in dxr.iter_mut().zip(gr).zip(gm).zip(&xhat) {
                    *o = rstd * (gk * gmk - m1 - xh * m2);
                }
            }
            accumulate(pool, &mut lower[x.0], dx);
            let vec1 = |v: Vec<T>| ArrayD::from_shape_vec(IxDyn(&[d]), v).expect("[d]");
            accumulate(pool, &mut lower[gamma.0], vec1(dgamma));
            accumulate(pool, &mut lower[beta.0], vec1(dbeta));
        }
        NnOp::Softmax(x) => {
            let d = *out.shape().last().expect("checked in forward");
            let mut dx = scratch(out.shape());
            softmax_backward(flat(out), flat(g), flat_mut(&mut dx), d, T::ONE);
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::LogSoftmax(x) => {
            let d = *out.shape().last().expect("checked in forward");
            let mut dx = scratch(out.shape());
            for ((y, gr), o) in flat(out)
                .chunks_exact(d)
                .zip(flat(g).chunks_exact(d))
                .zip(flat_mut(&mut dx).chunks_exact_mut(d))
            {
                let sum = gr.iter().fold(T::ZERO, |s, &v| s + v);
                for k in 0..d {
                    o[k] = gr[k] - flush(y[k].exp()) * sum;
                }
            }
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::MaskedSoftmax {
            scores,
            adder,
            scale,
        } => {
            let to = *out.shape().last().expect("checked in forward");
            let batch = out.shape()[0];
            let mut dz = scratch(out.shape());
            softmax_backward(flat(out), flat(g), flat_mut(&mut dz), to, T::ONE);
            // d adder[b, t] = sum over the middle axes of dz.
            let per_batch = dz.len() / batch.max(1);
            let mut dadd = zeros(&[batch, to]);
            {
                let (src, dst) = (flat(&dz), flat_mut(&mut dadd));
                for b in 0..batch {
                    let acc = &mut dst[b * to..(b + 1) * to];
                    for row in src[b * per_batch..(b + 1) * per_batch].chunks_exact(to) {
                        for (a, &v) in acc.iter_mut().zip(row) {
                            *a = *a + v;
                        }
                    }
                }
            }
            let sc = T::from_f64(*scale);
            flat_mut(&mut dz).iter_mut().for_each(|v| *v = *v * sc);
            accumulate(pool, &mut lower[scores.0], dz);
            accumulate(pool, &mut lower[adder.0], dadd);
        }
        NnOp::Gelu(x) => {
            let k = gelu_consts::<T>();
            let dx = Zip::from(g)
                .and(val(*x))
                .map_collect(|&g, &v| g * gelu_grad(v, k));
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::BiasGelu { x, bias } => {
            let vx = val(*x);
            let b = flat(val(*bias));
            let d = b.len();
            let k = gelu_consts::<T>();
            let mut dx = scratch(vx.shape());
            let mut db = vec![T::ZERO; d];
            for ((row, gr), o) in flat(vx)
                .chunks_exact(d)
                .zip(flat(g).chunks_exact(d))
                .zip(flat_mut(&mut dx).chunks_exact_mut(d))
            {
                for ((((o, &x), &bj), &gj), dbj) in
                    o.iter_mut().zip(row).zip(b).zip(gr).zip(&mut db)
                {
                    let v = gj * gelu_grad(x + bj, k);
                    *o = v;
                    *dbj = *dbj + v;
                }
            }
            accumulate(pool, &mut lower[x.0], dx);
            accumulate(
                pool,
                &mut lower[bias.0],
                ArrayD::from_shape_vec(IxDyn(&[d]), db).expect("[d]"),
            );
        }
        NnOp::Permute { input, perm } => {
            let mut inverse = vec![0; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inverse[p] = k;
            }
            accumulate(pool, &mut lower[input.0], permuted(g, &inverse));
        }
        NnOp::BatchMatMul {
            a,
            b,
            transpose_a,
            transpose_b,
        } => {
            let (va, vb) = (val(*a), val(*b));
            let (ta, tb) = (*transpose_a, *transpose_b);
            // C = op(A) op(B).
            // dA = g op(B)^T, or op(B) g^T when A is transposed.
            let mut da = zeros(va.shape());
            if ta {
                bmm(vb, tb, g, true, T::ZERO, &mut da);
            } else {
                bmm(g, false, vb, !tb, T::ZERO, &mut da);
            }
            // dB = op(A)^T g, or g^T op(A) when B is transposed.
            let mut db = zeros(vb.shape());
            if tb {
                bmm(g, true, va, ta, T::ZERO, &mut db);
            } else {
                bmm(va, !ta, g, false, T::ZERO, &mut db);
            }
            accumulate(pool, &mut lower[a.0], da);
            accumulate(pool, &mut lower[b.0], db);
        }
        NnOp::Linear { x, kernel, bias } => {
            let (vx, vk) = (val(*x), val(*kernel));
            let mut dx = zeros(vx.shape());
            bmm(g, false, vk, true, T::ZERO, &mut dx);
            let mut dk = zeros(vk.shape());
            bmm(vx, true, g, false, T::ZERO, &mut dk);
            let width = vk.shape()[1];
            let mut db = vec![T::ZERO; width];
            for row in flat(g).chunks_exact(width.max(1)) {
                for (d, &v) in db.iter_mut().zip(row) {
                    *d = *d + v;
                }
            }
            accumulate(pool, &mut lower[x.0], dx);
            accumulate(pool, &mut lower[kernel.0], dk);
            accumulate(
                pool,
                &mut lower[bias.0],
                ArrayD::from_shape_vec(IxDyn(&[width]), db).expect("[out]"),
            );
        }
        NnOp::Exp(x) => {
            let dx = Zip::from(g).and(out).map_collect(|&g, &y| g * y);
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::Log(x) => {
            let dx = Zip::from(g).and(val(*x)).map_collect(|&g, &v| g / v);
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::Rsqrt(x) => {
            // d/dx x^-1/2 = -1/2 y^3.
            let half = T::from_f64(0.5);
            let dx = Zip::from(g)
                .and(out)
                .map_collect(|&g, &y| -(half * g * y * y * y));
            accumulate(pool, &mut lower[x.0], dx);
        }
        NnOp::Scale { input, factor } => {
            let f = T::from_f64(*factor);
            accumulate(pool, &mut lower[input.0], g.mapv(|v| v * f));
        }
        NnOp::WeightedMean {
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
        NnOp::Nll { log_probs, labels } => {
            let v = val(*log_probs);
            let c = v.shape()[1];
            let mut dx = zeros(v.shape());
            let dst = flat_mut(&mut dx);
            for ((i, &l), &gi) in labels.iter().enumerate().zip(flat(g)) {
                dst[i * c + l] = -gi;
            }
            accumulate(pool, &mut lower[log_probs.0], dx);
        }
        NnOp::SoftmaxCrossEntropy { logits, labels } => {
            let v = val(*logits);
            let c = v.shape()[1];
            let mut dx = scratch(v.shape());
            for (((row, o), &l), &gi) in flat(v)
                .chunks_exact(c)
                .zip(flat_mut(&mut dx).chunks_exact_mut(c))
                .zip(labels)
                .zip(flat(g))
            {
                let inv = T::ONE / exp_row(row, o);
                o.iter_mut().for_each(|p| *p = flush(*p * inv) * gi);
                o[l] = o[l] - gi;
            }
            accumulate(pool, &mut lower[logits.0], dx);
        }
    }
}

/// `dx = alpha * y * (g - sum(g * y))` row by row, for softmax output `y`.
#[inline(always)]
fn softmax_backward<T: Real>(y: &[T], g: &[T], dx: &mut [T], d: usize, alpha: T) {
    for ((yr, gr), o) in y
        .chunks_exact(d)
        .zip(g.chunks_exact(d))
        .zip(dx.chunks_exact_mut(d))
    {
        let dot = super::simd::dot(yr, gr);
        for ((o, &y), &gk) in o.iter_mut().zip(yr).zip(gr) {
            *o = alpha * y * (gk - dot);
        }
    }
}

/// For every variable leaf whose only consumers are gathers (TF holds its gradient as
/// `IndexedSlices`, one row per id), the sum of squares of those unsummed rows: what TF's
/// `global_norm` adds for it. Keyed by variable id.
pub(crate) fn gather_slices_sq<T: Real>(
    nodes: &[Node<T>],
    grads: &[Option<ArrayD<T>>],
    var_leaves: &[(u64, NodeId)],
) -> HashMap<u64, f64> {
    let mut out = HashMap::new();
    if !nodes
        .iter()
        .any(|n| matches!(n.op, Op::Nn(NnOp::Gather { .. })))
    {
        return out;
    }
    // Per leaf: whether some non-gather op reads it, and its gathers' sum of squares.
    let mut dense_use: HashMap<usize, bool> = HashMap::new();
    let mut sq: HashMap<usize, f64> = HashMap::new();
    let leaves: HashMap<usize, u64> = var_leaves.iter().map(|(v, n)| (n.0, *v)).collect();
    for (i, node) in nodes.iter().enumerate() {
        if let Op::Nn(NnOp::Gather { table, .. }) = &node.op {
            if leaves.contains_key(&table.0) {
                let s = grads
                    .get(i)
                    .and_then(Option::as_ref)
                    .map_or(0.0, super::gradients::sum_of_squares);
                *sq.entry(table.0).or_default() += s;
            }
            continue;
        }
        node.op.for_each_input(&mut |id| {
            if leaves.contains_key(&id.0) {
                dense_use.insert(id.0, true);
            }
        });
    }
    for (leaf, s) in sq {
        if !dense_use.get(&leaf).copied().unwrap_or(false) {
            out.insert(leaves[&leaf], s);
        }
    }
    out
}

#[cfg(test)]
#[path = "nn_tests.rs"]
mod tests;
