//! Named collections (`collections=`, `tf.get_collection(key, scope)`) and
//! `REGULARIZATION_LOSSES`, kept beside the variable store.

use std::collections::{HashMap, HashSet};

use regex_automata::meta::Regex;

use super::{Collection, Registry, Shared, VarSpec};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::scope::VariableScope;
use crate::scoping::{keys, Constraint, RegularizationLoss, Regularizer};
use crate::uniquifier::Mark;
use crate::variable::Variable;

/// The collections other than the global and trainable ones, which the store lists itself.
#[derive(Clone, Default)]
pub(super) struct Collections {
    /// User-named collections and `LOCAL_VARIABLES`, `MODEL_VARIABLES`, ..., in the order
    /// variables were added.
    named: HashMap<String, Vec<Variable>>,
    /// Ids of the variables created with `collections=` that leave out `GLOBAL_VARIABLES`.
    not_global: HashSet<u64>,
    /// Ids of the variables created not trainable but with `TRAINABLE_VARIABLES` among their
    /// `collections=`, which TF lists as trainable all the same.
    also_trainable: HashSet<u64>,
    /// `REGULARIZATION_LOSSES`, in creation order.
    losses: Vec<RegularizationLoss>,
}

impl Collections {
    /// Whether `var` is in `GLOBAL_VARIABLES`.
    pub(super) fn in_global(&self, var: &Variable) -> bool {
        self.not_global.is_empty() || !self.not_global.contains(&var.id())
    }

    /// Whether `var` is in `TRAINABLE_VARIABLES`.
    pub(super) fn in_trainable(&self, var: &Variable) -> bool {
        var.trainable() || self.also_trainable.contains(&var.id())
    }
}

/// What a new variable gets beyond its value: its regularizer, constraint and collections,
/// from its spec or else its scope.
pub(super) struct Attach {
    regularizer: Option<Regularizer>,
    constraint: Option<Constraint>,
    collections: Option<Vec<String>>,
}

impl Attach {
    pub(super) fn new(spec: &VarSpec, scope: &VariableScope) -> Attach {
        Attach {
            regularizer: spec.regularizer.or_else(|| scope.regularizer().copied()),
            constraint: spec
                .constraint
                .clone()
                .or_else(|| scope.constraint().cloned()),
            collections: spec.collections.clone(),
        }
    }

    /// Refuses what would fail after the variable exists (a regularizer on an integer).
    pub(super) fn check(&self, full_name: &str, dtype: DType) -> Result<()> {
        match &self.regularizer {
            Some(r) => r.check(full_name, dtype),
            None => Ok(()),
        }
    }
}

impl Shared {
    /// Files a variable just created under store key `full_name`.
    pub(super) fn attach(&mut self, var: &Variable, full_name: &str, a: &Attach) {
        if let Some(c) = &a.constraint {
            var.set_constraint(c.clone());
        }
        if let Some(collections) = &a.collections {
            if !collections.iter().any(|k| k == keys::GLOBAL_VARIABLES) {
                self.collections.not_global.insert(var.id());
            }
            if !var.trainable() && collections.iter().any(|k| k == keys::TRAINABLE_VARIABLES) {
                self.collections.also_trainable.insert(var.id());
            }
            // TF adds to each named collection once, however often it is named.
            let mut seen = HashSet::new();
            for key in collections.iter().filter(|k| seen.insert(k.as_str())) {
                if key != keys::GLOBAL_VARIABLES && key != keys::TRAINABLE_VARIABLES {
                    self.collections
                        .named
                        .entry(key.clone())
                        .or_default()
                        .push(var.clone());
                }
            }
        }
        if let Some(r) = a.regularizer.filter(Regularizer::is_active) {
            // TF calls the regularizer once at the root name scope to see whether it gives a
            // loss (consuming its name there), then builds the loss under `<name>/Regularizer/`.
            self.unique("", r.op_name(), Mark::Stored);
            self.collections.losses.push(RegularizationLoss {
                name: format!("{full_name}/Regularizer/{}", r.op_name()),
                variable: var.clone(),
                regularizer: r,
            });
        }
    }
}

/// TF's scope filter: `re.match(scope, item.name)` on the tensor name (`w:0`).
fn filter(scope: Option<&str>) -> Result<Option<Regex>> {
    scope
        .map(|s| {
            crate::pattern::compile(&format!("^(?:{s})")).map_err(|reason| Error::InvalidFilter {
                pattern: s.to_owned(),
                reason,
            })
        })
        .transpose()
}

impl Registry {
    /// Notes that a variable scope with a custom getter was opened in this registry.
    pub(crate) fn note_custom_getter(&self) {
        self.inner
            .getters
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a variable scope with a custom getter was ever opened in this registry: until
    /// then `get_variable` need not look for one (one load instead of a thread-local lookup).
    pub(crate) fn may_have_custom_getters(&self) -> bool {
        self.inner
            .getters
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `tf.get_collection(key, scope)` for a collection of variables (see [`keys`]): its
    /// variables in the order they joined, those whose name `scope` matches at its start
    /// (TF's `re.match` on `name:0`). Refuses a `scope` that is not a regular expression.
    /// `REGULARIZATION_LOSSES` holds losses, not variables: list it with
    /// [`Registry::regularization_losses`].
    ///
    /// ```
    /// use scope::{keys, Registry, VarSpec};
    /// let reg = Registry::new();
    /// let local = VarSpec::new().shape([1]).collections([keys::LOCAL_VARIABLES]);
    /// reg.get_variable("step", local.trainable(false))?;
    /// reg.get_variable("w", VarSpec::new().shape([1]))?;
    /// let names = |k| reg.get_collection(k, None).unwrap().iter()
    ///     .map(|v| v.name().to_owned()).collect::<Vec<_>>();
    /// assert_eq!(names(keys::LOCAL_VARIABLES), ["step"]);
    /// assert_eq!(names(keys::GLOBAL_VARIABLES), ["w"]);
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn get_collection(&self, key: &str, scope: Option<&str>) -> Result<Vec<Variable>> {
        let re = filter(scope)?;
        let keep = |v: &Variable| re.as_ref().is_none_or(|re| re.is_match(&v.tensor_name()));
        let listed = match key {
            keys::GLOBAL_VARIABLES => self.collection(Collection::Global, None),
            keys::TRAINABLE_VARIABLES => self.collection(Collection::Trainable, None),
            other => self
                .read()
                .collections
                .named
                .get(other)
                .cloned()
                .unwrap_or_default(),
        };
        Ok(listed.into_iter().filter(|v| keep(v)).collect())
    }

    /// `tf.add_to_collection(key, var)` for a named collection (not the global or trainable
    /// ones, which follow the variables' creation).
    pub fn add_to_collection(&self, key: &str, var: &Variable) {
        if key == keys::GLOBAL_VARIABLES || key == keys::TRAINABLE_VARIABLES {
            return;
        }
        self.write()
            .collections
            .named
            .entry(key.to_owned())
            .or_default()
            .push(var.clone());
    }

    /// `tf.get_collection(REGULARIZATION_LOSSES, scope)` (TF's
    /// `tf.losses.get_regularization_losses(scope)`): the losses of the variables created
    /// with a regularizer, in creation order, filtered on the loss name as
    /// [`Registry::get_collection`] filters.
    pub fn regularization_losses(&self, scope: Option<&str>) -> Result<Vec<RegularizationLoss>> {
        let re = filter(scope)?;
        Ok(self
            .read()
            .collections
            .losses
            .iter()
            .filter(|l| {
                re.as_ref()
                    .is_none_or(|re| re.is_match(&format!("{}:0", l.name())))
            })
            .cloned()
            .collect())
    }

    /// `tf.losses.get_regularization_loss(scope)`: the sum of
    /// [`Registry::regularization_losses`] on the variables' current values (0 if none).
    pub fn regularization_loss(&self, scope: Option<&str>) -> Result<f64> {
        Ok(self
            .regularization_losses(scope)?
            .iter()
            .map(RegularizationLoss::value)
            .sum())
    }
}
