//! Code generation from the IR. Reads only the IR, never re-parses.
//!
//! Every generated path is absolute (`::scope::__private::..`, `::core::..`); generated
//! locals are `__scope_`-prefixed and stable (no gensyms); each concern has its own impl.

mod fallback;
mod manifest;
mod options;
#[cfg(test)]
mod snapshots;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use crate::ast::{
    fields, unraw, InitDecl, InitKind, Item, KeyExpr, ModelDef, ModelField, Number,
    PartitionerDecl, PartitionerKind, VarDecl,
};
use crate::check::check;
use crate::ctxt::Ctxt;
use crate::parse;
use manifest::manifest_entries;
pub(crate) use manifest::{init_text, shape_text};

/// A span at `user`'s place with the macro's own hygiene: what generated tokens (`self`,
/// `__scope_*` locals) that should point at the user's tokens in errors take. Only the user's
/// own tokens keep their spans, so that a model declared by a `macro_rules!` macro from its
/// fragments resolves the same as one written out.
fn at(user: Span) -> Span {
    Span::call_site().located_at(user)
}

/// The private local a field's value is bound to while the model is built: fields are not
/// locals, so no name of the user's (a `const` used as a dimension, a function, `Ok`) is
/// shadowed by one.
fn local(field: &Ident) -> Ident {
    format_ident!("__scope_field_{}", unraw(field))
}

/// The hidden field that holds a model's scope. A `#[derive(Clone)]` written above
/// `#[variable_scope]` sees the struct before the field is added, and rustc's only error is
/// "missing field `..` in initializer" at the derive: the field's name is that error's fix.
fn handle() -> Ident {
    format_ident!("__scope_handle_put_variable_scope_above_derives")
}

/// The one place that names the runtime: `::scope::__private`, or `path::__private` for a
/// model declared with `crate = path` (a renamed dependency).
fn private(def: &ModelDef) -> TokenStream {
    match &def.krate {
        Some(krate) => quote!(#krate::__private),
        None => quote!(::scope::__private),
    }
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
    let travel = travelling_attrs(def);
    for item in [constructor(def), model_impl(def), debug_impl(def)] {
        out.extend(quote!(#travel #item));
    }
    out
}

/// What the struct's attributes say of the impls generated for it: its `#[cfg(..)]`s (so that
/// they exist exactly when the struct does), and, on a `#[deprecated]` struct, leave to use it
/// (so that only the user's own uses warn).
pub(crate) fn travelling_attrs(def: &ModelDef) -> TokenStream {
    let mut out = TokenStream::new();
    for attr in &def.attrs {
        if attr.path().is_ident("cfg") {
            out.extend(attr.to_token_stream());
        }
    }
    if def.attrs.iter().any(|a| a.path().is_ident("deprecated")) {
        out.extend(quote!(#[allow(deprecated)]));
    }
    out
}

fn scope_lit(def: &ModelDef) -> LitStr {
    def.scope.clone().expect("checked models have a scope name")
}

/// `impl Rnn { pub fn new(reg, args..) }`.
fn constructor(def: &ModelDef) -> TokenStream {
    let p = private(def);
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
    let p = &private(def);
    let ident = &def.ident;
    let scope = scope_lit(def);
    let arg_types = def.args.iter().map(|a| &a.ty);
    let arg_names = def.args.iter().map(|a| &a.ident);
    let mut manifest: Vec<TokenStream> = options::defaults_entry(p, &def.defaults)
        .into_iter()
        .collect();
    manifest.extend(manifest_entries(p, &def.items));
    let enter = if def.defaults.is_empty() {
        quote!(#p::ModelScope::enter(__scope_reg, __scope_name)?)
    } else {
        let defaults = options::defaults_args(p, &def.defaults);
        quote!(#p::ModelScope::enter_with(__scope_reg, __scope_name, #defaults)?)
    };
    let locals: Vec<String> = fields(&def.items).into_iter().map(unraw).collect();
    let mut ties = TokenStream::new();
    check_ties_first(p, &def.items, "", &locals, &mut ties);
    let mut body = TokenStream::new();
    build_items(p, &def.items, 1, &locals, &mut Vec::new(), &mut body);
    let fields = fields(&def.items);
    // Moved in last, after every part that borrows them is built.
    let kept = def.kept.iter().map(|k| &k.ident);
    // At the field's place: a field that is no `Variable` is reported there.
    let values = fields.iter().map(|f| {
        let mut value = local(f);
        value.set_span(at(f.span()));
        value
    });
    let visit: Vec<TokenStream> = visit_items(p, &def.items);
    // Fields named `W` or `Ok` are bound to `__scope_field_W`, `__scope_field_Ok`.
    let allow = fields
        .iter()
        .any(|f| unraw(f).chars().any(|c| c.is_uppercase()))
        .then(|| quote!(#[allow(non_snake_case)]));
    let handle = handle();
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

            #allow
            fn build_in(
                __scope_reg: &#p::Registry,
                __scope_name: &str,
                (#(#arg_names,)*): Self::Args,
            ) -> #p::Result<Self> {
                // All or nothing: a failure puts the registry back as it was.
                #p::atomic_build(__scope_reg, || {
                    #ties
                    let __scope_guard = #enter;
                    #body
                    ::core::result::Result::Ok(Self {
                        #(#fields: #values,)*
                        #(#kept,)*
                        #handle: ::core::clone::Clone::clone(__scope_guard.scope()),
                    })
                })
            }

            fn scope(&self) -> &#p::VariableScope {
                &self.#handle
            }

            fn for_each_variable(&self, #visitor: &mut dyn ::core::ops::FnMut(&#p::Variable)) {
                #(#visit)*
            }
        }
    }
}

/// Whether a tied variable is checked before the model opens its scope: unless its
/// expression names a field of the model (an earlier part), which exists only in order.
fn tie_first(var: &VarDecl, locals: &[String]) -> bool {
    var.tied
        .as_ref()
        .is_some_and(|tied| !mentions_local(&tied.expr, locals))
}

/// Whether `tokens` use one of `locals` as a variable (not as `.field` or `path::item`).
fn mentions_local(tokens: &TokenStream, locals: &[String]) -> bool {
    use proc_macro2::TokenTree;
    let mut after_path_punct = false;
    for tt in tokens.clone() {
        let mentions = match &tt {
            TokenTree::Ident(ident) => !after_path_punct && locals.contains(&unraw(ident)),
            TokenTree::Group(g) => mentions_local(&g.stream(), locals),
            _ => false,
        };
        if mentions {
            return true;
        }
        after_path_punct = matches!(&tt, TokenTree::Punct(p) if matches!(p.as_char(), '.' | ':'));
    }
    false
}

/// The checks of the tied variables that [`tie_first`] hoists, with their paths in the model
/// (`cls/output_weights`): a failed tie then creates nothing and opens no scope.
fn check_ties_first(
    p: &TokenStream,
    items: &[Item],
    path: &str,
    locals: &[String],
    out: &mut TokenStream,
) {
    for item in items {
        match item {
            Item::Var(var) if tie_first(var, locals) => {
                if let Some(tie) = &var.tied {
                    let local = local(&var.field);
                    let label = format!("{path}{}", unraw(&var.ident));
                    let value = tied(p, var, tie, quote!(__scope_name), &label);
                    out.extend(quote! {
                        let #local = #value;
                    });
                }
            }
            Item::Scope(sub) => {
                let path = format!("{path}{}/", sub.scope_name().0);
                check_ties_first(p, &sub.items, &path, locals, out);
            }
            Item::Var(_) | Item::Model(_) => {}
        }
    }
}

/// The statements that build `items`, in declaration order; `depth` numbers the guards of
/// nested sub-scopes, `built` holds the fields built so far (which a tie may refer to).
fn build_items<'a>(
    p: &TokenStream,
    items: &'a [Item],
    depth: usize,
    locals: &[String],
    built: &mut Vec<&'a Ident>,
    out: &mut TokenStream,
) {
    for item in items {
        match item {
            // Checked before the scope was opened.
            Item::Var(var) if tie_first(var, locals) => {}
            Item::Var(var) => {
                match &var.tied {
                    Some(tie) => out.extend(tie_to_parts(p, var, tie, built)),
                    None => {
                        let local = local(&var.field);
                        let value = build_var(p, var);
                        out.extend(quote! {
                            let #local = #value;
                        });
                    }
                }
                built.push(&var.field);
            }
            Item::Model(model) => {
                let mut refs = model.args.iter().cloned().collect::<TokenStream>();
                refs.extend(model.whole_args.clone());
                out.extend(lend_parts(
                    &model.field,
                    &refs,
                    build_model(p, model),
                    built,
                ));
                built.push(&model.field);
            }
            Item::Scope(sub) => {
                let guard = format_ident!("__scope_sub_{}", depth);
                let (name, span) = sub.scope_name();
                let name = LitStr::new(&name, span);
                let calls = options::scope_builder_calls(p, &sub.defaults);
                out.extend(quote! {
                    let #guard = __scope_reg.variable_scope(#name)#calls.enter()?;
                });
                build_items(p, &sub.items, depth + 1, locals, built, out);
                out.extend(quote! {
                    #guard.exit();
                });
            }
        }
    }
}

/// A tie checked in declaration order: the one place that sees the model's own parts. The
/// fields built so far that its expression names are lent to it under their own names, and
/// taken back afterwards.
fn tie_to_parts(p: &TokenStream, var: &VarDecl, tie: &KeyExpr, built: &[&Ident]) -> TokenStream {
    let value = tied(p, var, tie, quote!(""), &unraw(&var.ident));
    lend_parts(&var.field, &tie.expr, value, built)
}

/// `let <field's local> = value;`, where `value` may name the model's parts built so far
/// (`refs` are the user's tokens in it): a nested model's arguments may pass an earlier
/// part on (BERT's masked-LM head gets the word-embedding table), as a tie may. Only the
/// parts `refs` name are lent, under their own names, and taken back afterwards; nothing
/// else of the generated code is visible to the user's tokens.
fn lend_parts(
    field: &Ident,
    refs: &TokenStream,
    value: TokenStream,
    built: &[&Ident],
) -> TokenStream {
    let target = local(field);
    let named: Vec<&Ident> = built
        .iter()
        .copied()
        .filter(|f| mentions_local(refs, &[unraw(f)]))
        .collect();
    if named.is_empty() {
        return quote! {
            let #target = #value;
        };
    }
    let locals: Vec<Ident> = named.iter().map(|f| local(f)).collect();
    quote! {
        let (#(#locals,)* #target) = {
            #(let #named = #locals;)*
            let __scope_tied = #value;
            (#(#named,)* __scope_tied)
        };
    }
}

/// `if flag { Some(value) } else { None }` for a `when = flag` part.
fn optional(when: Option<&KeyExpr>, value: TokenStream) -> TokenStream {
    match when {
        // The condition keeps its tokens' spans: a non-`bool` is reported there.
        Some(when) => {
            let cond = &when.expr;
            quote! {
                if #cond {
                    ::core::option::Option::Some(#value)
                } else {
                    ::core::option::Option::None
                }
            }
        }
        None => value,
    }
}

/// The check of a tied variable, labelled `label` in errors, for the model in `model_scope`
/// inside the current scope.
fn tied(
    p: &TokenStream,
    var: &VarDecl,
    tied: &KeyExpr,
    model_scope: TokenStream,
    label: &str,
) -> TokenStream {
    let owner = &tied.expr;
    let shape = match &var.shape {
        Some(shape) => shape_array(shape),
        None => quote!([0usize; 0]),
    };
    let dtype = dtype_option(p, var);
    // Spanned on the owner expression: "not a `Variable`" is reported there (the borrow
    // too, or the error would span the whole macro).
    let check = quote_spanned!(owner.span()=> #p::tied_variable);
    let borrow = quote_spanned!(owner.span()=> &);
    quote! {
        #check(__scope_reg, #model_scope, #label, #borrow #owner, &#shape, #dtype)?
    }
}

/// The expression that gets one variable.
fn build_var(p: &TokenStream, var: &VarDecl) -> TokenStream {
    let name = var_name_lit(var);
    let spec = var_spec(p, var);
    let get = if var.partitioner.is_some() {
        quote!(get_partitioned_variable)
    } else {
        quote!(get_variable)
    };
    optional(var.when.as_ref(), quote!(__scope_reg.#get(#name, #spec)?))
}

/// The expression that builds one nested model (or the `Vec` of a repeated one).
fn build_model(p: &TokenStream, model: &ModelField) -> TokenStream {
    let (ty, args) = (&model.ty, &model.args);
    // Spanned on the user's type: "not a Model" is reported there, once.
    let ty_span = ty.span();
    let build_in = quote_spanned!(ty_span=> <#ty as #p::Model>::build_in);
    let args = match &model.whole_args {
        Some(whole) => whole.clone(),
        None => quote_spanned!(model.args_span=> (#(#args,)*)),
    };
    // The arguments are bound to a local of type `Args` first: "wrong arguments" is reported
    // at them, and the local, at the type's very span, only repeats "not a Model" where it
    // already is (rustc reports a failed bound once per span). Nothing of the user's can
    // see it: it is declared after the arguments and used once, right after.
    let args_local = Ident::new("__scope_args", ty_span);
    let args_ty = quote_spanned!(ty_span=> <#ty as #p::Model>::Args);
    let bind_args = quote!(let #args_local: #args_ty = #args;);
    if let Some(repeat) = &model.repeat {
        let count = &repeat.expr;
        let (pattern, span) = model.repeat_pattern();
        let pattern = LitStr::new(&pattern.expect("checked").text(), span);
        let count = quote_spanned!(at(count.span())=> let __scope_count: usize = #count;);
        return optional(
            model.when.as_ref(),
            quote! {
                {
                    #count
                    let mut __scope_models = ::std::vec::Vec::new();
                    for __scope_i in 0..__scope_count {
                        let __scope_element = #p::repeated_scope_name(#pattern, __scope_i);
                        #bind_args
                        __scope_models.push(#build_in(__scope_reg, &__scope_element, #args_local)?);
                    }
                    __scope_models
                }
            },
        );
    }
    let value = if let Some(default) = &model.default_name {
        let base = match &default.base {
            Some(lit) => lit.to_token_stream(),
            None => quote_spanned!(ty_span=> <#ty as #p::Model>::SCOPE),
        };
        let build_here = quote_spanned!(ty_span=> <#ty as #p::Model>::build_here);
        quote! {
            let __scope_layer = #p::ModelScope::enter_default_name(__scope_reg, #base)?;
            #bind_args
            #build_here(__scope_reg, #args_local)?
        }
    } else {
        let scope = nested_scope(p, model);
        quote! {
            #bind_args
            #build_in(__scope_reg, #scope, #args_local)?
        }
    };
    optional(model.when.as_ref(), quote!({ #value }))
}

/// The scope a nested model opens: its override, or its type's `Model::SCOPE`.
fn nested_scope(p: &TokenStream, model: &ModelField) -> TokenStream {
    let ty = &model.ty;
    match &model.scope {
        Some(lit) => lit.to_token_stream(),
        None => quote_spanned!(ty.span()=> <#ty as #p::Model>::SCOPE),
    }
}

/// `[d0, d1, ..]`, spanned on the user's brackets, so that a dimension of the wrong type is
/// reported there rather than on the whole macro.
fn shape_array(shape: &crate::ast::ShapeDecl) -> TokenStream {
    let dims = &shape.dims;
    if dims.is_empty() {
        quote_spanned!(shape.span=> [0usize; 0])
    } else {
        quote_spanned!(shape.span=> [#(#dims),*])
    }
}

/// `Some(DType::F32)` or `None`.
fn dtype_option(p: &TokenStream, var: &VarDecl) -> TokenStream {
    match &var.dtype {
        Some(d) => {
            let variant = Ident::new(d.variant, d.ident.span());
            quote!(::core::option::Option::Some(#p::DType::#variant))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn var_name_lit(var: &VarDecl) -> LitStr {
    let (name, span) = var.var_name();
    LitStr::new(&name, span)
}

/// `VarSpec::new().shape([..]).dtype(..).initializer(..).trainable(..)`.
fn var_spec(p: &TokenStream, var: &VarDecl) -> TokenStream {
    let mut spec = quote!(#p::VarSpec::new());
    if let Some(shape) = &var.shape {
        let array = shape_array(shape);
        spec.extend(quote!(.shape(#array)));
    }
    if let Some(dtype) = &var.dtype {
        let variant = Ident::new(dtype.variant, dtype.ident.span());
        spec.extend(quote!(.dtype(#p::DType::#variant)));
    }
    if let Some(init) = &var.init {
        let init = initializer(p, init);
        spec.extend(quote!(.initializer(#init)));
    }
    if let Some(trainable) = &var.trainable {
        spec.extend(quote!(.trainable(#trainable)));
    }
    if let Some(partitioner) = &var.partitioner {
        let partitioner = partitioner_value(p, partitioner);
        spec.extend(quote!(.partitioner(#partitioner)));
    }
    spec.extend(options::var_spec_options(p, var));
    spec
}

/// `Partitioner::fixed_size(4, 0)` with TF's defaults filled in, or the user's expression
/// through `__private::value_of` (which takes a `Partitioner` or a reference to one).
fn partitioner_value(p: &TokenStream, decl: &PartitionerDecl) -> TokenStream {
    let Some((kind, ident, args)) = &decl.known else {
        return options::value_of(p, "Partitioner", &decl.tokens);
    };
    let ctor = Ident::new(kind.name(), ident.span());
    let first = &args[0];
    let axis = args.get(1).cloned().unwrap_or_else(|| quote!(0));
    let third = args.get(2);
    let rest = match kind {
        PartitionerKind::FixedSize => quote!(),
        PartitionerKind::VariableAxisSize => match third {
            Some(max) => quote!(, ::core::option::Option::Some(#max)),
            None => quote!(, ::core::option::Option::None),
        },
        PartitionerKind::MinMax => match third {
            Some(min) => quote!(, #min),
            None => quote!(, 262144),
        },
    };
    quote!(#p::Partitioner::#ctor(#first, #axis #rest))
}

fn initializer(p: &TokenStream, init: &InitDecl) -> TokenStream {
    let args: Vec<TokenStream> = match init.kind {
        InitKind::Value => init.args.clone(),
        _ => init.args.iter().map(|arg| float_arg(p, arg)).collect(),
    };
    let args = &args;
    let span = init.ident.span();
    let init_ty = quote!(#p::Initializer);
    match init.kind {
        InitKind::Zeros => quote!(#init_ty::Zeros),
        InitKind::Ones => quote!(#init_ty::Ones),
        InitKind::GlorotUniform => quote!(#init_ty::GlorotUniform),
        InitKind::Constant => {
            // A literal picks the variant TF's Python type would; anything else (a `const`, a
            // config field) goes through `ConstantArg`, implemented for every number and bool.
            let arg = &init.args[0];
            match Number::of(arg) {
                Some((number, lit_span)) => {
                    let variant = match number {
                        Number::Float(_) => quote!(Constant),
                        Number::Int(_) => quote!(ConstantInt),
                        Number::Bool(_) => quote!(ConstantBool),
                    };
                    let value = number.tokens(lit_span);
                    quote!(#init_ty::#variant(#value))
                }
                None => quote_spanned!(arg.span()=> #p::constant(#arg)),
            }
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

/// An `f64` parameter of an initializer: a literal as an unsuffixed float, any other
/// expression through `float_arg` (`Into<f64>`), so that an `f32` field of a config
/// (`cfg.initializer_range`) works too, and an `f64` one raises no `useless_conversion`.
fn float_arg(p: &TokenStream, arg: &TokenStream) -> TokenStream {
    if let Some(tokens) = Number::of(arg).and_then(|(n, span)| n.float_tokens(span)) {
        return tokens;
    }
    quote_spanned!(arg.span()=> #p::float_arg(#arg))
}

fn visit_items(p: &TokenStream, items: &[Item]) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for item in items {
        match item {
            // The owner visits a tied variable.
            Item::Var(v) if v.tied.is_some() => {}
            Item::Var(v) if v.partitioner.is_some() => {
                let field = &v.field;
                out.push(match &v.when {
                    Some(_) => quote_spanned!(at(field.span())=>
                        if let ::core::option::Option::Some(__scope_p) = &self.#field {
                            for __scope_v in __scope_p.parts() {
                                __scope_f(__scope_v);
                            }
                        }
                    ),
                    None => quote_spanned!(at(field.span())=>
                        for __scope_v in self.#field.parts() {
                            __scope_f(__scope_v);
                        }
                    ),
                });
            }
            Item::Var(v) => {
                let field = &v.field;
                out.push(match &v.when {
                    Some(_) => quote_spanned!(at(field.span())=>
                        if let ::core::option::Option::Some(__scope_v) = &self.#field {
                            __scope_f(__scope_v);
                        }
                    ),
                    None => quote_spanned!(at(field.span())=> __scope_f(&self.#field);),
                });
            }
            Item::Model(m) => {
                let (field, ty) = (&m.field, &m.ty);
                // The path carries the type's span, so that "not a Model" is the same error
                // as the one `build_in` gets, and rustc reports it once; `self` and the
                // visitor keep the macro's hygiene.
                let visit_fn = quote_spanned!(ty.span()=> <#ty as #p::Model>::for_each_variable);
                let span = at(ty.span());
                out.push(if m.repeat.is_some() {
                    quote_spanned! {span=>
                        for __scope_m in &self.#field {
                            #visit_fn(__scope_m, __scope_f);
                        }
                    }
                } else if m.when.is_some() {
                    quote_spanned! {span=>
                        if let ::core::option::Option::Some(__scope_m) = &self.#field {
                            #visit_fn(__scope_m, __scope_f);
                        }
                    }
                } else {
                    quote_spanned!(span=> #visit_fn(&self.#field, __scope_f);)
                });
            }
            Item::Scope(s) => out.extend(visit_items(p, &s.items)),
        }
    }
    out
}

/// `Rnn { __scope: "rnn", input_layer_weights: .., .. }`. The scope's label takes the
/// `__scope` prefix that fields may not use, so that it can never clash with a field's (a
/// variable may well be called `scope`).
fn debug_impl(def: &ModelDef) -> TokenStream {
    let ident = &def.ident;
    let name = ident.to_string();
    let handle = handle();
    let p = private(def);
    let mut entries = TokenStream::new();
    let mut has_models = false;
    debug_entries(&p, &def.items, &mut entries, &mut has_models);
    let uses = has_models.then(|| quote!(use #p::{DebugModelPart as _, DebugNotAModel as _};));
    quote! {
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #uses
                f.debug_struct(#name)
                    .field("__scope", &self.#handle.name())
                    #entries
                    .finish()
            }
        }
    }
}

/// `.field("name", value)` for every field of `items`. A nested model's field is shown through
/// `__private::DebugPart`, so that a type that is no model (so not `Debug` either) is the one
/// error "not a `scope::Model`".
fn debug_entries(p: &TokenStream, items: &[Item], out: &mut TokenStream, has_models: &mut bool) {
    for item in items {
        match item {
            Item::Var(var) => {
                let (field, label) = (&var.field, unraw(&var.field));
                out.extend(quote_spanned!(at(field.span())=> .field(#label, &self.#field)));
            }
            Item::Model(model) => {
                let (field, label) = (&model.field, unraw(&model.field));
                let value = quote_spanned!(at(field.span())=> &self.#field);
                *has_models = true;
                out.extend(quote! {
                    .field(#label, (&&#p::DebugPart(#value)).debug_part())
                });
            }
            Item::Scope(sub) => debug_entries(p, &sub.items, out, has_models),
        }
    }
}

#[cfg(test)]
mod tests;
