//! The static manifest (`Model::MANIFEST`) of a model, from the IR.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::{dtype_option, nested_scope, var_name_lit};
use crate::ast::{tokens_text, unraw, InitDecl, Item, KeyExpr};

/// Wraps a manifest entry in `ManifestEntry::Optional` for a `when = flag` part.
fn optional_entry(p: &TokenStream, when: Option<&KeyExpr>, entry: TokenStream) -> TokenStream {
    match when {
        Some(when) => {
            let condition = tokens_text(&when.expr);
            quote! {
                #p::ManifestEntry::Optional {
                    condition: #condition,
                    entry: &#entry,
                }
            }
        }
        None => entry,
    }
}

pub(super) fn manifest_entries(p: &TokenStream, items: &[Item]) -> Vec<TokenStream> {
    items
        .iter()
        .map(|item| match item {
            Item::Var(var) if var.tied.is_some() => {
                let field = unraw(&var.ident);
                let owner = var
                    .tied
                    .as_ref()
                    .map_or_else(String::new, |t| tokens_text(&t.expr));
                let shape = var
                    .shape
                    .as_ref()
                    .map_or_else(|| "[]".to_owned(), shape_text);
                let dtype = dtype_option(p, var);
                quote! {
                    #p::ManifestEntry::Tied(#p::TiedManifest {
                        field: #field,
                        owner: #owner,
                        shape: #shape,
                        dtype: #dtype,
                    })
                }
            }
            Item::Var(var) => {
                let name = var_name_lit(var);
                let dtype = dtype_option(p, var);
                let trainable = var.trainable.as_ref().is_none_or(|b| b.value);
                let shape = some_str(var.shape.as_ref().map(shape_text));
                let init = some_str(var.init.as_ref().map(init_text));
                let options = super::options::manifest_fields(p, var);
                let partitioner =
                    some_str(var.partitioner.as_ref().map(|p| tokens_text(&p.tokens)));
                let entry = quote! {
                    #p::ManifestEntry::Variable(#p::VarManifest {
                        name: #name,
                        dtype: #dtype,
                        trainable: #trainable,
                        shape: #shape,
                        initializer: #init,
                        partitioner: #partitioner,
                        #options
                    })
                };
                optional_entry(p, var.when.as_ref(), entry)
            }
            Item::Model(model) => {
                let ty = &model.ty;
                let ty_span = ty.span();
                let manifest = quote_spanned!(ty_span=> <#ty as #p::Model>::MANIFEST);
                let type_name = tokens_text(&ty.to_token_stream());
                let entry = if let Some(repeat) = &model.repeat {
                    let pattern = model.repeat_pattern().0.expect("checked").text();
                    let count = tokens_text(&repeat.expr);
                    quote! {
                        #p::ManifestEntry::Repeated {
                            pattern: #pattern,
                            count: #count,
                            type_name: #type_name,
                            manifest: #manifest,
                        }
                    }
                } else if let Some(default) = &model.default_name {
                    let base = match &default.base {
                        Some(lit) => lit.to_token_stream(),
                        None => quote_spanned!(ty_span=> <#ty as #p::Model>::SCOPE),
                    };
                    quote! {
                        #p::ManifestEntry::DefaultNamed {
                            base: #base,
                            type_name: #type_name,
                            manifest: #manifest,
                        }
                    }
                } else {
                    let scope = nested_scope(p, model);
                    quote! {
                        #p::ManifestEntry::Model {
                            scope: #scope,
                            type_name: #type_name,
                            manifest: #manifest,
                        }
                    }
                };
                optional_entry(p, model.when.as_ref(), entry)
            }
            Item::Scope(sub) => {
                let name = sub.scope_name().0;
                let mut entries: Vec<TokenStream> =
                    super::options::defaults_entry(p, &sub.defaults)
                        .into_iter()
                        .collect();
                entries.extend(manifest_entries(p, &sub.items));
                quote! {
                    #p::ManifestEntry::Scope {
                        name: #name,
                        entries: &[#(#entries),*],
                    }
                }
            }
        })
        .collect()
}

fn some_str(text: Option<String>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

pub(crate) fn shape_text(shape: &crate::ast::ShapeDecl) -> String {
    let dims: Vec<String> = shape.dims.iter().map(tokens_text).collect();
    format!("[{}]", dims.join(", "))
}

pub(crate) fn init_text(init: &InitDecl) -> String {
    if init.args.is_empty() {
        return init.kind.name().to_owned();
    }
    let args: Vec<String> = init.args.iter().map(tokens_text).collect();
    format!("{}({})", init.kind.name(), args.join(", "))
}
