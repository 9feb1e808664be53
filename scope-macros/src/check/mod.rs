//! Checks that need more than one attribute at a time: names against TF's regexes, duplicate
//! names in one scope, variables that cannot get a shape, names the generated code needs,
//! argument types `Model::Args` cannot hold.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::Type;

use crate::ast::{
    fields, tokens_text, unraw, InitKind, Item, ModelDef, ModelField, Number, RepeatPattern,
    Source, VarDecl,
};
use crate::ctxt::Ctxt;
use crate::names::{is_valid, Context};

/// Runs every check on `def`, recording what is wrong in `cx`.
pub(crate) fn check(def: &ModelDef, cx: &Ctxt) {
    let scope_path = match &def.scope {
        Some(lit) => {
            let name = lit.value();
            if let Some(problem) = scope_problem("scope", &name, Context::Root) {
                cx.error_spanned_by(lit, problem);
            }
            name
        }
        None => unraw(&def.ident),
    };
    check_derives(def, cx);
    check_args(def, cx);
    check_kept(def, cx);
    check_scope(&def.items, &scope_path, "", &mut HashMap::new(), cx);
    check_fields(&def.items, matches!(def.source, Source::Dsl), cx);
}

/// `Debug` is generated (it shows the scope and every variable), so deriving it clashes.
fn check_derives(def: &ModelDef, cx: &Ctxt) {
    for path in derived_debug(def) {
        cx.error_spanned_by(
            &path,
            "`Debug` is generated for models (it shows the scope and every variable); \
             remove it from the derive",
        );
    }
}

/// The `Debug` paths in the model's `#[derive(..)]` lists. A derive list that does not parse
/// is left for rustc to report.
pub(crate) fn derived_debug(def: &ModelDef) -> Vec<syn::Path> {
    let mut out = Vec::new();
    for attr in def.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        );
        for path in paths.into_iter().flatten() {
            if path.segments.last().is_some_and(|s| s.ident == "Debug") {
                out.push(path);
            }
        }
    }
    out
}

/// What is wrong with the scope name `name` (a model's scope, a sub-scope, a nested model's
/// scope or default name, a repeated model's first element), if anything: TF's regex, and no
/// empty component (`c//d`, `/c`, `c/`), which TF lets through but would make names that the
/// checkpoint tools (`import`) refuse.
fn scope_problem(what: &str, name: &str, context: Context) -> Option<String> {
    if !is_valid(name, context) {
        return Some(invalid_name(what, name, context));
    }
    name.split('/').any(str::is_empty).then(|| {
        format!(
            "'{name}' is not a valid {what} name: a `/` separates scopes, so a name cannot start \
             or end with one or hold two in a row; write `{}`",
            name.split('/')
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        )
    })
}

fn invalid_name(what: &str, name: &str, context: Context) -> String {
    if name.is_empty() {
        return format!("the {what} name cannot be empty");
    }
    let kind = match context {
        Context::Root => "root scope",
        Context::Nested => "scope",
    };
    format!(
        "'{name}' is not a valid {what} name: TensorFlow requires a {kind} name to match {}",
        context.pattern()
    )
}

/// Argument names are bound as locals next to the fields and the `reg` parameter.
fn check_args(def: &ModelDef, cx: &Ctxt) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    for arg in &def.args {
        let name = unraw(&arg.ident);
        if name == "reg" || name.starts_with("__scope") {
            cx.error_spanned_by(
                &arg.ident,
                format!("`{name}` is reserved for the generated constructor; rename the argument"),
            );
        }
        if seen.insert(name.clone(), arg.ident.span()).is_some() {
            cx.error_spanned_by(&arg.ident, format!("duplicate argument `{name}`"));
        }
        if let Some(problem) = unstorable(&arg.ty) {
            cx.error_spanned_by(&problem.tokens, problem.message(&name));
        }
    }
    for field in fields(&def.items) {
        if seen.contains_key(&unraw(field)) {
            cx.error_spanned_by(
                field,
                format!(
                    "field `{field}` has the name of a constructor argument, which it would shadow; \
                     rename one of them"
                ),
            );
        }
    }
}

/// Every `#[keep]` names a constructor argument, once.
fn check_kept(def: &ModelDef, cx: &Ctxt) {
    let mut seen: Vec<String> = Vec::new();
    for kept in &def.kept {
        let name = unraw(&kept.ident);
        if seen.contains(&name) {
            cx.error_spanned_by(&kept.ident, format!("`{name}` is kept twice; keep it once"));
            continue;
        }
        seen.push(name.clone());
        if !def.args.iter().any(|a| unraw(&a.ident) == name) {
            let args: Vec<String> = def.args.iter().map(|a| format!("`{}`", a.ident)).collect();
            let have = if args.is_empty() {
                "the model takes none".to_owned()
            } else {
                format!("the model takes {}", args.join(", "))
            };
            cx.error_spanned_by(
                &kept.ident,
                format!(
                    "`#[keep]` keeps a constructor argument as a field, and there is no argument \
                     `{name}` ({have}): declare it in the header, e.g. `(\"scope\", {name}: \
                     Config)`"
                ),
            );
        }
    }
}

/// The part of a constructor argument's type that `Model::Args` cannot hold, and why.
pub(crate) struct Unstorable {
    /// The offending tokens (`&Config`, `'a`, `impl Fn()`), for the error's span.
    pub(crate) tokens: TokenStream,
    kind: UnstorableKind,
}

enum UnstorableKind {
    /// A reference: the whole type, whose referent is kept for the fix (`&Config`), or a part
    /// of it (`Vec<&str>`).
    Borrow { referent: Option<Box<Type>> },
    /// A lifetime other than `'static` (`Config<'a>`, `Cow<'_, str>`).
    Lifetime,
    /// `impl Trait`.
    ImplTrait,
    /// `_`.
    Infer,
    /// A type without a size (`dyn Fn() -> usize`, `[f32]`, `str`), which no argument can have.
    Unsized,
}

impl Unstorable {
    /// Whether the type is still valid as a parameter of `new` (`&Config`, `impl Fn()`,
    /// `Cow<'_, str>`), unlike a lifetime that is not declared anywhere or `_`.
    pub(crate) fn fits_a_parameter(&self) -> bool {
        match self.kind {
            UnstorableKind::Borrow { .. } | UnstorableKind::ImplTrait => true,
            UnstorableKind::Lifetime => self.tokens.to_string().replace(' ', "") == "'_",
            UnstorableKind::Infer | UnstorableKind::Unsized => false,
        }
    }

    fn message(&self, name: &str) -> String {
        const WHY: &str = "constructor arguments are stored in `Model::Args`, which cannot hold \
                           a borrow";
        match &self.kind {
            UnstorableKind::Borrow {
                referent: Some(referent),
            } => {
                let (owned, hint) = match &**referent {
                    Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
                        ("String".to_owned(), "")
                    }
                    Type::Slice(s) => (format!("Vec<{}>", type_text(&s.elem)), ""),
                    elem => (
                        type_text(elem),
                        " (derive `Clone` or `Copy` on it to keep using it after the call)",
                    ),
                };
                format!("{WHY}: pass `{name}` by value, e.g. `{name}: {owned}`{hint}")
            }
            UnstorableKind::Borrow { referent: None } | UnstorableKind::Lifetime => {
                format!("{WHY}: give `{name}` a type that owns its data (or borrows for `'static`)")
            }
            UnstorableKind::ImplTrait => format!(
                "constructor arguments are stored in `Model::Args`, which cannot name an `impl \
                 Trait` type: give `{name}` a concrete type (or `Box<dyn ..>`)"
            ),
            UnstorableKind::Infer => format!(
                "constructor arguments are stored in `Model::Args`: write out `{name}`'s type"
            ),
            UnstorableKind::Unsized => {
                let ty = self.tokens.to_string().replace(' ', "");
                let owned = match ty.as_str() {
                    "str" => "String".to_owned(),
                    _ if ty.starts_with('[') => {
                        format!("Vec<{}>", ty.trim_start_matches('[').trim_end_matches(']'))
                    }
                    _ => format!("Box<{}>", tokens_text(&self.tokens)),
                };
                format!(
                    "`{name}` has no size known at compile time, so no argument can have its type: \
                     pass it owned, e.g. `{name}: {owned}`"
                )
            }
        }
    }
}

fn type_text(ty: &Type) -> String {
    tokens_text(&ty.to_token_stream())
}

/// Why `ty` cannot be a field of the model's `Args` tuple: the model struct has no lifetime
/// parameter, so `Args` must be `'static`, sized and fully written out.
pub(crate) fn unstorable(ty: &Type) -> Option<Unstorable> {
    unsized_type(ty).or_else(|| unstorable_part(ty))
}

/// `dyn Trait`, `[T]` or `str` as a whole argument type (behind a `Box` they are fine).
fn unsized_type(ty: &Type) -> Option<Unstorable> {
    let is_unsized = match ty {
        Type::Group(g) => return unsized_type(&g.elem),
        Type::Paren(p) => return unsized_type(&p.elem),
        Type::TraitObject(_) | Type::Slice(_) => true,
        Type::Path(p) => p.qself.is_none() && p.path.is_ident("str"),
        _ => false,
    };
    is_unsized.then(|| Unstorable {
        tokens: ty.to_token_stream(),
        kind: UnstorableKind::Unsized,
    })
}

/// As [`unstorable`], for what `Args` cannot hold whatever its size.
fn unstorable_part(ty: &Type) -> Option<Unstorable> {
    match ty {
        Type::Reference(r) if r.lifetime.as_ref().is_some_and(|l| l.ident == "static") => {
            nested(&r.elem)
        }
        Type::Reference(r) => Some(Unstorable {
            tokens: ty.to_token_stream(),
            kind: UnstorableKind::Borrow {
                referent: Some(r.elem.clone()),
            },
        }),
        Type::ImplTrait(_) => Some(Unstorable {
            tokens: ty.to_token_stream(),
            kind: UnstorableKind::ImplTrait,
        }),
        Type::Infer(_) => Some(Unstorable {
            tokens: ty.to_token_stream(),
            kind: UnstorableKind::Infer,
        }),
        Type::Array(a) => nested(&a.elem),
        Type::Slice(s) => nested(&s.elem),
        Type::Group(g) => unstorable_part(&g.elem),
        Type::Paren(p) => unstorable_part(&p.elem),
        Type::Ptr(p) => nested(&p.elem),
        Type::Tuple(t) => t.elems.iter().find_map(nested),
        Type::Path(p) => p
            .qself
            .as_ref()
            .and_then(|q| nested(&q.ty))
            .or_else(|| path_unstorable(&p.path)),
        Type::TraitObject(t) => t.bounds.iter().find_map(|bound| match bound {
            syn::TypeParamBound::Lifetime(l) => lifetime_unstorable(l),
            syn::TypeParamBound::Trait(t) => path_unstorable(&t.path),
            _ => None,
        }),
        // Function pointers' lifetimes are their own; macros are left to rustc.
        _ => None,
    }
}

/// As [`unstorable`], for a type inside another one.
fn nested(ty: &Type) -> Option<Unstorable> {
    unstorable_part(ty).map(|mut u| {
        if let UnstorableKind::Borrow { referent } = &mut u.kind {
            *referent = None;
        }
        u
    })
}

fn lifetime_unstorable(l: &syn::Lifetime) -> Option<Unstorable> {
    (l.ident != "static").then(|| Unstorable {
        tokens: l.to_token_stream(),
        kind: UnstorableKind::Lifetime,
    })
}

/// In `Config<'a, &T>`: a lifetime or a type argument. `Fn(&str) -> &str` arguments are
/// higher-ranked, so they borrow for nothing outside.
fn path_unstorable(path: &syn::Path) -> Option<Unstorable> {
    path.segments.iter().find_map(|seg| match &seg.arguments {
        syn::PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Lifetime(l) => lifetime_unstorable(l),
            syn::GenericArgument::Type(t) => nested(t),
            syn::GenericArgument::AssocType(a) => nested(&a.ty),
            _ => None,
        }),
        _ => None,
    })
}

/// The names opened or taken in one scope, to find clashes at compile time.
struct Namespace<'a> {
    path: &'a str,
    cx: &'a Ctxt,
    /// Every fixed name, by its lowercase form: as written, and what took it.
    names: HashMap<String, (String, &'static str)>,
    /// Scope patterns of repeated models: `layer_{i}` takes `layer_0`, `layer_1`, ...
    families: Vec<RepeatPattern>,
    /// TF's `default_name` counters of this scope, by sub-scope name.
    opened: HashMap<String, u32>,
}

impl<'a> Namespace<'a> {
    fn new(path: &'a str, cx: &'a Ctxt) -> Namespace<'a> {
        Namespace {
            path,
            cx,
            names: HashMap::new(),
            families: Vec::new(),
            opened: HashMap::new(),
        }
    }

    /// Takes the fixed name `name`; `opens` counts it as an opened sub-scope. Names are
    /// compared as TF's uniquifier compares them, ignoring case: a second `W` beside `w`
    /// would be renamed `w_1` without a word.
    fn claim(&mut self, name: String, span: Span, what: &'static str, opens: bool) {
        let path = self.path;
        let key = name.to_lowercase();
        if let Some((first, first_what)) = self.names.get(&key) {
            let why = if *first == name {
                String::new()
            } else {
                format!(
                    " `{first}` (TensorFlow compares names ignoring case, and would silently \
                     rename this one `{key}_1`)"
                )
            };
            self.cx.error_at(
                span,
                format!(
                    "duplicate name `{name}` in scope `{path}`: already used by a {first_what}{why}"
                ),
            );
        } else if let Some(pattern) = self.families.iter().find(|p| p.matches(&name)) {
            self.cx.error_at(
                span,
                format!(
                    "name `{name}` in scope `{path}` clashes with the repeated model `{}`, \
                     whose elements are `{}`, `{}`, ...; rename one",
                    pattern.text(),
                    pattern.name(0),
                    pattern.name(1),
                ),
            );
        } else {
            self.names.insert(key, (name.clone(), what));
        }
        if opens {
            *self.opened.entry(name).or_insert(0) += 1;
        }
    }

    /// Takes every element name of `pattern`.
    fn claim_family(&mut self, pattern: RepeatPattern, span: Span) {
        let path = self.path;
        let text = pattern.text();
        if let Some((other, name)) = self
            .families
            .iter()
            .find_map(|other| Some((other, other.overlap(&pattern)?)))
        {
            let other = other.text();
            let which = if other == text {
                format!("two repeated models in scope `{path}` both build in `{text}`")
            } else {
                format!(
                    "the repeated models `{other}` and `{text}` in scope `{path}` can both \
                     build in `{name}`"
                )
            };
            self.cx.error_at(
                span,
                format!("{which}; give one another `#[model(scope = \"..{{i}}..\")]`"),
            );
            return;
        }
        let mut taken: Vec<&String> = self
            .names
            .values()
            .map(|(name, _)| name)
            .filter(|n| pattern.matches(n))
            .collect();
        taken.sort();
        if let Some(name) = taken.first() {
            self.cx.error_at(
                span,
                format!(
                    "the repeated model `{text}` in scope `{path}` builds in `{}`, `{}`, ..., \
                     which clashes with `{name}`; rename one",
                    pattern.name(0),
                    pattern.name(1),
                ),
            );
        }
        self.families.push(pattern);
    }

    /// Takes the name a default-named model with base `base` gets: `base`, or the first free
    /// `base_<i>`, as TF's counters give it in a freshly opened scope.
    fn claim_default(&mut self, base: &str, span: Span) {
        let taken = |name: &str| self.opened.get(name).is_some_and(|&n| n > 0);
        let name = if taken(base) {
            (1..)
                .map(|i| format!("{base}_{i}"))
                .find(|n| !taken(n))
                .expect("finitely many names are taken")
        } else {
            base.to_owned()
        };
        self.claim(
            name,
            span,
            "default-named model (from the `default_name` counters)",
            true,
        );
    }
}

/// Names in one scope: valid, unique (variables, sub-scopes and nested models share the
/// namespace; a repeated model takes `prefix_<i>`; a default-named one takes the name TF's
/// counters give it), and every variable able to get a shape.
///
/// `rel` is the scope's path inside the model (`""`, `cell/`); `full` holds every variable's
/// name inside the model, by its lowercase form, with the scope it was declared in, so that a
/// `name = "cell/kernel"` beside a sub-scope `cell { kernel }` is caught.
fn check_scope(
    items: &[Item],
    path: &str,
    rel: &str,
    full: &mut HashMap<String, (String, Span)>,
    cx: &Ctxt,
) {
    let mut ns = Namespace::new(path, cx);
    // Nested models without an override build in their type's default scope.
    let mut defaults: HashMap<String, ()> = HashMap::new();
    for item in items {
        match item {
            Item::Var(var) => {
                check_var_forms(var, cx);
                check_partitioner(var, cx);
                check_init_fits_dtype(var, cx);
                if var.tied.is_some() {
                    // Names nothing in the scope: the owner's variable keeps its name.
                    continue;
                }
                let (name, span) = var.var_name();
                if !is_valid(&name, Context::Nested) {
                    let mut msg = invalid_name("variable", &name, Context::Nested);
                    if var.name.is_none() {
                        msg.push_str(
                            "; it is named after its identifier: rename it, or give \
                             `#[var(name = \"..\")]`",
                        );
                    }
                    cx.error_at(span, msg);
                }
                if name.split('/').any(str::is_empty) && !name.is_empty() {
                    cx.error_at(
                        span,
                        format!(
                            "'{name}' is not a valid variable name: a `/` separates scopes, so \
                             a name cannot start or end with one or hold two in a row"
                        ),
                    );
                }
                let full_name = format!("{rel}{name}");
                match full.get(&full_name.to_lowercase()) {
                    Some((scope, _)) if scope != rel => cx.error_at(
                        span,
                        format!(
                            "variable `{name}` in scope `{path}` is `{full_name}` in the model, \
                             which another variable already is (TensorFlow would fail with \
                             AlreadyExists at build time, or rename it if only the case \
                             differs); rename one"
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        full.insert(full_name.to_lowercase(), (rel.to_owned(), span));
                    }
                }
                ns.claim(name, span, "variable", false);
                let value = var.init.as_ref().filter(|i| i.kind == InitKind::Value);
                match (&var.shape, value) {
                    (None, None) if !var.incomplete => cx.error_spanned_by(
                        &var.ident,
                        format!(
                            "variable `{}` has no shape: give one (`[in_size, units]`), or an \
                             initializer that carries it (`value(..)`)",
                            var.var_name().0
                        ),
                    ),
                    (Some(shape), Some(_)) => cx.error_at(
                        shape.span,
                        "If initializer is a constant, do not specify shape: a `value(..)` \
                         initializer gives the shape; drop this one",
                    ),
                    _ => {}
                }
            }
            Item::Model(model) => {
                check_model_forms(model, cx);
                if let (Some(lit), None) = (&model.scope, &model.repeat) {
                    let name = lit.value();
                    if let Some(problem) = scope_problem("scope", &name, Context::Nested) {
                        cx.error_spanned_by(lit, problem);
                    }
                }
                if model.repeat.is_some() {
                    match model.repeat_pattern() {
                        (Ok(pattern), span) => {
                            // The placeholder stands for digits, which every regex accepts.
                            let first = pattern.name(0);
                            let empty = model.scope.as_ref().is_some_and(|s| s.value().is_empty());
                            if empty {
                                cx.error_at(span, invalid_name("scope", "", Context::Nested));
                            } else if let Some(mut msg) =
                                scope_problem("scope", &first, Context::Nested)
                            {
                                msg.push_str(&format!(
                                    " (`{first}` is the first of the repeated model's scopes \
                                     `{}`)",
                                    pattern.text()
                                ));
                                cx.error_at(span, msg);
                            } else {
                                ns.claim_family(pattern, span);
                            }
                        }
                        (Err(msg), span) => cx.error_at(span, msg),
                    }
                } else if let Some(default) = &model.default_name {
                    if let Some(base) = &default.base {
                        let name = base.value();
                        match scope_problem("default", &name, Context::Nested) {
                            None => ns.claim_default(&name, base.span()),
                            Some(problem) => cx.error_spanned_by(base, problem),
                        }
                    }
                    // The bare form takes the type's `SCOPE`, unknown here.
                } else if let Some(lit) = &model.scope {
                    ns.claim(lit.value(), lit.span(), "nested model", true);
                } else {
                    let ty = quote::ToTokens::to_token_stream(&model.ty).to_string();
                    if defaults.insert(ty.clone(), ()).is_some() {
                        cx.error_spanned_by(
                            &model.ident,
                            format!(
                                "a second `{ty}` in scope `{path}` would build in the same default \
                                 scope and clash; give one `#[model(scope = \"..\")]`, or build \
                                 both the way tf.layers does with `#[model(default_name)]`"
                            ),
                        );
                    }
                }
            }
            Item::Scope(sub) => {
                let (name, span) = sub.scope_name();
                if let Some(problem) = scope_problem("scope", &name, Context::Nested) {
                    cx.error_at(span, problem);
                }
                ns.claim(name.clone(), span, "sub-scope", true);
                let rel = format!("{rel}{name}/");
                check_scope(&sub.items, &format!("{path}/{name}"), &rel, full, cx);
            }
        }
    }
}

/// An initializer that cannot fill the declared dtype, as TF's conversion of the initializer's
/// Python value refuses it at build time: refused here, with the fix.
fn check_init_fits_dtype(var: &VarDecl, cx: &Ctxt) {
    let (Some(dtype), Some(init)) = (&var.dtype, &var.init) else {
        return;
    };
    let (integer, boolean) = (
        matches!(dtype.variant, "I32" | "I64"),
        dtype.variant == "Bool",
    );
    if !integer && !boolean {
        return;
    }
    let ty = &dtype.ident;
    let article = if integer { "an" } else { "a" };
    let takes = if boolean {
        "`zeros`, `ones`, `constant(true)`, `constant(false)` or `value(..)`"
    } else {
        "`zeros`, `ones`, `constant(<integer>)` or `value(..)`"
    };
    let problem = match init.kind {
        InitKind::RandomNormal | InitKind::TruncatedNormal | InitKind::RandomUniform => {
            Some(format!("`{}` draws floats", init.kind.name()))
        }
        InitKind::GlorotUniform => Some("`glorot_uniform` draws floats".to_owned()),
        InitKind::Constant => match init.args.first().and_then(Number::of) {
            Some((Number::Float(v), _)) => Some(format!("`constant({v})` is a float")),
            Some((Number::Int(v), _)) if boolean => Some(format!("`constant({v})` is an integer")),
            _ => None,
        },
        InitKind::Zeros | InitKind::Ones | InitKind::Value => None,
    };
    if let Some(problem) = problem {
        cx.error_spanned_by(
            &init.ident,
            format!(
                "{problem}, which {article} `{ty}` variable cannot hold (TensorFlow refuses it when the \
                 variable is built): give it {takes}, or declare it `f32`"
            ),
        );
    }
}

/// Keys of `#[var(..)]` that do not go together.
fn check_var_forms(var: &VarDecl, cx: &Ctxt) {
    let Some(tied) = &var.tied else {
        return;
    };
    let key = &tied.key;
    if let Some(when) = &var.when {
        cx.error_spanned_by(
            &when.key,
            "`when` and `tied` do not go together: a tied variable creates nothing, so there is \
             nothing to make optional; make the part that owns it optional instead",
        );
    }
    if let Some(init) = &var.init {
        cx.error_spanned_by(
            &init.ident,
            format!(
                "a tied variable takes no initializer: `{key}` refers to a variable another model \
                 creates and initializes; drop the initializer"
            ),
        );
    }
    if let Some(trainable) = &var.trainable {
        cx.error_spanned_by(
            trainable,
            "a tied variable takes no `trainable`: the model that creates it decides",
        );
    }
    if let Some(name) = &var.name {
        cx.error_spanned_by(
            name,
            "a tied variable takes no `name`: it keeps the name its owner gave it",
        );
    }
    let options = [
        var.regularizer.as_ref().map(|r| &r.key),
        var.constraint.as_ref().map(|c| &c.key),
        var.collections.as_ref().map(|c| &c.key),
    ];
    for option in options.into_iter().flatten() {
        cx.error_spanned_by(
            option,
            format!(
                "a tied variable takes no `{option}`: the model that creates it gives it; \
                 declare it there"
            ),
        );
    }
    if var.shape.is_none() && !var.incomplete {
        cx.error_spanned_by(
            &var.ident,
            format!(
                "tied variable `{}` has no shape: declare the shape the variable must have, \
                 e.g. `[vocab_size, hidden_size]`, which is checked at build time",
                unraw(&var.ident)
            ),
        );
    }
}

/// `partitioner = ..`: not on a tied variable, nor on a scalar; a literal axis within the
/// declared rank (TF's `_call_partitioner` refuses both when the variable is built).
fn check_partitioner(var: &VarDecl, cx: &Ctxt) {
    let Some(partitioner) = &var.partitioner else {
        return;
    };
    if let Some(tied) = &var.tied {
        cx.error_spanned_by(
            &partitioner.key,
            format!(
                "`{}` and `partitioner` do not go together: a tied variable creates nothing, so \
                 there is nothing to split; give the partitioner where the variable is created",
                tied.key
            ),
        );
        return;
    }
    let Some(shape) = &var.shape else {
        return;
    };
    let rank = shape.dims.len();
    if rank == 0 {
        cx.error_at(
            shape.span,
            format!(
                "a partitioned variable must have rank at least 1 (TF: \"A partitioned Variable \
                 must have rank at least 1\"): `{}` is a scalar; drop the partitioner or give a \
                 shape",
                unraw(&var.ident)
            ),
        );
    } else if let Some((axis, span)) = partitioner.literal_axis() {
        if axis >= rank {
            cx.error_at(
                span,
                format!(
                    "cannot partition `{}` along axis {axis}: its shape `{}` has rank {rank}",
                    unraw(&var.ident),
                    crate::expand::shape_text(shape)
                ),
            );
        }
    }
}

/// Keys of `#[model(..)]` that do not go together.
fn check_model_forms(model: &ModelField, cx: &Ctxt) {
    if let (Some(_), Some(when)) = (&model.repeat, &model.when) {
        cx.error_spanned_by(
            &when.key,
            "`repeat` and `when` do not go together: write the count as \
             `repeat = if flag { n } else { 0 }`",
        );
    }
    if let Some(default) = &model.default_name {
        if model.repeat.is_some() {
            cx.error_spanned_by(
                &default.key,
                "`repeat` and `default_name` do not go together: repeated models are named \
                 `prefix_0`, `prefix_1`, ...; give the prefix with `scope = \"..\"`",
            );
        } else if let Some(scope) = &model.scope {
            cx.error_spanned_by(
                scope,
                "`scope` and `default_name` do not go together: `scope` opens that name as is \
                 (as tf.layers does with `name=`), `default_name` counts `dense`, `dense_1`, ... \
                 (as tf.layers does without one); keep one",
            );
        }
    }
}

/// Field names the generated code reserves, and (`model!`, which flattens sub-scopes into
/// field names) fields that collide.
fn check_fields(items: &[Item], dsl: bool, cx: &Ctxt) {
    let mut seen: HashMap<String, ()> = HashMap::new();
    for field in fields(items) {
        let name = unraw(field);
        if name.starts_with("__scope") {
            cx.error_spanned_by(field, format!("`{name}` is reserved for generated code"));
        }
        if dsl && seen.insert(name.clone(), ()).is_some() {
            cx.error_spanned_by(
                field,
                format!(
                    "duplicate field `{name}`: fields are named by their sub-scopes joined with `_`; \
                     rename one"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests;
