//! Near misses: how far into a name a rule's pattern still matches, found by stepping the
//! pattern's lazy DFA byte by byte until it can no longer match.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Anchored, Input};

/// How many name bytes a report may step through in all when looking for near misses.
pub(super) const PROBE_BUDGET: usize = 1 << 22;

/// A rule's pattern, compiled for probing.
pub(super) struct Probe {
    dfa: DFA,
    cache: Cache,
}

impl Probe {
    /// `None` if the lazy DFA cannot run this pattern (then no suggestion is made).
    pub(super) fn new(anchored_pattern: &str) -> Option<Probe> {
        let dfa = DFA::new(anchored_pattern).ok()?;
        let cache = dfa.create_cache();
        Some(Probe { dfa, cache })
    }

    /// The length of the longest prefix of `name` that some name matching the pattern
    /// starts with: the byte at which the pattern stops matching (the whole length if it
    /// never does).
    pub(super) fn matched_len(&mut self, name: &str) -> usize {
        let input = Input::new(name).anchored(Anchored::Yes);
        let Ok(mut sid) = self.dfa.start_state_forward(&mut self.cache, &input) else {
            return 0;
        };
        for (i, &b) in name.as_bytes().iter().enumerate() {
            match self.dfa.next_state(&mut self.cache, sid, b) {
                Ok(next) if next.is_dead() || next.is_quit() => return i,
                Ok(next) => sid = next,
                Err(_) => return i,
            }
        }
        name.len()
    }
}

/// Whether a prefix of `len` bytes makes `name` a near miss: most of the name matched.
pub(super) fn is_near(name: &str, len: usize) -> bool {
    len >= 4 && len * 3 >= name.len() * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_where_a_name_stops_matching() {
        let mut p = Probe::new(r"^(?:bert/layer_(\d+)/kernel)$").unwrap();
        assert_eq!(
            p.matched_len("bert/layer_12/kernal"),
            "bert/layer_12/kern".len()
        );
        assert_eq!(p.matched_len("bert/layer_x"), "bert/layer_".len());
        assert_eq!(
            p.matched_len("bert/layer_1/kernel"),
            "bert/layer_1/kernel".len()
        );
        assert_eq!(p.matched_len("bert/lay"), 8);
        assert_eq!(p.matched_len("xyz"), 0);
        assert!(is_near("bert/layer_12/kernal", 18));
        assert!(!is_near("bert/layer_x", 2));
    }
}
