//! Parsing into the IR. Parsers record errors in the [`Ctxt`] and go on; they give up only
//! where no IR can be built (a struct header that does not parse).
//!
//! Attribute and DSL values are split into comma-separated token chunks before anything is
//! interpreted, so one bad value never hides the next one's error.

pub(crate) mod attr;
pub(crate) mod dsl;
pub(crate) mod split;
pub(crate) mod var_attr;

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Ident, Lit, LitBool, LitStr};

use crate::ast::{
    DTypeDecl, DefaultName, InitDecl, InitKind, KeyExpr, ModelField, Number, ShapeDecl, VarDecl,
};
use crate::ctxt::Ctxt;
pub(crate) use split::{flatten_invisible, look_through, split_commas};

/// The keys of `#[var(..)]`: what the parser dispatches on and what its "expected one of"
/// lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarKey {
    Shape,
    Init,
    Dtype,
    Trainable,
    Name,
    When,
    Tied,
    Partitioner,
    Regularizer,
    Constraint,
    Collections,
}

pub(crate) const VAR_KEYS: [(&str, VarKey); 11] = [
    ("shape", VarKey::Shape),
    ("init", VarKey::Init),
    ("dtype", VarKey::Dtype),
    ("trainable", VarKey::Trainable),
    ("name", VarKey::Name),
    ("when", VarKey::When),
    ("tied", VarKey::Tied),
    ("partitioner", VarKey::Partitioner),
    ("regularizer", VarKey::Regularizer),
    ("constraint", VarKey::Constraint),
    ("collections", VarKey::Collections),
];

/// The keys of `#[model(..)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelKey {
    Scope,
    Args,
    Repeat,
    When,
    DefaultName,
}

pub(crate) const MODEL_KEYS: [(&str, ModelKey); 5] = [
    ("scope", ModelKey::Scope),
    ("args", ModelKey::Args),
    ("repeat", ModelKey::Repeat),
    ("when", ModelKey::When),
    ("default_name", ModelKey::DefaultName),
];

/// The keys of `#[scope(..)]` on a `model!` sub-scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScopeKey {
    Name,
    /// `custom_getter` or `regularizer`: the scope's defaults.
    Default,
}

pub(crate) const SCOPE_KEYS: [(&str, ScopeKey); 3] = [
    ("name", ScopeKey::Name),
    ("custom_getter", ScopeKey::Default),
    ("regularizer", ScopeKey::Default),
];

/// The key of `table` spelt `name`.
fn lookup<K: Copy>(table: &[(&str, K)], name: &str) -> Option<K> {
    table.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// `shape, init, ..`: a table's keys, for "expected one of".
pub(crate) fn key_list<K>(table: &[(&str, K)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// Keys of `#[model(..)]` that mean nothing on a variable, and why.
const MODEL_ONLY: [(&str, &str); 4] = [
    (
        "repeat",
        "a variable cannot be repeated: declare a model holding it and repeat that with \
         `#[model(repeat = n)]`",
    ),
    (
        "default_name",
        "a variable has a fixed name in its scope: give it with `name = \"..\"`",
    ),
    (
        "scope",
        "a variable opens no scope: rename it with `name = \"..\"`",
    ),
    (
        "args",
        "a variable takes no arguments: give its `shape = [..]`",
    ),
];

/// Keys of `#[var(..)]` that mean nothing on a nested model, and why.
const VAR_ONLY: [(&str, &str); 3] = [
    (
        "partitioner",
        "only a variable is partitioned: give the partitioner on the variables of the model",
    ),
    (
        "tied",
        "only a variable can be tied: declare `#[var(tied = ..)] field: [shape]`",
    ),
    (
        "name",
        "a nested model is named by its scope: use `scope = \"..\"`",
    ),
];

/// One `key`, `key = value` or `key(..)` of an attribute list.
pub(crate) struct KeyValue {
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

pub(crate) enum Value {
    /// `key`
    Flag,
    /// `key = tokens`
    Eq(TokenStream),
    /// `key(tokens)`
    List(Group),
}

/// Parses `a = 1, b(..), c` into key-values; a chunk that is none of these is reported.
/// A key written after a value without a `,` (`shape = [1] init = zeros`) is reported once,
/// as the missing `,`, and read as the next key-value.
pub(crate) fn parse_kv_list(tokens: TokenStream, cx: &Ctxt) -> Vec<KeyValue> {
    let mut out = Vec::new();
    let mut chunks: std::collections::VecDeque<TokenStream> = split_commas(tokens).into();
    while let Some(chunk) = chunks.pop_front() {
        let mut iter = chunk.clone().into_iter();
        let key = match iter.next() {
            Some(TokenTree::Ident(key)) => key,
            _ => {
                cx.error_spanned_by(&chunk, "expected `key = value`");
                continue;
            }
        };
        let rest: TokenStream = iter.collect();
        let mut rest_iter = rest.clone().into_iter();
        let value = match rest_iter.next() {
            None => Value::Flag,
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
                let mut value: Vec<TokenTree> = rest_iter.collect();
                if let Some(at) = next_key_at(&value) {
                    cx.error_spanned_by(&value[at], "expected `,` before the next key");
                    chunks.push_front(value.split_off(at).into_iter().collect());
                }
                if value.is_empty() {
                    cx.error_spanned_by(&chunk, format!("expected a value after `{key} =`"));
                    continue;
                }
                Value::Eq(value.into_iter().collect())
            }
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                let after: TokenStream = rest_iter.collect();
                match after.clone().into_iter().next() {
                    None => Value::List(g),
                    // `args(a, b) repeat = n`
                    Some(next @ TokenTree::Ident(_)) => {
                        cx.error_spanned_by(&next, "expected `,` before the next key");
                        chunks.push_front(after);
                        Value::List(g)
                    }
                    Some(_) => {
                        cx.error_spanned_by(&rest, format!("expected `=` after `{key}`"));
                        continue;
                    }
                }
            }
            Some(_) => {
                cx.error_spanned_by(&rest, format!("expected `=` after `{key}`"));
                continue;
            }
        };
        out.push(KeyValue { key, value });
    }
    out
}

/// Where a value runs into the next `key = ..` for want of a `,`: an identifier after a
/// complete operand, followed by a lone `=` (not `==`, and never an assignment, which a value
/// cannot be).
fn next_key_at(value: &[TokenTree]) -> Option<usize> {
    (1..value.len()).find(|&i| {
        let operand_before = matches!(
            value[i - 1],
            TokenTree::Literal(_) | TokenTree::Group(_) | TokenTree::Ident(_)
        );
        let eq_after = matches!(
            value.get(i + 1),
            Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone
        );
        operand_before && matches!(value[i], TokenTree::Ident(_)) && eq_after
    })
}

/// What a literal is, in words, for "expected X, found Y".
pub(crate) fn describe(lit: &Lit) -> &'static str {
    match lit {
        Lit::Str(_) => "a string literal",
        Lit::ByteStr(_) => "a byte string literal",
        Lit::CStr(_) => "a C string literal",
        Lit::Byte(_) | Lit::Char(_) => "a character literal",
        Lit::Int(_) => "an integer literal",
        Lit::Float(_) => "a float literal",
        Lit::Bool(_) => "a boolean literal",
        _ => "a literal",
    }
}

/// The value of `key = value` or `key(value)` as tokens; reports a flag.
fn value_tokens(kv: &KeyValue, example: &str, cx: &Ctxt) -> Option<TokenStream> {
    match &kv.value {
        Value::Eq(tokens) => Some(tokens.clone()),
        Value::Flag | Value::List(_) => {
            cx.error_spanned_by(
                &kv.key,
                format!("expected `{} = ..`, e.g. `{example}`", kv.key),
            );
            None
        }
    }
}

/// A single literal of the whole token stream, if that is what it is.
pub(crate) fn single_lit(tokens: &TokenStream) -> Option<Lit> {
    syn::parse2::<Lit>(tokens.clone()).ok()
}

/// `"name"`.
pub(crate) fn parse_str(tokens: &TokenStream, what: &str, cx: &Ctxt) -> Option<LitStr> {
    match single_lit(tokens) {
        Some(Lit::Str(s)) => Some(s),
        Some(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "expected {what} as a string literal, found {}",
                    describe(&other)
                ),
            );
            None
        }
        None => {
            cx.error_spanned_by(tokens, format!("expected {what} as a string literal"));
            None
        }
    }
}

/// `true` or `false`.
pub(crate) fn parse_bool(tokens: &TokenStream, cx: &Ctxt) -> Option<LitBool> {
    match single_lit(tokens) {
        Some(Lit::Bool(b)) => Some(b),
        Some(other) => {
            cx.error_spanned_by(
                &other,
                format!("expected `true` or `false`, found {}", describe(&other)),
            );
            None
        }
        None => {
            cx.error_spanned_by(tokens, "expected `true` or `false`");
            None
        }
    }
}

/// `f32` (or TF's `float32`).
pub(crate) fn parse_dtype(tokens: &TokenStream, cx: &Ctxt) -> Option<DTypeDecl> {
    if let Ok(ident) = syn::parse2::<Ident>(tokens.clone()) {
        return match DTypeDecl::variant_of(&ident.to_string()) {
            Some(variant) => Some(DTypeDecl { ident, variant }),
            None => {
                cx.error_spanned_by(
                    &ident,
                    format!(
                        "unknown dtype `{ident}`; expected one of: {}",
                        DTypeDecl::list()
                    ),
                );
                None
            }
        };
    }
    match single_lit(tokens) {
        Some(Lit::Str(s)) if DTypeDecl::variant_of(&s.value()).is_some() => {
            cx.error_spanned_by(
                &s,
                format!(
                    "expected a dtype name, found a string literal; write `{}` without quotes",
                    s.value()
                ),
            );
        }
        Some(other) => cx.error_spanned_by(
            &other,
            format!(
                "expected a dtype ({}), found {}",
                DTypeDecl::list(),
                describe(&other)
            ),
        ),
        None => cx.error_spanned_by(
            tokens,
            format!("expected a dtype, one of: {}", DTypeDecl::list()),
        ),
    }
    None
}

/// `[d0, d1, ..]`: every dimension is kept as written; literal dimensions must be
/// non-negative integers.
pub(crate) fn parse_shape(tokens: &TokenStream, cx: &Ctxt) -> Option<ShapeDecl> {
    let mut iter = look_through(tokens).into_iter();
    let group = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => g,
        _ => {
            cx.error_spanned_by(
                tokens,
                "expected a shape in brackets, e.g. `[in_size, units]` (`[]` for a scalar)",
            );
            return None;
        }
    };
    let mut ok = true;
    let dims = split_commas(group.stream());
    for dim in &dims {
        ok &= check_dim(dim, cx);
    }
    ok.then(|| ShapeDecl {
        dims,
        span: group.span(),
    })
}

fn check_dim(dim: &TokenStream, cx: &Ctxt) -> bool {
    let mut iter = look_through(dim).into_iter();
    if let (Some(TokenTree::Punct(p)), Some(TokenTree::Literal(_)), None) =
        (iter.next(), iter.next(), iter.next())
    {
        if p.as_char() == '-' {
            cx.error_spanned_by(dim, "a dimension cannot be negative");
            return false;
        }
    }
    match single_lit(dim) {
        None => true,
        Some(Lit::Int(int)) if matches!(int.suffix(), "" | "usize") => true,
        Some(Lit::Int(int)) => {
            cx.error_spanned_by(
                &int,
                format!("dimensions are `usize`; drop the `{}` suffix", int.suffix()),
            );
            false
        }
        Some(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "expected a dimension (a `usize` expression), found {}",
                    describe(&other)
                ),
            );
            false
        }
    }
}

/// `zeros`, `constant(0.1)`, `random_normal(0.0, 0.5)`, `value(expr)`, ...
pub(crate) fn parse_init(tokens: &TokenStream, cx: &Ctxt) -> Option<InitDecl> {
    let mut iter = look_through(tokens).into_iter();
    let (ident, args) = match (iter.next(), iter.next(), iter.next()) {
        (Some(TokenTree::Ident(ident)), None, None) => (ident, None),
        (Some(TokenTree::Ident(ident)), Some(TokenTree::Group(g)), None)
            if g.delimiter() == Delimiter::Parenthesis =>
        {
            (ident, Some(g))
        }
        _ => {
            cx.error_spanned_by(
                tokens,
                format!("expected an initializer, one of: {}", InitKind::list()),
            );
            return None;
        }
    };
    let Some(kind) = InitKind::from_name(&ident.to_string()) else {
        cx.error_spanned_by(
            &ident,
            format!(
                "unknown initializer `{ident}`; expected one of: {}",
                InitKind::list()
            ),
        );
        return None;
    };
    let args = args.map(|g| split_commas(g.stream())).unwrap_or_default();
    let params = kind.params();
    if args.len() != params.len() {
        let expected = if params.is_empty() {
            format!("`{}` takes no arguments", kind.name())
        } else {
            format!("expected `{}({})`", kind.name(), params.join(", "))
        };
        cx.error_spanned_by(
            tokens,
            format!(
                "`{}` takes {} argument{}, found {}: {expected}",
                kind.name(),
                params.len(),
                if params.len() == 1 { "" } else { "s" },
                args.len()
            ),
        );
        return None;
    }
    let mut ok = true;
    let args = if kind == InitKind::Value {
        args
    } else if kind == InitKind::Constant {
        // A float, integer or bool, as TF's `constant_initializer` takes; the expansion
        // picks `Constant`, `ConstantInt` or `ConstantBool` from the literal.
        for arg in &args {
            if let Some(lit) = single_lit(arg) {
                if !matches!(lit, Lit::Int(_) | Lit::Float(_) | Lit::Bool(_)) {
                    cx.error_spanned_by(
                        &lit,
                        format!(
                            "`constant` takes a number or a boolean; found {}",
                            describe(&lit)
                        ),
                    );
                    ok = false;
                }
            }
        }
        args
    } else {
        args.into_iter()
            .map(|arg| match number_arg(&arg, cx) {
                Some(arg) => arg,
                None => {
                    ok = false;
                    arg
                }
            })
            .collect()
    };
    ok.then_some(InitDecl { kind, ident, args })
}

/// An `f64` argument: literals are checked (and written as unsuffixed floats, so that `1`,
/// `1f64` and `0.5f32` work where a float is meant); other expressions are kept as written.
fn number_arg(arg: &TokenStream, cx: &Ctxt) -> Option<TokenStream> {
    if let Some((number, span)) = Number::of(arg) {
        if let Some(tokens) = number.float_tokens(span) {
            return Some(tokens);
        }
    }
    match single_lit(&look_through(arg)) {
        None => Some(arg.clone()),
        Some(other) => {
            cx.error_spanned_by(
                &other,
                format!(
                    "initializer arguments are `f64`; found {}",
                    describe(&other)
                ),
            );
            None
        }
    }
}

/// Records `what` as set, or reports it as set twice.
pub(crate) fn set_once<T>(
    slot: &mut Option<T>,
    value: Option<T>,
    key: &Ident,
    attr: &str,
    cx: &Ctxt,
) {
    if slot.is_some() {
        cx.error_spanned_by(key, format!("duplicate `{key}` in {attr}"));
    } else if value.is_some() {
        *slot = value;
    }
}

/// Applies the keys of one `#[var(..)]` to `decl`.
pub(crate) fn apply_var_keys(tokens: TokenStream, decl: &mut VarDecl, cx: &Ctxt) {
    let attr = "#[var(..)]";
    for kv in parse_kv_list(tokens, cx) {
        let Some(key) = lookup(&VAR_KEYS, &kv.key.to_string()) else {
            unknown_key(
                &kv.key,
                attr,
                &key_list(&VAR_KEYS),
                &MODEL_ONLY,
                "#[model(..)]",
                cx,
            );
            continue;
        };
        match key {
            VarKey::Shape => {
                let v = value_tokens(&kv, "shape = [in_size, units]", cx)
                    .and_then(|t| parse_shape(&t, cx));
                set_once(&mut decl.shape, v, &kv.key, attr, cx);
            }
            VarKey::Init => {
                let v = value_tokens(&kv, "init = random_normal(0.0, 0.5)", cx)
                    .and_then(|t| parse_init(&t, cx));
                set_once(&mut decl.init, v, &kv.key, attr, cx);
            }
            VarKey::Dtype => {
                let v = value_tokens(&kv, "dtype = f32", cx).and_then(|t| parse_dtype(&t, cx));
                set_once(&mut decl.dtype, v, &kv.key, attr, cx);
            }
            VarKey::Trainable => {
                let v = value_tokens(&kv, "trainable = false", cx).and_then(|t| parse_bool(&t, cx));
                set_once(&mut decl.trainable, v, &kv.key, attr, cx);
            }
            VarKey::Name => {
                let v = value_tokens(&kv, "name = \"weights\"", cx)
                    .and_then(|t| parse_str(&t, "the variable name", cx));
                set_once(&mut decl.name, v, &kv.key, attr, cx);
            }
            VarKey::When => {
                let v = key_expr(&kv, "when = cfg.use_token_type", cx);
                set_once(&mut decl.when, v, &kv.key, attr, cx);
            }
            VarKey::Tied => {
                let v = key_expr(&kv, "tied = word_embeddings", cx);
                set_once(&mut decl.tied, v, &kv.key, attr, cx);
            }
            VarKey::Partitioner => {
                let v = value_tokens(&kv, "partitioner = fixed_size(4, 0)", cx)
                    .and_then(|t| var_attr::parse_partitioner(&kv, &t, cx));
                set_once(&mut decl.partitioner, v, &kv.key, attr, cx);
            }
            VarKey::Regularizer => {
                let v = value_tokens(&kv, "regularizer = l2(0.1)", cx).and_then(|t| {
                    var_attr::parse_call(&kv.key, &t, &var_attr::REGULARIZERS, "Regularizer", cx)
                });
                set_once(&mut decl.regularizer, v, &kv.key, attr, cx);
            }
            VarKey::Constraint => {
                let v = value_tokens(&kv, "constraint = non_neg", cx).and_then(|t| {
                    var_attr::parse_call(&kv.key, &t, &var_attr::CONSTRAINTS, "Constraint", cx)
                });
                set_once(&mut decl.constraint, v, &kv.key, attr, cx);
            }
            VarKey::Collections => {
                let v = value_tokens(&kv, "collections = [MODEL_VARIABLES]", cx)
                    .and_then(|t| var_attr::parse_collections(&kv.key, &t, cx));
                set_once(&mut decl.collections, v, &kv.key, attr, cx);
            }
        }
    }
}

/// `key = expression`.
fn key_expr(kv: &KeyValue, example: &str, cx: &Ctxt) -> Option<KeyExpr> {
    value_tokens(kv, example, cx).map(|expr| KeyExpr {
        key: kv.key.clone(),
        expr,
    })
}

/// Reports an unknown key, saying so when it belongs to the other attribute.
fn unknown_key(
    key: &Ident,
    attr: &str,
    keys: &str,
    other: &[(&str, &str)],
    other_attr: &str,
    cx: &Ctxt,
) {
    let name = key.to_string();
    match other.iter().find(|(k, _)| *k == name) {
        Some((_, why)) => cx.error_spanned_by(
            key,
            format!("`{name}` is a key of {other_attr}, not of {attr}: {why}"),
        ),
        None => cx.error_spanned_by(
            key,
            format!("unknown key `{name}` in {attr}; expected one of: {keys}"),
        ),
    }
}

/// `args(a, b)` (a tuple of them) or `args = expr` (the whole `Model::Args`).
enum ModelArgs {
    Tuple(Vec<TokenStream>, Span),
    Whole(TokenStream),
}

/// Applies the keys of one `#[model(..)]` to `field`; `seen_args` tracks `args(..)`.
pub(crate) fn apply_model_keys(
    tokens: TokenStream,
    field: &mut ModelField,
    seen_args: &mut Option<Span>,
    cx: &Ctxt,
) {
    let attr = "#[model(..)]";
    for kv in parse_kv_list(tokens, cx) {
        let Some(key) = lookup(&MODEL_KEYS, &kv.key.to_string()) else {
            unknown_key(
                &kv.key,
                attr,
                &key_list(&MODEL_KEYS),
                &VAR_ONLY,
                "#[var(..)]",
                cx,
            );
            continue;
        };
        match key {
            ModelKey::Scope => {
                let v = value_tokens(&kv, "scope = \"cell\"", cx)
                    .and_then(|t| parse_str(&t, "the scope name", cx));
                set_once(&mut field.scope, v, &kv.key, attr, cx);
            }
            ModelKey::Args => {
                let args = match &kv.value {
                    Value::List(group) => {
                        Some(ModelArgs::Tuple(split_commas(group.stream()), group.span()))
                    }
                    Value::Eq(expr) => Some(ModelArgs::Whole(expr.clone())),
                    Value::Flag => {
                        cx.error_spanned_by(
                            &kv.key,
                            "expected the arguments in parentheses, e.g. `args(units, units)`, \
                             or the whole `Model::Args` value, e.g. `args = cfg`",
                        );
                        None
                    }
                };
                if let Some(args) = args {
                    if seen_args.is_some() {
                        cx.error_spanned_by(&kv.key, format!("duplicate `args` in {attr}"));
                    } else {
                        *seen_args = Some(kv.key.span());
                        match args {
                            ModelArgs::Tuple(args, span) => {
                                field.args = args;
                                field.args_span = span;
                            }
                            ModelArgs::Whole(expr) => {
                                field.args_span = expr.span();
                                field.whole_args = Some(expr);
                            }
                        }
                    }
                }
            }
            ModelKey::Repeat => {
                let v = key_expr(&kv, "repeat = cfg.num_hidden_layers", cx);
                set_once(&mut field.repeat, v, &kv.key, attr, cx);
            }
            ModelKey::When => {
                let v = key_expr(&kv, "when = cfg.use_token_type", cx);
                set_once(&mut field.when, v, &kv.key, attr, cx);
            }
            ModelKey::DefaultName => {
                let base = match &kv.value {
                    Value::Flag => Some(None),
                    Value::Eq(tokens) => parse_str(tokens, "the default name", cx).map(Some),
                    Value::List(_) => {
                        cx.error_spanned_by(
                            &kv.key,
                            "expected `default_name` or `default_name = \"dense\"`",
                        );
                        None
                    }
                };
                let v = base.map(|base| DefaultName {
                    key: kv.key.clone(),
                    base,
                });
                set_once(&mut field.default_name, v, &kv.key, attr, cx);
            }
        }
    }
}

/// `#[scope(name = "..", custom_getter = .., regularizer = ..)]` on an anonymous sub-scope of
/// `model!`.
pub(crate) fn apply_scope_keys(
    tokens: TokenStream,
    name: &mut Option<LitStr>,
    defaults: &mut crate::ast::ScopeDefaults,
    cx: &Ctxt,
) {
    let attr = "#[scope(..)]";
    for kv in parse_kv_list(tokens, cx) {
        match lookup(&SCOPE_KEYS, &kv.key.to_string()) {
            Some(ScopeKey::Name) => {
                let v = value_tokens(&kv, "name = \"self\"", cx)
                    .and_then(|t| parse_str(&t, "the scope name", cx));
                set_once(name, v, &kv.key, attr, cx);
            }
            Some(ScopeKey::Default) => {
                if let Some(value) = value_tokens(&kv, "regularizer = l2(0.1)", cx) {
                    var_attr::apply_default_key(&kv.key, value, defaults, attr, cx);
                }
            }
            None => unknown_key(&kv.key, attr, &key_list(&SCOPE_KEYS), &[], "", cx),
        }
    }
}

/// The tokens inside `#[name(..)]` (empty for a bare `#[name]`); reports `#[name = ..]`.
pub(crate) fn attr_list_tokens(attr: &syn::Attribute, cx: &Ctxt) -> Option<TokenStream> {
    match &attr.meta {
        syn::Meta::Path(_) => Some(TokenStream::new()),
        syn::Meta::List(list) => Some(list.tokens.clone()),
        syn::Meta::NameValue(nv) => {
            let name = nv.path.to_token_stream();
            cx.error_spanned_by(attr, format!("expected `#[{name}(key = value, ..)]`"));
            None
        }
    }
}

#[cfg(test)]
mod tests;
