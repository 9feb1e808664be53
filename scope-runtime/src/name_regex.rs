//! TF's two scope-name regexes (`tensorflow/python/framework/ops.py`), defined once.
//!
//! This file depends on nothing, not even its own crate: the runtime compiles it as
//! `names::name_regex`, and the macro crate, which must not depend on the runtime, compiles
//! the same file through `#[path]` to check literal names at compile time. Its tests hold the
//! predicates to the patterns, and the macro crate's tests hold its checks to the runtime's.

/// The regex for a name opened at the root name scope.
pub(crate) const ROOT_PATTERN: &str = r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$";

/// The regex for a name opened inside another name scope.
pub(crate) const NESTED_PATTERN: &str = r"^[A-Za-z0-9_.\\/>-]*$";

/// Whether `c` may start a name opened at the root: [`ROOT_PATTERN`]'s first class,
/// `[A-Za-z0-9.]`.
pub(crate) fn is_root_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.'
}

/// Whether `c` may appear in a scope name: the repeated class of both patterns,
/// `[A-Za-z0-9_.\\/>-]`.
pub(crate) fn is_scope_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '\\' | '/' | '>' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bracketed classes of a pattern, as sets of chars (ranges `a-z`, escapes `\\`, and
    /// a final `-` taken literally, which is all these patterns use).
    fn classes(pattern: &str) -> Vec<Vec<char>> {
        let mut out = Vec::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('[') {
            let close = open + rest[open..].find(']').expect("class closes");
            let body: Vec<char> = rest[open + 1..close].chars().collect();
            let mut set = Vec::new();
            let mut i = 0;
            while i < body.len() {
                let c = if body[i] == '\\' {
                    i += 1;
                    body[i]
                } else {
                    body[i]
                };
                if i + 2 < body.len() && body[i + 1] == '-' {
                    set.extend(c..=body[i + 2]);
                    i += 3;
                } else {
                    set.push(c);
                    i += 1;
                }
            }
            out.push(set);
            rest = &rest[close + 1..];
        }
        out
    }

    /// The predicates accept exactly the chars of the patterns' classes.
    #[test]
    fn predicates_match_the_patterns() {
        let root = classes(ROOT_PATTERN);
        let nested = classes(NESTED_PATTERN);
        assert_eq!(root.len(), 2);
        assert_eq!(nested.len(), 1);
        assert_eq!(root[1], nested[0]);
        let probes = (0u32..0x80)
            .filter_map(char::from_u32)
            .chain(['é', 'ß', '٣', '\u{2028}']);
        for c in probes {
            assert_eq!(is_root_start(c), root[0].contains(&c), "{c:?} at the start");
            assert_eq!(is_scope_char(c), nested[0].contains(&c), "{c:?}");
        }
    }
}
