//! Checks that need more than one attribute at a time: names against TF's regexes, duplicate
//! names in one scope, variables that cannot get a shape, names the generated code needs,
//! argument types `Model::Args` cannot hold.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::Type;

use crate::ast::{fields, tokens_text, unraw, InitKind, Item, ModelDef, Source};
use crate::ctxt::Ctxt;
use crate::names::{is_valid, Context};

/// Runs every check on `def`, recording what is wrong in `cx`.
pub(crate) fn check(def: &ModelDef, cx: &Ctxt) {
    let scope_path = match &def.scope {
        Some(lit) => {
            let name = lit.value();
            if !is_valid(&name, Context::Root) {
                cx.error_spanned_by(lit, invalid_name("scope", &name, Context::Root));
            }
            name
        }
        None => unraw(&def.ident),
    };
    check_derives(def, cx);
    check_args(def, cx);
    check_scope(&def.items, &scope_path, cx);
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
}

impl Unstorable {
    /// Whether the type is still valid as a parameter of `new` (`&Config`, `impl Fn()`,
    /// `Cow<'_, str>`), unlike a lifetime that is not declared anywhere or `_`.
    pub(crate) fn fits_a_parameter(&self) -> bool {
        match self.kind {
            UnstorableKind::Borrow { .. } | UnstorableKind::ImplTrait => true,
            UnstorableKind::Lifetime => self.tokens.to_string().replace(' ', "") == "'_",
            UnstorableKind::Infer => false,
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
        }
    }
}

fn type_text(ty: &Type) -> String {
    tokens_text(&ty.to_token_stream())
}

/// Why `ty` cannot be a field of the model's `Args` tuple: the model struct has no lifetime
/// parameter, so `Args` must be `'static` and fully written out.
pub(crate) fn unstorable(ty: &Type) -> Option<Unstorable> {
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
        Type::Group(g) => unstorable(&g.elem),
        Type::Paren(p) => unstorable(&p.elem),
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
    unstorable(ty).map(|mut u| {
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

/// Names in one scope: valid, unique (variables, sub-scopes and nested models share the
/// namespace), and every variable able to get a shape.
fn check_scope(items: &[Item], path: &str, cx: &Ctxt) {
    let mut names: HashMap<String, &'static str> = HashMap::new();
    let mut claim = |name: String, span: Span, what: &'static str| {
        if let Some(first) = names.get(&name) {
            cx.error_at(
                span,
                format!("duplicate name `{name}` in scope `{path}`: already used by a {first}"),
            );
        } else {
            names.insert(name, what);
        }
    };
    // Nested models without an override build in their type's default scope.
    let mut defaults: HashMap<String, ()> = HashMap::new();
    for item in items {
        match item {
            Item::Var(var) => {
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
                claim(name, span, "variable");
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
            Item::Model(model) => match &model.scope {
                Some(lit) => {
                    let name = lit.value();
                    if !is_valid(&name, Context::Nested) {
                        cx.error_spanned_by(lit, invalid_name("scope", &name, Context::Nested));
                    }
                    claim(name, lit.span(), "nested model");
                }
                None => {
                    let ty = quote::ToTokens::to_token_stream(&model.ty).to_string();
                    if defaults.insert(ty.clone(), ()).is_some() {
                        cx.error_spanned_by(
                            &model.ident,
                            format!(
                                "a second `{ty}` in scope `{path}` would build in the same default \
                                 scope and clash; give one `#[model(scope = \"..\")]`"
                            ),
                        );
                    }
                }
            },
            Item::Scope(sub) => {
                let name = unraw(&sub.ident);
                if !is_valid(&name, Context::Nested) {
                    cx.error_spanned_by(&sub.ident, invalid_name("scope", &name, Context::Nested));
                }
                claim(name.clone(), sub.ident.span(), "sub-scope");
                check_scope(&sub.items, &format!("{path}/{name}"), cx);
            }
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
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn dsl_errors(input: TokenStream) -> usize {
        let cx = Ctxt::new();
        for def in crate::parse::dsl::parse(input, &cx).unwrap() {
            check(&def, &cx);
        }
        cx.check().map_or_else(|e| e.into_iter().count(), |()| 0)
    }

    #[test]
    fn the_seed_rnn_is_clean() {
        assert_eq!(
            dsl_errors(quote! {
                pub struct Rnn("rnn", i: usize, h: usize) {
                    input_layer { weights: [i, h], biases: [h] }
                    output_layer { weights: [h, 2], biases: [2] }
                }
            }),
            0
        );
    }

    #[test]
    fn duplicates_after_overrides() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("m") {
                    w: [1],
                    #[var(name = "w")] v: [1],
                    w2: [1],
                    w2 { x: [1] }
                }
            }),
            2
        );
    }

    #[test]
    fn bad_names() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("_m") {
                    #[var(name = "a:b")] v: [1],
                    #[var(name = "")] u: [1],
                    #[model(scope = "c d")] c: model Cell,
                }
            }),
            4
        );
    }

    #[test]
    fn names_taken_from_identifiers() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("m") {
                    poids_é: [1],
                    #[var(name = "poids")] poids_è: [1],
                    couche_é { w: [1] }
                    r#type: [1],
                }
            }),
            // poids_é, couche_é
            2
        );
    }

    #[test]
    fn shapes_and_fields() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("m", n: usize, reg: usize) {
                    none:,
                    both: [2] = value(x),
                    a { b: [1] }
                    a_b: [1],
                    n: [1],
                }
            }),
            // reg, none, both, duplicate field a_b, field n shadows arg
            5
        );
    }

    #[test]
    fn derived_debug_and_reserved_fields() {
        assert_eq!(
            dsl_errors(quote! {
                #[derive(Clone, core::fmt::Debug)]
                struct M("m") { __scope_handle: [1] }
            }),
            2
        );
    }

    #[test]
    fn arguments_the_args_tuple_cannot_hold() {
        let bad = [
            quote!(&Config),
            quote!(&mut [f32]),
            quote!(impl Fn(f64) -> f64),
            quote!(_),
            quote!(Vec<&str>),
            quote!(Config<'a>),
            quote!((usize, Cow<'_, str>)),
            quote!(Box<dyn Init + 'a>),
            quote!(&'static [&Config]),
        ];
        let mut parameters = 0;
        for ty in bad {
            let parsed: Type = syn::parse2(ty.clone()).unwrap();
            let problem = unstorable(&parsed);
            assert!(problem.is_some(), "{ty}");
            parameters += usize::from(problem.unwrap().fits_a_parameter());
        }
        // All but `_`, `Config<'a>` and `dyn Init + 'a`.
        assert_eq!(parameters, 6);
        let paren: Type = syn::parse_quote!((&[f32]));
        let message = unstorable(&paren).unwrap().message("xs");
        assert!(message.contains("`xs: Vec<f32>`"), "{message}");
        let good = [
            quote!(usize),
            quote!(&'static str),
            quote!(Option<Config>),
            quote!(Box<dyn Fn(&str) -> &str>),
            quote!(fn(&f32) -> f32),
            quote!(Cow<'static, str>),
            quote!(<T as Tr>::Out),
        ];
        for ty in good {
            let parsed: Type = syn::parse2(ty.clone()).unwrap();
            assert!(unstorable(&parsed).is_none(), "{ty}");
        }
    }

    #[test]
    fn two_default_scopes_of_one_type() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("m") { a: model Cell, b: model Cell, #[model(scope = "c")] c: model Cell }
            }),
            1
        );
    }
}
