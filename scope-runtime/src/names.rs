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

/// The context a name opened under `name_stack` is checked in.
pub(crate) fn context_of(name_stack: &str) -> NameContext {
    if name_stack.is_empty() {
        NameContext::Root
    } else {
        NameContext::Nested
    }
}

/// The helper ops TF creates below a variable op, whose names are therefore in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helpers {
    /// Made from a value: `v/initial_value`, `v/Assign`, `v/read`.
    FromValue,
    /// Made by a callable initializer: `v/Initializer`, `v/Assign`, `v/read`.
    FromInitializer,
}

const FROM_VALUE: u32 = 1 << 31;
const FROM_INITIALIZER: u32 = 1 << 30;
const COUNT: u32 = FROM_INITIALIZER - 1;

/// TF's `Graph._names_in_use`: a count per lower-cased name, so that `foo`, `Foo` and `FOO`
/// share one sequence (`foo`, `Foo_1`, `FOO_2`) and an explicit `foo_1` is never handed out
/// again. Amortised O(1) per call: the counter remembers where the last probe stopped.
///
/// A variable's helper op names (`v/read`, `v/Assign`, ...) are in use in TF too. Rather
/// than storing three more names per variable, the variable's own entry carries a flag, and
/// a lookup of `<op>/<helper>` consults it.
#[derive(Default, Debug)]
pub(crate) struct Uniquifier {
    in_use: HashMap<Box<str>, u32>,
}

impl Uniquifier {
    /// How many times `key` (lower-cased) has been handed out, counting implicit helper names.
    fn count(&self, key: &str) -> u32 {
        if let Some(&v) = self.in_use.get(key) {
            return v & COUNT;
        }
        let Some((op, helper)) = key.rsplit_once('/') else {
            return 0;
        };
        let flags = self.in_use.get(op).copied().unwrap_or(0);
        let hit = match helper {
            "assign" | "read" => flags & (FROM_VALUE | FROM_INITIALIZER) != 0,
            "initial_value" => flags & FROM_VALUE != 0,
            "initializer" => flags & FROM_INITIALIZER != 0,
            _ => false,
        };
        u32::from(hit)
    }

    /// TF's `unique_name(name)` under `name_stack`, marking the result as used.
    pub(crate) fn unique(&mut self, name_stack: &str, name: &str) -> String {
        let full = join(name_stack, name);
        let key = full.to_lowercase();
        let mut i = self.count(&key);
        self.bump(&key, i + 1);
        if i == 0 {
            return full;
        }
        let mut candidate = format!("{key}_{i}");
        while self.count(&candidate) > 0 {
            i += 1;
            candidate = format!("{key}_{i}");
        }
        self.bump(&candidate, 1);
        format!("{full}_{i}")
    }

    fn bump(&mut self, key: &str, count: u32) {
        match self.in_use.get_mut(key) {
            Some(v) => *v = (*v & !COUNT) | count.min(COUNT),
            None => {
                self.in_use.insert(key.into(), count.min(COUNT));
            }
        }
    }

    /// Marks the helper ops below the op `op_name` as in use.
    pub(crate) fn mark_helpers(&mut self, op_name: &str, helpers: Helpers) {
        let flag = match helpers {
            Helpers::FromValue => FROM_VALUE,
            Helpers::FromInitializer => FROM_INITIALIZER,
        };
        *self
            .in_use
            .entry(op_name.to_lowercase().into())
            .or_insert(0) |= flag;
    }

    pub(crate) fn len(&self) -> usize {
        self.in_use.len()
    }
}

fn join(name_stack: &str, name: &str) -> String {
    if name_stack.is_empty() {
        name.to_owned()
    } else {
        let mut s = String::with_capacity(name_stack.len() + 1 + name.len());
        s.push_str(name_stack);
        s.push('/');
        s.push_str(name);
        s
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
    fn helper_names_are_in_use() {
        let mut u = Uniquifier::default();
        assert_eq!(u.unique("", "v"), "v");
        u.mark_helpers("v", Helpers::FromValue);
        assert_eq!(u.unique("v", "read"), "v/read_1");
        assert_eq!(u.unique("v", "initial_value"), "v/initial_value_1");
        assert_eq!(u.unique("v", "Initializer"), "v/Initializer");
        assert_eq!(u.unique("", "v"), "v_1");
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
