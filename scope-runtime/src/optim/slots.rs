//! The one rule for optimizer state names: a slot of variable `<var>` is `<var>/<slot>`
//! (TF's `slot_creator`, BERT's `AdamWeightDecayOptimizer`), and a few counters
//! (`global_step`, Adam's `beta1_power` and `beta2_power`) sit beside the model. What
//! creates slots ([`crate::optim::AdamWeightDecay`]) and what recognizes them in a checkpoint
//! (the `scope` command, preset mappings) ask this module.
//!
//! ```
//! use scope::optim::slots::{is_counter, slot_name, split_slot, ADAM_M};
//!
//! assert_eq!(slot_name("dense/kernel", ADAM_M), "dense/kernel/adam_m");
//! assert_eq!(split_slot("rnn/w/Adam_1"), Some(("rnn/w", "Adam_1")));
//! assert_eq!(split_slot("dense/kernel"), None);
//! assert!(is_counter("beta1_power"));
//! ```

/// TF1's `AdamOptimizer`'s first slot (`m`): `<var>/Adam`. Its second (`v`) is the same
/// name uniquified, `<var>/Adam_1`.
pub const ADAM: &str = "Adam";

/// BERT's `AdamWeightDecayOptimizer`'s first moment: `<var>/adam_m`.
pub const ADAM_M: &str = "adam_m";

/// BERT's `AdamWeightDecayOptimizer`'s second moment: `<var>/adam_v`.
pub const ADAM_V: &str = "adam_v";

/// The slot names of TF1's optimizers and of BERT's `AdamWeightDecayOptimizer`. A slot's
/// last name component is one of these, or one of these with a `_N` suffix (TF uniquifies
/// the second slot of one name: `Adam_1`).
pub const SLOTS: &[&str] = &[
    ADAM,
    ADAM_M,
    ADAM_V,
    "Momentum",
    "RMSProp",
    "Adagrad",
    "AdagradDA",
    "Adadelta",
    "Ftrl",
    "Adamax",
    "Nadam",
    "LazyAdam",
    "ExponentialMovingAverage",
    "accumulator",
    "gradient_accumulator",
];

/// Training state that belongs to no variable: the step counter and Adam's powers of beta
/// (each also with a `_N` suffix).
pub const COUNTERS: &[&str] = &["global_step", "beta1_power", "beta2_power"];

/// The name of slot `slot` of variable `var`: `<var>/<slot>`.
pub fn slot_name(var: &str, slot: &str) -> String {
    format!("{var}/{slot}")
}

/// `name` split into the variable it is a slot of and the slot (`rnn/w/Adam_1` ->
/// `("rnn/w", "Adam_1")`), if its last component is a slot name (see [`SLOTS`]). The
/// variable part is the name as written: under an optimizer's name scope it carries that
/// scope in front (`train/rnn/w/Adam` -> `train/rnn/w`); whether such a variable exists is
/// for the caller to check.
pub fn split_slot(name: &str) -> Option<(&str, &str)> {
    let (var, slot) = name.rsplit_once('/')?;
    (!var.is_empty() && is_one_of(slot, SLOTS)).then_some((var, slot))
}

/// Whether `component` (a name's last component) is a step counter or an optimizer's own
/// state (see [`COUNTERS`]).
pub fn is_counter(component: &str) -> bool {
    is_one_of(component, COUNTERS)
}

/// A regular expression (for a checkpoint [`crate::checkpoint::Mapping`] rule, anchored by
/// the mapping) that matches exactly the names [`split_slot`] takes for slots.
pub fn slot_pattern() -> String {
    format!(".+/{}", one_of_pattern(SLOTS))
}

/// A regular expression that matches exactly the names whose last component
/// [`is_counter`] takes (at the root or under a scope).
pub fn counter_pattern() -> String {
    format!("(?:.+/)?{}", one_of_pattern(COUNTERS))
}

/// `(?:a|b)` with the optional `_N` suffix of [`is_one_of`].
fn one_of_pattern(names: &[&str]) -> String {
    format!("(?:{})(?:_(?:0|[1-9][0-9]{{0,8}}))?", names.join("|"))
}

/// `component` is one of `names`, or one of them with a `_N` suffix (no leading zeros).
fn is_one_of(component: &str, names: &[&str]) -> bool {
    if names.contains(&component) {
        return true;
    }
    let Some((base, digits)) = component.rsplit_once('_') else {
        return false;
    };
    let number = !digits.is_empty()
        && digits.len() <= 9
        && digits.bytes().all(|c| c.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'));
    number && names.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_counters() {
        assert_eq!(split_slot("a/b/adam_v"), Some(("a/b", "adam_v")));
        assert_eq!(split_slot("a/Momentum_2"), Some(("a", "Momentum_2")));
        assert_eq!(split_slot("Adam"), None, "a slot needs a variable");
        assert_eq!(split_slot("/Adam"), None);
        assert_eq!(split_slot("a/Adam_01"), None);
        assert_eq!(split_slot("a/Adamx"), None);
        assert!(is_counter("global_step"));
        assert!(is_counter("beta2_power_1"));
        assert!(!is_counter("step"));
        assert_eq!(slot_name("v", ADAM_V), "v/adam_v");
    }

    #[test]
    fn patterns_agree_with_the_functions() {
        let slot = regex_automata::meta::Regex::new(&format!("^(?:{})$", slot_pattern())).unwrap();
        let counter =
            regex_automata::meta::Regex::new(&format!("^(?:{})$", counter_pattern())).unwrap();
        for name in [
            "a/b/adam_v",
            "a/Momentum_2",
            "Adam",
            "/Adam",
            "a/Adam_01",
            "a/Adamx",
            "a/Adam_1",
            "global_step",
            "x/beta2_power_1",
            "step",
            "a/global_step_0",
        ] {
            assert_eq!(slot.is_match(name), split_slot(name).is_some(), "{name}");
            let last = name.rsplit('/').next().unwrap();
            assert_eq!(counter.is_match(name), is_counter(last), "{name}");
        }
    }
}
