//! Gradients keyed by variable: what [`super::Tape::backward`] yields and what optimizers
//! apply.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use ndarray::{ArrayD, IxDyn};

use super::scalar::Real;
use crate::train_error::TrainError;
use crate::variable::Variable;

/// Gradients of a loss with respect to variables, keyed by the variable itself (its
/// [`Variable::id`]), in the order they were first added.
///
/// Adding a second gradient for the same variable sums them: a variable shared by two models
/// (the same storage, got through reuse) gets the gradient from both.
///
/// [`super::Tape::gradients`] keeps the gradient of a variable read only through gathers
/// (an embedding table) as its gathered rows, as TF keeps `IndexedSlices`: optimizers apply
/// it without a dense table of zeros, and [`Gradients::get`] makes the dense array on first
/// use.
#[derive(Clone, Debug)]
pub struct Gradients<T: Real = f32> {
    entries: Vec<(Variable, Grad<T>)>,
    index: HashMap<u64, usize>,
    /// Gradients TF would hold as `IndexedSlices` (a gather's, one row per id, not yet
    /// summed): the sum of squares of those rows, by variable id.
    slices_sq: HashMap<u64, f64>,
}

/// One variable's gradient: a dense array, or the rows a gather touched.
#[derive(Clone, Debug)]
enum Grad<T: Real> {
    Dense(ArrayD<T>),
    Rows(Rows<T>),
}

/// The gradient of a table read only through gathers: its rows `ids` (ascending, each once,
/// repeats summed); every other row is zero.
#[derive(Clone, Debug)]
pub(crate) struct Rows<T: Real> {
    shape: Vec<usize>,
    ids: Vec<usize>,
    /// `ids.len()` rows of `width` values.
    values: Vec<T>,
    /// The dense form, made on first [`Gradients::get`].
    dense: OnceLock<ArrayD<T>>,
}

impl<T: Real> Rows<T> {
    /// Rows `ids` (ascending, distinct) of a table of `shape`, `values` holding them in order.
    pub(crate) fn new(shape: Vec<usize>, ids: Vec<usize>, values: Vec<T>) -> Rows<T> {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        debug_assert_eq!(values.len(), ids.len() * row_width(&shape));
        Rows {
            shape,
            ids,
            values,
            dense: OnceLock::new(),
        }
    }

    fn to_dense(&self) -> ArrayD<T> {
        let width = row_width(&self.shape);
        let mut out = ArrayD::zeros(IxDyn(&self.shape));
        let dst = out.as_slice_mut().expect("fresh arrays are contiguous");
        for (&id, row) in self.ids.iter().zip(self.values.chunks_exact(width.max(1))) {
            dst[id * width..(id + 1) * width].copy_from_slice(row);
        }
        out
    }
}

/// Elements per row (axis 0) of a table of `shape`.
fn row_width(shape: &[usize]) -> usize {
    shape.iter().skip(1).product()
}

/// A gradient as an optimizer reads it (see [`Gradients::view`]).
pub(crate) enum GradView<'a, T: Clone> {
    /// The whole gradient, in standard (row-major) order.
    Dense(Cow<'a, [T]>),
    /// Rows `ids` (ascending, distinct) of `width` values each; other rows are zero.
    Rows {
        width: usize,
        ids: &'a [usize],
        values: &'a [T],
    },
}

impl<T: Real> Grad<T> {
    fn shape(&self) -> &[usize] {
        match self {
            Grad::Dense(a) => a.shape(),
            Grad::Rows(r) => &r.shape,
        }
    }

    fn dense(&self) -> &ArrayD<T> {
        match self {
            Grad::Dense(a) => a,
            Grad::Rows(r) => r.dense.get_or_init(|| r.to_dense()),
        }
    }

    fn dense_mut(&mut self) -> &mut ArrayD<T> {
        if let Grad::Rows(r) = self {
            let a = r.dense.take().unwrap_or_else(|| r.to_dense());
            *self = Grad::Dense(a);
        }
        match self {
            Grad::Dense(a) => a,
            Grad::Rows(_) => unreachable!("made dense just above"),
        }
    }

    /// `Σ g²` in f64 (the rows of a sparse gradient; the others are zero).
    fn sum_of_squares(&self) -> f64 {
        match self {
            Grad::Dense(a) => sum_of_squares(a),
            Grad::Rows(r) => slice_sum_of_squares(&r.values),
        }
    }
}

/// `Σ x²` over `a`'s elements, in f64.
pub(crate) fn sum_of_squares<T: Real>(a: &ArrayD<T>) -> f64 {
    match a.as_slice_memory_order() {
        Some(s) => slice_sum_of_squares(s),
        None => a.iter().map(|x| x.to_f64() * x.to_f64()).sum(),
    }
}

/// `Σ x²` in f64, in eight interleaved partial sums so that it vectorizes (a single running
/// sum is a chain of dependent additions; at f64's precision the order changes nothing a
/// float32 norm can show).
fn slice_sum_of_squares<T: Real>(xs: &[T]) -> f64 {
    const LANES: usize = 8;
    super::wide(
        #[inline(always)]
        || {
            let mut acc = [0.0f64; LANES];
            let chunks = xs.chunks_exact(LANES);
            let tail = chunks.remainder();
            for c in chunks {
                for (a, &x) in acc.iter_mut().zip(c) {
                    let x = x.to_f64();
                    *a += x * x;
                }
            }
            for (a, &x) in acc.iter_mut().zip(tail) {
                let x = x.to_f64();
                *a += x * x;
            }
            acc.iter().sum()
        },
    )
}

impl<T: Real> Default for Gradients<T> {
    fn default() -> Self {
        Gradients {
            entries: Vec::new(),
            index: HashMap::new(),
            slices_sq: HashMap::new(),
        }
    }
}

impl<T: Real> Gradients<T> {
    /// No gradients.
    pub fn new() -> Gradients<T> {
        Gradients::default()
    }

    /// Adds `grad` to the gradient of `var` (stored as is if it has none yet).
    ///
    /// Fails with [`TrainError::GradientShape`] if `grad`'s shape is not the variable's.
    pub fn add(&mut self, var: &Variable, grad: ArrayD<T>) -> Result<(), TrainError> {
        if grad.shape() != var.shape() {
            return Err(TrainError::GradientShape {
                name: var.name().to_owned(),
                expected: var.shape().to_vec(),
                got: grad.shape().to_vec(),
            });
        }
        self.add_grad(var, Grad::Dense(grad));
        Ok(())
    }

    /// The dense gradients' arrays, for a tape to reuse their storage
    /// ([`super::Tape::recycle`]).
    pub(crate) fn into_dense(self) -> impl Iterator<Item = ArrayD<T>> {
        self.entries.into_iter().filter_map(|(_, g)| match g {
            Grad::Dense(a) => Some(a),
            Grad::Rows(_) => None,
        })
    }

    /// Adds the rows of a gather-only table's gradient (see [`Rows`]); `rows` has the
    /// variable's shape.
    pub(crate) fn add_rows(&mut self, var: &Variable, rows: Rows<T>) {
        debug_assert_eq!(rows.shape, var.shape());
        self.add_grad(var, Grad::Rows(rows));
    }

    fn add_grad(&mut self, var: &Variable, grad: Grad<T>) {
        match self.index.get(&var.id()) {
            Some(&i) => {
                ndarray::Zip::from(self.entries[i].1.dense_mut())
                    .and(grad.dense())
                    .for_each(|a, &b| *a = *a + b);
                // Summed with a dense gradient, TF's slices become a dense tensor.
                self.slices_sq.remove(&var.id());
            }
            None => {
                self.index.insert(var.id(), self.entries.len());
                self.entries.push((var.clone(), grad));
            }
        }
    }

    /// Adds every gradient of `other` (summing where both have one).
    pub fn merge(&mut self, other: &Gradients<T>) -> Result<(), TrainError> {
        for (var, grad) in &other.entries {
            let both_slices = match (
                self.slices_sq.get(&var.id()),
                other.slices_sq.get(&var.id()),
            ) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
            let fresh = !self.index.contains_key(&var.id());
            if grad.shape() != var.shape() {
                return Err(TrainError::GradientShape {
                    name: var.name().to_owned(),
                    expected: var.shape().to_vec(),
                    got: grad.shape().to_vec(),
                });
            }
            self.add_grad(var, grad.clone());
            match (fresh, other.slices_sq.get(&var.id())) {
                (true, Some(&sq)) => {
                    self.slices_sq.insert(var.id(), sq);
                }
                // Two sets of slices concatenate, as TF aggregates `IndexedSlices`.
                (false, Some(_)) => {
                    if let Some(sq) = both_slices {
                        self.slices_sq.insert(var.id(), sq);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Records that `var`'s gradient is, in TF, a gather's `IndexedSlices` (one row per id,
    /// unsummed) whose rows have this sum of squares: [`Gradients::tf_global_norm`] then
    /// counts that instead of the summed gradient's. [`super::Tape::backward`] records it
    /// for every variable read only through [`super::Tape::gather`].
    pub fn set_slices_sq(&mut self, var: &Variable, sum_of_squares: f64) {
        if self.index.contains_key(&var.id()) {
            self.slices_sq.insert(var.id(), sum_of_squares);
        }
    }

    /// The sum of squares TF's `global_norm` counts for `var`'s gradient: that of its
    /// unsummed slices if it came from gathers only, else that of the gradient.
    pub fn tf_sum_of_squares(&self, var: &Variable) -> Option<f64> {
        let g = &self.entries[*self.index.get(&var.id())?].1;
        Some(match self.slices_sq.get(&var.id()) {
            Some(&sq) => sq,
            None => g.sum_of_squares(),
        })
    }

    /// The Euclidean norm of all gradients together, each summed to its variable's shape.
    pub fn global_norm(&self) -> f64 {
        self.entries
            .iter()
            .map(|(_, g)| g.sum_of_squares())
            .sum::<f64>()
            .sqrt()
    }

    /// The norm TF's `tf.clip_by_global_norm` computes: like [`Gradients::global_norm`],
    /// except that a gradient TF holds as `IndexedSlices` (a gather's) counts each of its
    /// rows separately, so an id gathered twice adds two squared rows rather than the square
    /// of their sum.
    pub fn tf_global_norm(&self) -> f64 {
        self.entries
            .iter()
            .map(|(v, _)| self.tf_sum_of_squares(v).unwrap_or(0.0))
            .sum::<f64>()
            .sqrt()
    }

    /// The gradient of `var`, if it has one.
    pub fn get(&self, var: &Variable) -> Option<&ArrayD<T>> {
        self.index
            .get(&var.id())
            .map(|&i| self.entries[i].1.dense())
    }

    /// The gradient of `var` as optimizers read it, without making a gather's rows dense.
    pub(crate) fn view(&self, var: &Variable) -> Option<GradView<'_, T>> {
        let grad = &self.entries[*self.index.get(&var.id())?].1;
        Some(match grad {
            Grad::Dense(a) => GradView::Dense(match a.as_slice() {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(a.iter().copied().collect()),
            }),
            Grad::Rows(r) => GradView::Rows {
                width: row_width(&r.shape),
                ids: &r.ids,
                values: &r.values,
            },
        })
    }

    /// The shape of `var`'s gradient, if it has one.
    pub(crate) fn shape_of(&self, var: &Variable) -> Option<&[usize]> {
        self.index
            .get(&var.id())
            .map(|&i| self.entries[i].1.shape())
    }

    /// The first NaN or infinity of `var`'s gradient (its index in the dense form, and the
    /// value), if any.
    pub(crate) fn first_non_finite(&self, var: &Variable) -> Option<(usize, T)> {
        let grad = &self.entries[*self.index.get(&var.id())?].1;
        first_non_finite(grad)
    }

    /// The gradient of `var`, mutably, if it has one (a gather's rows are made dense).
    pub fn get_mut(&mut self, var: &Variable) -> Option<&mut ArrayD<T>> {
        match self.index.get(&var.id()) {
            Some(&i) => Some(self.entries[i].1.dense_mut()),
            None => None,
        }
    }

    /// The gradient of the variable whose op name is `name`, if it has one.
    pub fn by_name(&self, name: &str) -> Option<&ArrayD<T>> {
        self.entries
            .iter()
            .find(|(v, _)| v.name() == name)
            .map(|(_, g)| g.dense())
    }

    /// `(variable, gradient)` pairs, in the order they were first added.
    pub fn iter(&self) -> impl Iterator<Item = (&Variable, &ArrayD<T>)> {
        self.entries.iter().map(|(v, g)| (v, g.dense()))
    }

    /// `(variable, gradient)` pairs with mutable gradients.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Variable, &mut ArrayD<T>)> {
        self.entries.iter_mut().map(|(v, g)| (&*v, g.dense_mut()))
    }

    /// How many variables have a gradient.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no variable has a gradient.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets every gradient to zero, keeping the buffers (for accumulation across steps).
    pub fn fill_zero(&mut self) {
        for (_, g) in &mut self.entries {
            match g {
                Grad::Dense(a) => a.fill(T::ZERO),
                Grad::Rows(r) => {
                    r.values.fill(T::ZERO);
                    r.dense = OnceLock::new();
                }
            }
        }
    }

    /// Fails with [`TrainError::NonFiniteGradient`], naming the first variable whose gradient
    /// holds a NaN or infinity.
    pub fn check_finite(&self) -> Result<(), TrainError> {
        for (var, grad) in &self.entries {
            if let Some((index, value)) = first_non_finite(grad) {
                return Err(TrainError::NonFiniteGradient {
                    name: var.name().to_owned(),
                    value: value.to_f64(),
                    index,
                });
            }
        }
        Ok(())
    }
}

/// The first NaN or infinity of `grad`: its index in the dense form, and the value.
fn first_non_finite<T: Real>(grad: &Grad<T>) -> Option<(usize, T)> {
    match grad {
        // The flat slice when there is one: iterating an `ArrayD` element by element costs
        // more than the scan (a few percent of the seed RNN's train step).
        Grad::Dense(a) => match a.as_slice() {
            Some(s) => s.iter().enumerate().find(|(_, x)| !x.is_finite()),
            None => a.iter().enumerate().find(|(_, x)| !x.is_finite()),
        }
        .map(|(i, &x)| (i, x)),
        Grad::Rows(r) => {
            let width = row_width(&r.shape).max(1);
            r.values
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_finite())
                .map(|(k, &x)| (r.ids[k / width] * width + k % width, x))
        }
    }
}

#[cfg(test)]
#[path = "gradients_tests.rs"]
mod tests;
