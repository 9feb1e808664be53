//! The seed RNN's training pass on preallocated, time-major buffers (row `t * B + b`): the
//! input layer, the runtime's fused LSTM over all steps ([`LstmSequence`]), the output
//! layer with ReLU, the vector cost, and the backward pass through them, with the runtime's
//! allocation-free linear layers ([`linear_forward`], [`linear_backward`]).

use ndarray::{ArrayView2, ArrayView3};

use crate::nn::{linear_backward, linear_forward, LstmSequence, LstmState};
use crate::TrainError;

/// Sizes of one pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub(crate) b: usize,
    pub(crate) t: usize,
    pub(crate) i: usize,
    pub(crate) h: usize,
    pub(crate) o: usize,
}

impl Dims {
    fn n(&self) -> usize {
        self.b * self.t
    }
}

/// Read views of the six weights, held for one pass.
pub(crate) struct Weights<'a> {
    pub(crate) w_in: ArrayView2<'a, f32>,
    pub(crate) b_in: &'a [f32],
    pub(crate) k: ArrayView2<'a, f32>,
    pub(crate) b_k: &'a [f32],
    pub(crate) w_out: ArrayView2<'a, f32>,
    pub(crate) b_out: &'a [f32],
}

/// Gradient buffers, flat row-major, in the variables' order.
pub(crate) struct GradBufs<'a> {
    pub(crate) w_in: &'a mut [f32],
    pub(crate) b_in: &'a mut [f32],
    pub(crate) k: &'a mut [f32],
    pub(crate) b_k: &'a mut [f32],
    pub(crate) w_out: &'a mut [f32],
    pub(crate) b_out: &'a mut [f32],
}

/// Every buffer of a forward and backward pass, allocated once. Row `t * B + b` unless
/// noted.
#[derive(Debug)]
pub(crate) struct Workspace {
    d: Dims,
    x: Vec<f32>,    // [N, I]
    ys: Vec<f32>,   // [N, O]
    a: Vec<f32>,    // [N, H]   input layer output
    rows: Vec<f32>, // [B, max(4H, O)]  scratch of the linear layers
    lstm: LstmSequence,
    pre: Vec<f32>,  // [N, O]   before the ReLU
    pred: Vec<f32>, // [N, O]   batch-major: row b * T + t, as TF's pred
    cost: Vec<f32>, // [O]
    dp: Vec<f32>,   // [N, O]
    dhs: Vec<f32>,  // [N, H]
    da: Vec<f32>,   // [N, H]
}

/// A row-major `[rows, cols]` view of the front of a buffer sized for it.
fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for the view")
}

/// Copies `src` `[B, T, W]` into `dst` time-major (`[T, B, W]`).
fn copy_time_major(dst: &mut [f32], src: &ArrayView3<'_, f32>) {
    let (b, t, w) = src.dim();
    match src.as_slice() {
        Some(s) => {
            for bi in 0..b {
                for ti in 0..t {
                    let from = (bi * t + ti) * w;
                    let to = (ti * b + bi) * w;
                    dst[to..to + w].copy_from_slice(&s[from..from + w]);
                }
            }
        }
        None => {
            for ((bi, ti, k), &x) in src.indexed_iter() {
                dst[(ti * b + bi) * w + k] = x;
            }
        }
    }
}

impl Workspace {
    /// The number of `f32`s the buffers of `d` take, or `None` if it overflows `usize`.
    pub(crate) fn elements(d: Dims) -> Option<usize> {
        let (b, t, i, h, o) = (d.b, d.t, d.i, d.h, d.o);
        let n = b.checked_mul(t)?;
        let per_row = i
            .checked_add(o.checked_mul(5)?)?
            .checked_add(h.checked_mul(17)?)?;
        let states = t.checked_add(1)?.checked_mul(b)?.checked_mul(h)?;
        n.checked_mul(per_row)?
            .checked_add(states.checked_mul(2)?)?
            .checked_add(b.checked_mul(h)?.checked_mul(6)?)?
            .checked_add(h.checked_mul(h)?.checked_mul(8)?)?
            .checked_add(b.checked_mul(h.checked_mul(4)?.max(o))?)?
            .checked_add(o)
    }

    /// Allocates every buffer once; fails, instead of aborting, when the memory cannot be had.
    pub(crate) fn new(d: Dims) -> Result<Workspace, TrainError> {
        let (n, b, i, h, o) = (d.n(), d.b, d.i, d.h, d.o);
        let zeros = |len: usize| -> Result<Vec<f32>, TrainError> {
            let mut v = Vec::new();
            v.try_reserve_exact(len).map_err(|_| TrainError::Config {
                detail: format!(
                    "cannot allocate the training buffers for batch {b} x {} steps (a buffer of \
                     {len} floats); use smaller batches",
                    d.t
                ),
            })?;
            v.resize(len, 0.0);
            Ok(v)
        };
        Ok(Workspace {
            d,
            x: zeros(n * i)?,
            ys: zeros(n * o)?,
            a: zeros(n * h)?,
            rows: zeros(b * (4 * h).max(o))?,
            lstm: LstmSequence::new(b, d.t, h, h)?,
            pre: zeros(n * o)?,
            pred: zeros(n * o)?,
            cost: zeros(o)?,
            dp: zeros(n * o)?,
            dhs: zeros(n * h)?,
            da: zeros(n * h)?,
        })
    }

    /// `pred` of the last forward pass, batch-major `[B * T, O]`.
    pub(crate) fn pred(&self) -> &[f32] {
        &self.pred
    }

    /// The cost vector of the last [`Workspace::cost`].
    pub(crate) fn cost_values(&self) -> &[f32] {
        &self.cost
    }

    /// Loads a batch `[B, T, I]` (shape checked by the caller).
    pub(crate) fn load_inputs(&mut self, xs: &ArrayView3<'_, f32>) {
        copy_time_major(&mut self.x, xs);
    }

    /// Loads targets `[B, T, O]` (shape checked by the caller).
    pub(crate) fn load_targets(&mut self, ys: &ArrayView3<'_, f32>) {
        copy_time_major(&mut self.ys, ys);
    }

    /// Input layer, LSTM over all steps from `state`, output layer with ReLU. Leaves the
    /// final state in `state`.
    pub(crate) fn forward(&mut self, w: &Weights<'_>, forget_bias: f32, state: &mut LstmState) {
        let Dims { b, t, i, o, .. } = self.d;
        let n = self.d.n();
        // A = X · W_in + b_in.
        let x = view(&self.x, n, i);
        linear_forward(x, w.w_in, w.b_in, &mut self.a, &mut self.rows);
        let a = view(&self.a, n, self.d.h);
        self.lstm.forward(a, w.k, w.b_k, forget_bias, state);
        // pred = relu(Hs · W_out + b_out), then batch-major.
        let hs = self.lstm.outputs();
        linear_forward(hs, w.w_out, w.b_out, &mut self.pre, &mut self.rows);
        for ti in 0..t {
            for bi in 0..b {
                let from = (ti * b + bi) * o;
                let to = (bi * t + ti) * o;
                for (p, &x) in self.pred[to..to + o]
                    .iter_mut()
                    .zip(&self.pre[from..from + o])
                {
                    *p = if x < 0.0 { 0.0 } else { x }; // NaN passes, as a NaN must reach the loss
                }
            }
        }
    }

    /// `cost[k] = Σ_t (Σ_b (pred - ys)²) / B`; returns `Σ_k cost[k]`.
    pub(crate) fn cost(&mut self) -> f32 {
        let Dims { b, t, o, .. } = self.d;
        self.cost.fill(0.0);
        for ti in 0..t {
            for k in 0..o {
                let mut sum = 0.0f32;
                for bi in 0..b {
                    let e = (ti * b + bi) * o + k;
                    let p = if self.pre[e] < 0.0 { 0.0 } else { self.pre[e] };
                    let diff = p - self.ys[e];
                    sum += diff * diff;
                }
                self.cost[k] += sum / b as f32;
            }
        }
        self.cost.iter().sum()
    }

    /// Backpropagates `Σ_k cost[k]` (after [`Workspace::forward`] and
    /// [`Workspace::cost`]) into `g`.
    pub(crate) fn backward(&mut self, w: &Weights<'_>, g: GradBufs<'_>) {
        let Dims { b, i, h, .. } = self.d;
        let n = self.d.n();
        let scale = 2.0 / b as f32;
        for ((dp, &pre), &y) in self.dp.iter_mut().zip(&self.pre).zip(&self.ys) {
            *dp = if pre > 0.0 { scale * (pre - y) } else { 0.0 };
        }
        // Output layer, LSTM (last step first), input layer.
        let hs = self.lstm.outputs();
        let dhs = Some(&mut self.dhs[..]);
        linear_backward(hs, w.w_out, &self.dp, g.w_out, g.b_out, dhs, &mut self.rows);
        let a = view(&self.a, n, h);
        self.lstm
            .backward(a, w.k, &self.dhs, g.k, g.b_k, &mut self.da);
        let x = view(&self.x, n, i);
        linear_backward(x, w.w_in, &self.da, g.w_in, g.b_in, None, &mut self.rows);
    }
}
