//! The seed RNN's numerics on preallocated, time-major buffers: input layer, a fused LSTM
//! over all steps, ReLU output layer, the vector cost, and the hand-written backward pass.
//!
//! Internal buffers are time-major (row `t * B + b`), so each step's rows are contiguous and
//! the gate activations run as long, vectorizable loops. The LSTM input projection for all
//! steps is one matrix product; each step adds `h · K_h`. The states live in `[(T + 1) B, H]`
//! buffers whose first block is the initial state, so `h_{t-1}` for every step is one
//! contiguous slice (used again for the kernel gradient).

use ndarray::{s, ArrayView2, ArrayView3, ArrayViewMut2};
use scope_runtime::linalg::mat_mul;

use crate::nn::LstmState;
use crate::tape::fastmath::{sigmoid, tanh};
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
    x: Vec<f32>,     // [N, I]
    ys: Vec<f32>,    // [N, O]
    a: Vec<f32>,     // [N, H]   input layer output
    gates: Vec<f32>, // [N, 4H]  pre-activations, then σ(i), tanh(j), σ(f + fb), σ(o)
    /// The activated gates again, per step as four planes `[4][B * H]` (i, j, f, o), so
    /// that the state updates and their gradients run as flat loops over `B * H` rather
    /// than H-long rows (H = 11 leaves a scalar tail on every row).
    planes: Vec<f32>, // [T][4][B H]
    dz_planes: Vec<f32>, // [4][B H]  one step's gate gradients, before interleaving
    rows: Vec<f32>,  // [B, max(4H, O)]  scratch of add_bias and column_sums
    cs: Vec<f32>,    // [(T+1) B, H]  c_{-1} (initial), c_0, ..., c_{T-1}
    hs: Vec<f32>,    // [(T+1) B, H]  h_{-1} (initial), h_0, ..., h_{T-1}
    tc: Vec<f32>,    // [N, H]   tanh(c_t)
    pre: Vec<f32>,   // [N, O]   before the ReLU
    pred: Vec<f32>,  // [N, O]   batch-major: row b * T + t, as TF's pred
    cost: Vec<f32>,  // [O]
    dp: Vec<f32>,    // [N, O]
    dhs: Vec<f32>,   // [N, H]
    dz: Vec<f32>,    // [N, 4H]
    da: Vec<f32>,    // [N, H]
    dh_next: Vec<f32>, // [B, H]
    dc_next: Vec<f32>, // [B, H]
    k_t: Vec<f32>,   // [4H, 2H]  the LSTM kernel transposed, for the backward products
    /// Per gate column `[scale, offset, mul, add]` (one array each): see
    /// [`Workspace::forward`].
    pattern: [Vec<f32>; 4],
    pattern_bias: Option<f32>,
}

/// A row-major `[rows, cols]` view of the front of a buffer sized for it.
fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for the view")
}

fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols])
        .expect("buffer sized for the view")
}

/// Adds `bias` to every row of `buf` (`[rows, bias.len()]`). `rows` (scratch, at least one
/// row long) is filled with copies of `bias`, so the adds run as long flat loops over blocks
/// of rows instead of short rows with scalar tails (H = 11).
fn add_bias(buf: &mut [f32], bias: &[f32], rows: &mut [f32]) {
    let w = bias.len();
    let whole = (rows.len() / w).min(buf.len() / w) * w;
    let rows = &mut rows[..whole];
    // Doubling copies: a few long `memcpy`s rather than one per row.
    rows[..w].copy_from_slice(bias);
    let mut filled = w;
    while filled < whole {
        let len = filled.min(whole - filled);
        rows.copy_within(..len, filled);
        filled += len;
    }
    let mut blocks = buf.chunks_exact_mut(rows.len());
    for block in &mut blocks {
        for (x, b) in block.iter_mut().zip(rows.iter()) {
            *x += b;
        }
    }
    for (x, b) in blocks.into_remainder().iter_mut().zip(rows.iter()) {
        *x += b;
    }
}

/// The sums of `buf`'s columns (`[rows, out.len()]`) into `out`: blocks of rows are summed
/// into `acc` (scratch, at least one row long) by flat loops, then `acc`'s rows into `out`.
fn column_sums(buf: &[f32], out: &mut [f32], acc: &mut [f32]) {
    let w = out.len();
    let whole = (acc.len() / w).min(buf.len() / w).max(1) * w;
    let acc = &mut acc[..whole];
    acc.fill(0.0);
    let mut blocks = buf.chunks_exact(acc.len());
    for block in &mut blocks {
        for (a, x) in acc.iter_mut().zip(block) {
            *a += x;
        }
    }
    for (a, x) in acc.iter_mut().zip(blocks.remainder()) {
        *a += x;
    }
    out.fill(0.0);
    for row in acc.chunks_exact(w) {
        for (o, x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

/// `dst.copy_from_slice(src)` for the short rows of a gate (H floats) without a call to
/// `memcpy` per row: 8-float moves, the last one overlapping the one before.
#[inline(always)]
fn copy_row(dst: &mut [f32], src: &[f32]) {
    let n = src.len();
    assert_eq!(dst.len(), n, "rows of equal length");
    if n < 8 {
        dst.copy_from_slice(src);
        return;
    }
    let mut eight = |at: usize| {
        let from: &[f32; 8] = src[at..at + 8].try_into().expect("8 floats");
        let to: &mut [f32; 8] = (&mut dst[at..at + 8]).try_into().expect("8 floats");
        *to = *from;
    };
    let mut at = 0;
    while at + 8 <= n {
        eight(at);
        at += 8;
    }
    if at < n {
        eight(n - 8);
    }
}

/// Splits rows `[i | j | f | o]` (each `h` wide) of `rows` into four planes, each the
/// gate's rows one after the other.
#[inline(always)]
fn deinterleave(rows: &[f32], planes: &mut [f32], h: usize) {
    let plane = rows.len() / 4;
    for (r, row) in rows.chunks_exact(4 * h).enumerate() {
        for (q, gate) in row.chunks_exact(h).enumerate() {
            let at = q * plane + r * h;
            copy_row(&mut planes[at..at + h], gate);
        }
    }
}

/// The inverse of [`deinterleave`].
#[inline(always)]
fn interleave(planes: &[f32], rows: &mut [f32], h: usize) {
    let plane = planes.len() / 4;
    for (r, row) in rows.chunks_exact_mut(4 * h).enumerate() {
        for (q, gate) in row.chunks_exact_mut(h).enumerate() {
            let at = q * plane + r * h;
            copy_row(gate, &planes[at..at + h]);
        }
    }
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
        let states = (d.t + 1) * b * h;
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
            gates: zeros(n * 4 * h)?,
            planes: zeros(n * 4 * h)?,
            dz_planes: zeros(b * 4 * h)?,
            rows: zeros(b * (4 * h).max(o))?,
            cs: zeros(states)?,
            hs: zeros(states)?,
            tc: zeros(n * h)?,
            pre: zeros(n * o)?,
            pred: zeros(n * o)?,
            cost: zeros(o)?,
            dp: zeros(n * o)?,
            dhs: zeros(n * h)?,
            dz: zeros(n * 4 * h)?,
            da: zeros(n * h)?,
            dh_next: zeros(b * h)?,
            dc_next: zeros(b * h)?,
            k_t: zeros(8 * h * h)?,
            pattern: Default::default(),
            pattern_bias: None,
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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { self.forward_avx512(w, forget_bias, state) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.forward_avx2(w, forget_bias, state) };
            return;
        }
        self.forward_impl(w, forget_bias, state);
    }

    /// [`Workspace::forward`] compiled for AVX-512 (16-wide loops; the same operations in
    /// the same order, so the same results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2")]
    unsafe fn forward_avx512(&mut self, w: &Weights<'_>, forget_bias: f32, state: &mut LstmState) {
        self.forward_impl(w, forget_bias, state);
    }

    /// [`Workspace::forward`] compiled for AVX2 (8-wide loops).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn forward_avx2(&mut self, w: &Weights<'_>, forget_bias: f32, state: &mut LstmState) {
        self.forward_impl(w, forget_bias, state);
    }

    #[inline(always)]
    fn forward_impl(&mut self, w: &Weights<'_>, forget_bias: f32, state: &mut LstmState) {
        let Dims { b, t, i, h, o } = self.d;
        let (n, h4, bh) = (self.d.n(), 4 * h, b * h);
        // A = X · W_in + b_in.
        mat_mul(
            1.0,
            &view(&self.x, n, i),
            &w.w_in,
            0.0,
            &mut view_mut(&mut self.a, n, h),
        );
        add_bias(&mut self.a, w.b_in, &mut self.rows);
        // The x part of every step's gate pre-activations at once: A · K_x + b_K.
        let kx = w.k.slice(s![..h, ..]);
        let kh = w.k.slice(s![h.., ..]);
        mat_mul(
            1.0,
            &view(&self.a, n, h),
            &kx,
            0.0,
            &mut view_mut(&mut self.gates, n, h4),
        );
        add_bias(&mut self.gates, w.b_k, &mut self.rows);
        self.cs[..bh].copy_from_slice(state.c.as_slice().expect("states are standard layout"));
        self.hs[..bh].copy_from_slice(state.h.as_slice().expect("states are standard layout"));
        // Per column of a gate row: σ(x * scale + offset) * mul + add gives σ(i), tanh(j)
        // (as 2σ(2j) - 1: about 1e-7 absolute error, not fastmath::tanh's relative accuracy near 0),
        // σ(f + forget_bias) and σ(o) in one vectorizable pass.
        if self.pattern_bias != Some(forget_bias) {
            let per_gate = |k: usize| match k / h {
                1 => [2.0, 0.0, 2.0, -1.0],
                2 => [1.0, forget_bias, 1.0, 0.0],
                _ => [1.0, 0.0, 1.0, 0.0],
            };
            // Repeated for every row of a step, so one flat loop covers the whole block
            // (no short per-row loops with scalar tails).
            for (q, p) in self.pattern.iter_mut().enumerate() {
                *p = (0..b * h4).map(|k| per_gate(k % h4)[q]).collect();
            }
            self.pattern_bias = Some(forget_bias);
        }
        let [sc, off, mul, add] = &self.pattern;
        let bh4 = b * h4;
        let (sc, off, mul, add) = (&sc[..bh4], &off[..bh4], &mul[..bh4], &add[..bh4]);
        for step in 0..t {
            let rows = step * b..(step + 1) * b;
            let z = &mut self.gates[rows.start * h4..rows.end * h4];
            mat_mul(
                1.0,
                &view(&self.hs[step * bh..], b, h),
                &kh,
                1.0,
                &mut view_mut(z, b, h4),
            );
            let z = &mut z[..bh4];
            for k in 0..bh4 {
                z[k] = sigmoid(z[k] * sc[k] + off[k]) * mul[k] + add[k];
            }
            let planes = &mut self.planes[step * bh4..(step + 1) * bh4];
            deinterleave(z, planes, h);
            let (si, rest) = planes.split_at(bh);
            let (tj, rest) = rest.split_at(bh);
            let (sf, so) = rest.split_at(bh);
            let (c_prev, c_next) = self.cs[step * bh..(step + 2) * bh].split_at_mut(bh);
            for k in 0..bh {
                c_next[k] = c_prev[k] * sf[k] + si[k] * tj[k];
            }
            let tc = &mut self.tc[step * bh..(step + 1) * bh];
            for (y, &c) in tc.iter_mut().zip(c_next.iter()) {
                *y = tanh(c);
            }
            let h_next = &mut self.hs[(step + 1) * bh..(step + 2) * bh];
            for k in 0..bh {
                h_next[k] = tc[k] * so[k];
            }
        }
        state
            .c
            .as_slice_mut()
            .expect("states are standard layout")
            .copy_from_slice(&self.cs[t * bh..]);
        state
            .h
            .as_slice_mut()
            .expect("states are standard layout")
            .copy_from_slice(&self.hs[t * bh..]);
        // pred = relu(Hs · W_out + b_out), then batch-major.
        mat_mul(
            1.0,
            &view(&self.hs[bh..], n, h),
            &w.w_out,
            0.0,
            &mut view_mut(&mut self.pre, n, o),
        );
        add_bias(&mut self.pre, w.b_out, &mut self.rows);
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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { self.backward_avx512(w, g) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.backward_avx2(w, g) };
            return;
        }
        self.backward_impl(w, g);
    }

    /// [`Workspace::backward`] compiled for AVX-512.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2")]
    unsafe fn backward_avx512(&mut self, w: &Weights<'_>, g: GradBufs<'_>) {
        self.backward_impl(w, g);
    }

    /// [`Workspace::backward`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn backward_avx2(&mut self, w: &Weights<'_>, g: GradBufs<'_>) {
        self.backward_impl(w, g);
    }

    #[inline(always)]
    fn backward_impl(&mut self, w: &Weights<'_>, g: GradBufs<'_>) {
        let Dims { b, t, i, h, o } = self.d;
        let (n, h4, bh, bh4) = (self.d.n(), 4 * h, b * h, b * 4 * h);
        let scale = 2.0 / b as f32;
        for ((dp, &pre), &y) in self.dp.iter_mut().zip(&self.pre).zip(&self.ys) {
            *dp = if pre > 0.0 { scale * (pre - y) } else { 0.0 };
        }
        // Output layer.
        let hs = view(&self.hs[bh..], n, h);
        let dp = view(&self.dp, n, o);
        mat_mul(1.0, &hs.t(), &dp, 0.0, &mut view_mut(g.w_out, h, o));
        column_sums(&self.dp, g.b_out, &mut self.rows);
        mat_mul(
            1.0,
            &dp,
            &w.w_out.t(),
            0.0,
            &mut view_mut(&mut self.dhs, n, h),
        );
        // LSTM, last step first. The kernel is transposed once, so that every product
        // below reads rows of it.
        self.dh_next.fill(0.0);
        self.dc_next.fill(0.0);
        let mut k_t = view_mut(&mut self.k_t, h4, 2 * h);
        k_t.assign(&w.k.t());
        let k_t = view(&self.k_t, h4, 2 * h);
        let (kx_t, kh_t) = (k_t.slice(s![.., ..h]), k_t.slice(s![.., h..]));
        for step in (0..t).rev() {
            let planes = &self.planes[step * bh4..(step + 1) * bh4];
            let (si, rest) = planes.split_at(bh);
            let (tj, rest) = rest.split_at(bh);
            let (sf, so) = rest.split_at(bh);
            let tc = &self.tc[step * bh..(step + 1) * bh];
            let dhs = &self.dhs[step * bh..(step + 1) * bh];
            let cp = &self.cs[step * bh..(step + 1) * bh];
            let (dh_next, dc_next) = (&self.dh_next[..bh], &mut self.dc_next[..bh]);
            let (dzi, rest) = self.dz_planes[..bh4].split_at_mut(bh);
            let (dzj, rest) = rest.split_at_mut(bh);
            let (dzf, dzo) = rest.split_at_mut(bh);
            for k in 0..bh {
                let dh = dhs[k] + dh_next[k];
                let dc = dc_next[k] + dh * so[k] * (1.0 - tc[k] * tc[k]);
                dzi[k] = dc * tj[k] * si[k] * (1.0 - si[k]);
                dzj[k] = dc * si[k] * (1.0 - tj[k] * tj[k]);
                dzf[k] = dc * cp[k] * sf[k] * (1.0 - sf[k]);
                dzo[k] = dh * tc[k] * so[k] * (1.0 - so[k]);
                dc_next[k] = dc * sf[k];
            }
            let dz = &mut self.dz[step * bh4..(step + 1) * bh4];
            interleave(&self.dz_planes[..bh4], dz, h);
            if step > 0 {
                mat_mul(
                    1.0,
                    &view(dz, b, h4),
                    &kh_t,
                    0.0,
                    &mut view_mut(&mut self.dh_next, b, h),
                );
            }
        }
        let dz = view(&self.dz, n, h4);
        let mut gk = view_mut(g.k, 2 * h, h4);
        mat_mul(
            1.0,
            &view(&self.a, n, h).t(),
            &dz,
            0.0,
            &mut gk.slice_mut(s![..h, ..]),
        );
        mat_mul(
            1.0,
            &view(&self.hs, n, h).t(),
            &dz,
            0.0,
            &mut gk.slice_mut(s![h.., ..]),
        );
        column_sums(&self.dz, g.b_k, &mut self.rows);
        // Input layer.
        mat_mul(1.0, &dz, &kx_t, 0.0, &mut view_mut(&mut self.da, n, h));
        mat_mul(
            1.0,
            &view(&self.x, n, i).t(),
            &view(&self.da, n, h),
            0.0,
            &mut view_mut(g.w_in, i, h),
        );
        column_sums(&self.da, g.b_in, &mut self.rows);
    }
}
