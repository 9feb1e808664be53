//! BERT's ready-made mappings between TF1 names (google-research/bert) and Hugging Face's
//! (`BertModel`, `BertForPreTraining`, `BertForSequenceClassification`), the layout candle,
//! transformers, vLLM and TGI read; registered by name in [`PRESETS`].

use std::fmt;
use std::str::FromStr;

use crate::checkpoint::{CheckpointError, Mapping, Preset, Result, TensorInfo};

/// Which Hugging Face BERT class a checkpoint is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BertLayout {
    /// `BertModel`: the encoder and pooler, names without a prefix
    /// (`embeddings.word_embeddings.weight`).
    Model,
    /// `BertForPreTraining`: `bert.` plus the masked-LM and next-sentence heads
    /// (`cls.predictions.*`, `cls.seq_relationship.*`), TF's `run_pretraining`.
    PreTraining,
    /// `BertForSequenceClassification`: `bert.` plus `classifier.{weight,bias}`, TF's
    /// `run_classifier` (`output_weights`, `output_bias`).
    SequenceClassification,
}

impl BertLayout {
    /// Every layout.
    pub const ALL: [BertLayout; 3] = [
        BertLayout::Model,
        BertLayout::PreTraining,
        BertLayout::SequenceClassification,
    ];

    /// The short name used in preset names: `model`, `pretraining`, `classifier`.
    pub fn short_name(self) -> &'static str {
        match self {
            BertLayout::Model => "model",
            BertLayout::PreTraining => "pretraining",
            BertLayout::SequenceClassification => "classifier",
        }
    }

    /// The layout of a checkpoint with TF names: `cls/...` means pretraining heads,
    /// `output_weights` a classifier, else the bare model.
    pub fn detect_tf<'a>(names: impl IntoIterator<Item = &'a str>) -> BertLayout {
        BertLayout::detect(names, "cls/", "output_weights")
    }

    /// The layout of a checkpoint with Hugging Face names (`cls.`, `classifier.`).
    pub fn detect_hf<'a>(names: impl IntoIterator<Item = &'a str>) -> BertLayout {
        BertLayout::detect(names, "cls.", "classifier.")
    }

    fn detect<'a>(
        names: impl IntoIterator<Item = &'a str>,
        pretraining: &str,
        classifier: &str,
    ) -> BertLayout {
        let mut layout = BertLayout::Model;
        for n in names {
            if n.starts_with(pretraining) {
                return BertLayout::PreTraining;
            }
            if n.starts_with(classifier) {
                layout = BertLayout::SequenceClassification;
            }
        }
        layout
    }
}

impl fmt::Display for BertLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// What a module of BERT (or ALBERT) holds.
#[derive(Clone, Copy)]
pub(crate) enum Module {
    /// `kernel` (stored [in, out], transposed) and `bias`.
    Dense,
    /// `gamma` and `beta` -> `weight` and `bias`.
    LayerNorm,
    /// An embedding table: the module itself -> `.weight`.
    Table,
}

/// `(TF module pattern, HF module template, kind)` for the encoder; `{p}` is the HF prefix.
const ENCODER: &[(&str, &str, Module)] = &[
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
        r"bert/encoder/layer_(\d+)/attention/self/(query|key|value)",
        "{p}encoder.layer.${1}.attention.self.${2}",
        Module::Dense,
    ),
    (
        r"bert/encoder/layer_(\d+)/attention/output/dense",
        "{p}encoder.layer.${1}.attention.output.dense",
        Module::Dense,
    ),
    (
        r"bert/encoder/layer_(\d+)/attention/output/LayerNorm",
        "{p}encoder.layer.${1}.attention.output.LayerNorm",
        Module::LayerNorm,
    ),
    (
        r"bert/encoder/layer_(\d+)/(intermediate|output)/dense",
        "{p}encoder.layer.${1}.${2}.dense",
        Module::Dense,
    ),
    (
        r"bert/encoder/layer_(\d+)/output/LayerNorm",
        "{p}encoder.layer.${1}.output.LayerNorm",
        Module::LayerNorm,
    ),
    ("bert/pooler/dense", "{p}pooler.dense", Module::Dense),
];

const PRETRAINING: &[(&str, &str, Module)] = &[
    (
        "cls/predictions/transform/dense",
        "cls.predictions.transform.dense",
        Module::Dense,
    ),
    (
        "cls/predictions/transform/LayerNorm",
        "cls.predictions.transform.LayerNorm",
        Module::LayerNorm,
    ),
];

/// Whole-name renames of the heads' loose variables.
const PRETRAINING_VARS: &[(&str, &str)] = &[
    ("cls/predictions/output_bias", "cls.predictions.bias"),
    (
        "cls/seq_relationship/output_weights",
        "cls.seq_relationship.weight",
    ),
    (
        "cls/seq_relationship/output_bias",
        "cls.seq_relationship.bias",
    ),
];

const CLASSIFIER_VARS: &[(&str, &str)] = &[
    ("output_weights", "classifier.weight"),
    ("output_bias", "classifier.bias"),
];

/// TF1 BERT names and layouts to Hugging Face's for `layout`: `/` paths become dotted
/// module paths, `layer_N` becomes `layer.N`, `kernel` [in, out] becomes `weight` [out, in]
/// (transposed), `gamma`/`beta` become `weight`/`bias`, and the heads' `output_weights` and
/// `output_bias` take their class's names. Optimizer state (`adam_m`/`adam_v` slots, TF's
/// `Adam`/`Adam_1`/`Momentum` slots, `global_step`, `beta1_power`, `beta2_power`) is
/// skipped if present. Files written through it carry `format: pt`, which transformers
/// requires.
///
/// ```
/// use scope::checkpoint::TensorInfo;
/// use scope::models::bert::{bert_tf_to_hf, BertLayout};
/// use scope::DType;
///
/// let m = bert_tf_to_hf(BertLayout::SequenceClassification);
/// let report = m.report(&[TensorInfo::new(
///     "bert/encoder/layer_0/attention/self/query/kernel", DType::F32, &[8, 8])]);
/// let (_, hf) = report.pairs().next().unwrap();
/// assert_eq!(hf, "bert.encoder.layer.0.attention.self.query.weight");
/// ```
pub fn bert_tf_to_hf(layout: BertLayout) -> Mapping {
    let prefix = match layout {
        BertLayout::Model => "",
        BertLayout::PreTraining | BertLayout::SequenceClassification => "bert.",
    };
    let (modules, vars): (&[_], &[_]) = match layout {
        BertLayout::Model => (&[], &[]),
        BertLayout::PreTraining => (PRETRAINING, PRETRAINING_VARS),
        BertLayout::SequenceClassification => (&[], CLASSIFIER_VARS),
    };
    let mut m = Mapping::new(format!("bert-tf-to-hf:{layout}")).with_metadata("format", "pt");
    for &(tf, hf, kind) in ENCODER.iter().chain(modules) {
        m = rename_module(m, tf, &hf.replace("{p}", prefix), kind, false);
    }
    for (tf, hf) in vars {
        m = m.rename(tf, hf).expect("preset rules are valid");
    }
    transpose_and_skip_state(m)
}

/// Adds the renames of one module's leaves, TF `tf/<leaf>` to Hugging Face `hf.<leaf>`
/// (`kernel` to `weight`, `gamma`/`beta` to `weight`/`bias`, a table to `.weight`); each
/// rule optional if `optional` (a module that exists only under some configs).
pub(crate) fn rename_module(
    mut m: Mapping,
    tf: &str,
    hf: &str,
    kind: Module,
    optional: bool,
) -> Mapping {
    let leaves: &[(&str, &str)] = match kind {
        Module::Dense => &[("kernel", "weight"), ("bias", "bias")],
        Module::LayerNorm => &[("gamma", "weight"), ("beta", "bias")],
        Module::Table => &[("", "weight")],
    };
    for (tf_leaf, hf_leaf) in leaves {
        let pattern = if tf_leaf.is_empty() {
            tf.to_owned()
        } else {
            format!("{tf}/{tf_leaf}")
        };
        m = m
            .rename(&pattern, &format!("{hf}.{hf_leaf}"))
            .expect("preset rules are valid");
        if optional {
            m = m.optional();
        }
    }
    m
}

/// The rules every TF-to-Hugging-Face preset ends with: kernels transposed, optimizer state
/// (every slot and counter `optim::slots` names: `adam_m`/`adam_v`, `Adam`/`Adam_1`,
/// `Momentum`, ..., `global_step`, `beta1_power`, `beta2_power`) skipped if present.
pub(crate) fn transpose_and_skip_state(m: Mapping) -> Mapping {
    let m = m.transpose(".*/kernel").expect("preset rules are valid");
    crate::models::skip_optimizer_state(m)
}

/// Hugging Face BERT names and layouts for `layout` to TF1's: the inverse of
/// [`bert_tf_to_hf`], derived from it, plus skips of what Hugging Face files may hold and TF
/// BERT has no variable for (`embeddings.position_ids`, the tied
/// `cls.predictions.decoder.*` copies).
pub fn bert_hf_to_tf(layout: BertLayout) -> Mapping {
    bert_tf_to_hf(layout)
        .inverse()
        .and_then(|m| m.skip(r"(?:bert\.)?embeddings\.position_ids"))
        .map(Mapping::optional)
        .and_then(|m| m.skip(r"cls\.predictions\.decoder\.(?:weight|bias)"))
        .map(Mapping::optional)
        .expect("the TF-to-HF preset is invertible")
        .with_name(format!("bert-hf-to-tf:{layout}"))
}

/// BERT's presets, by name (each may end in `:model`, `:pretraining` or `:classifier` to fix
/// the layout instead of detecting it from the checkpoint's names): `bert-tf-to-hf`
/// ([`bert_tf_to_hf`]) and `bert-hf-to-tf` ([`bert_hf_to_tf`]).
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "bert-tf-to-hf",
        layouts: &LAYOUT_NAMES,
        build: tf_to_hf_preset,
    },
    Preset {
        name: "bert-hf-to-tf",
        layouts: &LAYOUT_NAMES,
        build: hf_to_tf_preset,
    },
];

/// `bert-tf-to-hf[:layout]`: the layout named, or detected from the TF names.
fn tf_to_hf_preset(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<Mapping> {
    let layout = match layout {
        Some(l) => BertLayout::from_preset_layout(l)?,
        None => BertLayout::detect_tf(tensors.iter().map(|t| t.name.as_str())),
    };
    Ok(bert_tf_to_hf(layout))
}

/// `bert-hf-to-tf[:layout]`: the layout named, or detected from the Hugging Face names.
fn hf_to_tf_preset(layout: Option<&str>, tensors: &[TensorInfo]) -> Result<Mapping> {
    let layout = match layout {
        Some(l) => BertLayout::from_preset_layout(l)?,
        None => BertLayout::detect_hf(tensors.iter().map(|t| t.name.as_str())),
    };
    Ok(bert_hf_to_tf(layout))
}

/// Every layout's short name, in [`BertLayout::ALL`]'s order.
const LAYOUT_NAMES: [&str; 3] = ["model", "pretraining", "classifier"];

impl BertLayout {
    /// The layout a preset name's `:layout` suffix names.
    fn from_preset_layout(name: &str) -> Result<BertLayout> {
        name.parse().map_err(|_| CheckpointError::UnknownPreset {
            name: name.to_owned(),
            suggestion: None,
            known: LAYOUT_NAMES.join(", "),
        })
    }
}

impl FromStr for BertLayout {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<BertLayout, String> {
        BertLayout::ALL
            .into_iter()
            .find(|l| l.short_name() == s)
            .ok_or_else(|| format!("unknown BERT layout `{s}` (model, pretraining, classifier)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Presets;

    #[test]
    fn presets_build_and_invert() {
        for layout in BertLayout::ALL {
            let m = bert_tf_to_hf(layout);
            let back = bert_hf_to_tf(layout);
            assert!(m.rules().len() >= 18, "{}", m.rules().len());
            assert_eq!(back.name(), format!("bert-hf-to-tf:{layout}"));
            assert_eq!(layout.short_name().parse::<BertLayout>(), Ok(layout));
        }
        for (name, short) in LAYOUT_NAMES
            .iter()
            .zip(BertLayout::ALL.map(BertLayout::short_name))
        {
            assert_eq!(*name, short);
        }
        let presets = Presets::new().with(PRESETS).unwrap();
        let err = presets
            .mapping("bert-tf-to-fh", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `bert-tf-to-hf`"), "{err}");
        assert!(
            err.contains("known: bert-tf-to-hf, bert-tf-to-hf:model"),
            "{err}"
        );
        let m = presets.mapping("bert-tf-to-hf:pretraining", &[]).unwrap();
        assert_eq!(m.name(), "bert-tf-to-hf:pretraining");
        assert!(presets.mapping("bert-tf-to-hf:nope", &[]).is_err());
        let detected = presets
            .mapping(
                "bert-hf-to-tf",
                &[TensorInfo::new(
                    "classifier.weight",
                    crate::DType::F32,
                    &[2, 8],
                )],
            )
            .unwrap();
        assert_eq!(detected.name(), "bert-hf-to-tf:classifier");
    }

    /// The TF names of a BERT with `layers` layers and the heads of `layout`.
    fn tf_names(layers: usize, layout: BertLayout) -> Vec<TensorInfo> {
        let h = 8;
        let mut names = vec![
            ("bert/embeddings/word_embeddings", vec![30, h]),
            ("bert/embeddings/token_type_embeddings", vec![2, h]),
            ("bert/embeddings/position_embeddings", vec![16, h]),
            ("bert/embeddings/LayerNorm/beta", vec![h]),
            ("bert/embeddings/LayerNorm/gamma", vec![h]),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_owned(), s))
        .collect::<Vec<_>>();
        for i in 0..layers {
            let l = format!("bert/encoder/layer_{i}");
            for (m, din, dout) in [
                ("attention/self/query", h, h),
                ("attention/self/key", h, h),
                ("attention/self/value", h, h),
                ("attention/output/dense", h, h),
                ("intermediate/dense", h, 3 * h),
                ("output/dense", 3 * h, h),
            ] {
                names.push((format!("{l}/{m}/kernel"), vec![din, dout]));
                names.push((format!("{l}/{m}/bias"), vec![dout]));
            }
            for m in ["attention/output", "output"] {
                names.push((format!("{l}/{m}/LayerNorm/beta"), vec![h]));
                names.push((format!("{l}/{m}/LayerNorm/gamma"), vec![h]));
            }
        }
        names.push(("bert/pooler/dense/kernel".into(), vec![h, h]));
        names.push(("bert/pooler/dense/bias".into(), vec![h]));
        match layout {
            BertLayout::Model => {}
            BertLayout::SequenceClassification => {
                names.push(("output_weights".into(), vec![5, h]));
                names.push(("output_bias".into(), vec![5]));
            }
            BertLayout::PreTraining => {
                for (n, s) in [
                    ("cls/predictions/transform/dense/kernel", vec![h, h]),
                    ("cls/predictions/transform/dense/bias", vec![h]),
                    ("cls/predictions/transform/LayerNorm/beta", vec![h]),
                    ("cls/predictions/transform/LayerNorm/gamma", vec![h]),
                    ("cls/predictions/output_bias", vec![30]),
                    ("cls/seq_relationship/output_weights", vec![2, h]),
                    ("cls/seq_relationship/output_bias", vec![2]),
                ] {
                    names.push((n.to_owned(), s));
                }
            }
        }
        names
            .into_iter()
            .map(|(n, s)| TensorInfo::new(n, crate::DType::F32, &s))
            .collect()
    }

    #[test]
    fn every_layout_round_trips_at_any_depth() {
        for layout in BertLayout::ALL {
            for layers in [1, 2, 12, 24] {
                let tf = tf_names(layers, layout);
                let mut with_state = tf.clone();
                with_state.push(TensorInfo::new("global_step", crate::DType::I64, &[]));
                with_state.push(TensorInfo::new(
                    "bert/pooler/dense/kernel/adam_m",
                    crate::DType::F32,
                    &[8, 8],
                ));
                let there = bert_tf_to_hf(layout).apply(&with_state).unwrap();
                let hf: Vec<TensorInfo> = there
                    .entries
                    .iter()
                    .filter_map(|e| e.target.clone())
                    .collect();
                assert_eq!(hf.len(), tf.len());
                assert_eq!(
                    BertLayout::detect_hf(hf.iter().map(|t| t.name.as_str())),
                    layout
                );
                let back = bert_hf_to_tf(layout).apply(&hf).unwrap();
                let again: Vec<TensorInfo> = back
                    .entries
                    .iter()
                    .map(|e| e.target.clone().unwrap())
                    .collect();
                assert_eq!(again, tf, "{layout} x{layers}");
            }
        }
        // What Hugging Face files may hold beyond TF's variables is skipped on the way in.
        let mut hf: Vec<TensorInfo> = bert_tf_to_hf(BertLayout::PreTraining)
            .apply(&tf_names(2, BertLayout::PreTraining))
            .unwrap()
            .entries
            .iter()
            .filter_map(|e| e.target.clone())
            .collect();
        hf.push(TensorInfo::new(
            "bert.embeddings.position_ids",
            crate::DType::I64,
            &[1, 16],
        ));
        hf.push(TensorInfo::new(
            "cls.predictions.decoder.weight",
            crate::DType::F32,
            &[30, 8],
        ));
        assert!(bert_hf_to_tf(BertLayout::PreTraining).apply(&hf).is_ok());
    }

    #[test]
    fn layouts_are_detected() {
        assert_eq!(
            BertLayout::detect_tf(["bert/pooler/dense/bias", "output_weights"]),
            BertLayout::SequenceClassification
        );
        assert_eq!(
            BertLayout::detect_tf(["cls/predictions/output_bias", "output_weights"]),
            BertLayout::PreTraining
        );
        assert_eq!(
            BertLayout::detect_hf(["pooler.dense.bias"]),
            BertLayout::Model
        );
        assert_eq!(
            BertLayout::detect_hf(["classifier.weight"]),
            BertLayout::SequenceClassification
        );
    }
}
