//! Gradients keyed by variable: what [`super::Tape::backward`] yields and what optimizers
//! apply.

use std::collections::HashMap;

use ndarray::ArrayD;

use super::scalar::Real;
use crate::train_error::TrainError;
use crate::variable::Variable;

/// Gradients of a loss with respect to variables, keyed by the variable itself (its
/// [`Variable::id`]), in the order they were first added.
///
/// Adding a second gradient for the same variable sums them: a variable shared by two models
/// (the same storage, got through reuse) gets the gradient from both.
#[derive(Clone, Debug)]
pub struct Gradients<T: Real = f32> {
    entries: Vec<(Variable, ArrayD<T>)>,
    index: HashMap<u64, usize>,
    /// Gradients TF would hold as `IndexedSlices` (a gather's, one row per id, not yet
    /// summed): the sum of squares of those rows, by variable id.
    slices_sq: HashMap<u64, f64>,
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
        match self.index.get(&var.id()) {
            Some(&i) => {
                ndarray::Zip::from(&mut self.entries[i].1)
                    .and(&grad)
                    .for_each(|a, &b| *a = *a + b);
                // Summed with a dense gradient, TF's slices become a dense tensor.
                self.slices_sq.remove(&var.id());
            }
            None => {
                self.index.insert(var.id(), self.entries.len());
                self.entries.push((var.clone(), grad));
            }
        }
        Ok(())
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
            let fresh = self.get(var).is_none();
            self.add(var, grad.clone())?;
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
        let g = self.get(var)?;
        Some(match self.slices_sq.get(&var.id()) {
            Some(&sq) => sq,
            None => g.iter().map(|x| x.to_f64() * x.to_f64()).sum(),
        })
    }

    /// The Euclidean norm of all gradients together, each summed to its variable's shape.
    pub fn global_norm(&self) -> f64 {
        self.entries
            .iter()
            .flat_map(|(_, g)| g.iter())
            .map(|x| x.to_f64() * x.to_f64())
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
        self.index.get(&var.id()).map(|&i| &self.entries[i].1)
    }

    /// The gradient of `var`, mutably, if it has one.
    pub fn get_mut(&mut self, var: &Variable) -> Option<&mut ArrayD<T>> {
        match self.index.get(&var.id()) {
            Some(&i) => Some(&mut self.entries[i].1),
            None => None,
        }
    }

    /// The gradient of the variable whose op name is `name`, if it has one.
    pub fn by_name(&self, name: &str) -> Option<&ArrayD<T>> {
        self.entries
            .iter()
            .find(|(v, _)| v.name() == name)
            .map(|(_, g)| g)
    }

    /// `(variable, gradient)` pairs, in the order they were first added.
    pub fn iter(&self) -> impl Iterator<Item = (&Variable, &ArrayD<T>)> {
        self.entries.iter().map(|(v, g)| (v, g))
    }

    /// `(variable, gradient)` pairs with mutable gradients.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Variable, &mut ArrayD<T>)> {
        self.entries.iter_mut().map(|(v, g)| (&*v, g))
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
            g.fill(T::ZERO);
        }
    }

    /// Fails with [`TrainError::NonFiniteGradient`], naming the first variable whose gradient
    /// holds a NaN or infinity.
    pub fn check_finite(&self) -> Result<(), TrainError> {
        for (var, grad) in &self.entries {
            if let Some((index, value)) = grad.iter().enumerate().find(|(_, x)| !x.is_finite()) {
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
