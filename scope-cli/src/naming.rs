//! Names: the order a reader expects within a scope, Rust identifiers for TF names, and
//! TF's scope-name rule.

use std::cmp::Ordering;

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let z = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[z..]
}

/// Compares names with their digit runs as numbers: `layer_2` before `layer_10`.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (la, lb) = (run(a), run(b));
                let (na, nb) = (trim_zeros(&a[..la]), trim_zeros(&b[..lb]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                // `01` after `1`, so that the order stays total.
                let ord = la.cmp(&lb);
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[la..];
                b = &b[lb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

/// Where a name usually comes in its scope: inputs and embeddings first (word embeddings
/// before others, positions last among them), attention's query, key, value in that order,
/// outputs and heads last; weights before biases.
pub(crate) fn place(name: &str) -> (u8, bool) {
    let lower = name.to_ascii_lowercase();
    let embedding = lower.ends_with("embeddings") || lower == "embedding";
    let class = if lower.starts_with("input") || (embedding && lower.starts_with("word")) {
        0
    } else if embedding && lower.starts_with("position") {
        2
    } else if embedding {
        1
    } else if matches!(lower.as_str(), "self" | "attention" | "query") {
        3
    } else if lower == "key" {
        4
    } else if lower == "value" {
        5
    } else if lower.starts_with("output") || matches!(lower.as_str(), "pooler" | "logits" | "head")
    {
        7
    } else {
        6
    };
    let bias = matches!(lower.as_str(), "bias" | "biases" | "b")
        || lower.ends_with("_bias")
        || lower.ends_with("_biases");
    (class, bias)
}

/// The order of children in a scope: by [`place`], then naturally by name. Checkpoints
/// store names sorted, which puts `bias` before `kernel` and `layer_10` before `layer_2`.
#[cfg(test)]
pub(crate) fn child_cmp(a: &str, b: &str) -> Ordering {
    place(a)
        .cmp(&place(b))
        .then_with(|| child_cmp_same_place(a, b))
}

/// [`child_cmp`] for two names of the same [`place`] (computed once per name by callers
/// that sort many).
pub(crate) fn child_cmp_same_place(a: &str, b: &str) -> Ordering {
    natural_cmp(a, b).then_with(|| a.cmp(b))
}

/// TF's rule for scope and variable names inside a scope: `^[A-Za-z0-9_.\\/>-]*$`, and not
/// empty (`/` excluded: a component never holds one).
pub(crate) fn is_tf_component(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '>' | '-'))
}

/// TF's rule for a scope opened at the root: `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`.
pub(crate) fn is_tf_root(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.')
        && name.split('/').all(is_tf_component)
}

/// Whether an identifier-shaped `name` is a Rust keyword (strict or reserved), which a field
/// can only spell as `r#name` or renamed: syn's list, the one the macros parse with, plus
/// `gen`, reserved from edition 2024 (syn 3.0 does not list it).
fn is_keyword(name: &str) -> bool {
    name == "gen" || syn::parse_str::<syn::Ident>(name).is_err()
}

/// Keywords that no raw identifier can spell.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// How a TF name is written as a field: the identifier, and whether the TF name must be
/// given explicitly beside it (`#[var(name = "..")]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldName {
    pub(crate) ident: String,
    pub(crate) explicit: bool,
}

/// The field for TF name `name`: itself when it is a snake-case identifier, `r#type` for a
/// keyword, else a snake-case spelling (`LayerNorm` -> `layer_norm`, `self` -> `self_`)
/// with the TF name given explicitly.
pub(crate) fn field_name(name: &str) -> FieldName {
    // Snake case as rustc's lint has it, also once joined into a flattened field name
    // (`a_` + `_` + `b` would be `a__b`): no underscore at either end, none doubled.
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__");
    if plain {
        if NOT_RAW.contains(&name) {
            return FieldName {
                ident: format!("{name}_"),
                explicit: true,
            };
        }
        if is_keyword(name) {
            return FieldName {
                ident: format!("r#{name}"),
                explicit: false,
            };
        }
        return FieldName {
            ident: name.to_owned(),
            explicit: false,
        };
    }
    FieldName {
        ident: snake_ident(name),
        explicit: true,
    }
}

/// A snake-case identifier for any name: `LayerNorm` -> `layer_norm`, `a.b-c` -> `a_b_c`,
/// `0` -> `v0`, `self` -> `self_`.
pub(crate) fn snake_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    let mut ident = if trimmed.is_empty() {
        "v".to_owned()
    } else {
        trimmed.to_owned()
    };
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'v');
    }
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

/// A type name for any name: `layer` -> `Layer`, `LayerNorm` -> `LayerNorm`,
/// `seq_relationship` -> `SeqRelationship`, `0` -> `S0`.
pub(crate) fn camel_ident(name: &str) -> String {
    let mut out = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'S');
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// `snake_case` to `SNAKE_CASE` for a constant; raw prefixes dropped.
pub(crate) fn const_ident(ident: &str) -> String {
    ident.trim_start_matches("r#").to_ascii_uppercase()
}

/// A Rust string literal holding `s`.
pub(crate) fn string_lit(s: &str) -> String {
    format!("{s:?}")
}

/// `s` with control characters escaped, safe inside a `//` comment or a doc line.
pub(crate) fn comment_safe(s: &str) -> String {
    if s.chars().all(|c| !c.is_control()) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Splits `layer_12` into `("layer", 12)`; no leading zeros, a non-empty prefix.
pub(crate) fn indexed(name: &str) -> Option<(&str, usize)> {
    let (prefix, digits) = name.rsplit_once('_')?;
    if prefix.is_empty()
        || digits.is_empty()
        || digits.len() > 9
        || !digits.bytes().all(|c| c.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    Some((prefix, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec![
            "layer_10", "layer_2", "layer_1", "dense_1", "dense", "a01", "a1",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["a1", "a01", "dense", "dense_1", "layer_1", "layer_2", "layer_10"]
        );
    }

    #[test]
    fn reader_order_in_a_scope() {
        let mut names = vec!["bias", "kernel"];
        names.sort_by(|a, b| child_cmp(a, b));
        assert_eq!(names, ["kernel", "bias"]);
        let mut names = vec!["value", "key", "query"];
        names.sort_by(|a, b| child_cmp(a, b));
        assert_eq!(names, ["query", "key", "value"]);
        let mut names = vec!["output_layer", "cell", "input_layer"];
        names.sort_by(|a, b| child_cmp(a, b));
        assert_eq!(names, ["input_layer", "cell", "output_layer"]);
        let mut names = vec![
            "position_embeddings",
            "token_type_embeddings",
            "word_embeddings",
        ];
        names.sort_by(|a, b| child_cmp(a, b));
        assert_eq!(
            names,
            [
                "word_embeddings",
                "token_type_embeddings",
                "position_embeddings"
            ]
        );
        let mut names = vec!["output_bias", "output_weights", "bert"];
        names.sort_by(|a, b| child_cmp(a, b));
        assert_eq!(names, ["bert", "output_weights", "output_bias"]);
    }

    #[test]
    fn fields_for_tf_names() {
        let f = |n: &str| {
            let f = field_name(n);
            (f.ident, f.explicit)
        };
        assert_eq!(f("kernel"), ("kernel".into(), false));
        assert_eq!(f("type"), ("r#type".into(), false));
        // Reserved words too: syn's list, and `gen` (edition 2024).
        assert_eq!(f("abstract"), ("r#abstract".into(), false));
        assert_eq!(f("gen"), ("r#gen".into(), false));
        assert_eq!(f("kernel"), ("kernel".into(), false));
        assert_eq!(snake_ident("Yield"), "yield_");
        assert_eq!(f("self"), ("self_".into(), true));
        assert_eq!(f("LayerNorm"), ("layer_norm".into(), true));
        assert_eq!(f("a.b-c"), ("a_b_c".into(), true));
        assert_eq!(f("0"), ("v0".into(), true));
        assert_eq!(f("_"), ("v".into(), true));
        assert_eq!(f("__scope_x"), ("scope_x".into(), true));
        assert_eq!(f("a__b"), ("a_b".into(), true));
        assert_eq!(f("_a"), ("a".into(), true));
        assert_eq!(f("a_"), ("a".into(), true));
        assert_eq!(f("HTTPServer"), ("http_server".into(), true));
        assert_eq!(f(">"), ("v".into(), true));
    }

    #[test]
    fn type_names() {
        assert_eq!(camel_ident("layer"), "Layer");
        assert_eq!(camel_ident("LayerNorm"), "LayerNorm");
        assert_eq!(camel_ident("seq_relationship"), "SeqRelationship");
        assert_eq!(camel_ident("0"), "S0");
        assert_eq!(camel_ident("self"), "Self_");
        assert_eq!(camel_ident("--"), "S");
    }

    #[test]
    fn tf_names() {
        assert!(is_tf_component("a.b-c>d\\e_0"));
        assert!(!is_tf_component("a b"));
        assert!(!is_tf_component(""));
        assert!(is_tf_root("bert/encoder"));
        assert!(!is_tf_root("_x"));
        assert!(is_tf_root(".x"));
    }

    #[test]
    fn indexed_names() {
        assert_eq!(indexed("layer_12"), Some(("layer", 12)));
        assert_eq!(indexed("layer_0"), Some(("layer", 0)));
        assert_eq!(indexed("layer_01"), None);
        assert_eq!(indexed("_3"), None);
        assert_eq!(indexed("layer"), None);
    }

    #[test]
    fn literals_and_comments() {
        assert_eq!(string_lit("a\\b"), "\"a\\\\b\"");
        assert_eq!(comment_safe("a\nb"), "a\\nb");
        assert_eq!(const_ident("r#type"), "TYPE");
    }
}
