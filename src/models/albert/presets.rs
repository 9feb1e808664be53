//! ALBERT's checkpoint presets: TF1 names (google-research/albert) to Hugging Face's
//! (`AlbertModel`, `AlbertForSequenceClassification`) and back.
//!
//! Hugging Face folds ALBERT's scopes into flatter modules (as its own
//! `load_tf_weights_in_albert` does): `transformer/group_{g}/inner_group_{j}` becomes
//! `encoder.albert_layer_groups.{g}.albert_layers.{j}`; in it `attention_1/self/query`
//! becomes `attention.query`, `attention_1/output/dense` `attention.dense`, the first
//! `LayerNorm` `attention.LayerNorm`, `ffn_1/intermediate/dense` `ffn`,
//! `ffn_1/intermediate/output/dense` `ffn_output` and `LayerNorm_1`
//! `full_layer_layer_norm`; `pooler/dense` becomes `pooler`. Kernels `[in, out]` become
//! `weight` `[out, in]` (transposed), `gamma`/`beta` `weight`/`bias`. Registered by name in
//! [`PRESETS`] (and so in [`crate::models::presets`]).

use crate::checkpoint::{CheckpointError, Mapping, Preset, Result, TensorInfo};
use crate::models::bert::{rename_module, transpose_and_skip_state, Module};

/// Which Hugging Face ALBERT class a checkpoint is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlbertLayout {
    /// `AlbertModel`: names without a prefix (`embeddings.word_embeddings.weight`).
    Model,
    /// `AlbertForSequenceClassification`: `albert.` plus `classifier.{weight,bias}`, the
    /// classifier's `output_weights` and `output_bias`.
    SequenceClassification,
}

impl AlbertLayout {
    /// Every layout.
    pub const ALL: [AlbertLayout; 2] = [AlbertLayout::Model, AlbertLayout::SequenceClassification];

    /// The short name used in preset names: `model`, `classifier`.
    pub fn short_name(self) -> &'static str {
        match self {
            AlbertLayout::Model => "model",
            AlbertLayout::SequenceClassification => "classifier",
        }
    }

    /// The layout of a checkpoint with TF names (`output_weights` means a classifier) or
    /// with Hugging Face names (`classifier.`).
    pub fn detect<'a>(names: impl IntoIterator<Item = &'a str>) -> AlbertLayout {
        let classifier = |n: &str| n == "output_weights" || n.starts_with("classifier.");
        if names.into_iter().any(classifier) {
            AlbertLayout::SequenceClassification
        } else {
            AlbertLayout::Model
        }
    }
}

const INNER: &str = r"bert/encoder/transformer/group_(\d+)/inner_group_(\d+)";
const HF_INNER: &str = "{p}encoder.albert_layer_groups.${1}.albert_layers.${2}";

/// `(TF module, HF module, kind)`; `{i}` is [`INNER`], `{hi}` [`HF_INNER`], `{p}` the prefix.
const MODULES: &[(&str, &str, Module)] = &[
    (
        "bert/embeddings/(word|position|token_type)_embeddings",
        "{p}embeddings.${1}_embeddings",
        Module::Table,
    ),
    (
        "bert/embeddings/LayerNorm",
        "{p}embeddings.LayerNorm",
        Module::LayerNorm,
    ),
    (
        "bert/encoder/embedding_hidden_mapping_in",
        "{p}encoder.embedding_hidden_mapping_in",
        Module::Dense,
    ),
    (
        "{i}/attention_1/self/(query|key|value)",
        "{hi}.attention.${3}",
        Module::Dense,
    ),
    (
        "{i}/attention_1/output/dense",
        "{hi}.attention.dense",
        Module::Dense,
    ),
    (
        "{i}/LayerNorm",
        "{hi}.attention.LayerNorm",
        Module::LayerNorm,
    ),
    ("{i}/ffn_1/intermediate/dense", "{hi}.ffn", Module::Dense),
    (
        "{i}/ffn_1/intermediate/output/dense",
        "{hi}.ffn_output",
        Module::Dense,
    ),
    (
        "{i}/LayerNorm_1",
        "{hi}.full_layer_layer_norm",
        Module::LayerNorm,
    ),
    ("bert/pooler/dense", "{p}pooler", Module::Dense),
];

/// TF1 ALBERT names and layouts to Hugging Face's for `layout` (see the module docs);
/// optimizer state (`adam_m`/`adam_v` slots, `global_step`, ...) is skipped if present. Files
/// written through it carry `format: pt`, which transformers requires.
///
/// ```
/// use scope::checkpoint::TensorInfo;
/// use scope::models::albert::presets::{albert_tf_to_hf, AlbertLayout};
/// use scope::DType;
///
/// let m = albert_tf_to_hf(AlbertLayout::SequenceClassification);
/// let tf = "bert/encoder/transformer/group_1/inner_group_0/LayerNorm_1/gamma";
/// let report = m.report(&[TensorInfo::new(tf, DType::F32, &[8])]);
/// let (_, hf) = report.pairs().next().unwrap();
/// assert_eq!(hf, "albert.encoder.albert_layer_groups.1.albert_layers.0.full_layer_layer_norm.weight");
/// ```
pub fn albert_tf_to_hf(layout: AlbertLayout) -> Mapping {
    let prefix = match layout {
        AlbertLayout::Model => "",
        AlbertLayout::SequenceClassification => "albert.",
    };
    let mut m = Mapping::new(format!("albert-tf-to-hf:{}", layout.short_name()))
        .with_metadata("format", "pt");
    for &(tf, hf, kind) in MODULES {
        let tf = tf.replace("{i}", INNER);
        let hf = hf.replace("{hi}", HF_INNER).replace("{p}", prefix);
        // embedding_hidden_mapping_in exists only when E != H.
        let optional = tf.contains("embedding_hidden_mapping_in");
        m = rename_module(m, &tf, &hf, kind, optional);
    }
    if layout == AlbertLayout::SequenceClassification {
        for (tf, hf) in [
            ("output_weights", "classifier.weight"),
            ("output_bias", "classifier.bias"),
        ] {
            m = m.rename(tf, hf).expect("preset rules are valid");
        }
    }
    transpose_and_skip_state(m)
}

/// Hugging Face ALBERT names for `layout` to TF1's: the inverse of [`albert_tf_to_hf`],
/// derived from it, plus a skip of `embeddings.position_ids`, which Hugging Face files may
/// hold and TF has no variable for.
pub fn albert_hf_to_tf(layout: AlbertLayout) -> Mapping {
    albert_tf_to_hf(layout)
        .inverse()
        .and_then(|m| m.skip(r"(?:albert\.)?embeddings\.position_ids"))
        .map(Mapping::optional)
        .expect("the TF-to-HF preset is invertible")
        .with_name(format!("albert-hf-to-tf:{}", layout.short_name()))
}

/// ALBERT's presets, `albert-tf-to-hf` and `albert-hf-to-tf`, each with the layouts `model`
/// and `classifier` (detected from the names when not given).
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "albert-tf-to-hf",
        layouts: &LAYOUT_NAMES,
        build: tf_to_hf_preset,
    },
    Preset {
        name: "albert-hf-to-tf",
        layouts: &LAYOUT_NAMES,
        build: hf_to_tf_preset,
    },
];

/// Every layout's short name, in [`AlbertLayout::ALL`]'s order.
const LAYOUT_NAMES: [&str; 2] = ["model", "classifier"];

/// The layout named by a preset's `:layout` suffix, or the one `tensors`' names show.
fn layout_of(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<AlbertLayout> {
    match layout {
        None => Ok(AlbertLayout::detect(
            tensors.iter().map(|t| t.name.as_str()),
        )),
        Some(l) => AlbertLayout::ALL
            .into_iter()
            .find(|x| x.short_name() == l)
            .ok_or_else(|| CheckpointError::UnknownPreset {
                name: l.to_owned(),
                suggestion: None,
                known: LAYOUT_NAMES.join(", "),
            }),
    }
}

fn tf_to_hf_preset(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<Mapping> {
    Ok(albert_tf_to_hf(layout_of(layout, tensors)?))
}

fn hf_to_tf_preset(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<Mapping> {
    Ok(albert_hf_to_tf(layout_of(layout, tensors)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::albert::{AlbertClassifier, AlbertConfig};
    use crate::{DType, Model, Registry};

    /// The TF names and shapes of a classifier's variables (from the model itself).
    fn tf_tensors(groups: usize, inner: usize, e: usize) -> Vec<TensorInfo> {
        let bert = crate::models::bert::BertConfig::tiny(30, 8, groups * 2, 2, 12, 16);
        let cfg = AlbertConfig::new(bert, e, groups, inner);
        let reg = Registry::new();
        let model = AlbertClassifier::build_here(&reg, (cfg, 3)).unwrap();
        model
            .variables()
            .iter()
            .map(|(n, v)| TensorInfo::new(n.clone(), DType::F32, v.shape()))
            .collect()
    }

    #[test]
    fn every_layout_round_trips_for_any_grouping() {
        for layout in AlbertLayout::ALL {
            for (groups, inner, e) in [(1, 1, 4), (2, 2, 8), (3, 1, 4)] {
                let mut tf = tf_tensors(groups, inner, e);
                if layout == AlbertLayout::Model {
                    tf.retain(|t| !t.name.starts_with("output_"));
                }
                let mut with_state = tf.clone();
                with_state.push(TensorInfo::new("global_step", DType::I64, &[]));
                with_state.push(TensorInfo::new("output_bias/adam_v", DType::F32, &[3]));
                let there = albert_tf_to_hf(layout).apply(&with_state).unwrap();
                let hf: Vec<TensorInfo> = there
                    .entries
                    .iter()
                    .filter_map(|e| e.target.clone())
                    .collect();
                assert_eq!(hf.len(), tf.len());
                assert_eq!(
                    AlbertLayout::detect(hf.iter().map(|t| t.name.as_str())),
                    layout
                );
                let mut hf_in = hf.clone();
                hf_in.push(TensorInfo::new(
                    "albert.embeddings.position_ids",
                    DType::I64,
                    &[1, 16],
                ));
                let back = albert_hf_to_tf(layout).apply(&hf_in).unwrap();
                let again: Vec<TensorInfo> = back
                    .entries
                    .iter()
                    .filter_map(|e| e.target.clone())
                    .collect();
                assert_eq!(again, tf, "{layout:?} {groups}x{inner}");
            }
        }
    }

    #[test]
    fn hugging_face_names_and_shapes() {
        let tf = tf_tensors(2, 2, 4);
        let report = albert_tf_to_hf(AlbertLayout::SequenceClassification)
            .apply(&tf)
            .unwrap();
        let hf: Vec<TensorInfo> = report
            .entries
            .iter()
            .filter_map(|e| e.target.clone())
            .collect();
        let find = |n: &str| {
            hf.iter()
                .find(|t| t.name == n)
                .unwrap_or_else(|| panic!("no {n}"))
        };
        let l = "albert.encoder.albert_layer_groups.1.albert_layers.1";
        assert_eq!(find(&format!("{l}.attention.query.weight")).shape, [8, 8]);
        assert_eq!(find(&format!("{l}.attention.dense.bias")).shape, [8]);
        assert_eq!(find(&format!("{l}.attention.LayerNorm.weight")).shape, [8]);
        assert_eq!(find(&format!("{l}.ffn.weight")).shape, [12, 8]);
        assert_eq!(find(&format!("{l}.ffn_output.weight")).shape, [8, 12]);
        assert_eq!(find(&format!("{l}.full_layer_layer_norm.bias")).shape, [8]);
        assert_eq!(
            find("albert.encoder.embedding_hidden_mapping_in.weight").shape,
            [8, 4]
        );
        assert_eq!(
            find("albert.embeddings.word_embeddings.weight").shape,
            [30, 4]
        );
        assert_eq!(find("albert.pooler.weight").shape, [8, 8]);
        assert_eq!(find("classifier.weight").shape, [3, 8]);
        let set = crate::models::presets();
        let m = set.mapping("albert-tf-to-hf", &tf).unwrap();
        assert_eq!(m.name(), "albert-tf-to-hf:classifier");
        let m = set.mapping("albert-hf-to-tf:model", &[]).unwrap();
        assert_eq!(m.name(), "albert-hf-to-tf:model");
        assert!(set.mapping("albert-tf-to-hf:nope", &[]).is_err());
    }
}
