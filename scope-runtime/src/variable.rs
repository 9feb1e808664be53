//! Variable handles: cheap clones of one shared, lockable storage.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ndarray::ArrayViewMutD;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::partition::SaveSliceInfo;
use crate::registry::Registry;
use crate::tensor::Tensor;

/// The next variable id: one counter for the whole process, so that the tape, `Gradients`
/// and the optimizers, which key variables by id, never confuse the variables of two
/// registries.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh variable id, never handed out before in this process.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A named variable: a handle to storage shared by every clone.
///
/// Every model that got this variable from the registry holds a clone of the same handle, so
/// an update through any of them (an optimizer step, [`Variable::assign`], a checkpoint
/// restore) is seen by all. [`Variable::ptr_eq`] tells whether two handles are the same
/// variable.
///
/// Created by [`Registry::get_variable`] (TF's `tf.get_variable`) or [`Variable::new`] (TF's
/// `tf.Variable`).
#[derive(Clone)]
pub struct Variable {
    inner: Arc<Inner>,
    /// Set on a cast read of the variable ([`Variable::cast_read`]).
    read_as: Option<DType>,
}

struct Inner {
    id: u64,
    name: Box<str>,
    shape: Box<[usize]>,
    dtype: DType,
    trainable: bool,
    /// Registry bookkeeping, fixed at creation (see [`Registration`]).
    registration: Registration,
    value: RwLock<Tensor>,
    /// Bumped each time the value's write lock is taken (see [`Variable::version`]).
    version: AtomicU64,
    /// Set once for the parts of a partitioned variable.
    save_slice_info: OnceLock<SaveSliceInfo>,
    /// Set once, at creation, for a variable made with a constraint.
    constraint: OnceLock<crate::scoping::Constraint>,
}

/// How the registry indexes a variable, kept in the variable itself so that the registry's
/// maps need no second copy of its name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Registration {
    /// `get_variable` stored it under its own op name (the usual case; otherwise the store
    /// key is kept separately).
    pub(crate) stored_under_name: bool,
    /// Its op name is in use by the uniquifier implicitly (see `uniquifier::Uniquifier`).
    pub(crate) implicit_name: bool,
    /// Its helper ops (`uniquifier::Helpers::flag`), whose names are in use.
    pub(crate) helpers: u8,
}

/// Options of [`Variable::new_with`]: TF's `tf.Variable(initial_value, name=, dtype=, trainable=)`.
#[derive(Clone, Debug, Default)]
pub struct VariableOptions {
    /// The name, uniquified in the current name scope; `None` gives TF's default `Variable`.
    /// A name ending in `/` is absolute and is used as is.
    pub name: Option<String>,
    /// Cast the initial value to this dtype.
    pub dtype: Option<DType>,
    /// Whether it joins the trainable collection (default `true`).
    pub trainable: Option<bool>,
}

impl VariableOptions {
    /// Options with just a name.
    pub fn named(name: impl Into<String>) -> VariableOptions {
        VariableOptions {
            name: Some(name.into()),
            ..VariableOptions::default()
        }
    }

    /// Sets the dtype.
    pub fn dtype(mut self, dtype: DType) -> VariableOptions {
        self.dtype = Some(dtype);
        self
    }

    /// Sets the trainable flag.
    pub fn trainable(mut self, trainable: bool) -> VariableOptions {
        self.trainable = Some(trainable);
        self
    }
}

impl Variable {
    pub(crate) fn registered(
        id: u64,
        name: Box<str>,
        trainable: bool,
        value: Tensor,
        registration: Registration,
    ) -> Variable {
        Variable {
            read_as: None,
            inner: Arc::new(Inner {
                id,
                name,
                shape: value.shape().into(),
                dtype: value.dtype(),
                trainable,
                registration,
                value: RwLock::new(value),
                version: AtomicU64::new(0),
                save_slice_info: OnceLock::new(),
                constraint: OnceLock::new(),
            }),
        }
    }

    pub(crate) fn registration(&self) -> Registration {
        self.inner.registration
    }

    /// Marks a new part of a partitioned variable, before anyone else sees it.
    pub(crate) fn set_save_slice_info(&self, info: SaveSliceInfo) {
        let _ = self.inner.save_slice_info.set(info);
    }

    /// Gives a new variable its constraint, before anyone else sees it.
    pub(crate) fn set_constraint(&self, c: crate::scoping::Constraint) {
        let _ = self.inner.constraint.set(c);
    }

    /// The constraint the variable was created with (TF's `Variable.constraint`), which every
    /// optimizer applies after updating it.
    pub fn constraint(&self) -> Option<&crate::scoping::Constraint> {
        self.inner.constraint.get()
    }

    /// For a part of a partitioned variable (`emb/part_1`), which box of which full variable
    /// it holds (TF's `Variable._save_slice_info`): savers write the parts as one sliced
    /// entry under the full name, restores read that box.
    pub fn save_slice_info(&self) -> Option<&SaveSliceInfo> {
        self.inner.save_slice_info.get()
    }

    /// `tf.Variable(value, name=name)`: always creates a new variable, named `name` in the
    /// current name scope and uniquified (`var2`, `var2_1`, `var2_2`, case-insensitively, in
    /// the namespace that variables and scopes share).
    ///
    /// ```
    /// use scope::{Registry, Variable};
    /// let reg = Registry::new();
    /// let _ns = reg.name_scope("a_name_scope").enter()?;
    /// let v1 = Variable::new(&reg, "var2", [2.0f32])?;
    /// let v2 = Variable::new(&reg, "var2", [2.1f32])?;
    /// assert_eq!(v1.name(), "a_name_scope/var2");
    /// assert_eq!(v2.name(), "a_name_scope/var2_1");
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn new(reg: &Registry, name: &str, value: impl Into<Tensor>) -> Result<Variable> {
        reg.create_variable(value.into(), VariableOptions::named(name))
    }

    /// `tf.Variable` with all its options (see [`VariableOptions`]).
    pub fn new_with(
        reg: &Registry,
        value: impl Into<Tensor>,
        options: VariableOptions,
    ) -> Result<Variable> {
        reg.create_variable(value.into(), options)
    }

    /// The full (op) name, e.g. `rnn/input_layer/weights`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The tensor name TF prints for `var.name`: the op name with `:0`.
    pub fn tensor_name(&self) -> String {
        format!("{}:0", self.inner.name)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// Whether the variable is in the trainable collection.
    pub fn trainable(&self) -> bool {
        self.inner.trainable
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.inner.shape.iter().product()
    }

    /// A number unique in the process (across every registry), increasing in each registry's
    /// creation order. Two handles have the same id exactly when they are the same variable.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Whether `self` and `other` are handles to the same variable (the same storage).
    /// A read of this variable as `dtype` (a custom getter's `tf.cast(getter(..), float16)`
    /// for mixed precision): the same variable, stored and updated in its own dtype, whose
    /// value the tape rounds to `dtype` when it reads it, so gradients flow to the stored
    /// variable. Only floating dtypes are accepted. See [`Variable::read_dtype`].
    ///
    /// ```
    /// use scope::{DType, Initializer, Registry, VarSpec};
    /// let reg = Registry::new();
    /// let w = reg.get_variable("w", VarSpec::new().shape([1]).initializer(Initializer::Constant(0.1)))?;
    /// let half = w.cast_read(DType::F16)?;
    /// assert!(half.ptr_eq(&w));
    /// assert_eq!((half.dtype(), half.read_dtype()), (DType::F32, DType::F16));
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn cast_read(&self, dtype: DType) -> Result<Variable> {
        if !(dtype.is_floating() && self.dtype().is_floating()) {
            return Err(Error::CastRead {
                name: self.name().to_owned(),
                from: self.dtype(),
                to: dtype,
            });
        }
        Ok(Variable {
            inner: Arc::clone(&self.inner),
            read_as: (dtype != self.dtype()).then_some(dtype),
        })
    }

    /// The dtype a read of this handle gives: its [`Variable::cast_read`] dtype, else its own.
    pub fn read_dtype(&self) -> DType {
        self.read_as.unwrap_or(self.inner.dtype)
    }

    /// Whether two handles are the same variable (a cast read is the variable it reads).
    pub fn ptr_eq(&self, other: &Variable) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// How many handles to this variable exist (models, optimizers, the registry itself).
    pub fn holders(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// A read lock on the value. Many readers may hold it at once.
    ///
    /// The lock is a `std` [`RwLock`]: while a guard is alive, a call on this thread that
    /// writes the same variable ([`assign`](Self::assign), [`write`](Self::write), restoring
    /// a checkpoint, an optimizer step) deadlocks, and so may a second read if a writer is
    /// waiting. Drop the guard first. A writer that panicked does not poison the variable:
    /// its value is kept as far as it was written.
    pub fn read(&self) -> RwLockReadGuard<'_, Tensor> {
        self.inner
            .value
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A write lock on the value, which can change elements but never the shape or dtype.
    ///
    /// While the guard is alive, a call on this thread that locks the same variable's value
    /// again ([`value`](Self::value), [`assign`](Self::assign), `Display`,
    /// [`read`](Self::read), saving a checkpoint) deadlocks, as with any `std` [`RwLock`]:
    /// drop the guard first. (`name`, `shape` and `dtype` take no lock.) If the holder
    /// panics, later readers see the value as far as it was written (the lock's poisoning is
    /// ignored).
    pub fn write(&self) -> VariableWrite<'_> {
        let guard = self
            .inner
            .value
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Every change to the value goes through this lock, so counting its takers marks
        // every version (a writer that changes nothing only costs a later reader a copy).
        self.inner.version.fetch_add(1, Ordering::Relaxed);
        VariableWrite {
            name: &self.inner.name,
            guard,
        }
    }

    /// The value's version: a number that changes whenever the value may have changed.
    ///
    /// Every route that can change the value ([`write`](Self::write), and through it
    /// [`assign`](Self::assign), checkpoint restores and optimizer steps, from any handle
    /// or thread) takes the write lock, which bumps the version. Read it while holding a
    /// [`read`](Self::read) guard to pair it with the value that guard sees: then an equal
    /// version later means an equal value. The [`crate::tape::Tape`] keys the copies of
    /// variables it keeps across steps by it.
    ///
    /// ```
    /// use scope::{Initializer, Registry, VarSpec};
    /// let reg = Registry::new();
    /// let w = reg.get_variable("w", VarSpec::new().shape([2]).initializer(Initializer::Ones))?;
    /// let before = w.version();
    /// w.assign(ndarray::arr1(&[1.0f32, 2.0]).into_dyn())?;
    /// assert_ne!(w.version(), before);
    /// # Ok::<(), scope::Error>(())
    /// ```
    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::Relaxed)
    }

    /// A copy of the current value.
    pub fn value(&self) -> Tensor {
        self.read().clone()
    }

    /// Replaces the value; fails with [`Error::AssignMismatch`] if the dtype or shape differ.
    pub fn assign(&self, value: impl Into<Tensor>) -> Result<()> {
        let value = value.into();
        self.check_assignable(&value)?;
        *self.write().guard = value;
        Ok(())
    }

    /// Checks that `value` could be assigned, without assigning it.
    pub fn check_assignable(&self, value: &Tensor) -> Result<()> {
        check_assignable(self.name(), self.dtype(), self.shape(), value)
    }
}

/// [`Error::AssignMismatch`] unless `value` has exactly this dtype and shape.
fn check_assignable(name: &str, dtype: DType, shape: &[usize], value: &Tensor) -> Result<()> {
    if value.dtype() != dtype || value.shape() != shape {
        return Err(Error::AssignMismatch {
            name: name.to_owned(),
            dtype,
            shape: shape.to_vec(),
            got_dtype: value.dtype(),
            got_shape: value.shape().to_vec(),
        });
    }
    Ok(())
}

/// Write access to a variable's value: elements may change, shape and dtype may not.
///
/// It holds the variable's write lock: locking the same variable again on the same thread
/// while it is alive (`value`, `assign`, `Display`, a checkpoint save) deadlocks (see
/// [`Variable::write`]).
pub struct VariableWrite<'a> {
    name: &'a str,
    guard: RwLockWriteGuard<'a, Tensor>,
}

impl std::ops::Deref for VariableWrite<'_> {
    type Target = Tensor;

    fn deref(&self) -> &Tensor {
        &self.guard
    }
}

impl VariableWrite<'_> {
    /// The `f32` elements, mutably, if the variable is `float32`.
    pub fn as_f32_mut(&mut self) -> Option<&mut [f32]> {
        self.guard.as_f32_mut()
    }

    /// The `f64` elements, mutably, if the variable is `float64`.
    pub fn as_f64_mut(&mut self) -> Option<&mut [f64]> {
        self.guard.view_f64_mut().and_then(|v| v.into_slice())
    }

    /// A mutable `ndarray` view of the `f32` elements, if the variable is `float32`.
    pub fn view_f32_mut(&mut self) -> Option<ArrayViewMutD<'_, f32>> {
        self.guard.view_f32_mut()
    }

    /// Copies `value`'s elements in; fails if its dtype or shape differ.
    pub fn copy_from(&mut self, value: &Tensor) -> Result<()> {
        check_assignable(self.name, self.guard.dtype(), self.guard.shape(), value)?;
        *self.guard = value.clone();
        Ok(())
    }
}

impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name())
            .field("shape", &self.shape())
            .field("dtype", &self.dtype())
            .field("trainable", &self.trainable())
            .finish()
    }
}

/// `name:0 value`, as the seed programs print `sess.run(var)` after `var.name`.
impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:0 {}", self.name(), *self.read())
    }
}
