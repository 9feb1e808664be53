//! Near misses: how far into a name a rule's pattern still matches, found by stepping the
//! pattern's lazy DFA byte by byte until it can no longer match.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::{Anchored, Input};

/// How many more bytes an ended name may need to match a rule and still count as a near
/// miss.
pub(super) const MAX_COMPLETION: usize = 3;

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

    /// How far `name` gets into the pattern: the byte at which it stops matching, or its
    /// whole length if it ends where at most [`MAX_COMPLETION`] more bytes would make it
    /// match (`.../bias` for a rule on `.../biases`). `None` if the name ends and a match is
    /// further away than that (every name is a prefix of `.*/adam_m`; that is no near miss).
    pub(super) fn matched_len(&mut self, name: &str) -> Option<usize> {
        let input = Input::new(name).anchored(Anchored::Yes);
        let mut sid = self.dfa.start_state_forward(&mut self.cache, &input).ok()?;
        for (i, &b) in name.as_bytes().iter().enumerate() {
            match self.dfa.next_state(&mut self.cache, sid, b) {
                Ok(next) if next.is_dead() || next.is_quit() => return Some(i),
                Ok(next) => sid = next,
                Err(_) => return Some(i),
            }
        }
        self.completes_within(sid, MAX_COMPLETION)
            .then_some(name.len())
    }

    /// Whether some string of at most `max` bytes leads from `sid` to a match.
    fn completes_within(&mut self, sid: LazyStateID, max: usize) -> bool {
        let mut frontier = vec![sid];
        let mut seen = vec![sid];
        for _ in 0..=max {
            let mut next_frontier = Vec::new();
            for &s in &frontier {
                match self.dfa.next_eoi_state(&mut self.cache, s) {
                    Ok(eoi) if eoi.is_match() => return true,
                    Ok(_) => {}
                    Err(_) => return false,
                }
                for b in 0..=255u8 {
                    let Ok(n) = self.dfa.next_state(&mut self.cache, s, b) else {
                        return false;
                    };
                    if !(n.is_dead() || n.is_quit() || seen.contains(&n)) {
                        seen.push(n);
                        next_frontier.push(n);
                    }
                }
            }
            if next_frontier.is_empty() || seen.len() > 4096 {
                return false;
            }
            frontier = next_frontier;
        }
        false
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
        let at = |s: &str| Some(s.len());
        assert_eq!(
            p.matched_len("bert/layer_12/kernal"),
            at("bert/layer_12/kern")
        );
        assert_eq!(p.matched_len("bert/layer_x"), at("bert/layer_"));
        assert_eq!(
            p.matched_len("bert/layer_1/kernel"),
            at("bert/layer_1/kernel")
        );
        assert_eq!(p.matched_len("bert/layer_1/kern"), at("bert/layer_1/kern"));
        assert_eq!(p.matched_len("bert/lay"), None, "too far from a match");
        assert_eq!(p.matched_len("xyz"), Some(0));
        let mut skip = Probe::new(r"^(?:.+/(?:adam_m|adam_v))$").unwrap();
        assert_eq!(skip.matched_len("cls/output_bias"), None);
        assert_eq!(
            skip.matched_len("cls/output_bias/ada"),
            at("cls/output_bias/ada")
        );
        assert!(is_near("bert/layer_12/kernal", 18));
        assert!(!is_near("bert/layer_x", 2));
    }
}
