//! The forward half of every op: checks the operands, computes the value, records the op.
//!
//! Each op returns the new node, or a [`TrainError`] naming the op and the offending shapes;
//! no op panics on bad input.

use ndarray::{concatenate, ArrayD, ArrayView2, Axis, Ix2, Slice, Zip};

use super::broadcast::broadcast_shape;
use super::scalar::Real;
use super::{NodeId, Op, Tape};
use crate::kernels::mat_mul;
use crate::tensor::format_shape;
use crate::train_error::TrainError;

fn as_matrix<'a, T: Real>(
    op: &'static str,
    what: &str,
    a: &'a ArrayD<T>,
) -> Result<ArrayView2<'a, T>, TrainError> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| TrainError::Shape {
            op,
            detail: format!(
                "{what} must be a matrix (rank 2), got shape {}",
                format_shape(a.shape())
            ),
        })
}

/// [`TrainError::Shape`] unless an array of `shape` can exist: its nonzero extents multiply
/// to at most `isize::MAX` (ndarray panics on a larger one).
fn check_size(op: &'static str, shape: &[usize]) -> Result<(), TrainError> {
    let fits = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .is_some_and(|n| isize::try_from(n).is_ok());
    if fits {
        Ok(())
    } else {
        Err(TrainError::Shape {
            op,
            detail: format!(
                "the result shape {} has more elements than fit in memory",
                format_shape(shape)
            ),
        })
    }
}

/// `f(a, b)` elementwise when both operands are contiguous and one of them is the other
/// repeated (equal shapes, or a bias `[.., d]` over rows): plain slice loops, vectorized.
/// `None` for any other broadcast, which [`Tape::binary`] leaves to `ndarray`.
fn contiguous_binary<T: Real>(
    pool: &super::pool::Pool<T>,
    op: &'static str,
    va: &ArrayD<T>,
    vb: &ArrayD<T>,
    shape: &[usize],
    f: &impl Fn(T, T) -> T,
) -> Result<Option<ArrayD<T>>, TrainError> {
    let (Some(a), Some(b)) = (va.as_slice(), vb.as_slice()) else {
        return Ok(None);
    };
    let n = shape.iter().product::<usize>();
    // The operand as long as the result, and whether the other one is a suffix of it.
    let suffix = |short: &ArrayD<T>| {
        let s = short.shape();
        let skip = s.iter().take_while(|&&d| d == 1).count();
        shape.ends_with(&s[skip..])
    };
    let (long_is_a, short) = if va.len() == n && suffix(vb) {
        (true, b)
    } else if vb.len() == n && suffix(va) {
        (false, a)
    } else {
        return Ok(None);
    };
    let long = if long_is_a { a } else { b };
    if short.is_empty() {
        return Ok(None);
    }
    let mut out = pool.scratch(op, shape)?;
    let dst = out
        .as_slice_mut()
        .expect("a fresh array is in standard layout");
    super::simd::wide(
        #[inline(always)]
        || {
            for (o, l) in dst
                .chunks_exact_mut(short.len())
                .zip(long.chunks_exact(short.len()))
            {
                for ((o, &x), &y) in o.iter_mut().zip(l).zip(short) {
                    *o = if long_is_a { f(x, y) } else { f(y, x) };
                }
            }
        },
    );
    Ok(Some(out))
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

/// The `[B, 4H]` gate pre-activations and the `[B, H]` state of an LSTM op, checked.
fn lstm_operands<'a, T: Real>(
    op: &'static str,
    z: &'a ArrayD<T>,
    c: &'a ArrayD<T>,
) -> Result<(ArrayView2<'a, T>, ArrayView2<'a, T>, usize), TrainError> {
    let z2 = as_matrix(op, "the gate pre-activations z", z)?;
    let c2 = as_matrix(op, "the cell state c", c)?;
    let h = c2.ncols();
    if z2.nrows() != c2.nrows() || h.checked_mul(4) != Some(z2.ncols()) {
        return Err(TrainError::Shape {
            op,
            detail: format!(
                "z must be [batch, 4 * units] for c of shape [batch, units] = {}, got z {}",
                format_shape(c.shape()),
                format_shape(z.shape())
            ),
        });
    }
    Ok((z2, c2, h))
}

impl<T: Real> Tape<T> {
    fn binary(
        &mut self,
        op: &'static str,
        a: NodeId,
        b: NodeId,
        f: impl Fn(T, T) -> T,
        record: Op,
    ) -> Result<NodeId, TrainError> {
        let (va, vb) = (self.value(a)?, self.value(b)?);
        let shape = broadcast_shape(va.shape(), vb.shape()).ok_or_else(|| TrainError::Shape {
            op,
            detail: format!(
                "shapes {} and {} do not broadcast (each axis, aligned on the right, must be \
                 equal or 1)",
                format_shape(va.shape()),
                format_shape(vb.shape())
            ),
        })?;
        // The result can be far larger than either operand (`[n, 1] + [1, n]`): its size is
        // checked and its buffer reserved fallibly, so an impossible one is an error.
        check_size(op, &shape)?;
        if let Some(out) = contiguous_binary(&self.pool, op, va, vb, &shape, &f)? {
            return Ok(self.push(out, record));
        }
        let out = {
            let ba = va
                .broadcast(shape.as_slice())
                .ok_or_else(|| unreachable_broadcast(op))?;
            let bb = vb
                .broadcast(shape.as_slice())
                .ok_or_else(|| unreachable_broadcast(op))?;
            let mut out = self.pool.zeros(op, &shape)?;
            Zip::from(&mut out)
                .and(&ba)
                .and(&bb)
                .for_each(|o, &x, &y| *o = f(x, y));
            out
        };
        Ok(self.push(out, record))
    }

    fn unary(&mut self, a: NodeId, f: impl Fn(T) -> T, record: Op) -> Result<NodeId, TrainError> {
        let out = self.value(a)?.mapv(f);
        Ok(self.push(out, record))
    }

    /// Matrix product `a · b` of `[m, k]` and `[k, n]` (TF's `tf.matmul`).
    pub fn matmul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        let (va, vb) = (self.value(a)?, self.value(b)?);
        let (ma, mb) = (as_matrix("matmul", "a", va)?, as_matrix("matmul", "b", vb)?);
        if ma.ncols() != mb.nrows() {
            return Err(TrainError::Shape {
                op: "matmul",
                detail: format!(
                    "inner dimensions differ: a is {} and b is {}",
                    format_shape(va.shape()),
                    format_shape(vb.shape())
                ),
            });
        }
        // `[m, 0] · [0, n]` is `m * n` zeros: the result is reserved fallibly.
        let out_shape = [ma.nrows(), mb.ncols()];
        check_size("matmul", &out_shape)?;
        let mut out = self.pool.scratch("matmul", &out_shape)?;
        let mut out2 =
            out.view_mut()
                .into_dimensionality::<Ix2>()
                .map_err(|e| TrainError::Shape {
                    op: "matmul",
                    detail: e.to_string(),
                })?;
        mat_mul(T::ONE, &ma, &mb, T::ZERO, &mut out2);
        Ok(self.push(out, Op::MatMul(a, b)))
    }

    /// `a + b` with numpy broadcasting (a bias `[n]` adds to every row of `[m, n]`).
    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("add", a, b, |x, y| x + y, Op::Add(a, b))
    }

    /// `a - b` with numpy broadcasting.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("sub", a, b, |x, y| x - y, Op::Sub(a, b))
    }

    /// Elementwise `a ⊙ b` with numpy broadcasting.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("mul", a, b, |x, y| x * y, Op::Mul(a, b))
    }

    /// `max(a, 0)` (NaN stays NaN); its gradient passes where `a > 0` (TF's choice at 0).
    pub fn relu(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, |x| if x < T::ZERO { T::ZERO } else { x }, Op::Relu(a))
    }

    /// The logistic function `1 / (1 + e^-a)`.
    pub fn sigmoid(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, Real::sigmoid, Op::Sigmoid(a))
    }

    /// `tanh(a)`.
    pub fn tanh(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, Real::tanh, Op::Tanh(a))
    }

    /// `a²`, elementwise.
    pub fn square(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, |x| x * x, Op::Square(a))
    }

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
            Op::Concat {
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
        Ok(self.push(out, Op::Slice { input, axis, start }))
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
        Ok(self.push(out, Op::Reshape(input)))
    }

    /// Sum over `axes`, which are removed (TF's `tf.reduce_sum(x, axes)`).
    pub fn sum(&mut self, input: NodeId, axes: &[usize]) -> Result<NodeId, TrainError> {
        let v = self.value(input)?;
        check_axes("sum", axes, v.ndim())?;
        let out = reduce_sum(v, axes);
        Ok(self.push(
            out,
            Op::Sum {
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
            Op::Mean {
                input,
                axes: axes.to_vec(),
                count,
            },
        ))
    }

    /// The new cell state of TF1's `BasicLSTMCell`, fused:
    /// `c = c_prev ⊙ σ(f + forget_bias) + σ(i) ⊙ tanh(j)` where `z = [i | j | f | o]` is
    /// `[batch, 4 * units]` and `c_prev` is `[batch, units]`.
    pub fn lstm_c(
        &mut self,
        z: NodeId,
        c_prev: NodeId,
        forget_bias: f64,
    ) -> Result<NodeId, TrainError> {
        let (vz, vc) = (self.value(z)?, self.value(c_prev)?);
        let (z2, c2, h) = lstm_operands("lstm_c", vz, vc)?;
        let fb = T::from_f64(forget_bias);
        let mut out = c2.to_owned();
        for (b, mut row) in out.rows_mut().into_iter().enumerate() {
            let zr = z2.row(b);
            for k in 0..h {
                let (i, j, f) = (zr[k], zr[h + k], zr[2 * h + k]);
                row[k] = row[k] * (f + fb).sigmoid() + i.sigmoid() * j.tanh();
            }
        }
        Ok(self.push(
            out.into_dyn(),
            Op::LstmC {
                z,
                c_prev,
                forget_bias,
            },
        ))
    }

    /// The new output of TF1's `BasicLSTMCell`, fused: `h = tanh(c) ⊙ σ(o)` where `o` is the
    /// last quarter of `z = [i | j | f | o]` (`[batch, 4 * units]`) and `c` is `[batch, units]`.
    pub fn lstm_h(&mut self, z: NodeId, c: NodeId) -> Result<NodeId, TrainError> {
        let (vz, vc) = (self.value(z)?, self.value(c)?);
        let (z2, c2, h) = lstm_operands("lstm_h", vz, vc)?;
        let mut out = c2.to_owned();
        for (b, mut row) in out.rows_mut().into_iter().enumerate() {
            let zr = z2.row(b);
            for k in 0..h {
                row[k] = row[k].tanh() * zr[3 * h + k].sigmoid();
            }
        }
        Ok(self.push(out.into_dyn(), Op::LstmH { z, c }))
    }
}

fn unreachable_broadcast(op: &'static str) -> TrainError {
    TrainError::Shape {
        op,
        detail: "operands do not broadcast".into(),
    }
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
