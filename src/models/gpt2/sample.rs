//! `sample.sample_sequence`: temperature, top-k, top-p, a seeded generator.

use ndarray::{Array2, ArrayView1};
use rand::rngs::Xoshiro256PlusPlus;
use rand::SeedableRng;
use rand_distr::{Distribution, Uniform};

use super::cache::Rows;
use super::forward::MASKED;
use super::Gpt2;
use crate::TrainError;

/// What sampling starts from: `sample_sequence`'s `context` or its `start_token`.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// Token ids `[batch, C]`, `C >= 1`: every row is continued.
    Context(Array2<i64>),
    /// `tf.fill([batch_size, 1], start_token)`: `batch` rows starting from one token
    /// (`<|endoftext|>` for unconditional samples).
    Token {
        /// The token.
        token: i64,
        /// How many rows.
        batch: usize,
    },
}

impl Start {
    /// The `[batch, C]` context it stands for.
    fn context(&self) -> Array2<i64> {
        match self {
            Start::Context(c) => c.clone(),
            Start::Token { token, batch } => Array2::from_elem((*batch, 1), *token),
        }
    }
}

/// `sample_sequence`'s parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleOptions {
    /// Tokens to sample after the context.
    pub length: usize,
    /// The logits are divided by it; must be finite and above 0.
    pub temperature: f32,
    /// Keep only the `top_k` largest logits of each row (ties with the `k`-th kept, as
    /// TF's `top_k_logits`); 0 keeps all.
    pub top_k: usize,
    /// Nucleus sampling (`top_p_logits`): keep the largest logits whose probabilities add
    /// up to at most `top_p` (at least one); 1 keeps all. In `(0, 1]`.
    pub top_p: f32,
    /// Seeds the generator: the same seed and inputs give the same samples.
    pub seed: u64,
}

impl SampleOptions {
    /// `sample_sequence`'s defaults (temperature 1, no top-k, top-p 1) for `length` tokens,
    /// seed 0.
    pub fn new(length: usize) -> SampleOptions {
        SampleOptions {
            length,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            seed: 0,
        }
    }

    /// `top_k=1`: greedy decoding, the same tokens whatever the seed.
    pub fn greedy(length: usize) -> SampleOptions {
        SampleOptions {
            top_k: 1,
            ..SampleOptions::new(length)
        }
    }

    /// Refuses parameters that would not sample: a temperature that is not finite and
    /// positive, a `top_p` outside `(0, 1]`.
    pub fn validate(&self) -> Result<(), TrainError> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(TrainError::Config {
                detail: format!(
                    "sampling temperature {} must be finite and above 0 (use top_k = 1 for \
                     greedy decoding)",
                    self.temperature
                ),
            });
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(TrainError::Config {
                detail: format!("top_p {} must be in (0, 1]", self.top_p),
            });
        }
        Ok(())
    }
}

/// `top_k_logits` on one row: logits below the `k`-th largest become `-1e10`.
fn top_k(row: &mut [f32], k: usize) {
    if k == 0 || k >= row.len() {
        return;
    }
    // The k-th largest, without sorting the whole vocabulary.
    let mut sorted = row.to_vec();
    let (_, &mut min, _) = sorted.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    for v in row.iter_mut().filter(|v| **v < min) {
        *v = MASKED as f32;
    }
}

/// `top_p_logits` on one row (the repository's version broadcasts the threshold only for
/// batch 1; this is what it means, per row): sort descending, count the cumulative
/// probabilities `<= p`, keep the logits at least the last counted one's (at least one).
fn top_p(row: &mut [f32], p: f32) {
    let mut sorted = row.to_vec();
    sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    let max = sorted[0];
    let exps: Vec<f32> = sorted.iter().map(|&v| (v - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    let mut cum = 0.0f32;
    let mut count = 0usize;
    for e in &exps {
        cum += e / sum;
        if cum <= p {
            count += 1;
        }
    }
    let min = sorted[count.saturating_sub(1)];
    for v in row.iter_mut().filter(|v| **v < min) {
        *v = MASKED as f32;
    }
}

/// `tf.multinomial(logits, 1)` on one row: a draw from `softmax(row)`.
fn draw(row: ArrayView1<'_, f32>, u: f64) -> usize {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    let target = u * sum;
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &e) in exps.iter().enumerate() {
        if e > 0.0 {
            last = i;
            acc += e;
            if acc > target {
                return i;
            }
        }
    }
    last
}

impl Gpt2 {
    /// `sample.sample_sequence(hparams, length, start_token | context, batch_size,
    /// temperature, top_k, top_p)`: runs the context through a fresh [`super::KvCache`],
    /// samples a token per row, then feeds each sample back through the cache, `length`
    /// tokens in all. Returns `[batch, C + length]`, the context included, as the
    /// repository does.
    ///
    /// With `top_k = 1` only each row's largest logit survives, so the tokens are TF's
    /// exactly (greedy), whatever the seed.
    ///
    /// Fails before computing anything with [`TrainError::OutOfRange`] for a token outside
    /// the vocabulary, [`TrainError::Config`] if the context plus `length` is past `n_ctx`
    /// or the options are invalid, [`TrainError::InputShape`] for an empty context.
    pub fn sample(&self, start: &Start, opts: &SampleOptions) -> Result<Array2<i64>, TrainError> {
        opts.validate()?;
        let context = start.context();
        let (batch, c) = context.dim();
        if batch == 0 || c == 0 {
            return Err(TrainError::InputShape {
                input: "context",
                expected: vec![batch.max(1), c.max(1)],
                got: vec![batch, c],
            });
        }
        self.check_tokens("context", context.iter())?;
        if c + opts.length > self.cfg.n_ctx {
            return Err(TrainError::Config {
                detail: format!(
                    "a context of {c} tokens plus {} to sample is past n_ctx ({}): shorten \
                     the context or sample at most {} tokens",
                    opts.length,
                    self.cfg.n_ctx,
                    self.cfg.n_ctx.saturating_sub(c)
                ),
            });
        }
        let mut out = Array2::<i64>::zeros((batch, c + opts.length));
        out.slice_mut(ndarray::s![.., ..c]).assign(&context);
        if opts.length == 0 {
            return Ok(out);
        }
        let mut cache = self.new_cache(batch)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(opts.seed);
        let uniform = Uniform::new(0.0f64, 1.0).map_err(|e| TrainError::Config {
            detail: e.to_string(),
        })?;
        let mut prev = context;
        for t in 0..opts.length {
            let mut logits = self.run(&mut cache, prev.view(), Rows::Last)?;
            let inv_t = 1.0 / opts.temperature;
            let mut next = Array2::<i64>::zeros((batch, 1));
            for (b, mut row) in logits.rows_mut().into_iter().enumerate() {
                let row_s = row.as_slice_mut().expect("a logits row is contiguous");
                if opts.temperature != 1.0 {
                    row_s.iter_mut().for_each(|v| *v *= inv_t);
                }
                top_k(row_s, opts.top_k);
                if opts.top_p < 1.0 {
                    top_p(row_s, opts.top_p);
                }
                let token = draw(row.view(), uniform.sample(&mut rng)) as i64;
                next[[b, 0]] = token;
                out[[b, c + t]] = token;
            }
            prev = next;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_k_largest_and_their_ties() {
        let mut row = [1.0, 5.0, 3.0, 5.0, 2.0];
        top_k(&mut row, 2);
        assert_eq!(row, [-1e10, 5.0, -1e10, 5.0, -1e10]);
        let mut row = [1.0, 4.0, 3.0];
        top_k(&mut row, 2);
        assert_eq!(row, [-1e10, 4.0, 3.0]);
    }

    #[test]
    fn top_p_keeps_the_nucleus_and_at_least_one() {
        // softmax([ln 6, ln 3, ln 1]) = [0.6, 0.3, 0.1].
        let logits = [6f32.ln(), 3f32.ln(), 0.0];
        let mut row = logits;
        top_p(&mut row, 0.95);
        assert_eq!(row[2], -1e10);
        assert_eq!(row[..2], logits[..2]);
        let mut row = logits;
        top_p(&mut row, 0.1);
        assert_eq!(row, [logits[0], -1e10, -1e10]);
    }

    #[test]
    fn a_draw_follows_the_probabilities() {
        let row = ndarray::arr1(&[0.0f32, -1e10, 0.0]);
        assert_eq!(draw(row.view(), 0.25), 0);
        assert_eq!(draw(row.view(), 0.75), 2);
        assert_eq!(draw(row.view(), 0.999_999), 2);
    }
}
