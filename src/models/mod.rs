//! The models this project ships, one module each, above the runtime's general mechanisms:
//! each holds its declaration (written with [`model!`](macro@crate::model)), its config, its
//! forward pass and heads, and the checkpoint presets that map its names to other layouts.
//!
//! * [`seed_rnn`]: the seed program's LSTM regressor, with its fused training step.
//! * [`bert`]: google-research/bert's `modeling.py`, its classifier and pretraining heads.
//! * [`albert`]: google-research/albert's, one layer's weights shared by many layers, and
//!   its LAMB optimizer.
//! * [`gpt2`]: openai/gpt-2's `model.py` and `sample.py`: one set of weights, three builds
//!   (train, cached, sampler), the key/value cache and sampling.
//!
//! [`presets`] gathers every model's checkpoint presets into the one set the `scope`
//! command's `convert` and user tools look names up in.

pub mod albert;
pub mod bert;
pub mod gpt2;
pub mod seed_rnn;

use crate::checkpoint::{Mapping, Preset, Presets};

/// Skips every optimizer slot and counter a checkpoint may hold, as [`optim::slots`] names
/// them (`<var>/Adam`, `<var>/adam_m`, `Momentum`, `_N` suffixes, `global_step`,
/// `beta1_power`, ...), if present: the tail of every model's TF-to-Hugging-Face preset.
///
/// [`optim::slots`]: crate::optim::slots
pub(crate) fn skip_optimizer_state(m: Mapping) -> Mapping {
    use crate::optim::slots::{counter_pattern, slot_pattern};
    m.skip(&slot_pattern())
        .map(Mapping::optional)
        .and_then(|m| m.skip(&counter_pattern()))
        .map(Mapping::optional)
        .expect("the slot and counter patterns are valid rules")
}

/// Every model's preset list, in the order [`presets`] registers them.
const EVERY_MODEL: &[&[Preset]] = &[
    bert::PRESETS,
    albert::presets::PRESETS,
    gpt2::presets::PRESETS,
];

/// Every model's checkpoint presets ([`bert::PRESETS`], ...), in one set:
/// `presets().mapping("bert-tf-to-hf", &tensors)` is the mapping of that name for those
/// tensors, and an unknown name is refused with the list of known ones.
///
/// ```
/// let names = scope::models::presets().names();
/// assert!(names.iter().any(|n| n == "bert-hf-to-tf:classifier"));
/// ```
pub fn presets() -> Presets {
    EVERY_MODEL.iter().fold(Presets::new(), |set, model| {
        set.with(model)
            .expect("the models' preset names are distinct (a test checks)")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_model_preset_is_registered_under_its_own_name() {
        let set = super::presets();
        let listed: usize = super::EVERY_MODEL.iter().map(|m| m.len()).sum();
        assert_eq!(set.iter().count(), listed);
        assert!(set.iter().any(|p| p.name == "bert-tf-to-hf"));
    }
}
