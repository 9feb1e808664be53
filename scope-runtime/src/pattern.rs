//! User-given regular expressions (collection filters, checkpoint mapping rules), compiled
//! with `regex-automata`'s meta engine: the engine under the `regex` crate, with its syntax,
//! Unicode classes and leftmost-first matching, without that crate on top.

use regex_automata::meta::{BuildError, Regex};

/// Compiles `pattern` as `regex::Regex::new` does (same defaults and limits). The error is
/// the text `regex::Error` would show: the syntax error with its caret, or the size limit.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| describe(&e))
}

fn describe(err: &BuildError) -> String {
    if let Some(limit) = err.size_limit() {
        format!("Compiled regex exceeds size limit of {limit} bytes.")
    } else if let Some(syntax) = err.syntax_error() {
        syntax.to_string()
    } else {
        err.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn compiles_like_the_regex_crate() {
        let re = compile(r"^(?:layer_(\d+)/(?P<part>\w+))$").unwrap();
        assert!(
            re.is_match("layer_١٢/kernel"),
            "Unicode digits, as in `regex`"
        );
        assert!(!re.is_match("layer_1/kernel/x"));
        assert_eq!(re.captures_len(), 3);
        let err = compile("a(").unwrap_err();
        assert!(err.contains("unclosed group"), "{err}");
        let err = compile(r"\w{1000}{1000}").unwrap_err();
        assert!(err.contains("exceeds size limit"), "{err}");
    }
}
