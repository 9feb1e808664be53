//! The struct itself: emitted on success (with the hidden scope handle) and on error
//! (without it, next to the `compile_error!`s), so that uses of the type elsewhere do not
//! cascade into "cannot find type".

use proc_macro2::TokenStream;
use quote::quote;

use super::{init_text, private, shape_text};
use crate::ast::{Item, ModelDef, Source, VarDecl};
use crate::parse::attr::is_helper;

/// The struct plus every recorded error.
pub(crate) fn expand(def: &ModelDef, err: syn::Error) -> TokenStream {
    let mut out = emit_struct(def);
    out.extend(err.to_compile_error());
    out
}

/// The struct as the user will see it, without the scope handle.
pub(crate) fn emit_struct(def: &ModelDef) -> TokenStream {
    emit(def, false)
}

/// The struct with its `__scope_handle` field (what `Model::scope` returns).
pub(crate) fn emit_struct_with_handle(def: &ModelDef) -> TokenStream {
    emit(def, true)
}

fn emit(def: &ModelDef, handle: bool) -> TokenStream {
    let p = private();
    let handle_field = handle.then(|| {
        quote! {
            /// The variable scope the model was built in.
            __scope_handle: #p::VariableScope,
        }
    });
    match &def.source {
        Source::Attribute(input) => {
            let mut input = (**input).clone();
            if let syn::Data::Struct(data) = &mut input.data {
                if let syn::Fields::Named(fields) = &mut data.fields {
                    for field in &mut fields.named {
                        field.attrs.retain(|a| !is_helper(a));
                    }
                    if handle {
                        fields.named.push(syn::parse_quote! {
                            /// The variable scope the model was built in.
                            __scope_handle: #p::VariableScope
                        });
                    }
                }
            }
            quote!(#input)
        }
        Source::Dsl => {
            let attrs = &def.attrs;
            let vis = &def.vis;
            let ident = &def.ident;
            let mut fields = Vec::new();
            dsl_fields(&def.items, "", &mut Vec::new(), &mut fields);
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

/// The fields of a `model!` struct; a field name seen before (an error already reported) is
/// emitted once, so that rustc does not report it again.
fn dsl_fields(items: &[Item], prefix: &str, seen: &mut Vec<String>, out: &mut Vec<TokenStream>) {
    let p = private();
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
                out.push(quote! {
                    #(#attrs)*
                    #[doc = #doc]
                    #vis #field: #p::Variable,
                });
            }
            Item::Model(model) => {
                let (attrs, vis, field, ty) = (&model.attrs, &model.vis, &model.field, &model.ty);
                let doc = match &model.scope {
                    Some(scope) => format!(" Nested model in scope `{prefix}{}`.", scope.value()),
                    None if prefix.is_empty() => {
                        " Nested model in its own default scope.".to_owned()
                    }
                    None => format!(" Nested model in `{prefix}`, in its own default scope."),
                };
                out.push(quote! {
                    #(#attrs)*
                    #[doc = #doc]
                    #vis #field: #ty,
                });
            }
            Item::Scope(sub) => {
                let prefix = format!("{prefix}{}/", crate::ast::unraw(&sub.ident));
                dsl_fields(&sub.items, &prefix, seen, out);
            }
        }
    }
}

/// ` Variable `input_layer/weights`: shape `[in_size, units]`, random_normal(0.0, 0.5).`
fn var_doc(var: &VarDecl, prefix: &str) -> String {
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
    if !parts.is_empty() {
        doc.push_str(": ");
        doc.push_str(&parts.join(", "));
    }
    doc.push('.');
    doc
}
