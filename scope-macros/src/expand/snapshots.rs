//! Expansion snapshots: every `tests/expand/{variable_scope,model}/<case>.rs` is expanded
//! with this crate's own expand functions, pretty-printed with prettyplease, and compared with
//! `<case>.expanded.rs` next to it.
//!
//! * `SCOPE_BLESS=1 cargo test -p scope-macros snapshots` rewrites every snapshot.
//! * A missing snapshot is written (and the test passes), unless `CI` is set: then it fails,
//!   as does any mismatch.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use quote::ToTokens;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/expand")
}

/// Replaces every `#[variable_scope(..)]` struct and every `model! { .. }` in `src` by its
/// expansion, and pretty-prints the result.
fn expand_source(src: &str) -> String {
    let file = syn::parse_file(src).expect("snapshot input parses");
    let mut items = Vec::new();
    for item in file.items.iter().cloned() {
        match item {
            syn::Item::Struct(mut s)
                if s.attrs.iter().any(|a| a.path().is_ident("variable_scope")) =>
            {
                let pos = s
                    .attrs
                    .iter()
                    .position(|a| a.path().is_ident("variable_scope"))
                    .expect("just found");
                let attr = s.attrs.remove(pos);
                let args = match attr.meta {
                    syn::Meta::List(list) => list.tokens,
                    _ => proc_macro2::TokenStream::new(),
                };
                let out = super::variable_scope(args, s.into_token_stream());
                items.extend(parse_items(out));
            }
            syn::Item::Macro(m) if m.mac.path.is_ident("model") => {
                items.extend(parse_items(super::model(m.mac.tokens)));
            }
            other => items.push(other),
        }
    }
    let file = syn::File { items, ..file };
    prettyplease::unparse(&file)
}

fn parse_items(tokens: proc_macro2::TokenStream) -> Vec<syn::Item> {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => file.items,
        Err(err) => panic!("expansion does not parse as items: {err}\n{tokens}"),
    }
}

fn cases() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for topic in ["variable_scope", "model"] {
        let dir = root().join(topic);
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("readable dir entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".rs") && !name.ends_with(".expanded.rs") {
                cases.push(path);
            }
        }
    }
    cases.sort();
    cases
}

/// Where two texts first differ, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  snapshot: {w}\n  expanded: {g}", i + 1);
        }
    }
    format!(
        "lengths differ: snapshot {} lines, expanded {} lines",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn expansions_match_their_snapshots() {
    let bless = std::env::var_os("SCOPE_BLESS").is_some_and(|v| v == "1");
    let ci = std::env::var_os("CI").is_some();
    let cases = cases();
    assert!(
        cases.len() >= 4,
        "expected snapshot cases under tests/expand"
    );
    let mut failures = String::new();
    for case in cases {
        let src = fs::read_to_string(&case).expect("readable case");
        let got = expand_source(&src);
        let snapshot = case.with_extension("expanded.rs");
        match fs::read_to_string(&snapshot) {
            Ok(want) if want == got => {}
            Ok(_) | Err(_) if bless => fs::write(&snapshot, &got).expect("writable snapshot"),
            Ok(want) => {
                let _ = writeln!(
                    failures,
                    "{} differs from its expansion ({}); rerun with SCOPE_BLESS=1 if intended",
                    snapshot.display(),
                    first_difference(&want, &got)
                );
            }
            Err(_) if ci => {
                let _ = writeln!(
                    failures,
                    "{} is missing; run `SCOPE_BLESS=1 cargo test -p scope-macros snapshots` \
                     and commit it",
                    snapshot.display()
                );
            }
            Err(_) => fs::write(&snapshot, &got).expect("writable snapshot"),
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
