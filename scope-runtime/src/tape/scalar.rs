//! The element types a [`super::Tape`] computes in: `f32` for training, `f64` for gradient
//! checks.

use std::fmt;
use std::ops::Neg;

use ndarray::LinalgScalar;

/// A floating-point element type the tape can differentiate over.
///
/// Implemented for `f32` (what variables hold) and `f64` (for gradient checks against
/// finite differences).
pub trait Real:
    LinalgScalar + PartialOrd + fmt::Debug + fmt::Display + Send + Sync + Neg<Output = Self>
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// The smallest positive normal value (below it lie the subnormals, which x86 computes
    /// with very slow microcode).
    const MIN_POSITIVE: Self;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts from `f32`, exactly.
    fn from_f32(x: f32) -> Self;
    /// Converts to `f64`, exactly.
    fn to_f64(self) -> f64;
    /// Overwrites `dst` with `src`, converted: for `f32` a straight copy (a `memcpy`).
    ///
    /// # Panics
    ///
    /// If the lengths differ (the tape checks them first).
    fn copy_from_f32(dst: &mut [Self], src: &[f32]);
    /// Converts to `f32`, rounding to nearest.
    fn to_f32(self) -> f32;
    /// `e^self`.
    fn exp(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Whether the value is neither NaN nor infinite.
    fn is_finite(self) -> bool;

    /// The logistic function `1 / (1 + e^-x)`.
    fn sigmoid(self) -> Self {
        Self::ONE / (Self::ONE + (-self).exp())
    }
}

macro_rules! impl_real {
    ($t:ty, $exp:path, $tanh:path, $copy:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;

            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn from_f32(x: f32) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn copy_from_f32(dst: &mut [Self], src: &[f32]) {
                $copy(dst, src)
            }
            #[inline]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}

// f32 uses the vectorizable kernels (a few ulp, as TF's Eigen kernels); f64, used for
// gradient checks, uses libm.
impl_real!(f32, super::fastmath::exp, super::fastmath::tanh, copy_f32);
impl_real!(f64, f64::exp, f64::tanh, widen_into);

/// Overwrites `dst` with `src` (a `memcpy`).
fn copy_f32(dst: &mut [f32], src: &[f32]) {
    dst.copy_from_slice(src);
}

/// Overwrites `dst` with `src` as `f64`s.
fn widen_into(dst: &mut [f64], src: &[f32]) {
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = f64::from(x);
    }
}
