//! Deterministic damage for robustness tests: a seeded RNG and generic mutations of a
//! file's bytes (bit flips, truncation, overwrites, insertions, deletions), shared by the
//! readers' mutation test (`tests/it/checkpoint_robustness.rs`) and the command's
//! (`scope-cli/tests/fuzz.rs`).

/// SplitMix64: a deterministic stream of random numbers without a dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// A byte, one time in three a special one (0, 0xff, a digit, a quote, ...).
    pub fn byte(&mut self) -> u8 {
        const SPECIAL: [u8; 8] = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, b'9', b'"'];
        if self.below(3) == 0 {
            SPECIAL[self.below(SPECIAL.len())]
        } else {
            self.next() as u8
        }
    }
}

/// Generic damage: bit flips, truncation, overwrites, insertions, deletions.
pub fn damage(rng: &mut Rng, bytes: &mut Vec<u8>) -> &'static str {
    if bytes.is_empty() {
        bytes.push(rng.byte());
        return "grow";
    }
    match rng.below(5) {
        0 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            "bit flips"
        }
        1 => {
            let n = rng.below(bytes.len());
            bytes.truncate(n);
            "truncation"
        }
        2 => {
            let start = rng.below(bytes.len());
            for i in start..(start + 1 + rng.below(16)).min(bytes.len()) {
                bytes[i] = rng.byte();
            }
            "overwrite"
        }
        3 => {
            let at = rng.below(bytes.len() + 1);
            let n = 1 + rng.below(8);
            let ins: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            bytes.splice(at..at, ins);
            "insertion"
        }
        _ => {
            let at = rng.below(bytes.len());
            let end = (at + 1 + rng.below(8)).min(bytes.len());
            bytes.drain(at..end);
            "deletion"
        }
    }
}
