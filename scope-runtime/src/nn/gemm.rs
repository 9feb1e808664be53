//! The matrix product under every op, for code that runs without a tape (a key/value cache,
//! a fused inference path).

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// BLAS's GEMM on `ndarray` views: `c = alpha · a · b + beta · c`, with the kernels the
/// tape's products use (direct loops for small and narrow products, the `gemm` crate for
/// the rest). Any strides are taken (a transposed view is `a.t()`); `beta = 0` overwrites
/// `c` without reading it.
///
/// An f32 product of at most four rows by a large matrix (a cached token's `x · W`, or its
/// logits `x · Wᵀ` with `Wᵀ = w.t()` of a row-major `w`) is memory bound: it takes loops
/// that read `b` once in the order it lies (its rows or its columns contiguous), split
/// across [`crate::num_threads`] threads by fixed blocks of `b`'s rows (or whole columns of
/// `c` for `x · Wᵀ`), with the same result at every thread count.
///
/// # Panics
///
/// If the shapes do not chain (`a` is `[m, k]`, `b` `[k, n]`, `c` `[m, n]`), as
/// `ndarray::linalg::general_mat_mul` does.
///
/// ```
/// use ndarray::array;
/// let (a, b) = (array![[1.0f32, 2.0], [3.0, 4.0]], array![[1.0f32], [1.0]]);
/// let mut c = array![[10.0f32], [10.0]];
/// scope::nn::gemm(1.0, &a.view(), &b.view(), 1.0, &mut c.view_mut());
/// assert_eq!(c, array![[13.0], [17.0]]);
/// ```
pub fn gemm<T: LinalgScalar>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) {
    assert!(
        a.ncols() == b.nrows() && c.nrows() == a.nrows() && c.ncols() == b.ncols(),
        "gemm: shapes {:?} x {:?} -> {:?} do not chain",
        a.shape(),
        b.shape(),
        c.shape()
    );
    crate::kernels::mat_mul(alpha, a, b, beta, c);
}
