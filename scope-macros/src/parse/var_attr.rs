//! Values of the `#[var(..)]` keys that name a runtime object: `partitioner = ..`.
//!
//! A value written as a call of a bare name (`fixed_size(4, 0)`) names one of the runtime's
//! constructors, and the name and the arguments are checked here; any other expression (a
//! path, a field, a method call, a local) is passed through and rustc checks its type.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::Lit;

use crate::ast::{PartitionerDecl, PartitionerKind};
use crate::ctxt::Ctxt;
use crate::parse::{describe, look_through, single_lit, split_commas, KeyValue};

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
    let flat: Vec<TokenTree> = look_through(tokens).into_iter().collect();
    let (ident, group) = match &flat[..] {
        [TokenTree::Ident(ident), TokenTree::Group(g)]
            if g.delimiter() == Delimiter::Parenthesis =>
        {
            (ident.clone(), Some(g.clone()))
        }
        [TokenTree::Ident(ident)] if PartitionerKind::from_name(&ident.to_string()).is_some() => {
            (ident.clone(), None)
        }
        [TokenTree::Literal(_)] => {
            cx.error_spanned_by(
                tokens,
                format!(
                    "expected a partitioner, one of: {}; or an expression of type `Partitioner`",
                    PartitionerKind::list()
                ),
            );
            return None;
        }
        // A path, a field, a method call, a local: rustc checks that it is a `Partitioner`.
        _ => return Some(decl(None)),
    };
    let Some(kind) = PartitionerKind::from_name(&ident.to_string()) else {
        cx.error_spanned_by(
            &ident,
            format!(
                "unknown partitioner `{ident}`; expected one of: {} (TF's \
                 `tf.fixed_size_partitioner`, ..), or an expression of type `Partitioner`, e.g. \
                 `Partitioner::fixed_size(4, 0)`",
                PartitionerKind::list()
            ),
        );
        return None;
    };
    let args = group.map(|g| split_commas(g.stream())).unwrap_or_default();
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
