//! Preset mappings by name: the mechanism. Each model defines its own presets (a list of
//! [`Preset`] values beside its declaration, such as BERT's `bert-tf-to-hf`); a [`Presets`]
//! set gathers them, finds one by name, and refuses an unknown name with a suggestion.
//! The `scope` facade's `models::presets()` is the set of every model this project ships.

use super::suggest::closest;
use super::{CheckpointError, Mapping, Result, TensorInfo};

/// A ready-made [`Mapping`] known by name, as a model registers it.
///
/// A name may end in `:layout` when the preset has layouts (BERT's `bert-tf-to-hf:classifier`):
/// the layout then is fixed instead of detected from the checkpoint's names.
///
/// ```
/// use scope::checkpoint::{Mapping, Preset, Presets, TensorInfo};
/// use scope::DType;
///
/// fn strip(_layout: Option<&str>, _tensors: &[TensorInfo]) -> scope::checkpoint::Result<Mapping> {
///     Mapping::new("strip-model").rename("model/(.*)", "${1}")
/// }
///
/// let strip_model = Preset { name: "strip-model", layouts: &[], build: strip };
/// let presets = Presets::new().with(&[strip_model])?;
/// let tensors = [TensorInfo::new("model/w", DType::F32, &[2])];
/// let report = presets.mapping("strip-model", &tensors)?.report(&tensors);
/// assert_eq!(report.pairs().next().unwrap().1, "w");
/// let err = presets.mapping("strip-modle", &tensors).unwrap_err();
/// assert!(err.to_string().contains("did you mean `strip-model`"));
/// # Ok::<(), scope::checkpoint::CheckpointError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name the preset is asked for by (`bert-tf-to-hf`).
    pub name: &'static str,
    /// The layouts a `:layout` suffix may name (`model`, `pretraining`, `classifier`);
    /// empty if the preset has none.
    pub layouts: &'static [&'static str],
    /// Builds the mapping for the checkpoint whose tensors are `tensors`: with the layout
    /// named by the suffix (one of `layouts`), or `None` to detect it from the names.
    pub build: fn(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<Mapping>,
}

/// A set of [`Preset`]s with distinct names, in the order they were added: what a program
/// (the `scope` command's `convert`, a user's own tool) looks preset names up in.
#[derive(Clone, Debug, Default)]
pub struct Presets {
    presets: Vec<Preset>,
}

impl Presets {
    /// An empty set.
    pub fn new() -> Presets {
        Presets::default()
    }

    /// The set with `presets` added after the ones it has (a model's list). Refused with
    /// [`CheckpointError::DuplicatePreset`] if a name is already taken; the set is then
    /// unchanged.
    pub fn with(mut self, presets: &[Preset]) -> Result<Presets> {
        for (i, p) in presets.iter().enumerate() {
            let taken = self
                .presets
                .iter()
                .chain(&presets[..i])
                .any(|q| q.name == p.name);
            if taken {
                return Err(CheckpointError::DuplicatePreset {
                    name: p.name.to_owned(),
                });
            }
        }
        self.presets.extend_from_slice(presets);
        Ok(self)
    }

    /// Every preset, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Preset> {
        self.presets.iter()
    }

    /// Every name [`Presets::mapping`] accepts: each preset's name, then that name with
    /// each of its layouts (`bert-tf-to-hf`, `bert-tf-to-hf:model`, ...).
    pub fn names(&self) -> Vec<String> {
        self.presets
            .iter()
            .flat_map(|p| {
                std::iter::once(p.name.to_owned())
                    .chain(p.layouts.iter().map(move |l| format!("{}:{l}", p.name)))
            })
            .collect()
    }

    /// The mapping named `name` (`bert-tf-to-hf`, `bert-hf-to-tf:classifier`, ...) for the
    /// checkpoint whose tensors are `tensors` (the layout is detected from their names
    /// unless the name fixes it). An unknown name or layout is refused with
    /// [`CheckpointError::UnknownPreset`], which lists every known name and suggests the
    /// closest.
    pub fn mapping(&self, name: &str, tensors: &[TensorInfo]) -> Result<Mapping> {
        let (base, layout) = match name.split_once(':') {
            Some((base, l)) => (base, Some(l)),
            None => (name, None),
        };
        let unknown = || {
            let all = self.names();
            CheckpointError::UnknownPreset {
                name: name.to_owned(),
                suggestion: closest(name, all.iter().map(String::as_str)).map(str::to_owned),
                known: all.join(", "),
            }
        };
        let preset = self
            .presets
            .iter()
            .find(|p| p.name == base)
            .ok_or_else(unknown)?;
        if layout.is_some_and(|l| !preset.layouts.contains(&l)) {
            return Err(unknown());
        }
        (preset.build)(layout, tensors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    fn rename(layout: Option<&str>, _: &[TensorInfo]) -> Result<Mapping> {
        Mapping::new(format!("a-to-b:{}", layout.unwrap_or("detected"))).rename("a", "b")
    }

    const A: &[Preset] = &[Preset {
        name: "a-to-b",
        layouts: &["x", "y"],
        build: rename,
    }];

    #[test]
    fn names_layouts_and_unknown_names() {
        let set = Presets::new().with(A).unwrap();
        assert_eq!(set.names(), ["a-to-b", "a-to-b:x", "a-to-b:y"]);
        let tensors = [TensorInfo::new("a", DType::F32, &[1])];
        assert_eq!(
            set.mapping("a-to-b", &tensors).unwrap().name(),
            "a-to-b:detected"
        );
        assert_eq!(
            set.mapping("a-to-b:y", &tensors).unwrap().name(),
            "a-to-b:y"
        );
        for bad in ["a-to-c", "a-to-b:z", "a-to-b:"] {
            let err = set.mapping(bad, &tensors).unwrap_err();
            assert!(
                matches!(&err, CheckpointError::UnknownPreset { name, known, .. }
                    if name == bad && known == "a-to-b, a-to-b:x, a-to-b:y"),
                "{err}"
            );
        }
        assert!(set
            .mapping("a-to-c", &tensors)
            .unwrap_err()
            .to_string()
            .contains("did you mean `a-to-b`"));
    }

    #[test]
    fn a_name_is_registered_once() {
        let set = Presets::new().with(A).unwrap();
        let err = set.clone().with(A).unwrap_err();
        assert!(matches!(&err, CheckpointError::DuplicatePreset { name } if name == "a-to-b"));
        assert!(err.to_string().contains("`a-to-b`"), "{err}");
        let twice = [A[0], A[0]];
        assert!(Presets::new().with(&twice).is_err());
        assert_eq!(set.iter().count(), 1);
    }
}
