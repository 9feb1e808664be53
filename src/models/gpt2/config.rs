//! `Gpt2Config`: the `hparams.json` OpenAI's model folders ship.

use serde::Deserialize;

use crate::TrainError;

/// `model.default_hparams()`, read from a model folder's `hparams.json`
/// ([`Gpt2Config::from_json`]).
///
/// ```
/// use scope::models::gpt2::Gpt2Config;
/// let cfg = Gpt2Config::from_json(
///     r#"{"n_vocab": 50257, "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12}"#,
/// )?;
/// assert_eq!(cfg, Gpt2Config::small());
/// assert_eq!(cfg.head_width(), 64);
/// # Ok::<(), scope::TrainError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpt2Config {
    /// Rows of the token-embedding table `wte` (and columns of the logits).
    pub n_vocab: usize,
    /// Rows of the position-embedding table `wpe`: the longest context.
    pub n_ctx: usize,
    /// Width of every hidden state.
    pub n_embd: usize,
    /// Attention heads per block (they must divide `n_embd`).
    pub n_head: usize,
    /// Blocks `h0 .. h{n_layer-1}`.
    pub n_layer: usize,
}

impl Gpt2Config {
    /// GPT-2 small (124M): 50257 tokens, 1024 positions, width 768, 12 heads, 12 blocks.
    pub fn small() -> Gpt2Config {
        Gpt2Config {
            n_vocab: 50257,
            n_ctx: 1024,
            n_embd: 768,
            n_head: 12,
            n_layer: 12,
        }
    }

    /// Reads an `hparams.json`, then [`Gpt2Config::validate`].
    ///
    /// Fails with [`TrainError::Config`] naming what is wrong: not JSON, a field missing or
    /// unknown, or sizes GPT-2 cannot run with.
    pub fn from_json(json: &str) -> Result<Gpt2Config, TrainError> {
        let cfg: Gpt2Config = serde_json::from_str(json).map_err(|e| TrainError::Config {
            detail: format!("not a GPT-2 hparams.json: {e}"),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Refuses sizes GPT-2 cannot run with: any zero size, or heads that do not divide
    /// `n_embd` (`split_states` would fail in TF).
    pub fn validate(&self) -> Result<(), TrainError> {
        let sizes = [
            ("n_vocab", self.n_vocab),
            ("n_ctx", self.n_ctx),
            ("n_embd", self.n_embd),
            ("n_head", self.n_head),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(TrainError::Config {
                detail: format!("GPT-2 hparams: {name} is 0; it must be at least 1"),
            });
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(TrainError::Config {
                detail: format!(
                    "GPT-2 hparams: n_embd ({}) is not a multiple of n_head ({})",
                    self.n_embd, self.n_head
                ),
            });
        }
        Ok(())
    }

    /// The width of one head, `n_embd / n_head`.
    pub fn head_width(&self) -> usize {
        self.n_embd / self.n_head.max(1)
    }

    /// `model.past_shape`: the shape of `present` for `batch` sequences of `seq` tokens,
    /// `[batch, n_layer, 2, n_head, seq, n_embd / n_head]`.
    pub fn past_shape(&self, batch: usize, seq: usize) -> [usize; 6] {
        [batch, self.n_layer, 2, self.n_head, seq, self.head_width()]
    }
}
