//! The registry's index of variables by op name, laid out for a million entries.
//!
//! A slot is the name's 64-bit hash and the variable handle (16 bytes); the name itself
//! lives once, in the variable. The table is keyed by the hash with an identity hasher, so
//! growing it never reads a variable or rehashes a name, and a probe compares integers; only
//! a hit reads the name to confirm it. Two names with the same 64-bit hash are possible in
//! principle: the later one is kept in a small side map by name.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::uniquifier::FastMap;
use crate::variable::Variable;

/// Passes a `u64` key through: the keys are already hashes.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; fold anything else in rather than drop it.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// Variables by op name (see the module docs).
#[derive(Clone)]
pub(crate) struct NameIndex<S = foldhash::fast::RandomState> {
    hasher: S,
    by_hash: HashMap<u64, Variable, BuildHasherDefault<IdentityHasher>>,
    collided: FastMap<Box<str>, Variable>,
}

impl Default for NameIndex {
    fn default() -> Self {
        NameIndex::with_hasher(foldhash::fast::RandomState::default())
    }
}

impl<S: BuildHasher> NameIndex<S> {
    pub(crate) fn with_hasher(hasher: S) -> Self {
        NameIndex {
            hasher,
            by_hash: HashMap::default(),
            collided: FastMap::default(),
        }
    }

    /// The variable whose op name is `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Variable> {
        match self.by_hash.get(&self.hasher.hash_one(name)) {
            Some(v) if v.name() == name => Some(v),
            Some(_) => self.collided.get(name),
            None => None,
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Adds `var`, whose name must not be in the index yet.
    pub(crate) fn insert(&mut self, var: Variable) {
        match self.by_hash.entry(self.hasher.hash_one(var.name())) {
            Entry::Vacant(slot) => {
                slot.insert(var);
            }
            Entry::Occupied(_) => {
                self.collided.insert(var.name().into(), var);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;
    use crate::variable::Registration;

    fn var(id: u64, name: &str) -> Variable {
        Variable::registered(
            id,
            name.into(),
            true,
            Tensor::from(0.0f32),
            Registration::default(),
        )
    }

    /// Every name hashes alike: every lookup after the first goes through the side map.
    #[derive(Default)]
    struct Colliding;

    impl BuildHasher for Colliding {
        type Hasher = IdentityHasher;
        fn build_hasher(&self) -> IdentityHasher {
            IdentityHasher(0)
        }
        fn hash_one<T: std::hash::Hash>(&self, _: T) -> u64 {
            42
        }
    }

    #[test]
    fn finds_by_name_with_and_without_collisions() {
        let mut plain = NameIndex::default();
        let mut colliding = NameIndex::with_hasher(Colliding);
        for (i, name) in ["a", "b", "a/b", "B"].into_iter().enumerate() {
            plain.insert(var(i as u64, name));
            colliding.insert(var(i as u64, name));
        }
        for (i, name) in ["a", "b", "a/b", "B"].into_iter().enumerate() {
            assert_eq!(plain.get(name).map(Variable::id), Some(i as u64));
            assert_eq!(colliding.get(name).map(Variable::id), Some(i as u64));
        }
        for missing in ["", "A", "c", "a/"] {
            assert!(!plain.contains(missing));
            assert!(!colliding.contains(missing));
        }
    }
}
