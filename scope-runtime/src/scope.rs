//! Name scopes and variable scopes: TF's `tf.name_scope` and `tf.variable_scope`, entered
//! with a guard or a closure, with TF1's naming, reuse and inheritance rules.
//!
//! This module is the per-thread scope state machine, whole: the scope objects and builders,
//! each thread's stack of open scopes (`ThreadScopes` and its frames, kept per registry in a
//! thread-local map), and the transitions that enter and leave scopes. The registry keeps the
//! store (variables, names in use, collections) and lends this module its uniquifier and
//! limits.
//!
//! # Threads
//!
//! As in TensorFlow, the *stacks* of open scopes are per thread (TF keeps them in
//! `threading.local`): each thread starts at the root scope of a registry, and a scope opened
//! on one thread is not seen by another. The *registry* itself (variables, names in use,
//! collections) is shared, so two threads building models at once never hand out the same
//! name twice. To build under a scope on another thread, capture its [`VariableScope`] and
//! re-enter it there with `reg.variable_scope(&captured)`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::Initializer;
use crate::names::{context_of, validate_scope_name};
use crate::partition::Partitioner;
use crate::registry::{Inner, Registry};
use crate::scoping::ScopeExtras;
use crate::uniquifier::FastMap;

mod guards;

use guards::ExitOnDrop;
pub use guards::{NameScopeGuard, VariableScopeGuard};

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
    partitioner: Option<Partitioner>,
    /// Custom getter, regularizer and constraint (see [`crate::scoping`]).
    extras: ScopeExtras,
}

impl VariableScope {
    fn new(
        name: Arc<str>,
        original_name_scope: &str,
        reuse: Reuse,
        initializer: Option<Initializer>,
        dtype: DType,
        partitioner: Option<Partitioner>,
        extras: ScopeExtras,
    ) -> VariableScope {
        VariableScope {
            inner: Arc::new(ScopeInner {
                name,
                original_name_scope: original_name_scope.into(),
                reuse: AtomicU8::new(reuse.to_u8()),
                initializer,
                dtype,
                partitioner,
                extras,
            }),
        }
    }

    /// The scope's custom getter, regularizer and constraint defaults.
    pub(crate) fn extras(&self) -> &ScopeExtras {
        &self.inner.extras
    }

    /// The scope's default partitioner (TF's `variable_scope(.., partitioner=..)`), if one
    /// was set on it or inherited: [`Registry::get_partitioned_variable`] uses it when the
    /// variable's spec names none.
    pub fn partitioner(&self) -> Option<&Partitioner> {
        self.inner.partitioner.as_ref()
    }

    fn root() -> VariableScope {
        VariableScope::new(
            "".into(),
            "",
            Reuse::No,
            None,
            DType::F32,
            None,
            ScopeExtras::default(),
        )
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
    fn reentered(&self, reuse: Option<Reuse>, over: &VariableScopeBuilder<'_>) -> VariableScope {
        let name = Arc::clone(&self.inner.name);
        self.derived(name, self.original_name_scope(), reuse, over)
    }

    /// A scope entered from this one: `name`, with the builder's overrides over this scope's
    /// settings (see [`ScopeExtras::derive`] for the getter, regularizer and constraint).
    fn derived(
        &self,
        name: Arc<str>,
        name_scope: &str,
        reuse: Option<Reuse>,
        over: &VariableScopeBuilder<'_>,
    ) -> VariableScope {
        VariableScope::new(
            name,
            name_scope,
            reuse.unwrap_or_else(|| self.reuse()),
            over.initializer
                .clone()
                .or_else(|| self.initializer().cloned()),
            over.dtype.unwrap_or(self.dtype()),
            over.partitioner
                .clone()
                .or_else(|| self.partitioner().cloned()),
            self.extras().derive(&over.extras),
        )
    }

    /// The sub-scope `name` of this one (TF's `_pure_variable_scope` for a string name):
    /// reuse, initializer and dtype are inherited unless overridden.
    fn child(
        &self,
        name: &str,
        name_scope: &str,
        reuse: Option<Reuse>,
        over: &VariableScopeBuilder<'_>,
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
        self.derived(full, name_scope, reuse, over)
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
            .field("partitioner", &self.partitioner())
            .field("custom_getter", &self.custom_getter())
            .field("regularizer", &self.regularizer())
            .field("constraint", &self.constraint())
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
    registry: &'r Registry,
    target: ScopeTarget,
    default_name: Option<String>,
    reuse: Option<Reuse>,
    initializer: Option<Initializer>,
    dtype: Option<DType>,
    partitioner: Option<Partitioner>,
    auxiliary_name_scope: bool,
    /// Overrides of the custom getter, regularizer and constraint (see [`crate::scoping`]).
    pub(crate) extras: ScopeExtras,
    /// TF's `_pure_variable_scope` (for `make_template(.., create_scope_now_=True)`): no name
    /// scope is opened, and the scope's original name scope is its own name.
    pub(crate) pure: bool,
}

impl<'r> VariableScopeBuilder<'r> {
    pub(crate) fn new(registry: &'r Registry, target: ScopeTarget) -> Self {
        VariableScopeBuilder {
            registry,
            target,
            default_name: None,
            reuse: None,
            initializer: None,
            dtype: None,
            partitioner: None,
            auxiliary_name_scope: true,
            extras: ScopeExtras::default(),
            pure: false,
        }
    }

    /// The registry the scope is opened in.
    pub(crate) fn registry(&self) -> &'r Registry {
        self.registry
    }

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

    /// Default partitioner for variables made with
    /// [`Registry::get_partitioned_variable`] in this scope and its sub-scopes (TF's
    /// `variable_scope(.., partitioner=..)`, inherited as TF inherits it).
    pub fn partitioner(mut self, partitioner: Partitioner) -> Self {
        self.partitioner = Some(partitioner);
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
        let (scope, frame) = enter_variable_scope(&registry, self)?;
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
    registry: &'r Registry,
    name: Option<String>,
    default_name: Option<String>,
}

impl<'r> NameScopeBuilder<'r> {
    pub(crate) fn new(registry: &'r Registry, name: Option<String>) -> Self {
        NameScopeBuilder {
            registry,
            name,
            default_name: None,
        }
    }

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
        let (scope, frame) = enter_name_scope(&registry, name.as_deref())?;
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

/// One thread's view of one registry: its name stack, current variable scope, the
/// `default_name` counters, and the frames to restore on exit.
pub(crate) struct ThreadScopes {
    name_stack: String,
    current: VariableScope,
    /// TF's `variable_scopes_count`, ordered so that closing a scope finds its sub-scopes
    /// by range instead of scanning every count. Absent means 0.
    counts: BTreeMap<Arc<str>, u32>,
    frames: Vec<Frame>,
    next_frame: u64,
    /// A buffer for `get_variable`'s full name, so that a lookup allocates nothing.
    scratch: String,
}

/// What leaving one scope restores.
struct Frame {
    id: u64,
    name_stack: StackOnExit,
    scope: Option<VariableScope>,
    counts: CountsOnExit,
}

/// How the name stack is restored when a scope is left.
enum StackOnExit {
    /// The scope did not change it.
    Keep,
    /// The scope extended it (`a` -> `a/b`): cut it back to this many bytes. Nested scopes
    /// usually extend the stack, so a frame does not copy it.
    Truncate(usize),
    /// The scope replaced it (a reset to the root, an absolute name elsewhere): the old one.
    Restore(String),
}

/// How the `default_name` counters change when a variable scope is left.
enum CountsOnExit {
    Keep,
    /// A captured scope was re-entered: restore the counters as they were after entering.
    Restore(BTreeMap<Arc<str>, u32>),
    /// A named scope was opened: reset the counters of its sub-scopes. The scope is the
    /// current one when its frame is left, so its name is not copied here.
    CloseSubscopes,
}

impl ThreadScopes {
    fn new() -> ThreadScopes {
        ThreadScopes {
            name_stack: String::new(),
            current: VariableScope::root(),
            counts: BTreeMap::new(),
            frames: Vec::new(),
            next_frame: 0,
            scratch: String::new(),
        }
    }

    /// The current variable scope (`tf.get_variable_scope()`).
    pub(crate) fn current(&self) -> &VariableScope {
        &self.current
    }

    /// This thread's `default_name` counters, for a failed model build to put back with
    /// [`ThreadScopes::restore_counts`].
    pub(crate) fn counts_snapshot(&self) -> BTreeMap<Arc<str>, u32> {
        self.counts.clone()
    }

    /// Puts back counters [`ThreadScopes::counts_snapshot`] took.
    pub(crate) fn restore_counts(&mut self, counts: BTreeMap<Arc<str>, u32>) {
        self.counts = counts;
    }

    /// The name stack, without trailing `/` (`graph.get_name_scope()`).
    pub(crate) fn name_stack(&self) -> &str {
        &self.name_stack
    }

    /// The current variable scope and a reused buffer to build a full name in, so that a
    /// lookup allocates nothing.
    pub(crate) fn current_and_scratch(&mut self) -> (&VariableScope, &mut String) {
        (&self.current, &mut self.scratch)
    }

    /// Makes `stack` the name stack, returning how to restore the current one: by
    /// truncation when `stack` extends it, which saves copying the old stack into the frame.
    fn replace_name_stack(&mut self, stack: String) -> StackOnExit {
        if stack.starts_with(self.name_stack.as_str()) {
            let len = self.name_stack.len();
            self.name_stack = stack;
            StackOnExit::Truncate(len)
        } else {
            StackOnExit::Restore(std::mem::replace(&mut self.name_stack, stack))
        }
    }

    fn push(&mut self, mut frame: Frame) -> u64 {
        self.next_frame += 1;
        frame.id = self.next_frame;
        self.frames.push(frame);
        self.next_frame
    }

    /// Pops frames down to and including `id`; nothing if it was already popped.
    fn exit(&mut self, id: u64) {
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
    fn unique_variable_scope(&self, prefix: &str) -> String {
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

    fn open_variable_scope(&mut self, scope: &VariableScope) {
        *self
            .counts
            .entry(Arc::clone(&scope.inner.name))
            .or_insert(0) += 1;
    }
}

thread_local! {
    static THREAD_SCOPES: RefCell<ThreadMap> = RefCell::new(ThreadMap::default());
}

/// One thread's scope state for every registry it has used, keyed by registry id.
///
/// A registry dropped on this thread removes its own entry. One dropped on another thread
/// cannot reach this thread's map, so each entry carries a weak handle to its registry and
/// dead entries are swept when a new entry is added, once the map has doubled since the
/// last sweep: the map stays within about twice the registries alive on this thread.
#[derive(Default)]
struct ThreadMap {
    entries: FastMap<u64, ThreadEntry>,
    /// Sweep before the next insertion once `entries` has this many.
    sweep_at: usize,
}

struct ThreadEntry {
    owner: Weak<Inner>,
    scopes: ThreadScopes,
}

impl ThreadMap {
    /// Smallest map size that triggers a sweep.
    const MIN_SWEEP: usize = 16;

    fn scopes(&mut self, inner: &Arc<Inner>, id: u64) -> &mut ThreadScopes {
        if self.entries.len() >= self.sweep_at && !self.entries.contains_key(&id) {
            self.entries.retain(|_, e| e.owner.strong_count() > 0);
            self.sweep_at = (2 * self.entries.len()).max(Self::MIN_SWEEP);
        }
        &mut self
            .entries
            .entry(id)
            .or_insert_with(|| ThreadEntry {
                owner: Arc::downgrade(inner),
                scopes: ThreadScopes::new(),
            })
            .scopes
    }
}

/// Runs `f` on this thread's scope state for the registry `id` (owned by `inner`).
pub(crate) fn with_thread<R>(
    inner: &Arc<Inner>,
    id: u64,
    f: impl FnOnce(&mut ThreadScopes) -> R,
) -> R {
    THREAD_SCOPES.with(|map| f(map.borrow_mut().scopes(inner, id)))
}

/// Drops this thread's scope state for the registry `id` (the registry is being dropped).
pub(crate) fn forget_registry(id: u64) {
    let _ = THREAD_SCOPES.try_with(|map| {
        if let Ok(mut map) = map.try_borrow_mut() {
            map.entries.remove(&id);
        }
    });
}

/// Leaves the frame `frame` of the registry `registry_id` on this thread, and every frame
/// opened after it.
fn exit_frame(registry_id: u64, frame: u64) {
    // `try_with`: a guard dropped while the thread is exiting has nothing left to restore.
    let _ = THREAD_SCOPES.try_with(|map| {
        if let Ok(mut map) = map.try_borrow_mut() {
            if let Some(e) = map.entries.get_mut(&registry_id) {
                e.scopes.exit(frame);
            }
        }
    });
}

// ----- the transitions ------------------------------------------------------------------

fn enter_name_scope(reg: &Registry, name: Option<&str>) -> Result<(String, u64)> {
    if let Some(name) = name {
        reg.check_name_len(name)?;
    }
    let depth_limit = reg.max_scope_depth();
    reg.with_thread(|t| {
        if t.frames.len() >= depth_limit {
            return Err(Error::ScopeTooDeep {
                depth: t.frames.len() + 1,
                limit: depth_limit,
            });
        }
        let (stack, returned) = name_scope_transition(reg, &t.name_stack, name.unwrap_or(""))?;
        let name_stack = t.replace_name_stack(stack);
        let id = t.push(Frame {
            id: 0,
            name_stack,
            scope: None,
            counts: CountsOnExit::Keep,
        });
        Ok((returned, id))
    })
}

/// TF's `Graph.name_scope(name)`: the new name stack and the returned scope string.
fn name_scope_transition(reg: &Registry, stack: &str, name: &str) -> Result<(String, String)> {
    if name.is_empty() {
        return Ok((String::new(), String::new()));
    }
    validate_scope_name(name, context_of(stack))?;
    if let Some(abs) = name.strip_suffix('/') {
        return Ok((abs.to_owned(), name.to_owned()));
    }
    reg.check_joined_len(stack, name)?;
    let unique = reg.claim_unique_name(stack, name);
    let returned = format!("{unique}/");
    Ok((unique, returned))
}

fn enter_variable_scope(
    reg: &Registry,
    b: VariableScopeBuilder<'_>,
) -> Result<(VariableScope, u64)> {
    if let ScopeTarget::Name(None) = b.target {
        if b.default_name.is_none() {
            return Err(Error::MissingScopeName);
        }
    }
    for name in [&b.default_name, &target_name(&b.target)]
        .into_iter()
        .flatten()
    {
        reg.check_name_len(name)?;
    }
    // TF: reuse=False means "inherit", the same as None.
    let reuse = b.reuse.filter(|r| r.is_set());
    let depth_limit = reg.max_scope_depth();
    reg.with_thread(|t| {
        if t.frames.len() >= depth_limit {
            return Err(Error::ScopeTooDeep {
                depth: t.frames.len() + 1,
                limit: depth_limit,
            });
        }
        if matches!(b.target, ScopeTarget::Name(None)) && reuse.is_some() {
            return Err(Error::ReuseWithoutName);
        }
        // The new variable scope's full name (before a `default_name` suffix).
        match &b.target {
            ScopeTarget::Name(name) => {
                let name = name.as_deref().or(b.default_name.as_deref()).unwrap_or("");
                reg.check_joined_len(t.current.name(), name)?;
            }
            ScopeTarget::Scope(captured) => reg.check_name_len(captured.name())?,
        }
        // The name scope: re-enter the current one, or open one named after the scope.
        let reenter_current = || {
            if t.name_stack.is_empty() {
                (String::new(), String::new())
            } else {
                (t.name_stack.clone(), format!("{}/", t.name_stack))
            }
        };
        let ns_name: &str = match &b.target {
            ScopeTarget::Name(Some(name)) => name,
            ScopeTarget::Scope(s) => s.name().rsplit('/').next().unwrap_or(""),
            ScopeTarget::Name(None) => b.default_name.as_deref().unwrap_or(""),
        };
        let name_scope = if b.pure {
            None
        } else if !b.auxiliary_name_scope {
            Some(reenter_current())
        } else if ns_name.is_empty() {
            None
        } else {
            Some(name_scope_transition(reg, &t.name_stack, ns_name)?)
        };

        let (scope, counts) = match &b.target {
            ScopeTarget::Scope(captured) => {
                let scope = captured.reentered(reuse, &b);
                t.open_variable_scope(&scope);
                (scope, CountsOnExit::Restore(t.counts.clone()))
            }
            ScopeTarget::Name(name) => {
                let name = match name {
                    Some(name) => name.clone(),
                    None => t.unique_variable_scope(ns_name),
                };
                let original = match &name_scope {
                    Some((_, returned)) => returned.as_str(),
                    None => name.as_str(),
                };
                let scope = t.current.child(&name, original, reuse, &b);
                t.open_variable_scope(&scope);
                (scope, CountsOnExit::CloseSubscopes)
            }
        };
        let old_scope = std::mem::replace(&mut t.current, scope.clone());
        let name_stack = match name_scope {
            Some((stack, _)) => t.replace_name_stack(stack),
            None => StackOnExit::Keep,
        };
        let id = t.push(Frame {
            id: 0,
            name_stack,
            scope: Some(old_scope),
            counts,
        });
        Ok((scope, id))
    })
}

fn target_name(target: &ScopeTarget) -> Option<String> {
    match target {
        ScopeTarget::Name(name) => name.clone(),
        ScopeTarget::Scope(_) => None,
    }
}

#[cfg(test)]
mod tests;
