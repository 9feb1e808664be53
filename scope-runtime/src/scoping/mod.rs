//! The rest of `tf.variable_scope` and `tf.get_variable`: custom getters ([`CustomGetter`]),
//! regularizers ([`Regularizer`]), constraints ([`Constraint`]), named collections
//! ([`keys`]) and templates ([`Template`]).
//!
//! A variable scope's getter and regularizer are inherited by its sub-scopes and by re-entering
//! it, as TF inherits them (a scope's constraint is not: TF applies it to the variables made
//! directly in that scope only); a getter given to a sub-scope wraps the enclosing one
//! (the inner getter is called first and receives the outer one as its `next`), while a getter
//! given to one `get_variable` call replaces the scope's.

mod constraint;
mod getter;
mod regularizer;
mod template;

pub use constraint::Constraint;
pub(crate) use getter::{get_through, getter_for};
pub use getter::{CustomGetter, GetterArgs, NextGetter};
pub use regularizer::{RegularizationLoss, Regularizer};
pub use template::Template;

use crate::scope::VariableScopeBuilder;

/// TF's `tf.GraphKeys` names of the collections the registry keeps.
pub mod keys {
    /// `tf.GraphKeys.GLOBAL_VARIABLES`: every variable not created into other collections.
    pub const GLOBAL_VARIABLES: &str = "variables";
    /// `tf.GraphKeys.TRAINABLE_VARIABLES`: the variables created trainable.
    pub const TRAINABLE_VARIABLES: &str = "trainable_variables";
    /// `tf.GraphKeys.LOCAL_VARIABLES`.
    pub const LOCAL_VARIABLES: &str = "local_variables";
    /// `tf.GraphKeys.MODEL_VARIABLES`.
    pub const MODEL_VARIABLES: &str = "model_variables";
    /// `tf.GraphKeys.MOVING_AVERAGE_VARIABLES`.
    pub const MOVING_AVERAGE_VARIABLES: &str = "moving_average_variables";
    /// `tf.GraphKeys.REGULARIZATION_LOSSES`: listed by
    /// [`Registry::regularization_losses`](crate::Registry::regularization_losses).
    pub const REGULARIZATION_LOSSES: &str = "regularization_losses";
}

/// A variable scope's custom getter and regularizer (inherited) and constraint (not).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ScopeExtras {
    pub(crate) custom_getter: Option<CustomGetter>,
    pub(crate) regularizer: Option<Regularizer>,
    pub(crate) constraint: Option<Constraint>,
}

impl ScopeExtras {
    /// What a scope entered from this one with `over` set has: each override wins, except
    /// that a getter wraps this scope's (TF's `_maybe_wrap_custom_getter`).
    pub(crate) fn derive(&self, over: &ScopeExtras) -> ScopeExtras {
        let custom_getter = match (&over.custom_getter, &self.custom_getter) {
            (Some(inner), Some(outer)) => Some(CustomGetter::nested(inner, outer)),
            (Some(g), None) | (None, Some(g)) => Some(g.clone()),
            (None, None) => None,
        };
        ScopeExtras {
            custom_getter,
            regularizer: over.regularizer.or(self.regularizer),
            // TF gives a scope only the constraint passed to it: neither sub-scopes nor a
            // re-entered scope object inherit one.
            constraint: over.constraint.clone(),
        }
    }
}

impl VariableScopeBuilder<'_> {
    /// TF's `variable_scope(.., custom_getter=..)`: every `get_variable` in this scope and its
    /// sub-scopes goes through `getter`; if the enclosing scope has a getter, `getter` is
    /// called first and gets the enclosing one as its `next`.
    pub fn custom_getter(mut self, getter: CustomGetter) -> Self {
        self.registry().note_custom_getter();
        self.extras.custom_getter = Some(getter);
        self
    }

    /// TF's `variable_scope(.., regularizer=..)`: the default regularizer of the variables
    /// created in this scope and its sub-scopes.
    pub fn regularizer(mut self, regularizer: Regularizer) -> Self {
        self.extras.regularizer = Some(regularizer);
        self
    }

    /// TF's `variable_scope(.., constraint=..)`: the default constraint of the variables
    /// created directly in this scope. As in TF, sub-scopes and a re-entered scope object do
    /// not inherit it.
    pub fn constraint(mut self, constraint: Constraint) -> Self {
        self.extras.constraint = Some(constraint);
        self
    }
}

impl crate::scope::VariableScope {
    /// The scope's custom getter (its own wrapped around the inherited ones), if any.
    pub fn custom_getter(&self) -> Option<&CustomGetter> {
        self.extras().custom_getter.as_ref()
    }

    /// The scope's default regularizer, set on it or inherited.
    pub fn regularizer(&self) -> Option<&Regularizer> {
        self.extras().regularizer.as_ref()
    }

    /// The scope's default constraint (set on this scope; never inherited).
    pub fn constraint(&self) -> Option<&Constraint> {
        self.extras().constraint.as_ref()
    }
}

impl crate::registry::VarSpec {
    /// Sets the regularizer (TF's `regularizer=`); else the scope's applies.
    pub fn regularizer(mut self, regularizer: Regularizer) -> Self {
        self.regularizer = Some(regularizer);
        self
    }

    /// Sets the constraint (TF's `constraint=`); else the scope's applies.
    pub fn constraint(mut self, constraint: Constraint) -> Self {
        self.constraint = Some(constraint);
        self
    }

    /// Sets the collections a new variable joins (TF's `collections=`): without
    /// [`keys::GLOBAL_VARIABLES`] among them it is left out of the global collection (and so
    /// of checkpoints), as TF leaves it out; a trainable one still joins the trainable one.
    pub fn collections<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.collections = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Sets this call's custom getter (TF's `custom_getter=` on `get_variable`), used instead
    /// of the scope's.
    pub fn custom_getter(mut self, getter: CustomGetter) -> Self {
        self.custom_getter = Some(getter);
        self
    }
}

#[cfg(test)]
mod tests;
