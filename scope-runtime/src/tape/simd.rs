//! The row reductions and the softmax row kernel the ops share, written so that they
//! vectorize when compiled inside [`wide`] (the kernels' one CPU dispatch): the arithmetic is
//! the same, in the same order, whatever the CPU.

pub(crate) use crate::kernels::wide;

use super::scalar::Real;

/// Reductions keep this many partial results, one per vector lane, so they vectorize (a
/// single running sum is a chain of dependent additions, one element at a time).
const LANES: usize = 16;

/// Folds `xs` lane by lane with `f`, then the lanes together.
#[inline(always)]
fn reduce<T: Real>(xs: &[T], init: T, f: impl Fn(T, T) -> T) -> T {
    let mut acc = [init; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] = f(acc[l], c[l]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(tail) {
        *a = f(*a, x);
    }
    acc.into_iter().fold(init, f)
}

/// `Σ xs`, summed in [`LANES`] interleaved partial sums (the order Eigen's vectorized
/// reductions use, not left to right).
#[inline(always)]
pub(crate) fn sum<T: Real>(xs: &[T]) -> T {
    reduce_map(xs, |x| x)
}

/// `Σ a_k b_k`, in the order of [`sum`].
#[inline(always)]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] = acc[l] + x[l] * y[l];
        }
    }
    for ((a, &x), &y) in acc.iter_mut().zip(ta).zip(tb) {
        *a = *a + x * y;
    }
    acc.into_iter().fold(T::ZERO, |s, x| s + x)
}

/// `Σ (x - c)²`, in the order of [`sum`].
#[inline(always)]
pub(crate) fn centered_sq_sum<T: Real>(xs: &[T], c: T) -> T {
    reduce_map(xs, |x| (x - c) * (x - c))
}

/// `Σ f(x)`, in the order of [`sum`].
#[inline(always)]
fn reduce_map<T: Real>(xs: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::ZERO; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] = acc[l] + f(c[l]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(tail) {
        *a = *a + f(x);
    }
    acc.into_iter().fold(T::ZERO, |s, x| s + x)
}

/// The largest element of a non-empty row (NaNs are skipped unless the first element is one,
/// as a left-to-right `if x > m` fold skips them).
#[inline(always)]
pub(crate) fn max<T: Real>(xs: &[T]) -> T {
    reduce(xs, xs[0], |m, x| if x > m { x } else { m })
}

/// `exp(x - max)` of a non-empty row, in place, returning its sum. Terms below `e^-80`
/// (under `1e-34` of the largest, far below float32's resolution) are exactly 0, as masked
/// attention keys are in TF (`exp(-10000)` flushed to zero), so no product with them is
/// subnormal.
#[inline(always)]
fn exp_in_place<T: Real>(row: &mut [T]) -> T {
    let max = max(row);
    let cutoff = T::from_f64(-80.0);
    for x in row.iter_mut() {
        let d = *x - max;
        *x = if d < cutoff { T::ZERO } else { d.exp() };
    }
    sum(row)
}

/// [`exp_in_place`] of `row` written into `out`.
#[inline(always)]
pub(crate) fn exp_row<T: Real>(row: &[T], out: &mut [T]) -> T {
    out.copy_from_slice(row);
    exp_in_place(out)
}

/// A probability below the smallest normal float is 0: TF runs with denormals flushed to
/// zero, and a subnormal in a GEMM (masked attention keys, where `exp` underflows) costs
/// x86 a microcode assist per operation.
#[inline(always)]
pub(crate) fn flush<T: Real>(p: T) -> T {
    if p < T::MIN_POSITIVE {
        T::ZERO
    } else {
        p
    }
}

/// Softmax of a non-empty row, in place.
#[inline(always)]
pub(crate) fn softmax_in_place<T: Real>(row: &mut [T]) {
    let inv = T::ONE / exp_in_place(row);
    row.iter_mut().for_each(|v| *v = flush(*v * inv));
}
