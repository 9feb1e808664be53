//! The matrix products of the seed RNN and of BERT-Tiny (batch 8 x 128 tokens, hidden 128,
//! 2 heads, intermediate 512), single-threaded: `ndarray`'s `general_mat_mul`
//! (`matrixmultiply`) and the `gemm` crate called directly, against
//! the runtime's own matrix product (`scope_runtime::__bench::mat_mul`: its direct loops for small and narrow products,
//! `gemm` for the others). Each shape is `m x k x n`, with the transposes the forward and
//! backward passes use (`tn`: `a` transposed, `nt`: `b` transposed).
//!
//! `cargo bench -p scope-runtime --bench gemm`; GFLOP/s = 2 m k n / time.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use scope_runtime::__bench::mat_mul;

/// `(name, m, k, n, a transposed, b transposed)`.
const SHAPES: &[(&str, usize, usize, usize, bool, bool)] = &[
    ("rnn_step_h_kh", 20, 11, 44, false, false),
    ("rnn_step_dz_kh_t", 20, 44, 11, false, true),
    ("rnn_gates_a_kx", 400, 11, 44, false, false),
    ("rnn_grad_k_a_t_dz", 11, 400, 44, true, false),
    ("rnn_da_dz_kx_t", 400, 44, 11, false, true),
    ("rnn_long_gates", 1000, 11, 44, false, false),
    ("rnn_h19_grad_k", 19, 297, 76, true, false),
    ("bert_qkv_out", 1024, 128, 128, false, false),
    ("bert_intermediate", 1024, 128, 512, false, false),
    ("bert_output", 1024, 512, 128, false, false),
    ("bert_scores_q_k_t", 128, 64, 128, false, true),
    ("bert_context_p_v", 128, 128, 64, false, false),
    ("bert_dkernel_x_t_g", 512, 1024, 128, true, false),
    ("bert_dx_g_w_t", 1024, 512, 128, false, true),
];

fn operand(rows: usize, cols: usize, transposed: bool, seed: u32) -> Array2<f32> {
    let f = |i: usize, j: usize| ((i * 31 + j * 17 + seed as usize) % 97) as f32 / 97.0 - 0.5;
    if transposed {
        Array2::from_shape_fn((cols, rows), |(j, i)| f(i, j))
    } else {
        Array2::from_shape_fn((rows, cols), |(i, j)| f(i, j))
    }
}

/// `out = a · b` through `gemm::gemm`, single-threaded, as `mat_mul` calls it.
fn gemm_crate(a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>, out: &mut Array2<f32>) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (sa, sb, sc) = (a.strides(), b.strides(), out.strides().to_vec());
    // SAFETY: the three views are live, of the extents passed, and `out` overlaps neither
    // operand (it is borrowed uniquely).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            sc[1],
            sc[0],
            false,
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    for &(name, m, k, n, ta, tb) in SHAPES {
        let a = operand(m, k, ta, 1);
        let b = operand(k, n, tb, 2);
        let av = if ta { a.t() } else { a.view() };
        let bv = if tb { b.t() } else { b.view() };
        let mut out = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_function(BenchmarkId::new("matrixmultiply", name), |bench| {
            bench.iter(|| {
                general_mat_mul(1.0, black_box(&av), black_box(&bv), 0.0, &mut out);
            })
        });
        group.bench_function(BenchmarkId::new("gemm_crate", name), |bench| {
            bench.iter(|| gemm_crate(black_box(&av), black_box(&bv), &mut out))
        });
        group.bench_function(BenchmarkId::new("scope_linalg", name), |bench| {
            bench.iter(|| {
                mat_mul(
                    1.0,
                    black_box(&av),
                    black_box(&bv),
                    0.0,
                    &mut out.view_mut(),
                );
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
