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
}

impl<T: Real> Default for Gradients<T> {
    fn default() -> Self {
        Gradients {
            entries: Vec::new(),
            index: HashMap::new(),
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
            Some(&i) => ndarray::Zip::from(&mut self.entries[i].1)
                .and(&grad)
                .for_each(|a, &b| *a = *a + b),
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
            self.add(var, grad.clone())?;
        }
        Ok(())
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
