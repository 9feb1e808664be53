//! "Did you mean": the closest name among candidates, by shared trailing path components
//! (a missing `model/rnn/w` whose checkpoint key is `rnn/w`) or by a small edit distance (a
//! typo such as `wieghts`).
//!
//! The work is bounded by construction, whatever the number and length of the names:
//!
//! * suffix matches come from a trie of the candidates' components read from the end, so a
//!   lookup costs the length of the name, never a pass over the candidates;
//! * typos are searched only among candidates whose length is within the typo limit, with a
//!   Levenshtein computed in a band of `2 * limit + 1` cells per row around the diagonal
//!   (after trimming a shared prefix and suffix), and all of it draws on one [`Budget`] of
//!   work units per pre-flight. When the budget is spent, suffix matches are still exact and
//!   only the typo search stops.

use crate::uniquifier::FastMap;

/// Work units (Levenshtein cells, candidates looked at, bytes trimmed / 8) one pre-flight
/// may spend on typo suggestions: a few tens of milliseconds.
pub(crate) const EDIT_WORK_BUDGET: u64 = 1 << 24;

/// The largest typo limit ([`typo_limit`]).
const MAX_TYPO_LIMIT: usize = 8;

/// Work left for the typo search.
#[derive(Debug)]
pub(crate) struct Budget {
    left: u64,
    used: u64,
}

impl Budget {
    pub(crate) fn new(units: u64) -> Budget {
        Budget {
            left: units,
            used: 0,
        }
    }

    /// Takes `units` if that many are left.
    fn take(&mut self, units: u64) -> bool {
        if units > self.left {
            self.left = 0;
            return false;
        }
        self.left -= units;
        self.used += units;
        true
    }

    /// Gives back what a bounded step did not use.
    fn refund(&mut self, units: u64) {
        self.left += units;
        self.used -= units;
    }

    /// Units spent so far.
    #[cfg(test)]
    pub(crate) fn used(&self) -> u64 {
        self.used
    }
}

/// How many trailing `/`-separated components `a` and `b` share.
pub(crate) fn common_suffix_components(a: &str, b: &str) -> usize {
    a.rsplit('/')
        .zip(b.rsplit('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// Reusable rows of the banded Levenshtein.
#[derive(Default)]
struct Rows {
    prev: Vec<usize>,
    cur: Vec<usize>,
}

/// Levenshtein distance between `a` and `b` if it is at most `limit`, computing only the
/// cells within `limit` of the diagonal (no path through other cells can stay within
/// `limit`). Returns the distance and the cells computed.
fn banded_distance(a: &[u8], b: &[u8], limit: usize, rows: &mut Rows) -> (Option<usize>, u64) {
    // A shared prefix or suffix never changes the distance.
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[pre..], &b[pre..]);
    let suf = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suf], &b[..b.len() - suf]);
    if a.len().abs_diff(b.len()) > limit {
        return (None, 0);
    }
    let (n, m) = (a.len(), b.len());
    let far = limit + 1;
    let Rows { prev, cur } = rows;
    prev.clear();
    prev.extend((0..=m).map(|j| j.min(far)));
    cur.clear();
    cur.resize(m + 1, far);
    let mut cells = 0u64;
    for i in 1..=n {
        let lo = i.saturating_sub(limit).max(1);
        let hi = (i + limit).min(m);
        cur[0] = i.min(far);
        if lo > 1 {
            cur[lo - 1] = far;
        }
        let mut row_min = if lo == 1 { cur[0] } else { far };
        for j in lo..=hi {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let v = sub.min(prev[j] + 1).min(cur[j - 1] + 1).min(far);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < m {
            cur[hi + 1] = far;
        }
        cells += (hi + 1).saturating_sub(lo) as u64;
        if row_min > limit {
            return (None, cells);
        }
        std::mem::swap(prev, cur);
    }
    (Some(prev[m]).filter(|&d| d <= limit), cells)
}

/// Levenshtein distance between `a` and `b` if it is at most `limit`.
#[cfg(test)]
pub(crate) fn edit_distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    banded_distance(a.as_bytes(), b.as_bytes(), limit, &mut Rows::default()).0
}

/// The edit distance accepted as a typo of `name`.
fn typo_limit(name: &str) -> usize {
    (name.len() / 5).clamp(2, MAX_TYPO_LIMIT)
}

/// The most work one candidate can cost: the band over its length, plus trimming.
fn pair_cost(name_len: usize, limit: usize) -> u64 {
    let band = (2 * limit + 1) as u64;
    1 + band * (name_len as u64 + 1) + (name_len as u64) / 8
}

/// One node of the suffix trie: a run of trailing components shared by some candidates.
#[derive(Clone, Copy)]
struct Node {
    /// The two earliest candidates at or below this node (`u32::MAX`: none).
    first: [u32; 2],
    /// The candidate that is exactly this run of components, if any.
    exact: u32,
}

const NONE: u32 = u32::MAX;

/// The candidates of one question ("which of these is `name` close to?"), indexed.
pub(crate) struct Suggester<'a> {
    /// Distinct candidates, in their first order.
    cands: Vec<&'a str>,
    /// Node 0 is the root; children are keyed by parent and component.
    nodes: Vec<Node>,
    children: FastMap<(u32, &'a str), u32>,
    /// Candidate indices sorted by (length, index).
    by_len: Vec<u32>,
    rows: Rows,
}

impl<'a> Suggester<'a> {
    /// Indexes `candidates` (duplicates are ignored): linear in their total length.
    pub(crate) fn new(candidates: impl IntoIterator<Item = &'a str>) -> Suggester<'a> {
        let empty = Node {
            first: [NONE; 2],
            exact: NONE,
        };
        let mut cands: Vec<&'a str> = Vec::new();
        let mut nodes = vec![empty];
        let mut children: FastMap<(u32, &'a str), u32> = FastMap::default();
        let mut path: Vec<u32> = Vec::new();
        for cand in candidates {
            path.clear();
            let mut at = 0u32;
            for comp in cand.rsplit('/') {
                let next = nodes.len() as u32;
                at = *children.entry((at, comp)).or_insert(next);
                if at == next {
                    nodes.push(empty);
                }
                path.push(at);
            }
            if nodes[at as usize].exact != NONE {
                continue; // the same string again
            }
            let i = cands.len() as u32;
            cands.push(cand);
            nodes[at as usize].exact = i;
            for &node in &path {
                let first = &mut nodes[node as usize].first;
                if first[0] == NONE {
                    first[0] = i;
                } else if first[1] == NONE {
                    first[1] = i;
                }
            }
        }
        let mut by_len: Vec<u32> = (0..cands.len() as u32).collect();
        by_len.sort_by_key(|&i| (cands[i as usize].len(), i));
        Suggester {
            cands,
            nodes,
            children,
            by_len,
            rows: Rows::default(),
        }
    }

    /// A close match for `name`, or `None`.
    ///
    /// Preference: a candidate of which `name` is a whole-component suffix, or that is one of
    /// `name` (a prefix difference), the longer shared tail first; then the most shared
    /// trailing components (at least two); then, within the typo limit and while `budget`
    /// lasts, the smallest edit distance (closest lengths first). Ties go to the earlier
    /// candidate.
    pub(crate) fn suggest(&mut self, name: &str, budget: &mut Budget) -> Option<&'a str> {
        self.by_suffix(name).or_else(|| self.by_typo(name, budget))
    }

    fn by_suffix(&self, name: &str) -> Option<&'a str> {
        let parts = name.split('/').count();
        // The trie nodes along `name`'s components, from the last one.
        let mut path: Vec<u32> = Vec::new();
        let mut at = 0u32;
        for comp in name.rsplit('/') {
            match self.children.get(&(at, comp)) {
                Some(&next) => {
                    path.push(next);
                    at = next;
                }
                None => break,
            }
        }
        let other = |node: u32| {
            self.nodes[node as usize]
                .first
                .into_iter()
                .find(|&c| c != NONE && self.cands[c as usize] != name)
        };
        let pick = |c: u32| Some(self.cands[c as usize]);
        // Whole, all of `name`: candidates ending in it.
        if path.len() == parts {
            if let Some(c) = other(path[parts - 1]) {
                return pick(c);
            }
        }
        // Whole, all of the candidate: the deepest candidate that is a tail of `name`.
        for &node in path.iter().rev() {
            let exact = self.nodes[node as usize].exact;
            if exact != NONE && self.cands[exact as usize] != name {
                return pick(exact);
            }
        }
        // At least two shared trailing components: the most, then the earliest.
        for &node in path.iter().skip(1).rev() {
            if let Some(c) = other(node) {
                return pick(c);
            }
        }
        None
    }

    fn by_typo(&mut self, name: &str, budget: &mut Budget) -> Option<&'a str> {
        let limit = typo_limit(name);
        let len = name.len();
        let cost = pair_cost(len, limit);
        let mut best: Option<(usize, u32)> = None;
        // Lengths in order of distance from `name`'s: a distance is at least the difference.
        for diff in 0..=limit {
            if best.is_some_and(|(d, _)| diff >= d) {
                break;
            }
            let lengths = [len.checked_sub(diff), (diff > 0).then(|| len + diff)];
            for target in lengths.into_iter().flatten() {
                let from = self
                    .by_len
                    .partition_point(|&i| self.cands[i as usize].len() < target);
                for &i in &self.by_len[from..] {
                    let cand = self.cands[i as usize];
                    if cand.len() != target {
                        break;
                    }
                    if cand == name {
                        continue;
                    }
                    let cap = best.map_or(limit, |(d, _)| d - 1);
                    if !budget.take(cost) {
                        return best.map(|(_, i)| self.cands[i as usize]);
                    }
                    let (d, cells) =
                        banded_distance(name.as_bytes(), cand.as_bytes(), cap, &mut self.rows);
                    budget.refund(cost - (1 + cells + (len as u64) / 8).min(cost));
                    if let Some(d) = d {
                        best = Some((d, i));
                        if d == 1 {
                            return Some(cand);
                        }
                    }
                }
            }
        }
        best.map(|(_, i)| self.cands[i as usize])
    }
}

/// A close match for `name` among `candidates`, or `None`, with a budget of its own (see
/// [`Suggester::suggest`]).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    Suggester::new(candidates).suggest(name, &mut Budget::new(EDIT_WORK_BUDGET))
}

/// Suggestions for each of `names` among `candidates`, drawing on `budget`.
pub(crate) fn suggest_all<'a>(
    names: &[&str],
    candidates: &[&'a str],
    budget: &mut Budget,
) -> Vec<Option<&'a str>> {
    let mut s = Suggester::new(candidates.iter().copied());
    names.iter().map(|n| s.suggest(n, budget)).collect()
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

    /// The full Levenshtein table, for reference.
    fn levenshtein(a: &[u8], b: &[u8]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, &x) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, &y) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(x != y))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    /// A small xorshift stream.
    fn rng(seed: u64) -> impl FnMut(usize) -> usize {
        let mut s = seed | 1;
        move |n| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % n as u64) as usize
        }
    }

    #[test]
    fn the_band_agrees_with_the_full_table() {
        let mut r = rng(7);
        let mut rows = Rows::default();
        for _ in 0..20_000 {
            let word = |r: &mut dyn FnMut(usize) -> usize| -> Vec<u8> {
                (0..r(14)).map(|_| b"ab/c"[r(4)]).collect()
            };
            let (a, b) = (word(&mut r), word(&mut r));
            let full = levenshtein(&a, &b);
            for limit in 0..6 {
                let (got, _) = banded_distance(&a, &b, limit, &mut rows);
                assert_eq!(got, (full <= limit).then_some(full), "{a:?} {b:?} {limit}");
            }
        }
    }

    /// The rule before the index: every pair looked at, suffix first, then edit distance.
    fn reference(name: &str, cands: &[&str]) -> Option<(bool, usize, String)> {
        let parts = name.split('/').count();
        let mut best_suffix: Option<(bool, usize, &str)> = None;
        let mut best_edit: Option<usize> = None;
        for &cand in cands {
            if cand == name {
                continue;
            }
            let common = common_suffix_components(name, cand);
            let whole = common > 0 && (common == parts || common == cand.split('/').count());
            if (whole || common >= 2)
                && best_suffix.is_none_or(|(w, c, _)| (whole, common) > (w, c))
            {
                best_suffix = Some((whole, common, cand));
            }
            let d = levenshtein(name.as_bytes(), cand.as_bytes());
            if d <= typo_limit(name) && best_edit.is_none_or(|b| d < b) {
                best_edit = Some(d);
            }
        }
        match best_suffix {
            Some((_, _, c)) => Some((true, 0, c.to_owned())),
            None => best_edit.map(|d| (false, d, String::new())),
        }
    }

    #[test]
    fn the_index_agrees_with_looking_at_every_pair() {
        let mut r = rng(11);
        const PARTS: [&str; 6] = ["a", "b", "rnn", "w", "ab", "wx"];
        for _ in 0..3_000 {
            let name = |r: &mut dyn FnMut(usize) -> usize| -> String {
                let n = 1 + r(4);
                (0..n)
                    .map(|_| PARTS[r(PARTS.len())])
                    .collect::<Vec<_>>()
                    .join("/")
            };
            let cands: Vec<String> = (0..r(12)).map(|_| name(&mut r)).collect();
            let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
            let query = name(&mut r);
            let mut budget = Budget::new(EDIT_WORK_BUDGET);
            let got = Suggester::new(cands.iter().copied()).suggest(&query, &mut budget);
            match reference(&query, &cands) {
                None => assert_eq!(got, None, "{query} in {cands:?}"),
                Some((true, _, want)) => {
                    assert_eq!(got, Some(want.as_str()), "{query} in {cands:?}")
                }
                Some((false, d, _)) => {
                    let got = got.unwrap_or_else(|| panic!("{query} in {cands:?}: no typo"));
                    assert_eq!(
                        levenshtein(query.as_bytes(), got.as_bytes()),
                        d,
                        "{query} {got}"
                    );
                }
            }
        }
    }

    /// 10^4 names against 10^4 candidates of 1,000 bytes, all of one length and sharing a
    /// long prefix (the costliest case for a typo search), none a suffix of another: the
    /// work stays within the budget, and suffix matches are still found past it.
    #[test]
    fn ten_thousand_squared_long_names_stay_within_the_budget() {
        const N: usize = 10_000;
        let pad = "p".repeat(960);
        let names: Vec<String> = (0..N)
            .map(|i| format!("new/{pad}/{i:020}_kernel"))
            .collect();
        let mut cands: Vec<String> = (0..N)
            .map(|i| format!("old/{pad}/{i:020}_kernxl"))
            .collect();
        // A name whose checkpoint key differs by its first scope: a suffix match.
        cands[N - 1] = format!("elsewhere/{pad}/{:020}_kernel", N - 1);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let cands: Vec<&str> = cands.iter().map(String::as_str).collect();
        let mut budget = Budget::new(EDIT_WORK_BUDGET);
        let got = suggest_all(&names, &cands, &mut budget);
        assert!(budget.used() <= EDIT_WORK_BUDGET, "{}", budget.used());
        // The typo search found the first names' near misses before the budget ran out...
        assert_eq!(got[0], Some(cands[0]));
        // ...and the suffix match of the last name does not depend on the budget.
        assert_eq!(got[N - 1], Some(cands[N - 1]));
        // Without the band and the budget this would be 10^8 pairs of 10^6 cells each.
        let unbounded = (N * N) as u64 * 1_000 * 1_000;
        assert!(budget.used() < unbounded / 1_000_000);
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
