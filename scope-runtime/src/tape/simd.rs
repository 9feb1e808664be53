//! Runtime CPU dispatch for the ops' element-wise loops: [`wide`] runs a closure compiled
//! for AVX-512 (or AVX2+FMA) when the CPU has it, so one binary vectorizes 16 (or 8) floats
//! at a time where it can and still runs on any x86-64.
//!
//! The closure, and the `#[inline]` helpers it calls (`fastmath`'s `exp` and `tanh`, a row's
//! softmax), are inlined into a `#[target_feature]` function and compiled with its features;
//! the arithmetic is the same, in the same order, so results do not depend on the CPU
//! (FMA contraction is never implied in Rust).

/// Runs `f`, compiled for the widest vector unit the CPU has.
///
/// Mark the closure `#[inline(always)]` (`wide(#[inline(always)] || ...)`): `f` is called
/// from three places (one per width), so the compiler will not inline a large closure by
/// itself, and a closure that is not inlined stays one function compiled for the baseline
/// CPU (SSE2), whichever branch calls it.
#[inline(always)]
pub(crate) fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2")]
unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
