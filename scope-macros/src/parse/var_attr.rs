//! Values of the keys that name a runtime object: `partitioner`, `regularizer`, `constraint`,
//! `collections` of `#[var(..)]`, and a scope's `custom_getter` and `regularizer`.
//!
//! A value written as a call of a bare name (`fixed_size(4, 0)`) names one of the runtime's
//! constructors, and the name and the arguments are checked here; any other expression (a
//! path, a field, a method call, a local) is passed through and rustc checks its type.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Ident, Lit};

use crate::ast::{
    CallDecl, CollectionName, CollectionsDecl, KeyExpr, PartitionerDecl, PartitionerKind,
    ScopeDefaults,
};
use crate::ctxt::Ctxt;
use crate::parse::{describe, look_through, set_once, single_lit, split_commas, KeyValue};

/// What the value of a key naming a runtime object is.
enum Form<T> {
    /// `name(args)` or a bare `name` of one of the runtime's constructors.
    Known(T, Ident, Vec<TokenStream>),
    /// Any other expression, passed through for rustc to check its type.
    Expr,
    /// A literal, or a call of an unknown name: reported.
    Bad,
}

/// Tells a named constructor (looked up with `find`) from an expression, and reports a
/// literal and an unknown name. `(what, ty, example)` word the errors (`partitioner`,
/// `Partitioner`, an example after the type); `list` lists the constructors.
fn classify<T>(
    tokens: &TokenStream,
    find: impl Fn(&Ident) -> Option<T>,
    (what, ty, example): (&str, &str, &str),
    list: &str,
    cx: &Ctxt,
) -> Form<T> {
    let flat: Vec<TokenTree> = look_through(tokens).into_iter().collect();
    let (ident, group) = match &flat[..] {
        [TokenTree::Ident(ident), TokenTree::Group(g)]
            if g.delimiter() == Delimiter::Parenthesis =>
        {
            (ident.clone(), Some(g.clone()))
        }
        [TokenTree::Ident(ident)] if find(ident).is_some() => (ident.clone(), None),
        [TokenTree::Literal(_)] => {
            cx.error_spanned_by(
                tokens,
                format!("expected a {what}, one of: {list}; or an expression of type `{ty}`"),
            );
            return Form::Bad;
        }
        // A path, a field, a method call, a local: rustc checks its type.
        _ => return Form::Expr,
    };
    let Some(found) = find(&ident) else {
        cx.error_spanned_by(
            &ident,
            format!(
                "unknown {what} `{ident}`; expected one of: {list}, or an expression of type \
                 `{ty}`{example}"
            ),
        );
        return Form::Bad;
    };
    let args = group.map(|g| split_commas(g.stream())).unwrap_or_default();
    Form::Known(found, ident, args)
}

/// `fixed_size(4, 0)`, `variable_axis_size(1 << 20)`, `min_max(8, 0, 65536)`, or an
/// expression of type `Partitioner` (`Partitioner::fixed_size(n, 0)`, `cfg.partitioner`).
pub(crate) fn parse_partitioner(
    kv: &KeyValue,
    tokens: &TokenStream,
    cx: &Ctxt,
) -> Option<PartitionerDecl> {
    let decl = |known| PartitionerDecl {
        key: kv.key.clone(),
        tokens: tokens.clone(),
        known,
    };
    let (kind, ident, args) = match classify(
        tokens,
        |ident| PartitionerKind::from_name(&ident.to_string()),
        (
            "partitioner",
            "Partitioner",
            ", e.g. `Partitioner::fixed_size(4, 0)`",
        ),
        &PartitionerKind::list(),
        cx,
    ) {
        Form::Known(kind, ident, args) => (kind, ident, args),
        Form::Expr => return Some(decl(None)),
        Form::Bad => return None,
    };
    let params = kind.params();
    if args.is_empty() || args.len() > params.len() {
        cx.error_spanned_by(
            tokens,
            format!(
                "`{}` takes 1 to {} arguments, found {}: expected `{}`",
                kind.name(),
                params.len(),
                args.len(),
                kind.usage()
            ),
        );
        return None;
    }
    let mut ok = true;
    for (arg, param) in args.iter().zip(params) {
        ok &= check_count(arg, kind.name(), param, cx);
    }
    ok.then(|| decl(Some((kind, ident, args))))
}

/// A partitioner argument: a literal must be a non-negative integer without a float suffix;
/// any other expression is kept as written.
fn check_count(arg: &TokenStream, partitioner: &str, param: &str, cx: &Ctxt) -> bool {
    let flat: Vec<TokenTree> = look_through(arg).into_iter().collect();
    if let [TokenTree::Punct(p), TokenTree::Literal(_)] = &flat[..] {
        if p.as_char() == '-' {
            cx.error_spanned_by(
                arg,
                format!("`{param}` of `{partitioner}` cannot be negative"),
            );
            return false;
        }
    }
    match single_lit(&flat.into_iter().collect()) {
        None => true,
        Some(Lit::Int(int)) if matches!(int.suffix(), "" | "usize" | "u64") => true,
        Some(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "`{param}` of `{partitioner}` is a non-negative integer, found {}",
                    describe(&other)
                ),
            );
            false
        }
    }
}

/// TF's regularizers (`tf.contrib.layers.l2_regularizer(scale)`, ..): name, arity.
pub(crate) const REGULARIZERS: [(&str, &[&str]); 3] = [
    ("l1", &["scale"]),
    ("l2", &["scale"]),
    ("l1_l2", &["scale_l1", "scale_l2"]),
];

/// The constraints the runtime names (`Constraint::non_neg()`, ..): name, arity.
pub(crate) const CONSTRAINTS: [(&str, &[&str]); 3] = [
    ("non_neg", &[]),
    ("clip_by_value", &["lo", "hi"]),
    ("clip_by_norm", &["max_norm"]),
];

/// `l2(0.1)`, `non_neg`, ..: a constructor of `table`; or any other expression of the
/// runtime's type `ty`, passed through. `what` is `regularizer` or `constraint`.
pub(crate) fn parse_call(
    key: &Ident,
    tokens: &TokenStream,
    table: &[(&str, &[&str])],
    ty: &str,
    cx: &Ctxt,
) -> Option<CallDecl> {
    let list = || {
        table
            .iter()
            .map(|(name, params)| {
                if params.is_empty() {
                    (*name).to_owned()
                } else {
                    format!("{name}({})", params.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let decl = |known| CallDecl {
        key: key.clone(),
        tokens: tokens.clone(),
        known,
    };
    let what = key.to_string();
    let ((name, params), ident, args) = match classify(
        tokens,
        |ident| table.iter().find(|(n, _)| ident == n).copied(),
        (&what, ty, ""),
        &list(),
        cx,
    ) {
        Form::Known(entry, ident, args) => (entry, ident, args),
        Form::Expr => return Some(decl(None)),
        Form::Bad => return None,
    };
    if args.len() != params.len() {
        cx.error_spanned_by(
            tokens,
            format!(
                "`{name}` takes {} argument{}, found {}",
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                args.len()
            ),
        );
        return None;
    }
    let mut ok = true;
    for arg in &args {
        let flat: Vec<TokenTree> = look_through(arg).into_iter().collect();
        let negative =
            matches!(&flat[..], [TokenTree::Punct(p), TokenTree::Literal(_)] if p.as_char() == '-');
        if negative && ty == "Regularizer" {
            cx.error_spanned_by(
                arg,
                "a regularizer's scale cannot be negative (TF: \"Setting a scale less than 0 on a \
                 regularizer\")",
            );
            ok = false;
        }
        if let Some(lit) = single_lit(&look_through(arg)) {
            if !matches!(lit, Lit::Int(_) | Lit::Float(_)) {
                cx.error_spanned_by(
                    &lit,
                    format!("`{name}` takes numbers, found {}", describe(&lit)),
                );
                ok = false;
            }
        }
    }
    ok.then(|| decl(Some((ident, args))))
}

/// TF's `tf.GraphKeys` names `collections = [..]` accepts unquoted.
pub(crate) const GRAPH_KEYS: [&str; 6] = [
    "GLOBAL_VARIABLES",
    "TRAINABLE_VARIABLES",
    "LOCAL_VARIABLES",
    "MODEL_VARIABLES",
    "MOVING_AVERAGE_VARIABLES",
    "REGULARIZATION_LOSSES",
];

/// `[MODEL_VARIABLES, "mine"]`.
pub(crate) fn parse_collections(
    key: &Ident,
    tokens: &TokenStream,
    cx: &Ctxt,
) -> Option<CollectionsDecl> {
    let mut iter = look_through(tokens).into_iter();
    let group = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => g,
        _ => {
            cx.error_spanned_by(
                tokens,
                "expected the collections in brackets, e.g. `collections = [MODEL_VARIABLES, \
                 \"my_collection\"]` (`[]` for none)",
            );
            return None;
        }
    };
    let mut ok = true;
    let mut items = Vec::new();
    for item in split_commas(group.stream()) {
        let flat = look_through(&item);
        if let Ok(ident) = syn::parse2::<Ident>(flat.clone()) {
            if GRAPH_KEYS.iter().any(|k| ident == k) {
                items.push(CollectionName::Key(ident));
                continue;
            }
        }
        match single_lit(&flat) {
            Some(Lit::Str(s)) => items.push(CollectionName::Lit(s)),
            _ => {
                cx.error_spanned_by(
                    &item,
                    format!(
                        "expected a collection name as a string literal, or one of TF's \
                         `GraphKeys`: {}",
                        GRAPH_KEYS.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then(|| CollectionsDecl {
        key: key.clone(),
        items,
    })
}

/// The keys of a scope's defaults, for "expected one of".
pub(crate) const DEFAULT_KEYS: &str = "custom_getter, regularizer";

/// `custom_getter = expr` or `regularizer = ..` of a header or a `#[scope(..)]`; `false` if
/// `key` is neither (the caller reports it).
pub(crate) fn apply_default_key(
    key: &Ident,
    value: TokenStream,
    defaults: &mut ScopeDefaults,
    attr: &str,
    cx: &Ctxt,
) -> bool {
    if key == "custom_getter" {
        let v = KeyExpr {
            key: key.clone(),
            expr: value,
        };
        set_once(&mut defaults.custom_getter, Some(v), key, attr, cx);
    } else if key == "regularizer" {
        let v = parse_call(key, &value, &REGULARIZERS, "Regularizer", cx);
        set_once(&mut defaults.regularizer, v, key, attr, cx);
    } else {
        return false;
    }
    true
}
