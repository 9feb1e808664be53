//! The matrix product every op and layer goes through: `c = alpha * a · b + beta * c`.
//!
//! What goes where, and why (single thread, measured on this project's 2-core AVX-512 VM with
//! `cargo bench -p scope-runtime --bench gemm`, which times `matrixmultiply`, the `gemm`
//! crate called directly, and this function at each shape):
//!
//! * **f32, small or narrow products** (at most 256K multiply-adds, or any length when the
//!   two smaller extents multiply to at most 4096, as in an RNN's `[B*T, H] · [H, 4H]` or
//!   `[H, B*T] · [B*T, 4H]`): the direct loops of the private `direct` module. A block of
//!   `c` (6 rows by up to four 16-lane registers) stays in registers over the whole `k`
//!   loop, `a`'s elements are broadcast (any strides), `b`'s rows are read in place (or,
//!   for a transposed `b`, copied once per call into a thread-local buffer that keeps its
//!   capacity, so callers that multiply by the same transposed matrix often keep a
//!   transposed copy). AVX-512 or AVX2+FMA is chosen at run time by the kernels' one
//!   dispatch ([`super::isa`]; one binary runs on any x86-64), with a plain loop otherwise. **They allocate nothing**, so the seed RNN's
//!   train step makes no heap allocation at all (`tests/it/seed_rnn_alloc.rs`). Medians,
//!   `matrixmultiply` / `gemm` / direct: the seed RNN's per-step `[20, 11] · [11, 44]`
//!   0.91 / 0.59 / 0.17 us; `[400, 11] · [11, 44]` 9.4 / 5.9 / 3.3 us; `[11, 400]ᵀ ·
//!   [400, 44]` 13.8 / 8.0 / 3.6 us; `[400, 44] · [44, 11]ᵀ` 15.6 / 12.5 / 8.2 us; longer
//!   and wider ones past 256K multiply-adds, `[1000, 11] · [11, 44]` 30.7 / 22.0 / 10.6 us
//!   and `[19, 297]ᵀ · [297, 76]` 22.6 / 19.6 / 12.2 us. (`matrixmultiply` allocates its
//!   packing buffer on every call; `gemm` pays for its set-up and packing.)
//! * **f32 and f64, larger products** (BERT's, from `[128, 64] · [64, 128]` up): the
//!   [`gemm`] crate (the GEMM that candle and faer build on), single-threaded, with its
//!   AVX-512 / AVX2+FMA / scalar micro-kernels picked at run time. There the direct loops
//!   (timed by routing every product to them, best of 7) are no faster (within noise at `[1024, 128] · [128, 128]`) and up to 1.4 times slower
//!   (`[512, 1024]ᵀ · [1024, 128]`, which needs `gemm`'s cache blocking). `gemm` keeps its
//!   left-hand packing in a thread-local slab but allocates its right-hand packing buffer
//!   and a small flag vector on every call: products routed here are not allocation-free.
//!   At BERT-Tiny's shapes it runs 2 to 2.8 times as fast as `matrixmultiply`
//!   (`cargo bench -p scope-runtime --bench gemm`; see the performance notes).
//! * **f32, at most four rows by a large matrix** (a cached token's `x · W`, its logits
//!   `x · Wᵀ`): the `vecmat` loops, which read `b` once in the order it lies, at the
//!   memory's rate, split across threads by fixed blocks (see that module).
//! * **Other element types, and f64 below 32K multiply-adds**: a plain non-allocating loop
//!   (f64 only meets it in gradient checks); larger products of other types go to
//!   `ndarray`'s `general_mat_mul` (`matrixmultiply`).

use std::any::TypeId;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar};

use super::direct;

/// Products of at most this many multiply-adds (`m * n * k`) run in [`direct`]'s loops.
const DIRECT_MAX: usize = 256 * 1024;

/// So do narrow products of any length: those whose two smaller extents multiply to at most
/// this (a block of `c` or a panel of `b` that stays in registers or L1 over the long one).
const DIRECT_NARROW: usize = 4096;

/// Other element types run in [`direct::generic`]'s plain loop up to this many multiply-adds.
const GENERIC_MAX: usize = 32 * 1024;

/// Whether `[m, k] · [k, n]` runs in [`direct`]'s loops (see the module docs).
fn is_direct(m: usize, n: usize, k: usize) -> bool {
    let mut d = [m, n, k];
    d.sort_unstable();
    m.saturating_mul(n).saturating_mul(k) <= DIRECT_MAX
        || d[0].saturating_mul(d[1]) <= DIRECT_NARROW
}

/// `c = alpha * a · b + beta * c` for `a` `[m, k]`, `b` `[k, n]`, `c` `[m, n]`, any strides
/// (`ndarray`'s `general_mat_mul` contract; `beta == 0` ignores what `c` held, NaN included).
///
/// # Panics
///
/// If the shapes do not fit, like `general_mat_mul`. Callers check shapes first.
pub(crate) fn mat_mul<T: LinalgScalar>(
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
    // A few rows by a large matrix (a cached token's `x · W`, its logits `x · Wᵀ`) is bound
    // by memory: read `b` once, in the order it lies.
    if m <= super::vecmat::FEW_ROWS && super::vecmat::few_rows(alpha, a, b, beta, c) {
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
    let is_f32 = TypeId::of::<T>() == TypeId::of::<f32>();
    if is_f32 && is_direct(m, n, k) {
        // SAFETY: T is f32 (checked just above), so the casts change nothing; the operands
        // describe live views of the checked extents, and `c` is borrowed uniquely, so it
        // overlaps neither `a` nor `b`.
        unsafe {
            let f = |x: T| *(&x as *const T as *const f32);
            direct_split(dims, f(alpha), a_.cast(), b_.cast(), f(beta), c_.cast());
        }
        return;
    }
    if m.saturating_mul(n).saturating_mul(k) <= GENERIC_MAX {
        // SAFETY: as above.
        unsafe { direct::generic(dims, alpha, a_, b_, beta, c_) };
        return;
    }
    if is_f32 {
        // SAFETY: as above.
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

/// Direct-loop products of at least this many multiply-adds (GPT-2's one-token
/// `[1, 768] · [768, 3072]` and up) are split by columns across threads.
const DIRECT_SPLIT_MIN: usize = 1 << 20;

/// Columns of each thread's share of a split direct-loop product are a multiple of this
/// (four 16-float registers: whole panels).
const DIRECT_SPLIT_ALIGN: usize = 64;

/// [`direct::f32`], its columns split into up to [`crate::threads::num_threads`] blocks run
/// in parallel when the product is large enough. Each element of `c` is a sum the direct
/// loops compute the same way wherever its block starts (a register of its own, the `k`
/// terms in order, then `alpha` and `beta`), so the result does not depend on the split.
///
/// # Safety
///
/// As for [`direct::f32`].
unsafe fn direct_split(
    d: Dims,
    alpha: f32,
    a: Operand<f32>,
    b: Operand<f32>,
    beta: f32,
    c: Dest<f32>,
) {
    let threads = crate::threads::num_threads();
    let work = d.m.saturating_mul(d.n).saturating_mul(d.k);
    let width =
        d.n.div_ceil(threads.max(1))
            .next_multiple_of(DIRECT_SPLIT_ALIGN);
    if threads <= 1 || work < DIRECT_SPLIT_MIN || width >= d.n {
        // SAFETY: forwarded from the caller.
        unsafe { direct::f32(d, alpha, a, b, beta, c) };
        return;
    }
    /// The operands, sent to the pool's threads.
    #[derive(Clone, Copy)]
    struct Shared(Operand<f32>, Operand<f32>, Dest<f32>);
    // SAFETY: the threads below read `a` and `b` (which nothing writes while the product
    // runs) and write disjoint column blocks of `c`.
    unsafe impl Send for Shared {}
    // SAFETY: as above.
    unsafe impl Sync for Shared {}
    impl Shared {
        // A method, so the closures below capture the whole `Shared` (Send) rather than
        // its fields (raw pointers, not Send).
        fn parts(self) -> (Operand<f32>, Operand<f32>, Dest<f32>) {
            (self.0, self.1, self.2)
        }
    }
    let shared = Shared(a, b, c);
    rayon::scope(|scope| {
        for j0 in (0..d.n).step_by(width) {
            scope.spawn(move |_| {
                let (a, b, c) = shared.parts();
                let cols = width.min(d.n - j0);
                // SAFETY: columns `j0..j0 + cols` lie within `b` and `c`; this block of `c` is
                // written by this task only, and overlaps neither `a` nor `b` (the caller's
                // contract).
                unsafe {
                    let b = Operand {
                        ptr: b.at(0, j0),
                        ..b
                    };
                    let c = Dest {
                        ptr: c.at(0, j0),
                        ..c
                    };
                    direct::f32(Dims { n: cols, ..d }, alpha, a, b, beta, c);
                }
            });
        }
    });
}

/// The extents of `[m, k] · [k, n]`.
#[derive(Clone, Copy)]
pub(super) struct Dims {
    pub(super) m: usize,
    pub(super) n: usize,
    pub(super) k: usize,
}

/// A read operand: its first element and its row and column strides (in elements).
#[derive(Clone, Copy)]
pub(super) struct Operand<T> {
    pub(super) ptr: *const T,
    pub(super) rs: isize,
    pub(super) cs: isize,
}

impl<T> Operand<T> {
    /// The element at row `i`, column `j`.
    ///
    /// # Safety
    ///
    /// `(i, j)` lies within the operand's extents.
    #[inline(always)]
    pub(super) unsafe fn at(self, i: usize, j: usize) -> *const T {
        // SAFETY: forwarded from the caller.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }

    pub(super) fn cast<U>(self) -> Operand<U> {
        Operand {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// The written operand.
#[derive(Clone, Copy)]
pub(super) struct Dest<T> {
    pub(super) ptr: *mut T,
    pub(super) rs: isize,
    pub(super) cs: isize,
}

impl<T> Dest<T> {
    /// The element at row `i`, column `j`.
    ///
    /// # Safety
    ///
    /// `(i, j)` lies within the operand's extents.
    #[inline(always)]
    pub(super) unsafe fn at(self, i: usize, j: usize) -> *mut T {
        // SAFETY: forwarded from the caller.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }

    fn cast<U>(self) -> Dest<U> {
        Dest {
            ptr: self.ptr.cast(),
            rs: self.rs,
            cs: self.cs,
        }
    }
}

/// The `gemm` crate, on up to [`crate::threads::num_threads`] threads (rayon's global pool).
/// Its `alpha` scales `c` and its `beta` the product.
///
/// `gemm` splits a product over blocks of `c`'s rows and columns, never along `k`: its depth
/// blocking (`kc`) comes from the shape and the caches alone, and each element's sum runs
/// through the same micro-kernel in the same order whichever thread owns its block, so the
/// result is bit-for-bit the same at every thread count (`same_bits_at_every_thread_count`).
/// `gemm` itself keeps products below about 590K multiply-adds per depth block on one thread.
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
    let parallelism = match crate::threads::num_threads() {
        0 | 1 => gemm::Parallelism::None,
        n => gemm::Parallelism::Rayon(n),
    };
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
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2, ShapeBuilder};

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
            // Long and narrow: past DIRECT_MAX, still in the direct loops.
            (300, 19, 76),
            (19, 300, 76),
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

    /// `a · b` at 1, 2 and 3 threads, twice: `0.5 a · bᵀᵀ + c` (`b` stored transposed, `c`
    /// column-major) and `a · b` into a zeroed `c`; the process-wide count is restored.
    fn at_thread_counts(a: &Array2<f32>, b: &Array2<f32>) -> Vec<(Array2<f32>, Array2<f32>)> {
        let before = crate::threads::num_threads();
        let (m, n) = (a.nrows(), b.ncols());
        let b_t = b.t().as_standard_layout().into_owned();
        let c0 = filled(n, m, 7).mapv(|x| x as f32);
        let outs = [1, 2, 3]
            .into_iter()
            .map(|threads| {
                crate::threads::set_num_threads(threads);
                let mut c = c0.clone();
                let mut cv = c.view_mut().reversed_axes();
                mat_mul(0.5, &a.view(), &b_t.t(), 1.0, &mut cv);
                let mut d = Array2::<f32>::zeros((m, n));
                mat_mul(1.0, &a.view(), &b.view(), 0.0, &mut d.view_mut());
                (c, d)
            })
            .collect::<Vec<_>>();
        crate::threads::set_num_threads(before);
        let same = |x: &Array2<f32>, y: &Array2<f32>| {
            x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        for o in &outs[1..] {
            assert!(same(&o.0, &outs[0].0) && same(&o.1, &outs[0].1));
        }
        outs
    }

    /// Products large enough for `gemm` to split give the same bits at 1, 2 and 3 threads.
    #[test]
    fn same_bits_at_every_thread_count() {
        for &(m, k, n) in &[(256, 768, 768), (128, 3072, 200), (97, 1000, 513)] {
            let a = filled(m, k, 4).mapv(|x| x as f32);
            let b = filled(k, n, 5).mapv(|x| x as f32);
            at_thread_counts(&a, &b);
        }
    }

    /// Direct-loop products large enough to be split by columns (packed `b` per thread
    /// included) give the same bits at 1, 2 and 3 threads, and the right product.
    #[test]
    fn split_direct_products_give_the_same_bits() {
        for &(m, k, n) in &[(1, 768, 3072), (2, 1024, 1500), (1, 3000, 700)] {
            assert!(is_direct(m, n, k) && m * n * k >= DIRECT_SPLIT_MIN);
            let a = filled(m, k, 8).mapv(|x| x as f32);
            let b = filled(k, n, 9).mapv(|x| x as f32);
            let outs = at_thread_counts(&a, &b);
            let want = naive(&a.mapv(f64::from), &b.mapv(f64::from));
            let err = (&outs[0].1.mapv(f64::from) - &want)
                .iter()
                .fold(0.0f64, |e, x| e.max(x.abs()));
            assert!(err < 1e-3, "{m}x{k}x{n}: {err}");
        }
    }

    /// An operand laid out as `layout` says, to be viewed by [`view_of`] as `want`: 0
    /// row-major, 1 a transposed column-major store (unit row stride), 2 every other row and
    /// column of a larger matrix, 3 rows reversed (a negative row stride).
    fn laid_out(want: &Array2<f64>, layout: usize) -> Array2<f64> {
        let (r, c) = want.dim();
        match layout {
            0 => want.clone(),
            1 => want.t().as_standard_layout().into_owned(),
            2 => {
                let mut big = Array2::from_elem((2 * r + 1, 2 * c + 1), f64::NAN);
                big.slice_mut(s![..2 * r;2, ..2 * c;2]).assign(want);
                big
            }
            _ => want.slice(s![..;-1, ..]).to_owned(),
        }
    }

    fn view_of<T>(store: &Array2<T>, layout: usize) -> ArrayView2<'_, T> {
        let (r, c) = store.dim();
        match layout {
            0 => store.view(),
            1 => store.t(),
            2 => store.slice(s![..r - 1;2, ..c - 1;2]),
            _ => store.slice(s![..;-1, ..]),
        }
    }

    fn view_mut_of<T>(store: &mut Array2<T>, layout: usize) -> ArrayViewMut2<'_, T> {
        let (r, c) = store.dim();
        match layout {
            0 => store.view_mut(),
            1 => store.view_mut().reversed_axes(),
            2 => store.slice_mut(s![..r - 1;2, ..c - 1;2]),
            _ => store.slice_mut(s![..;-1, ..]),
        }
    }

    /// The small-product loops (f32 SIMD and the generic loop for f64) at sizes around the
    /// register widths (8 and 16 lanes, panels of 16 to 64 columns, blocks of 6 rows), with
    /// every layout of each operand, alpha and beta, and beta = 0 over NaN; the f32 loops with
    /// each instruction set this CPU has (AVX-512, AVX2+FMA, none).
    #[test]
    fn small_products_agree_with_the_naive_product_in_every_layout() {
        let sizes = [
            (1, 1, 1),
            (1, 0, 3),
            (6, 3, 16),
            (7, 5, 17),
            (5, 44, 11),
            (13, 2, 44),
            (12, 11, 64),
            (3, 9, 65),
            (20, 11, 70),
            (2, 7, 1),
            (11, 40, 2),
        ];
        for (si, &(m, k, n)) in sizes.iter().enumerate().flat_map(|s| [s; 3]) {
            // Each size three times: with the widest instruction set, at most AVX2, none.
            let cap = direct::ISA_CAP.with(|c| {
                c.set((c.get() + 1) % 3);
                c.get()
            });
            let a = filled(m, k, 10 + si as u64);
            let b = filled(k, n, 20 + si as u64);
            let c0 = filled(m, n, 30 + si as u64);
            for (la, lb, lc) in (0..64).map(|x| (x % 4, x / 4 % 4, x / 16)) {
                let (a_store, b_store) = (laid_out(&a, la), laid_out(&b, lb));
                let (av, bv) = (view_of(&a_store, la), view_of(&b_store, lb));
                assert_eq!((av, bv), (a.view(), b.view()));
                let (af, bf) = (a_store.mapv(|x| x as f32), b_store.mapv(|x| x as f32));
                let (avf, bvf) = (view_of(&af, la), view_of(&bf, lb));
                for (alpha, beta) in [(1.0, 0.0), (0.5, 2.0), (-1.5, 1.0)] {
                    let want = naive(&a, &b) * alpha + &c0 * beta;
                    let case = format!(
                        "{m}x{k}x{n} layouts {la}{lb}{lc} alpha {alpha} beta {beta} isa cap {cap}"
                    );
                    // c holds NaN wherever beta = 0 must not read it.
                    let start = if beta == 0.0 {
                        c0.mapv(|_| f64::NAN)
                    } else {
                        c0.clone()
                    };
                    let mut c = laid_out(&start, lc);
                    let mut cf = c.mapv(|x| x as f32);
                    mat_mul(alpha, &av, &bv, beta, &mut view_mut_of(&mut c, lc));
                    let err = (&view_of(&c, lc) - &want)
                        .iter()
                        .fold(0.0f64, |e, x| e.max(x.abs()));
                    assert!(err < 1e-12, "f64 {case}: {err}");

                    let (alpha, beta) = (alpha as f32, beta as f32);
                    mat_mul(alpha, &avf, &bvf, beta, &mut view_mut_of(&mut cf, lc));
                    let err = (&view_of(&cf, lc).mapv(f64::from) - &want)
                        .iter()
                        .fold(0.0f64, |e, x| e.max(x.abs()));
                    assert!(err < 1e-5 * (k as f64 + 4.0), "f32 {case}: {err}");
                }
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
