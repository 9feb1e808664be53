//! The guards that leave a scope when dropped.

use std::fmt;
use std::marker::PhantomData;

use super::{exit_frame, VariableScope};
use crate::registry::Registry;

/// Leaves a scope when dropped. Scopes are per thread, so the guard stays on its thread.
pub(super) struct ExitOnDrop {
    pub(super) registry: Registry,
    pub(super) frame: u64,
    pub(super) _not_send: PhantomData<*const ()>,
}

impl Drop for ExitOnDrop {
    fn drop(&mut self) {
        exit_frame(self.registry.id(), self.frame);
    }
}

/// An entered variable scope; leaves it when dropped. Derefs to the [`VariableScope`].
///
/// Dropping guards out of order is safe: dropping an outer guard also leaves every scope
/// opened inside it.
pub struct VariableScopeGuard {
    pub(super) scope: VariableScope,
    pub(super) exit: ExitOnDrop,
}

impl VariableScopeGuard {
    /// The scope object (what TF's `as scope` binds), to capture and re-enter later.
    pub fn scope(&self) -> &VariableScope {
        &self.scope
    }

    /// Leaves the scope now (the same as dropping the guard).
    pub fn exit(self) {
        drop(self.exit);
    }
}

impl std::ops::Deref for VariableScopeGuard {
    type Target = VariableScope;

    fn deref(&self) -> &VariableScope {
        &self.scope
    }
}

impl fmt::Debug for VariableScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VariableScopeGuard")
            .field(&self.scope)
            .field(&self.exit.frame)
            .finish()
    }
}

/// An entered name scope; leaves it when dropped. Derefs to the scope string.
pub struct NameScopeGuard {
    pub(super) scope: String,
    pub(super) exit: ExitOnDrop,
}

impl NameScopeGuard {
    /// Leaves the name scope now (the same as dropping the guard).
    pub fn exit(self) {
        drop(self.exit);
    }
}

impl std::ops::Deref for NameScopeGuard {
    type Target = str;

    fn deref(&self) -> &str {
        &self.scope
    }
}

impl fmt::Debug for NameScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NameScopeGuard").field(&self.scope).finish()
    }
}
