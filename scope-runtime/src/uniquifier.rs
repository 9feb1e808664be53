//! TF's name uniquifier (`Graph.unique_name`): case-insensitive counts per name, with the
//! names in use implicitly (generated suffixes, variables, their helper ops) kept compact.

use std::borrow::Cow;
use std::collections::HashMap;

/// The helper ops TF creates below a variable op, whose names are therefore in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helpers {
    /// Made from a value: `v/initial_value`, `v/Assign`, `v/read`.
    FromValue,
    /// Made by a callable initializer: `v/Initializer`, `v/Assign`, `v/read`.
    FromInitializer,
}

impl Helpers {
    /// The flag bit of these helpers (see [`helper_in_use`]).
    pub(crate) fn flag(self) -> u8 {
        match self {
            Helpers::FromValue => HELPERS_FROM_VALUE,
            Helpers::FromInitializer => HELPERS_FROM_INITIALIZER,
        }
    }
}

const HELPERS_FROM_VALUE: u8 = 1;
const HELPERS_FROM_INITIALIZER: u8 = 2;

/// Whether `helper` (lower-cased, the last component of a name) is a helper op of an op with
/// helper `flags`.
fn helper_in_use(flags: u8, helper: &str) -> bool {
    match helper {
        "assign" | "read" => flags != 0,
        "initial_value" => flags & HELPERS_FROM_VALUE != 0,
        "initializer" => flags & HELPERS_FROM_INITIALIZER != 0,
        _ => false,
    }
}

/// What the registry knows of a variable named exactly `key` (a lower-cased name): whether
/// its op name is in use implicitly, and its helper flags (see [`Helpers::flag`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct VarNameInfo {
    /// Its op name is in use with count 1 without an entry (see [`Uniquifier`]).
    pub(crate) implicit: bool,
    /// Its helper ops.
    pub(crate) helpers: u8,
}

/// The hash maps of the registry's hot paths: foldhash (randomly seeded per map) instead of
/// SipHash, which dominated short-name lookups.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// TF's `Graph._names_in_use`: a count per lower-cased name, so that `foo`, `Foo` and `FOO`
/// share one sequence (`foo`, `Foo_1`, `FOO_2`) and an explicit `foo_1` is never handed out
/// again. O(1) per call (amortised over the names a probe skips).
///
/// Several kinds of name are in use (with count 1) without an entry of their own, which
/// keeps a million names small and a run of `v`, `v_1`, ..., `v_99999` at one entry:
///
/// * *generated* names: each entry remembers `hi`, and every `<key>_<k>` with
///   `1 <= k <= hi` is in use (TF's probe for `key` handed it out or found it taken);
/// * *variable* names: a lower-case op name handed out fresh to a variable (see
///   [`Mark::ImplicitIfLower`]), answered for by the registry's by-name index;
/// * *helper* names: the ops TF creates below a variable (`v/read`, `v/Assign`, ...), known
///   from flags on the variable (lower-case op names) or on the op name's entry.
///
/// The first time such a name is itself asked for, it gets an entry with count 2, exactly as
/// if it had been stored with count 1 from the start; so the names handed out are TF's.
#[derive(Clone, Default, Debug)]
pub(crate) struct Uniquifier {
    in_use: FastMap<Box<str>, Counter>,
    /// Entries with a count (the others carry only helper flags).
    counted: usize,
    /// Variable names in use only implicitly.
    implicit: usize,
    /// Generated names in use only through a counter's `hi`.
    generated: usize,
    /// Reused buffers for the full name and the probed candidates.
    full_buf: String,
    probe_buf: String,
}

/// One entry of [`Uniquifier`].
#[derive(Clone, Copy, Debug, Default)]
struct Counter {
    /// TF's `_names_in_use[key]`; 0 for an entry that only carries helper flags.
    count: u32,
    /// Every `<key>_<k>` with `1 <= k <= hi` is in use.
    hi: u32,
    /// Helper ops below the op of this (not lower-case) name (see [`Helpers::flag`]).
    helpers: u8,
}

/// The registry's answer about a lower-cased name: the variable named exactly that, if any.
pub(crate) type VarLookup<'a> = &'a dyn Fn(&str) -> Option<VarNameInfo>;

/// How a name without a counted entry is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Uncounted {
    Variable,
    Generated,
    Helper,
}

/// How the name [`Uniquifier::unique`] hands out is marked as used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    /// By the uniquifier itself.
    Stored,
    /// A fresh lower-case name may be left implicit: the caller registers a variable under
    /// exactly this name and reports it through the variable lookup from then on.
    ImplicitIfLower,
}

/// Whether ASCII `bytes` hold an upper-case letter, eight bytes at a time: full names are
/// checked on every `unique_name`, and a deep name stack makes them long.
fn has_ascii_uppercase(bytes: &[u8]) -> bool {
    const LANES: u64 = u64::from_ne_bytes([0x01; 8]);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word);
        // Every byte is below 0x80, so no lane carries into the next: a lane's high bit is
        // set in `ge_a` iff it is >= b'A', in `gt_z` iff it is > b'Z'.
        let ge_a = x + LANES * (0x80 - u64::from(b'A'));
        let gt_z = x + LANES * (0x80 - u64::from(b'Z') - 1);
        if ge_a & !gt_z & (LANES * 0x80) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(u8::is_ascii_uppercase)
}

/// The lower-cased form of `s` (Python's `str.lower()`), borrowed when already lower case.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if has_ascii_uppercase(s.as_bytes()) {
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

/// Appends `_<i>` to `s` (without the formatting machinery: this is on the hot path).
fn push_suffix(s: &mut String, mut i: u32) {
    let mut buf = [0u8; 10];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    s.push('_');
    // ASCII digits: always UTF-8.
    if let Ok(digits) = std::str::from_utf8(&buf[start..]) {
        s.push_str(digits);
    }
}

impl Uniquifier {
    /// Whether lower-cased `key` is a generated name (see [`Uniquifier`]).
    fn generated_in_use(&self, key: &str) -> bool {
        let Some(pos) = key.rfind('_') else {
            return false;
        };
        let digits = &key[pos + 1..];
        // Only the canonical decimal form is ever generated (`v_1`, not `v_01`).
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return false;
        }
        let Ok(k) = digits.parse::<u32>() else {
            return false;
        };
        self.in_use.get(&key[..pos]).is_some_and(|c| c.hi >= k)
    }

    /// How lower-cased `key`, which has no counted entry, is in use, if it is.
    fn uncounted(&self, key: &str, vars: VarLookup<'_>) -> Option<Uncounted> {
        if self.implicit > 0 && vars(key).is_some_and(|v| v.implicit) {
            return Some(Uncounted::Variable);
        }
        if self.generated_in_use(key) {
            return Some(Uncounted::Generated);
        }
        let (op, helper) = key.rsplit_once('/')?;
        if !helper_in_use(u8::MAX, helper) {
            return None;
        }
        let flags =
            self.in_use.get(op).map_or(0, |c| c.helpers) | vars(op).map_or(0, |v| v.helpers);
        helper_in_use(flags, helper).then_some(Uncounted::Helper)
    }

    /// TF's `unique_name(name)` under `name_stack`, marking the result as used. Returns the
    /// name and whether it was left implicit (only with [`Mark::ImplicitIfLower`]).
    pub(crate) fn unique(
        &mut self,
        name_stack: &str,
        name: &str,
        vars: VarLookup<'_>,
        mark: Mark,
    ) -> (String, bool) {
        // The full name is assembled in a reused buffer: the only allocation of a call is
        // the name it returns.
        let mut full = std::mem::take(&mut self.full_buf);
        full.clear();
        if !name_stack.is_empty() {
            full.push_str(name_stack);
            full.push('/');
        }
        full.push_str(name);
        let result = self.unique_full(&full, vars, mark);
        self.full_buf = full;
        result
    }

    fn unique_full(&mut self, full: &str, vars: VarLookup<'_>, mark: Mark) -> (String, bool) {
        let key = lower(full);
        let first = match self.in_use.get_mut(key.as_ref()) {
            Some(c) if c.count > 0 => {
                // TF probes `<key>_i`, `<key>_{i+1}`, ... for a free name, where i is the
                // count; all up to `hi` are taken. The first candidate is in use after this
                // call either way (handed out now, or taken already), so `hi` covers it.
                let i = c.count;
                c.count += 1;
                let k = i.max(c.hi.saturating_add(1));
                c.hi = k;
                k
            }
            _ => match self.uncounted(&key, vars) {
                None => {
                    // A fresh name.
                    if let Some(c) = self.in_use.get_mut(key.as_ref()) {
                        c.count = 1;
                        self.counted += 1;
                        return (full.to_owned(), false);
                    }
                    let leave_implicit =
                        mark == Mark::ImplicitIfLower && matches!(key, Cow::Borrowed(_));
                    if leave_implicit {
                        self.implicit += 1;
                    } else {
                        self.in_use
                            .insert(key.as_ref().into(), Counter::with_count(1));
                        self.counted += 1;
                    }
                    return (full.to_owned(), leave_implicit);
                }
                Some(how) => {
                    // In use with count 1: now a counted entry of its own, probing from 1.
                    match how {
                        Uncounted::Variable => self.implicit -= 1,
                        Uncounted::Generated => self.generated -= 1,
                        Uncounted::Helper => {}
                    }
                    let c = self.in_use.entry(key.as_ref().into()).or_default();
                    c.count = 2;
                    c.hi = 1;
                    self.counted += 1;
                    1
                }
            },
        };
        let mut probe = std::mem::take(&mut self.probe_buf);
        probe.clear();
        probe.push_str(&key);
        let base_len = probe.len();
        let mut k = first;
        loop {
            probe.truncate(base_len);
            push_suffix(&mut probe, k);
            // A candidate ends in `_<digits>`: never a helper name, never generated by
            // another key.
            let taken = self.in_use.get(probe.as_str()).is_some_and(|c| c.count > 0)
                || (self.implicit > 0 && vars(&probe).is_some_and(|v| v.implicit));
            if !taken {
                break;
            }
            k += 1;
        }
        if k != first {
            if let Some(c) = self.in_use.get_mut(&probe[..base_len]) {
                c.hi = k;
            }
        }
        self.generated += 1;
        // The name keeps its case; the suffix is the one just probed.
        let suffix = &probe[base_len..];
        let mut result = String::with_capacity(full.len() + suffix.len());
        result.push_str(full);
        result.push_str(suffix);
        self.probe_buf = probe;
        (result, false)
    }

    /// `name`, handed out implicitly for a variable that is not created after all, stays in
    /// use on its own (as TF's name does when the op fails).
    pub(crate) fn keep_without_variable(&mut self, name: &str) {
        self.implicit -= 1;
        let c = self.in_use.entry(lower(name).as_ref().into()).or_default();
        c.count = 1;
        self.counted += 1;
    }

    /// Marks the helper ops below the op `op_name` as in use. A lower-case op name is a
    /// variable the registry indexes under exactly that name, which carries the flags itself.
    pub(crate) fn mark_helpers(&mut self, op_name: &str, helpers: Helpers) {
        if let Cow::Owned(key) = lower(op_name) {
            self.in_use.entry(key.into()).or_default().helpers |= helpers.flag();
        }
    }

    /// How many names are in use: counted entries, implicit and generated names. (Helper
    /// op names are not counted.)
    pub(crate) fn len(&self) -> usize {
        self.counted + self.implicit + self.generated
    }
}

impl Counter {
    fn with_count(count: u32) -> Counter {
        Counter {
            count,
            ..Counter::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashSet;

    /// TF's `unique_name`, verbatim: the reference the compact uniquifier must match.
    #[derive(Default)]
    struct Naive(HashMap<String, u32>);

    impl Naive {
        fn unique(&mut self, stack: &str, name: &str) -> String {
            let name = if stack.is_empty() {
                name.to_owned()
            } else {
                format!("{stack}/{name}")
            };
            let mut key = name.to_lowercase();
            let mut i = self.0.get(&key).copied().unwrap_or(0);
            self.0.insert(key.clone(), i + 1);
            if i == 0 {
                return name;
            }
            let base = key.clone();
            while self.0.contains_key(&key) {
                key = format!("{base}_{i}");
                i += 1;
            }
            self.0.insert(key, 1);
            format!("{name}_{}", i - 1)
        }
    }

    fn unique(u: &mut Uniquifier, stack: &str, name: &str) -> String {
        u.unique(stack, name, &|_| None, Mark::Stored).0
    }

    impl Uniquifier {
        /// Whether a name (compared lower-cased) is in use.
        fn is_used(&self, name: &str, vars: VarLookup<'_>) -> bool {
            let key = lower(name);
            self.in_use.get(key.as_ref()).is_some_and(|c| c.count > 0)
                || self.uncounted(&key, vars).is_some()
        }
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
    fn uppercase_detection_matches_bytes() {
        for b in 0u8..0x80 {
            for pos in 0..20 {
                let mut bytes = [b'a'; 20];
                bytes[pos] = b;
                assert_eq!(
                    has_ascii_uppercase(&bytes[..]),
                    b.is_ascii_uppercase(),
                    "{b:#x} at {pos}"
                );
                let mut others = [0x7f; 20];
                others[pos] = b;
                assert_eq!(has_ascii_uppercase(&others), b.is_ascii_uppercase());
            }
        }
    }

    #[test]
    fn suffixes_are_decimal() {
        for i in [0, 1, 9, 10, 99, 100, 12345, u32::MAX] {
            let mut s = String::from("v");
            push_suffix(&mut s, i);
            assert_eq!(s, format!("v_{i}"));
        }
    }

    #[test]
    fn helper_names_are_in_use() {
        // Flags of a lower-case variable come from the registry's lookup; of any other op
        // name, from its own entry.
        let v = |k: &str| {
            (k == "v").then_some(VarNameInfo {
                implicit: false,
                helpers: Helpers::FromValue.flag(),
            })
        };
        let mut u = Uniquifier::default();
        let mut unique_v = |stack: &str, name: &str| u.unique(stack, name, &v, Mark::Stored).0;
        assert_eq!(unique_v("", "v"), "v");
        assert_eq!(unique_v("v", "read"), "v/read_1");
        assert_eq!(unique_v("v", "initial_value"), "v/initial_value_1");
        assert_eq!(unique_v("v", "Initializer"), "v/Initializer");
        assert_eq!(unique_v("", "v"), "v_1");
        let mut u = Uniquifier::default();
        u.mark_helpers("W", Helpers::FromInitializer);
        assert_eq!(u.len(), 0, "helper names are not counted");
        assert_eq!(unique(&mut u, "w", "read"), "w/read_1");
        assert_eq!(unique(&mut u, "W", "Initializer"), "W/Initializer_1");
        assert_eq!(unique(&mut u, "w", "initial_value"), "w/initial_value");
        assert_eq!(
            unique(&mut u, "", "w"),
            "w",
            "the op name itself is not in use"
        );
        assert_eq!(unique(&mut u, "", "W"), "W_1");
        assert_eq!(u.len(), 7);
    }

    #[test]
    fn skips_explicit_suffixes() {
        let mut u = Uniquifier::default();
        assert_eq!(unique(&mut u, "", "foo_2"), "foo_2");
        assert_eq!(unique(&mut u, "", "foo"), "foo");
        assert_eq!(unique(&mut u, "", "foo"), "foo_1");
        assert_eq!(unique(&mut u, "", "foo"), "foo_3");
    }

    /// Implicit variable names and generated ranges give exactly TF's names and counts,
    /// over every sequence of a small alphabet that exercises suffixes, case and collisions.
    #[test]
    fn compact_marking_matches_tf() {
        let alphabet = [
            "v", "V", "v_1", "v_2", "v_1_1", "V_3", "v_01", "é", "É", "w",
        ];
        // All sequences of length 4 over the alphabet, each as variables and as plain names.
        for as_var in [false, true] {
            for n in 0..alphabet.len().pow(4) {
                let mut naive = Naive::default();
                let mut lean = Uniquifier::default();
                let vars: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
                let mut m = n;
                for _ in 0..4 {
                    let name = alphabet[m % alphabet.len()];
                    m /= alphabet.len();
                    let want = naive.unique("", name);
                    let mark = if as_var {
                        Mark::ImplicitIfLower
                    } else {
                        Mark::Stored
                    };
                    let lookup = |k: &str| {
                        vars.borrow().contains(k).then_some(VarNameInfo {
                            implicit: true,
                            helpers: 0,
                        })
                    };
                    let (got, imp) = lean.unique("", name, &lookup, mark);
                    assert_eq!(got, want, "sequence {n}");
                    if imp {
                        vars.borrow_mut().insert(got);
                    }
                    assert_eq!(lean.len(), naive.0.len(), "sequence {n}");
                    for probe in alphabet.iter().chain(&["v_3", "v_4", "foo"]) {
                        assert_eq!(
                            lean.is_used(probe, &lookup),
                            naive.0.contains_key(&probe.to_lowercase()),
                            "sequence {n}, probe {probe}"
                        );
                    }
                }
            }
        }
    }
}
