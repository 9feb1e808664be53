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

use std::cell::Cell;
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
/// such as the seed RNN's products, stays on the calling thread. On a pool thread running
/// one block of the runtime's split work it is 1: work is split once, at the outer level.
///
/// ```
/// assert!(scope::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    if INSIDE.with(Cell::get) {
        // Inside a block of the runtime's own split work: the work is split already.
        return 1;
    }
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

thread_local! {
    /// Set while this thread runs one block of the runtime's split work ([`run_split`]):
    /// work started inside a block (the products of one attention head, say) stays on its
    /// thread, so the work is split once, at the outer level.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as running a block of split work until dropped.
struct Inside(bool);

impl Inside {
    fn enter() -> Inside {
        Inside(INSIDE.with(|c| c.replace(true)))
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.with(|c| c.set(self.0));
    }
}

/// Below this many floating-point operations (roughly counted) a row-wise op stays on the
/// calling thread. Waking a pool worker costs a few microseconds on an idle machine and far
/// more on a busy one: measured on the project's shared 2-core machine under load, layer
/// norm split at 256K operations ran up to 3x slower than on one thread, broke even near 1M
/// and ran 1.6x faster at BERT-Base's 6M.
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 20;

/// How many blocks work of `pieces` whole pieces and about `work` floating-point operations
/// in all is split into: 1 (the calling thread) below [`PARALLEL_MIN_WORK`], at one thread,
/// or inside a block of split work already; otherwise up to [`num_threads`].
pub(crate) fn blocks_for(pieces: usize, work: usize) -> usize {
    if work < PARALLEL_MIN_WORK || pieces <= 1 {
        return 1;
    }
    num_threads().min(pieces)
}

/// Splits `parts`, which holds `pieces` pieces (`split_off(parts, n)` gives the first `n`
/// and the rest), into up to [`blocks_for`] blocks of consecutive whole pieces, and calls
/// `f(first_piece, block)` on each: on the calling thread when there is one block (with
/// every piece), across rayon's pool otherwise. Each piece goes whole to one call, so what
/// `f` computes for it does not depend on the thread count.
fn run_split<S: Send>(
    parts: S,
    pieces: usize,
    work: usize,
    split_off: impl Fn(S, usize) -> (S, S),
    f: impl Fn(usize, S) + Send + Sync,
) {
    let blocks = blocks_for(pieces, work);
    if blocks <= 1 {
        f(0, parts);
        return;
    }
    let per_block = pieces.div_ceil(blocks);
    let mut split = Vec::with_capacity(blocks);
    let (mut rest, mut first) = (parts, 0);
    while first < pieces {
        let n = per_block.min(pieces - first);
        let (head, tail) = split_off(rest, n);
        split.push((first, head));
        rest = tail;
        first += n;
    }
    // The calling thread runs the first block itself while the pool runs the others: one
    // wake-up fewer than handing every block to the pool and sleeping until they are done.
    let mut split = split.into_iter();
    let Some((first, block)) = split.next() else {
        return;
    };
    let f = &f;
    rayon::in_place_scope(|scope| {
        for (first, block) in split {
            scope.spawn(move |_| {
                let _inside = Inside::enter();
                f(first, block);
            });
        }
        let _inside = Inside::enter();
        f(first, block);
    });
}

/// The first `n` pieces of `chunk_len` elements of `data`, and the rest.
fn split_chunks<T>(data: &mut [T], chunk_len: usize, n: usize) -> (&mut [T], &mut [T]) {
    data.split_at_mut(n.saturating_mul(chunk_len).min(data.len()))
}

/// Calls `f(first, block)` on blocks of consecutive whole `chunk_len`-element pieces of
/// `data` (the last piece may be shorter), `first` being the index of the block's first
/// piece: one call with all of `data` on the calling thread when `work` (a rough count of
/// floating-point operations for all of `data`) is under [`PARALLEL_MIN_WORK`] or there is
/// one thread, up to [`num_threads`] calls in parallel otherwise.
pub(crate) fn for_each_block<T: Send>(
    data: &mut [T],
    chunk_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Send + Sync,
) {
    let chunk_len = chunk_len.max(1);
    let pieces = data.len().div_ceil(chunk_len);
    run_split(data, pieces, work, |d, n| split_chunks(d, chunk_len, n), f);
}

/// [`for_each_block`] over two buffers of the same number of pieces (`a_len` elements a
/// piece in `a`, `b_len` in `b`): `f(first, a_block, b_block)`.
pub(crate) fn for_each_block2<A: Send, B: Send>(
    (a, a_len): (&mut [A], usize),
    (b, b_len): (&mut [B], usize),
    work: usize,
    f: impl Fn(usize, &mut [A], &mut [B]) + Send + Sync,
) {
    let (a_len, b_len) = (a_len.max(1), b_len.max(1));
    let pieces = a.len().div_ceil(a_len);
    debug_assert_eq!(pieces, b.len().div_ceil(b_len));
    run_split(
        (a, b),
        pieces,
        work,
        |(a, b), n| {
            let (a0, a1) = split_chunks(a, a_len, n);
            let (b0, b1) = split_chunks(b, b_len, n);
            ((a0, b0), (a1, b1))
        },
        |first, (a, b)| f(first, a, b),
    );
}

/// [`for_each_block`] over three buffers of the same length, in pieces of `chunk_len`
/// elements: `f(first, a_block, b_block, c_block)` (an optimizer's variable and its two
/// slots).
pub(crate) fn for_each_block3<T: Send>(
    [a, b, c]: [&mut [T]; 3],
    chunk_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T], &mut [T], &mut [T]) + Send + Sync,
) {
    let chunk_len = chunk_len.max(1);
    let pieces = a.len().div_ceil(chunk_len);
    debug_assert!(b.len() == a.len() && c.len() == a.len());
    run_split(
        (a, b, c),
        pieces,
        work,
        |(a, b, c), n| {
            let (a0, a1) = split_chunks(a, chunk_len, n);
            let (b0, b1) = split_chunks(b, chunk_len, n);
            let (c0, c1) = split_chunks(c, chunk_len, n);
            ((a0, b0, c0), (a1, b1, c1))
        },
        |first, (a, b, c)| f(first, a, b, c),
    );
}

/// Calls `f(i, chunk)` on consecutive `chunk_len`-element pieces of `data` (the last may be
/// shorter), split into blocks as [`for_each_block`] splits them.
pub(crate) fn for_each_chunk<T: Send>(
    data: &mut [T],
    chunk_len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Send + Sync,
) {
    let chunk_len = chunk_len.max(1);
    for_each_block(data, chunk_len, work, |first, block| {
        for (j, c) in block.chunks_mut(chunk_len).enumerate() {
            f(first + j, c);
        }
    });
}

/// Runs `f` at 1, 2 and 3 threads and checks that it gives the same bits each time (its
/// results as `f64`, which every `f32` converts to exactly); the process-wide count is
/// restored. Other tests may change the count meanwhile: the check then still holds, since
/// no result may depend on it.
#[cfg(test)]
pub(crate) fn assert_same_bits_at_thread_counts(what: &str, f: impl Fn() -> Vec<f64>) {
    let before = num_threads();
    let runs: Vec<Vec<f64>> = [1, 2, 3]
        .into_iter()
        .map(|n| {
            set_num_threads(n);
            f()
        })
        .collect();
    set_num_threads(before);
    for (n, run) in runs.iter().enumerate().skip(1) {
        assert_eq!(run.len(), runs[0].len(), "{what}");
        for (k, (x, y)) in run.iter().zip(&runs[0]).enumerate() {
            assert_eq!(
                x.to_bits(),
                y.to_bits(),
                "{what}: element {k} differs at {} threads ({x} vs {y} at 1)",
                n + 1
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_whole_pieces_and_nested_work_stays_on_its_thread() {
        let before = num_threads();
        set_num_threads(2);
        let mut a = vec![0usize; 10];
        let mut b = vec![0usize; 25];
        for_each_block2((&mut a, 2), (&mut b, 5), usize::MAX, |first, a, b| {
            assert_eq!(num_threads(), 1, "a block's own work is not split again");
            assert_eq!(a.len() * 5, b.len() * 2);
            a.iter_mut().for_each(|x| *x = first + 1);
            b.iter_mut().for_each(|x| *x = first + 1);
        });
        // Whole pieces: piece i of `a` and of `b` went to the same block (another test may
        // change the count meanwhile, so how many blocks there were is not checked).
        for i in 0..5 {
            assert!(
                a[2 * i..2 * i + 2].iter().all(|&x| x == b[5 * i]),
                "{a:?} {b:?}"
            );
            assert!(b[5 * i..5 * i + 5].iter().all(|&x| x == b[5 * i]), "{b:?}");
        }
        let mut c = [vec![1.0f32; 100], vec![2.0; 100], vec![3.0; 100]];
        let [x, y, z] = &mut c;
        for_each_block3([x, y, z], 7, usize::MAX, |first, x, y, z| {
            for (k, ((x, y), z)) in x.iter_mut().zip(y).zip(z).enumerate() {
                *x += *y * *z + (first * 7 + k) as f32;
            }
        });
        assert!(c[0].iter().enumerate().all(|(k, &x)| x == 7.0 + k as f32));
        let mut small = vec![0u8; 100];
        for_each_block(&mut small, 10, 10, |first, block| {
            assert_eq!((first, block.len()), (0, 100), "small work is one block");
        });
        set_num_threads(before);
    }

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
