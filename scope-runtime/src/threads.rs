//! How many threads the runtime's large products and row-wise ops use.
//!
//! By default every core the process may run on (as TensorFlow does), read once from
//! [`std::thread::available_parallelism`]; the `SCOPE_NUM_THREADS` environment variable, read
//! at the first use, or [`set_num_threads`] at any time, change it. The work runs on rayon's
//! global pool (shared with other rayon users in the process, candle's included), split into
//! at most [`num_threads`] pieces, so a count below the pool's size leaves the other workers
//! idle. Small work (the seed RNN's products, a BERT-Tiny row) stays on the calling thread:
//! splitting it costs more than it saves, and it keeps the seed RNN's step allocation-free.
//!
//! Results do not depend on the count: a matrix product is split over rows and columns of
//! its result, never along the summed dimension, so every element adds the same terms in the
//! same order; row-wise ops give each row to one thread, running the same code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// The environment variable [`num_threads`] reads at its first use.
pub const NUM_THREADS_ENV: &str = "SCOPE_NUM_THREADS";

/// 0 until resolved (the environment or every core), then the count.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// How many threads the runtime uses for large matrix products and row-wise ops.
///
/// Every core by default; `SCOPE_NUM_THREADS=n` (read once, at the first call) or
/// [`set_num_threads`] change it. A `SCOPE_NUM_THREADS` that is not a whole number is
/// reported once on standard error and ignored; `0` means every core.
///
/// What runs in parallel: large matrix products (on rayon's global pool, shared with the
/// rest of the process) and the row-wise ops above a size where splitting pays. Small work,
/// such as the seed RNN's products, stays on the calling thread.
///
/// ```
/// assert!(scope::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = from_env().unwrap_or_else(every_core);
            // A concurrent `set_num_threads` wins over the default.
            match THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => n,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// Uses `n` threads from now on for large matrix products and row-wise ops; `0` means every
/// core (TensorFlow's convention for its thread-count options).
///
/// Results do not change with the count, only the time does: a matrix product is split
/// over blocks of its result's rows and columns, never along the summed dimension, and a
/// row-wise op gives each row, whole, to one thread.
///
/// ```
/// scope::set_num_threads(1);
/// assert_eq!(scope::num_threads(), 1);
/// scope::set_num_threads(0);
/// assert!(scope::num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    let n = if n == 0 { every_core() } else { n };
    THREADS.store(n, Ordering::Relaxed);
}

fn every_core() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn from_env() -> Option<usize> {
    let raw = std::env::var(NUM_THREADS_ENV).ok()?;
    match raw.trim().parse::<usize>() {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(_) => {
            static WARN: Once = Once::new();
            WARN.call_once(|| {
                eprintln!(
                    "scope: ignoring {NUM_THREADS_ENV}={raw:?}: not a whole number of threads \
                     (set it to e.g. 1 or 2, or unset it to use every core)"
                );
            });
            None
        }
    }
}

/// Calls `f(i, chunk)` on consecutive `chunk_len`-element pieces of `data` (the last may be
/// shorter), across up to [`num_threads`] threads when `work` (a rough count of
/// floating-point operations for all of `data`) is at least [`PARALLEL_MIN_WORK`], on the
/// calling thread otherwise. Each piece is handed whole to one call, so what `f` computes
/// for it does not depend on the thread count.
pub(crate) fn for_each_chunk<T: Send>(
    data: &mut [T],
    chunk_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Send + Sync,
) {
    let chunk_len = chunk_len.max(1);
    let threads = num_threads();
    let pieces = data.len().div_ceil(chunk_len);
    if threads <= 1 || pieces <= 1 || work < PARALLEL_MIN_WORK {
        for (i, c) in data.chunks_mut(chunk_len).enumerate() {
            f(i, c);
        }
        return;
    }
    use rayon::prelude::*;
    // At most `threads` tasks of whole chunks each, in order.
    let per_task = pieces.div_ceil(threads);
    data.par_chunks_mut(per_task * chunk_len)
        .enumerate()
        .for_each(|(t, block)| {
            for (j, c) in block.chunks_mut(chunk_len).enumerate() {
                f(t * per_task + j, c);
            }
        });
}

/// Below this many floating-point operations a row-wise op stays on the calling thread
/// (waking a pool worker costs a few microseconds, about this much work).
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 18;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_visited_once_in_place_at_any_count() {
        let before = num_threads();
        for threads in [1, 2, 3, 7] {
            set_num_threads(threads);
            let mut v = vec![0usize; 1003];
            for_each_chunk(&mut v, 10, usize::MAX, |i, c| {
                for x in c.iter_mut() {
                    *x += i + 1;
                }
            });
            for (k, x) in v.iter().enumerate() {
                assert_eq!(*x, k / 10 + 1, "threads {threads}, element {k}");
            }
        }
        set_num_threads(before);
    }
}
