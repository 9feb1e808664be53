//! `tf.make_template`: a function whose variables are created on its first call and shared
//! by every later one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::CustomGetter;
use crate::error::{Error, Result};
use crate::registry::{Collection, Registry};
use crate::scope::VariableScope;

/// TF's `tf.make_template(name, func)`: the first call opens a variable scope named `name`
/// made unique (`name`, `name_1` for a second template of that name) and lets `func` create
/// its variables; every later call re-enters that scope with reuse on, so `get_variable`
/// returns the same variables. A later call that creates a trainable variable (with
/// `Variable::new`, which reuse does not catch) is refused with
/// [`Error::TemplateCreated`], and, unlike in TF, what it made is taken back.
///
/// ```
/// use scope::{Registry, VarSpec};
/// let reg = Registry::new();
/// let r = reg.clone();
/// let dense = reg.make_template("dense", move |x: f32| {
///     let w = r.get_variable("w", VarSpec::new().shape([1]))?;
///     Ok::<_, scope::Error>((w, x))
/// });
/// let (a, _) = dense.call(1.0)?;
/// let (b, _) = dense.call(2.0)?;
/// assert_eq!(a.name(), "dense/w");
/// assert!(a.ptr_eq(&b));
/// # Ok::<(), scope::Error>(())
/// ```
pub struct Template<F> {
    registry: Registry,
    name: String,
    custom_getter: Option<CustomGetter>,
    scope: Mutex<Option<VariableScope>>,
    created: AtomicBool,
    func: F,
}

impl Registry {
    /// `tf.make_template(name, func)`: the scope is opened on the first call.
    pub fn make_template<F>(&self, name: &str, func: F) -> Template<F> {
        Template {
            registry: self.clone(),
            name: name.to_owned(),
            custom_getter: None,
            scope: Mutex::new(None),
            created: AtomicBool::new(false),
            func,
        }
    }

    /// `tf.make_template(name, func, create_scope_now_=True)`: the scope's name is made
    /// unique now, so it does not depend on where the template is first called. As TF's
    /// `_pure_variable_scope`, this opens no name scope, and the scope's original name scope is
    /// its own name (`tmpl`, without `/`): each call then opens a name scope `tmpl`, `tmpl_1`.
    pub fn make_template_now<F>(&self, name: &str, func: F) -> Result<Template<F>> {
        let t = self.make_template(name, func);
        let mut b = self.variable_scope(None).default_name(name);
        b.pure = true;
        let guard = b.enter()?;
        *t.lock() = Some(guard.scope().clone());
        Ok(t)
    }
}

impl<F> Template<F> {
    /// TF's `custom_getter_=`: the getter of the template's scope.
    pub fn custom_getter(mut self, getter: CustomGetter) -> Self {
        self.custom_getter = Some(getter);
        self
    }

    /// The name the template was made with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template's variable scope, once made.
    pub fn variable_scope(&self) -> Option<VariableScope> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<VariableScope>> {
        self.scope.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `func` in the template's scope: creating on the first call that succeeds,
    /// sharing on every later one. A call that fails (with `func`'s error, or
    /// [`Error::TemplateCreated`]) changes nothing: the variables and names it made are
    /// taken back as [`atomic_build`](crate::atomic_build) takes them back, and a failed first
    /// call leaves the template without a scope, as if it had not been called.
    pub fn call<A, R, E: From<Error>>(&self, args: A) -> Result<R, E>
    where
        F: Fn(A) -> Result<R, E>,
    {
        let scope_before = self.lock().clone();
        let mut failed = None;
        let out = crate::atomic_build(&self.registry, || {
            self.call_in_scope(args).map_err(|e| {
                failed = Some(e);
                // Only tells `atomic_build` to roll back; the caller gets `func`'s error.
                Error::MissingScopeName
            })
        });
        match (out, failed) {
            (Ok(out), _) => Ok(out),
            (Err(_), Some(e)) => {
                *self.lock() = scope_before;
                Err(e)
            }
            (Err(e), None) => Err(e.into()),
        }
    }

    fn call_in_scope<A, R, E: From<Error>>(&self, args: A) -> Result<R, E>
    where
        F: Fn(A) -> Result<R, E>,
    {
        let reg = &self.registry;
        let existing = self.lock().clone();
        let _guard = match existing {
            Some(scope) => {
                let mut b = reg.variable_scope(&scope);
                if self.created.load(Ordering::Acquire) {
                    b = b.reuse(true);
                }
                if let (Some(g), false) = (&self.custom_getter, scope.custom_getter().is_some()) {
                    b = b.custom_getter(g.clone());
                }
                b.enter()?
            }
            None => {
                let mut b = reg.variable_scope(None).default_name(&self.name);
                if let Some(g) = &self.custom_getter {
                    b = b.custom_getter(g.clone());
                }
                let guard = b.enter()?;
                *self.lock() = Some(guard.scope().clone());
                guard
            }
        };
        if !self.created.load(Ordering::Acquire) {
            let out = (self.func)(args)?;
            self.created.store(true, Ordering::Release);
            return Ok(out);
        }
        let (count, trainable) = (reg.len(), reg.collection(Collection::Trainable, None).len());
        let out = (self.func)(args);
        if reg.len() == count {
            return out;
        }
        let after = reg.collection(Collection::Trainable, None);
        if after.len() != trainable {
            return Err(Error::TemplateCreated {
                template: self.name.clone(),
                names: after[trainable..]
                    .iter()
                    .map(|v| v.name().to_owned())
                    .collect(),
            }
            .into());
        }
        out
    }
}
