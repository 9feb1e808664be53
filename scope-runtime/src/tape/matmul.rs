//! Matrix products: `matmul`, `batch_matmul` (with transposes) and the fused `linear`
//! (`x · kernel + bias`), forward and backward, all through [`crate::kernels::mat_mul`].

use ndarray::{ArrayD, ArrayView3, ArrayViewMut2, Axis, Ix2, IxDyn};

use super::buffers::{
    self, accumulate, as_matrix, check_size, flat, matrix, matrix_mut, shape_error, Backprop,
};
use super::scalar::Real;
use super::simd::wide;
use super::{NodeId, Tape};
use crate::kernels::mat_mul;
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the matrix products.
#[derive(Clone, Debug)]
pub(crate) enum MatMulOp {
    MatMul(NodeId, NodeId),
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
}

impl MatMulOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            MatMulOp::MatMul(a, b) | MatMulOp::BatchMatMul { a, b, .. } => {
                f(*a);
                f(*b);
            }
            MatMulOp::Linear { x, kernel, bias } => {
                f(*x);
                f(*kernel);
                f(*bias);
            }
        }
    }
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

/// `out = alpha * op(x) · op(y) + beta * out`, batch by batch, where `op` transposes the last
/// two axes when asked. Several batches (attention heads) run in parallel, whole products
/// on one thread each (products too small for the GEMM's own threads, such as GPT-2's
/// `[128, 64] · [64, 128]` per head); a single product splits inside the GEMM.
fn bmm<T: Real>(x: &ArrayD<T>, tx: bool, y: &ArrayD<T>, ty: bool, beta: T, out: &mut ArrayD<T>) {
    let (x3, y3) = (as_batches(x), as_batches(y));
    let n = out.ndim();
    let (m, cols) = (out.shape()[n - 2], out.shape()[n - 1]);
    let depth = if tx { x3.shape()[1] } else { x3.shape()[2] };
    let size = m * cols;
    if size == 0 {
        return;
    }
    let batches = x3.shape()[0];
    let work = 2 * size * depth.max(1) * batches;
    let dst = out
        .as_slice_mut()
        .expect("tape values are owned arrays in standard layout");
    crate::threads::for_each_chunk(dst, size, work, |i, o| {
        let (xi, yi) = (x3.index_axis(Axis(0), i), y3.index_axis(Axis(0), i));
        let xi = if tx { xi.reversed_axes() } else { xi };
        let yi = if ty { yi.reversed_axes() } else { yi };
        let mut oi = ArrayViewMut2::from_shape((m, cols), o).expect("one product's result");
        mat_mul(T::ONE, &xi, &yi, beta, &mut oi);
    });
}

impl<T: Real> Tape<T> {
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
        Ok(self.push(out, MatMulOp::MatMul(a, b)))
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
        Ok(self.push(
            out,
            MatMulOp::BatchMatMul {
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
        Ok(self.push(out, MatMulOp::Linear { x, kernel, bias }))
    }
}

impl MatMulOp {
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
        // Every gradient below is a product written with `beta = 0`, which overwrites its
        // buffer: no pass to zero it first (GPT-2's `wte` gradient is 154 MB), unless the
        // product sums no terms (a zero extent), which writes nothing. `dA` sums over `g`'s
        // last extent, `dB` over the one before it.
        let nd = g.ndim();
        let (a_depth, b_depth) = (g.shape()[nd - 1], g.shape()[nd - 2]);
        let fresh = |shape: &[usize], depth: usize| match depth {
            0 => buffers::zeros(pool, shape),
            _ => buffers::scratch(pool, shape),
        };
        match self {
            MatMulOp::MatMul(a, b) => {
                let (ma, mb, mg) = (matrix(val(*a))?, matrix(val(*b))?, matrix(g)?);
                let mut ga = fresh(ma.shape(), a_depth);
                mat_mul(T::ONE, &mg, &mb.t(), T::ZERO, &mut matrix_mut(&mut ga));
                let mut gb = fresh(mb.shape(), b_depth);
                mat_mul(T::ONE, &ma.t(), &mg, T::ZERO, &mut matrix_mut(&mut gb));
                accumulate(pool, &mut lower[a.0], ga);
                accumulate(pool, &mut lower[b.0], gb);
            }
            MatMulOp::BatchMatMul {
                a,
                b,
                transpose_a,
                transpose_b,
            } => wide(
                #[inline(always)]
                || {
                    let (va, vb) = (val(*a), val(*b));
                    let (ta, tb) = (*transpose_a, *transpose_b);
                    // C = op(A) op(B).
                    // dA = g op(B)^T, or op(B) g^T when A is transposed.
                    let mut da = fresh(va.shape(), a_depth);
                    if ta {
                        bmm(vb, tb, g, true, T::ZERO, &mut da);
                    } else {
                        bmm(g, false, vb, !tb, T::ZERO, &mut da);
                    }
                    // dB = op(A)^T g, or g^T op(A) when B is transposed.
                    let mut db = fresh(vb.shape(), b_depth);
                    if tb {
                        bmm(g, true, va, ta, T::ZERO, &mut db);
                    } else {
                        bmm(va, !ta, g, false, T::ZERO, &mut db);
                    }
                    accumulate(pool, &mut lower[a.0], da);
                    accumulate(pool, &mut lower[b.0], db);
                },
            ),
            MatMulOp::Linear { x, kernel, bias } => wide(
                #[inline(always)]
                || {
                    let (vx, vk) = (val(*x), val(*kernel));
                    let mut dx = fresh(vx.shape(), a_depth);
                    bmm(g, false, vk, true, T::ZERO, &mut dx);
                    let mut dk = fresh(vk.shape(), b_depth);
                    bmm(vx, true, g, false, T::ZERO, &mut dk);
                    let width = vk.shape()[1];
                    let mut db = vec![T::ZERO; width];
                    super::elementwise::add_column_sums(flat(g), width, &mut db);
                    accumulate(pool, &mut lower[x.0], dx);
                    accumulate(pool, &mut lower[kernel.0], dk);
                    accumulate(
                        pool,
                        &mut lower[bias.0],
                        ArrayD::from_shape_vec(IxDyn(&[width]), db).expect("[out]"),
                    );
                },
            ),
        }
        Ok(())
    }
}
