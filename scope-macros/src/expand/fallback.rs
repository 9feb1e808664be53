//! The struct itself: emitted on success (with the hidden scope handle) and on error
//! (without it, next to the `compile_error!`s, with stubs of what the macro would have
//! generated), so that uses of the type elsewhere do not cascade into "cannot find type" or
//! "no function named `new`".

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

use super::{init_text, private, shape_text};
use crate::ast::{tokens_text, Item, ModelDef, ModelField, Source, VarDecl};
use crate::check::{derived_debug, unstorable};
use crate::parse::attr::is_helper;

/// Every model's struct and stubs, plus every recorded error.
pub(crate) fn expand(defs: &[ModelDef], err: syn::Error) -> TokenStream {
    let mut out = TokenStream::new();
    for def in defs {
        out.extend(emit_struct(def));
        let travel = super::travelling_attrs(def);
        let stubs = stubs(def);
        out.extend(quote!(#travel const _: () = { #stubs };));
    }
    out.extend(err.to_compile_error());
    out
}

/// `new` with the declared signature, `impl Model` and `impl Debug`, as thiserror's fallback
/// does: a call such as `Dense::new(&reg, 2)?.variables()` elsewhere then raises nothing
/// besides the macro's own errors.
///
/// These stubs are only ever emitted next to a `compile_error!`, so the crate never compiles
/// and their `unreachable!()` bodies never run.
fn stubs(def: &ModelDef) -> TokenStream {
    let p = private(def);
    let ident = &def.ident;
    let vis = &def.vis;
    let generics = match &def.source {
        Source::Attribute(input) => input.generics.clone(),
        Source::Dsl => syn::Generics::default(),
    };
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // `_` patterns: an argument may clash with `reg` or another argument (one of the errors).
    // A type that is no valid parameter either (`Cfg<'a>`, `_`) accepts anything instead.
    let params = def.args.iter().map(|a| match unstorable(&a.ty) {
        Some(u) if !u.fits_a_parameter() => quote!(_: impl ::core::marker::Sized),
        _ => {
            let ty = &a.ty;
            quote!(_: #ty)
        }
    });
    // A type `Args` cannot hold (one of the errors) would only add a lifetime error.
    let arg_types = def.args.iter().map(|a| match unstorable(&a.ty) {
        None => {
            let ty = &a.ty;
            quote!(#ty)
        }
        Some(_) => quote!(()),
    });
    let scope = def
        .scope
        .clone()
        .unwrap_or_else(|| LitStr::new("", Span::call_site()));
    // A derived `Debug` (one of the errors) already implements it.
    let debug = derived_debug(def).is_empty().then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #where_clause {
                fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::unreachable!()
                }
            }
        }
    });
    quote! {
        impl #impl_generics #ident #ty_generics #where_clause {
            #vis fn new(_: &#p::Registry, #(#params),*) -> #p::Result<Self> {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl #impl_generics #p::Model for #ident #ty_generics #where_clause {
            type Args = (#(#arg_types,)*);
            const SCOPE: &'static str = #scope;
            const MANIFEST: &'static [#p::ManifestEntry] = &[];

            fn build_in(_: &#p::Registry, _: &str, _: Self::Args) -> #p::Result<Self> {
                ::core::unreachable!()
            }

            fn scope(&self) -> &#p::VariableScope {
                ::core::unreachable!()
            }

            fn for_each_variable(&self, _: &mut dyn ::core::ops::FnMut(&#p::Variable)) {
                ::core::unreachable!()
            }
        }

        #debug
    }
}

/// The struct as the user will see it, without the scope handle.
fn emit_struct(def: &ModelDef) -> TokenStream {
    emit(def, false)
}

/// The struct with its scope handle field (what `Model::scope` returns).
pub(crate) fn emit_struct_with_handle(def: &ModelDef) -> TokenStream {
    emit(def, true)
}

fn emit(def: &ModelDef, handle: bool) -> TokenStream {
    let p = &private(def);
    let handle_ident = super::handle();
    let handle_field = handle.then(|| {
        quote! {
            /// The variable scope the model was built in.
            #handle_ident: #p::VariableScope,
        }
    });
    match &def.source {
        Source::Attribute(input) => {
            let mut input = (**input).clone();
            // From every field: `#[var]` on a tuple struct's or an enum's field (an error)
            // would otherwise add "cannot find attribute `var`".
            let fields: Vec<&mut syn::Field> = match &mut input.data {
                syn::Data::Struct(data) => data.fields.iter_mut().collect(),
                syn::Data::Enum(data) => data
                    .variants
                    .iter_mut()
                    .flat_map(|v| v.fields.iter_mut())
                    .collect(),
                syn::Data::Union(data) => data.fields.named.iter_mut().collect(),
            };
            for field in fields {
                field.attrs.retain(|a| !is_helper(a));
            }
            if let syn::Data::Struct(syn::DataStruct {
                fields: syn::Fields::Named(fields),
                ..
            }) = &mut input.data
            {
                if handle {
                    fields.named.push(syn::parse_quote! {
                        /// The variable scope the model was built in.
                        #handle_ident: #p::VariableScope
                    });
                }
            }
            quote!(#input)
        }
        Source::Dsl => {
            let attrs = &def.attrs;
            let vis = &def.vis;
            let ident = &def.ident;
            let mut fields = kept_fields(def);
            dsl_fields(p, &def.items, "", &mut Vec::new(), &mut fields);
            quote! {
                #(#attrs)*
                #vis struct #ident {
                    #(#fields)*
                    #handle_field
                }
            }
        }
    }
}

/// The fields of a `model!` struct that keep constructor arguments, typed as the arguments.
/// One that names no argument (an error already reported) gets no field.
fn kept_fields(def: &ModelDef) -> Vec<TokenStream> {
    def.kept
        .iter()
        .filter_map(|kept| {
            let name = crate::ast::unraw(&kept.ident);
            let arg = def
                .args
                .iter()
                .find(|a| crate::ast::unraw(&a.ident) == name)?;
            let (attrs, vis, ident, ty) = (&kept.attrs, &kept.vis, &kept.ident, &arg.ty);
            let doc =
                format!(" The constructor argument `{name}`, kept as the model was built with it.");
            Some(quote! {
                #(#attrs)*
                #[doc = #doc]
                #vis #ident: #ty,
            })
        })
        .collect()
}

/// The fields of a `model!` struct; a field name seen before (an error already reported) is
/// emitted once, so that rustc does not report it again.
fn dsl_fields(
    p: &TokenStream,
    items: &[Item],
    prefix: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<TokenStream>,
) {
    for item in items {
        let field = match item {
            Item::Var(var) => Some(&var.field),
            Item::Model(model) => Some(&model.field),
            Item::Scope(_) => None,
        };
        if let Some(field) = field {
            let name = crate::ast::unraw(field);
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
        }
        match item {
            Item::Var(var) => {
                let (attrs, vis, field) = (&var.attrs, &var.vis, &var.field);
                let doc = var_doc(var, prefix);
                let ty = if var.partitioner.is_some() {
                    quote!(#p::PartitionedVariable)
                } else {
                    quote!(#p::Variable)
                };
                let ty = match &var.when {
                    Some(_) => quote!(::core::option::Option<#ty>),
                    None => ty,
                };
                out.push(quote! {
                    #(#attrs)*
                    #[doc = #doc]
                    #vis #field: #ty,
                });
            }
            Item::Model(model) => {
                let (attrs, vis, field, ty) = (&model.attrs, &model.vis, &model.field, &model.ty);
                let doc = model_doc(model, prefix);
                let ty = if model.repeat.is_some() {
                    quote!(::std::vec::Vec<#ty>)
                } else if model.when.is_some() {
                    quote!(::core::option::Option<#ty>)
                } else {
                    quote!(#ty)
                };
                out.push(quote! {
                    #(#attrs)*
                    #[doc = #doc]
                    #vis #field: #ty,
                });
            }
            Item::Scope(sub) => {
                let prefix = format!("{prefix}{}/", sub.scope_name().0);
                dsl_fields(p, &sub.items, &prefix, seen, out);
            }
        }
    }
}

/// ` Nested model in scope `encoder/layer_{i}`, for each `i` below `n`.`, ...
fn model_doc(model: &ModelField, prefix: &str) -> String {
    let mut doc = if let Some(repeat) = &model.repeat {
        let pattern = match model.repeat_pattern().0 {
            Ok(pattern) => pattern.text(),
            // Reported; the doc shows what was written.
            Err(_) => model.scope.as_ref().map(LitStr::value).unwrap_or_default(),
        };
        format!(
            " Nested models in scopes `{prefix}{pattern}`, for `i` in `0..{}`",
            tokens_text(&repeat.expr)
        )
    } else if let Some(default) = &model.default_name {
        let base = match &default.base {
            Some(base) => format!("`{}`", base.value()),
            None => "its type's default scope".to_owned(),
        };
        let place = if prefix.is_empty() {
            String::new()
        } else {
            format!(" in `{prefix}`")
        };
        format!(
            " Nested model{place}, in a scope named after {base} by the `default_name` \
             counters (`dense`, `dense_1`, ...)"
        )
    } else {
        match &model.scope {
            Some(scope) => format!(" Nested model in scope `{prefix}{}`", scope.value()),
            None if prefix.is_empty() => " Nested model in its own default scope".to_owned(),
            None => format!(" Nested model in `{prefix}`, in its own default scope"),
        }
    };
    if let Some(when) = &model.when {
        doc.push_str(&format!("; built only when `{}`", tokens_text(&when.expr)));
    }
    doc.push('.');
    doc
}

/// ` Variable `input_layer/weights`: shape `[in_size, units]`, random_normal(0.0, 0.5).`
fn var_doc(var: &VarDecl, prefix: &str) -> String {
    if let Some(tied) = &var.tied {
        let shape = var.shape.as_ref().map_or_else(String::new, shape_text);
        return format!(
            " Another model's variable, `{}`, checked to have shape `{shape}`; not created here.",
            tokens_text(&tied.expr)
        );
    }
    let mut doc = format!(" Variable `{prefix}{}`", var.var_name().0);
    let mut parts = Vec::new();
    if let Some(shape) = &var.shape {
        parts.push(format!("shape `{}`", shape_text(shape)));
    }
    if let Some(dtype) = &var.dtype {
        parts.push(format!("`{}`", dtype.ident));
    }
    if let Some(init) = &var.init {
        parts.push(format!("`{}`", init_text(init)));
    }
    if var.trainable.as_ref().is_some_and(|b| !b.value) {
        parts.push("not trainable".to_owned());
    }
    if let Some(regularizer) = &var.regularizer {
        parts.push(format!(
            "regularized by `{}`",
            tokens_text(&regularizer.tokens)
        ));
    }
    if let Some(constraint) = &var.constraint {
        parts.push(format!(
            "constrained by `{}`",
            tokens_text(&constraint.tokens)
        ));
    }
    if let Some(partitioner) = &var.partitioner {
        parts.push(format!(
            "in parts, partitioned by `{}`",
            tokens_text(&partitioner.tokens)
        ));
    }
    if !parts.is_empty() {
        doc.push_str(": ");
        doc.push_str(&parts.join(", "));
    }
    if let Some(when) = &var.when {
        doc.push_str(&format!(
            "; created only when `{}`",
            tokens_text(&when.expr)
        ));
    }
    doc.push('.');
    doc
}
