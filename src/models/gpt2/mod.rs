//! GPT-2 (openai/gpt-2's `src/model.py` and `src/sample.py`), declared once with
//! [`model!`](macro@crate::model) under the names TF1 gives its variables.
//!
//! [`Gpt2Params`] is `model.model`'s variables: `model/wpe`, `model/wte`, the blocks
//! `model/h0 .. model/h{n_layer-1}` (each `ln_1`, `attn/c_attn`, `attn/c_proj`, `ln_2`,
//! `mlp/c_fc`, `mlp/c_proj`, the conv1d weights kept as TF stores them, `[1, nx, nf]`) and
//! `model/ln_f`. The output layer is `wte` itself (tied: both its uses send it gradient).
//!
//! [`Gpt2`] is one build of it, as the repository builds it three times over one set of
//! weights: the training model (`reuse=False`, [`Gpt2::train`]), the model through its
//! key/value cache (`reuse=True`, [`Gpt2::cached`]) and the sampler
//! (`reuse=tf.AUTO_REUSE`, [`Gpt2::sampler`], which also works as the very first build).
//! All three hold the same storage ([`Gpt2::shares_storage_with`]).
//!
//! - [`Gpt2::forward`] and [`Gpt2::lm_loss`] run on the [`Tape`](crate::tape::Tape), for
//!   fine-tuning with TF1 Adam ([`gpt2_adam`]);
//! - [`Gpt2::step`] runs without a tape through a preallocated [`KvCache`]: TF's `past`;
//! - [`Gpt2::sample`] is `sample.sample_sequence` ([`SampleOptions`]).
//!
//! ```
//! use scope::models::gpt2::{Gpt2, Gpt2Config, SampleOptions, Start};
//! use scope::Registry;
//!
//! let cfg = Gpt2Config { n_vocab: 16, n_ctx: 12, n_embd: 8, n_head: 2, n_layer: 2 };
//! let reg = Registry::with_seed(1);
//! let train = Gpt2::train(&reg, cfg)?;
//! let cached = Gpt2::cached(&reg, cfg)?;
//! let sampler = Gpt2::sampler(&reg, cfg)?;
//! assert!(train.shares_storage_with(&cached) && train.shares_storage_with(&sampler));
//! assert_eq!(train.variables()[2].0, "model/h0/ln_1/g");
//!
//! let context = Start::Context(ndarray::array![[3, 4]]);
//! let tokens = sampler.sample(&context, &SampleOptions::greedy(5))?;
//! assert_eq!(tokens.shape(), &[1, 7]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod config;
mod declaration;
mod forward;
pub mod presets;
mod sample;
mod train;

use crate::{Model, Registry, Reuse, TrainError, Variable};

pub use cache::KvCache;
pub use config::Gpt2Config;
pub use declaration::{Block, Conv1d, Gpt2Params, Norm};
pub use forward::{Gpt2Outputs, LmOutputs};
pub use sample::{SampleOptions, Start};
pub use train::gpt2_adam;

/// One build of GPT-2: the variables ([`Gpt2Params`]) with the config they were built for.
#[derive(Debug)]
pub struct Gpt2 {
    params: Gpt2Params,
    cfg: Gpt2Config,
}

impl Gpt2 {
    /// `model.model(hparams, X, scope='model', reuse=reuse)`'s variables: opens `model` in
    /// the current variable scope with `reuse` (`Reuse::No` inherits, as TF's `False` does)
    /// and gets every variable there.
    ///
    /// Fails with [`TrainError::Config`] if `cfg` is not valid, and with the registry's
    /// error (wrapped) if the variables cannot be created or reused: already there under
    /// `Reuse::No`, missing under `Reuse::Yes`, or of other shapes (another config).
    pub fn build(reg: &Registry, cfg: Gpt2Config, reuse: Reuse) -> Result<Gpt2, TrainError> {
        cfg.validate()?;
        let params = reg
            .variable_scope(Gpt2Params::SCOPE)
            .reuse(reuse)
            .with(|_| Gpt2Params::build_here(reg, (cfg,)))?;
        Ok(Gpt2 { params, cfg })
    }

    /// The training model: `model.model(hparams, X)` (`reuse=False`), which creates every
    /// variable.
    pub fn train(reg: &Registry, cfg: Gpt2Config) -> Result<Gpt2, TrainError> {
        Gpt2::build(reg, cfg, Reuse::No)
    }

    /// The model through its cache: `model.model(hparams, X, past=past, reuse=True)`, which
    /// reuses every variable and creates none.
    pub fn cached(reg: &Registry, cfg: Gpt2Config) -> Result<Gpt2, TrainError> {
        Gpt2::build(reg, cfg, Reuse::Yes)
    }

    /// The sampler's model: `sample.sample_sequence` rebuilds `model.model` under
    /// `reuse=tf.AUTO_REUSE`: reuses what exists, creates what does not (so it can be the
    /// first build, as in `interactive_conditional_samples.py`).
    pub fn sampler(reg: &Registry, cfg: Gpt2Config) -> Result<Gpt2, TrainError> {
        Gpt2::build(reg, cfg, Reuse::Auto)
    }

    /// The variables.
    pub fn params(&self) -> &Gpt2Params {
        &self.params
    }

    /// The config the variables were built for.
    pub fn config(&self) -> &Gpt2Config {
        &self.cfg
    }

    /// Every variable with its full name, in creation order (TF's order).
    pub fn variables(&self) -> Vec<(String, Variable)> {
        self.params.variables()
    }

    /// Whether `self` and `other` hold the same storage for every variable: true for the
    /// three builds over one registry.
    pub fn shares_storage_with(&self, other: &Gpt2) -> bool {
        self.params.shares_storage_with(&other.params)
    }

    /// Refuses `cfg` unless it is this model's config ("a config that is not the model's").
    pub fn check_config(&self, cfg: &Gpt2Config) -> Result<(), TrainError> {
        if *cfg == self.cfg {
            return Ok(());
        }
        Err(TrainError::Config {
            detail: format!(
                "the GPT-2 hparams {cfg:?} are not those of the model in {} ({:?}); use the \
                 hparams it was built with",
                self.params.scope_name(),
                self.cfg
            ),
        })
    }

    /// Checks token ids against the vocabulary, naming the first one out of range.
    fn check_tokens<'a>(
        &self,
        input: &str,
        tokens: impl IntoIterator<Item = &'a i64>,
    ) -> Result<Vec<usize>, TrainError> {
        crate::nn::check_ids(input, tokens.into_iter().copied(), self.cfg.n_vocab)
    }
}
