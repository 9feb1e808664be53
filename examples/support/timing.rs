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
