//! TF's scope-name regexes, checked on literal names at compile time. The regexes are the
//! runtime's own file (`scope-runtime/src/name_regex.rs`, dependency-free, compiled here
//! through `#[path]`: this crate must not depend on the runtime); a test below holds this
//! crate's checks and the runtime's to agreement.

#[path = "../../scope-runtime/src/name_regex.rs"]
mod name_regex;

use self::name_regex::{is_root_start, is_scope_char, NESTED_PATTERN, ROOT_PATTERN};

/// Which regex applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// A model's own scope, which may be opened at the root: `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`.
    Root,
    /// Anything inside a model's scope: `^[A-Za-z0-9_.\\/>-]*$`.
    Nested,
}

impl Context {
    pub(crate) fn pattern(self) -> &'static str {
        match self {
            Context::Root => ROOT_PATTERN,
            Context::Nested => NESTED_PATTERN,
        }
    }
}

/// Whether TF accepts `name` in `context`. Stricter than the runtime in two ways, both of
/// which only move a certain run-time failure to compile time: the empty name is refused (a
/// model, sub-scope or variable needs a name), and so is the one trailing `\n` that Python's
/// `$` lets through for a scope name (every variable below it would fail TF's node-name
/// check).
pub(crate) fn is_valid(name: &str, context: Context) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let first_ok = match context {
        Context::Root => is_root_start(first),
        Context::Nested => is_scope_char(first),
    };
    first_ok && chars.all(is_scope_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scope::validate_scope_name;
    use scope::NameContext;

    #[test]
    fn agrees_with_the_runtime() {
        let cases = [
            "rnn", "a-b.c", ".a", "a\\b", "_x", "a:b", "é", "a\n", "x/y", "0", ">", "-a", "a b",
        ];
        for name in cases {
            if name.ends_with('\n') {
                assert!(!is_valid(name, Context::Root) && !is_valid(name, Context::Nested));
                assert!(validate_scope_name(name, NameContext::Node).is_err());
                continue;
            }
            for (ours, theirs) in [
                (Context::Root, NameContext::Root),
                (Context::Nested, NameContext::Nested),
            ] {
                assert_eq!(
                    is_valid(name, ours),
                    validate_scope_name(name, theirs).is_ok(),
                    "{name:?} in {ours:?}"
                );
            }
        }
    }

    /// Every one- and two-char ASCII name (and a few others), in both contexts.
    #[test]
    fn agrees_with_the_runtime_on_every_short_name() {
        let chars: Vec<char> = (0u8..0x80).map(char::from).chain(['é', '٣']).collect();
        let mut names: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        for a in &chars {
            for b in &chars {
                names.push(format!("{a}{b}"));
            }
        }
        for name in names.iter().filter(|n| !n.ends_with('\n')) {
            for (ours, theirs) in [
                (Context::Root, NameContext::Root),
                (Context::Nested, NameContext::Nested),
            ] {
                assert_eq!(
                    is_valid(name, ours),
                    validate_scope_name(name, theirs).is_ok(),
                    "{name:?} in {ours:?}"
                );
            }
        }
    }

    #[test]
    fn refuses_empty() {
        assert!(!is_valid("", Context::Nested));
    }
}
