//! TensorFlow's name rules: the two scope-name regexes and the case-insensitive uniquifier.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

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

/// The hash maps of the registry's hot paths: foldhash (randomly seeded per map) instead of
/// SipHash, which dominated short-name lookups.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// TF's `Graph._names_in_use`: a count per lower-cased name, so that `foo`, `Foo` and `FOO`
/// share one sequence (`foo`, `Foo_1`, `FOO_2`) and an explicit `foo_1` is never handed out
/// again. Amortised O(1) per call: the counter remembers where the last probe stopped.
///
/// To keep a million variables small, a variable whose op name the uniquifier handed out and
/// which is already lower case is not stored here a second time: it is *implicitly* in use
/// with count 1, and the caller answers for it through the `implicit` lookup (the registry's
/// by-name index). The first time such a name is asked for again it becomes an ordinary
/// entry with count 2, exactly as if it had been stored from the start.
#[derive(Default, Debug)]
pub(crate) struct Uniquifier {
    in_use: FastMap<Box<str>, u32>,
    /// Names in use only implicitly (not in `in_use`).
    implicit: usize,
}

/// How the name [`Uniquifier::unique`] hands out is marked as used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// In the uniquifier's own map.
    Stored,
    /// Implicitly, if it is lower case: the caller registers a variable under exactly this
    /// name and reports it through the `implicit` lookup from then on.
    ImplicitIfLower,
}

/// The lower-cased form of `s` (Python's `str.lower()`), borrowed when already lower case.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        let l = s.to_lowercase();
        if l == s {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(l)
        }
    }
}

impl Uniquifier {
    /// TF's `unique_name(name)` under `name_stack`, marking the result as used. Returns the
    /// name and whether it was marked implicitly (only with [`Mark::ImplicitIfLower`]).
    pub(crate) fn unique(
        &mut self,
        name_stack: &str,
        name: &str,
        implicit: &dyn Fn(&str) -> bool,
        mark: Mark,
    ) -> (String, bool) {
        let full = if name_stack.is_empty() {
            name.to_owned()
        } else {
            let mut s = String::with_capacity(name_stack.len() + 1 + name.len());
            s.push_str(name_stack);
            s.push('/');
            s.push_str(name);
            s
        };
        let key = lower(&full);
        let i = match self.in_use.get_mut(key.as_ref()) {
            Some(count) => {
                let i = *count;
                *count += 1;
                i
            }
            None if implicit(&key) => {
                // Promote the implicit count 1 to an ordinary entry.
                self.implicit -= 1;
                self.in_use.insert(key.as_ref().into(), 2);
                1
            }
            None => 0,
        };
        if i == 0 {
            let is_implicit = mark == Mark::ImplicitIfLower && matches!(key, Cow::Borrowed(_));
            if is_implicit {
                self.implicit += 1;
            } else {
                self.in_use.insert(key.as_ref().into(), 1);
            }
            return (full, is_implicit);
        }
        let mut i = i;
        loop {
            let candidate = suffixed(&key, i);
            if !self.in_use.contains_key(candidate.as_str()) && !implicit(&candidate) {
                let is_implicit = mark == Mark::ImplicitIfLower && key.as_ref() == full;
                if is_implicit {
                    self.implicit += 1;
                    return (candidate, true);
                }
                let result = suffixed(&full, i);
                self.in_use.insert(candidate.into_boxed_str(), 1);
                return (result, false);
            }
            i += 1;
        }
    }

    /// Whether a name (compared lower-cased) has been handed out or marked.
    pub(crate) fn is_used(&self, name: &str, implicit: &dyn Fn(&str) -> bool) -> bool {
        let key = lower(name);
        self.in_use.contains_key(key.as_ref()) || implicit(&key)
    }

    /// How many names are in use, implicit ones included.
    pub(crate) fn len(&self) -> usize {
        self.in_use.len() + self.implicit
    }
}

/// `{base}_{i}`, allocated at its exact length (so that boxing it does not reallocate).
fn suffixed(base: &str, i: u32) -> String {
    let digits = i.checked_ilog10().unwrap_or(0) as usize + 1;
    let mut s = String::with_capacity(base.len() + 1 + digits);
    s.push_str(base);
    s.push('_');
    // Writing to a `String` cannot fail.
    let _ = write!(s, "{i}");
    s
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

    fn unique(u: &mut Uniquifier, stack: &str, name: &str) -> String {
        u.unique(stack, name, &|_| false, Mark::Stored).0
    }

    #[test]
    fn uniquifies_case_insensitively() {
        let mut u = Uniquifier::default();
        assert_eq!(unique(&mut u, "", "foo"), "foo");
        assert_eq!(unique(&mut u, "", "Foo"), "Foo_1");
        assert_eq!(unique(&mut u, "", "FOO"), "FOO_2");
        assert_eq!(unique(&mut u, "a", "v"), "a/v");
        assert_eq!(unique(&mut u, "a", "v"), "a/v_1");
    }

    #[test]
    fn skips_explicit_suffixes() {
        let mut u = Uniquifier::default();
        assert_eq!(unique(&mut u, "", "foo_2"), "foo_2");
        assert_eq!(unique(&mut u, "", "foo"), "foo");
        assert_eq!(unique(&mut u, "", "foo"), "foo_1");
        assert_eq!(unique(&mut u, "", "foo"), "foo_3");
    }
}

#[cfg(test)]
mod implicit_tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashSet;

    /// Implicit marking gives the same names as storing everything.
    #[test]
    fn implicit_names_behave_like_stored_ones() {
        let names = ["v", "V", "v", "v_1", "a/v", "v_3", "v", "É", "é", "é"];
        let mut plain = Uniquifier::default();
        let mut lean = Uniquifier::default();
        let vars: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
        for n in names {
            let a = plain.unique("", n, &|_| false, Mark::Stored).0;
            let (b, imp) =
                lean.unique("", n, &|k| vars.borrow().contains(k), Mark::ImplicitIfLower);
            assert_eq!(a, b);
            if imp {
                vars.borrow_mut().insert(b);
            }
            assert_eq!(plain.len(), lean.len());
        }
        assert_eq!(suffixed("ab", 10), "ab_10");
        assert_eq!(suffixed("ab", 10).capacity(), 5);
    }
}
