//! "Did you mean": the closest name among candidates, by shared trailing path components
//! (a missing `model/rnn/w` whose checkpoint key is `rnn/w`) or by a small edit distance (a
//! typo such as `wieghts`).

/// Above this many candidate pairs, only the cheap suffix matching runs.
const EDIT_DISTANCE_BUDGET: usize = 1 << 18;

/// How many trailing `/`-separated components `a` and `b` share.
pub(crate) fn common_suffix_components(a: &str, b: &str) -> usize {
    a.rsplit('/')
        .zip(b.rsplit('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Levenshtein distance between `a` and `b` if it is at most `limit`.
pub(crate) fn edit_distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a = a.as_bytes();
    let b = b.as_bytes();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|&d| d <= limit)
}

/// The edit distance accepted as a typo of `name`.
fn typo_limit(name: &str) -> usize {
    (name.len() / 5).clamp(2, 8)
}

/// A close match for `name` among `candidates`, or `None`.
///
/// Preference: a candidate of which `name` is a whole-component suffix or that is one of
/// `name` (a prefix difference); then the most shared trailing components (at least two);
/// then the smallest edit distance within a typo limit.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    closest_with_budget(name, candidates, true)
}

pub(crate) fn closest_with_budget<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    allow_edit_distance: bool,
) -> Option<&'a str> {
    let name_parts = name.split('/').count();
    let mut best_suffix: Option<(usize, bool, &'a str)> = None;
    let mut best_edit: Option<(usize, &'a str)> = None;
    let limit = typo_limit(name);
    for cand in candidates {
        if cand == name {
            continue;
        }
        let common = common_suffix_components(name, cand);
        let whole = common > 0 && (common == name_parts || common == cand.split('/').count());
        if whole || common >= 2 {
            let better = match best_suffix {
                None => true,
                Some((c, w, _)) => (whole, common) > (w, c),
            };
            if better {
                best_suffix = Some((common, whole, cand));
            }
        }
        if allow_edit_distance && best_suffix.is_none() {
            let cap = best_edit.map_or(limit, |(d, _)| d.saturating_sub(1));
            if let Some(d) = edit_distance_within(name, cand, cap) {
                best_edit = Some((d, cand));
            }
        }
    }
    best_suffix.map(|(_, _, c)| c).or(best_edit.map(|(_, c)| c))
}

/// Suggestions for each of `names` among `candidates`, with edit distances only while the
/// pair count stays within budget.
pub(crate) fn suggest_all<'a>(names: &[&str], candidates: &[&'a str]) -> Vec<Option<&'a str>> {
    let allow = names.len().saturating_mul(candidates.len()) <= EDIT_DISTANCE_BUDGET;
    names
        .iter()
        .map(|n| closest_with_budget(n, candidates.iter().copied(), allow))
        .collect()
}

/// If `a` and `b` differ only by a leading prefix (`model/rnn/w` vs `rnn/w`), the two
/// prefixes, each ending in `/` or empty: `("model/rnn/", "rnn/")` minus the shared tail.
pub(crate) fn prefix_difference<'x>(a: &'x str, b: &'x str) -> Option<(&'x str, &'x str)> {
    let common = common_suffix_components(a, b);
    if common == 0 {
        return None;
    }
    let tail_len = |s: &str| -> usize { s.rsplit('/').take(common).map(|p| p.len() + 1).sum() };
    let cut = |s: &'x str| -> &'x str {
        let t = tail_len(s);
        // `t` counts a separator before the first shared component, absent at the start.
        if t > s.len() {
            ""
        } else {
            &s[..s.len() + 1 - t]
        }
    };
    Some((cut(a), cut(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(edit_distance_within("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance_within("kitten", "sitting", 2), None);
        assert_eq!(edit_distance_within("", "ab", 2), Some(2));
    }

    #[test]
    fn prefers_suffix_then_typo() {
        let c = ["rnn/input_layer/weights", "rnn/input_layer/biases", "other"];
        assert_eq!(
            closest("model/rnn/input_layer/weights", c),
            Some("rnn/input_layer/weights")
        );
        assert_eq!(
            closest("rnn/input_layer/wieghts", c),
            Some("rnn/input_layer/weights")
        );
        assert_eq!(closest("completely/unrelated", c), None);
    }

    #[test]
    fn prefix_differences() {
        assert_eq!(
            prefix_difference("model/rnn/w", "rnn/w"),
            Some(("model/", ""))
        );
        assert_eq!(prefix_difference("a/x/w", "b/x/w"), Some(("a/", "b/")));
        assert_eq!(prefix_difference("a/w", "b/v"), None);
    }
}
