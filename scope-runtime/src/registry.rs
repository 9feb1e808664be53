//! The registry: TF's graph-level variable store, name uniquifier and collections, shared by
//! every thread and every model built in it.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::dtype::DType;
use crate::error::{Error, NameContext, Result};
use crate::index::NameIndex;
use crate::init::{stream_seed, Initializer};
use crate::names::{context_of, node_name_ok, validate_scope_name};
use crate::partition::{PartitionedVariable, Partitioner};
use crate::scope::{
    NameScopeBuilder, Reuse, ScopeTarget, ThreadScopes, VariableScope, VariableScopeBuilder,
};
use crate::tensor::{checked_numel, Shape, Tensor};
use crate::uniquifier::{FastMap, Helpers, Mark, Uniquifier, VarNameInfo};
use crate::variable::{Registration, Variable, VariableOptions};

mod collections;
mod convert;
mod snapshot;

pub(crate) use snapshot::SharedSnapshot;
use snapshot::WriterMark;

mod partitioned;

use convert::convert_value;

/// Default cap on a variable's element count (see [`RegistryBuilder::max_elements`]).
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 30;
/// Default cap, in bytes, on a name and on the full names built from it: variable and op
/// names, the name stack and variable-scope names (see [`RegistryBuilder::max_name_len`]).
/// TF's names are far shorter; the cap keeps deep nesting from growing without bound.
pub const DEFAULT_MAX_NAME_LEN: usize = 4096;
/// Default cap on scope nesting per thread (see [`RegistryBuilder::max_scope_depth`]).
/// With [`DEFAULT_MAX_NAME_LEN`], a thread's open scopes hold at most a few times
/// 4096 x 4096 bytes (16 MiB) of names in the worst case.
pub const DEFAULT_MAX_SCOPE_DEPTH: usize = 4096;

static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

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
    /// How [`Registry::get_partitioned_variable`] splits a new variable (else the scope's).
    pub partitioner: Option<Partitioner>,
    /// The new variable's regularizer (else the scope's), see [`Regularizer`](crate::Regularizer).
    pub regularizer: Option<crate::Regularizer>,
    /// The new variable's constraint (else the scope's).
    pub constraint: Option<crate::Constraint>,
    /// The collections a new variable joins instead of `GLOBAL_VARIABLES` (TF's `collections=`).
    pub collections: Option<Vec<String>>,
    /// This call's custom getter, used instead of the scope's.
    pub custom_getter: Option<crate::CustomGetter>,
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

    /// Sets the partitioner (TF's `partitioner=`), for [`Registry::get_partitioned_variable`].
    pub fn partitioner(mut self, partitioner: Partitioner) -> VarSpec {
        self.partitioner = Some(partitioner);
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
/// Cheap to clone (clones share everything) and `Send + Sync`. Scope stacks are per thread, as
/// TF's are (a scope opened on one thread is not seen by another; re-enter a captured
/// [`VariableScope`](crate::VariableScope) there); variables, names in use and collections are
/// shared.
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

pub(crate) struct Inner {
    id: u64,
    seed: u64,
    limits: Limits,
    shared: RwLock<Shared>,
    /// Set once a variable scope with a custom getter was opened (see `collections.rs`).
    getters: std::sync::atomic::AtomicBool,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    max_elements: usize,
    max_name_len: usize,
    max_scope_depth: usize,
}

/// How many leading bytes of a name [`Listed`] keeps beside the variable.
const HEAD: usize = 8;

/// A variable in the global collection with the first bytes of its name beside it, so that a
/// prefix filter over a million variables rejects most of them without reading them.
#[derive(Clone)]
struct Listed {
    /// The name's first `HEAD` bytes, zero-padded.
    head: [u8; HEAD],
    var: Variable,
}

impl Listed {
    fn new(var: Variable) -> Listed {
        let mut head = [0; HEAD];
        let name = var.name().as_bytes();
        let n = name.len().min(HEAD);
        head[..n].copy_from_slice(&name[..n]);
        Listed { head, var }
    }

    /// False only if the name cannot start with `prefix`; true still needs checking.
    fn may_start_with(&self, prefix: &[u8]) -> bool {
        let n = prefix.len().min(HEAD);
        self.head[..n] == prefix[..n]
    }
}

#[derive(Clone, Default)]
struct Shared {
    names: Uniquifier,
    /// Every variable by op name.
    by_name: NameIndex,
    /// `get_variable`'s store is keyed by full name. The key is almost always the variable's
    /// op name: those variables are marked `stored_under_name` and found through `by_name`.
    /// The rest (the op name was uniquified past a name in use) are kept here by key.
    store_renamed: FastMap<Box<str>, Variable>,
    /// Op names of non-variable ops.
    other_ops: HashSet<Box<str>>,
    /// Set once an op was named absolutely (`x/`), the only way an op name can collide.
    absolute_ops: bool,
    /// The global collection, in creation order.
    global: Vec<Listed>,
    /// `get_partitioned_variable`'s store, by full name.
    partitioned: FastMap<Box<str>, PartitionedVariable>,
    /// Whether any variable is named like a part (`.../part_<k>`): until one is, a lookup
    /// never needs [`Shared::shadows_partitioned`]'s second probe.
    part_names: bool,
    /// Named collections and regularization losses.
    collections: collections::Collections,
    /// Which thread took the write lock last, so that a snapshot knows whether another
    /// thread wrote since it was taken.
    writer: WriterMark,
}

/// What the uniquifier needs to know of the variable named exactly `name`, if any.
fn var_name_info(by_name: &NameIndex, name: &str) -> Option<VarNameInfo> {
    by_name.get(name).map(|v| {
        let r = v.registration();
        VarNameInfo {
            implicit: r.implicit_name,
            helpers: r.helpers,
        }
    })
}

impl Shared {
    fn op_exists(&self, name: &str) -> bool {
        self.by_name.contains(name) || self.other_ops.contains(name)
    }

    /// The variable `get_variable` stored under full name `key`.
    fn stored(&self, key: &str) -> Option<&Variable> {
        if !self.store_renamed.is_empty() {
            if let Some(v) = self.store_renamed.get(key) {
                return Some(v);
            }
        }
        self.by_name
            .get(key)
            .filter(|v| v.registration().stored_under_name)
    }

    /// The uniquifier's `unique_name`, with what the by-name index knows of variables.
    fn unique(&mut self, stack: &str, name: &str, mark: Mark) -> (String, bool) {
        let Shared { names, by_name, .. } = self;
        names.unique(stack, name, &|k| var_name_info(by_name, k), mark)
    }

    /// Names a new op `name` under `stack` (TF's `_create_op_internal`), after
    /// [`check_op_name`] passed: absolute if it ends in `/`, else uniquified; a variable's
    /// helper op names are marked too. Marks nothing if it fails, but for a duplicate of an
    /// absolutely named op, where TF too has consumed the uniquified name. Returns the op
    /// name and whether it is in use implicitly, through the variable (see [`Mark`]): the
    /// caller must then register a variable under exactly that name.
    fn claim_op_name(
        &mut self,
        stack: &str,
        name: &str,
        helpers: Option<Helpers>,
    ) -> Result<(String, bool)> {
        let (stack, name) = op_base(stack, name, helpers);
        let (op, implicit) = if let Some(abs) = name.strip_suffix('/') {
            if self.op_exists(abs) {
                return Err(Error::DuplicateName { name: abs.into() });
            }
            self.absolute_ops = true;
            (abs.to_owned(), false)
        } else {
            let mark = if helpers.is_some() {
                Mark::ImplicitIfLower
            } else {
                Mark::Stored
            };
            let (op, implicit) = self.unique(stack, name, mark);
            // Only an absolutely named op can sit on a name the uniquifier hands out. As in
            // TF, the name stays consumed, so a retry gets the next one (`x_1`).
            if self.absolute_ops && self.op_exists(&op) {
                if implicit {
                    self.names.keep_without_variable(&op);
                }
                return Err(Error::DuplicateName { name: op });
            }
            (op, implicit)
        };
        if let Some(helpers) = helpers {
            self.names.mark_helpers(&op, helpers);
        }
        Ok((op, implicit))
    }

    /// Indexes a new variable; `renamed_key` is its store key when that differs from its
    /// op name.
    fn register(&mut self, var: &Variable, renamed_key: Option<String>) {
        if let Some(key) = renamed_key {
            self.store_renamed.insert(key.into_boxed_str(), var.clone());
        }
        self.part_names |= partitioned::is_part_name(var.name());
        self.by_name.insert(var.clone());
        self.global.push(Listed::new(var.clone()));
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

    /// Longest name, in bytes, accepted anywhere (default [`DEFAULT_MAX_NAME_LEN`]): each
    /// name given, and each full name built from it, as asked for (before a `_1` suffix): a
    /// variable's `scope/name`, a new name stack `outer/inner`, a new variable scope's name.
    /// Longer ones get [`Error::NameTooLong`] and change nothing.
    pub fn max_name_len(mut self, n: usize) -> Self {
        self.limits.max_name_len = n;
        self
    }

    /// Deepest scope nesting accepted per thread (default [`DEFAULT_MAX_SCOPE_DEPTH`]);
    /// deeper ones get [`Error::ScopeTooDeep`].
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
                getters: Default::default(),
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
        let mut shared = self
            .inner
            .shared
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        shared.writer.note(std::thread::current().id());
        shared
    }

    /// Runs `f` on this thread's scope state for this registry (see [`crate::scope`]).
    pub(crate) fn with_thread<R>(&self, f: impl FnOnce(&mut ThreadScopes) -> R) -> R {
        crate::scope::with_thread(&self.inner, self.inner.id, f)
    }

    /// A number no other registry of this process has.
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// The limit on scope nesting per thread.
    pub(crate) fn max_scope_depth(&self) -> usize {
        self.inner.limits.max_scope_depth
    }

    /// `name` under the name stack `stack`, uniquified in the store and marked as used.
    pub(crate) fn claim_unique_name(&self, stack: &str, name: &str) -> String {
        self.write().unique(stack, name, Mark::Stored).0
    }

    pub(crate) fn check_name_len(&self, name: &str) -> Result<()> {
        self.check_joined_len("", name)
    }

    /// Refuses the name `head/tail` (`tail` if `head` is empty) if it is over the length
    /// limit, without building it.
    pub(crate) fn check_joined_len(&self, head: &str, tail: &str) -> Result<()> {
        let limit = self.inner.limits.max_name_len;
        let sep = (!head.is_empty()).then_some('/');
        let len = head.len() + sep.map_or(0, char::len_utf8) + tail.len();
        if len > limit {
            let prefix = head
                .chars()
                .chain(sep)
                .chain(tail.chars())
                .take(32)
                .collect();
            return Err(Error::NameTooLong { prefix, len, limit });
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
        VariableScopeBuilder::new(self, target.into())
    }

    /// `tf.name_scope(name)`: a builder, then `.enter()` or `.with(..)`. `None` and `""`
    /// reset to the root; a name ending in `/` re-enters that scope as is; any other name is
    /// uniquified (`a/`, `a_1/`).
    pub fn name_scope<'a>(&self, name: impl Into<Option<&'a str>>) -> NameScopeBuilder<'_> {
        NameScopeBuilder::new(self, name.into().map(str::to_owned))
    }

    /// `tf.get_variable_scope()`: this thread's current variable scope object.
    pub fn current_variable_scope(&self) -> VariableScope {
        self.with_thread(|t| t.current().clone())
    }

    /// `graph.get_name_scope()`: this thread's current name scope, without trailing `/`.
    pub fn current_name_scope(&self) -> String {
        self.with_thread(|t| t.name_stack().to_owned())
    }

    /// `tf.get_variable_scope().reuse_variables()`.
    pub fn reuse_variables(&self) {
        self.current_variable_scope().reuse_variables();
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
        match crate::scoping::getter_for(self, name, &spec) {
            Some((getter, full)) => crate::scoping::get_through(self, full, spec, &getter),
            None => self.get_variable_in(name, false, spec),
        }
    }

    /// The registry's own getter (TF's `_true_getter`): `name` is the full name if `full`.
    pub(crate) fn get_variable_full(&self, name: &str, spec: VarSpec) -> Result<Variable> {
        self.get_variable_in(name, true, spec)
    }

    fn get_variable_in(&self, name: &str, is_full: bool, spec: VarSpec) -> Result<Variable> {
        // Everything up to the store lookup runs on this thread's scope, borrowed, with the
        // full name built in a reused buffer: a reuse allocates nothing.
        let looked = self.with_thread(|t| {
            let (scope, full) = t.current_and_scratch();
            full.clear();
            if !is_full && !scope.name().is_empty() {
                full.push_str(scope.name());
                full.push('/');
            }
            full.push_str(name);
            self.check_name_len(full)?;
            if let (Some(explicit), Some(Initializer::Value(value))) =
                (spec.dtype, &spec.initializer)
            {
                if value.dtype() != explicit {
                    return Err(Error::InitializerDtypeMismatch {
                        name: full.clone(),
                        init: value.dtype(),
                        explicit,
                    });
                }
            }
            let initializer = spec.initializer.as_ref().or(scope.initializer());
            let dtype = spec.dtype.unwrap_or(scope.dtype());
            if initializer.is_some_and(Initializer::is_value) && spec.shape.is_some() {
                return Err(Error::ConstantInitializerWithShape { name: full.clone() });
            }
            let reuse = scope.reuse();
            let partitioner = spec.partitioner.as_ref().or(scope.partitioner());
            if let Some(p) = partitioner.filter(|_| spec.shape.as_deref() != Some(&[])) {
                return Err(Error::PartitionerNeedsPartitionedGetter {
                    name: full.clone(),
                    partitioner: p.to_string(),
                });
            }
            let shared = self.read();
            if shared.shadows_partitioned(full) {
                return Err(Error::PartitionedFound { name: full.clone() });
            }
            if let Some(found) = shared.stored(full) {
                return share(found, reuse, spec.shape.as_deref(), dtype, full, scope).map(Ok);
            }
            if reuse == Reuse::Yes {
                return Err(Error::NotFound {
                    name: full.clone(),
                    scope: scope.name().to_owned(),
                });
            }
            Ok(Err((scope.clone(), full.clone(), reuse)))
        })?;
        match looked {
            Ok(found) => Ok(found),
            Err((scope, full_name, reuse)) => self.create_stored(&scope, full_name, reuse, spec),
        }
    }

    /// The creating half of `get_variable`: `full_name` is not in the store (yet).
    fn create_stored(
        &self,
        scope: &VariableScope,
        full_name: String,
        reuse: Reuse,
        spec: VarSpec,
    ) -> Result<Variable> {
        let attach = collections::Attach::new(&spec, scope);
        let VarSpec {
            shape: requested,
            dtype,
            initializer,
            trainable,
            ..
        } = spec;
        let initializer = initializer.or_else(|| scope.initializer().cloned());
        let dtype = dtype.unwrap_or(scope.dtype());
        let initializer = match (initializer, &requested) {
            (Some(init), _) => init,
            (None, None) => return Err(Error::MissingShape { name: full_name }),
            (None, Some(_)) => Initializer::default_for(dtype),
        };
        let shape: &[usize] = match (&initializer, &requested) {
            (Initializer::Value(v), _) => v.shape(),
            (_, Some(shape)) => shape,
            (_, None) => {
                return Err(Error::InitializerNeedsShape {
                    name: full_name,
                    initializer: initializer.describe(),
                })
            }
        };
        let helpers = if initializer.is_value() {
            Helpers::FromValue
        } else {
            Helpers::FromInitializer
        };
        check_op_name("", &full_name, Some(helpers))?;
        self.check_size(&full_name, shape)?;
        initializer.check_dtype(&full_name, dtype)?;
        attach.check(&full_name, dtype)?;
        let value = initializer
            .initialize(shape, dtype, stream_seed(self.inner.seed, &full_name))
            .map_err(|e| name_variable(e, &full_name))?;

        let mut shared = self.write();
        if let Some(found) = shared.stored(&full_name) {
            // Another thread created it since the fast path looked: the same checks as the
            // fast path, with the caller's shape (not the one derived from a value).
            return share(found, reuse, requested.as_deref(), dtype, &full_name, scope);
        }
        let (op_name, implicit_name) = shared.claim_op_name("", &full_name, Some(helpers))?;
        let stored_under_name = op_name == full_name;
        let var = Variable::registered(
            // Taken under the write lock: ids increase in this registry's creation order.
            crate::variable::next_id(),
            op_name.into_boxed_str(),
            trainable.unwrap_or(true),
            value,
            Registration {
                stored_under_name,
                implicit_name,
                helpers: helpers.flag(),
            },
        );
        shared.attach(&var, &full_name, &attach);
        shared.register(&var, (!stored_under_name).then_some(full_name));
        Ok(var)
    }

    fn check_size(&self, name: &str, shape: &[usize]) -> Result<()> {
        let numel = checked_numel(shape).ok_or_else(|| Error::VariableShapeOverflow {
            name: name.to_owned(),
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
        self.check_size(name, value.shape())?;
        // TF builds the variable inside `init_scope`, which re-enters the current name scope
        // as an absolute scope and so drops one trailing `/` (`a//` -> `a/`).
        let stack = self.current_name_scope();
        let stack = stack.strip_suffix('/').unwrap_or(&stack);
        if !name.is_empty() && !name.ends_with('/') {
            self.check_joined_len(stack, name)?;
        }
        // TF's order: it opens the name as a name scope (the scope regex) before it converts
        // the initial value, and checks the op names it creates after that.
        let (scope_stack, scope_name) = op_base(stack, name, Some(Helpers::FromValue));
        validate_scope_name(scope_name, context_of(scope_stack))?;
        let value = match options.dtype {
            Some(dtype) => convert_value(value, dtype, name)?,
            None => value,
        };
        check_op_name(stack, name, Some(Helpers::FromValue))?;
        let mut shared = self.write();
        let (op_name, implicit_name) =
            shared.claim_op_name(stack, name, Some(Helpers::FromValue))?;
        let var = Variable::registered(
            // Taken under the write lock: ids increase in this registry's creation order.
            crate::variable::next_id(),
            op_name.into_boxed_str(),
            options.trainable.unwrap_or(true),
            value,
            Registration {
                stored_under_name: false,
                implicit_name,
                helpers: Helpers::FromValue.flag(),
            },
        );
        shared.register(&var, None);
        Ok(var)
    }

    /// Names a non-variable op (TF's `tf.constant(.., name=name)`): `name` in the current
    /// name scope, uniquified, or used as is if it ends in `/`; the whole op name must match
    /// TF's node-name regex. Returns the op name. (TF's default name for a constant is
    /// `Const`.)
    ///
    /// ```
    /// use scope::Registry;
    /// let reg = Registry::new();
    /// let _ns = reg.name_scope("outer").enter()?;
    /// assert_eq!(reg.new_op_name("c")?, "outer/c");
    /// assert_eq!(reg.new_op_name("c")?, "outer/c_1");
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn new_op_name(&self, name: &str) -> Result<String> {
        self.check_name_len(name)?;
        let stack = self.current_name_scope();
        if !name.ends_with('/') {
            self.check_joined_len(&stack, name)?;
        }
        check_op_name(&stack, name, None)?;
        let mut shared = self.write();
        let (op, _) = shared.claim_op_name(&stack, name, None)?;
        shared.other_ops.insert(op.as_str().into());
        Ok(op)
    }

    /// TF's `Graph.unique_name(name)`: `name` in the current name scope, uniquified
    /// case-insensitively, and marked as used. No op is created and nothing is validated.
    pub fn unique_name(&self, name: &str) -> String {
        self.with_thread(|t| self.claim_unique_name(t.name_stack(), name))
    }

    // ----- listing --------------------------------------------------------------------------

    /// `tf.get_collection(collection, scope)`: variables in creation order whose op name
    /// starts with `prefix` (TF applies `re.match`; a plain prefix is what it matches for
    /// names without regex metacharacters).
    pub fn collection(&self, collection: Collection, prefix: Option<&str>) -> Vec<Variable> {
        let prefix = prefix.unwrap_or("");
        let shared = self.read();
        shared
            .global
            .iter()
            .filter(|l| l.may_start_with(prefix.as_bytes()))
            .map(|l| &l.var)
            .filter(|v| collection == Collection::Global || shared.collections.in_trainable(v))
            .filter(|v| collection != Collection::Global || shared.collections.in_global(v))
            .filter(|v| v.name().starts_with(prefix))
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

    /// Whether `var` is one of this registry's variables (not merely one with the same name
    /// in another registry).
    pub fn owns(&self, var: &Variable) -> bool {
        self.variable(var.name()).is_some_and(|v| v.ptr_eq(var))
    }

    /// The variable `get_variable` stored under full name `key` (usually its op name).
    pub fn stored_variable(&self, key: &str) -> Option<Variable> {
        self.read().stored(key).cloned()
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

/// Makes an error raised while initializing the variable `name` say which variable it was.
fn name_variable(e: Error, name: &str) -> Error {
    match e {
        Error::InvalidInitializer { reason } => Error::InvalidInitializer {
            reason: format!("{reason} (variable {name})"),
        },
        Error::ShapeOverflow { shape } => Error::VariableShapeOverflow {
            name: name.to_owned(),
            shape,
        },
        e => e,
    }
}

/// TF names an op whose name is empty after its type, at the root: a variable named `""` is
/// `VariableV2`.
fn op_base<'a>(stack: &'a str, name: &'a str, helpers: Option<Helpers>) -> (&'a str, &'a str) {
    if name.is_empty() && helpers.is_some() {
        ("", "VariableV2")
    } else {
        (stack, name)
    }
}

/// The checks TF makes before an op named `name` under `stack` exists: a variable's name is
/// opened as a name scope (the scope regex for its context), then every op's node name is
/// checked whole. A variable always has helper ops below it (`v/read`), so its node name can
/// not end in the newline that Python's `$` lets a scope name end in.
fn check_op_name(stack: &str, name: &str, helpers: Option<Helpers>) -> Result<()> {
    let (stack, name) = op_base(stack, name, helpers);
    if helpers.is_some() {
        validate_scope_name(name, context_of(stack))?;
    }
    // The usual, valid name is checked in place; the strings are built for the error only.
    // A helper suffix (`/initial_value`, `/Initializer`) is valid whenever the base is.
    let (head, tail) = match name.strip_suffix('/') {
        Some(abs) => ("", abs),
        None => (stack, name),
    };
    if node_name_ok(head, tail, helpers.is_none()) {
        return Ok(());
    }
    let base = match name.strip_suffix('/') {
        Some(abs) => abs.to_owned(),
        None if stack.is_empty() => name.to_owned(),
        None => format!("{stack}/{name}"),
    };
    let node = match helpers {
        Some(Helpers::FromValue) => format!("{base}/initial_value"),
        Some(Helpers::FromInitializer) => format!("{base}/Initializer"),
        None => base.strip_suffix('\n').unwrap_or(&base).to_owned(),
    };
    validate_scope_name(&node, NameContext::Node).map_err(|_| Error::InvalidName {
        name: if node.is_empty() { base } else { node },
        context: NameContext::Node,
    })
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
        crate::scope::forget_registry(self.id);
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
