//! The bottom of the tape: the buffers a [`super::Tape`] keeps across
//! [`super::Tape::clear`] ([`Pool`]), and the helpers every op family shares to take,
//! fill, view and add up those buffers, and to name a shape error.
//!
//! A training loop records the same ops on the same shapes every step. Without a pool each
//! step allocates its activations afresh and frees them all at `clear`; the allocator hands
//! the freed top of the heap back to the kernel, and the next step faults every page in again
//! (BERT-Tiny's forward spent about a fifth of its time in page faults). With it, `clear`
//! keeps the large node values and the next step's ops take them back, so a steady loop
//! allocates no activation storage.

use std::sync::Mutex;

use ndarray::{ArrayD, ArrayView2, ArrayViewMut2, Ix2, IxDyn, Zip};

use super::scalar::Real;
use super::Node;
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// What an op family's backward half works on: `g`, the gradient of the node whose value
/// is `out`, goes to the gradient slots of the node's inputs (`lower[k]` is node `k`; inputs
/// always precede the node), with large buffers taken from `pool`; `nodes` holds every
/// node's value.
pub(super) struct Backprop<'a, T: Real> {
    pub(super) nodes: &'a [Node<T>],
    pub(super) out: &'a ArrayD<T>,
    pub(super) g: &'a ArrayD<T>,
    pub(super) lower: &'a mut [Option<ArrayD<T>>],
    pub(super) pool: &'a Pool<T>,
}

/// Buffers of fewer elements are left to the allocator, whose small-size bins are fast and
/// never return pages to the kernel.
const MIN_POOLED: usize = 1024;

/// Free buffers, with their capacity and their last contents (initialized, so an op that
/// overwrites every element can take one as it is: [`Pool::scratch`]).
pub(crate) struct Pool<T> {
    // A mutex, not a `RefCell`, so `Tape` stays `Sync`; it is never contended (ops take
    // `&mut Tape`), so locking costs a few nanoseconds per op.
    free: Mutex<Free<T>>,
}

/// The kept buffers; the first `old` of them were kept before the last [`Pool::begin`].
struct Free<T> {
    bufs: Vec<Vec<T>>,
    old: usize,
}

impl<T> std::ops::Deref for Free<T> {
    type Target = Vec<Vec<T>>;
    fn deref(&self) -> &Vec<Vec<T>> {
        &self.bufs
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            free: Mutex::new(Free {
                bufs: Vec::new(),
                old: 0,
            }),
        }
    }
}

impl<T: Real> Pool<T> {
    fn free(&self) -> std::sync::MutexGuard<'_, Free<T>> {
        // A panic while the lock was held left a list of empty buffers, still valid.
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks every kept buffer as old: [`Pool::drop_old`] frees those not taken by then.
    pub(crate) fn begin(&self) {
        let mut free = self.free();
        free.old = free.bufs.len();
    }

    /// Frees the buffers kept before the last [`Pool::begin`] that nothing took since, so a
    /// pool refilled by each pass (a backward sweep) holds at most one pass's worth.
    pub(crate) fn drop_old(&self) {
        let mut free = self.free();
        let old = std::mem::take(&mut free.old);
        free.bufs.drain(..old);
    }

    /// Keeps `value`'s storage for a later op, if it is large enough to be worth keeping.
    pub(crate) fn put(&self, value: ArrayD<T>) {
        let (data, _) = value.into_raw_vec_and_offset();
        if data.capacity() >= MIN_POOLED {
            self.free().bufs.push(data);
        }
    }

    /// How many buffers are kept.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.free().len()
    }

    /// Drops every kept buffer (those the last step did not take back), so the pool never
    /// holds more than one step's worth.
    pub(crate) fn drain(&self) {
        let mut free = self.free();
        free.bufs.clear();
        free.old = 0;
    }

    /// A vector with room for `len` elements, holding some initialized elements: the smallest
    /// kept buffer that fits, or a new, empty one (reserved fallibly: `op` and `shape` name
    /// the result in the error).
    fn vec(&self, op: &'static str, shape: &[usize], len: usize) -> Result<Vec<T>, TrainError> {
        if len >= MIN_POOLED {
            let mut free = self.free();
            let best = free
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= len)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(k, _)| k);
            if let Some(k) = best {
                // In order, so the old buffers stay first.
                if k < free.old {
                    free.old -= 1;
                }
                return Ok(free.bufs.remove(k));
            }
        }
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| TrainError::Shape {
            op,
            detail: format!(
                "the result of shape {} ({len} elements) cannot be allocated",
                format_shape(shape)
            ),
        })?;
        Ok(v)
    }

    /// A zero-filled array of `shape`.
    pub(crate) fn zeros(&self, op: &'static str, shape: &[usize]) -> Result<ArrayD<T>, TrainError> {
        let len = element_count(op, shape)?;
        let mut data = self.vec(op, shape, len)?;
        data.clear();
        data.resize(len, T::ZERO);
        array(op, shape, data)
    }

    /// An array of `shape` whose elements are unspecified (whatever a kept buffer last held,
    /// or zeros), for an op that overwrites every one: no pass to zero it first.
    pub(crate) fn scratch(
        &self,
        op: &'static str,
        shape: &[usize],
    ) -> Result<ArrayD<T>, TrainError> {
        let len = element_count(op, shape)?;
        let mut data = self.vec(op, shape, len)?;
        data.truncate(len);
        data.resize(len, T::ZERO);
        array(op, shape, data)
    }

    /// An array of `shape` whose elements, in row-major order, `fill` pushes onto the empty
    /// vector it is given (exactly `shape`'s element count of them).
    pub(crate) fn build(
        &self,
        op: &'static str,
        shape: &[usize],
        fill: impl FnOnce(&mut Vec<T>),
    ) -> Result<ArrayD<T>, TrainError> {
        let len = element_count(op, shape)?;
        let mut data = self.vec(op, shape, len)?;
        data.clear();
        fill(&mut data);
        array(op, shape, data)
    }

    /// A standard-layout copy of `a` with shape `shape` (the same element count).
    pub(crate) fn copy(
        &self,
        op: &'static str,
        a: &ArrayD<T>,
        shape: &[usize],
    ) -> Result<ArrayD<T>, TrainError> {
        self.build(op, shape, |data| match a.as_slice() {
            Some(s) => data.extend_from_slice(s),
            None => data.extend(a.iter().copied()),
        })
    }
}

fn element_count(op: &'static str, shape: &[usize]) -> Result<usize, TrainError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| TrainError::Shape {
            op,
            detail: format!("the result of shape {} is too large", format_shape(shape)),
        })
}

fn array<T: Real>(
    op: &'static str,
    shape: &[usize],
    data: Vec<T>,
) -> Result<ArrayD<T>, TrainError> {
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| TrainError::Shape {
        op,
        detail: e.to_string(),
    })
}

/// Adds `delta` to a node's gradient slot (or fills it); a buffer added in goes back to
/// `pool` for a later node.
pub(super) fn accumulate<T: Real>(pool: &Pool<T>, slot: &mut Option<ArrayD<T>>, delta: ArrayD<T>) {
    match slot {
        Some(g) => {
            Zip::from(g).and(&delta).for_each(|a, &b| *a = *a + b);
            pool.put(delta);
        }
        None => *slot = Some(delta),
    }
}

/// A zero-filled array of `shape`, from `pool` if it keeps a buffer that fits.
pub(super) fn zeros<T: Real>(pool: &Pool<T>, shape: &[usize]) -> ArrayD<T> {
    // The shape is that of an existing array, so its size cannot overflow; a failure to
    // allocate aborts, as `ArrayD::zeros` does.
    pool.zeros("gradient", shape)
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

/// An array of `shape` for an op that writes every element, from `pool` if it keeps a
/// buffer that fits (its old contents are not cleared).
pub(super) fn scratch<T: Real>(pool: &Pool<T>, shape: &[usize]) -> ArrayD<T> {
    pool.scratch("gradient", shape)
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

/// The elements of a tape value, row-major. Every value the tape makes is in standard layout.
pub(super) fn flat<T: Real>(a: &ArrayD<T>) -> &[T] {
    a.as_slice()
        .expect("tape values are owned arrays in standard layout")
}

pub(super) fn flat_mut<T: Real>(a: &mut ArrayD<T>) -> &mut [T] {
    a.as_slice_mut()
        .expect("tape values are owned arrays in standard layout")
}

pub(super) fn shape_error(op: &'static str, detail: String) -> TrainError {
    TrainError::Shape { op, detail }
}

pub(super) fn bad(op: &'static str) -> TrainError {
    TrainError::Shape {
        op,
        detail: "internal: gradient shape does not match the recorded op".into(),
    }
}

/// `(rows, last)` of a value of rank >= 1 that rows-wise ops work on.
pub(super) fn rows_of<T: Real>(
    op: &'static str,
    what: &str,
    a: &ArrayD<T>,
) -> Result<(usize, usize), TrainError> {
    let Some(&last) = a.shape().last() else {
        return Err(shape_error(
            op,
            format!("{what} must have rank 1 or more, got a scalar"),
        ));
    };
    if last == 0 {
        return Err(shape_error(
            op,
            format!(
                "{what} has an empty last axis (shape {}); there is nothing to normalize over",
                format_shape(a.shape())
            ),
        ));
    }
    Ok((a.len() / last, last))
}

/// [`TrainError::Shape`] unless an array of `shape` can exist: its nonzero extents multiply
/// to at most `isize::MAX` (ndarray panics on a larger one).
pub(super) fn check_size(op: &'static str, shape: &[usize]) -> Result<(), TrainError> {
    let fits = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .is_some_and(|n| isize::try_from(n).is_ok());
    if fits {
        Ok(())
    } else {
        Err(TrainError::Shape {
            op,
            detail: format!(
                "the result shape {} has more elements than fit in memory",
                format_shape(shape)
            ),
        })
    }
}

pub(super) fn as_matrix<'a, T: Real>(
    op: &'static str,
    what: &str,
    a: &'a ArrayD<T>,
) -> Result<ArrayView2<'a, T>, TrainError> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| TrainError::Shape {
            op,
            detail: format!(
                "{what} must be a matrix (rank 2), got shape {}",
                format_shape(a.shape())
            ),
        })
}

pub(super) fn matrix_mut<T: Real>(a: &mut ArrayD<T>) -> ArrayViewMut2<'_, T> {
    a.view_mut()
        .into_dimensionality::<Ix2>()
        .expect("made with a matrix's shape")
}

pub(super) fn matrix<T: Real>(a: &ArrayD<T>) -> Result<ArrayView2<'_, T>, TrainError> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| TrainError::Shape {
            op: "matmul",
            detail: "operand is not a matrix".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_is_taken_back_and_small_ones_are_not_kept() {
        let pool = Pool::<f32>::default();
        let big = pool.zeros("test", &[64, 32]).unwrap();
        let ptr = big.as_ptr();
        pool.put(big);
        pool.put(ArrayD::zeros(IxDyn(&[3])));
        assert_eq!(pool.free().len(), 1);
        let again = pool
            .build("test", &[32, 64], |d| d.extend((0..2048).map(|k| k as f32)))
            .unwrap();
        assert_eq!(again.as_ptr(), ptr, "the kept buffer is reused");
        assert_eq!(again[[1, 0]], 64.0);
        assert!(pool.free().is_empty());
        pool.put(again);
        let zeros = pool.zeros("test", &[2048]).unwrap();
        assert!(
            zeros.iter().all(|&x| x == 0.0),
            "zeros clears a kept buffer"
        );
    }

    #[test]
    fn the_smallest_fitting_buffer_is_chosen() {
        let pool = Pool::<f32>::default();
        for n in [8192, 2048, 4096] {
            pool.put(ArrayD::zeros(IxDyn(&[n])));
        }
        let got = pool.scratch("test", &[3000]).unwrap();
        assert_eq!(got.len(), 3000);
        let (got, _) = got.into_raw_vec_and_offset();
        assert_eq!(got.capacity(), 4096);
        pool.drain();
        assert!(pool.free().is_empty());
    }

    #[test]
    fn an_impossible_size_is_an_error() {
        let pool = Pool::<f32>::default();
        assert!(pool.zeros("test", &[usize::MAX, 2]).is_err());
        assert!(pool.zeros("test", &[usize::MAX / 8]).is_err());
    }
}
