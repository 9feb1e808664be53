//! The key/value cache (TF's `past`) and the model run through it, without a tape.
//!
//! TF's `model.model(X, past=past)` concatenates the new keys and values after the cached
//! ones, copying the whole past every step. [`KvCache`] is allocated once for `n_ctx`
//! positions; a step writes its keys and values at the cache's length and reads the past
//! where it lies.

use std::ops::Range;

use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, ArrayViewMut2, IxDyn, ShapeBuilder};

use super::declaration::{Conv1d, Norm};
use super::forward::NORM_EPSILON;
use super::{Gpt2, Gpt2Config};
use crate::nn::gemm;

/// Up to this many rows, `nn::gemm` computes `h · wteᵀ` as dot products with `wte`'s rows.
const FEW_ROWS: usize = 4;
use crate::tape::Real;
use crate::{Tensor, TrainError, Variable};

/// Keys and values of every block for `batch` sequences, room for `n_ctx` positions.
///
/// Made by [`Gpt2::new_cache`] (or [`KvCache::new`]); filled by [`Gpt2::step`]. Holds
/// `2 * n_layer * batch * n_embd * n_ctx` floats whatever its length.
#[derive(Clone, Debug)]
pub struct KvCache {
    cfg: Gpt2Config,
    batch: usize,
    len: usize,
    /// `[n_layer, batch, n_head, n_ctx, d]`.
    k: Vec<f32>,
    /// Likewise.
    v: Vec<f32>,
    /// A step's activations, kept so that steps allocate only the logits they return.
    work: Work,
}

/// The buffers a step computes in, `[rows, width]` row-major each; they keep their
/// capacity from step to step.
#[derive(Clone, Debug, Default)]
struct Work {
    /// The residual stream, `[rows, n_embd]`.
    x: Vec<f32>,
    /// A layer norm's output, `[rows, n_embd]`.
    h: Vec<f32>,
    /// Queries, keys and values, `[rows, 3 n_embd]`.
    qkv: Vec<f32>,
    /// The heads' outputs, `[rows, n_embd]`.
    a: Vec<f32>,
    /// A projection's output, `[rows, n_embd]`, or the MLP's hidden layer, `[rows, 4
    /// n_embd]`.
    m: Vec<f32>,
    /// One head's attention weights, `[seq, past + seq]`.
    scores: Vec<f32>,
}

impl KvCache {
    /// An empty cache for `batch` sequences of a model with hparams `cfg`.
    ///
    /// Fails with [`TrainError::Config`] for invalid hparams or a batch of 0.
    pub fn new(cfg: &Gpt2Config, batch: usize) -> Result<KvCache, TrainError> {
        cfg.validate()?;
        if batch == 0 {
            return Err(TrainError::Config {
                detail: "a GPT-2 cache needs a batch of at least 1".into(),
            });
        }
        let n = cfg
            .n_layer
            .checked_mul(batch)
            .and_then(|x| x.checked_mul(cfg.n_embd))
            .and_then(|x| x.checked_mul(cfg.n_ctx))
            .ok_or_else(|| TrainError::Config {
                detail: format!("a cache of batch {batch} for {cfg:?} is too large"),
            })?;
        Ok(KvCache {
            cfg: *cfg,
            batch,
            len: 0,
            k: vec![0.0; n],
            v: vec![0.0; n],
            work: Work::default(),
        })
    }

    /// The hparams the cache was made for.
    pub fn config(&self) -> &Gpt2Config {
        &self.cfg
    }

    /// The sequences it holds.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Positions cached so far (TF's `past_length`): the next token's position.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every position, keeping the storage.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Forgets the positions from `len` on (no-op if `len >= self.len()`): the cache as it
    /// was after its first `len` tokens, to branch from a shared context.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Offset of `(layer, b, head, pos)`'s row in `k` or `v`.
    fn row(&self, layer: usize, b: usize, head: usize, pos: usize) -> usize {
        let d = self.cfg.head_width();
        (((layer * self.batch + b) * self.cfg.n_head + head) * self.cfg.n_ctx + pos) * d
    }

    /// `present` for positions `range`, as TF returns it: `[batch, n_layer, 2, n_head,
    /// range.len(), n_embd / n_head]` (keys at index 0 of axis 2, values at 1).
    ///
    /// Fails with [`TrainError::Shape`] if `range` reaches past [`KvCache::len`].
    pub fn present(&self, range: Range<usize>) -> Result<ArrayD<f32>, TrainError> {
        if range.start > range.end || range.end > self.len {
            return Err(TrainError::Shape {
                op: "present",
                detail: format!(
                    "positions {range:?} are not within the {} cached ones",
                    self.len
                ),
            });
        }
        let seq = range.len();
        let d = self.cfg.head_width();
        let shape = self.cfg.past_shape(self.batch, seq);
        let mut out = Vec::with_capacity(shape.iter().product());
        for b in 0..self.batch {
            for layer in 0..self.cfg.n_layer {
                for kv in [&self.k, &self.v] {
                    for head in 0..self.cfg.n_head {
                        let start = self.row(layer, b, head, range.start);
                        out.extend_from_slice(&kv[start..start + seq * d]);
                    }
                }
            }
        }
        ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| TrainError::Shape {
            op: "present",
            detail: e.to_string(),
        })
    }
}

/// A float32 variable's elements.
fn floats<'a>(guard: &'a Tensor, var: &Variable) -> Result<&'a [f32], TrainError> {
    guard.as_f32().ok_or_else(|| TrainError::unsupported(var))
}

/// `out = norm(x)` row by row (`x` `[rows, width]`), as `model.py` computes it in float32.
fn norm(n: &Norm, x: &[f32], out: &mut Vec<f32>) -> Result<(), TrainError> {
    let (g, b) = (n.g.read(), n.b.read());
    let (g, b) = (floats(&g, &n.g)?, floats(&b, &n.b)?);
    let width = g.len();
    out.clear();
    out.extend_from_slice(x);
    for row in out.chunks_exact_mut(width) {
        let u = row.iter().sum::<f32>() / width as f32;
        let var = row.iter().map(|&v| (v - u) * (v - u)).sum::<f32>() / width as f32;
        let r = 1.0 / (var + NORM_EPSILON as f32).sqrt();
        for ((v, &g), &b) in row.iter_mut().zip(g).zip(b) {
            *v = (*v - u) * r * g + b;
        }
    }
    Ok(())
}

/// `out = conv1d(x)`: `x @ reshape(w, [nx, nf]) + b`, for `x` `[rows, nx]`.
fn conv1d(c: &Conv1d, x: &[f32], out: &mut Vec<f32>) -> Result<(), TrainError> {
    let (w, b) = (c.w.read(), c.b.read());
    let (nx, nf) = (c.w.shape()[1], c.w.shape()[2]);
    let shape = |e: ndarray::ShapeError| TrainError::Shape {
        op: "conv1d",
        detail: e.to_string(),
    };
    let w = ArrayView2::from_shape((nx, nf), floats(&w, &c.w)?).map_err(shape)?;
    let b = floats(&b, &c.b)?;
    let rows = x.len() / nx;
    out.clear();
    for _ in 0..rows {
        out.extend_from_slice(b);
    }
    let x = ArrayView2::from_shape((rows, nx), x).map_err(shape)?;
    let mut y = ArrayViewMut2::from_shape((rows, nf), &mut out[..]).map_err(shape)?;
    gemm(1.0, &x, &w, 1.0, &mut y);
    Ok(())
}

/// `gelu(x)`, the tanh form, in place (the tape's `tanh`, so the same values as its gelu).
fn gelu(x: &mut [f32]) {
    let c = (2.0 / std::f64::consts::PI).sqrt() as f32;
    for v in x {
        *v = 0.5 * *v * (1.0 + Real::tanh(c * (*v + 0.044715 * *v * *v * *v)));
    }
}

/// Softmax of `row[..visible]`, zero after it (the masked keys, whose `-1e10` TF's softmax
/// turns into exact zeros).
fn causal_softmax(row: &mut [f32], visible: usize) {
    let (seen, masked) = row.split_at_mut(visible);
    let max = seen.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in seen.iter_mut() {
        *v = Real::exp(*v - max);
        sum += *v;
    }
    for v in seen.iter_mut() {
        *v /= sum;
    }
    masked.fill(0.0);
}

/// Which rows of logits a step computes.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Rows {
    /// Every position's.
    All,
    /// Only each sequence's last position (what sampling uses).
    Last,
}

impl Gpt2 {
    /// An empty key/value cache for `batch` sequences of this model.
    pub fn new_cache(&self, batch: usize) -> Result<KvCache, TrainError> {
        KvCache::new(&self.cfg, batch)
    }

    /// `model.model(hparams, X=tokens, past=cache)` without a tape: runs `tokens`
    /// `[batch, seq]` at positions `cache.len() ..`, attending to every cached position and
    /// causally among themselves, appends their keys and values to `cache`, and returns the
    /// logits `[batch, seq, n_vocab]`. Their `present` is
    /// `cache.present(len_before..cache.len())`.
    ///
    /// Feeding a sequence in parts gives what feeding it whole gives (to float rounding).
    ///
    /// Fails, with the cache unchanged and before computing anything, if the cache was made
    /// for other hparams or another batch size, a token is outside the vocabulary, or the
    /// tokens do not fit in the `n_ctx - cache.len()` positions left.
    pub fn step(
        &self,
        cache: &mut KvCache,
        tokens: ArrayView2<'_, i64>,
    ) -> Result<Array3<f32>, TrainError> {
        let logits = self.run(cache, tokens, Rows::All)?;
        let (batch, seq) = tokens.dim();
        logits
            .into_shape_with_order((batch, seq, self.cfg.n_vocab))
            .map_err(|e| TrainError::Shape {
                op: "step",
                detail: e.to_string(),
            })
    }

    /// Checks that `cache` belongs to this model's hparams and holds `batch` sequences.
    pub(crate) fn check_cache(&self, cache: &KvCache, batch: usize) -> Result<(), TrainError> {
        if cache.cfg != self.cfg {
            return Err(TrainError::Config {
                detail: format!(
                    "the cache was made for GPT-2 hparams {:?}, not the model's {:?}; make it \
                     with the model's `new_cache`",
                    cache.cfg, self.cfg
                ),
            });
        }
        if cache.batch != batch {
            return Err(TrainError::InputShape {
                input: "tokens",
                expected: vec![cache.batch, tokens_left(cache)],
                got: vec![batch, 0],
            });
        }
        Ok(())
    }

    /// The step: the logits `[rows, n_vocab]` of the rows asked for.
    pub(crate) fn run(
        &self,
        cache: &mut KvCache,
        tokens: ArrayView2<'_, i64>,
        rows_wanted: Rows,
    ) -> Result<Array2<f32>, TrainError> {
        let (batch, seq) = tokens.dim();
        self.check_cache(cache, batch)?;
        let ids = self.check_input("tokens", tokens, cache.len)?;
        let cfg = self.cfg;
        let (e, d, heads) = (cfg.n_embd, cfg.head_width(), cfg.n_head);
        let past = cache.len;
        let p = &self.params;

        let rows = batch * seq;
        let mut work = std::mem::take(&mut cache.work);
        let Work {
            x,
            h,
            qkv,
            a,
            m,
            scores,
        } = &mut work;

        // Token and position embeddings.
        x.clear();
        {
            let (wte, wpe) = (p.wte.read(), p.wpe.read());
            let (wte, wpe) = (floats(&wte, &p.wte)?, floats(&wpe, &p.wpe)?);
            for (r, &id) in ids.iter().enumerate() {
                let pos = past + r % seq;
                let (te, pe) = (&wte[id * e..(id + 1) * e], &wpe[pos * e..(pos + 1) * e]);
                x.extend(te.iter().zip(pe).map(|(&a, &b)| a + b));
            }
        }

        let scale = 1.0 / (d as f32).sqrt();
        let total = past + seq;
        scores.clear();
        scores.resize(seq * total, 0.0);
        for (layer, block) in p.h.iter().enumerate() {
            norm(&block.ln_1, x, h)?;
            conv1d(&block.attn_c_attn, h, qkv)?;
            // present: the new keys and values, after the cached ones.
            for b in 0..batch {
                for t in 0..seq {
                    let src = &qkv[(b * seq + t) * 3 * e..];
                    for head in 0..heads {
                        let at = cache.row(layer, b, head, past + t);
                        cache.k[at..at + d].copy_from_slice(&src[e + head * d..e + head * d + d]);
                        cache.v[at..at + d]
                            .copy_from_slice(&src[2 * e + head * d..2 * e + head * d + d]);
                    }
                }
            }
            // multihead_attn over every cached position.
            a.clear();
            a.resize(rows * e, 0.0);
            let mut a2 = ArrayViewMut2::from_shape((rows, e), &mut a[..]).expect("a fits");
            for b in 0..batch {
                for head in 0..heads {
                    let q = ArrayView2::from_shape(
                        (seq, d).strides((3 * e, 1)),
                        &qkv[b * seq * 3 * e + head * d..],
                    )
                    .expect("a head lies inside qkv");
                    let start = cache.row(layer, b, head, 0);
                    let k = ArrayView2::from_shape((total, d), &cache.k[start..start + total * d])
                        .expect("the cache holds every position");
                    let v = ArrayView2::from_shape((total, d), &cache.v[start..start + total * d])
                        .expect("the cache holds every position");
                    let mut w = ArrayViewMut2::from_shape((seq, total), &mut scores[..])
                        .expect("scores fit");
                    gemm(scale, &q, &k.t(), 0.0, &mut w);
                    for (i, row) in scores.chunks_exact_mut(total).enumerate() {
                        causal_softmax(row, past + i + 1);
                    }
                    let w = ArrayView2::from_shape((seq, total), &scores[..]).expect("scores fit");
                    let mut out =
                        a2.slice_mut(s![b * seq..(b + 1) * seq, head * d..(head + 1) * d]);
                    gemm(1.0, &w, &v, 0.0, &mut out);
                }
            }
            conv1d(&block.attn_c_proj, a, m)?;
            x.iter_mut().zip(m.iter()).for_each(|(x, m)| *x += m);
            norm(&block.ln_2, x, h)?;
            conv1d(&block.mlp_c_fc, h, a)?;
            gelu(a);
            conv1d(&block.mlp_c_proj, a, m)?;
            x.iter_mut().zip(m.iter()).for_each(|(x, m)| *x += m);
        }
        cache.len = total;

        // The final norm of the rows asked for.
        match rows_wanted {
            Rows::All => norm(&p.ln_f, x, h)?,
            Rows::Last => {
                a.clear();
                for b in 0..batch {
                    let r = b * seq + seq - 1;
                    a.extend_from_slice(&x[r * e..(r + 1) * e]);
                }
                norm(&p.ln_f, a, h)?;
            }
        }
        let h = ArrayView2::from_shape((h.len() / e, e), &h[..]).expect("h is [rows, n_embd]");
        let wte = p.wte.read();
        let wte = ArrayView2::from_shape((cfg.n_vocab, e), floats(&wte, &p.wte)?)
            .expect("wte is [n_vocab, n_embd]");
        // `wte` is read row by row as it lies: for a few tokens (sampling) `h · wteᵀ` runs
        // as one dot product per token and row of `wte`, split across threads by rows of
        // `wte` (`nn::gemm`'s loops for a few rows); for many, `logitsᵀ = wte · hᵀ` (`h ·
        // wteᵀ` would hand the blocked product a transposed operand to copy).
        let mut logits = Array2::<f32>::zeros((h.nrows(), cfg.n_vocab));
        if h.nrows() <= FEW_ROWS {
            gemm(1.0, &h.view(), &wte.t(), 0.0, &mut logits.view_mut());
        } else {
            let mut out = logits.view_mut().reversed_axes();
            gemm(1.0, &wte, &h.t(), 0.0, &mut out);
        }
        cache.work = work;
        Ok(logits)
    }
}

/// Positions still free in `cache`.
fn tokens_left(cache: &KvCache) -> usize {
    cache.cfg.n_ctx - cache.len
}

#[cfg(test)]
mod tests {
    use ndarray::{s, Array2, Axis};

    use super::*;
    use crate::tape::Tape;
    use crate::Registry;

    /// Wide enough that a token's products and logits take `nn::gemm`'s few-row loops, and
    /// the largest are split across threads (`[1, 256] · [256, 1024]`, 1100 logits).
    fn wide_config() -> Gpt2Config {
        Gpt2Config {
            n_vocab: 1100,
            n_ctx: 12,
            n_embd: 256,
            n_head: 4,
            n_layer: 2,
        }
    }

    /// Token by token through the cache, at 1, 2 and 3 threads: the same bits at each, and
    /// the tape's forward to float rounding.
    #[test]
    fn token_steps_match_the_tape_at_every_thread_count() {
        let cfg = wide_config();
        let reg = Registry::with_seed(3);
        let model = Gpt2::sampler(&reg, cfg).unwrap();
        let (batch, seq) = (2, 6);
        let tokens = Array2::from_shape_fn((batch, seq), |(b, t)| {
            ((b * 331 + t * 97 + 5) % 1100) as i64
        });
        let before = crate::num_threads();
        let runs = [1, 2, 3].map(|threads| {
            crate::set_num_threads(threads);
            let mut cache = model.new_cache(batch).unwrap();
            let parts: Vec<_> = (0..seq)
                .map(|t| {
                    model
                        .step(&mut cache, tokens.slice(s![.., t..t + 1]))
                        .unwrap()
                })
                .collect();
            ndarray::concatenate(Axis(1), &parts.iter().map(|p| p.view()).collect::<Vec<_>>())
                .unwrap()
        });
        crate::set_num_threads(before);
        for run in &runs[1..] {
            let same = run
                .iter()
                .zip(&runs[0])
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "the cached logits depend on the thread count");
        }
        let mut tape = Tape::<f32>::new();
        let out = model.forward(&mut tape, tokens.view()).unwrap();
        let taped = tape.value(out.logits).unwrap();
        let worst = taped
            .iter()
            .zip(runs[0].iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "cached vs taped logits: {worst}");
    }
}
