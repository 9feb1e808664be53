//! Rename templates (`layer.$1`, `${1}_embeddings`) with the `regex` crate's syntax, and the
//! inversion of a rename whose pattern is literal text around capture groups.

use regex_automata::meta::Regex;
use regex_automata::PatternID;
use regex_syntax::ast::{Ast, GroupKind};

/// A reference to a capture group in a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum GroupRef {
    /// `$1`, `${1}`.
    Index(usize),
    /// `$name`, `${name}`.
    Name(String),
}

/// One piece of a template: literal text or a group reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    /// Copied as is.
    Text(String),
    /// Replaced by what the group matched.
    Group(GroupRef),
}

/// Splits a template the way `regex::Captures::expand` reads it: `$$` is a literal `$`,
/// `${name}` and `$name` (the longest run of `[_0-9A-Za-z]`) are references, a number is an
/// index, and a `$` followed by neither is literal.
pub(super) fn parse_template(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, tail) = if let Some(r) = after.strip_prefix('$') {
            text.push('$');
            rest = r;
            continue;
        } else if let Some(r) = after.strip_prefix('{') {
            match r.find('}') {
                Some(end) if end > 0 => (&r[..end], &r[end + 1..]),
                _ => ("", after),
            }
        } else {
            let end = after
                .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty() {
            text.push('$');
            rest = after;
            continue;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Group(match name.parse::<usize>() {
            Ok(i) => GroupRef::Index(i),
            Err(_) => GroupRef::Name(name.to_owned()),
        }));
        rest = tail;
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// The group index a reference resolves to in `regex`, if it exists.
fn resolve(regex: &Regex, group: &GroupRef) -> Option<usize> {
    match group {
        GroupRef::Index(i) => (*i < regex.captures_len()).then_some(*i),
        GroupRef::Name(name) => regex.group_info().to_index(PatternID::ZERO, name),
    }
}

/// Checks that every reference names a group of `regex` (interpolation would silently
/// expand an unknown one to nothing).
pub(super) fn check_references(pieces: &[Piece], regex: &Regex) -> std::result::Result<(), String> {
    for piece in pieces {
        if let Piece::Group(g) = piece {
            if resolve(regex, g).is_none() {
                let shown = match g {
                    GroupRef::Index(i) => format!("${{{i}}}"),
                    GroupRef::Name(n) => format!("${{{n}}}"),
                };
                return Err(format!(
                    "the replacement refers to {shown}, but the pattern has {} capture \
                     group(s){}; write `${{1}}` for the first, and `$$` for a literal `$`",
                    regex.captures_len() - 1,
                    named_groups(regex)
                ));
            }
        }
    }
    Ok(())
}

fn named_groups(regex: &Regex) -> String {
    let names: Vec<&str> = regex
        .group_info()
        .pattern_names(PatternID::ZERO)
        .flatten()
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (named: {})", names.join(", "))
    }
}

/// `name` renamed: `pieces` expanded with what `regex`'s groups matched in it (a group that
/// took no part in the match gives nothing), or `None` if `regex` does not match `name`.
pub(super) fn expand(pieces: &[Piece], regex: &Regex, name: &str) -> Option<String> {
    let mut caps = regex.create_captures();
    regex.captures(name, &mut caps);
    if !caps.is_match() {
        return None;
    }
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Group(g) => {
                if let Some(span) = resolve(regex, g).and_then(|i| caps.get_group(i)) {
                    out.push_str(&name[span.range()]);
                }
            }
        }
    }
    Some(out)
}

/// One piece of a pattern that can be inverted.
enum PatternPiece {
    Text(String),
    /// A capture group: its index and the source text of what it matches.
    Capture(usize, String),
}

/// The rename `(pattern, template)` that undoes `pattern -> template`.
///
/// The pattern must be literal text around capture groups (`bert/encoder/layer_(\d+)/x`),
/// the groups holding no further capture groups, and the template must use each group
/// exactly once; then the inverse pattern is the template's text (escaped) with each
/// reference replaced by the group's sub-pattern, and the inverse template is the
/// pattern's text with each group replaced by a reference.
pub(super) fn invert_rename(
    pattern: &str,
    regex: &Regex,
    pieces: &[Piece],
) -> std::result::Result<(String, String), String> {
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let top: &[Ast] = match &ast {
        Ast::Concat(c) => &c.asts,
        other => std::slice::from_ref(other),
    };
    let mut parts = Vec::new();
    for node in top {
        match node {
            Ast::Empty(_) => {}
            Ast::Literal(l) => match parts.last_mut() {
                Some(PatternPiece::Text(t)) => t.push(l.c),
                _ => parts.push(PatternPiece::Text(l.c.to_string())),
            },
            Ast::Group(g) if !matches!(g.kind, GroupKind::NonCapturing(_)) => {
                let span = g.ast.span();
                let inner = &pattern[span.start.offset..span.end.offset];
                let nested = crate::pattern::compile(inner)?;
                if nested.captures_len() > 1 {
                    return Err(format!(
                        "group `({inner})` holds another capture group; write inner groups \
                         as `(?:...)`"
                    ));
                }
                let index = match &g.kind {
                    GroupKind::CaptureIndex(i) => *i as usize,
                    GroupKind::CaptureName { name, .. } => name.index as usize,
                    GroupKind::NonCapturing(_) => unreachable!("matched above"),
                };
                parts.push(PatternPiece::Capture(index, inner.to_owned()));
            }
            other => {
                let span = other.span();
                return Err(format!(
                    "`{}` stands outside a capture group; put every varying part of the \
                     pattern in a group, e.g. `(\\d+)`",
                    &pattern[span.start.offset..span.end.offset]
                ));
            }
        }
    }
    let captures: Vec<(usize, &str)> = parts
        .iter()
        .filter_map(|p| match p {
            PatternPiece::Capture(i, inner) => Some((*i, inner.as_str())),
            PatternPiece::Text(_) => None,
        })
        .collect();
    // The inverse pattern, and for each forward group, its group number in the inverse.
    let mut inverse_pattern = String::new();
    let mut new_index = vec![None; regex.captures_len()];
    let mut next = 1;
    for piece in pieces {
        match piece {
            Piece::Text(t) => inverse_pattern.push_str(&regex_syntax::escape(t)),
            Piece::Group(g) => {
                let i = resolve(regex, g).ok_or("the replacement refers to a missing group")?;
                let Some(&(_, inner)) = captures.iter().find(|(c, _)| *c == i) else {
                    return Err(format!(
                        "the replacement uses group {i}, which is not a top-level group"
                    ));
                };
                if new_index[i].replace(next).is_some() {
                    return Err(format!(
                        "the replacement uses group {i} twice; the inverse could not tell \
                         which copy to keep"
                    ));
                }
                inverse_pattern.push_str(&format!("({inner})"));
                next += 1;
            }
        }
    }
    let mut inverse_template = String::new();
    for part in &parts {
        match part {
            PatternPiece::Text(t) => inverse_template.push_str(&t.replace('$', "$$")),
            PatternPiece::Capture(i, _) => match new_index[*i] {
                Some(j) => inverse_template.push_str(&format!("${{{j}}}")),
                None => {
                    return Err(format!(
                        "the replacement drops group {i}, so the inverse cannot restore it"
                    ))
                }
            },
        }
    }
    Ok((inverse_pattern, inverse_template))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.to_owned())
    }

    #[test]
    fn templates_parse_like_the_regex_crate() {
        assert_eq!(
            parse_template("layer.$1"),
            [text("layer."), Piece::Group(GroupRef::Index(1))]
        );
        assert_eq!(
            parse_template("${1}_emb$$x$ y$"),
            [Piece::Group(GroupRef::Index(1)), text("_emb$x$ y$")]
        );
        assert_eq!(
            parse_template("$name.w"),
            [Piece::Group(GroupRef::Name("name".into())), text(".w")]
        );
        // Agrees with the engine's own interpolation (what `regex::Captures::expand` calls)
        // on mixed templates, also when a group took no part in the match.
        let re = Regex::new(r"^(?:(?P<a>\w+)/(\d+)|(?P<b>-))$").unwrap();
        for name in ["x/7", "-"] {
            let mut caps = re.create_captures();
            re.captures(name, &mut caps);
            for t in ["$a.${2}", "$$a${a}$", "p$2q", "${a}_$2_", "$b$3${b}", "$"] {
                let mut want = String::new();
                caps.interpolate_string_into(name, t, &mut want);
                let got = expand(&parse_template(t), &re, name);
                assert_eq!(got.as_deref(), Some(want.as_str()), "{t} on {name}");
            }
        }
        assert_eq!(expand(&parse_template("$1"), &re, "x/y"), None);
    }

    #[test]
    fn unknown_groups_are_refused() {
        let re = Regex::new(r"^(?:a(\d))$").unwrap();
        assert!(check_references(&parse_template("$1"), &re).is_ok());
        let err = check_references(&parse_template("$2"), &re).unwrap_err();
        assert!(err.contains("1 capture group"), "{err}");
        // `$1_x` is the group named `1_x`, as in the regex crate.
        assert!(check_references(&parse_template("$1_x"), &re).is_err());
    }

    #[test]
    fn renames_invert() {
        let p = r"bert/encoder/layer_(\d+)/(query|key)/kernel";
        let re = Regex::new(p).unwrap();
        let t = parse_template("enc.$2.layer.${1}.weight");
        let (ip, it) = invert_rename(p, &re, &t).unwrap();
        assert_eq!(ip, r"enc\.(query|key)\.layer\.(\d+)\.weight");
        assert_eq!(it, "bert/encoder/layer_${2}/${1}/kernel");
        for bad in [r"a.(\d)", r"(a(b))", r"a+(\d)"] {
            let re = Regex::new(bad).unwrap();
            assert!(
                invert_rename(bad, &re, &parse_template("$1")).is_err(),
                "{bad}"
            );
        }
        let re = Regex::new(r"(\d)").unwrap();
        assert!(invert_rename(r"(\d)", &re, &parse_template("$1$1")).is_err());
        assert!(invert_rename(r"(\d)", &re, &parse_template("x")).is_err());
    }
}
