//! Ops that move or reduce elements without arithmetic of their own: `concat`, `split`,
//! `slice`, `reshape`, `permute`, and the reductions `sum` and `mean`, forward and backward.

use ndarray::{concatenate, ArrayD, Axis, IxDyn, Slice};

use super::buffers::{self, accumulate, bad, check_size, flat, shape_error, Backprop};
use super::scalar::Real;
use super::simd::wide;
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the shape ops.
#[derive(Clone, Debug)]
pub(crate) enum ShapeOp {
    Concat {
        inputs: Vec<NodeId>,
        axis: usize,
    },
    Slice {
        input: NodeId,
        axis: usize,
        start: usize,
    },
    Reshape(NodeId),
    Sum {
        input: NodeId,
        axes: Vec<usize>,
    },
    Mean {
        input: NodeId,
        axes: Vec<usize>,
        count: usize,
    },
    Permute {
        input: NodeId,
        perm: Vec<usize>,
    },
}

impl ShapeOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            ShapeOp::Concat { inputs, .. } => inputs.iter().for_each(|&id| f(id)),
            ShapeOp::Reshape(input)
            | ShapeOp::Slice { input, .. }
            | ShapeOp::Sum { input, .. }
            | ShapeOp::Mean { input, .. }
            | ShapeOp::Permute { input, .. } => f(*input),
        }
    }
}

fn check_axes(op: &'static str, axes: &[usize], rank: usize) -> Result<(), TrainError> {
    // One flag per axis of a tensor that exists: linear even for a very high rank.
    let mut seen = vec![false; rank];
    for &axis in axes {
        if axis >= rank {
            return Err(TrainError::Axis { op, axis, rank });
        }
        if std::mem::replace(&mut seen[axis], true) {
            return Err(TrainError::Shape {
                op,
                detail: format!("axis {axis} is listed twice in {axes:?}"),
            });
        }
    }
    Ok(())
}

/// Sums `v` over `axes` (removed), highest axis first so the others keep their numbers.
pub(crate) fn reduce_sum<T: Real>(v: &ArrayD<T>, axes: &[usize]) -> ArrayD<T> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = v.clone();
    for a in sorted {
        out = out.sum_axis(Axis(a));
    }
    out
}

/// Broadcasts a reduction's gradient `g` back over the reduced `axes` of `shape`, times
/// `scale`.
fn expand<T: Real>(
    g: &ArrayD<T>,
    shape: &[usize],
    axes: &[usize],
    scale: T,
) -> Result<ArrayD<T>, TrainError> {
    let keep: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(k, &d)| if axes.contains(&k) { 1 } else { d })
        .collect();
    let data: Vec<T> = g.iter().map(|&x| x * scale).collect();
    let kept = ArrayD::from_shape_vec(IxDyn(&keep), data).map_err(|_| bad("reduce"))?;
    let b = kept.broadcast(shape).ok_or_else(|| bad("reduce"))?;
    Ok(b.to_owned())
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

impl<T: Real> Tape<T> {
    /// Joins `inputs` along `axis` (TF's `tf.concat`); all other extents must agree.
    pub fn concat(&mut self, inputs: &[NodeId], axis: usize) -> Result<NodeId, TrainError> {
        let Some(&first) = inputs.first() else {
            return Err(TrainError::Shape {
                op: "concat",
                detail: "needs at least one input".into(),
            });
        };
        let rank = self.value(first)?.ndim();
        if axis >= rank {
            return Err(TrainError::Axis {
                op: "concat",
                axis,
                rank,
            });
        }
        let mut views = Vec::with_capacity(inputs.len());
        for &id in inputs {
            views.push(self.value(id)?.view());
        }
        // Every input must have the first one's rank and, off `axis`, its extents (ndarray
        // checks only the extents, and panics on an input of another rank), and the result
        // must be a shape ndarray can hold (it panics on one whose size overflows).
        let first_shape = views[0].shape();
        let fits = |s: &[usize]| {
            s.len() == rank
                && s.iter()
                    .zip(first_shape)
                    .enumerate()
                    .all(|(k, (a, b))| k == axis || a == b)
        };
        let shapes = || {
            views
                .iter()
                .map(|v| format_shape(v.shape()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !views.iter().all(|v| fits(v.shape())) {
            return Err(TrainError::Shape {
                op: "concat",
                detail: format!(
                    "shapes {} must all have rank {rank} and agree outside axis {axis}",
                    shapes()
                ),
            });
        }
        let mut out_shape = first_shape.to_vec();
        out_shape[axis] = 0;
        for v in &views {
            out_shape[axis] = out_shape[axis].saturating_add(v.shape()[axis]);
        }
        check_size("concat", &out_shape)?;
        let out = concatenate(Axis(axis), &views).map_err(|e| TrainError::Shape {
            op: "concat",
            detail: e.to_string(),
        })?;
        Ok(self.push(
            out,
            ShapeOp::Concat {
                inputs: inputs.to_vec(),
                axis,
            },
        ))
    }

    /// Elements `start .. start + len` of `input` along `axis` (TF's `tf.slice` on one axis).
    pub fn slice(
        &mut self,
        input: NodeId,
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        if axis >= v.ndim() {
            return Err(TrainError::Axis {
                op: "slice",
                axis,
                rank: v.ndim(),
            });
        }
        let extent = v.shape()[axis];
        let end = start
            .checked_add(len)
            .filter(|&e| e <= extent)
            .ok_or_else(|| TrainError::Shape {
                op: "slice",
                detail: format!(
                    "elements {start}..{start}+{len} are out of range for axis {axis} of extent \
                 {extent} (shape {})",
                    format_shape(v.shape())
                ),
            })?;
        let out = v.slice_axis(Axis(axis), Slice::from(start..end)).to_owned();
        Ok(self.push(out, ShapeOp::Slice { input, axis, start }))
    }

    /// Cuts `input` along `axis` into pieces of the given sizes (TF's `tf.split` with
    /// `size_splits`); the sizes must add up to the axis' extent.
    pub fn split(
        &mut self,
        input: NodeId,
        axis: usize,
        sizes: &[usize],
    ) -> Result<Vec<NodeId>, TrainError> {
        let v = self.value(input)?;
        if axis >= v.ndim() {
            return Err(TrainError::Axis {
                op: "split",
                axis,
                rank: v.ndim(),
            });
        }
        let extent = v.shape()[axis];
        let total = sizes.iter().try_fold(0usize, |acc, &s| acc.checked_add(s));
        if total != Some(extent) {
            return Err(TrainError::Shape {
                op: "split",
                detail: format!(
                    "sizes {sizes:?} do not add up to the extent {extent} of axis {axis}"
                ),
            });
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(sizes.len());
        for &s in sizes {
            out.push(self.slice(input, axis, start, s)?);
            start += s;
        }
        Ok(out)
    }

    /// The same elements, row-major, in a new shape with the same element count.
    pub fn reshape(&mut self, input: NodeId, shape: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        let n: Option<usize> = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if n != Some(v.len()) {
            return Err(TrainError::Shape {
                op: "reshape",
                detail: format!(
                    "cannot reshape {} ({} elements) to {}",
                    format_shape(v.shape()),
                    v.len(),
                    format_shape(shape)
                ),
            });
        }
        let out = self.pool.copy("reshape", v, shape)?;
        Ok(self.push(out, ShapeOp::Reshape(input)))
    }

    /// Sum over `axes`, which are removed (TF's `tf.reduce_sum(x, axes)`).
    pub fn sum(&mut self, input: NodeId, axes: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        check_axes("sum", axes, v.ndim())?;
        let out = reduce_sum(v, axes);
        Ok(self.push(
            out,
            ShapeOp::Sum {
                input,
                axes: axes.to_vec(),
            },
        ))
    }

    /// Sum of all elements, a scalar.
    pub fn sum_all(&mut self, input: NodeId) -> Result<NodeId, TrainError> {
        let rank = self.value(input)?.ndim();
        let axes: Vec<usize> = (0..rank).collect();
        self.sum(input, &axes)
    }

    /// Mean over `axes`, which are removed (TF's `tf.reduce_mean(x, axes)`).
    pub fn mean(&mut self, input: NodeId, axes: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        check_axes("mean", axes, v.ndim())?;
        let count: usize = axes.iter().map(|&a| v.shape()[a]).product();
        if count == 0 {
            return Err(TrainError::Shape {
                op: "mean",
                detail: format!(
                    "mean over an empty axis of shape {} is undefined",
                    format_shape(v.shape())
                ),
            });
        }
        let scale = T::ONE / T::from_f64(count as f64);
        let out = reduce_sum(v, axes).mapv(|x| x * scale);
        Ok(self.push(
            out,
            ShapeOp::Mean {
                input,
                axes: axes.to_vec(),
                count,
            },
        ))
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
        Ok(self.push(
            out,
            ShapeOp::Permute {
                input,
                perm: perm.to_vec(),
            },
        ))
    }
}

impl ShapeOp {
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
        let zeros = |shape: &[usize]| buffers::zeros(pool, shape);
        match self {
            ShapeOp::Concat { inputs, axis } => {
                let mut start = 0;
                for id in inputs {
                    let len = val(*id).shape()[*axis];
                    let piece = g
                        .slice_axis(Axis(*axis), Slice::from(start..start + len))
                        .to_owned();
                    accumulate(pool, &mut lower[id.0], piece);
                    start += len;
                }
            }
            ShapeOp::Slice { input, axis, start } => {
                let mut d = zeros(val(*input).shape());
                let len = g.shape()[*axis];
                d.slice_axis_mut(Axis(*axis), Slice::from(*start..*start + len))
                    .assign(g);
                accumulate(pool, &mut lower[input.0], d);
            }
            ShapeOp::Reshape(input) => {
                let data: Vec<T> = match g.as_slice() {
                    Some(s) => s.to_vec(),
                    None => g.iter().copied().collect(),
                };
                let d = ArrayD::from_shape_vec(val(*input).raw_dim(), data)
                    .map_err(|_| bad("reshape"))?;
                accumulate(pool, &mut lower[input.0], d);
            }
            ShapeOp::Sum { input, axes } => {
                let d = expand(g, val(*input).shape(), axes, T::ONE)?;
                accumulate(pool, &mut lower[input.0], d);
            }
            ShapeOp::Mean { input, axes, count } => {
                let scale = T::ONE / T::from_f64(*count as f64);
                let d = expand(g, val(*input).shape(), axes, scale)?;
                accumulate(pool, &mut lower[input.0], d);
            }
            ShapeOp::Permute { input, perm } => wide(
                #[inline(always)]
                || {
                    let mut inverse = vec![0; perm.len()];
                    for (k, &p) in perm.iter().enumerate() {
                        inverse[p] = k;
                    }
                    accumulate(pool, &mut lower[input.0], permuted(g, &inverse));
                },
            ),
        }
        Ok(())
    }
}
