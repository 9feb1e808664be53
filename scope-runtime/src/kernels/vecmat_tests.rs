//! Tests of the few-row products: against a float64 reference with every instruction set,
//! the same bits at 1, 2 and 3 threads, and what they leave to the matrix product.

use ndarray::Array2;

use super::*;

fn filled(m: usize, n: usize, seed: u64) -> Array2<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    Array2::from_shape_fn((m, n), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 2001) as f32 / 1000.0 - 1.0
    })
}

/// `alpha * a · b + beta * c` in float64.
fn reference(
    alpha: f32,
    a: &Array2<f32>,
    b: &Array2<f32>,
    beta: f32,
    c: &Array2<f32>,
) -> Array2<f64> {
    Array2::from_shape_fn(c.dim(), |(i, j)| {
        let sum: f64 = (0..a.ncols())
            .map(|p| f64::from(a[[i, p]]) * f64::from(b[[p, j]]))
            .sum();
        f64::from(alpha) * sum + f64::from(beta) * f64::from(c[[i, j]])
    })
}

/// Both forms (`b` row-major: `x · W`; `b` a transposed row-major `W`: `x · Wᵀ`) into a
/// row-major `c`, `[m, k] · [k, n]`.
fn both_forms(
    alpha: f32,
    a: &Array2<f32>,
    b: &Array2<f32>,
    beta: f32,
    c: &Array2<f32>,
) -> [Array2<f32>; 2] {
    let w_t = b.t().as_standard_layout().into_owned();
    let (mut rows, mut cols) = (c.clone(), c.clone());
    assert!(few_rows(
        alpha,
        &a.view(),
        &b.view(),
        beta,
        &mut rows.view_mut()
    ));
    assert!(few_rows(
        alpha,
        &a.view(),
        &w_t.t(),
        beta,
        &mut cols.view_mut()
    ));
    [rows, cols]
}

fn bits(x: &Array2<f32>) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Every row count, tails of every length (columns and depth not multiples of the
/// registers), alpha and beta, with each instruction set (the products stay under
/// SPLIT_MIN, so they run on the test's thread with its ISA cap), against float64.
#[test]
fn agrees_with_a_plain_reference() {
    let shapes = [
        (1, 768, 100),
        (2, 300, 250),
        (3, 97, 333),
        (4, 129, 201),
        (1, 64, 1100),
    ];
    for (si, &(m, k, n)) in shapes.iter().enumerate() {
        assert!(m * n * k >= FEW_ROWS_MIN && m * n * k < SPLIT_MIN);
        let a = filled(m, k, 1 + si as u64);
        let b = filled(k, n, 11 + si as u64);
        let c = filled(m, n, 21 + si as u64);
        for cap in 0..3u8 {
            super::super::direct::ISA_CAP.with(|x| x.set(cap));
            for (alpha, beta) in [(1.0, 0.0), (0.5, 2.0), (-1.5, 1.0)] {
                let want = reference(alpha, &a, &b, beta, &c);
                for got in both_forms(alpha, &a, &b, beta, &c) {
                    let err = (&got.mapv(f64::from) - &want)
                        .iter()
                        .fold(0.0f64, |e, x| e.max(x.abs()));
                    assert!(
                        err < 1e-3,
                        "{m}x{k}x{n} cap {cap} alpha {alpha} beta {beta}: {err}"
                    );
                }
            }
            // beta 0 ignores what c held, NaN included.
            let nan = Array2::from_elem((m, n), f32::NAN);
            for got in both_forms(1.0, &a, &b, 0.0, &nan) {
                assert!(got.iter().all(|x| x.is_finite()), "{m}x{k}x{n} cap {cap}");
            }
        }
        super::super::direct::ISA_CAP.with(|x| x.set(0));
    }
}

/// Small products with `b` transposed (an attention's `q · kᵀ`) run as dots too.
#[test]
fn small_transposed_products_run_as_dots() {
    for (si, &(m, k, n)) in [(1, 64, 129), (3, 5, 2), (2, 3, 7), (4, 33, 1)]
        .iter()
        .enumerate()
    {
        let a = filled(m, k, 40 + si as u64);
        let w = filled(n, k, 50 + si as u64);
        let c = filled(m, n, 60 + si as u64);
        let want = reference(0.125, &a, &w.t().to_owned(), 1.0, &c);
        for cap in 0..3u8 {
            super::super::direct::ISA_CAP.with(|x| x.set(cap));
            let mut got = c.clone();
            assert!(few_rows(0.125, &a.view(), &w.t(), 1.0, &mut got.view_mut()));
            let err = (&got.mapv(f64::from) - &want)
                .iter()
                .fold(0.0f64, |e, x| e.max(x.abs()));
            assert!(err < 1e-4, "{m}x{k}x{n} cap {cap}: {err}");
        }
        super::super::direct::ISA_CAP.with(|x| x.set(0));
    }
}

/// Products large enough to be split give the same bits at 1, 2 and 3 threads, in both
/// forms; the process-wide count is restored.
#[test]
fn same_bits_at_every_thread_count() {
    let before = crate::threads::num_threads();
    for &(m, k, n) in &[
        (1, 768, 3072),
        (1, 3072, 768),
        (2, 768, 5000),
        (4, 100, 1001),
    ] {
        assert!(m * n * k >= SPLIT_MIN);
        let (a, b, c) = (filled(m, k, 3), filled(k, n, 4), filled(m, n, 5));
        let runs = [1, 2, 3].map(|threads| {
            crate::threads::set_num_threads(threads);
            both_forms(0.5, &a, &b, 1.0, &c)
        });
        for run in &runs[1..] {
            for (got, first) in run.iter().zip(&runs[0]) {
                assert_eq!(bits(got), bits(first), "{m}x{k}x{n}");
            }
        }
        let want = reference(0.5, &a, &b, 1.0, &c);
        for got in &runs[0] {
            let err = (&got.mapv(f64::from) - &want)
                .iter()
                .fold(0.0f64, |e, x| e.max(x.abs()));
            assert!(err < 1e-3, "{m}x{k}x{n}: {err}");
        }
    }
    crate::threads::set_num_threads(before);
}

/// What the loops do not take is left untouched: other element types, many rows, small
/// products, layouts with neither `b`'s rows nor its columns contiguous.
#[test]
fn declines_other_products() {
    let (a, b) = (filled(1, 768, 1), filled(768, 768, 2));
    let mut c = Array2::<f32>::zeros((1, 768));
    let a64 = a.mapv(f64::from);
    let b64 = b.mapv(f64::from);
    let mut c64 = Array2::<f64>::zeros((1, 768));
    assert!(!few_rows(
        1.0,
        &a64.view(),
        &b64.view(),
        0.0,
        &mut c64.view_mut()
    ));
    let a5 = filled(FEW_ROWS + 1, 768, 3);
    let mut c5 = Array2::<f32>::zeros((FEW_ROWS + 1, 768));
    assert!(!few_rows(
        1.0,
        &a5.view(),
        &b.view(),
        0.0,
        &mut c5.view_mut()
    ));
    let (a_s, b_s) = (filled(1, 16, 4), filled(16, 16, 5));
    let mut c_s = Array2::<f32>::zeros((1, 16));
    assert!(!few_rows(
        1.0,
        &a_s.view(),
        &b_s.view(),
        0.0,
        &mut c_s.view_mut()
    ));
    let wide = filled(768, 1536, 6);
    let strided = wide.slice(ndarray::s![.., ..;2]);
    assert!(!few_rows(1.0, &a.view(), &strided, 0.0, &mut c.view_mut()));
    // `c`'s columns not contiguous, with `b`'s rows contiguous.
    let mut c_wide = Array2::<f32>::zeros((1, 1536));
    let mut c_s2 = c_wide.slice_mut(ndarray::s![.., ..;2]);
    assert!(!few_rows(1.0, &a.view(), &b.view(), 0.0, &mut c_s2));
    assert!(c_wide.iter().all(|&x| x == 0.0));
    assert!(c.iter().all(|&x| x == 0.0));
}
