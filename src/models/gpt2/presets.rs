//! Checkpoint name mappings for GPT-2: OpenAI's TF1 names to Hugging Face's
//! (`GPT2Model`: `wte.weight`, `h.0.attn.c_attn.weight` `[nx, nf]`, `ln_f.bias`, ...), and
//! back, the second derived from the first.

use crate::checkpoint::{Mapping, Preset, Result, TensorInfo};

/// GPT-2's presets, registered in [`crate::models::presets`]: `gpt2-tf-to-hf` and its
/// inverse `gpt2-hf-to-tf` (one layout each: `GPT2Model`).
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "gpt2-tf-to-hf",
        layouts: &[],
        build: build_tf_to_hf,
    },
    Preset {
        name: "gpt2-hf-to-tf",
        layouts: &[],
        build: build_hf_to_tf,
    },
];

fn build_tf_to_hf(_layout: Option<&str>, _tensors: &[TensorInfo]) -> Result<Mapping> {
    Ok(gpt2_tf_to_hf())
}

fn build_hf_to_tf(_layout: Option<&str>, _tensors: &[TensorInfo]) -> Result<Mapping> {
    Ok(gpt2_hf_to_tf())
}

/// `(TF pattern, Hugging Face template)` for every variable of `model.model`.
const RULES: &[(&str, &str)] = &[
    ("model/(wte|wpe)", "$1.weight"),
    (r"model/h(\d+)/(ln_1|ln_2)/g", "h.$1.$2.weight"),
    (r"model/h(\d+)/(ln_1|ln_2)/b", "h.$1.$2.bias"),
    (
        r"model/h(\d+)/attn/(c_attn|c_proj)/w",
        "h.$1.attn.$2.weight",
    ),
    (r"model/h(\d+)/attn/(c_attn|c_proj)/b", "h.$1.attn.$2.bias"),
    (r"model/h(\d+)/mlp/(c_fc|c_proj)/w", "h.$1.mlp.$2.weight"),
    (r"model/h(\d+)/mlp/(c_fc|c_proj)/b", "h.$1.mlp.$2.bias"),
    ("model/ln_f/g", "ln_f.weight"),
    ("model/ln_f/b", "ln_f.bias"),
];

/// `gpt2-tf-to-hf`: OpenAI's TF1 GPT-2 names and layouts to Hugging Face's `GPT2Model`:
/// `model/` dropped, `h{i}` becomes `h.{i}`, `/` paths become dotted module paths, the
/// norms' `g`/`b` become `weight`/`bias`, and the conv1d weights `[1, nx, nf]` lose their
/// leading axis (Hugging Face's `Conv1D` stores the `[nx, nf]` matrix, not transposed).
/// Adam's slots and beta powers are skipped if present. Files written through it carry
/// `format: pt`, which transformers requires.
///
/// ```
/// use scope::checkpoint::TensorInfo;
/// use scope::models::gpt2::presets::gpt2_tf_to_hf;
/// use scope::DType;
///
/// let report = gpt2_tf_to_hf().report(&[TensorInfo::new(
///     "model/h0/attn/c_attn/w", DType::F32, &[1, 8, 24])]);
/// let hf = report.entries[0].target.as_ref().unwrap();
/// assert_eq!((hf.name.as_str(), &hf.shape[..]), ("h.0.attn.c_attn.weight", &[8, 24][..]));
/// ```
pub fn gpt2_tf_to_hf() -> Mapping {
    let mut m = Mapping::new("gpt2-tf-to-hf").with_metadata("format", "pt");
    for (tf, hf) in RULES {
        m = m.rename(tf, hf).expect("preset rules are valid");
    }
    let m = m
        .squeeze(r"model/h\d+/(?:attn|mlp)/c_\w+/w")
        .expect("preset rules are valid");
    crate::models::skip_optimizer_state(m)
}

/// `gpt2-hf-to-tf`: the inverse of [`gpt2_tf_to_hf`], derived from it, plus skips of what
/// Hugging Face files may hold and TF's GPT-2 has no variable for (each block's causal-mask
/// buffers `h.{i}.attn.bias` and `h.{i}.attn.masked_bias`).
pub fn gpt2_hf_to_tf() -> Mapping {
    gpt2_tf_to_hf()
        .inverse()
        .and_then(|m| m.skip(r"h\.\d+\.attn\.(?:bias|masked_bias)"))
        .map(Mapping::optional)
        .expect("the TF-to-HF preset is invertible")
        .with_name("gpt2-hf-to-tf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::TensorInfo;
    use crate::models::gpt2::{Gpt2, Gpt2Config};
    use crate::{DType, Registry};

    fn tf_names(cfg: Gpt2Config, with_adam: bool) -> Vec<TensorInfo> {
        let reg = Registry::with_seed(1);
        let model = Gpt2::train(&reg, cfg).unwrap();
        if with_adam {
            crate::models::gpt2::gpt2_adam(&reg, &model, 1e-3).unwrap();
        }
        reg.global_variables()
            .iter()
            .map(|v| TensorInfo::new(v.name(), DType::F32, v.shape()))
            .collect()
    }

    #[test]
    fn every_variable_maps_to_hugging_face_and_back() {
        let cfg = Gpt2Config {
            n_vocab: 10,
            n_ctx: 6,
            n_embd: 8,
            n_head: 2,
            n_layer: 3,
        };
        let tf = tf_names(cfg, true);
        let hf = gpt2_tf_to_hf().apply(&tf).unwrap();
        let targets: Vec<TensorInfo> = hf.entries.iter().filter_map(|e| e.target.clone()).collect();
        let model_vars = tf
            .iter()
            .filter(|t| !t.name.contains("Adam") && !t.name.contains("_power"));
        assert_eq!(targets.len(), model_vars.count());
        let find = |n: &str| targets.iter().find(|t| t.name == n).unwrap().shape.clone();
        assert_eq!(find("wte.weight"), [10, 8]);
        assert_eq!(find("h.2.attn.c_attn.weight"), [8, 24]);
        assert_eq!(find("h.0.mlp.c_proj.weight"), [32, 8]);
        assert_eq!(find("h.1.ln_1.weight"), [8]);
        assert_eq!(find("ln_f.bias"), [8]);
        // Hugging Face's mask buffers are skipped on the way back.
        let mut with_buffers = targets.clone();
        with_buffers.push(TensorInfo::new("h.0.attn.bias", DType::F32, &[1, 1, 6, 6]));
        let back = gpt2_hf_to_tf().apply(&with_buffers).unwrap();
        let again: Vec<TensorInfo> = back
            .entries
            .iter()
            .filter_map(|e| e.target.clone())
            .collect();
        let model_only = tf_names(cfg, false);
        let mut want = model_only.clone();
        want.sort_by(|a, b| a.name.cmp(&b.name));
        let mut got = again;
        got.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(got, want);
        let set = crate::models::presets();
        assert!(set.mapping("gpt2-tf-to-hf", &[]).is_ok());
        let err = set.mapping("gpt2-tf-to-fh", &[]).unwrap_err().to_string();
        assert!(err.contains("gpt2-tf-to-hf"), "{err}");
    }
}
