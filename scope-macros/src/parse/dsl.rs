//! The `model!` grammar (documented on the macro):
//!
//! ```text
//! input     := model+
//! model     := attr* vis "struct" IDENT "(" header ")" "{" item* "}"
//! header    := ("crate" "=" PATH ",")? STRING ("," IDENT ":" TYPE | "," "crate" "=" PATH)* ","?
//! item      := attr* IDENT "{" item* "}" ","?                  anonymous sub-scope (`#[scope(name = "..")]`)
//!            | attr* IDENT ":" "model" TYPE ("(" expr,* ")")? ","   nested model
//!            | attr* IDENT ":" DTYPE? ("[" expr,* "]")? ("=" init)? ","   variable
//!            | "#[keep]" IDENT ","                                  a constructor argument kept as a field
//! ```

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{format_ident, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, Token, Visibility};

use crate::ast::{Header, Item, Kept, ModelDef, ModelField, ScopeDefaults, Source, SubScope};
use crate::ctxt::Ctxt;
use crate::parse::attr::{check_keep_attr, empty_var, parse_header};
use crate::parse::split::{take_until_comma, Angles};
use crate::parse::{
    apply_model_keys, apply_scope_keys, apply_var_keys, attr_list_tokens, flatten_invisible,
    parse_dtype, parse_init, parse_shape, split_commas,
};

mod kw {
    syn::custom_keyword!(model);
}

/// Parses every model of one `model!` invocation.
pub(crate) fn parse(input: TokenStream, cx: &Ctxt) -> syn::Result<Vec<ModelDef>> {
    (|input: ParseStream<'_>| {
        let mut models = Vec::new();
        while !input.is_empty() {
            models.push(parse_model(input, cx)?);
        }
        if models.is_empty() {
            return Err(input.error(
                "expected a model: `pub struct Name(\"scope\", arg: Type) { weights: [arg], .. }`",
            ));
        }
        Ok(models)
    })
    .parse2(input)
}

fn parse_model(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<ModelDef> {
    let attrs = Attribute::parse_outer(input)?;
    let vis: Visibility = input.parse()?;
    input.parse::<Token![struct]>()?;
    let ident: Ident = input.parse()?;
    if input.peek(Token![<]) {
        let generics: syn::Generics = input.parse()?;
        cx.error_spanned_by(
            &generics,
            "`model!` models cannot be generic: their `SCOPE`, `MANIFEST` and `Args` are static; \
             declare one model per concrete type",
        );
    }
    let header = if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        parse_header(&content, cx, ident.span())?
    } else {
        cx.error_spanned_by(
            &ident,
            format!("expected the scope after the name: `struct {ident}(\"scope\") {{ .. }}`"),
        );
        Header {
            krate: None,
            scope: None,
            args: Vec::new(),
            defaults: ScopeDefaults::default(),
        }
    };
    let content;
    syn::braced!(content in input);
    let mut kept = Vec::new();
    let items = parse_items(&content, &[], &mut kept, cx)?;
    for k in &mut kept {
        k.vis = vis.clone();
    }
    Ok(ModelDef {
        attrs,
        vis: vis.clone(),
        ident,
        scope: header.scope,
        args: header.args,
        defaults: header.defaults,
        kept,
        items: with_vis(items, &vis),
        source: Source::Dsl,
        krate: header.krate,
    })
}

/// Fields of a `model!` struct are as visible as the struct.
fn with_vis(items: Vec<Item>, vis: &Visibility) -> Vec<Item> {
    items
        .into_iter()
        .map(|item| match item {
            Item::Var(mut v) => {
                v.vis = vis.clone();
                Item::Var(v)
            }
            Item::Model(mut m) => {
                m.vis = vis.clone();
                Item::Model(m)
            }
            Item::Scope(s) => Item::Scope(SubScope {
                items: with_vis(s.items, vis),
                ..s
            }),
        })
        .collect()
}

fn parse_items(
    input: ParseStream<'_>,
    prefix: &[Ident],
    kept: &mut Vec<Kept>,
    cx: &Ctxt,
) -> syn::Result<Vec<Item>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        let attrs = Attribute::parse_outer(input)?;
        let ident = item_ident(input, cx)?;
        if let Some(keep) = attrs.iter().find(|a| a.path().is_ident("keep")) {
            check_keep_attr(keep, cx);
            if !prefix.is_empty() {
                cx.error_spanned_by(
                    keep,
                    "`#[keep]` keeps a constructor argument as a field of the model: write it \
                     at the top of the model, not in a sub-scope",
                );
            }
            if input.peek(Token![:]) {
                cx.error_spanned_by(
                    &ident,
                    format!(
                        "a kept argument takes its type from the header: write `#[keep] {ident},`"
                    ),
                );
                take_until_comma(input, Angles::Type);
            }
            let mut docs = Vec::new();
            for attr in attrs.iter().filter(|a| !a.path().is_ident("keep")) {
                if attr.path().is_ident("doc") {
                    docs.push(attr.clone());
                } else {
                    cx.error_spanned_by(
                        attr,
                        "a kept argument takes `#[keep]` and doc comments only",
                    );
                }
            }
            if prefix.is_empty() {
                kept.push(Kept {
                    attrs: docs,
                    vis: Visibility::Inherited,
                    ident,
                });
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            continue;
        }
        if input.peek(syn::token::Brace) {
            let mut name = None;
            let mut defaults = ScopeDefaults::default();
            for attr in attrs.iter().filter(|a| !a.path().is_ident("doc")) {
                if attr.path().is_ident("scope") {
                    if let Some(tokens) = attr_list_tokens(attr, cx) {
                        apply_scope_keys(tokens, &mut name, &mut defaults, cx);
                    }
                } else {
                    cx.error_spanned_by(
                        attr,
                        "a sub-scope takes `#[scope(name = \"..\", custom_getter = .., regularizer = ..)]` \
                         and doc comments only",
                    );
                }
            }
            let content;
            syn::braced!(content in input);
            let mut inner = prefix.to_vec();
            inner.push(ident.clone());
            let sub = parse_items(&content, &inner, kept, cx)?;
            items.push(Item::Scope(SubScope {
                ident,
                name,
                defaults,
                items: sub,
            }));
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            continue;
        }
        input.parse::<Token![:]>()?;
        let field = field_ident(prefix, &ident);
        let rest = take_until_comma(input, Angles::Type);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        if input_starts_with_model(&rest) {
            items.push(parse_model_item(attrs, ident, field, rest, cx));
        } else {
            items.push(parse_var_item(attrs, ident, field, rest, cx));
        }
    }
    Ok(items)
}

/// An item's name. A keyword (`type: [n]`) is reported once, with the fix, and read as the
/// raw identifier it should have been, so that nothing else fails because of it.
fn item_ident(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<Ident> {
    let ident = input.call(Ident::parse_any)?;
    if !is_keyword(&ident) {
        return Ok(ident);
    }
    let name = ident.to_string();
    if matches!(name.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        cx.error_spanned_by(
            &ident,
            format!(
                "`{name}` cannot name an item, even as a raw identifier; rename it and keep the \
                 TF name with `#[var(name = \"{name}\")]` (a variable), `#[model(scope = \
                 \"{name}\")]` (a nested model) or `#[scope(name = \"{name}\")]` (a sub-scope)"
            ),
        );
        return Ok(format_ident!(
            "{}_",
            name.to_lowercase(),
            span = ident.span()
        ));
    }
    cx.error_spanned_by(
        &ident,
        format!("`{name}` is a keyword: write `r#{name}` (its name in the scope stays `{name}`)"),
    );
    Ok(Ident::new_raw(&name, ident.span()))
}

/// Keywords of every edition: syn's list, and `gen`, reserved since edition 2024. A macro
/// cannot tell the edition of the crate that calls it, and `r#gen` works in all of them, so
/// `gen` is refused everywhere (a field `gen` could not be read in an edition-2024 crate).
fn is_keyword(ident: &Ident) -> bool {
    const EDITION_2024: [&str; 1] = ["gen"];
    syn::parse2::<Ident>(ident.to_token_stream()).is_err()
        || EDITION_2024.contains(&ident.to_string().as_str())
}

/// Whether `tt` starts what can only be the next item (or a `;` in place of its comma), so
/// that the tokens before it are an item missing its `,`.
fn starts_next_item(tt: &TokenTree) -> bool {
    match tt {
        TokenTree::Ident(_) => true,
        TokenTree::Punct(p) => matches!(p.as_char(), ';' | '#'),
        _ => false,
    }
}

/// Reports the missing `,` before `next`, at `next`.
fn expected_comma(next: &TokenTree, cx: &Ctxt) {
    let found = match next {
        TokenTree::Punct(p) if p.as_char() == ';' => "; items are separated by `,`, not `;`",
        _ => " between the items",
    };
    cx.error_spanned_by(next, format!("expected `,`{found}"));
}

/// `input_layer_weights` for `weights` in `input_layer { .. }`.
fn field_ident(prefix: &[Ident], ident: &Ident) -> Ident {
    if prefix.is_empty() {
        return ident.clone();
    }
    let mut name: Vec<String> = prefix.iter().map(crate::ast::unraw).collect();
    name.push(crate::ast::unraw(ident));
    format_ident!("{}", name.join("_"), span = ident.span())
}

fn input_starts_with_model(tokens: &TokenStream) -> bool {
    (|input: ParseStream<'_>| {
        let found = input.peek(kw::model) && !input.peek2(Token![=]);
        input.parse::<TokenStream>()?;
        Ok(found)
    })
    .parse2(tokens.clone())
    .unwrap_or(false)
}

/// `model Type(args)`.
fn parse_model_item(
    attrs: Vec<Attribute>,
    ident: Ident,
    field: Ident,
    rest: TokenStream,
    cx: &Ctxt,
) -> Item {
    let mut iter = rest.clone().into_iter().skip(1).peekable();
    let mut ty_tokens = TokenStream::new();
    let mut args_group = None;
    // `<`..`>` nesting, so that `Pair<(u8, u16)>`'s parentheses are part of the type.
    let mut angles = 0usize;
    let mut arrow = false;
    for tt in iter.by_ref() {
        match tt {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis && angles == 0 => {
                args_group = Some(g);
                break;
            }
            other => {
                if let TokenTree::Punct(p) = &other {
                    match p.as_char() {
                        '<' => angles += 1,
                        '>' if !arrow => angles = angles.saturating_sub(1),
                        _ => {}
                    }
                    arrow = p.as_char() == '-' && p.spacing() == proc_macro2::Spacing::Joint;
                } else {
                    arrow = false;
                }
                ty_tokens.extend([other]);
            }
        }
    }
    let trailing: Vec<TokenTree> = iter.collect();
    match trailing.first() {
        None => {}
        Some(next) if starts_next_item(next) => expected_comma(next, cx),
        Some(_) => cx.error_spanned_by(
            trailing.iter().cloned().collect::<TokenStream>(),
            "unexpected tokens after the model's arguments",
        ),
    }
    let ty = match syn::parse2::<syn::Type>(ty_tokens.clone()) {
        Ok(ty) => ty,
        Err(_) => match type_before_next_item(&ty_tokens) {
            // `model Cell next: [2]`: the type, then the next item without a `,` between.
            Some((ty, next)) => {
                expected_comma(&next, cx);
                ty
            }
            None => {
                let at = if ty_tokens.is_empty() {
                    rest
                } else {
                    ty_tokens
                };
                cx.error_spanned_by(
                    &at,
                    "expected the nested model's type, e.g. `model BasicLstmCell(units)`",
                );
                // Never seen by rustc: an error was recorded, and the fallback emits no field
                // types' uses.
                syn::parse_quote!(())
            }
        },
    };
    let mut nested = ModelField::new(ident, field, ty);
    let mut seen_args = None;
    for attr in attrs {
        if attr.path().is_ident("model") {
            if let Some(tokens) = attr_list_tokens(&attr, cx) {
                apply_model_keys(tokens, &mut nested, &mut seen_args, cx);
            }
        } else if attr.path().is_ident("doc") {
            nested.attrs.push(attr);
        } else {
            cx.error_spanned_by(
                &attr,
                "a nested model takes `#[model(..)]` and doc comments only",
            );
        }
    }
    if let Some(group) = args_group {
        if seen_args.is_some() {
            cx.error_spanned_by(
                &group,
                "duplicate arguments: already given by #[model(args(..))]",
            );
        } else {
            nested.args = split_commas(group.stream());
            nested.args_span = group.span();
        }
    }
    Item::Model(nested)
}

/// The longest leading part of `tokens` that is a type, if what follows it starts the next
/// item.
fn type_before_next_item(tokens: &TokenStream) -> Option<(syn::Type, TokenTree)> {
    let all: Vec<TokenTree> = tokens.clone().into_iter().collect();
    (1..all.len()).rev().find_map(|n| {
        let next = &all[n];
        if !starts_next_item(next) {
            return None;
        }
        let ty = syn::parse2::<syn::Type>(all[..n].iter().cloned().collect()).ok()?;
        Some((ty, next.clone()))
    })
}

/// `DTYPE? [shape]? (= init)?`.
fn parse_var_item(
    attrs: Vec<Attribute>,
    ident: Ident,
    field: Ident,
    rest: TokenStream,
    cx: &Ctxt,
) -> Item {
    let mut decl = empty_var(ident);
    decl.field = field;
    let before = cx.count();
    for attr in attrs {
        if attr.path().is_ident("var") {
            if let Some(tokens) = attr_list_tokens(&attr, cx) {
                apply_var_keys(tokens, &mut decl, cx);
            }
        } else if attr.path().is_ident("doc") {
            decl.attrs.push(attr);
        } else {
            cx.error_spanned_by(&attr, "a variable takes `#[var(..)]` and doc comments only");
        }
    }
    let mut tokens = flatten_invisible(rest).into_iter().peekable();
    if let Some(TokenTree::Ident(dtype)) = tokens.peek() {
        let dtype = dtype.clone();
        tokens.next();
        let parsed = parse_dtype(&TokenTree::Ident(dtype.clone()).into(), cx);
        if decl.dtype.is_some() {
            cx.error_spanned_by(
                &dtype,
                "duplicate dtype: already given by #[var(dtype = ..)]",
            );
        } else {
            decl.dtype = parsed;
        }
    }
    if let Some(TokenTree::Group(g)) = tokens.peek() {
        if g.delimiter() == Delimiter::Bracket {
            let g = g.clone();
            tokens.next();
            let parsed = parse_shape(&TokenTree::Group(g.clone()).into(), cx);
            if decl.shape.is_some() {
                cx.error_spanned_by(&g, "duplicate shape: already given by #[var(shape = ..)]");
            } else {
                decl.shape = parsed;
            }
        }
    }
    match tokens.next() {
        None => {}
        Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
            let mut init: Vec<TokenTree> = tokens.collect();
            // `zeros` or `random_normal(..)`; an item after it lacks its `,`.
            let end = match init.get(1) {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => 2,
                _ => 1,
            };
            let ident_first = matches!(init.first(), Some(TokenTree::Ident(_)));
            if ident_first && init.get(end).is_some_and(starts_next_item) {
                expected_comma(&init[end], cx);
                init.truncate(end);
            }
            let init: TokenStream = init.into_iter().collect();
            if init.is_empty() {
                cx.error_spanned_by(&p, "expected an initializer after `=`");
            } else {
                let parsed = parse_init(&init, cx);
                if decl.init.is_some() {
                    cx.error_spanned_by(
                        &init,
                        "duplicate initializer: already given by #[var(init = ..)]",
                    );
                } else {
                    decl.init = parsed;
                }
            }
        }
        Some(TokenTree::Literal(lit)) if decl.shape.is_none() => {
            cx.error_spanned_by(
                &lit,
                "expected a shape in brackets, e.g. `[in_size, units]` (`[]` for a scalar)",
            );
        }
        // `w: [1] x: [2]`, `a: [n]; b: [n]`: the next item, without a `,` before it.
        Some(next) if (decl.shape.is_some() || decl.dtype.is_some()) && starts_next_item(&next) => {
            expected_comma(&next, cx);
        }
        Some(other) => {
            let rest: TokenStream = std::iter::once(other).chain(tokens).collect();
            cx.error_spanned_by(
                &rest,
                "expected a variable `name: dtype? [shape]? (= initializer)?`, e.g. \
                 `weights: [in_size, units] = random_normal(0.0, 0.5)`",
            );
        }
    }
    decl.incomplete = cx.count() > before;
    Item::Var(decl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn run(input: TokenStream) -> (Vec<ModelDef>, usize) {
        let cx = Ctxt::new();
        let defs = parse(input, &cx).unwrap_or_default();
        let n = cx.check().map_or_else(|e| e.into_iter().count(), |()| 0);
        (defs, n)
    }

    #[test]
    fn parses_the_seed_rnn() {
        let (defs, errors) = run(quote! {
            /// The seed RNN.
            pub struct Rnn("rnn", input_size: usize, hidden: usize, classes: usize) {
                input_layer {
                    weights: [input_size, hidden] = random_normal(0.0, 0.5),
                    biases: [hidden] = constant(0.1),
                }
                cell {
                    basic_lstm_cell {
                        kernel: [hidden + hidden, 4 * hidden],
                        bias: [4 * hidden] = zeros,
                    }
                }
                output_layer {
                    weights: f32[hidden, classes] = random_normal(0.0, 0.5),
                    #[var(trainable = false)]
                    biases: [classes] = constant(0.1),
                }
                lstm: model Cell<A, B>(hidden, hidden),
                step: i64[] = zeros
            }
        });
        assert_eq!(errors, 0);
        assert_eq!(defs.len(), 1);
        let rnn = &defs[0];
        assert_eq!(rnn.items.len(), 5);
        let Item::Scope(cell) = &rnn.items[1] else {
            panic!("a sub-scope")
        };
        let Item::Scope(lstm) = &cell.items[0] else {
            panic!("a sub-scope")
        };
        let Item::Var(kernel) = &lstm.items[0] else {
            panic!("a variable")
        };
        assert_eq!(kernel.field, "cell_basic_lstm_cell_kernel");
        assert_eq!(kernel.var_name().0, "kernel");
        let Item::Model(m) = &rnn.items[3] else {
            panic!("a model")
        };
        assert_eq!(m.args.len(), 2);
    }

    #[test]
    fn reports_value_errors_together() {
        let (defs, errors) = run(quote! {
            struct M("m") {
                a: f33[1],
                b: [1.5] = zeros,
                c: [1] = normal(0.0, 1.0),
                #[var(shape = [2])] d: [2],
            }
        });
        assert_eq!(defs.len(), 1);
        assert_eq!(errors, 4);
    }

    #[test]
    fn keyword_names_are_one_error_each() {
        let (defs, errors) = run(quote! {
            struct M("m") {
                type: [1],
                r#struct: [1],
                fn { self: [1] }
            }
        });
        assert_eq!(errors, 3);
        let Item::Var(ty) = &defs[0].items[0] else {
            panic!("a variable")
        };
        assert_eq!(ty.field.to_string(), "r#type");
        assert_eq!(ty.var_name().0, "type");
    }

    #[test]
    fn new_forms_parse() {
        let (defs, errors) = run(quote! {
            struct Layer("layer", cfg: Cfg, table: Variable) {
                #[scope(name = "self")]
                self_attn { #[model(default_name = "query")] query: model Dense(1, 2), }
                #[model(repeat = cfg.n, scope = "cell")] cells: model Cell(cfg.h),
                #[model(when = cfg.pool, default_name)] pooler: model Dense(1, 2),
                #[var(when = cfg.flag)] token_type: [2, 3] = truncated_normal(0.0, cfg.range),
                #[var(tied = table)] output_weights: [2, 3],
            }
        });
        assert_eq!(errors, 0);
        let items = &defs[0].items;
        let Item::Scope(attn) = &items[0] else {
            panic!("a sub-scope")
        };
        assert_eq!(attn.scope_name().0, "self");
        let Item::Model(query) = &attn.items[0] else {
            panic!("a model")
        };
        assert_eq!(query.field, "self_attn_query");
        let Item::Model(cells) = &items[1] else {
            panic!("a model")
        };
        assert_eq!(cells.repeat_pattern().0.unwrap().text(), "cell_{i}");
    }

    #[test]
    fn sub_scope_attributes() {
        let (_, errors) = run(quote! {
            struct M("m") {
                #[scope(name = "a", nam = "b")] #[var(shape = [1])] a { w: [1] }
            }
        });
        // nam, #[var] on a sub-scope
        assert_eq!(errors, 2);
    }

    #[test]
    fn generic_nested_types_keep_their_parentheses() {
        let (defs, errors) = run(quote! {
            struct M("m") {
                pair: model Pair<(u8, u16)>(),
                f: model Wrap<fn(u8) -> (u8, u8)>(1, 2),
            }
        });
        assert_eq!(errors, 0);
        let Item::Model(pair) = &defs[0].items[0] else {
            panic!("a model")
        };
        assert_eq!(pair.ty.to_token_stream().to_string(), "Pair < (u8 , u16) >");
        assert!(pair.args.is_empty());
        let Item::Model(f) = &defs[0].items[1] else {
            panic!("a model")
        };
        assert_eq!(f.args.len(), 2);
    }

    #[test]
    fn a_missing_comma_is_one_error_at_its_place() {
        for input in [
            quote!(struct M("m") { w: [1] x: [2], }),
            quote!(struct M("m") { w: [1] = zeros x: [2], }),
            quote!(struct M("m") { w: f32[1] = random_normal(0.0, 1.0) #[var(name = "y")] x: [2] }),
            quote!(struct M("m", n: usize) { a: [n]; b: [n], }),
            quote!(struct M("m") { c: model Cell(1) d: [2], }),
            quote!(struct M("m") { c: model Cell d: [2], }),
        ] {
            let cx = Ctxt::new();
            parse(input.clone(), &cx).unwrap();
            let errors: Vec<String> = cx.check().map_or_else(
                |e| e.into_iter().map(|e| e.to_string()).collect(),
                |()| vec![],
            );
            assert_eq!(errors.len(), 1, "{input}: {errors:?}");
            assert!(errors[0].starts_with("expected `,`"), "{input}: {errors:?}");
        }
    }

    #[test]
    fn a_generic_model_is_one_error() {
        let (defs, errors) = run(quote! {
            pub struct G<T: Clone>("g") { w: [1], }
        });
        assert_eq!(errors, 1);
        assert_eq!(defs[0].items.len(), 1);
    }

    #[test]
    fn edition_2024_keywords_need_raw_identifiers() {
        let (defs, errors) = run(quote! {
            struct M("m") {
                gen: [2],
                r#gen: [2],
                generator: [2],
            }
        });
        // `gen` only; the raw form names `gen` in the scope.
        assert_eq!(errors, 1);
        let Item::Var(gen) = &defs[0].items[0] else {
            panic!("a variable")
        };
        assert_eq!(gen.field.to_string(), "r#gen");
        assert_eq!(gen.var_name().0, "gen");
        assert!(!is_keyword(&syn::parse_quote!(r#async)));
        for kw in ["gen", "async", "await", "dyn", "try"] {
            assert!(!is_keyword(&Ident::new_raw(
                kw,
                proc_macro2::Span::call_site()
            )));
            assert!(is_keyword(&Ident::parse_any.parse_str(kw).unwrap()), "{kw}");
        }
    }

    #[test]
    fn structural_errors_are_fatal() {
        let cx = Ctxt::new();
        assert!(parse(quote!(struct M("m") { a [1] }), &cx).is_err());
        assert!(cx.check().is_ok());
    }
}
