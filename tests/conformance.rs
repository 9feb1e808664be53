//! Replays TensorFlow-verified naming/sharing cases through the public API: the corpus
//! `tests/data/tf_cases_visible.json` and the project's own probes
//! `tests/data/scope_cases_extra.json` and `tests/data/scope_cases_random.json` (random
//! scripts from `gen_random_cases.py`), `tests/data/scope_cases_getters.json` (custom
//! getters, regularizers, constraints, collections and templates, drafted by
//! `gen_getter_cases.py`), all recorded from TF 2.21 (format in
//! `tests/data/FORMAT.md`; `replay_tf.py` there re-checks them against TF).
//!
//! Set `SCOPE_CONFORMANCE_CASES=/path/to/cases.json` to replay another file of the same format.

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use serde_json::{json, Value};

use scope::optim::{Adam, Optimizer, Sgd};
use scope::tape::Tape;
use scope::{
    Constraint, CustomGetter, DType, Error, GetterArgs, Initializer, NameScopeGuard, Registry,
    Regularizer, Reuse, Template, Tensor, VarSpec, Variable, VariableOptions, VariableScope,
    VariableScopeGuard,
};

/// A template's function in the replay: it runs the ops of the `template_call` body.
type Body = fn((&mut Replay, &[Value])) -> Result<(), Error>;

/// Cases whose expectations come from TF's graph-op internals rather than its naming rules:
/// `(case id, reason)`. Empty while every case passes; an entry here is counted as skipped.
const SKIPS: &[(&str, &str)] = &[];

enum Open {
    Name(#[allow(dead_code)] NameScopeGuard),
    Var(#[allow(dead_code)] VariableScopeGuard),
}

struct Replay {
    reg: Registry,
    open: Vec<Open>,
    refs: HashMap<String, VariableScope>,
    vars: HashMap<String, Variable>,
    all: Vec<Variable>,
    templates: HashMap<String, Rc<Template<Body>>>,
    /// Mismatches of the ops run inside a template call.
    body_errs: Vec<String>,
}

fn main() {
    // The vendored TF corpus plus the project's own TF-recorded probes, or the one file named
    // by SCOPE_CONFORMANCE_CASES.
    let paths: Vec<PathBuf> = match std::env::var_os("SCOPE_CONFORMANCE_CASES") {
        Some(path) => vec![PathBuf::from(path)],
        None => [
            "tf_cases_visible.json",
            "scope_cases_extra.json",
            "scope_cases_random.json",
            "scope_cases_getters.json",
        ]
        .iter()
        .map(|f| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(f)
        })
        .collect(),
    };
    let mut cases = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let file: Value = serde_json::from_str(&text).expect("case file is JSON");
        cases.extend(
            file["cases"]
                .as_array()
                .expect("`cases` is a list")
                .iter()
                .cloned(),
        );
    }

    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        if let Some((_, reason)) = SKIPS.iter().find(|(s, _)| *s == id) {
            println!("skip {id}: {reason}");
            skipped += 1;
            continue;
        }
        // Each case runs on its own thread: scope stacks are per thread, like TF's.
        let case = case.clone();
        let result = std::thread::spawn(move || run_case(&case))
            .join()
            .unwrap_or_else(|_| Err("panicked".to_owned()));
        match result {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {id}: {why}");
            }
        }
    }
    println!("conformance: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(failed, 0, "{failed} conformance case(s) failed");
    assert!(passed > 0, "no case ran");
}

fn run_case(case: &Value) -> Result<(), String> {
    let mut r = Replay {
        reg: Registry::with_seed(0),
        open: Vec::new(),
        refs: HashMap::new(),
        vars: HashMap::new(),
        all: Vec::new(),
        templates: HashMap::new(),
        body_errs: Vec::new(),
    };
    for (i, op) in case["ops"].as_array().ok_or("no ops")?.iter().enumerate() {
        r.step(op)
            .map_err(|e| format!("op {i} ({}): {e}", op["op"]))?;
    }
    while r.open.pop().is_some() {}
    Ok(())
}

impl Replay {
    fn step(&mut self, op: &Value) -> Result<(), String> {
        let expect = &op["expect"];
        match op["op"].as_str().ok_or("op without name")? {
            "exit" => {
                self.open.pop().ok_or("exit with no open scope")?;
                Ok(())
            }
            "name_scope" => {
                let mut b = self.reg.name_scope(op["name"].as_str());
                if let Some(d) = op["default_name"].as_str() {
                    b = b.default_name(d);
                }
                match b.enter() {
                    Ok(g) => {
                        let got = json!({"scope": &*g});
                        self.open.push(Open::Name(g));
                        compare(expect, &got)
                    }
                    Err(e) => expect_error(expect, &e),
                }
            }
            "variable_scope" | "variable_scope_reenter" => {
                let mut b = if op["op"] == "variable_scope" {
                    self.reg.variable_scope(op["name"].as_str())
                } else {
                    let s = self.scope_ref(&op["ref"])?;
                    self.reg.variable_scope(&s)
                };
                if let Some(d) = op["default_name"].as_str() {
                    b = b.default_name(d);
                }
                match &op["reuse"] {
                    Value::Bool(v) => b = b.reuse(*v),
                    Value::String(s) if s == "auto" => b = b.reuse(Reuse::Auto),
                    Value::Null => {}
                    other => return Err(format!("unknown reuse {other}")),
                }
                if !op["initializer"].is_null() {
                    b = b.initializer(initializer(&op["initializer"])?);
                }
                if let Some(d) = op["dtype"].as_str() {
                    b = b.dtype(dtype(d)?);
                }
                if let Some(aux) = op["auxiliary_name_scope"].as_bool() {
                    b = b.auxiliary_name_scope(aux);
                }
                if !op["custom_getter"].is_null() {
                    b = b.custom_getter(self.getter(&op["custom_getter"])?);
                }
                if !op["regularizer"].is_null() {
                    match regularizer(&op["regularizer"])? {
                        Ok(r) => b = b.regularizer(r),
                        Err(e) => return expect_error(expect, &e),
                    }
                }
                if !op["constraint"].is_null() {
                    b = b.constraint(constraint(&op["constraint"])?);
                }
                match b.enter() {
                    Ok(g) => {
                        if let Some(c) = op["capture"].as_str() {
                            self.refs.insert(c.to_owned(), g.scope().clone());
                        }
                        let got = self.scope_record(g.scope());
                        self.open.push(Open::Var(g));
                        compare(expect, &got)
                    }
                    Err(e) => expect_error(expect, &e),
                }
            }
            "reuse_variables" => {
                match op["ref"].as_str() {
                    Some(_) => self.scope_ref(&op["ref"])?.reuse_variables(),
                    None => self.reg.reuse_variables(),
                }
                Ok(())
            }
            "get_variable_scope" => {
                let s = self.reg.current_variable_scope();
                if let Some(c) = op["capture"].as_str() {
                    self.refs.insert(c.to_owned(), s.clone());
                }
                compare(expect, &self.scope_record(&s))
            }
            "current_name_scope" => compare(expect, &json!(self.reg.current_name_scope())),
            "constant" => match self.reg.new_op_name(op["name"].as_str().unwrap_or("Const")) {
                Ok(name) => compare(
                    expect,
                    &json!({"name": name, "tensor": format!("{name}:0")}),
                ),
                Err(e) => expect_error(expect, &e),
            },
            "get_variable" => {
                let mut spec = VarSpec::new();
                if let Some(shape) = op["shape"].as_array() {
                    let dims: Vec<usize> = shape
                        .iter()
                        .filter_map(Value::as_u64)
                        .map(|d| d as usize)
                        .collect();
                    spec = spec.shape(dims);
                }
                if let Some(d) = op["dtype"].as_str() {
                    spec = spec.dtype(dtype(d)?);
                }
                if !op["initializer"].is_null() {
                    spec = spec.initializer(initializer(&op["initializer"])?);
                }
                if let Some(t) = op["trainable"].as_bool() {
                    spec = spec.trainable(t);
                }
                if !op["custom_getter"].is_null() {
                    spec = spec.custom_getter(self.getter(&op["custom_getter"])?);
                }
                if !op["regularizer"].is_null() {
                    match regularizer(&op["regularizer"])? {
                        Ok(r) => spec = spec.regularizer(r),
                        Err(e) => return expect_error(expect, &e),
                    }
                }
                if !op["constraint"].is_null() {
                    spec = spec.constraint(constraint(&op["constraint"])?);
                }
                if let Some(keys) = op["collections"].as_array() {
                    spec = spec.collections(keys.iter().filter_map(Value::as_str));
                }
                let name = op["name"].as_str().ok_or("get_variable without name")?;
                let result = self.reg.get_variable(name, spec);
                self.check_variable(op, result)
            }
            "variable" => {
                let dt = op["dtype"].as_str().map(dtype).transpose()?;
                let value = literal(&op["init"])?;
                let options = VariableOptions {
                    name: op["name"].as_str().map(str::to_owned),
                    dtype: dt,
                    trainable: op["trainable"].as_bool(),
                };
                let result = Variable::new_with(&self.reg, value, options);
                self.check_variable(op, result)
            }
            "list_trainable" | "list_global" => {
                let which = if op["op"] == "list_trainable" {
                    scope::Collection::Trainable
                } else {
                    scope::Collection::Global
                };
                let names: Vec<String> = self
                    .reg
                    .collection(which, op["scope"].as_str())
                    .iter()
                    .map(|v| v.name().to_owned())
                    .collect();
                compare(expect, &json!(names))
            }
            "get_collection" => {
                let key = op["key"].as_str().ok_or("get_collection without key")?;
                if key == scope::keys::REGULARIZATION_LOSSES {
                    // The losses are not variables: listed by `regularization_losses`.
                    return match self.reg.regularization_losses(op["scope"].as_str()) {
                        Ok(losses) => {
                            let names: Vec<&str> = losses.iter().map(|l| l.name()).collect();
                            compare(expect, &json!(names))
                        }
                        Err(e) => expect_error(expect, &e),
                    };
                }
                match self.reg.get_collection(key, op["scope"].as_str()) {
                    Ok(vars) => {
                        let names: Vec<&str> = vars.iter().map(Variable::name).collect();
                        compare(expect, &json!(names))
                    }
                    Err(e) => expect_error(expect, &e),
                }
            }
            "regularization_losses" => {
                let losses = self
                    .reg
                    .regularization_losses(op["scope"].as_str())
                    .map_err(|e| e.to_string())?;
                let want = expect.as_array().ok_or("expect is not a list")?;
                let names: Vec<&str> = losses.iter().map(|l| l.name()).collect();
                let want_names: Vec<&str> =
                    want.iter().filter_map(|w| w["name"].as_str()).collect();
                if names != want_names {
                    return Err(format!("losses {names:?}, expected {want_names:?}"));
                }
                for (l, w) in losses.iter().zip(want) {
                    close(l.value(), &w["value"])?;
                }
                Ok(())
            }
            "regularization_loss" => {
                let total = self
                    .reg
                    .regularization_loss(op["scope"].as_str())
                    .map_err(|e| e.to_string())?;
                close(total, &expect["value"])
            }
            "make_template" => {
                let name = op["name"].as_str().ok_or("make_template without name")?;
                let body: Body = run_body;
                let template = if op["create_scope_now"].as_bool() == Some(true) {
                    match self.reg.make_template_now(name, body) {
                        Ok(t) => t,
                        Err(e) => return expect_error(expect, &e),
                    }
                } else {
                    self.reg.make_template(name, body)
                };
                let template = match op["custom_getter"].is_null() {
                    true => template,
                    false => template.custom_getter(self.getter(&op["custom_getter"])?),
                };
                let got = json!({"scope": template.variable_scope().map(|s| s.name().to_owned())});
                let key = op["capture"]
                    .as_str()
                    .ok_or("make_template without capture")?;
                self.templates.insert(key.to_owned(), Rc::new(template));
                compare(expect, &got)
            }
            "template_call" => {
                let key = op["ref"].as_str().ok_or("template_call without ref")?;
                let template = self
                    .templates
                    .get(key)
                    .cloned()
                    .ok_or_else(|| format!("no template {key}"))?;
                let body = op["body"].as_array().cloned().unwrap_or_default();
                let result = template.call((&mut *self, body.as_slice()));
                let errs = std::mem::take(&mut self.body_errs);
                if !errs.is_empty() {
                    return Err(format!("template body: {}", errs.join("; ")));
                }
                match result {
                    Ok(()) => compare(
                        expect,
                        &json!({"scope": template.variable_scope().map(|s| s.name().to_owned())}),
                    ),
                    Err(e) => expect_error(expect, &e),
                }
            }
            "optimizer_step" => self.optimizer_step(op),
            other => Err(format!("unknown op {other}")),
        }
    }

    /// A custom getter from the corpus vocabulary (FORMAT.md).
    fn getter(&self, spec: &Value) -> Result<CustomGetter, String> {
        if let Some(map) = spec["rename"].as_object() {
            let pairs: Vec<(&str, &str)> = map
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect();
            return Ok(CustomGetter::rename(pairs));
        }
        if let Some(sfx) = spec["suffix"].as_str() {
            let sfx = sfx.to_owned();
            return Ok(CustomGetter::new(
                "suffix",
                move |mut a: GetterArgs, next| {
                    a.name.push_str(&sfx);
                    next(a)
                },
            ));
        }
        if let Some(pfx) = spec["prefix"].as_str() {
            let pfx = pfx.to_owned();
            return Ok(CustomGetter::new(
                "prefix",
                move |mut a: GetterArgs, next| {
                    a.name.insert_str(0, &pfx);
                    next(a)
                },
            ));
        }
        if let Some(id) = spec["return_existing"].as_str() {
            let var = self
                .vars
                .get(id)
                .cloned()
                .ok_or_else(|| format!("unknown id {id}"))?;
            return Ok(CustomGetter::new("return_existing", move |_, _| {
                Ok(var.clone())
            }));
        }
        if spec.get("untrainable").is_some() {
            return Ok(CustomGetter::new(
                "untrainable",
                |mut a: GetterArgs, next| {
                    a.spec.trainable = Some(false);
                    next(a)
                },
            ));
        }
        Err(format!("unknown getter {spec}"))
    }

    /// One or more optimizer steps on `sum(coef * v)` over `vars`, then their values.
    fn optimizer_step(&mut self, op: &Value) -> Result<(), String> {
        let ids: Vec<&str> = op["vars"]
            .as_array()
            .ok_or("optimizer_step without vars")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let vars: Vec<Variable> = ids
            .iter()
            .map(|id| {
                self.vars
                    .get(*id)
                    .cloned()
                    .ok_or(format!("unknown id {id}"))
            })
            .collect::<Result<_, _>>()?;
        let lr = op["lr"].as_f64().ok_or("optimizer_step without lr")? as f32;
        let coef = op["coef"].as_f64().unwrap_or(1.0) as f32;
        let mut opt: Box<dyn Optimizer> = match op["optimizer"].as_str() {
            Some("sgd") => Box::new(Sgd::new(lr)),
            Some("adam") => Box::new(Adam::new(&self.reg, lr, &vars).map_err(|e| e.to_string())?),
            other => return Err(format!("unknown optimizer {other:?}")),
        };
        for _ in 0..op["steps"].as_u64().unwrap_or(1) {
            let mut tape = Tape::<f32>::new();
            let mut loss = None;
            for var in &vars {
                let node = tape.variable(var).map_err(|e| e.to_string())?;
                let c = tape.constant(ndarray::ArrayD::from_elem(var.shape(), coef));
                let term = tape.mul(node, c).map_err(|e| e.to_string())?;
                let term = tape.sum_all(term).map_err(|e| e.to_string())?;
                loss = Some(match loss {
                    None => term,
                    Some(l) => tape.add(l, term).map_err(|e| e.to_string())?,
                });
            }
            let loss = loss.ok_or("no variables")?;
            opt.minimize(&tape, loss).map_err(|e| e.to_string())?;
        }
        for (id, var) in ids.iter().zip(&vars) {
            let want = flatten(&op["expect"]["values"][*id]);
            let got = var.value().to_f64_vec();
            let ok = want.len() == got.len()
                && want
                    .iter()
                    .zip(&got)
                    .all(|(w, g)| (w - g).abs() <= 1e-5 * w.abs().max(1.0));
            if !ok {
                return Err(format!("{id}: values {got:?}, expected {want:?}"));
            }
        }
        Ok(())
    }

    fn scope_ref(&self, r: &Value) -> Result<VariableScope, String> {
        let key = r.as_str().ok_or("ref is not a string")?;
        self.refs
            .get(key)
            .cloned()
            .ok_or_else(|| format!("no captured scope {key}"))
    }

    fn scope_record(&self, s: &VariableScope) -> Value {
        let reuse = match s.reuse() {
            Reuse::No => json!(false),
            Reuse::Yes => json!(true),
            Reuse::Auto => json!("auto"),
        };
        json!({
            "name": s.name(),
            "original_name_scope": s.original_name_scope(),
            "reuse": reuse,
            "current_name_scope": self.reg.current_name_scope(),
        })
    }

    fn check_variable(
        &mut self,
        op: &Value,
        result: Result<Variable, Error>,
    ) -> Result<(), String> {
        let expect = &op["expect"];
        let var = match result {
            Ok(v) => v,
            Err(e) => return expect_error(expect, &e),
        };
        if expect.get("error").is_some() {
            return Err(format!(
                "expected {}, got variable {}",
                expect["error"],
                var.name()
            ));
        }
        let got = json!({
            "name": var.name(),
            "tensor": var.tensor_name(),
            "dtype": var.dtype().name(),
            "shape": var.shape(),
        });
        compare(expect, &got)?;
        match op["same_as"].as_str() {
            Some(other) => {
                let want = self
                    .vars
                    .get(other)
                    .ok_or_else(|| format!("unknown id {other}"))?;
                if !var.ptr_eq(want) {
                    return Err(format!("expected the same variable as {other}"));
                }
            }
            None => {
                if self.all.iter().any(|v| v.ptr_eq(&var)) {
                    return Err("expected a new variable, got an earlier one".into());
                }
            }
        }
        if let Some(want) = op.get("expect_value") {
            let want = flatten(want);
            let got = var.value().to_f64_vec();
            let close = want.len() == got.len()
                && want
                    .iter()
                    .zip(&got)
                    .all(|(w, g)| (w - g).abs() <= 1e-6 * w.abs().max(1.0));
            if !close {
                return Err(format!("value {got:?}, expected {want:?}"));
            }
        }
        if let Some(id) = op["id"].as_str() {
            self.vars.insert(id.to_owned(), var.clone());
        }
        self.all.push(var);
        Ok(())
    }
}

fn compare(expect: &Value, got: &Value) -> Result<(), String> {
    if let Some(err) = expect.get("error") {
        return Err(format!("expected error {err}, got {got}"));
    }
    // Every expected field must match; `got` may carry more.
    let ok = match (expect, got) {
        (Value::Object(e), Value::Object(g)) => e.iter().all(|(k, v)| g.get(k) == Some(v)),
        (e, g) => e == g,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect}, got {got}"))
    }
}

/// A template's function: runs its body ops, noting their mismatches.
fn run_body((r, body): (&mut Replay, &[Value])) -> Result<(), Error> {
    for (j, op) in body.iter().enumerate() {
        if let Err(e) = r.step(op) {
            r.body_errs.push(format!("body op {j} ({}): {e}", op["op"]));
        }
    }
    Ok(())
}

fn close(got: f64, want: &Value) -> Result<(), String> {
    let w = want.as_f64().ok_or("expected value is not a number")?;
    if (got - w).abs() <= 1e-5 * w.abs().max(1.0) {
        Ok(())
    } else {
        Err(format!("value {got}, expected {w}"))
    }
}

/// A regularizer from the corpus vocabulary; the inner error is the regularizer's own.
fn regularizer(spec: &Value) -> Result<Result<Regularizer, Error>, String> {
    let num = |v: &Value| v.as_f64().ok_or(format!("bad scale {v}"));
    if let Some(s) = spec.get("l1") {
        return Ok(Regularizer::l1(num(s)?));
    }
    if let Some(s) = spec.get("l2") {
        return Ok(Regularizer::l2(num(s)?));
    }
    if let Some(s) = spec.get("l1_l2") {
        return Ok(Regularizer::l1_l2(num(&s[0])?, num(&s[1])?));
    }
    Err(format!("unknown regularizer {spec}"))
}

fn constraint(spec: &Value) -> Result<Constraint, String> {
    let num = |v: &Value| v.as_f64().map(|x| x as f32).ok_or(format!("bad bound {v}"));
    if spec.get("non_neg").is_some() {
        return Ok(Constraint::non_neg());
    }
    if let Some(b) = spec.get("clip_by_value") {
        return Ok(Constraint::clip_by_value(num(&b[0])?, num(&b[1])?));
    }
    if let Some(m) = spec.get("clip_by_norm") {
        return Ok(Constraint::clip_by_norm(num(m)?));
    }
    Err(format!("unknown constraint {spec}"))
}

/// The corpus category and Python class of an error.
fn category(e: &Error) -> (&'static str, &'static str) {
    match e {
        Error::AlreadyExists { .. } => ("AlreadyExists", "ValueError"),
        Error::NotFound { .. } => ("NotFound", "ValueError"),
        Error::ShapeMismatch { .. } => ("ShapeMismatch", "ValueError"),
        Error::DtypeMismatch { .. } => ("DtypeMismatch", "ValueError"),
        Error::MissingShape { .. } => ("MissingShape", "ValueError"),
        // TF's classifier captures the name with `(.*)`, which cannot cross a newline.
        Error::InvalidName { name, .. } if name.contains('\n') => ("Other", "ValueError"),
        Error::InvalidName { .. } => ("InvalidName", "ValueError"),
        Error::InitializerType { .. } => ("Other", "TypeError"),
        Error::InitializerNeedsShape { .. } => ("Other", "ValueError"),
        Error::ConstantInitializerWithShape { .. } => {
            ("ConstantInitializerWithShape", "ValueError")
        }
        Error::InitializerDtypeMismatch { .. } => ("InitializerDtypeMismatch", "ValueError"),
        Error::ReuseWithoutName => ("ReuseWithoutName", "ValueError"),
        Error::MissingScopeName => ("MissingScopeName", "TypeError"),
        Error::DuplicateName { .. } => ("DuplicateName", "ValueError"),
        Error::RegularizerDtype { .. } => ("Other", "TypeError"),
        Error::RegularizerScale { .. } => ("RegularizerScale", "ValueError"),
        Error::TemplateCreated { .. } => ("TemplateCreated", "ValueError"),
        _ => ("Other", "ValueError"),
    }
}

fn expect_error(expect: &Value, e: &Error) -> Result<(), String> {
    let Some(want) = expect.get("error").and_then(Value::as_str) else {
        return Err(format!("unexpected error: {e}"));
    };
    let (cat, class) = category(e);
    let msg = e.to_string();
    if cat != want {
        return Err(format!("expected {want}, got {cat}: {msg}"));
    }
    if let Some(c) = expect["error_class"].as_str() {
        if c != class {
            return Err(format!("expected class {c}, got {class}"));
        }
    }
    if let Some(sub) = expect["message_contains"].as_str() {
        if !msg.contains(sub) {
            return Err(format!("message {msg:?} lacks {sub:?}"));
        }
    }
    Ok(())
}

fn dtype(name: &str) -> Result<DType, String> {
    name.parse().map_err(|e: Error| e.to_string())
}

fn initializer(spec: &Value) -> Result<Initializer, String> {
    // TF distinguishes Python ints, floats and bools here (a float refuses an int variable).
    match spec.get("constant") {
        Some(Value::Bool(b)) => return Ok(Initializer::ConstantBool(*b)),
        Some(x) if x.is_i64() => return Ok(Initializer::ConstantInt(x.as_i64().unwrap_or(0))),
        Some(x) => {
            let v = x.as_f64().ok_or("constant is not a number")?;
            return Ok(Initializer::Constant(v));
        }
        None => {}
    }
    if spec.get("zeros").is_some() {
        return Ok(Initializer::Zeros);
    }
    if spec.get("ones").is_some() {
        return Ok(Initializer::Ones);
    }
    if let Some(v) = spec.get("value") {
        return Ok(Initializer::Value(literal(v)?));
    }
    Err(format!("unknown initializer {spec}"))
}

fn flatten(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flatten).collect(),
        Value::Bool(b) => vec![f64::from(u8::from(*b))],
        other => vec![other.as_f64().unwrap_or(f64::NAN)],
    }
}

/// A JSON literal as TF converts a Python value: floats to float32, ints to int32 (int64 when
/// one does not fit), bools to bool. An explicit dtype is applied by the registry.
fn literal(v: &Value) -> Result<Tensor, String> {
    fn shape_of(v: &Value, shape: &mut Vec<usize>) {
        if let Value::Array(items) = v {
            shape.push(items.len());
            if let Some(first) = items.first() {
                shape_of(first, shape);
            }
        }
    }
    fn any(v: &Value, f: &dyn Fn(&Value) -> bool) -> bool {
        match v {
            Value::Array(items) => items.iter().any(|i| any(i, f)),
            other => f(other),
        }
    }
    let mut shape = Vec::new();
    shape_of(v, &mut shape);
    let values = flatten(v);
    let inferred = if any(v, &Value::is_boolean) {
        DType::Bool
    } else if any(v, &|x| x.is_f64()) {
        DType::F32
    } else if any(v, &|x| x.as_i64().is_none_or(|i| i32::try_from(i).is_err())) {
        DType::I64
    } else {
        DType::I32
    };
    let t = Tensor::from_f64(&shape, values).map_err(|e| e.to_string())?;
    t.cast(inferred).map_err(|e| e.to_string())
}
