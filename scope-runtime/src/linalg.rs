//! The matrix product every op and layer goes through (see the private `kernels` module).

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// `c = alpha * a · b + beta * c` for `a` `[m, k]`, `b` `[k, n]`, `c` `[m, n]`, any strides
/// (`ndarray`'s `general_mat_mul` contract; `beta == 0` ignores what `c` held, NaN included).
///
/// # Panics
///
/// If the shapes do not fit, like `general_mat_mul`.
pub fn mat_mul<T: LinalgScalar>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) {
    crate::kernels::mat_mul(alpha, a, b, beta, c);
}
