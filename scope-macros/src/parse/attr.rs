//! `#[variable_scope("name", arg: Type, ..)]` on a struct with named fields, and the field
//! attributes `#[var(..)]` and `#[model(..)]`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitStr, Token};

use crate::ast::{Arg, Header, Item, Kept, ModelDef, ModelField, ScopeDefaults, Source, VarDecl};
use crate::ctxt::Ctxt;
use crate::parse::split::{take_until_comma, Angles};
use crate::parse::var_attr::{apply_default_key, DEFAULT_KEYS};
use crate::parse::{apply_model_keys, apply_var_keys, attr_list_tokens};

/// A variable declared as `ident` with nothing set yet.
pub(crate) fn empty_var(ident: Ident) -> VarDecl {
    VarDecl {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        field: ident.clone(),
        ident,
        name: None,
        shape: None,
        init: None,
        dtype: None,
        trainable: None,
        when: None,
        tied: None,
        partitioner: None,
        regularizer: None,
        constraint: None,
        collections: None,
        incomplete: false,
    }
}

/// `(crate = path,)? "scope" (, ident: Type | , custom_getter = expr | , regularizer = ..)*
/// (, crate = path)?`, shared by both macros.
/// Records what is wrong; `Err` only when the arguments do not parse at all.
pub(crate) fn parse_header(input: ParseStream<'_>, cx: &Ctxt, span: Span) -> syn::Result<Header> {
    let example = "the scope name as a string literal, e.g. (\"rnn\", in_size: usize)";
    let mut krate = None;
    if input.peek(Token![crate]) {
        parse_crate_key(input, &mut krate, cx)?;
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    let scope = if input.peek(LitStr) {
        Some(input.parse::<LitStr>()?)
    } else if input.peek(Lit) {
        let lit: Lit = input.parse()?;
        cx.error_spanned_by(&lit, format!("expected {example}"));
        None
    } else if input.peek(syn::Ident) && !input.peek2(Token![:]) {
        let ident: Ident = input.parse()?;
        cx.error_spanned_by(
            &ident,
            format!("expected the scope name as a string literal: write \"{ident}\""),
        );
        None
    } else {
        let at = if input.is_empty() { span } else { input.span() };
        cx.error_at(at, format!("missing scope name: expected {example}"));
        None
    };
    let mut args = Vec::new();
    let mut defaults = ScopeDefaults::default();
    if (scope.is_some() || !input.peek(syn::Ident)) && !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    while !input.is_empty() {
        if input.peek(Token![crate]) {
            parse_crate_key(input, &mut krate, cx)?;
        } else if input.peek(syn::Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value = take_until_comma(input, Angles::Expr);
            if value.is_empty() {
                cx.error_spanned_by(&key, format!("expected a value after `{key} =`"));
            } else if !apply_default_key(&key, value, &mut defaults, "the header", cx) {
                cx.error_spanned_by(
                    &key,
                    format!(
                        "unknown key `{key}` in the header; expected one of: {DEFAULT_KEYS}, \
                         crate (constructor arguments are written `name: Type`)"
                    ),
                );
            }
        } else {
            let ident: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: syn::Type = input.parse()?;
            args.push(Arg { ident, ty });
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(Header {
        krate,
        scope,
        args,
        defaults,
    })
}

/// `crate = path` or `crate = "path"` (as serde's `#[serde(crate = "..")]`): where generated
/// code finds the `scope` crate when it is renamed.
fn parse_crate_key(
    input: ParseStream<'_>,
    krate: &mut Option<syn::Path>,
    cx: &Ctxt,
) -> syn::Result<()> {
    let key: Token![crate] = input.parse()?;
    input.parse::<Token![=]>()?;
    let path = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        match lit.parse_with(syn::Path::parse_mod_style) {
            Ok(path) => Some(path),
            Err(_) => {
                cx.error_spanned_by(
                    &lit,
                    format!(
                        "`crate` takes the path of the `scope` crate, e.g. `crate = tf`; `{}` \
                         is no path",
                        lit.value()
                    ),
                );
                None
            }
        }
    } else {
        Some(input.call(syn::Path::parse_mod_style)?)
    };
    if krate.is_some() {
        cx.error_spanned_by(key, "duplicate `crate`: give the path of `scope` once");
    } else if let Some(path) = path {
        *krate = Some(path);
    }
    Ok(())
}

/// Parses the attribute's arguments and the struct it is on.
///
/// `Err` only if the item is not a struct-like item at all; every other mistake is recorded
/// in `cx` and the IR is built from what could be read.
pub(crate) fn parse(args: TokenStream, input: TokenStream, cx: &Ctxt) -> syn::Result<ModelDef> {
    let mut input: DeriveInput = syn::parse2(input)?;
    // A second `#[variable_scope]` below this one would run on what this one emits (no
    // `#[var]`s left, a handle field, impls twice): reported here once, and dropped.
    input.attrs.retain(|attr| {
        let again = attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "variable_scope");
        if again {
            cx.error_spanned_by(
                attr,
                "`#[variable_scope]` is applied twice: remove this one (the one above already \
                 makes the struct a model)",
            );
        }
        !again
    });
    let header_span = if args.is_empty() {
        input.ident.span()
    } else {
        Span::call_site()
    };
    let header = match (|s: ParseStream<'_>| parse_header(s, cx, header_span)).parse2(args) {
        Ok(header) => header,
        Err(err) => {
            cx.syn_error(err);
            Header {
                krate: None,
                scope: None,
                args: Vec::new(),
                defaults: ScopeDefaults::default(),
            }
        }
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[variable_scope] models cannot be generic: their manifest and scope are static",
        );
    }
    let mut items = Vec::new();
    let mut kept = Vec::new();
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => {
                for field in &fields.named {
                    match parse_field(field, &header.args, cx) {
                        Some(Field::Item(item)) => items.push(*item),
                        Some(Field::Kept(k)) => kept.push(k),
                        None => {}
                    }
                }
            }
            Fields::Unnamed(_) | Fields::Unit => cx.error_spanned_by(
                &input.ident,
                "#[variable_scope] needs a struct with named fields: one per variable or model",
            ),
        },
        Data::Enum(data) => cx.error_spanned_by(
            data.enum_token,
            "#[variable_scope] goes on a struct, not an enum",
        ),
        Data::Union(data) => cx.error_spanned_by(
            data.union_token,
            "#[variable_scope] goes on a struct, not a union",
        ),
    }
    Ok(ModelDef {
        attrs: input.attrs.clone(),
        vis: input.vis.clone(),
        ident: input.ident.clone(),
        scope: header.scope,
        args: header.args,
        defaults: header.defaults,
        kept,
        items,
        source: Source::Attribute(Box::new(input)),
        krate: header.krate,
    })
}

/// Whether `attr` is one of the field helper attributes the macro consumes.
pub(crate) fn is_helper(attr: &syn::Attribute) -> bool {
    ["var", "model", "keep"]
        .iter()
        .any(|name| attr.path().is_ident(name))
}

/// What a field of a `#[variable_scope]` struct is.
enum Field {
    Item(Box<Item>),
    Kept(Kept),
}

/// `#[keep]`: reports arguments (`#[keep(..)]`, `#[keep = ..]`), which it takes none of.
pub(crate) fn check_keep_attr(attr: &syn::Attribute, cx: &Ctxt) {
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        cx.error_spanned_by(
            attr,
            "`#[keep]` takes no arguments: the field keeps the constructor argument of its name",
        );
    }
}

/// One field; `args` are the model's constructor arguments (a plain field named as one is
/// told about `#[keep]`).
fn parse_field(field: &syn::Field, args: &[Arg], cx: &Ctxt) -> Option<Field> {
    let ident = field.ident.clone()?;
    let mut var: Option<&syn::Attribute> = None;
    let mut model: Option<&syn::Attribute> = None;
    let mut keep: Option<&syn::Attribute> = None;
    let mut kept = Vec::new();
    for attr in &field.attrs {
        if is_helper(attr) {
            if let Some(first) = var.or(model).or(keep) {
                let first = first.path().get_ident().map(Ident::to_string);
                let first = first.as_deref().unwrap_or("var");
                cx.error_spanned_by(
                    attr,
                    format!(
                        "field `{ident}` already has #[{first}]: a field is one variable, one \
                         model or one kept argument"
                    ),
                );
            } else if attr.path().is_ident("var") {
                var = Some(attr);
            } else if attr.path().is_ident("model") {
                model = Some(attr);
            } else {
                check_keep_attr(attr, cx);
                keep = Some(attr);
            }
        } else if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
            cx.error_spanned_by(
                attr,
                "#[cfg] on a model field is not supported: #[variable_scope] runs before cfg is \
                 evaluated, so the variable would still be created; declare a second model instead",
            );
        } else {
            kept.push(attr.clone());
        }
    }
    if keep.is_some() {
        // The field keeps its type as written: rustc checks it against the argument's.
        return Some(Field::Kept(Kept {
            attrs: kept,
            vis: field.vis.clone(),
            ident,
        }));
    }
    if let Some(attr) = var {
        let mut decl = empty_var(ident.clone());
        decl.attrs = kept;
        decl.vis = field.vis.clone();
        let before = cx.count();
        if let Some(tokens) = attr_list_tokens(attr, cx) {
            apply_var_keys(tokens, &mut decl, cx);
        }
        // Checked as written, so that a wrong type is one error here rather than one in
        // every generated use of the field.
        let (holds, what) = if decl.partitioner.is_some() && decl.tied.is_none() {
            (
                "PartitionedVariable",
                "a partitioned `#[var]` field holds its parts",
            )
        } else {
            ("Variable", "a `#[var]` field holds the variable")
        };
        // A key that did not parse (a misspelt partitioner) would make the type look wrong.
        let keys_ok = cx.count() == before;
        match &decl.when {
            _ if !keys_ok => {}
            Some(when) if !inner_type(&field.ty, "Option").is_some_and(|t| is_named(t, holds)) => {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "`{}` makes the variable optional: declare the field `Option<{holds}>`",
                        when.key
                    ),
                );
            }
            Some(_) => {}
            None if !is_named(&field.ty, holds) => {
                let hint = if decl.partitioner.is_some() {
                    ""
                } else if is_named(&field.ty, "PartitionedVariable") {
                    " (a `PartitionedVariable` field takes `partitioner = ..`)"
                } else {
                    " (a nested model takes `#[model]` instead)"
                };
                cx.error_spanned_by(
                    ungroup(&field.ty),
                    format!("{what}: declare `{ident}: {holds}`{hint}"),
                )
            }
            None => {}
        }
        decl.incomplete = cx.count() > before;
        return Some(Field::Item(Box::new(Item::Var(decl))));
    }
    if let Some(attr) = model {
        let mut nested = ModelField::new(ident.clone(), ident, field.ty.clone());
        nested.attrs = kept;
        nested.vis = field.vis.clone();
        if let Some(tokens) = attr_list_tokens(attr, cx) {
            apply_model_keys(tokens, &mut nested, &mut None, cx);
        }
        // The field holds a `Vec` or an `Option` of the model; `ty` is the model's type.
        let wrapper = if nested.repeat.is_some() {
            Some(("Vec", "repeat", "holds the models in a `Vec`"))
        } else if nested.when.is_some() {
            Some(("Option", "when", "makes the model optional"))
        } else {
            None
        };
        if let Some((wrapper, key, what)) = wrapper {
            match inner_type(&field.ty, wrapper) {
                Some(inner) => nested.ty = inner.clone(),
                None => {
                    let ty = crate::ast::tokens_text(&field.ty.to_token_stream());
                    cx.error_spanned_by(
                        &field.ty,
                        format!("`{key}` {what}: declare the field `{wrapper}<{ty}>`"),
                    );
                }
            }
        }
        return Some(Field::Item(Box::new(Item::Model(nested))));
    }
    let fix = if args.iter().any(|a| a.ident == ident) {
        format!(
            "add `#[keep]` to keep the constructor argument `{ident}`, `#[var(shape = [..])]` \
             for a variable, or `#[model]` for a nested model"
        )
    } else {
        "add `#[var(shape = [..])]` for a variable or `#[model]` for a nested model".to_owned()
    };
    cx.error_spanned_by(
        &ident,
        format!("field `{ident}` is neither a variable nor a model: {fix}"),
    );
    None
}

/// `ty` without the invisible group a `macro_rules!` `$t:ty` fragment puts around it, so that
/// an error points at the caller's tokens.
fn ungroup(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Group(g) => ungroup(&g.elem),
        other => other,
    }
}

/// Whether `ty` is written as `name` (`Variable`, `scope::Variable`, ...), as a `#[var]`
/// field must be (`PartitionedVariable` for a partitioned one).
fn is_named(ty: &syn::Type, name: &str) -> bool {
    match ty {
        syn::Type::Group(g) => is_named(&g.elem, name),
        syn::Type::Paren(p) => is_named(&p.elem, name),
        syn::Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == name && s.arguments.is_none())
        }
        _ => false,
    }
}

/// `T` of `Vec<T>` (or `std::vec::Vec<T>`) when `wrapper` is `Vec`, and so on.
fn inner_type<'a>(ty: &'a syn::Type, wrapper: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if path.qself.is_some() || last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [syn::GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn run(args: TokenStream, input: TokenStream) -> (Option<ModelDef>, usize) {
        let cx = Ctxt::new();
        let def = parse(args, input, &cx).ok();
        let n = cx.check().map_or_else(|e| e.into_iter().count(), |()| 0);
        (def, n)
    }

    #[test]
    fn parses_a_layer() {
        let (def, errors) = run(
            quote!("dense", in_size: usize, units: usize),
            quote! {
                /// A dense layer.
                pub struct Dense {
                    /// The weights.
                    #[var(shape = [in_size, units], init = random_normal(0.0, 0.5))]
                    pub weights: Variable,
                    #[var(shape = [units], init = constant(0.1), name = "b")]
                    pub biases: Variable,
                    #[model(scope = "cell", args(units))]
                    pub cell: Cell,
                }
            },
        );
        assert_eq!(errors, 0);
        let def = def.unwrap();
        assert_eq!(def.scope.unwrap().value(), "dense");
        assert_eq!(def.args.len(), 2);
        assert_eq!(def.items.len(), 3);
        let Item::Var(b) = &def.items[1] else {
            panic!("a variable")
        };
        assert_eq!(b.var_name().0, "b");
    }

    #[test]
    fn reports_every_field_at_once() {
        let (def, errors) = run(
            quote!(rnn),
            quote! {
                struct S<T> {
                    plain: T,
                    #[var(shape = [1])] #[model] both: Variable,
                    #[cfg(test)] #[var(shape = [1])] gated: Variable,
                    #[var(init = normal)] bad_init: Variable,
                }
            },
        );
        // unquoted scope, generics, plain, both, cfg, unknown initializer
        assert_eq!(errors, 6);
        assert_eq!(def.unwrap().items.len(), 3);
    }

    #[test]
    fn repeated_and_optional_fields_unwrap_their_type() {
        let (def, errors) = run(
            quote!("bert", n: usize, flag: bool),
            quote! {
                pub struct Encoder {
                    #[model(repeat = n)]
                    pub layer: Vec<Layer>,
                    #[model(when = flag)]
                    pub pooler: ::core::option::Option<Dense>,
                    #[var(when = flag, shape = [2])]
                    pub token_type: Option<Variable>,
                    #[model(repeat = n)]
                    pub wrong: Layer,
                    #[var(when = flag, shape = [2])]
                    pub plain: Variable,
                }
            },
        );
        // wrong, plain
        assert_eq!(errors, 2);
        let def = def.unwrap();
        let Item::Model(layer) = &def.items[0] else {
            panic!("a model")
        };
        assert_eq!(layer.ty.to_token_stream().to_string(), "Layer");
        let Item::Model(pooler) = &def.items[1] else {
            panic!("a model")
        };
        assert_eq!(pooler.ty.to_token_stream().to_string(), "Dense");
    }

    #[test]
    fn applied_twice_is_one_error_and_dropped() {
        let (def, errors) = run(
            quote!("a"),
            quote! {
                #[scope::variable_scope("a")]
                #[derive(Clone)]
                struct S {
                    #[var(shape = [1])]
                    w: Variable,
                }
            },
        );
        assert_eq!(errors, 1);
        let attrs = def.unwrap().attrs;
        assert_eq!(attrs.len(), 1);
        assert!(attrs[0].path().is_ident("derive"));
    }

    #[test]
    fn header_without_scope() {
        let (_, errors) = run(
            quote!(),
            quote!(
                struct S {}
            ),
        );
        assert_eq!(errors, 1);
        let (def, errors) = run(
            quote!(5, n: usize),
            quote!(
                struct S {}
            ),
        );
        assert_eq!(errors, 1);
        assert_eq!(def.unwrap().args.len(), 1);
    }

    #[test]
    fn rejects_tuple_structs_and_enums() {
        assert_eq!(
            run(
                quote!("a"),
                quote!(
                    struct S(u8);
                )
            )
            .1,
            1
        );
        assert_eq!(
            run(
                quote!("a"),
                quote!(
                    enum E {
                        A,
                    }
                )
            )
            .1,
            1
        );
    }
}
