//! Timing shared by the examples' `--bench` modes: medians of individually timed
//! iterations after a warm-up, on the calling thread.

use std::time::Instant;

/// The median of `xs` (the upper one for an even count).
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs `f` `warmup` times untimed, then `iters` times timed; the median in seconds.
pub(crate) fn timed<E>(
    iters: usize,
    warmup: usize,
    f: &mut dyn FnMut() -> Result<(), E>,
) -> Result<f64, E> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

/// Sets the runtime's thread count from a `--threads` flag (`None` or 0: every core) and
/// returns the count in use.
#[allow(dead_code)] // the RNN example times one thread only
pub(crate) fn use_threads(threads: Option<usize>) -> usize {
    scope::set_num_threads(threads.unwrap_or(0));
    scope::num_threads()
}

/// The machine's measured matrix-product peak in GFLOP/s, at one thread and at `threads`:
/// the median of a `[1024, 1024] · [1024, 1024]` f32 product (2.1 GFLOP) through the
/// runtime's kernels (the tape's `matmul`), the thread count restored afterwards.
#[allow(dead_code)] // the RNN example times one thread only
pub(crate) fn peak_gflops(threads: usize) -> (f64, f64) {
    use ndarray::{ArrayD, IxDyn};
    let n = 1024;
    let fill = |seed: f32| {
        ArrayD::from_shape_fn(IxDyn(&[n, n]), |ix| {
            ((ix[0] * 31 + ix[1] * 17) % 97) as f32 * 0.01 - seed
        })
    };
    let (a, b) = (fill(0.3), fill(0.5));
    let flops = 2.0 * (n * n * n) as f64;
    let at = |t: usize| {
        scope::set_num_threads(t);
        let mut tape = scope::tape::Tape::<f32>::new();
        let secs = timed::<scope::TrainError>(5, 1, &mut || {
            tape.clear();
            let (x, y) = (tape.constant(a.clone()), tape.constant(b.clone()));
            tape.matmul(x, y)?;
            Ok(())
        })
        .unwrap_or(f64::NAN);
        flops / secs / 1e9
    };
    let one = at(1);
    let all = if threads > 1 { at(threads) } else { one };
    scope::set_num_threads(threads);
    (one, all)
}

/// Prints the `peak_gflops=` line every bench prints first.
#[allow(dead_code)] // the RNN example times one thread only
pub(crate) fn print_peak(threads: usize) {
    let (one, all) = peak_gflops(threads);
    println!(
        "peak_gflops={all:.1} threads={threads} (one thread {one:.1}; f32 [1024,1024]·[1024,1024] \
         through the runtime's kernels)"
    );
}

/// The machine's measured read bandwidth in GB/s, at one thread and at `threads`: the
/// median of a one-row product `x · W` with `W` a 512 MB f32 matrix (`[4096, 32768]`, far
/// beyond the caches) through the runtime's kernels (`scope::nn::gemm`, the kernel a cached
/// token's products run in), the thread count restored afterwards. Reading `W` once is all
/// such a product does, so its rate is what one pass over memory costs here.
#[allow(dead_code)] // only the GPT-2 example's cached token is memory-bound
pub(crate) fn peak_gbps(threads: usize) -> (f64, f64) {
    use ndarray::Array2;
    let (k, n) = (4096, 32768);
    let x = Array2::from_elem((1, k), 0.5f32);
    let w = Array2::from_shape_fn((k, n), |(i, j)| ((i * 31 + j * 17) % 97) as f32 * 0.01);
    let mut out = Array2::zeros((1, n));
    let bytes = (k * n * 4) as f64;
    let mut at = |t: usize| {
        scope::set_num_threads(t);
        let secs = timed::<()>(5, 1, &mut || {
            scope::nn::gemm(1.0, &x.view(), &w.view(), 0.0, &mut out.view_mut());
            Ok(())
        })
        .unwrap_or(f64::NAN);
        bytes / secs / 1e9
    };
    let one = at(1);
    let all = if threads > 1 { at(threads) } else { one };
    scope::set_num_threads(threads);
    (one, all)
}

/// Prints the `peak_gbps=` line of the benches that are bound by memory.
#[allow(dead_code)] // only the GPT-2 example's cached token is memory-bound
pub(crate) fn print_peak_bandwidth(threads: usize) {
    let (one, all) = peak_gbps(threads);
    println!(
        "peak_gbps={all:.1} threads={threads} (one thread {one:.1}; f32 [1,4096]·[4096,32768], \
         512 MB read once, through the runtime's kernels)"
    );
}
