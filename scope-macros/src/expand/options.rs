//! The per-variable `regularizer`, `constraint` and `collections`, and a scope's
//! `custom_getter` and `regularizer`: their values in generated code and in the manifest.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::float_arg;
use crate::ast::{tokens_text, CallDecl, CollectionName, CollectionsDecl, ScopeDefaults, VarDecl};

/// `value_of::<Type, _>(expr)`: the user's expression, of the runtime's type `ty` (a
/// `Partitioner`, `Regularizer`, `Constraint` or `CustomGetter`) or a
/// reference to one; a value of another type is reported at the expression.
pub(super) fn value_of(p: &TokenStream, ty: &str, expr: &TokenStream) -> TokenStream {
    let ty = syn::Ident::new(ty, proc_macro2::Span::call_site());
    quote_spanned!(expr.span()=> #p::value_of::<#p::#ty, _>(#expr))
}

/// `Regularizer::l2(0.1)?` (its scale is checked when the model is built, as TF checks it),
/// or the user's expression.
pub(super) fn regularizer_value(p: &TokenStream, decl: &CallDecl) -> TokenStream {
    match &decl.known {
        Some((ctor, args)) => {
            let args = args.iter().map(|a| float_arg(p, a));
            quote!(#p::Regularizer::#ctor(#(#args),*)?)
        }
        None => value_of(p, "Regularizer", &decl.tokens),
    }
}

/// `Constraint::clip_by_value(-1.0, 1.0)` (`f32` arguments), or the user's expression.
fn constraint_value(p: &TokenStream, decl: &CallDecl) -> TokenStream {
    match &decl.known {
        Some((ctor, args)) => {
            let args = args.iter().map(|a| {
                crate::ast::Number::of(a)
                    .and_then(|(n, span)| n.float_tokens(span))
                    .unwrap_or_else(|| a.clone())
            });
            quote!(#p::Constraint::#ctor(#(#args),*))
        }
        None => value_of(p, "Constraint", &decl.tokens),
    }
}

/// `["mine", keys::MODEL_VARIABLES]`.
fn collections_array(p: &TokenStream, decl: &CollectionsDecl) -> TokenStream {
    let items = decl.items.iter().map(|item| match item {
        CollectionName::Lit(lit) => quote!(#lit),
        CollectionName::Key(ident) => quote!(#p::keys::#ident),
    });
    quote!([#(#items),*])
}

/// The `VarSpec` calls of a variable's `regularizer`, `constraint` and `collections`.
pub(super) fn var_spec_options(p: &TokenStream, var: &VarDecl) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(regularizer) = &var.regularizer {
        let value = regularizer_value(p, regularizer);
        out.extend(quote!(.regularizer(#value)));
    }
    if let Some(constraint) = &var.constraint {
        let value = constraint_value(p, constraint);
        out.extend(quote!(.constraint(#value)));
    }
    if let Some(collections) = &var.collections {
        let array = collections_array(p, collections);
        out.extend(quote!(.collections::<&'static str>(#array)));
    }
    out
}

/// `(custom_getter, regularizer)` as `Option`s, for `ModelScope::enter_with`.
pub(super) fn defaults_args(p: &TokenStream, defaults: &ScopeDefaults) -> TokenStream {
    let getter = match &defaults.custom_getter {
        Some(g) => {
            let value = value_of(p, "CustomGetter", &g.expr);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    let regularizer = match &defaults.regularizer {
        Some(r) => {
            let value = regularizer_value(p, r);
            quote!(::core::option::Option::Some(#value))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(#getter, #regularizer)
}

/// The builder calls a sub-scope's defaults add: `.custom_getter(..).regularizer(..)`.
pub(super) fn scope_builder_calls(p: &TokenStream, defaults: &ScopeDefaults) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(g) = &defaults.custom_getter {
        let value = value_of(p, "CustomGetter", &g.expr);
        out.extend(quote!(.custom_getter(#value)));
    }
    if let Some(r) = &defaults.regularizer {
        let value = regularizer_value(p, r);
        out.extend(quote!(.regularizer(#value)));
    }
    out
}

fn some_text(tokens: Option<&TokenStream>) -> TokenStream {
    match tokens {
        Some(tokens) => {
            let text = tokens_text(tokens);
            quote!(::core::option::Option::Some(#text))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// `ManifestEntry::Defaults { .. }`, the first entry of a model or sub-scope that sets any.
pub(super) fn defaults_entry(p: &TokenStream, defaults: &ScopeDefaults) -> Option<TokenStream> {
    if defaults.is_empty() {
        return None;
    }
    let getter = some_text(defaults.custom_getter.as_ref().map(|g| &g.expr));
    let regularizer = some_text(defaults.regularizer.as_ref().map(|r| &r.tokens));
    Some(quote! {
        #p::ManifestEntry::Defaults {
            custom_getter: #getter,
            regularizer: #regularizer,
        }
    })
}

/// The manifest fields of a variable's `regularizer`, `constraint` and `collections`.
pub(super) fn manifest_fields(p: &TokenStream, var: &VarDecl) -> TokenStream {
    let regularizer = some_text(var.regularizer.as_ref().map(|r| &r.tokens));
    let constraint = some_text(var.constraint.as_ref().map(|c| &c.tokens));
    let collections = match &var.collections {
        Some(c) => {
            let array = collections_array(p, c);
            quote!(::core::option::Option::Some(&#array))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        regularizer: #regularizer,
        constraint: #constraint,
        collections: #collections,
    }
}
