//! TensorFlow's name rules: the two scope-name regexes and the node-name check. The regexes
//! themselves are in `name_regex.rs`, which the macro crate compiles too.

use crate::error::{Error, NameContext, Result};

#[path = "name_regex.rs"]
mod name_regex;

use self::name_regex::{is_root_start, is_scope_char};
pub(crate) use self::name_regex::{NESTED_PATTERN, ROOT_PATTERN};

/// Checks `name` against TF's regex for `context`: at the root
/// `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`, nested `^[A-Za-z0-9_.\\/>-]*$`.
///
/// Like Python's `re.match`, whose `$` also matches before a final newline, a scope name may
/// end in one `\n`; a node name ([`NameContext::Node`], the root regex applied to a whole op
/// name) may not, because TF's op names always have helper ops below them (`v/read`).
///
/// The empty name is not checked here: TF treats it as "reset to the root".
pub fn validate_scope_name(name: &str, context: NameContext) -> Result<()> {
    let body = match context {
        NameContext::Node => name,
        _ => name.strip_suffix('\n').unwrap_or(name),
    };
    let mut chars = body.chars();
    let first_ok = match (context, chars.next()) {
        (NameContext::Node, None) => false,
        (_, None) => true,
        (NameContext::Root | NameContext::Node, Some(c)) => is_root_start(c),
        (NameContext::Nested, Some(c)) => is_scope_char(c),
    };
    if first_ok && chars.all(is_scope_char) {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
            context,
        })
    }
}

/// Whether the node name `head/tail` (just `tail` when `head` is empty), less one trailing
/// newline if `strip_newline`, matches [`NameContext::Node`]'s regex. The same answer as
/// validating the joined string, without building it: this runs for every op created.
pub(crate) fn node_name_ok(head: &str, tail: &str, strip_newline: bool) -> bool {
    let tail = if strip_newline {
        tail.strip_suffix('\n').unwrap_or(tail)
    } else {
        tail
    };
    let sep = (!head.is_empty()).then_some('/');
    let mut chars = head.chars().chain(sep).chain(tail.chars());
    chars.next().is_some_and(is_root_start) && chars.all(is_scope_char)
}

/// The context a name opened under `name_stack` is checked in.
pub(crate) fn context_of(name_stack: &str) -> NameContext {
    if name_stack.is_empty() {
        NameContext::Root
    } else {
        NameContext::Nested
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes() {
        use NameContext::*;
        assert!(validate_scope_name("a-b.c", Root).is_ok());
        assert!(validate_scope_name(".a", Root).is_ok());
        assert!(validate_scope_name("a\\b", Root).is_ok());
        assert!(validate_scope_name("_x", Root).is_err());
        assert!(validate_scope_name("_x", Nested).is_ok());
        assert!(validate_scope_name("a:b", Nested).is_err());
        assert!(validate_scope_name("é", Root).is_err());
        // Python's `$` matches before a final newline; node names have no such slack.
        assert!(validate_scope_name("a\n", Root).is_ok());
        assert!(validate_scope_name("a\n\n", Root).is_err());
        assert!(validate_scope_name("a\n", Node).is_err());
        assert!(validate_scope_name("", Node).is_err());
    }

    /// `node_name_ok` agrees with validating the joined name, on every short combination.
    #[test]
    fn node_check_without_joining() {
        let parts = ["", "a", "_", "\n", "a\n", "/", "a/", ".b", "é", "-"];
        for head in parts {
            for tail in parts {
                for strip in [false, true] {
                    let joined = if head.is_empty() {
                        tail.to_owned()
                    } else {
                        format!("{head}/{tail}")
                    };
                    let node = if strip {
                        joined.strip_suffix('\n').unwrap_or(&joined).to_owned()
                    } else {
                        joined
                    };
                    assert_eq!(
                        node_name_ok(head, tail, strip),
                        validate_scope_name(&node, NameContext::Node).is_ok(),
                        "{head:?} {tail:?} {strip}"
                    );
                }
            }
        }
    }
}
