//! Code generation from the IR. Reads only the IR, never re-parses.
//!
//! Every generated path is absolute (`::scope::__private::..`, `::core::..`); generated
//! locals are `__scope_`-prefixed and stable (no gensyms); each concern has its own impl.

mod fallback;
#[cfg(test)]
mod snapshots;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use crate::ast::{fields, tokens_text, unraw, InitDecl, InitKind, Item, ModelDef, VarDecl};
use crate::check::check;
use crate::ctxt::Ctxt;
use crate::parse;

/// The one place that names the runtime.
fn private() -> TokenStream {
    quote!(::scope::__private)
}

/// `#[variable_scope(args)]` on `input`.
pub(crate) fn variable_scope(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let def = match parse::attr::parse(args, input.clone(), &cx) {
        Ok(def) => def,
        Err(err) => {
            cx.syn_error(err);
            let err = cx.check().expect_err("an error was just recorded");
            let err = err.to_compile_error();
            return quote!(#input #err);
        }
    };
    check(&def, &cx);
    match cx.check() {
        Ok(()) => expand(&def),
        Err(err) => fallback::expand(std::slice::from_ref(&def), err),
    }
}

/// `model! { input }`.
pub(crate) fn model(input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let defs = match parse::dsl::parse(input, &cx) {
        Ok(defs) => defs,
        Err(err) => {
            cx.syn_error(err);
            return cx
                .check()
                .expect_err("an error was just recorded")
                .to_compile_error();
        }
    };
    for def in &defs {
        check(def, &cx);
    }
    match cx.check() {
        Ok(()) => defs.iter().map(expand).collect(),
        Err(err) => fallback::expand(&defs, err),
    }
}

/// A checked model: the struct, its constructor, its `Model` impl and its `Debug` impl.
fn expand(def: &ModelDef) -> TokenStream {
    let mut out = fallback::emit_struct_with_handle(def);
    out.extend(constructor(def));
    out.extend(model_impl(def));
    out.extend(debug_impl(def));
    out
}

fn scope_lit(def: &ModelDef) -> LitStr {
    def.scope.clone().expect("checked models have a scope name")
}

/// `impl Rnn { pub fn new(reg, args..) }`.
fn constructor(def: &ModelDef) -> TokenStream {
    let p = private();
    let ident = &def.ident;
    let vis = &def.vis;
    let scope = scope_lit(def);
    let names = def.args.iter().map(|a| &a.ident);
    let params = def.args.iter().map(|a| {
        let (name, ty) = (&a.ident, &a.ty);
        quote!(#name: #ty)
    });
    let doc = format!(
        " Builds the model in the variable scope `{}`, opened inside the registry's current \
         variable scope (whose reuse mode it inherits).",
        scope.value()
    );
    let allow = (def.args.len() >= 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        impl #ident {
            #[doc = #doc]
            #allow
            #vis fn new(reg: &#p::Registry, #(#params),*) -> #p::Result<Self> {
                <Self as #p::Model>::build_in(reg, #scope, (#(#names,)*))
            }
        }
    }
}

fn model_impl(def: &ModelDef) -> TokenStream {
    let p = private();
    let ident = &def.ident;
    let scope = scope_lit(def);
    let arg_types = def.args.iter().map(|a| &a.ty);
    let arg_names = def.args.iter().map(|a| &a.ident);
    let manifest = manifest_entries(&def.items);
    let mut body = TokenStream::new();
    build_items(&def.items, 1, &mut body);
    let fields = fields(&def.items);
    let visit: Vec<TokenStream> = visit_items(&def.items);
    let visitor = if visit.is_empty() {
        quote!(_)
    } else {
        quote!(__scope_f)
    };
    quote! {
        #[automatically_derived]
        impl #p::Model for #ident {
            type Args = (#(#arg_types,)*);
            const SCOPE: &'static str = #scope;
            const MANIFEST: &'static [#p::ManifestEntry] = &[#(#manifest),*];

            fn build_in(
                __scope_reg: &#p::Registry,
                __scope_name: &str,
                (#(#arg_names,)*): Self::Args,
            ) -> #p::Result<Self> {
                let __scope_guard = #p::ModelScope::enter(__scope_reg, __scope_name)?;
                #body
                ::core::result::Result::Ok(Self {
                    #(#fields,)*
                    __scope_handle: ::core::clone::Clone::clone(__scope_guard.scope()),
                })
            }

            fn scope(&self) -> &#p::VariableScope {
                &self.__scope_handle
            }

            fn for_each_variable(&self, #visitor: &mut dyn ::core::ops::FnMut(&#p::Variable)) {
                #(#visit)*
            }
        }
    }
}

/// The statements that build `items`, in declaration order; `depth` numbers the guards of
/// nested sub-scopes.
fn build_items(items: &[Item], depth: usize, out: &mut TokenStream) {
    let p = private();
    for item in items {
        match item {
            Item::Var(var) => {
                let field = &var.field;
                let name = var_name_lit(var);
                let spec = var_spec(var);
                out.extend(quote! {
                    let #field = __scope_reg.get_variable(#name, #spec)?;
                });
            }
            Item::Model(model) => {
                let (field, ty, args) = (&model.field, &model.ty, &model.args);
                // Spanned on the user's type and arguments: "not a Model" and "wrong
                // arguments" are reported there.
                let ty_span = ty.span();
                let scope = match &model.scope {
                    Some(lit) => lit.to_token_stream(),
                    None => quote_spanned!(ty_span=> <#ty as #p::Model>::SCOPE),
                };
                let build = quote_spanned!(ty_span=> <#ty as #p::Model>::build_in);
                let args = quote_spanned!(model.args_span=> (#(#args,)*));
                out.extend(quote! {
                    let #field = #build(__scope_reg, #scope, #args)?;
                });
            }
            Item::Scope(sub) => {
                let guard = format_ident!("__scope_sub_{}", depth);
                let name = LitStr::new(&unraw(&sub.ident), sub.ident.span());
                out.extend(quote! {
                    let #guard = __scope_reg.variable_scope(#name).enter()?;
                });
                build_items(&sub.items, depth + 1, out);
                out.extend(quote! {
                    #guard.exit();
                });
            }
        }
    }
}

fn var_name_lit(var: &VarDecl) -> LitStr {
    let (name, span) = var.var_name();
    LitStr::new(&name, span)
}

/// `VarSpec::new().shape([..]).dtype(..).initializer(..).trainable(..)`.
fn var_spec(var: &VarDecl) -> TokenStream {
    let p = private();
    let mut spec = quote!(#p::VarSpec::new());
    if let Some(shape) = &var.shape {
        let dims = &shape.dims;
        // Spanned on the user's brackets, so that a dimension of the wrong type is reported
        // there rather than on the whole macro.
        let array = if dims.is_empty() {
            quote_spanned!(shape.span=> [0usize; 0])
        } else {
            quote_spanned!(shape.span=> [#(#dims),*])
        };
        spec.extend(quote!(.shape(#array)));
    }
    if let Some(dtype) = &var.dtype {
        let variant = Ident::new(dtype.variant, dtype.ident.span());
        spec.extend(quote!(.dtype(#p::DType::#variant)));
    }
    if let Some(init) = &var.init {
        let init = initializer(init);
        spec.extend(quote!(.initializer(#init)));
    }
    if let Some(trainable) = &var.trainable {
        spec.extend(quote!(.trainable(#trainable)));
    }
    spec
}

fn initializer(init: &InitDecl) -> TokenStream {
    let p = private();
    let args = &init.args;
    let span = init.ident.span();
    let init_ty = quote!(#p::Initializer);
    match init.kind {
        InitKind::Zeros => quote!(#init_ty::Zeros),
        InitKind::Ones => quote!(#init_ty::Ones),
        InitKind::GlorotUniform => quote!(#init_ty::GlorotUniform),
        InitKind::Constant => {
            let variant = match constant_literal(&args[0]) {
                Some(syn::Lit::Int(_)) => quote!(ConstantInt),
                Some(syn::Lit::Bool(_)) => quote!(ConstantBool),
                _ => quote!(Constant),
            };
            quote!(#init_ty::#variant(#(#args),*))
        }
        InitKind::RandomNormal
        | InitKind::TruncatedNormal
        | InitKind::RandomUniform
        | InitKind::Value => {
            let ctor = Ident::new(init.kind.name(), span);
            quote!(#init_ty::#ctor(#(#args),*))
        }
    }
}

/// The literal of a `constant(..)` argument, through a leading `-`.
fn constant_literal(arg: &TokenStream) -> Option<syn::Lit> {
    let mut tokens: Vec<_> = arg.clone().into_iter().collect();
    if let Some(proc_macro2::TokenTree::Punct(p)) = tokens.first() {
        if p.as_char() == '-' {
            tokens.remove(0);
        }
    }
    syn::parse2(tokens.into_iter().collect()).ok()
}

fn visit_items(items: &[Item]) -> Vec<TokenStream> {
    let p = private();
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Var(v) => {
                let field = &v.field;
                out.push(quote_spanned!(field.span()=> __scope_f(&self.#field);));
            }
            Item::Model(m) => {
                let field = &m.field;
                out.push(quote_spanned!(m.ty.span()=>
                    #p::Model::for_each_variable(&self.#field, __scope_f);
                ));
            }
            Item::Scope(s) => out.extend(visit_items(&s.items)),
        }
    }
    out
}

fn manifest_entries(items: &[Item]) -> Vec<TokenStream> {
    let p = private();
    items
        .iter()
        .map(|item| match item {
            Item::Var(var) => {
                let name = var_name_lit(var);
                let dtype = match &var.dtype {
                    Some(d) => {
                        let variant = Ident::new(d.variant, Span::call_site());
                        quote!(::core::option::Option::Some(#p::DType::#variant))
                    }
                    None => quote!(::core::option::Option::None),
                };
                let trainable = var.trainable.as_ref().is_none_or(|b| b.value);
                let shape = some_str(var.shape.as_ref().map(shape_text));
                let init = some_str(var.init.as_ref().map(init_text));
                quote! {
                    #p::ManifestEntry::Variable(#p::VarManifest {
                        name: #name,
                        dtype: #dtype,
                        trainable: #trainable,
                        shape: #shape,
                        initializer: #init,
                    })
                }
            }
            Item::Model(model) => {
                let ty = &model.ty;
                let ty_span = ty.span();
                let scope = match &model.scope {
                    Some(lit) => lit.to_token_stream(),
                    None => quote_spanned!(ty_span=> <#ty as #p::Model>::SCOPE),
                };
                let manifest = quote_spanned!(ty_span=> <#ty as #p::Model>::MANIFEST);
                let type_name = tokens_text(&ty.to_token_stream());
                quote! {
                    #p::ManifestEntry::Model {
                        scope: #scope,
                        type_name: #type_name,
                        manifest: #manifest,
                    }
                }
            }
            Item::Scope(sub) => {
                let name = unraw(&sub.ident);
                let entries = manifest_entries(&sub.items);
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

/// `Rnn { __scope: "rnn", input_layer_weights: .., .. }`. The scope's label takes the
/// `__scope` prefix that fields may not use, so that it can never clash with a field's (a
/// variable may well be called `scope`).
fn debug_impl(def: &ModelDef) -> TokenStream {
    let ident = &def.ident;
    let name = ident.to_string();
    let fields = fields(&def.items);
    let entries = fields.iter().map(|field| {
        let label = unraw(field);
        quote_spanned!(field.span()=> .field(#label, &self.#field))
    });
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name)
                    .field("__scope", &self.__scope_handle.name())
                    #(#entries)*
                    .finish()
            }
        }
    }
}
