//! Products of a few rows by a large matrix, `[m, k] · [k, n]` with `m <= FEW_ROWS`: a
//! cached token's `x · W` (GPT-2's `[1, 768] · [768, 3072]`) and its logits `x · Wᵀ` (`[1,
//! 768]` by `wte`'s 50257 rows). Each element of `b` is used `m` times only, so the product
//! is bound by reading `b` from memory; these loops read it once, in the order it lies, so
//! the hardware prefetchers stream it at the memory's rate:
//!
//! * **`b`'s rows contiguous** (`x · W`, `W` row-major): `b` is read row after row, four rows
//!   at a time, each scaled by the broadcast `a[i, p]` and added into a row of sums; the
//!   rows go in fixed chunks of 64, each summed (in order, one fused multiply-add a term)
//!   into its own row of partial sums in a thread-local buffer that keeps its capacity, and
//!   the chunks' sums are then added in order;
//! * **`b`'s columns contiguous** (`x · Wᵀ`, `W` row-major): each row of `W` is read once and
//!   dotted with each row of `a`, in four vector partial sums added in a fixed order.
//!
//! Large products are split across [`crate::threads::num_threads`] threads by blocks of
//! whole chunks of `W`'s rows (`x · W`: each thread streams one contiguous run of `W`) or
//! of whole rows of `W` (`x · Wᵀ`): the chunks are fixed by the shape, and every sum is
//! computed by the same code, adding the same terms in the same order, whichever thread
//! computes it, so the result does not depend on the thread count
//! (`same_bits_at_every_thread_count`).

use std::any::TypeId;
use std::cell::RefCell;
use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

use super::matmul::{Dest, Operand};

/// Most rows of `a` [`few_rows`] takes.
pub(super) const FEW_ROWS: usize = 4;

/// Products of fewer multiply-adds with `b`'s rows contiguous are left to the matrix
/// product (the direct loops).
const FEW_ROWS_MIN: usize = 1 << 16;

/// Products of at least this many multiply-adds (about 1 MB of `b`) are split across threads.
const SPLIT_MIN: usize = 1 << 18;

/// Blocks of rows of `W` in `x · Wᵀ` are multiples of this many.
const ALIGN: usize = 64;

/// `x · W` sums `W`'s rows in chunks of this many (then adds the chunks' sums in order).
const CHUNK: usize = 64;

thread_local! {
    /// The rows of sums of the `x · W` form.
    static SUMS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `c = alpha * a · b + beta * c` (`beta == 0` ignores what `c` held) if it is an f32
/// product of at most [`FEW_ROWS`] rows with `b`'s columns contiguous (and `a`'s rows), or
/// one large enough to be memory bound with `b`'s rows contiguous (and `c`'s); `false`, with
/// nothing done, for any other product (or shapes that do not fit).
pub(super) fn few_rows<T: LinalgScalar>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) -> bool {
    if TypeId::of::<T>() != TypeId::of::<f32>() {
        return false;
    }
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    if k != k2 || c.dim() != (m, n) || m == 0 || m > FEW_ROWS || n == 0 || k == 0 {
        return false;
    }
    let (sa, sb) = (a.strides(), b.strides());
    let sc = [c.strides()[0], c.strides()[1]];
    let large = m.saturating_mul(n).saturating_mul(k) >= FEW_ROWS_MIN;
    // Small products with `b`'s rows contiguous are the direct loops' best case; with `b`
    // transposed (an attention's `q · kᵀ`) those copy `b` first, which the dots need not.
    let rows_of_b = sb[1] == 1 && sc[1] == 1 && large;
    if !rows_of_b && !(sb[0] == 1 && sa[1] == 1 && (large || sb[1] != 1)) {
        return false;
    }
    let a_ = Operand {
        ptr: a.as_ptr().cast::<f32>(),
        rs: sa[0],
        cs: sa[1],
    };
    let b_ = Operand {
        ptr: b.as_ptr().cast::<f32>(),
        rs: sb[0],
        cs: sb[1],
    };
    let c_ = Dest {
        ptr: c.as_mut_ptr().cast::<f32>(),
        rs: sc[0],
        cs: sc[1],
    };
    // SAFETY: T is f32 (checked above), so reading alpha and beta as f32 and the casts of
    // the pointers change nothing.
    let (alpha, beta) = unsafe {
        (
            *(&alpha as *const T).cast::<f32>(),
            *(&beta as *const T).cast::<f32>(),
        )
    };
    let x = Product {
        m,
        k,
        n,
        alpha,
        beta,
        a: a_,
        b: b_,
        c: c_,
        sums: std::ptr::null_mut(),
    };
    // SAFETY: the operands describe live views of the checked extents with the checked
    // unit strides; `c` is borrowed uniquely, so it overlaps neither `a` nor `b`.
    unsafe {
        if rows_of_b {
            axpy(x);
        } else {
            dots(x);
        }
    }
    true
}

/// One product's operands, shared with the threads that compute its blocks.
#[derive(Clone, Copy)]
struct Product {
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    beta: f32,
    a: Operand<f32>,
    b: Operand<f32>,
    c: Dest<f32>,
    /// The `x · W` form's partial sums, `[chunks, m, n]` (null for the dots).
    sums: *mut f32,
}

// SAFETY: the threads a product is split over read `a` and `b` (which nothing writes while
// the product runs) and write disjoint blocks of `c` (or of `sums`).
unsafe impl Send for Product {}
// SAFETY: as above.
unsafe impl Sync for Product {}

/// `c[i, j] = alpha * sum + beta * c[i, j]`, ignoring `c` when `beta == 0`.
///
/// # Safety
///
/// `out` points to a live float that nothing else accesses meanwhile.
#[inline(always)]
unsafe fn finish(out: *mut f32, sum: f32, alpha: f32, beta: f32) {
    // SAFETY: forwarded from the caller.
    unsafe {
        *out = if beta == 0.0 {
            alpha * sum
        } else {
            alpha * sum + beta * *out
        };
    }
}

/// Calls `f(x, block)` on blocks of `0..n` (each a multiple of `align` long but the last),
/// on up to [`crate::threads::num_threads`] threads when the product reaches [`SPLIT_MIN`]
/// multiply-adds. The blocks run through `rayon::join`, which allocates nothing.
///
/// # Safety
///
/// `x` describes live operands for which `f` may be called on any block of `0..n`, from
/// any thread, while other blocks are computed.
unsafe fn split(x: Product, n: usize, align: usize, f: unsafe fn(Product, Range<usize>)) {
    let threads = crate::threads::num_threads();
    let width = n.div_ceil(threads.max(1)).next_multiple_of(align);
    if threads <= 1 || x.m * x.k * x.n < SPLIT_MIN || width >= n {
        // SAFETY: forwarded from the caller.
        unsafe { f(x, 0..n) };
        return;
    }
    /// Blocks `parts` of `width`, halved until one is left.
    ///
    /// # Safety
    ///
    /// As for [`split`].
    unsafe fn blocks(
        x: Product,
        parts: Range<usize>,
        width: usize,
        n: usize,
        f: unsafe fn(Product, Range<usize>),
    ) {
        if parts.len() == 1 {
            let start = parts.start * width;
            // SAFETY: forwarded from the caller; the block lies within `0..n`.
            unsafe { f(x, start..n.min(start + width)) };
            return;
        }
        let mid = parts.start + parts.len() / 2;
        // SAFETY: forwarded from the caller; the two halves are disjoint.
        rayon::join(
            || unsafe { blocks(x, parts.start..mid, width, n, f) },
            || unsafe { blocks(x, mid..parts.end, width, n, f) },
        );
    }
    // SAFETY: forwarded from the caller.
    unsafe { blocks(x, 0..n.div_ceil(width), width, n, f) };
}

/// `x · W` with `W`'s rows (and `c`'s) contiguous: `W`'s rows in chunks of [`CHUNK`],
/// each summed into its own row of partial sums (in parallel by blocks of chunks), then the
/// partial sums added in order. The chunks are fixed by `k`, so the sums are the same at any
/// thread count; each thread reads whole rows of `W`, one contiguous run per block.
///
/// # Safety
///
/// `x`'s operands describe live matrices (`a` `[m, k]`, `b` `[k, n]` with column stride 1,
/// `c` `[m, n]` with column stride 1), `c` overlapping neither `a` nor `b`.
unsafe fn axpy(x: Product) {
    /// Chunks `chunks` of `W`'s rows into their partial sums.
    ///
    /// # Safety
    ///
    /// As for [`axpy`], `x.sums` holding every chunk's zeroed `[m, n]`, `chunks` within
    /// them, no other call writing those.
    unsafe fn block(x: Product, chunks: Range<usize>) {
        for q in chunks {
            let rows = q * CHUNK..x.k.min((q + 1) * CHUNK);
            // SAFETY: rows `rows` lie within `a`'s columns and `b`'s rows; chunk `q`'s
            // partial sums are written by this call only.
            unsafe {
                let part = Product {
                    k: rows.len(),
                    a: Operand {
                        ptr: x.a.at(0, rows.start),
                        ..x.a
                    },
                    b: Operand {
                        ptr: x.b.at(rows.start, 0),
                        ..x.b
                    },
                    sums: x.sums.add(q * x.m * x.n),
                    ..x
                };
                accumulate(part);
            }
        }
    }
    let chunks = x.k.div_ceil(CHUNK);
    SUMS.with(|buf| {
        // A nested call (none today) would find the buffer taken: it gets its own.
        let mut guard = buf.try_borrow_mut().ok();
        let mut own = Vec::new();
        let sums = guard.as_deref_mut().unwrap_or(&mut own);
        sums.clear();
        sums.resize(chunks * x.m * x.n, 0.0);
        let x = Product {
            sums: sums.as_mut_ptr(),
            ..x
        };
        // SAFETY: forwarded from the caller; `sums` holds every chunk's `[m, n]`, and
        // `block` is called on disjoint blocks of chunks.
        unsafe {
            split(x, chunks, 1, block);
            reduce(x, chunks);
        }
    });
}

/// `x · Wᵀ` with `W`'s rows (`b`'s columns) and `a`'s rows contiguous: `n` rows of `W`.
///
/// # Safety
///
/// `x`'s operands describe live matrices (`a` `[m, k]` with column stride 1, `b` `[k, n]`
/// with row stride 1, `c` `[m, n]`), `c` overlapping neither `a` nor `b`.
unsafe fn dots(x: Product) {
    /// One block of rows of `W`.
    ///
    /// # Safety
    ///
    /// As for [`dots`], `rows` within `0..n`, no other call writing those columns of `c`.
    unsafe fn block(x: Product, rows: Range<usize>) {
        // SAFETY: rows `rows` of `W` (columns of `b` and `c`) lie within the operands; this
        // block of `c` is written by this call only.
        unsafe {
            let w = x.b.at(0, rows.start);
            let c = Dest {
                ptr: x.c.at(0, rows.start),
                ..x.c
            };
            dots_block(x, w, rows.len(), c);
        }
    }
    // SAFETY: forwarded from the caller; `block` is called on disjoint blocks.
    unsafe { split(x, x.n, ALIGN, block) };
}

/// `x.sums[i * n + j] += sum over p of a[i, p] * b[p, j]` for `x.m` rows and `x.n` columns,
/// the `k` terms added in order.
///
/// # Safety
///
/// `x.a` is a live `[m, k]` matrix, `x.b` a live `[k, n]` one with contiguous rows,
/// `x.sums` `m * n` writable floats overlapping neither.
unsafe fn accumulate(x: Product) {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = super::direct::x86_isa() {
        // SAFETY: forwarded from the caller; the ISA was detected.
        unsafe { x86::accumulate(isa, x) };
        return;
    }
    // SAFETY (whole loop): every index lies within the extents the caller promises.
    unsafe {
        for p in 0..x.k {
            let row = x.b.at(p, 0);
            for i in 0..x.m {
                let s = *x.a.at(i, p);
                let out = x.sums.add(i * x.n);
                for j in 0..x.n {
                    *out.add(j) += s * *row.add(j);
                }
            }
        }
    }
}

/// `c = alpha * (the `chunks` partial sums `[m, n]` at `x.sums`, added in order) + beta * c`.
///
/// # Safety
///
/// `x.sums` holds `chunks` live `[m, n]` blocks; `x.c` is a live `[m, n]` matrix with
/// contiguous rows, overlapping nothing else.
unsafe fn reduce(x: Product, chunks: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = super::direct::x86_isa() {
        // SAFETY: forwarded from the caller; the ISA was detected.
        unsafe { x86::reduce(isa, x, chunks) };
        return;
    }
    // SAFETY (whole loop): every index lies within the extents the caller promises.
    unsafe {
        for i in 0..x.m {
            for j in 0..x.n {
                let mut sum = *x.sums.add(i * x.n + j);
                for q in 1..chunks {
                    sum += *x.sums.add((q * x.m + i) * x.n + j);
                }
                finish(x.c.at(i, j), sum, x.alpha, x.beta);
            }
        }
    }
}

/// `c[i, r] = alpha * (a[i, ..] · w[r, ..]) + beta * c[i, r]` for `rows` rows of `W`.
///
/// # Safety
///
/// `x.a` is a live `[m, k]` matrix with contiguous rows; `w` points to `rows` live rows of
/// `k` floats, `x.b.cs` apart; `c` is a live `[m, rows]` matrix overlapping neither.
unsafe fn dots_block(x: Product, w: *const f32, rows: usize, c: Dest<f32>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = super::direct::x86_isa() {
        // SAFETY: forwarded from the caller; the ISA was detected.
        unsafe { x86::dots(isa, x, w, rows, c) };
        return;
    }
    // SAFETY (whole loop): every index lies within the extents the caller promises.
    unsafe {
        for r in 0..rows {
            let wr = w.offset(r as isize * x.b.cs);
            for i in 0..x.m {
                let ar = x.a.at(i, 0);
                let mut part = [0.0f32; 8];
                for p in 0..x.k {
                    part[p % 8] += *ar.add(p) * *wr.add(p);
                }
                let sum = ((part[0] + part[1]) + (part[2] + part[3]))
                    + ((part[4] + part[5]) + (part[6] + part[7]));
                finish(c.at(i, r), sum, x.alpha, x.beta);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};

    use super::super::direct::x86::{Isa, Lanes, Y, Z};
    use super::{finish, Dest, Product};

    /// How far ahead of the loads (in floats: 2 KB) the loops ask for `b`'s next cache lines.
    const AHEAD: usize = 512;

    /// Asks for the cache line holding `p` (any address: a prefetch never faults).
    #[inline(always)]
    fn prefetch(p: *const f32) {
        // SAFETY: a prefetch reads nothing the program can observe and never faults, so any
        // address is allowed; SSE is part of x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
    }

    /// Calls `$f::<$l, M>($args)` for the runtime `m` (1..=FEW_ROWS).
    macro_rules! rows {
        ($f:ident, $l:ty, $m:expr, ($($arg:expr),*)) => {
            match $m {
                1 => $f::<$l, 1>($($arg),*),
                2 => $f::<$l, 2>($($arg),*),
                3 => $f::<$l, 3>($($arg),*),
                _ => $f::<$l, 4>($($arg),*),
            }
        };
    }

    /// [`super::accumulate`] for `M` rows of `a`, in `L`'s registers: four rows of `b` at a
    /// time, their lanes loaded once for all `M` rows of sums.
    ///
    /// # Safety
    ///
    /// As for [`super::accumulate`], on a CPU with `L`'s instruction set.
    #[inline(always)]
    unsafe fn accumulate_rows<L: Lanes, const M: usize>(x: Product) {
        /// `G` rows of `b` from `p` into every row of sums.
        ///
        /// # Safety
        ///
        /// As for `accumulate_rows`, rows `p..p + G` within `b`.
        #[inline(always)]
        unsafe fn rows_of<L: Lanes, const M: usize, const G: usize>(p: usize, x: Product) {
            // SAFETY (whole body): every load and store lies within rows `p..p + G` of `b`
            // and `sums`' `M` rows of `n` (the last register masked to the columns that
            // exist), as the caller promises.
            unsafe {
                let full = x.n / L::N;
                let rest = x.n - full * L::N;
                let last = L::first(rest);
                let zero = L::splat(0.0);
                let mut s = [[zero; G]; M];
                let mut w = [x.b.ptr; G];
                for q in 0..G {
                    for (i, s) in s.iter_mut().enumerate() {
                        s[q] = L::splat(*x.a.at(i, p + q));
                    }
                    w[q] = x.b.at(p + q, 0);
                }
                for v in 0..full + usize::from(rest > 0) {
                    // Whole registers, then the masked tail's.
                    let whole = v < full;
                    let mut bv = [zero; G];
                    for q in 0..G {
                        let at = w[q].add(v * L::N);
                        if v * L::N % 16 == 0 {
                            prefetch(at.wrapping_add(AHEAD));
                        }
                        bv[q] = if whole {
                            L::load(at)
                        } else {
                            L::load_part(at, last)
                        };
                    }
                    for (i, s) in s.iter().enumerate() {
                        let out = x.sums.add(i * x.n + v * L::N);
                        let mut acc = if whole {
                            L::load(out)
                        } else {
                            L::load_part(out, last)
                        };
                        for q in 0..G {
                            acc = s[q].mul_add(bv[q], acc);
                        }
                        if whole {
                            acc.store(out);
                        } else {
                            acc.store_part(out, last);
                        }
                    }
                }
            }
        }
        // SAFETY: forwarded from the caller, row by row.
        unsafe {
            let mut p = 0;
            while p + 4 <= x.k {
                rows_of::<L, M, 4>(p, x);
                p += 4;
            }
            while p < x.k {
                rows_of::<L, M, 1>(p, x);
                p += 1;
            }
        }
    }

    /// [`super::reduce`] in `L`'s registers, finishing `c` as the direct loops finish a
    /// block.
    ///
    /// # Safety
    ///
    /// As for [`super::reduce`], on a CPU with `L`'s instruction set.
    #[inline(always)]
    unsafe fn reduce_rows<L: Lanes>(x: Product, chunks: usize) {
        // SAFETY (whole body): every load and store lies within the `chunks` blocks of
        // sums and `c`'s `[m, n]` (the last register masked to the columns that exist).
        unsafe {
            let full = x.n / L::N;
            let rest = x.n - full * L::N;
            let last = L::first(rest);
            let load = |p: *const f32, whole: bool| {
                if whole {
                    L::load(p)
                } else {
                    L::load_part(p, last)
                }
            };
            let (alpha, beta) = (L::splat(x.alpha), L::splat(x.beta));
            for i in 0..x.m {
                for v in 0..full + usize::from(rest > 0) {
                    let whole = v < full;
                    let at = i * x.n + v * L::N;
                    let mut sum = load(x.sums.add(at), whole);
                    for q in 1..chunks {
                        sum = sum.add(load(x.sums.add(q * x.m * x.n + at), whole));
                    }
                    let o = x.c.at(i, v * L::N);
                    let mut y = sum.mul(alpha);
                    if x.beta != 0.0 {
                        y = load(o, whole).mul_add(beta, y);
                    }
                    if whole {
                        y.store(o);
                    } else {
                        y.store_part(o, last);
                    }
                }
            }
        }
    }

    /// [`super::dots_block`] for `M` rows of `a`, in `L`'s registers: four partial sums per
    /// row of `a`, each row of `W` loaded once for all of them.
    ///
    /// # Safety
    ///
    /// As for [`super::dots_block`], on a CPU with `L`'s instruction set.
    #[inline(always)]
    unsafe fn dot_rows<L: Lanes, const M: usize>(
        x: Product,
        w: *const f32,
        rows: usize,
        c: Dest<f32>,
    ) {
        // SAFETY (whole body): every load lies within `a`'s `M` rows and `W`'s `rows` rows
        // of `k` floats (the last register masked to the floats that exist), every store
        // within `c`'s `[M, rows]`, as the caller promises.
        unsafe {
            let k = x.k;
            let quads = k / (4 * L::N);
            let singles = (k - quads * 4 * L::N) / L::N;
            let tail = k - (quads * 4 + singles) * L::N;
            let last = L::first(tail);
            let zero = L::splat(0.0);
            let mut ar = [x.a.ptr; M];
            for (i, p) in ar.iter_mut().enumerate() {
                *p = x.a.at(i, 0);
            }
            for r in 0..rows {
                let wr = w.offset(r as isize * x.b.cs);
                let mut acc = [[zero; 4]; M];
                for q in 0..quads {
                    let at = q * 4 * L::N;
                    for u in 0..4 {
                        if u * L::N % 16 == 0 {
                            prefetch(wr.wrapping_add(at + u * L::N + AHEAD));
                        }
                        let wv = L::load(wr.add(at + u * L::N));
                        for (i, acc) in acc.iter_mut().enumerate() {
                            let av = L::load(ar[i].add(at + u * L::N));
                            acc[u] = av.mul_add(wv, acc[u]);
                        }
                    }
                }
                let mut at = quads * 4 * L::N;
                for _ in 0..singles {
                    let wv = L::load(wr.add(at));
                    for (i, acc) in acc.iter_mut().enumerate() {
                        acc[0] = L::load(ar[i].add(at)).mul_add(wv, acc[0]);
                    }
                    at += L::N;
                }
                if tail > 0 {
                    let wv = L::load_part(wr.add(at), last);
                    for (i, acc) in acc.iter_mut().enumerate() {
                        acc[0] = L::load_part(ar[i].add(at), last).mul_add(wv, acc[0]);
                    }
                }
                for (i, acc) in acc.iter().enumerate() {
                    let sum = acc[0].add(acc[1]).add(acc[2].add(acc[3])).sum();
                    finish(c.at(i, r), sum, x.alpha, x.beta);
                }
            }
        }
    }

    /// [`accumulate_rows`] and [`reduce_rows`] in 16-float registers.
    ///
    /// # Safety
    ///
    /// As for [`super::accumulate`] (`chunks == 0`) or [`super::reduce`], on a CPU with
    /// AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn axpy_avx512(x: Product, chunks: usize) {
        // SAFETY: forwarded from the caller.
        unsafe {
            if chunks == 0 {
                rows!(accumulate_rows, Z, x.m, (x))
            } else {
                reduce_rows::<Z>(x, chunks)
            }
        }
    }

    /// [`accumulate_rows`] and [`reduce_rows`] in 8-float registers.
    ///
    /// # Safety
    ///
    /// As for [`super::accumulate`] (`chunks == 0`) or [`super::reduce`], on a CPU with
    /// AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn axpy_avx2(x: Product, chunks: usize) {
        // SAFETY: forwarded from the caller.
        unsafe {
            if chunks == 0 {
                rows!(accumulate_rows, Y, x.m, (x))
            } else {
                reduce_rows::<Y>(x, chunks)
            }
        }
    }

    /// [`super::accumulate`] with `isa`'s registers.
    ///
    /// # Safety
    ///
    /// As for [`super::accumulate`], on a CPU with `isa`.
    pub(super) unsafe fn accumulate(isa: Isa, x: Product) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match isa {
                Isa::Avx512 => axpy_avx512(x, 0),
                Isa::Avx2 => axpy_avx2(x, 0),
            }
        }
    }

    /// [`super::reduce`] with `isa`'s registers.
    ///
    /// # Safety
    ///
    /// As for [`super::reduce`], on a CPU with `isa`.
    pub(super) unsafe fn reduce(isa: Isa, x: Product, chunks: usize) {
        // SAFETY: forwarded from the caller (`chunks >= 1`: `k >= 1`).
        unsafe {
            match isa {
                Isa::Avx512 => axpy_avx512(x, chunks),
                Isa::Avx2 => axpy_avx2(x, chunks),
            }
        }
    }

    /// [`dot_rows`] in 16-float registers.
    ///
    /// # Safety
    ///
    /// As for [`super::dots_block`], on a CPU with AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn dots_avx512(x: Product, w: *const f32, rows: usize, c: Dest<f32>) {
        // SAFETY: forwarded from the caller.
        unsafe { rows!(dot_rows, Z, x.m, (x, w, rows, c)) }
    }

    /// [`dot_rows`] in 8-float registers.
    ///
    /// # Safety
    ///
    /// As for [`super::dots_block`], on a CPU with AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dots_avx2(x: Product, w: *const f32, rows: usize, c: Dest<f32>) {
        // SAFETY: forwarded from the caller.
        unsafe { rows!(dot_rows, Y, x.m, (x, w, rows, c)) }
    }

    /// [`super::dots_block`] with `isa`'s registers.
    ///
    /// # Safety
    ///
    /// As for [`super::dots_block`], on a CPU with `isa`.
    pub(super) unsafe fn dots(isa: Isa, x: Product, w: *const f32, rows: usize, c: Dest<f32>) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match isa {
                Isa::Avx512 => dots_avx512(x, w, rows, c),
                Isa::Avx2 => dots_avx2(x, w, rows, c),
            }
        }
    }
}

#[cfg(test)]
#[path = "vecmat_tests.rs"]
mod tests;
