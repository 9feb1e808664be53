//! Checks that need more than one attribute at a time: names against TF's regexes, duplicate
//! names in one scope, variables that cannot get a shape, names the generated code needs.

use std::collections::HashMap;

use proc_macro2::Span;

use crate::ast::{fields, unraw, InitKind, Item, ModelDef, Source};
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
    for attr in def.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let paths = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        );
        // A derive list that does not parse is left for rustc to report.
        for path in paths.into_iter().flatten() {
            if path.segments.last().is_some_and(|s| s.ident == "Debug") {
                cx.error_spanned_by(
                    &path,
                    "`Debug` is generated for models (it shows the scope and every variable); \
                     remove it from the derive",
                );
            }
        }
    }
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
                if var.name.is_some() && !is_valid(&name, Context::Nested) {
                    cx.error_at(span, invalid_name("variable", &name, Context::Nested));
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
    fn two_default_scopes_of_one_type() {
        assert_eq!(
            dsl_errors(quote! {
                struct M("m") { a: model Cell, b: model Cell, #[model(scope = "c")] c: model Cell }
            }),
            1
        );
    }
}
