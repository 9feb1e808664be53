//! The registry: TF's graph-level variable store, name uniquifier and collections, shared by
//! every thread and every model built in it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::dtype::DType;
use crate::error::{Error, NameContext, Result};
use crate::init::{stream_seed, Initializer};
use crate::names::{context_of, validate_scope_name, Uniquifier};
use crate::scope::{
    CountsOnExit, Frame, NameScopeBuilder, Reuse, ScopeTarget, ThreadScopes, VariableScope,
    VariableScopeBuilder,
};
use crate::tensor::{checked_numel, Shape, Tensor};
use crate::variable::{Variable, VariableOptions};

/// Default cap on a variable's element count (see [`RegistryBuilder::max_elements`]).
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 30;
/// Default cap on a name's length in bytes (see [`RegistryBuilder::max_name_len`]).
pub const DEFAULT_MAX_NAME_LEN: usize = 1 << 16;
/// Default cap on scope nesting (see [`RegistryBuilder::max_scope_depth`]).
pub const DEFAULT_MAX_SCOPE_DEPTH: usize = 1 << 16;

static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD_SCOPES: RefCell<HashMap<u64, ThreadScopes>> = RefCell::new(HashMap::new());
}

/// What `get_variable` is asked for: TF's `shape=`, `dtype=`, `initializer=`, `trainable=`.
///
/// Every field left unset takes TF's default: the shape of the existing variable (on reuse),
/// the scope's dtype (`float32`), the scope's initializer or else glorot-uniform for floats
/// and zeros for integers, and `trainable = true`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VarSpec {
    /// The shape; required to create unless the initializer is a [`Initializer::Value`].
    pub shape: Option<Shape>,
    /// The dtype.
    pub dtype: Option<DType>,
    /// The initializer.
    pub initializer: Option<Initializer>,
    /// Whether a *new* variable joins the trainable collection (ignored on reuse, as in TF).
    pub trainable: Option<bool>,
}

impl VarSpec {
    /// An empty spec: everything defaulted.
    pub fn new() -> VarSpec {
        VarSpec::default()
    }

    /// Sets the shape (`[]` for a scalar).
    pub fn shape(mut self, shape: impl AsRef<[usize]>) -> VarSpec {
        self.shape = Some(shape.as_ref().to_vec());
        self
    }

    /// Sets the dtype.
    pub fn dtype(mut self, dtype: DType) -> VarSpec {
        self.dtype = Some(dtype);
        self
    }

    /// Sets the initializer.
    pub fn initializer(mut self, initializer: Initializer) -> VarSpec {
        self.initializer = Some(initializer);
        self
    }

    /// Sets the trainable flag.
    pub fn trainable(mut self, trainable: bool) -> VarSpec {
        self.trainable = Some(trainable);
        self
    }
}

/// Which TF collection to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    /// `tf.GraphKeys.GLOBAL_VARIABLES`: every variable, in creation order.
    Global,
    /// `tf.GraphKeys.TRAINABLE_VARIABLES`: those created trainable, in creation order.
    Trainable,
}

/// The registry of named variables: TensorFlow 1's graph, variable store and variable-scope
/// store in one value.
///
/// Cheap to clone (clones share everything) and `Send + Sync`. Scope stacks are per thread
/// (see [`crate::scope`]); variables, names in use and collections are shared.
///
/// ```
/// use scope::{Registry, VarSpec, Initializer};
/// let reg = Registry::with_seed(1);
/// let w = reg.variable_scope("rnn").with(|_| {
///     reg.variable_scope("input_layer").with(|_| {
///         reg.get_variable("weights", VarSpec::new().shape([10, 11])
///             .initializer(Initializer::random_normal(0.0, 0.5)))
///     })
/// })?;
/// assert_eq!(w.name(), "rnn/input_layer/weights");
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    seed: u64,
    limits: Limits,
    shared: RwLock<Shared>,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    max_elements: usize,
    max_name_len: usize,
    max_scope_depth: usize,
}

#[derive(Default)]
struct Shared {
    names: Uniquifier,
    /// `get_variable`'s store, by full name (the key, which can differ from the op name).
    store: HashMap<Arc<str>, Variable>,
    /// Every variable by op name.
    by_name: HashMap<Arc<str>, Variable>,
    /// Op names of non-variable ops.
    other_ops: HashSet<Box<str>>,
    /// Set once an op was named absolutely (`x/`), the only way an op name can collide.
    absolute_ops: bool,
    global: Vec<Variable>,
    next_id: u64,
}

impl Shared {
    fn op_exists(&self, name: &str) -> bool {
        self.by_name.contains_key(name) || self.other_ops.contains(name)
    }

    /// Names a new op `name` under `stack` (TF's `_create_op_internal`): validated, then
    /// absolute if it ends in `/`, else uniquified. Marks nothing if it fails.
    fn claim_op_name(&mut self, stack: &str, name: &str) -> Result<String> {
        validate_scope_name(name, context_of(stack))?;
        if let Some(abs) = name.strip_suffix('/') {
            if self.op_exists(abs) {
                return Err(Error::DuplicateName { name: abs.into() });
            }
            self.absolute_ops = true;
            return Ok(abs.to_owned());
        }
        if self.absolute_ops {
            // Only an absolutely named op can sit on a name the uniquifier hands out.
            let candidate = self.peek_unique(stack, name);
            if self.op_exists(&candidate) {
                return Err(Error::DuplicateName { name: candidate });
            }
        }
        Ok(self.names.unique(stack, name))
    }

    fn peek_unique(&self, stack: &str, name: &str) -> String {
        let full = if stack.is_empty() {
            name.to_owned()
        } else {
            format!("{stack}/{name}")
        };
        if !self.names.is_used(&full) {
            return full;
        }
        let mut i = 1;
        while self.names.is_used(&format!("{full}_{i}")) {
            i += 1;
        }
        format!("{full}_{i}")
    }

    fn register(&mut self, var: &Variable, store_key: Option<&str>) {
        let name: Arc<str> = Arc::from(var.name());
        if let Some(key) = store_key {
            let key = if *key == *name {
                name.clone()
            } else {
                Arc::from(key)
            };
            self.store.insert(key, var.clone());
        }
        self.by_name.insert(name, var.clone());
        self.global.push(var.clone());
    }
}

/// Builds a [`Registry`] with a seed and limits.
#[derive(Clone, Debug)]
pub struct RegistryBuilder {
    seed: Option<u64>,
    limits: Limits,
}

impl RegistryBuilder {
    /// Seeds the random initializers (otherwise a random seed is drawn).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Largest element count a variable may have; larger ones are refused with
    /// [`Error::TooLarge`] before anything is allocated.
    pub fn max_elements(mut self, n: usize) -> Self {
        self.limits.max_elements = n;
        self
    }

    /// Longest name, in bytes, accepted anywhere; longer ones get [`Error::NameTooLong`].
    pub fn max_name_len(mut self, n: usize) -> Self {
        self.limits.max_name_len = n;
        self
    }

    /// Deepest scope nesting accepted per thread; deeper ones get [`Error::ScopeTooDeep`].
    pub fn max_scope_depth(mut self, n: usize) -> Self {
        self.limits.max_scope_depth = n;
        self
    }

    /// Builds the registry.
    pub fn build(self) -> Registry {
        let seed = self.seed.unwrap_or_else(rand::random);
        Registry {
            inner: Arc::new(Inner {
                id: NEXT_REGISTRY.fetch_add(1, Ordering::Relaxed),
                seed,
                limits: self.limits,
                shared: RwLock::new(Shared::default()),
            }),
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry with a random seed.
    pub fn new() -> Registry {
        Registry::builder().build()
    }

    /// An empty registry whose random initializers are reproducible from `seed`.
    pub fn with_seed(seed: u64) -> Registry {
        Registry::builder().seed(seed).build()
    }

    /// A builder for a seed and limits.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder {
            seed: None,
            limits: Limits {
                max_elements: DEFAULT_MAX_ELEMENTS,
                max_name_len: DEFAULT_MAX_NAME_LEN,
                max_scope_depth: DEFAULT_MAX_SCOPE_DEPTH,
            },
        }
    }

    /// The seed of the random initializers.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// Whether two handles are the same registry.
    pub fn ptr_eq(&self, other: &Registry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, Shared> {
        self.inner
            .shared
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Shared> {
        self.inner
            .shared
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn with_thread<R>(&self, f: impl FnOnce(&mut ThreadScopes) -> R) -> R {
        THREAD_SCOPES.with(|map| {
            let mut map = map.borrow_mut();
            let scopes = map.entry(self.inner.id).or_insert_with(ThreadScopes::new);
            f(scopes)
        })
    }

    fn check_name_len(&self, name: &str) -> Result<()> {
        let limit = self.inner.limits.max_name_len;
        if name.len() > limit {
            let prefix: String = name.chars().take(32).collect();
            return Err(Error::NameTooLong {
                prefix,
                len: name.len(),
                limit,
            });
        }
        Ok(())
    }

    // ----- scopes ---------------------------------------------------------------------------

    /// `tf.variable_scope(target)`: a builder to set `reuse`, `initializer`, `dtype`,
    /// `default_name` and `auxiliary_name_scope`, then `.enter()` or `.with(..)`.
    ///
    /// `target` is a name (`"rnn"`), `None` (with a default name), or a captured
    /// [`VariableScope`] to jump back into.
    pub fn variable_scope(&self, target: impl Into<ScopeTarget>) -> VariableScopeBuilder<'_> {
        VariableScopeBuilder {
            registry: self,
            target: target.into(),
            default_name: None,
            reuse: None,
            initializer: None,
            dtype: None,
            auxiliary_name_scope: true,
        }
    }

    /// `tf.name_scope(name)`: a builder, then `.enter()` or `.with(..)`. `None` and `""`
    /// reset to the root; a name ending in `/` re-enters that scope as is; any other name is
    /// uniquified (`a/`, `a_1/`).
    pub fn name_scope<'a>(&self, name: impl Into<Option<&'a str>>) -> NameScopeBuilder<'_> {
        NameScopeBuilder {
            registry: self,
            name: name.into().map(str::to_owned),
            default_name: None,
        }
    }

    /// `tf.get_variable_scope()`: this thread's current variable scope object.
    pub fn current_variable_scope(&self) -> VariableScope {
        self.with_thread(|t| t.current.clone())
    }

    /// `graph.get_name_scope()`: this thread's current name scope, without trailing `/`.
    pub fn current_name_scope(&self) -> String {
        self.with_thread(|t| t.name_stack.clone())
    }

    /// `tf.get_variable_scope().reuse_variables()`.
    pub fn reuse_variables(&self) {
        self.current_variable_scope().reuse_variables();
    }

    pub(crate) fn enter_name_scope(&self, name: Option<&str>) -> Result<(String, u64)> {
        if let Some(name) = name {
            self.check_name_len(name)?;
        }
        let depth_limit = self.inner.limits.max_scope_depth;
        self.with_thread(|t| {
            if t.frames.len() >= depth_limit {
                return Err(Error::ScopeTooDeep {
                    depth: t.frames.len() + 1,
                    limit: depth_limit,
                });
            }
            let (stack, returned) =
                self.name_scope_transition(&t.name_stack, name.unwrap_or(""))?;
            let old = std::mem::replace(&mut t.name_stack, stack);
            let id = t.push(Frame {
                id: 0,
                name_stack: Some(old),
                scope: None,
                counts: CountsOnExit::Keep,
            });
            Ok((returned, id))
        })
    }

    /// TF's `Graph.name_scope(name)`: the new name stack and the returned scope string.
    fn name_scope_transition(&self, stack: &str, name: &str) -> Result<(String, String)> {
        if name.is_empty() {
            return Ok((String::new(), String::new()));
        }
        validate_scope_name(name, context_of(stack))?;
        if let Some(abs) = name.strip_suffix('/') {
            return Ok((abs.to_owned(), name.to_owned()));
        }
        let unique = self.write().names.unique(stack, name);
        let returned = format!("{unique}/");
        Ok((unique, returned))
    }

    pub(crate) fn enter_variable_scope(
        &self,
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
            self.check_name_len(name)?;
        }
        // TF: reuse=False means "inherit", the same as None.
        let reuse = b.reuse.filter(|r| r.is_set());
        let depth_limit = self.inner.limits.max_scope_depth;
        self.with_thread(|t| {
            if t.frames.len() >= depth_limit {
                return Err(Error::ScopeTooDeep {
                    depth: t.frames.len() + 1,
                    limit: depth_limit,
                });
            }
            if matches!(b.target, ScopeTarget::Name(None)) && reuse.is_some() {
                return Err(Error::ReuseWithoutName);
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
            let name_scope = if !b.auxiliary_name_scope {
                Some(reenter_current())
            } else if ns_name.is_empty() {
                None
            } else {
                Some(self.name_scope_transition(&t.name_stack, ns_name)?)
            };

            let (scope, counts) = match &b.target {
                ScopeTarget::Scope(captured) => {
                    let scope = captured.reentered(reuse, b.initializer.clone(), b.dtype);
                    t.open_variable_scope(scope.name());
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
                    let scope =
                        t.current
                            .child(&name, original, reuse, b.initializer.clone(), b.dtype);
                    t.open_variable_scope(scope.name());
                    let close = CountsOnExit::CloseSubscopes(scope.name().to_owned());
                    (scope, close)
                }
            };
            let old_scope = std::mem::replace(&mut t.current, scope.clone());
            let old_stack =
                name_scope.map(|(stack, _)| std::mem::replace(&mut t.name_stack, stack));
            let id = t.push(Frame {
                id: 0,
                name_stack: old_stack,
                scope: Some(old_scope),
                counts,
            });
            Ok((scope, id))
        })
    }

    pub(crate) fn exit_frame(&self, frame: u64) {
        // `try_with`: a guard dropped while the thread is exiting has nothing left to restore.
        let _ = THREAD_SCOPES.try_with(|map| {
            if let Ok(mut map) = map.try_borrow_mut() {
                if let Some(t) = map.get_mut(&self.inner.id) {
                    t.exit(frame);
                }
            }
        });
    }

    // ----- variables ------------------------------------------------------------------------

    /// `tf.get_variable(name, ...)`: the variable `<current variable scope>/<name>`, created
    /// or reused according to the scope's reuse mode.
    ///
    /// * reuse off: creates it; [`Error::AlreadyExists`] if it exists.
    /// * reuse on: returns the existing one, checking shape (if given) and dtype;
    ///   [`Error::NotFound`] if it does not exist.
    /// * `Reuse::Auto`: returns it if it exists, creates it otherwise.
    ///
    /// Name scopes do not prefix it; only variable scopes do. A failed call changes nothing.
    pub fn get_variable(&self, name: &str, spec: VarSpec) -> Result<Variable> {
        self.check_name_len(name)?;
        let scope = self.current_variable_scope();
        let full_name = if scope.name().is_empty() {
            name.to_owned()
        } else {
            format!("{}/{}", scope.name(), name)
        };
        self.check_name_len(&full_name)?;
        let VarSpec {
            shape,
            dtype,
            initializer,
            trainable,
        } = spec;
        if let (Some(explicit), Some(Initializer::Value(value))) = (dtype, &initializer) {
            if value.dtype() != explicit {
                return Err(Error::InitializerDtypeMismatch {
                    name: full_name,
                    init: value.dtype(),
                    explicit,
                });
            }
        }
        let initializer = initializer.or_else(|| scope.initializer().cloned());
        let dtype = dtype.unwrap_or(scope.dtype());
        let is_value = initializer.as_ref().is_some_and(Initializer::is_value);
        if is_value && shape.is_some() {
            return Err(Error::ConstantInitializerWithShape { name: full_name });
        }
        let reuse = scope.reuse();

        // Fast path: the variable exists.
        if let Some(found) = self.read().store.get(full_name.as_str()) {
            return share(found, reuse, shape.as_deref(), dtype, &full_name, &scope);
        }
        if reuse == Reuse::Yes {
            return Err(Error::NotFound {
                name: full_name,
                scope: scope.name().to_owned(),
            });
        }
        let initializer = match (initializer, &shape) {
            (Some(init), _) => init,
            (None, None) => return Err(Error::MissingShape { name: full_name }),
            (None, Some(_)) => Initializer::default_for(dtype),
        };
        let shape = match (&initializer, shape) {
            (Initializer::Value(v), _) => v.shape().to_vec(),
            (_, Some(shape)) => shape,
            (_, None) => {
                return Err(Error::InvalidInitializer {
                    reason: format!(
                        "variable {full_name}: a callable initializer ({}) needs a fully \
                         defined `shape`",
                        initializer.describe()
                    ),
                })
            }
        };
        validate_scope_name(&full_name, NameContext::Root)?;
        self.check_size(&full_name, &shape)?;
        let value =
            initializer.initialize(&shape, dtype, stream_seed(self.inner.seed, &full_name))?;

        let mut shared = self.write();
        if let Some(found) = shared.store.get(full_name.as_str()) {
            // Another thread created it since the fast path looked.
            return share(found, reuse, Some(&shape), dtype, &full_name, &scope);
        }
        let op_name = shared.claim_op_name("", &full_name)?;
        shared.next_id += 1;
        let var = Variable::from_parts(shared.next_id, &op_name, trainable.unwrap_or(true), value);
        shared.register(&var, Some(&full_name));
        Ok(var)
    }

    fn check_size(&self, name: &str, shape: &[usize]) -> Result<()> {
        let numel = checked_numel(shape).ok_or_else(|| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        let limit = self.inner.limits.max_elements;
        if numel > limit {
            return Err(Error::TooLarge {
                name: name.to_owned(),
                shape: shape.to_vec(),
                numel,
                limit,
            });
        }
        Ok(())
    }

    pub(crate) fn create_variable(
        &self,
        value: Tensor,
        options: VariableOptions,
    ) -> Result<Variable> {
        let name = options.name.as_deref().unwrap_or("Variable");
        self.check_name_len(name)?;
        if name.is_empty() {
            return Err(Error::InvalidName {
                name: String::new(),
                context: NameContext::Root,
            });
        }
        self.check_size(name, value.shape())?;
        let value = match options.dtype {
            Some(dtype) => value.cast(dtype),
            None => value,
        };
        let stack = self.current_name_scope();
        let mut shared = self.write();
        let op_name = shared.claim_op_name(&stack, name)?;
        shared.next_id += 1;
        let var = Variable::from_parts(
            shared.next_id,
            &op_name,
            options.trainable.unwrap_or(true),
            value,
        );
        shared.register(&var, None);
        Ok(var)
    }

    /// Names a non-variable op (TF's `tf.constant(.., name=name)`): `name` in the current
    /// name scope, uniquified, or used as is if it ends in `/`. Returns the op name.
    pub fn new_op_name(&self, name: &str) -> Result<String> {
        self.check_name_len(name)?;
        let name = if name.is_empty() { "Const" } else { name };
        let stack = self.current_name_scope();
        let mut shared = self.write();
        let op = shared.claim_op_name(&stack, name)?;
        shared.other_ops.insert(op.as_str().into());
        Ok(op)
    }

    /// TF's `Graph.unique_name(name)`: `name` in the current name scope, uniquified
    /// case-insensitively, and marked as used. No op is created and nothing is validated.
    pub fn unique_name(&self, name: &str) -> String {
        let stack = self.current_name_scope();
        self.write().names.unique(&stack, name)
    }

    // ----- listing --------------------------------------------------------------------------

    /// `tf.get_collection(collection, scope)`: variables in creation order whose op name
    /// starts with `prefix` (TF applies `re.match`; a plain prefix is what it matches for
    /// names without regex metacharacters).
    pub fn collection(&self, collection: Collection, prefix: Option<&str>) -> Vec<Variable> {
        let shared = self.read();
        shared
            .global
            .iter()
            .filter(|v| collection == Collection::Global || v.trainable())
            .filter(|v| prefix.is_none_or(|p| v.name().starts_with(p)))
            .cloned()
            .collect()
    }

    /// `tf.global_variables()`: every variable, in creation order.
    pub fn global_variables(&self) -> Vec<Variable> {
        self.collection(Collection::Global, None)
    }

    /// `tf.trainable_variables()`: the trainable variables, in creation order.
    pub fn trainable_variables(&self) -> Vec<Variable> {
        self.collection(Collection::Trainable, None)
    }

    /// The variable whose op name is `name` (what checkpoints key by), if any.
    pub fn variable(&self, name: &str) -> Option<Variable> {
        self.read().by_name.get(name).cloned()
    }

    /// The variable `get_variable` stored under full name `key` (usually its op name).
    pub fn stored_variable(&self, key: &str) -> Option<Variable> {
        self.read().store.get(key).cloned()
    }

    /// How many variables exist.
    pub fn len(&self) -> usize {
        self.read().global.len()
    }

    /// Whether no variable exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many names the uniquifier has handed out or marked.
    pub fn names_in_use(&self) -> usize {
        self.read().names.len()
    }
}

fn target_name(target: &ScopeTarget) -> Option<String> {
    match target {
        ScopeTarget::Name(name) => name.clone(),
        ScopeTarget::Scope(_) => None,
    }
}

/// The reuse branch of TF's `_get_single_variable`.
fn share(
    found: &Variable,
    reuse: Reuse,
    shape: Option<&[usize]>,
    dtype: DType,
    full_name: &str,
    scope: &VariableScope,
) -> Result<Variable> {
    if reuse == Reuse::No {
        return Err(Error::AlreadyExists {
            name: full_name.to_owned(),
            scope: scope.name().to_owned(),
        });
    }
    if let Some(shape) = shape {
        if shape != found.shape() {
            return Err(Error::ShapeMismatch {
                name: full_name.to_owned(),
                specified: shape.to_vec(),
                found: found.shape().to_vec(),
            });
        }
    }
    if dtype != found.dtype() {
        return Err(Error::DtypeMismatch {
            name: full_name.to_owned(),
            specified: dtype,
            found: found.dtype(),
        });
    }
    Ok(found.clone())
}

impl Drop for Inner {
    fn drop(&mut self) {
        let id = self.id;
        let _ = THREAD_SCOPES.try_with(|map| {
            if let Ok(mut map) = map.try_borrow_mut() {
                map.remove(&id);
            }
        });
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("seed", &self.inner.seed)
            .field("variables", &self.len())
            .finish()
    }
}
