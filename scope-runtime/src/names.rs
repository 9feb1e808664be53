//! TensorFlow's name rules: the two scope-name regexes and the case-insensitive uniquifier.

use std::collections::HashMap;

use crate::error::{Error, NameContext, Result};

/// Whether `c` may start a name opened at the root (`[A-Za-z0-9.]`).
fn is_root_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.'
}

/// Whether `c` may appear in a scope name (`[A-Za-z0-9_.\\/>-]`).
fn is_scope_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '/' | '>' | '-')
}

/// Checks `name` against TF's regex for `context`: at the root
/// `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`, nested `^[A-Za-z0-9_.\\/>-]*$`.
///
/// The empty name is not checked here: TF treats it as "reset to the root".
pub fn validate_scope_name(name: &str, context: NameContext) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = match (context, chars.next()) {
        (_, None) => true,
        (NameContext::Root, Some(c)) => is_root_start(c),
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

/// The context a name opened under `name_stack` is checked in.
pub(crate) fn context_of(name_stack: &str) -> NameContext {
    if name_stack.is_empty() {
        NameContext::Root
    } else {
        NameContext::Nested
    }
}

/// TF's `Graph._names_in_use`: a count per lower-cased name, so that `foo`, `Foo` and `FOO`
/// share one sequence (`foo`, `Foo_1`, `FOO_2`) and an explicit `foo_1` is never handed out
/// again. Amortised O(1) per call: the counter remembers where the last probe stopped.
#[derive(Default, Debug)]
pub(crate) struct Uniquifier {
    in_use: HashMap<Box<str>, u32>,
}

impl Uniquifier {
    /// TF's `unique_name(name)` under `name_stack`, marking the result as used.
    pub(crate) fn unique(&mut self, name_stack: &str, name: &str) -> String {
        let full = if name_stack.is_empty() {
            name.to_owned()
        } else {
            let mut s = String::with_capacity(name_stack.len() + 1 + name.len());
            s.push_str(name_stack);
            s.push('/');
            s.push_str(name);
            s
        };
        let key = full.to_lowercase();
        let count = self.in_use.entry(key.as_str().into()).or_insert(0);
        let mut i = *count;
        *count += 1;
        if i == 0 {
            return full;
        }
        let mut candidate = format!("{key}_{i}");
        while self.in_use.contains_key(candidate.as_str()) {
            i += 1;
            candidate = format!("{key}_{i}");
        }
        self.in_use.insert(candidate.into_boxed_str(), 1);
        format!("{full}_{i}")
    }

    /// Whether a (lower-cased) name has been handed out or marked.
    pub(crate) fn is_used(&self, name: &str) -> bool {
        self.in_use.contains_key(name.to_lowercase().as_str())
    }

    pub(crate) fn len(&self) -> usize {
        self.in_use.len()
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
        assert!(validate_scope_name("a\n", Root).is_err());
    }

    #[test]
    fn uniquifies_case_insensitively() {
        let mut u = Uniquifier::default();
        assert_eq!(u.unique("", "foo"), "foo");
        assert_eq!(u.unique("", "Foo"), "Foo_1");
        assert_eq!(u.unique("", "FOO"), "FOO_2");
        assert_eq!(u.unique("a", "v"), "a/v");
        assert_eq!(u.unique("a", "v"), "a/v_1");
    }

    #[test]
    fn skips_explicit_suffixes() {
        let mut u = Uniquifier::default();
        assert_eq!(u.unique("", "foo_2"), "foo_2");
        assert_eq!(u.unique("", "foo"), "foo");
        assert_eq!(u.unique("", "foo"), "foo_1");
        assert_eq!(u.unique("", "foo"), "foo_3");
    }
}
