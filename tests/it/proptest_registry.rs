//! Model-based property tests: random scripts of the conformance format's ops run against
//! the registry and against [`Model`], a plain re-statement of TF1's rules written for this
//! test (a `names_in_use` dict with TF's `unique_name`, a variable store dict, a stack of
//! scopes with reuse inheritance). Every output must equal the model's, and:
//!
//! * op names are unique, and the uniquifier never hands out a name twice;
//! * a reuse returns the very storage the creating call returned;
//! * a failed op changes nothing (registry listings compared before and after);
//! * the count of names in use is the model's.
//!
//! 10,000 cases run in CI; a failure shrinks to a minimal script.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use proptest::prelude::*;
use proptest::sample::select;

use scope::{
    Collection, DType, Error, Initializer, NameScopeGuard, Registry, Reuse, VarSpec, Variable,
    VariableOptions, VariableScope, VariableScopeGuard,
};

// ----- the script ----------------------------------------------------------------------------

/// `reuse=` as a script passes it: absent, `True`, `False` or `tf.AUTO_REUSE`.
#[derive(Clone, Copy, Debug)]
enum ReuseArg {
    True,
    False,
    Auto,
}

#[derive(Clone, Debug)]
enum Op {
    NameScope {
        name: Option<&'static str>,
        default: Option<&'static str>,
    },
    VariableScope {
        name: Option<&'static str>,
        default: Option<&'static str>,
        reuse: Option<ReuseArg>,
        aux: bool,
        dtype: Option<DType>,
        capture: bool,
    },
    /// Re-enter captured scope number `which` (modulo how many there are; none: no-op).
    Reenter {
        which: usize,
        reuse: Option<ReuseArg>,
        aux: bool,
    },
    /// `tf.get_variable_scope()` with `capture`.
    CaptureCurrent,
    Exit,
    ReuseVariables {
        which: Option<usize>,
    },
    GetVariable {
        name: &'static str,
        shape: Option<Vec<usize>>,
        dtype: Option<DType>,
        zeros: bool,
    },
    Variable {
        name: Option<&'static str>,
        trainable: bool,
    },
    Constant {
        name: &'static str,
    },
    List {
        trainable: bool,
        prefix: Option<&'static str>,
    },
}

/// Names chosen to collide: case variants, explicit suffixes, absolute (`x/`), empty,
/// nested paths, and names invalid at the root or anywhere.
const SCOPE_NAMES: &[&str] = &[
    "a", "b", "A", "W", "a_1", "a_2", "a/", "", "a/b", "_x", "x y",
];
const VAR_NAMES: &[&str] = &[
    "w", "W", "w_1", "a", "a_1", "b", "b/", "_v", "v:0", "read", "",
];
const PREFIXES: &[&str] = &["a", "a/", "b", "w", ""];

fn reuse_arg() -> impl Strategy<Value = Option<ReuseArg>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(ReuseArg::True)),
        1 => Just(Some(ReuseArg::False)),
        1 => Just(Some(ReuseArg::Auto)),
    ]
}

fn dtype_arg() -> impl Strategy<Value = Option<DType>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(DType::F32)),
        1 => Just(Some(DType::F64)),
        1 => Just(Some(DType::I32)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let name = select(SCOPE_NAMES);
    prop_oneof![
        3 => (proptest::option::weighted(0.85, name.clone()), proptest::option::of(select(&["d", "D", "a"][..])))
            .prop_map(|(name, default)| Op::NameScope { name, default }),
        5 => (
            proptest::option::weighted(0.8, name),
            proptest::option::of(select(&["layer", "Layer", "a", "d"][..])),
            reuse_arg(),
            prop::bool::weighted(0.85),
            prop_oneof![4 => Just(None), 1 => Just(Some(DType::F64))],
            prop::bool::weighted(0.3),
        )
            .prop_map(|(name, default, reuse, aux, dtype, capture)| Op::VariableScope {
                name,
                default,
                reuse,
                aux,
                dtype,
                capture,
            }),
        2 => (0..4usize, reuse_arg(), prop::bool::weighted(0.8))
            .prop_map(|(which, reuse, aux)| Op::Reenter { which, reuse, aux }),
        1 => Just(Op::CaptureCurrent),
        4 => Just(Op::Exit),
        1 => proptest::option::of(0..4usize).prop_map(|which| Op::ReuseVariables { which }),
        7 => (
            select(VAR_NAMES),
            proptest::option::weighted(
                0.7,
                prop_oneof![Just(vec![1]), Just(vec![2]), Just(vec![]), Just(vec![0, 3])],
            ),
            dtype_arg(),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(name, shape, dtype, zeros)| Op::GetVariable {
                name,
                shape,
                dtype,
                zeros,
            }),
        3 => (
            proptest::option::weighted(0.8, select(VAR_NAMES)),
            prop::bool::weighted(0.8),
        )
            .prop_map(|(name, trainable)| Op::Variable { name, trainable }),
        2 => select(&["c", "a", "w", "", "a/", "A"][..]).prop_map(|name| Op::Constant { name }),
        1 => (any::<bool>(), proptest::option::of(select(PREFIXES)))
            .prop_map(|(trainable, prefix)| Op::List { trainable, prefix }),
    ]
}

/// Scripts that mostly open and leave scopes, with few names: default-name counting,
/// sub-scope resets on exit and captured re-entry need several scope ops in a row.
fn scope_op() -> impl Strategy<Value = Op> {
    let name = select(&["a", "b", "A"][..]);
    prop_oneof![
        2 => proptest::option::weighted(0.7, name.clone())
            .prop_map(|name| Op::NameScope { name, default: None }),
        6 => (
            proptest::option::weighted(0.5, name),
            prop_oneof![Just(None), Just(Some(ReuseArg::Auto))],
            prop::bool::weighted(0.9),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(name, reuse, aux, capture)| Op::VariableScope {
                name,
                default: Some("d"),
                reuse: if name.is_some() { reuse } else { None },
                aux,
                dtype: None,
                capture,
            }),
        2 => (0..3usize, prop::bool::weighted(0.8))
            .prop_map(|(which, aux)| Op::Reenter { which, reuse: None, aux }),
        5 => Just(Op::Exit),
        3 => (select(&["w", "a"][..]), prop::bool::weighted(0.8)).prop_map(|(name, shape)| {
            Op::GetVariable {
                name,
                shape: shape.then(|| vec![1]),
                dtype: None,
                zeros: false,
            }
        }),
        1 => Just(Op::Variable { name: Some("v"), trainable: true }),
    ]
}

// ----- what an op returns --------------------------------------------------------------------

/// Which variable a call returned: a new one (its index in creation order) or an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    New(usize),
    Existing(usize),
}

#[derive(Clone, Debug, PartialEq)]
enum Out {
    Nothing,
    NameScope(String),
    Scope {
        name: String,
        original_name_scope: String,
        reuse: Reuse,
        current_name_scope: String,
    },
    Var {
        name: String,
        shape: Vec<usize>,
        dtype: DType,
        trainable: bool,
        which: Which,
    },
    OpName(String),
    List(Vec<String>),
    Error(&'static str),
}

fn category(e: &Error) -> &'static str {
    match e {
        Error::AlreadyExists { .. } => "AlreadyExists",
        Error::NotFound { .. } => "NotFound",
        Error::ShapeMismatch { .. } => "ShapeMismatch",
        Error::DtypeMismatch { .. } => "DtypeMismatch",
        Error::MissingShape { .. } => "MissingShape",
        Error::InvalidName { .. } => "InvalidName",
        Error::ReuseWithoutName => "ReuseWithoutName",
        Error::MissingScopeName => "MissingScopeName",
        Error::DuplicateName { .. } => "DuplicateName",
        Error::InvalidInitializer { .. } => "InvalidInitializer",
        Error::InitializerNeedsShape { .. } => "InitializerNeedsShape",
        _ => "Other",
    }
}

// ----- the reference model -------------------------------------------------------------------

/// A variable scope object; clones share the reuse flag (`reuse_variables` on any handle is
/// seen by all), as TF's `VariableScope` objects do.
#[derive(Clone, Debug)]
struct MScope {
    name: String,
    original_name_scope: String,
    reuse: Rc<Cell<Reuse>>,
    dtype: DType,
}

#[derive(Debug)]
enum CountsOnExit {
    Keep,
    Restore(HashMap<String, u32>),
    CloseSubscopes(String),
}

#[derive(Debug)]
struct MFrame {
    name_stack: Option<String>,
    scope: Option<MScope>,
    counts: CountsOnExit,
}

#[derive(Clone, Debug)]
struct MVar {
    name: String,
    shape: Vec<usize>,
    dtype: DType,
    trainable: bool,
}

/// TF1's rules, re-stated as directly as possible.
#[derive(Debug)]
struct Model {
    /// `Graph._names_in_use`: lower-cased name -> count.
    names_in_use: HashMap<String, u32>,
    /// Every op's name (variables and constants).
    ops: HashSet<String>,
    /// `_VariableStore._vars`: full name -> variable.
    store: HashMap<String, usize>,
    vars: Vec<MVar>,
    /// `_VariableScopeStore.variable_scopes_count`.
    counts: HashMap<String, u32>,
    name_stack: String,
    current: MScope,
    frames: Vec<MFrame>,
    captured: Vec<MScope>,
    /// Every name `unique_name` handed out, lower-cased.
    handed_out: HashSet<String>,
    /// The helper ops below each variable op (lower-cased): their names are in use too
    /// (`v/read`, `v/Assign`, and `v/initial_value` or `v/Initializer`).
    helpers: HashMap<String, u8>,
}

const FROM_VALUE: u8 = 1;
const FROM_INITIALIZER: u8 = 2;

/// Which regex a name is checked against.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    Nested,
    /// A whole op name: the root regex, with no final newline allowed.
    Node,
}

fn ctx_of(stack: &str) -> Ctx {
    if stack.is_empty() {
        Ctx::Root
    } else {
        Ctx::Nested
    }
}

/// TF's regexes: `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$` at the root, `^[A-Za-z0-9_.\\/>-]*$`
/// nested, applied with Python's `re.match` (whose `$` also matches before one final
/// newline) to scope names; a node name must match the root regex exactly.
fn valid(name: &str, ctx: Ctx) -> bool {
    let rest = |c: char| c.is_ascii_alphanumeric() || "_.\\/>-".contains(c);
    let body = match ctx {
        Ctx::Node => name,
        _ => name.strip_suffix('\n').unwrap_or(name),
    };
    let mut chars = body.chars();
    match chars.next() {
        None => ctx != Ctx::Node,
        Some(c) if ctx != Ctx::Nested && !(c.is_ascii_alphanumeric() || c == '.') => false,
        Some(c) => rest(c) && chars.all(rest),
    }
}

/// A variable with an empty name is named after its op type, at the root.
fn op_base<'a>(stack: &'a str, name: &'a str, helpers: Option<u8>) -> (&'a str, &'a str) {
    if name.is_empty() && helpers.is_some() {
        ("", "VariableV2")
    } else {
        (stack, name)
    }
}

/// What TF checks before an op exists: a variable's name is opened as a name scope (the
/// scope regex), then the op's node name, which for a variable is that of a helper op
/// below it, must match the node regex.
fn check_op_name(stack: &str, name: &str, helpers: Option<u8>) -> Res<()> {
    let (stack, name) = op_base(stack, name, helpers);
    if helpers.is_some() && !valid(name, ctx_of(stack)) {
        return Err("InvalidName");
    }
    let base = match name.strip_suffix('/') {
        Some(abs) => abs.to_owned(),
        None => join(stack, name),
    };
    let node = match helpers {
        Some(FROM_VALUE) => format!("{base}/initial_value"),
        Some(_) => format!("{base}/Initializer"),
        None => base.strip_suffix('\n').unwrap_or(&base).to_owned(),
    };
    if valid(&node, Ctx::Node) {
        Ok(())
    } else {
        Err("InvalidName")
    }
}

/// Whether the last component `helper` of a name is one of an op's helper ops.
fn helper_hit(flags: u8, helper: &str) -> bool {
    match helper {
        "assign" | "read" => flags != 0,
        "initial_value" => flags & FROM_VALUE != 0,
        "initializer" => flags & FROM_INITIALIZER != 0,
        _ => false,
    }
}

fn join(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}/{name}")
    }
}

type Res<T> = Result<T, &'static str>;

impl Model {
    fn new() -> Model {
        Model {
            names_in_use: HashMap::new(),
            ops: HashSet::new(),
            store: HashMap::new(),
            vars: Vec::new(),
            counts: HashMap::new(),
            name_stack: String::new(),
            current: MScope {
                name: String::new(),
                original_name_scope: String::new(),
                reuse: Rc::new(Cell::new(Reuse::No)),
                dtype: DType::F32,
            },
            frames: Vec::new(),
            captured: Vec::new(),
            handed_out: HashSet::new(),
            helpers: HashMap::new(),
        }
    }

    /// `Graph.unique_name(name)`, verbatim.
    fn unique_name(&mut self, name: &str) -> String {
        let name = join(&self.name_stack.clone(), name);
        let result = unique_in(&mut self.names_in_use, &self.helpers, &name);
        assert!(
            self.handed_out.insert(result.to_lowercase()),
            "model handed out {result} twice"
        );
        result
    }

    fn unique_name_under(&mut self, stack: &str, name: &str) -> String {
        let saved = std::mem::replace(&mut self.name_stack, stack.to_owned());
        let r = self.unique_name(name);
        self.name_stack = saved;
        r
    }

    /// `Graph.name_scope(name)`: the new name stack and the string it returns.
    fn name_scope_transition(&mut self, name: &str) -> Res<(String, String)> {
        if name.is_empty() {
            return Ok((String::new(), String::new()));
        }
        if !valid(name, ctx_of(&self.name_stack)) {
            return Err("InvalidName");
        }
        if let Some(abs) = name.strip_suffix('/') {
            return Ok((abs.to_owned(), name.to_owned()));
        }
        let unique = self.unique_name(name);
        Ok((unique.clone(), format!("{unique}/")))
    }

    /// Naming a new op (`_create_op_internal`), after [`check_op_name`]: absolute names
    /// are used as they are and must be free; others are uniquified, and the result must not
    /// be an existing op (if it is, TF has consumed the name all the same). A variable's
    /// helper op names are in use from then on.
    fn claim_op_name(&mut self, stack: &str, name: &str, helpers: Option<u8>) -> Res<String> {
        let (stack, name) = op_base(stack, name, helpers);
        let op = if let Some(abs) = name.strip_suffix('/') {
            if self.ops.contains(abs) {
                return Err("DuplicateName");
            }
            abs.to_owned()
        } else {
            let op = self.unique_name_under(stack, name);
            if self.ops.contains(&op) {
                return Err("DuplicateName");
            }
            op
        };
        if let Some(flags) = helpers {
            *self.helpers.entry(op.to_lowercase()).or_insert(0) |= flags;
        }
        Ok(op)
    }

    fn scope_out(&self) -> Out {
        Out::Scope {
            name: self.current.name.clone(),
            original_name_scope: self.current.original_name_scope.clone(),
            reuse: self.current.reuse.get(),
            current_name_scope: self.name_stack.clone(),
        }
    }

    fn var_out(&self, which: Which) -> Out {
        let (Which::New(i) | Which::Existing(i)) = which;
        let v = &self.vars[i];
        Out::Var {
            name: v.name.clone(),
            shape: v.shape.clone(),
            dtype: v.dtype,
            trainable: v.trainable,
            which,
        }
    }

    fn apply(&mut self, op: &Op) -> Out {
        match self.try_apply(op) {
            Ok(out) => out,
            Err(category) => Out::Error(category),
        }
    }

    fn try_apply(&mut self, op: &Op) -> Res<Out> {
        match op {
            Op::NameScope { name, default } => {
                let name = name.or(*default).unwrap_or("");
                let (stack, returned) = self.name_scope_transition(name)?;
                let old = std::mem::replace(&mut self.name_stack, stack);
                self.frames.push(MFrame {
                    name_stack: Some(old),
                    scope: None,
                    counts: CountsOnExit::Keep,
                });
                Ok(Out::NameScope(returned))
            }
            Op::VariableScope {
                name,
                default,
                reuse,
                aux,
                dtype,
                capture,
            } => {
                if name.is_none() && default.is_none() {
                    return Err("MissingScopeName");
                }
                let reuse = reuse_of(*reuse);
                if name.is_none() && reuse.is_some() {
                    return Err("ReuseWithoutName");
                }
                let ns_name = name.or(*default).unwrap_or("");
                let name_scope = self.open_name_scope(ns_name, *aux)?;
                let scope_name = match name {
                    Some(n) => n.to_string(),
                    None => self.unique_variable_scope(ns_name),
                };
                let original = match &name_scope {
                    Some((_, returned)) => returned.clone(),
                    None => scope_name.clone(),
                };
                let full = join(&self.current.name, &scope_name);
                let scope = MScope {
                    name: full.clone(),
                    original_name_scope: original,
                    reuse: Rc::new(Cell::new(reuse.unwrap_or(self.current.reuse.get()))),
                    dtype: dtype.unwrap_or(self.current.dtype),
                };
                *self.counts.entry(full.clone()).or_insert(0) += 1;
                self.enter(
                    scope,
                    name_scope,
                    CountsOnExit::CloseSubscopes(full),
                    *capture,
                );
                Ok(self.scope_out())
            }
            Op::Reenter { which, reuse, aux } => {
                if self.captured.is_empty() {
                    return Ok(Out::Nothing);
                }
                let captured = self.captured[which % self.captured.len()].clone();
                let reuse = reuse_of(*reuse);
                let last = captured.name.rsplit('/').next().unwrap_or("").to_owned();
                let name_scope = self.open_name_scope(&last, *aux)?;
                let scope = MScope {
                    name: captured.name.clone(),
                    original_name_scope: captured.original_name_scope.clone(),
                    reuse: Rc::new(Cell::new(reuse.unwrap_or(captured.reuse.get()))),
                    dtype: captured.dtype,
                };
                *self.counts.entry(scope.name.clone()).or_insert(0) += 1;
                let snapshot = self.counts.clone();
                self.enter(scope, name_scope, CountsOnExit::Restore(snapshot), false);
                Ok(self.scope_out())
            }
            Op::CaptureCurrent => {
                self.captured.push(self.current.clone());
                Ok(self.scope_out())
            }
            Op::Exit => {
                if let Some(frame) = self.frames.pop() {
                    match frame.counts {
                        CountsOnExit::Keep => {}
                        CountsOnExit::Restore(counts) => self.counts = counts,
                        CountsOnExit::CloseSubscopes(name) => {
                            let prefix = format!("{name}/");
                            for (k, v) in self.counts.iter_mut() {
                                if k.starts_with(&prefix) {
                                    *v = 0;
                                }
                            }
                        }
                    }
                    if let Some(scope) = frame.scope {
                        self.current = scope;
                    }
                    if let Some(stack) = frame.name_stack {
                        self.name_stack = stack;
                    }
                }
                Ok(Out::Nothing)
            }
            Op::ReuseVariables { which } => {
                match which {
                    Some(w) if !self.captured.is_empty() => {
                        let n = self.captured.len();
                        self.captured[w % n].reuse.set(Reuse::Yes);
                    }
                    Some(_) => {}
                    None => self.current.reuse.set(Reuse::Yes),
                }
                Ok(Out::Nothing)
            }
            Op::GetVariable {
                name,
                shape,
                dtype,
                zeros,
            } => {
                let full = join(&self.current.name, name);
                let dtype = dtype.unwrap_or(self.current.dtype);
                let reuse = self.current.reuse.get();
                if let Some(&i) = self.store.get(&full) {
                    if reuse == Reuse::No {
                        return Err("AlreadyExists");
                    }
                    if shape.as_ref().is_some_and(|s| *s != self.vars[i].shape) {
                        return Err("ShapeMismatch");
                    }
                    if dtype != self.vars[i].dtype {
                        return Err("DtypeMismatch");
                    }
                    return Ok(self.var_out(Which::Existing(i)));
                }
                if reuse == Reuse::Yes {
                    return Err("NotFound");
                }
                let Some(shape) = shape else {
                    return Err(if *zeros {
                        "InitializerNeedsShape"
                    } else {
                        "MissingShape"
                    });
                };
                // Zeros and the default initializers are callables.
                check_op_name("", &full, Some(FROM_INITIALIZER))?;
                let op_name = self.claim_op_name("", &full, Some(FROM_INITIALIZER))?;
                let i = self.create(op_name, shape.clone(), dtype, true);
                self.store.insert(full, i);
                Ok(self.var_out(Which::New(i)))
            }
            Op::Variable { name, trainable } => {
                let name = name.unwrap_or("Variable");
                // Built inside `init_scope`, which re-enters the name scope as an absolute
                // scope: one trailing `/` goes.
                let stack = self.name_stack.clone();
                let stack = stack.strip_suffix('/').unwrap_or(&stack);
                check_op_name(stack, name, Some(FROM_VALUE))?;
                let op_name = self.claim_op_name(stack, name, Some(FROM_VALUE))?;
                let i = self.create(op_name, vec![1], DType::F32, *trainable);
                Ok(self.var_out(Which::New(i)))
            }
            Op::Constant { name } => {
                let stack = self.name_stack.clone();
                check_op_name(&stack, name, None)?;
                let op_name = self.claim_op_name(&stack, name, None)?;
                self.ops.insert(op_name.clone());
                Ok(Out::OpName(op_name))
            }
            Op::List { trainable, prefix } => Ok(Out::List(
                self.vars
                    .iter()
                    .filter(|v| !trainable || v.trainable)
                    .filter(|v| prefix.is_none_or(|p| v.name.starts_with(p)))
                    .map(|v| v.name.clone())
                    .collect(),
            )),
        }
    }

    /// The name scope a variable scope opens: re-enter the current one (no auxiliary name
    /// scope), none (empty name), or a new one named after the scope.
    fn open_name_scope(&mut self, ns_name: &str, aux: bool) -> Res<Option<(String, String)>> {
        if !aux {
            let returned = if self.name_stack.is_empty() {
                String::new()
            } else {
                format!("{}/", self.name_stack)
            };
            Ok(Some((self.name_stack.clone(), returned)))
        } else if ns_name.is_empty() {
            Ok(None)
        } else {
            self.name_scope_transition(ns_name).map(Some)
        }
    }

    /// `_get_unique_variable_scope(prefix)`.
    fn unique_variable_scope(&self, prefix: &str) -> String {
        let base = join(&self.current.name, prefix);
        let count = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        if count(&base) == 0 {
            return prefix.to_owned();
        }
        let mut i = 1;
        while count(&format!("{base}_{i}")) > 0 {
            i += 1;
        }
        format!("{prefix}_{i}")
    }

    fn enter(
        &mut self,
        scope: MScope,
        name_scope: Option<(String, String)>,
        counts: CountsOnExit,
        capture: bool,
    ) {
        if capture {
            self.captured.push(scope.clone());
        }
        let old_scope = std::mem::replace(&mut self.current, scope);
        let old_stack = name_scope.map(|(s, _)| std::mem::replace(&mut self.name_stack, s));
        self.frames.push(MFrame {
            name_stack: old_stack,
            scope: Some(old_scope),
            counts,
        });
    }

    fn create(&mut self, name: String, shape: Vec<usize>, dtype: DType, trainable: bool) -> usize {
        assert!(self.ops.insert(name.clone()), "model reused op name {name}");
        self.vars.push(MVar {
            name,
            shape,
            dtype,
            trainable,
        });
        self.vars.len() - 1
    }
}

/// TF's `unique_name` on a `names_in_use` dict (Python, transliterated), where a
/// variable's helper op names count as in use.
fn unique_in(
    names_in_use: &mut HashMap<String, u32>,
    helpers: &HashMap<String, u8>,
    name: &str,
) -> String {
    let count = |names_in_use: &HashMap<String, u32>, key: &str| -> u32 {
        if let Some(&c) = names_in_use.get(key) {
            return c;
        }
        match key.rsplit_once('/') {
            Some((op, helper)) => {
                u32::from(helper_hit(helpers.get(op).copied().unwrap_or(0), helper))
            }
            None => 0,
        }
    };
    let mut name_key = name.to_lowercase();
    let mut i = count(names_in_use, &name_key);
    names_in_use.insert(name_key.clone(), i + 1);
    if i == 0 {
        return name.to_owned();
    }
    let base_name_key = name_key.clone();
    while count(names_in_use, &name_key) > 0 {
        name_key = format!("{base_name_key}_{i}");
        i += 1;
    }
    names_in_use.insert(name_key, 1);
    format!("{name}_{}", i - 1)
}

/// TF: `reuse=False` is the same as not passing it.
fn reuse_of(arg: Option<ReuseArg>) -> Option<Reuse> {
    match arg {
        Some(ReuseArg::True) => Some(Reuse::Yes),
        Some(ReuseArg::Auto) => Some(Reuse::Auto),
        Some(ReuseArg::False) | None => None,
    }
}

// ----- the same script against the registry --------------------------------------------------

enum Guard {
    Name(#[allow(dead_code)] NameScopeGuard),
    Var(#[allow(dead_code)] VariableScopeGuard),
}

struct Real {
    reg: Registry,
    guards: Vec<Guard>,
    captured: Vec<VariableScope>,
    /// Variables in creation order (the model's indices).
    vars: Vec<Variable>,
}

/// What can be observed of the registry: compared before and after a failing op.
#[derive(Debug, PartialEq)]
struct Listing {
    global: Vec<String>,
    trainable: Vec<String>,
    names_in_use: usize,
    name_scope: String,
    variable_scope: String,
    reuse: Reuse,
}

impl Real {
    fn listing(&self) -> Listing {
        let names = |c| {
            self.reg
                .collection(c, None)
                .iter()
                .map(|v| v.name().to_owned())
                .collect()
        };
        let scope = self.reg.current_variable_scope();
        Listing {
            global: names(Collection::Global),
            trainable: names(Collection::Trainable),
            names_in_use: self.reg.names_in_use(),
            name_scope: self.reg.current_name_scope(),
            variable_scope: scope.name().to_owned(),
            reuse: scope.reuse(),
        }
    }

    fn scope_out(&self, s: &VariableScope) -> Out {
        Out::Scope {
            name: s.name().to_owned(),
            original_name_scope: s.original_name_scope().to_owned(),
            reuse: s.reuse(),
            current_name_scope: self.reg.current_name_scope(),
        }
    }

    /// Runs `op` against the registry.
    fn apply(&mut self, op: &Op) -> Out {
        let reg = self.reg.clone();
        let result: Result<Out, Error> = (|| match op {
            Op::NameScope { name, default } => {
                let mut b = reg.name_scope(*name);
                if let Some(d) = default {
                    b = b.default_name(*d);
                }
                let g = b.enter()?;
                let out = Out::NameScope(g.to_string());
                self.guards.push(Guard::Name(g));
                Ok(out)
            }
            Op::VariableScope {
                name,
                default,
                reuse,
                aux,
                dtype,
                capture,
            } => {
                let mut b = reg.variable_scope(*name).auxiliary_name_scope(*aux);
                if let Some(d) = default {
                    b = b.default_name(*d);
                }
                b = with_reuse(b, *reuse);
                if let Some(d) = dtype {
                    b = b.dtype(*d);
                }
                let g = b.enter()?;
                if *capture {
                    self.captured.push(g.scope().clone());
                }
                let out = self.scope_out(g.scope());
                self.guards.push(Guard::Var(g));
                Ok(out)
            }
            Op::Reenter { which, reuse, aux } => {
                if self.captured.is_empty() {
                    return Ok(Out::Nothing);
                }
                let captured = self.captured[which % self.captured.len()].clone();
                let b = reg.variable_scope(&captured).auxiliary_name_scope(*aux);
                let g = with_reuse(b, *reuse).enter()?;
                let out = self.scope_out(g.scope());
                self.guards.push(Guard::Var(g));
                Ok(out)
            }
            Op::CaptureCurrent => {
                let s = reg.current_variable_scope();
                self.captured.push(s.clone());
                Ok(self.scope_out(&s))
            }
            Op::Exit => {
                self.guards.pop();
                Ok(Out::Nothing)
            }
            Op::ReuseVariables { which } => {
                match which {
                    Some(w) if !self.captured.is_empty() => {
                        self.captured[w % self.captured.len()].reuse_variables()
                    }
                    Some(_) => {}
                    None => reg.reuse_variables(),
                }
                Ok(Out::Nothing)
            }
            Op::GetVariable {
                name,
                shape,
                dtype,
                zeros,
            } => {
                let mut spec = VarSpec::new();
                if let Some(s) = shape {
                    spec = spec.shape(s);
                }
                if let Some(d) = dtype {
                    spec = spec.dtype(*d);
                }
                if *zeros {
                    spec = spec.initializer(Initializer::Zeros);
                }
                let v = reg.get_variable(name, spec)?;
                Ok(self.var_out(v))
            }
            Op::Variable { name, trainable } => {
                let options = VariableOptions {
                    name: name.map(str::to_owned),
                    dtype: None,
                    trainable: Some(*trainable),
                };
                let v = Variable::new_with(&reg, [0.5f32], options)?;
                Ok(self.var_out(v))
            }
            Op::Constant { name } => Ok(Out::OpName(reg.new_op_name(name)?)),
            Op::List { trainable, prefix } => {
                let c = if *trainable {
                    Collection::Trainable
                } else {
                    Collection::Global
                };
                Ok(Out::List(
                    reg.collection(c, *prefix)
                        .iter()
                        .map(|v| v.name().to_owned())
                        .collect(),
                ))
            }
        })();
        result.unwrap_or_else(|e| Out::Error(category(&e)))
    }

    /// The output for a returned variable. New means distinct from every earlier one;
    /// existing means the very storage of the earlier variable the model names.
    fn var_out(&mut self, v: Variable) -> Out {
        let which = match self.vars.iter().position(|e| e.ptr_eq(&v)) {
            None => {
                self.vars.push(v.clone());
                Which::New(self.vars.len() - 1)
            }
            Some(i) => Which::Existing(i),
        };
        Out::Var {
            name: v.name().to_owned(),
            shape: v.shape().to_vec(),
            dtype: v.dtype(),
            trainable: v.trainable(),
            which,
        }
    }
}

fn with_reuse(
    b: scope::VariableScopeBuilder<'_>,
    reuse: Option<ReuseArg>,
) -> scope::VariableScopeBuilder<'_> {
    match reuse {
        None => b,
        Some(ReuseArg::True) => b.reuse(true),
        Some(ReuseArg::False) => b.reuse(false),
        Some(ReuseArg::Auto) => b.reuse(Reuse::Auto),
    }
}

/// Runs a script against both and checks every invariant after every op.
fn check_script(script: &[Op]) -> Result<(), TestCaseError> {
    let mut model = Model::new();
    let mut real = Real {
        reg: Registry::with_seed(0),
        guards: Vec::new(),
        captured: Vec::new(),
        vars: Vec::new(),
    };
    // Every op name handed out so far, and every uniquified name, lower-cased.
    let mut op_names: HashSet<String> = HashSet::new();
    let mut uniquified: HashSet<String> = HashSet::new();
    for (i, op) in script.iter().enumerate() {
        let handed_before = model.handed_out.len();
        let want = model.apply(op);
        let before = real.listing();
        let got = real.apply(op);
        prop_assert_eq!(&got, &want, "op {} ({:?})", i, op);
        if let Out::Error(category) = got {
            let mut after = real.listing();
            if category == "DuplicateName" {
                // TF has consumed the uniquified name that collided; nothing else changes.
                after.names_in_use = before.names_in_use;
            }
            prop_assert_eq!(
                after,
                before,
                "failed op {} ({:?}) changed the registry",
                i,
                op
            );
        }
        if let Out::Var {
            name,
            which: Which::New(_),
            ..
        }
        | Out::OpName(name) = &got
        {
            prop_assert!(
                op_names.insert(name.clone()),
                "op name {} handed out twice",
                name
            );
        }
        // The names the uniquifier handed out for this op (the model knows which those
        // were) were never handed out before.
        if model.handed_out.len() > handed_before && !matches!(got, Out::Error(_)) {
            let fresh = match &got {
                Out::NameScope(s) => s.trim_end_matches('/').to_owned(),
                Out::Scope {
                    current_name_scope, ..
                } => current_name_scope.clone(),
                Out::Var { name, .. } | Out::OpName(name) => name.clone(),
                other => return Err(TestCaseError::fail(format!("unexpected {other:?}"))),
            };
            prop_assert!(
                uniquified.insert(fresh.to_lowercase()),
                "uniquifier handed out {} twice",
                fresh
            );
        }
        prop_assert_eq!(
            real.reg.names_in_use(),
            model.names_in_use.len(),
            "names in use after op {}",
            i
        );
        prop_assert_eq!(real.reg.len(), model.vars.len());
    }
    // Leave the scopes innermost first, then check the final listing once more.
    while real.guards.pop().is_some() {}
    prop_assert_eq!(real.reg.current_name_scope(), "");
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_iters: 10_000,
        // Failures are reported with their minimal script; no regression files are kept.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(6_000))]

    /// Registry and model agree on every op of every script, and the invariants hold.
    #[test]
    fn registry_matches_the_model(script in proptest::collection::vec(op(), 1..=16)) {
        check_script(&script)?;
    }
}

proptest! {
    #![proptest_config(config(4_000))]

    /// The same, on scripts dense in scope entries and exits.
    #[test]
    fn scope_stacks_match_the_model(script in proptest::collection::vec(scope_op(), 1..=20)) {
        check_script(&script)?;
    }
}

/// A few scripts written out, so that the model itself is checked against known TF answers.
#[test]
fn model_knows_tf_basics() {
    let mut m = Model::new();
    let ns = |name| Op::NameScope {
        name: Some(name),
        default: None,
    };
    assert_eq!(m.apply(&ns("a")), Out::NameScope("a/".into()));
    m.apply(&Op::Exit);
    assert_eq!(m.apply(&ns("A")), Out::NameScope("A_1/".into()));
    let v = m.apply(&Op::Variable {
        name: Some("a_1"),
        trainable: true,
    });
    assert!(matches!(v, Out::Var { ref name, .. } if name == "A_1/a_1"));
    m.apply(&Op::Exit);
    assert_eq!(m.apply(&ns("a_1/")), Out::NameScope("a_1/".into()));
    // `A_1/a_1` above took `a_1/a_1`, case-insensitively.
    assert_eq!(m.apply(&ns("a_1")), Out::NameScope("a_1/a_1_1/".into()));
    let c = m.apply(&Op::Constant { name: "a" });
    assert_eq!(c, Out::OpName("a_1/a_1_1/a".into()));
    check_script(&[
        ns("a"),
        Op::Exit,
        Op::VariableScope {
            name: Some("a"),
            default: None,
            reuse: None,
            aux: true,
            dtype: None,
            capture: true,
        },
        Op::GetVariable {
            name: "w",
            shape: Some(vec![1]),
            dtype: None,
            zeros: false,
        },
        Op::ReuseVariables { which: None },
        Op::GetVariable {
            name: "w",
            shape: None,
            dtype: None,
            zeros: false,
        },
    ])
    .expect("hand-written script");
}
