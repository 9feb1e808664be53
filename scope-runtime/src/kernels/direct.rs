//! Small products without packing `a` and without allocating: the "axpy" form
//! `c[i, ..] += a[i, p] * b[p, ..]`, vectorized along `n`, with a block of `c` (up to
//! [`ROWS`] rows and a panel of up to four vectors) held in registers over the whole `k` loop.
//!
//! `a` may have any strides (its elements are broadcast one at a time). `b`'s rows must be
//! contiguous; when they are not (a transposed view), `b` is first copied row-major into a
//! thread-local buffer that keeps its capacity, so a steady loop of products allocates
//! nothing. `c`'s rows must be contiguous too; any other layout, any element type other than
//! f32, and CPUs without AVX2+FMA take the plain loop [`generic`].

use std::cell::RefCell;

use ndarray::LinalgScalar;

use super::matmul::{Dest, Dims, Operand};

/// Rows of `c` per register block.
const ROWS: usize = 6;

thread_local! {
    /// The widest instruction set [`f32`] may use on this thread: 0 the widest the CPU has,
    /// 1 at most AVX2, 2 none (the plain loop). Tests lower it to check every path.
    pub(super) static ISA_CAP: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    /// Row-major copies of `b` operands whose rows are not contiguous.
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `c = alpha * a · b + beta * c` in f32, vectorized when the CPU allows.
///
/// # Safety
///
/// The operands describe live matrices of `d`'s extents (`m, n >= 1`), `c` overlapping
/// neither `a` nor `b`.
pub(super) unsafe fn f32(
    d: Dims,
    alpha: f32,
    a: Operand<f32>,
    b: Operand<f32>,
    beta: f32,
    c: Dest<f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if c.cs == 1 || d.n == 1 {
        if let Some(isa) = x86_isa() {
            if b.cs == 1 || d.n == 1 {
                // SAFETY: forwarded from the caller; the ISA was detected just above.
                unsafe { x86::run(isa, d, alpha, a, b.rs, b.ptr, beta, c) };
                return;
            }
            let done = PACKED_B.with(|buf| {
                let Ok(mut buf) = buf.try_borrow_mut() else {
                    return false;
                };
                let len = d.k * d.n;
                if buf.len() < len {
                    buf.resize(len, 0.0);
                }
                for (p, row) in buf[..len].chunks_exact_mut(d.n).enumerate() {
                    for (j, x) in row.iter_mut().enumerate() {
                        // SAFETY: (p, j) is within b's extents.
                        *x = unsafe { *b.at(p, j) };
                    }
                }
                // SAFETY: as above; the packed copy is a live row-major [k, n] matrix that
                // overlaps nothing else.
                unsafe { x86::run(isa, d, alpha, a, d.n as isize, buf.as_ptr(), beta, c) };
                true
            });
            if done {
                return;
            }
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe { generic(d, alpha, a, b, beta, c) }
}

/// The register width this thread's f32 loops use: the widest the CPU has, lowered by
/// [`ISA_CAP`]; `None` for the plain loops.
#[cfg(target_arch = "x86_64")]
pub(super) fn x86_isa() -> Option<x86::Isa> {
    let cap = ISA_CAP.with(|c| c.get());
    match crate::kernels::isa() {
        crate::kernels::Isa::Avx512 if cap == 0 => Some(x86::Isa::Avx512),
        crate::kernels::Isa::Avx512 | crate::kernels::Isa::Avx2 if cap <= 1 => Some(x86::Isa::Avx2),
        _ => None,
    }
}

/// The plain loop, for any element type and strides: one dot product per element of `c`.
///
/// # Safety
///
/// As for [`f32`].
pub(super) unsafe fn generic<T: LinalgScalar>(
    d: Dims,
    alpha: T,
    a: Operand<T>,
    b: Operand<T>,
    beta: T,
    c: Dest<T>,
) {
    for i in 0..d.m {
        for j in 0..d.n {
            let mut sum = T::zero();
            for p in 0..d.k {
                // SAFETY: (i, p) and (p, j) are within a's and b's extents.
                sum = sum + unsafe { *a.at(i, p) * *b.at(p, j) };
            }
            // SAFETY: (i, j) is within c's extents, and c overlaps neither a nor b.
            let out = unsafe { &mut *c.at(i, j) };
            *out = if beta.is_zero() {
                alpha * sum
            } else {
                alpha * sum + beta * *out
            };
        }
    }
}

// The AVX-512 intrinsics and `target_feature(enable = "avx512f")` are stable since Rust 1.89,
// the workspace's declared rust-version.
#[cfg(target_arch = "x86_64")]
pub(super) mod x86 {
    use std::arch::x86_64::*;

    use super::{Dest, Dims, Operand, ROWS};

    /// The instruction set [`run`] compiles for.
    #[derive(Clone, Copy)]
    pub(in crate::kernels) enum Isa {
        /// AVX-512F: 16 lanes, panels of up to four vectors.
        Avx512,
        /// AVX2 with FMA: 8 lanes, panels of up to two vectors (16 registers).
        Avx2,
    }

    /// One SIMD register of f32 lanes.
    ///
    /// # Safety
    ///
    /// Every method of an implementation is compiled for one instruction set: call them only
    /// on a CPU that has it (what [`run`]'s `isa` promises).
    pub(in crate::kernels) trait Lanes: Copy {
        /// Lanes per register.
        const N: usize;
        /// Most registers per panel of columns.
        const PANEL: usize;
        /// Which lanes a partial load or store touches.
        type Mask: Copy;
        /// The mask of the first `len` lanes (all of them from `N` on).
        ///
        /// # Safety
        ///
        /// The CPU has the implementation's instruction set.
        unsafe fn first(len: usize) -> Self::Mask;
        /// `x` in every lane.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        unsafe fn splat(x: f32) -> Self;
        /// `N` floats from `p`.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`], and `p` points to `N` readable floats.
        unsafe fn load(p: *const f32) -> Self;
        /// The floats at `p` where `m` is set, 0 elsewhere.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`], and `p` points to readable floats wherever `m` is set.
        unsafe fn load_part(p: *const f32, m: Self::Mask) -> Self;
        /// Writes `N` floats to `p`.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`], and `p` points to `N` writable floats.
        unsafe fn store(self, p: *mut f32);
        /// Writes the lanes where `m` is set to `p`.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`], and `p` points to writable floats wherever `m` is set.
        unsafe fn store_part(self, p: *mut f32, m: Self::Mask);
        /// `self * b + c`, rounded once.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        unsafe fn mul_add(self, b: Self, c: Self) -> Self;
        /// `self * b`.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        unsafe fn mul(self, b: Self) -> Self;
        /// `self + b`.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        unsafe fn add(self, b: Self) -> Self;
        /// The sum of the lanes, in a fixed order.
        ///
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        unsafe fn sum(self) -> f32;
    }

    #[derive(Clone, Copy)]
    pub(in crate::kernels) struct Z(__m512);

    impl Lanes for Z {
        const N: usize = 16;
        const PANEL: usize = 4;
        type Mask = __mmask16;
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn first(len: usize) -> __mmask16 {
            if len >= 16 {
                0xffff
            } else {
                (1u16 << len) - 1
            }
        }
        /// # Safety
        ///
        /// As for [`Lanes::splat`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn splat(x: f32) -> Z {
            Z(_mm512_set1_ps(x))
        }
        /// # Safety
        ///
        /// As for [`Lanes::load`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load(p: *const f32) -> Z {
            // SAFETY: the caller passes 16 readable floats.
            Z(unsafe { _mm512_loadu_ps(p) })
        }
        /// # Safety
        ///
        /// As for [`Lanes::load_part`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn load_part(p: *const f32, m: __mmask16) -> Z {
            // SAFETY: the caller passes readable floats where `m` is set (masked-off lanes
            // are not accessed).
            Z(unsafe { _mm512_maskz_loadu_ps(m, p) })
        }
        /// # Safety
        ///
        /// As for [`Lanes::store`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller passes 16 writable floats.
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        /// # Safety
        ///
        /// As for [`Lanes::store_part`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn store_part(self, p: *mut f32, m: __mmask16) {
            // SAFETY: the caller passes writable floats where `m` is set.
            unsafe { _mm512_mask_storeu_ps(p, m, self.0) }
        }
        /// # Safety
        ///
        /// As for [`Lanes::mul_add`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mul_add(self, b: Z, c: Z) -> Z {
            Z(_mm512_fmadd_ps(self.0, b.0, c.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::mul`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn mul(self, b: Z) -> Z {
            Z(_mm512_mul_ps(self.0, b.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::add`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn add(self, b: Z) -> Z {
            Z(_mm512_add_ps(self.0, b.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::sum`].
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn sum(self) -> f32 {
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            let half = _mm256_add_ps(_mm512_castps512_ps256(self.0), high);
            // SAFETY: AVX-512F implies AVX2 and FMA.
            unsafe { Y(half).sum() }
        }
    }

    #[derive(Clone, Copy)]
    pub(in crate::kernels) struct Y(__m256);

    impl Lanes for Y {
        const N: usize = 8;
        const PANEL: usize = 2;
        type Mask = __m256i;
        /// # Safety
        ///
        /// As for [`Lanes::first`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn first(len: usize) -> __m256i {
            let len = len.min(8) as i32;
            _mm256_cmpgt_epi32(
                _mm256_set1_epi32(len),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            )
        }
        /// # Safety
        ///
        /// As for [`Lanes::splat`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn splat(x: f32) -> Y {
            Y(_mm256_set1_ps(x))
        }
        /// # Safety
        ///
        /// As for [`Lanes::load`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load(p: *const f32) -> Y {
            // SAFETY: the caller passes 8 readable floats.
            Y(unsafe { _mm256_loadu_ps(p) })
        }
        /// # Safety
        ///
        /// As for [`Lanes::load_part`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn load_part(p: *const f32, m: __m256i) -> Y {
            // SAFETY: the caller passes readable floats where `m` is set (masked-off lanes
            // are not accessed).
            Y(unsafe { _mm256_maskload_ps(p, m) })
        }
        /// # Safety
        ///
        /// As for [`Lanes::store`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: the caller passes 8 writable floats.
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        /// # Safety
        ///
        /// As for [`Lanes::store_part`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn store_part(self, p: *mut f32, m: __m256i) {
            // SAFETY: the caller passes writable floats where `m` is set.
            unsafe { _mm256_maskstore_ps(p, m, self.0) }
        }
        /// # Safety
        ///
        /// As for [`Lanes::mul_add`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mul_add(self, b: Y, c: Y) -> Y {
            Y(_mm256_fmadd_ps(self.0, b.0, c.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::mul`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn mul(self, b: Y) -> Y {
            Y(_mm256_mul_ps(self.0, b.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::add`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn add(self, b: Y) -> Y {
            Y(_mm256_add_ps(self.0, b.0))
        }
        /// # Safety
        ///
        /// As for [`Lanes::sum`].
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn sum(self) -> f32 {
            let x = _mm_add_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            let x = _mm_add_ps(x, _mm_movehl_ps(x, x));
            _mm_cvtss_f32(_mm_add_ss(x, _mm_shuffle_ps::<1>(x, x)))
        }
    }

    /// Where one register block reads and writes.
    #[derive(Clone, Copy)]
    struct Block {
        k: usize,
        a: Operand<f32>,
        /// `b`'s first element of the panel; rows contiguous.
        b: *const f32,
        b_rs: isize,
        c: Dest<f32>,
        alpha: f32,
        beta: f32,
    }

    /// `R` rows of `c` by `V` registers of columns (the last one partial, as `last` says),
    /// accumulated in registers over all of `k`, then written once.
    ///
    /// # Safety
    ///
    /// The CPU has `L`'s instruction set; `x` describes a block within live operands (`c`
    /// overlapping neither `a` nor `b`), and `last` covers only the columns of the final
    /// register that exist.
    #[inline(always)]
    unsafe fn block<L: Lanes, const R: usize, const V: usize>(x: Block, last: L::Mask) {
        // SAFETY (whole body): the caller passes a block within the operands' extents, with
        // `last` covering only the columns of the final register that exist.
        unsafe {
            let zero = L::splat(0.0);
            let mut acc = [[zero; V]; R];
            let (mut ap, mut bp) = (x.a.ptr, x.b);
            for _ in 0..x.k {
                let mut bv = [zero; V];
                for (v, slot) in bv.iter_mut().enumerate() {
                    let p = bp.add(v * L::N);
                    *slot = if v + 1 < V {
                        L::load(p)
                    } else {
                        L::load_part(p, last)
                    };
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    let s = L::splat(*ap.offset(r as isize * x.a.rs));
                    for (acc, &b) in row.iter_mut().zip(&bv) {
                        *acc = s.mul_add(b, *acc);
                    }
                }
                ap = ap.offset(x.a.cs);
                bp = bp.offset(x.b_rs);
            }
            let (alpha, beta) = (L::splat(x.alpha), L::splat(x.beta));
            for (r, row) in acc.iter().enumerate() {
                let cr = x.c.ptr.offset(r as isize * x.c.rs);
                for (v, &sum) in row.iter().enumerate() {
                    let p = cr.add(v * L::N);
                    let whole = v + 1 < V;
                    let mut out = sum.mul(alpha);
                    if x.beta != 0.0 {
                        let old = if whole {
                            L::load(p)
                        } else {
                            L::load_part(p, last)
                        };
                        out = old.mul_add(beta, out);
                    }
                    if whole {
                        out.store(p);
                    } else {
                        out.store_part(p, last);
                    }
                }
            }
        }
    }

    /// Calls `block::<L, R, V>` for the runtime `rows` (1..=ROWS) and `regs` (1..=4).
    macro_rules! dispatch {
        ($l:ty, $rows:expr, $regs:expr, $x:expr, $last:expr; $($r:literal)*) => {
            match $rows {
                $($r => match $regs {
                    1 => block::<$l, $r, 1>($x, $last),
                    2 => block::<$l, $r, 2>($x, $last),
                    3 if <$l>::PANEL >= 3 => block::<$l, $r, 3>($x, $last),
                    _ if <$l>::PANEL >= 4 => block::<$l, $r, 4>($x, $last),
                    _ => unreachable!("a panel has at most {} registers", <$l>::PANEL),
                },)*
                _ => unreachable!("a block has at most {ROWS} rows"),
            }
        };
    }

    /// `c = alpha * a · b + beta * c`, block by block: panels of columns, blocks of rows.
    ///
    /// # Safety
    ///
    /// As for [`run`], with `L` compiled for the CPU's instruction set.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn panels<L: Lanes>(
        d: Dims,
        alpha: f32,
        a: Operand<f32>,
        b_rs: isize,
        b: *const f32,
        beta: f32,
        c: Dest<f32>,
    ) {
        let width = L::N * L::PANEL;
        let mut j0 = 0;
        while j0 < d.n {
            let w = width.min(d.n - j0);
            let regs = w.div_ceil(L::N);
            // SAFETY (whole loop): every block lies within the operands' extents (the caller
            // passes live matrices of `d`'s extents).
            unsafe {
                let last = L::first(w - (regs - 1) * L::N);
                let mut i0 = 0;
                while i0 < d.m {
                    let rows = ROWS.min(d.m - i0);
                    let x = Block {
                        k: d.k,
                        a: Operand {
                            ptr: a.at(i0, 0),
                            ..a
                        },
                        b: b.add(j0),
                        b_rs,
                        c: Dest {
                            ptr: c.at(i0, j0),
                            ..c
                        },
                        alpha,
                        beta,
                    };
                    dispatch!(L, rows, regs, x, last; 1 2 3 4 5 6);
                    i0 += rows;
                }
            }
            j0 += w;
        }
    }

    /// [`panels`] in 16-float registers.
    ///
    /// # Safety
    ///
    /// As for [`run`], on a CPU with AVX-512F.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_avx512(
        d: Dims,
        alpha: f32,
        a: Operand<f32>,
        b_rs: isize,
        b: *const f32,
        beta: f32,
        c: Dest<f32>,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe { panels::<Z>(d, alpha, a, b_rs, b, beta, c) }
    }

    /// [`panels`] in 8-float registers.
    ///
    /// # Safety
    ///
    /// As for [`run`], on a CPU with AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_avx2(
        d: Dims,
        alpha: f32,
        a: Operand<f32>,
        b_rs: isize,
        b: *const f32,
        beta: f32,
        c: Dest<f32>,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe { panels::<Y>(d, alpha, a, b_rs, b, beta, c) }
    }

    /// `c = alpha * a · b + beta * c` with `b` at `b` (row stride `b_rs`, rows contiguous)
    /// and `c`'s rows contiguous (or `n == 1`).
    ///
    /// # Safety
    ///
    /// The CPU has `isa`; the operands describe live matrices of `d`'s extents, `c`
    /// overlapping neither `a` nor `b`.
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn run(
        isa: Isa,
        d: Dims,
        alpha: f32,
        a: Operand<f32>,
        b_rs: isize,
        b: *const f32,
        beta: f32,
        c: Dest<f32>,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match isa {
                Isa::Avx512 => run_avx512(d, alpha, a, b_rs, b, beta, c),
                Isa::Avx2 => run_avx2(d, alpha, a, b_rs, b, beta, c),
            }
        }
    }
}
