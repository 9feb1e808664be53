//! The crate's one room for `unsafe` code, and its one runtime CPU dispatch.
//!
//! Every other module of the crate is compiled under `#![deny(unsafe_code)]`; what needs raw
//! pointers, intrinsics, uninitialized or zeroed memory or a memory map lives here, behind
//! safe functions whose contracts are checked before any `unsafe` block runs:
//!
//! * [`wide`] and [`Isa`]: which vector unit this CPU has, detected once through
//!   [`pulp`] (`pulp::x86::V4` is AVX-512, `V3` AVX2 with FMA), and the one way the crate
//!   compiles a loop for it;
//! * [`mat_mul`]: the matrix product (the `gemm` crate for large products, hand-written
//!   AVX-512 / AVX2 register blocks for small and narrow ones, and `vecmat`'s loops for a
//!   few rows by a large matrix (`x · W`, `x · Wᵀ`), streamed at the memory's rate and
//!   split across threads);
//! * [`try_zeros`]: fallible zero-filled buffers from zeroed pages;
//! * [`map_file`]: read-only memory maps of checkpoint shards.
//!
//! Every `unsafe fn` here has a `# Safety` section, and every `unsafe` block a `SAFETY:`
//! comment saying why its contract holds.

mod direct;
mod matmul;
mod memory;
mod vecmat;

pub(crate) use matmul::mat_mul;
pub(crate) use memory::{map_file, try_zeros, ZeroBits};

/// The widest vector unit [`wide`] and the matrix product's register blocks use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX-512 (F, BW, CD, DQ, VL: `pulp::x86::V4`): 16 floats per register.
    Avx512,
    /// AVX2 with FMA (`pulp::x86::V3`): 8 floats per register.
    Avx2,
    /// Neither (or not x86-64): what the compiler makes of plain loops for the baseline CPU.
    Baseline,
}

/// The widest vector unit this CPU has (pulp caches the detection; this costs a load).
#[inline]
pub(crate) fn isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if pulp::x86::V4::is_available() {
            return Isa::Avx512;
        }
        if pulp::x86::V3::is_available() {
            return Isa::Avx2;
        }
    }
    Isa::Baseline
}

/// Runs `f`, compiled for the widest vector unit the CPU has, so one binary vectorizes 16
/// (or 8) floats at a time where it can and still runs on any x86-64.
///
/// Mark the closure `#[inline(always)]` (`wide(#[inline(always)] || ...)`): `f` is called
/// from three places (one per width), so the compiler will not inline a large closure by
/// itself, and a closure that is not inlined stays one function compiled for the baseline
/// CPU (SSE2), whichever branch calls it. The `#[inline]` helpers it calls (`fastmath`'s
/// `exp` and `tanh`, a row's softmax) are compiled with the same features; the arithmetic is
/// the same, in the same order, so results do not depend on the CPU (Rust never contracts a
/// multiply and an add into an FMA by itself).
#[inline(always)]
pub(crate) fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(simd) = pulp::x86::V4::try_new() {
            return simd.vectorize(f);
        }
        if let Some(simd) = pulp::x86::V3::try_new() {
            return simd.vectorize(f);
        }
    }
    f()
}
