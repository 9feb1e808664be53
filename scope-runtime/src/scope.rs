//! Name scopes and variable scopes: TF's `tf.name_scope` and `tf.variable_scope`, entered
//! with a guard or a closure, with TF1's naming, reuse and inheritance rules.
//!
//! # Threads
//!
//! As in TensorFlow, the *stacks* of open scopes are per thread (TF keeps them in
//! `threading.local`): each thread starts at the root scope of a registry, and a scope opened
//! on one thread is not seen by another. The *registry* itself (variables, names in use,
//! collections) is shared, so two threads building models at once never hand out the same
//! name twice. To build under a scope on another thread, capture its [`VariableScope`] and
//! re-enter it there with `reg.variable_scope(&captured)`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::registry::Registry;

/// A variable scope's reuse mode (TF's `reuse=` argument and `VariableScope.reuse`).
///
/// Passed to [`VariableScopeBuilder::reuse`], `Reuse::No` means "inherit from the enclosing
/// scope", exactly as TF treats `reuse=False`: a scope cannot switch reuse off once an
/// enclosing scope turned it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Reuse {
    /// Create; refuse to reuse (TF `False`/`None`).
    #[default]
    No,
    /// Reuse; refuse to create (TF `True`).
    Yes,
    /// Reuse if it exists, create otherwise (TF `tf.AUTO_REUSE`).
    Auto,
}

impl From<bool> for Reuse {
    fn from(reuse: bool) -> Reuse {
        if reuse {
            Reuse::Yes
        } else {
            Reuse::No
        }
    }
}

impl Reuse {
    fn to_u8(self) -> u8 {
        self as u8
    }

    fn from_u8(v: u8) -> Reuse {
        match v {
            1 => Reuse::Yes,
            2 => Reuse::Auto,
            _ => Reuse::No,
        }
    }

    /// TF's truthiness: `True` and `AUTO_REUSE` are both truthy.
    pub fn is_set(self) -> bool {
        self != Reuse::No
    }
}

/// A variable scope object (TF's `VariableScope`): what `with tf.variable_scope(..) as scope`
/// binds. A cheap, shareable handle: [`VariableScope::reuse_variables`] on any clone is seen
/// by every clone.
#[derive(Clone)]
pub struct VariableScope {
    inner: Arc<ScopeInner>,
}

struct ScopeInner {
    /// Shared with the thread's `default_name` counters, keyed by scope name.
    name: Arc<str>,
    original_name_scope: Box<str>,
    reuse: AtomicU8,
    initializer: Option<Initializer>,
    dtype: DType,
}

impl VariableScope {
    pub(crate) fn new(
        name: Arc<str>,
        original_name_scope: &str,
        reuse: Reuse,
        initializer: Option<Initializer>,
        dtype: DType,
    ) -> VariableScope {
        VariableScope {
            inner: Arc::new(ScopeInner {
                name,
                original_name_scope: original_name_scope.into(),
                reuse: AtomicU8::new(reuse.to_u8()),
                initializer,
                dtype,
            }),
        }
    }

    pub(crate) fn root() -> VariableScope {
        VariableScope::new("".into(), "", Reuse::No, None, DType::F32)
    }

    /// The scope's name: the prefix of the variables `get_variable` makes in it (`rnn`,
    /// `rnn/cell`). `""` for the root.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The name scope opened when this scope was first entered, with its trailing `/`
    /// (`rnn/`, or `rnn_1/` if `rnn` was taken), or `""`.
    pub fn original_name_scope(&self) -> &str {
        &self.inner.original_name_scope
    }

    /// The effective reuse mode.
    pub fn reuse(&self) -> Reuse {
        Reuse::from_u8(self.inner.reuse.load(Ordering::Acquire))
    }

    /// TF's `scope.reuse_variables()`: from now on `get_variable` in this scope reuses.
    /// Sub-scopes opened afterwards inherit it.
    pub fn reuse_variables(&self) {
        self.inner
            .reuse
            .store(Reuse::Yes.to_u8(), Ordering::Release);
    }

    /// The scope's default initializer, if one was set on it or inherited.
    pub fn initializer(&self) -> Option<&Initializer> {
        self.inner.initializer.as_ref()
    }

    /// The scope's default dtype (`float32` unless set).
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// Whether two handles are the same scope object.
    pub fn ptr_eq(&self, other: &VariableScope) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The variable scope that re-entering this one (TF's `variable_scope(scope_object)`)
    /// opens: a copy with the caller's overrides, never inheriting the enclosing reuse.
    pub(crate) fn reentered(
        &self,
        reuse: Option<Reuse>,
        initializer: Option<Initializer>,
        dtype: Option<DType>,
    ) -> VariableScope {
        VariableScope::new(
            Arc::clone(&self.inner.name),
            self.original_name_scope(),
            reuse.unwrap_or_else(|| self.reuse()),
            initializer.or_else(|| self.initializer().cloned()),
            dtype.unwrap_or(self.dtype()),
        )
    }

    /// The sub-scope `name` of this one (TF's `_pure_variable_scope` for a string name):
    /// reuse, initializer and dtype are inherited unless overridden.
    pub(crate) fn child(
        &self,
        name: &str,
        name_scope: &str,
        reuse: Option<Reuse>,
        initializer: Option<Initializer>,
        dtype: Option<DType>,
    ) -> VariableScope {
        let full: Arc<str> = if self.name().is_empty() {
            name.into()
        } else {
            let mut full = String::with_capacity(self.name().len() + 1 + name.len());
            full.push_str(self.name());
            full.push('/');
            full.push_str(name);
            full.into()
        };
        VariableScope::new(
            full,
            name_scope,
            reuse.unwrap_or_else(|| self.reuse()),
            initializer.or_else(|| self.initializer().cloned()),
            dtype.unwrap_or(self.dtype()),
        )
    }
}

impl fmt::Debug for VariableScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VariableScope")
            .field("name", &self.name())
            .field("original_name_scope", &self.original_name_scope())
            .field("reuse", &self.reuse())
            .field("dtype", &self.dtype())
            .field("initializer", &self.initializer())
            .finish()
    }
}

/// What a variable scope is opened with: a name, nothing (with a default name), or a
/// captured scope object.
#[derive(Clone, Debug)]
pub enum ScopeTarget {
    /// `tf.variable_scope("name")`; `None` needs [`VariableScopeBuilder::default_name`].
    Name(Option<String>),
    /// `tf.variable_scope(scope_object)`: jump back into a captured scope.
    Scope(VariableScope),
}

impl From<&str> for ScopeTarget {
    fn from(name: &str) -> ScopeTarget {
        ScopeTarget::Name(Some(name.to_owned()))
    }
}

impl From<String> for ScopeTarget {
    fn from(name: String) -> ScopeTarget {
        ScopeTarget::Name(Some(name))
    }
}

impl From<&String> for ScopeTarget {
    fn from(name: &String) -> ScopeTarget {
        ScopeTarget::Name(Some(name.clone()))
    }
}

impl From<Option<&str>> for ScopeTarget {
    fn from(name: Option<&str>) -> ScopeTarget {
        ScopeTarget::Name(name.map(str::to_owned))
    }
}

impl From<&VariableScope> for ScopeTarget {
    fn from(scope: &VariableScope) -> ScopeTarget {
        ScopeTarget::Scope(scope.clone())
    }
}

impl From<VariableScope> for ScopeTarget {
    fn from(scope: VariableScope) -> ScopeTarget {
        ScopeTarget::Scope(scope)
    }
}

/// Options of a variable scope about to be entered (TF's `variable_scope` keyword
/// arguments). Built by [`Registry::variable_scope`]; finished by [`enter`](Self::enter) or
/// [`with`](Self::with).
#[must_use = "a scope builder does nothing until `.enter()` or `.with(..)`"]
pub struct VariableScopeBuilder<'r> {
    pub(crate) registry: &'r Registry,
    pub(crate) target: ScopeTarget,
    pub(crate) default_name: Option<String>,
    pub(crate) reuse: Option<Reuse>,
    pub(crate) initializer: Option<Initializer>,
    pub(crate) dtype: Option<DType>,
    pub(crate) auxiliary_name_scope: bool,
}

impl<'r> VariableScopeBuilder<'r> {
    /// TF's `default_name`: used, uniquified (`layer`, `layer_1`), when the target is `None`.
    pub fn default_name(mut self, name: impl Into<String>) -> Self {
        self.default_name = Some(name.into());
        self
    }

    /// TF's `reuse`. `Reuse::No` (or `false`) inherits; `Reuse::Yes` and `Reuse::Auto` set it.
    pub fn reuse(mut self, reuse: impl Into<Reuse>) -> Self {
        self.reuse = Some(reuse.into());
        self
    }

    /// Default initializer for variables made in this scope and its sub-scopes.
    pub fn initializer(mut self, initializer: Initializer) -> Self {
        self.initializer = Some(initializer);
        self
    }

    /// Default dtype for variables made in this scope and its sub-scopes.
    pub fn dtype(mut self, dtype: DType) -> Self {
        self.dtype = Some(dtype);
        self
    }

    /// TF's `auxiliary_name_scope`: `false` opens no name scope (ops keep the current one).
    pub fn auxiliary_name_scope(mut self, open: bool) -> Self {
        self.auxiliary_name_scope = open;
        self
    }

    /// Enters the scope until the guard is dropped (`with tf.variable_scope(..) as scope:`).
    ///
    /// ```
    /// use scope::{Registry, VarSpec};
    /// let reg = Registry::new();
    /// let scope = reg.variable_scope("rnn").enter()?;
    /// let w = reg.get_variable("w", VarSpec::new().shape([2]))?;
    /// scope.reuse_variables();
    /// assert!(w.ptr_eq(&reg.get_variable("w", VarSpec::new())?));
    /// drop(scope);
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn enter(self) -> Result<VariableScopeGuard> {
        let registry = self.registry.clone();
        let (scope, frame) = registry.enter_variable_scope(self)?;
        Ok(VariableScopeGuard {
            scope,
            exit: ExitOnDrop {
                registry,
                frame,
                _not_send: PhantomData,
            },
        })
    }

    /// Runs `body` inside the scope and leaves it afterwards (also on error or panic).
    ///
    /// ```
    /// use scope::{Registry, VarSpec};
    /// let reg = Registry::new();
    /// let (a, b) = reg.variable_scope("rnn").with(|scope| {
    ///     let a = reg.get_variable("w", VarSpec::new().shape([2]))?;
    ///     scope.reuse_variables();
    ///     let b = reg.get_variable("w", VarSpec::new())?;
    ///     Ok::<_, scope::Error>((a, b))
    /// })?;
    /// assert!(a.ptr_eq(&b));
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn with<R, E: From<Error>>(
        self,
        body: impl FnOnce(&VariableScope) -> Result<R, E>,
    ) -> Result<R, E> {
        let guard = self.enter()?;
        body(&guard)
    }
}

/// Options of a name scope about to be entered. Built by [`Registry::name_scope`].
#[must_use = "a scope builder does nothing until `.enter()` or `.with(..)`"]
pub struct NameScopeBuilder<'r> {
    pub(crate) registry: &'r Registry,
    pub(crate) name: Option<String>,
    pub(crate) default_name: Option<String>,
}

impl<'r> NameScopeBuilder<'r> {
    /// TF's `default_name`, used when the name is `None`.
    pub fn default_name(mut self, name: impl Into<String>) -> Self {
        self.default_name = Some(name.into());
        self
    }

    /// Enters the name scope until the guard is dropped. The guard derefs to the scope
    /// string TF returns (`"a/"`, `"a_1/"`, or `""` at the root).
    pub fn enter(self) -> Result<NameScopeGuard> {
        let registry = self.registry.clone();
        let name = self.name.or(self.default_name);
        let (scope, frame) = registry.enter_name_scope(name.as_deref())?;
        Ok(NameScopeGuard {
            scope,
            exit: ExitOnDrop {
                registry,
                frame,
                _not_send: PhantomData,
            },
        })
    }

    /// Runs `body` inside the name scope, passing the scope string.
    pub fn with<R, E: From<Error>>(self, body: impl FnOnce(&str) -> Result<R, E>) -> Result<R, E> {
        let guard = self.enter()?;
        body(&guard)
    }
}

/// Leaves a scope when dropped. Scopes are per thread, so the guard stays on its thread.
struct ExitOnDrop {
    registry: Registry,
    frame: u64,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ExitOnDrop {
    fn drop(&mut self) {
        self.registry.exit_frame(self.frame);
    }
}

/// An entered variable scope; leaves it when dropped. Derefs to the [`VariableScope`].
///
/// Dropping guards out of order is safe: dropping an outer guard also leaves every scope
/// opened inside it.
pub struct VariableScopeGuard {
    scope: VariableScope,
    exit: ExitOnDrop,
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
    scope: String,
    exit: ExitOnDrop,
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

/// One thread's view of one registry: its name stack, current variable scope, the
/// `default_name` counters, and the frames to restore on exit.
pub(crate) struct ThreadScopes {
    pub(crate) name_stack: String,
    pub(crate) current: VariableScope,
    /// TF's `variable_scopes_count`, ordered so that closing a scope finds its sub-scopes
    /// by range instead of scanning every count. Absent means 0.
    pub(crate) counts: BTreeMap<Arc<str>, u32>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) next_frame: u64,
    /// A buffer for `get_variable`'s full name, so that a lookup allocates nothing.
    pub(crate) scratch: String,
}

/// What leaving one scope restores.
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) name_stack: StackOnExit,
    pub(crate) scope: Option<VariableScope>,
    pub(crate) counts: CountsOnExit,
}

/// How the name stack is restored when a scope is left.
pub(crate) enum StackOnExit {
    /// The scope did not change it.
    Keep,
    /// The scope extended it (`a` -> `a/b`): cut it back to this many bytes. Nested scopes
    /// usually extend the stack, so a frame does not copy it.
    Truncate(usize),
    /// The scope replaced it (a reset to the root, an absolute name elsewhere): the old one.
    Restore(String),
}

/// How the `default_name` counters change when a variable scope is left.
pub(crate) enum CountsOnExit {
    Keep,
    /// A captured scope was re-entered: restore the counters as they were after entering.
    Restore(BTreeMap<Arc<str>, u32>),
    /// A named scope was opened: reset the counters of its sub-scopes. The scope is the
    /// current one when its frame is left, so its name is not copied here.
    CloseSubscopes,
}

impl ThreadScopes {
    pub(crate) fn new() -> ThreadScopes {
        ThreadScopes {
            name_stack: String::new(),
            current: VariableScope::root(),
            counts: BTreeMap::new(),
            frames: Vec::new(),
            next_frame: 0,
            scratch: String::new(),
        }
    }

    /// Makes `stack` the name stack, returning how to restore the current one: by
    /// truncation when `stack` extends it, which saves copying the old stack into the frame.
    pub(crate) fn replace_name_stack(&mut self, stack: String) -> StackOnExit {
        if stack.starts_with(self.name_stack.as_str()) {
            let len = self.name_stack.len();
            self.name_stack = stack;
            StackOnExit::Truncate(len)
        } else {
            StackOnExit::Restore(std::mem::replace(&mut self.name_stack, stack))
        }
    }

    pub(crate) fn push(&mut self, mut frame: Frame) -> u64 {
        self.next_frame += 1;
        frame.id = self.next_frame;
        self.frames.push(frame);
        self.next_frame
    }

    /// Pops frames down to and including `id`; nothing if it was already popped.
    pub(crate) fn exit(&mut self, id: u64) {
        let Some(pos) = self.frames.iter().rposition(|f| f.id == id) else {
            return;
        };
        while self.frames.len() > pos {
            let frame = self.frames.pop().expect("len > pos >= 0");
            match frame.counts {
                CountsOnExit::Keep => {}
                CountsOnExit::Restore(counts) => self.counts = counts,
                CountsOnExit::CloseSubscopes => {
                    // The frames above this one are gone, so the current scope is the one
                    // this frame opened. TF zeroes every count under `name/`; absent means
                    // 0, so drop them. They are exactly the keys in ["name/", "name0"): '0'
                    // follows '/'.
                    let name = self.current.name();
                    let lo = format!("{name}/");
                    let hi = format!("{name}0");
                    let under: Vec<Arc<str>> = self
                        .counts
                        .range::<str, _>((Bound::Included(&*lo), Bound::Excluded(&*hi)))
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in under {
                        self.counts.remove(&k);
                    }
                }
            }
            if let Some(scope) = frame.scope {
                self.current = scope;
            }
            match frame.name_stack {
                StackOnExit::Keep => {}
                StackOnExit::Truncate(len) => self.name_stack.truncate(len),
                StackOnExit::Restore(stack) => self.name_stack = stack,
            }
        }
    }

    /// TF's `_get_unique_variable_scope(prefix)`.
    pub(crate) fn unique_variable_scope(&self, prefix: &str) -> String {
        let base = if self.current.name().is_empty() {
            prefix.to_owned()
        } else {
            format!("{}/{}", self.current.name(), prefix)
        };
        let count = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        if count(&base) == 0 {
            return prefix.to_owned();
        }
        let mut idx = 1;
        while count(&format!("{base}_{idx}")) > 0 {
            idx += 1;
        }
        format!("{prefix}_{idx}")
    }

    pub(crate) fn open_variable_scope(&mut self, scope: &VariableScope) {
        *self
            .counts
            .entry(Arc::clone(&scope.inner.name))
            .or_insert(0) += 1;
    }
}
