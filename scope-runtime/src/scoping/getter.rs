//! Custom getters: TF's `custom_getter=` on `get_variable` and `variable_scope`.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::registry::{Registry, VarSpec};
use crate::variable::Variable;

/// What a custom getter is asked for: the variable's *full* name (`scope/name`, as TF passes
/// it) and the spec of the `get_variable` call (fields left unset take the scope's defaults
/// in the true getter).
#[derive(Clone, Debug, PartialEq)]
pub struct GetterArgs {
    /// Full name, `<variable scope>/<name>`.
    pub name: String,
    /// What was asked for.
    pub spec: VarSpec,
}

/// The getter a custom getter calls to go on: the enclosing scope's getter, or in the end the
/// registry's own (TF's `getter` argument).
pub type NextGetter<'a> = &'a dyn Fn(GetterArgs) -> Result<Variable>;

type GetterFn = dyn Fn(GetterArgs, NextGetter<'_>) -> Result<Variable> + Send + Sync;

/// A custom getter (TF's `custom_getter(getter, name, *args, **kwargs)`): a function of the
/// request and the next getter. It may change the request (rename it: TF-Slim's `kernel` ->
/// `weights`), return another existing variable, or call `next` and pass its variable on.
///
/// ```
/// use scope::{CustomGetter, Registry, VarSpec};
/// let reg = Registry::new();
/// let slim = CustomGetter::rename([("kernel", "weights"), ("bias", "biases")]);
/// let w = reg.variable_scope("fc1").custom_getter(slim).with(|_| {
///     reg.get_variable("kernel", VarSpec::new().shape([3, 2]))
/// })?;
/// assert_eq!(w.name(), "fc1/weights");
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone)]
pub struct CustomGetter {
    label: Arc<str>,
    f: Arc<GetterFn>,
}

impl CustomGetter {
    /// A getter from a function of the request and the next getter; `label` names it in
    /// `Debug` output.
    pub fn new(
        label: impl Into<String>,
        f: impl Fn(GetterArgs, NextGetter<'_>) -> Result<Variable> + Send + Sync + 'static,
    ) -> CustomGetter {
        CustomGetter {
            label: label.into().into(),
            f: Arc::new(f),
        }
    }

    /// A getter that renames the last component of the full name (`fc1/kernel` ->
    /// `fc1/weights`) when it is one of `pairs`' first elements, then calls `next`.
    pub fn rename<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> CustomGetter {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let label = format!("rename{pairs:?}");
        CustomGetter::new(label, move |mut args, next| {
            let (head, last) = match args.name.rsplit_once('/') {
                Some((h, l)) => (Some(h), l),
                None => (None, args.name.as_str()),
            };
            if let Some((_, to)) = pairs.iter().find(|(from, _)| from == last) {
                args.name = match head {
                    Some(h) => format!("{h}/{to}"),
                    None => to.clone(),
                };
            }
            next(args)
        })
    }

    /// Calls the getter.
    pub fn call(&self, args: GetterArgs, next: NextGetter<'_>) -> Result<Variable> {
        (self.f)(args, next)
    }

    /// Whether two handles are the same getter.
    pub fn ptr_eq(&self, other: &CustomGetter) -> bool {
        Arc::ptr_eq(&self.f, &other.f)
    }

    /// `inner` wrapped around `outer`: `inner` runs first, its `next` is `outer`, whose `next`
    /// is the caller's.
    pub(crate) fn nested(inner: &CustomGetter, outer: &CustomGetter) -> CustomGetter {
        let (i, o) = (inner.clone(), outer.clone());
        let label = format!("{} > {}", i.label, o.label);
        CustomGetter::new(label, move |args, next| {
            i.call(args, &|a: GetterArgs| o.call(a, next))
        })
    }
}

impl PartialEq for CustomGetter {
    fn eq(&self, other: &CustomGetter) -> bool {
        self.ptr_eq(other)
    }
}

impl fmt::Debug for CustomGetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomGetter({})", self.label)
    }
}

/// `get_variable` through `getter`: the getter gets the full name, and the registry's own
/// getter (by full name, in the current scope's reuse mode and defaults) is its last `next`.
/// A variable returned with a shape other than the one asked for is refused.
pub(crate) fn get_through(
    reg: &Registry,
    full: String,
    mut spec: VarSpec,
    getter: &CustomGetter,
) -> Result<Variable> {
    spec.custom_getter = None;
    let requested = spec.shape.clone();
    let mismatch = |returned: &str, found: &[usize]| Error::GetterShapeMismatch {
        name: full.clone(),
        returned: returned.to_owned(),
        requested: requested.clone().unwrap_or_default(),
        found: found.to_vec(),
    };
    let var = getter.call(
        GetterArgs {
            name: full.clone(),
            spec,
        },
        // A getter that asks for another shape is refused before anything is created, so that
        // the failed call changes nothing.
        &|a: GetterArgs| match (&requested, &a.spec.shape) {
            (Some(want), Some(asked)) if want != asked => Err(mismatch(&a.name, asked)),
            _ => reg.get_variable_full(&a.name, a.spec),
        },
    )?;
    match &requested {
        Some(shape) if shape.as_slice() != var.shape() => Err(mismatch(var.name(), var.shape())),
        _ => Ok(var),
    }
}

/// The getter that applies to `get_variable(name, spec)` here (the call's, else the current
/// scope's), with the full name it is given; `None` when there is none.
pub(crate) fn getter_for(
    reg: &Registry,
    name: &str,
    spec: &VarSpec,
) -> Option<(CustomGetter, String)> {
    if spec.custom_getter.is_none() && !reg.may_have_custom_getters() {
        return None;
    }
    reg.with_thread(|t| {
        let scope = t.current();
        let getter = spec.custom_getter.as_ref().or(scope.custom_getter())?;
        let full = match scope.name() {
            "" => name.to_owned(),
            s => format!("{s}/{name}"),
        };
        Some((getter.clone(), full))
    })
}
