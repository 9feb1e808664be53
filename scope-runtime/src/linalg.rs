//! The matrix product every op and layer goes through: `c = alpha * a · b + beta * c`.
//!
//! float32 and float64 go to the [`gemm`] crate (the GEMM that candle and faer build on),
//! single-threaded: it picks AVX-512, AVX2+FMA or scalar micro-kernels at run time (one binary
//! runs on any x86-64). Its left-hand packing lives in a thread-local slab, but it allocates
//! its right-hand packing buffer and a small flag vector on every call (as `matrixmultiply`
//! allocates its buffers), so a step that goes through here is not allocation-free. Any other
//! element type goes to `ndarray`'s `general_mat_mul` (`matrixmultiply`).
//!
//! The choice was made on measurements at the shapes of the seed RNN and of BERT
//! (`cargo bench -p scope-runtime --bench gemm`; see the performance notes): at BERT-Tiny's
//! shapes `gemm` runs 2 to 2.8 times as fast as `matrixmultiply` on an AVX-512 core.

use std::any::TypeId;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

/// Products of at most this many multiply-adds (`m * n * k`) go to `matrixmultiply`.
const SMALL_PRODUCT: usize = 32 * 1024;

/// `c = alpha * a · b + beta * c` for `a` `[m, k]`, `b` `[k, n]`, `c` `[m, n]`, any strides
/// (`ndarray`'s `general_mat_mul` contract; `beta == 0` ignores what `c` held, NaN included).
///
/// # Panics
///
/// If the shapes do not fit, like `general_mat_mul`. Callers check shapes first.
pub fn mat_mul<T: LinalgScalar>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "mat_mul: shapes {:?} · {:?} -> {:?} do not fit",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    let (sa, sb) = (a.strides(), b.strides());
    let (sc0, sc1) = (c.strides()[0], c.strides()[1]);
    let dims = Dims { m, n, k };
    let a_ = Operand {
        ptr: a.as_ptr(),
        rs: sa[0],
        cs: sa[1],
    };
    let b_ = Operand {
        ptr: b.as_ptr(),
        rs: sb[0],
        cs: sb[1],
    };
    let c_ = Dest {
        ptr: c.as_mut_ptr(),
        rs: sc0,
        cs: sc1,
    };
    // Below a few thousand multiply-adds `gemm`'s set-up (dispatch, packing buffer) costs
    // more than the product: the seed RNN's one-step test products ([20, 22] · [22, 44] and
    // smaller) ran 1.5x slower through it than through `matrixmultiply`.
    if m.saturating_mul(n).saturating_mul(k) <= SMALL_PRODUCT {
        general_mat_mul(alpha, a, b, beta, c);
        return;
    }
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked just above), so the casts change nothing; the operands
        // describe live views of the checked extents, and `c` is borrowed uniquely, so it
        // overlaps neither `a` nor `b`.
        unsafe {
            let f = |x: T| *(&x as *const T as *const f32);
            packed(dims, f(alpha), a_.cast(), b_.cast(), f(beta), c_.cast());
        }
        return;
    }
    if TypeId::of::<T>() == TypeId::of::<f64>() {
        // SAFETY: as above, for f64.
        unsafe {
            let f = |x: T| *(&x as *const T as *const f64);
            packed(dims, f(alpha), a_.cast(), b_.cast(), f(beta), c_.cast());
        }
        return;
    }
    general_mat_mul(alpha, a, b, beta, c);
}

#[derive(Clone, Copy)]
struct Dims {
    m: usize,
    n: usize,
    k: usize,
}

/// A read operand: its first element and its row and column strides (in elements).
#[derive(Clone, Copy)]
struct Operand<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

impl<T> Operand<T> {
    fn cast<U>(self) -> Operand<U> {
        Operand {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// The written operand.
#[derive(Clone, Copy)]
struct Dest<T> {
    ptr: *mut T,
    rs: isize,
    cs: isize,
}

impl<T> Dest<T> {
    fn cast<U>(self) -> Dest<U> {
        Dest {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// The `gemm` crate, single-threaded. Its `alpha` scales `c` and its `beta` the product.
///
/// # Safety
///
/// The operands describe live matrices of `d`'s extents, `c` overlapping neither `a` nor
/// `b`; `T` is f32 or f64.
unsafe fn packed<T: LinalgScalar + PartialEq>(
    d: Dims,
    alpha: T,
    a: Operand<T>,
    b: Operand<T>,
    beta: T,
    c: Dest<T>,
) {
    let read_dst = beta != T::zero();
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            d.m,
            d.n,
            d.k,
            c.ptr,
            c.cs,
            c.rs,
            read_dst,
            a.ptr,
            a.cs,
            a.rs,
            b.ptr,
            b.cs,
            b.rs,
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let (m, k) = a.dim();
        let n = b.ncols();
        Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|p| a[[i, p]] * b[[p, j]]).sum())
    }

    fn filled(m: usize, n: usize, seed: u64) -> Array2<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        Array2::from_shape_fn((m, n), |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 2001) as f64 / 1000.0 - 1.0
        })
    }

    /// Both element types, every transpose, alpha and beta, against a
    /// naive product in float64.
    #[test]
    fn agrees_with_the_naive_product() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (20, 11, 44),
            (3, 0, 4),
            (0, 3, 4),
            (7, 13, 5),
            (64, 33, 130),
            (130, 64, 17),
        ] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = filled(m, k, 1);
                let b = filled(k, n, 2);
                let c0 = filled(m, n, 3);
                let want = naive(&a, &b) * 0.5 + &c0 * 2.0;
                // Operands stored transposed when asked, so the views have column strides.
                let a_store = if ta {
                    a.t().as_standard_layout().into_owned()
                } else {
                    a.clone()
                };
                let b_store = if tb {
                    b.t().as_standard_layout().into_owned()
                } else {
                    b.clone()
                };
                let av = if ta { a_store.t() } else { a_store.view() };
                let bv = if tb { b_store.t() } else { b_store.view() };
                let mut c = c0.clone();
                mat_mul(0.5, &av, &bv, 2.0, &mut c.view_mut());
                let err = (&c - &want).iter().fold(0.0f64, |e, x| e.max(x.abs()));
                assert!(err < 1e-12, "f64 {m}x{k}x{n} ta {ta} tb {tb}: {err}");

                let (af, bf) = (av.mapv(|x| x as f32), bv.mapv(|x| x as f32));
                let mut cf = c0.mapv(|x| x as f32);
                mat_mul(0.5, &af.view(), &bf.view(), 2.0, &mut cf.view_mut());
                let err = cf
                    .iter()
                    .zip(&want)
                    .fold(0.0f64, |e, (&x, &w)| e.max((f64::from(x) - w).abs()));
                assert!(err < 1e-4 * (k as f64 + 1.0), "f32 {m}x{k}x{n}: {err}");

                // beta = 0 ignores NaN in c.
                let mut cn = Array2::from_elem((m, n).f(), f32::NAN);
                mat_mul(1.0, &af.view(), &bf.view(), 0.0, &mut cn.view_mut());
                assert!(cn.iter().all(|x| x.is_finite()), "{m}x{k}x{n} beta 0");
            }
        }
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn refuses_shapes_that_do_not_fit() {
        let a = Array2::<f32>::zeros((2, 3));
        let mut c = Array2::<f32>::zeros((2, 2));
        mat_mul(1.0, &a.view(), &a.view(), 0.0, &mut c.view_mut());
    }
}
