//! The variables of `model.py`, declared once with [`model!`](macro@crate::model).

use super::Gpt2Config;
use crate::model;

model! {
    /// `model.model(hparams, X, scope='model')`'s variables: the two embedding tables,
    /// the blocks `h0 .. h{n_layer-1}`, the final norm. The output layer is `wte` itself.
    pub struct Gpt2Params("model", cfg: Gpt2Config) {
        wpe: [cfg.n_ctx, cfg.n_embd] = random_normal(0.0, 0.01),
        wte: [cfg.n_vocab, cfg.n_embd] = random_normal(0.0, 0.02),
        #[model(repeat = cfg.n_layer, scope = "h{i}")]
        h: model Block(cfg),
        #[model(scope = "ln_f")]
        ln_f: model Norm(cfg.n_embd),
    }

    /// `block(x, 'h{i}', past, hparams)`: `ln_1`, `attn`, `ln_2`, `mlp`.
    pub struct Block("h", cfg: Gpt2Config) {
        #[model(scope = "ln_1")]
        ln_1: model Norm(cfg.n_embd),
        attn {
            #[model(scope = "c_attn")]
            c_attn: model Conv1d(cfg.n_embd, 3 * cfg.n_embd),
            #[model(scope = "c_proj")]
            c_proj: model Conv1d(cfg.n_embd, cfg.n_embd),
        }
        #[model(scope = "ln_2")]
        ln_2: model Norm(cfg.n_embd),
        mlp {
            #[model(scope = "c_fc")]
            c_fc: model Conv1d(cfg.n_embd, 4 * cfg.n_embd),
            #[model(scope = "c_proj")]
            c_proj: model Conv1d(4 * cfg.n_embd, cfg.n_embd),
        }
    }

    /// `norm(x, scope)`: the gain `g` and the bias `b` of a layer norm over the last axis.
    pub struct Norm("ln", n_state: usize) {
        g: [n_state] = constant(1.0),
        b: [n_state] = zeros,
    }

    /// `conv1d(x, scope, nf)`: a dense layer whose weight keeps TF's conv1d shape
    /// `[1, nx, nf]`.
    pub struct Conv1d("conv1d", nx: usize, nf: usize) {
        w: [1, nx, nf] = random_normal(0.0, 0.02),
        b: [nf] = zeros,
    }
}
