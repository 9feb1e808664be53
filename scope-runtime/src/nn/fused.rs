//! Fused training paths on buffers allocated once: TF1's `BasicLSTMCell` run over a whole
//! sequence ([`LstmSequence`]), and the linear layers around it ([`linear_forward`],
//! [`linear_backward`]). They compute what the tape's ops compute for the same graph, with
//! a hand-written backward pass, and a steady loop of them makes no heap allocation as long
//! as every matrix product is small or narrow (the matrix product's direct loops: at most
//! 256K multiply-adds, or two smaller extents multiplying to at most 4096).
//!
//! Sequences are time-major: row `t * batch + b` holds step `t` of sequence `b`, so each
//! step's rows are contiguous and the gate activations run as long, vectorizable loops.

use ndarray::{s, ArrayView2, ArrayViewMut2};

use super::LstmState;
use crate::kernels::{mat_mul, wide};
use crate::tape::fastmath::{sigmoid, tanh};
use crate::train_error::TrainError;

/// A row-major `[rows, cols]` view of the front of a buffer sized for it.
fn view(buf: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized for the view")
}

fn view_mut(buf: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols])
        .expect("buffer sized for the view")
}

/// `len` zeros, or [`TrainError::Config`] naming the pass when the memory cannot be had.
fn zeros(len: usize, batch: usize, steps: usize) -> Result<Vec<f32>, TrainError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| TrainError::Config {
        detail: format!(
            "cannot allocate the training buffers for batch {batch} x {steps} steps (a buffer \
             of {len} floats); use smaller batches"
        ),
    })?;
    v.resize(len, 0.0);
    Ok(v)
}

/// Adds `bias` to every row of `buf` (`[rows, bias.len()]`). `scratch` (at least one row
/// long) is filled with copies of `bias`, so the adds run as long flat loops over blocks of
/// rows instead of short rows with scalar tails (a width of 11).
fn add_bias(buf: &mut [f32], bias: &[f32], scratch: &mut [f32]) {
    let w = bias.len();
    let whole = (scratch.len() / w).min(buf.len() / w) * w;
    let rows = &mut scratch[..whole];
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

/// A linear layer's forward pass on preallocated buffers: `out = x · w + b`, `out`
/// row-major `[x.nrows(), w.ncols()]` at the front of the slice.
///
/// `scratch` holds at least one row (`w.ncols()` floats); a longer one lets the bias be
/// added by longer flat loops. Nothing is allocated when the product is small or narrow
/// (see the module docs).
///
/// # Panics
///
/// If the shapes do not fit (`x.ncols() != w.nrows()`, `b.len() != w.ncols()`, `out` or
/// `scratch` too short): the caller sizes its buffers once.
pub fn linear_forward(
    x: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    b: &[f32],
    out: &mut [f32],
    scratch: &mut [f32],
) {
    let (n, width) = (x.nrows(), w.ncols());
    assert!(
        b.len() == width && scratch.len() >= width,
        "linear_forward: bias of {} for {width} columns, scratch of {}",
        b.len(),
        scratch.len()
    );
    mat_mul(1.0, &x, &w, 0.0, &mut view_mut(out, n, width));
    add_bias(&mut out[..n * width], b, scratch);
}

/// A linear layer's backward pass on preallocated buffers, for `y = x · w + b` and the
/// gradient `dy` of `y` (row-major `[x.nrows(), w.ncols()]`): `dw = xᵀ · dy` (row-major
/// `[w.nrows(), w.ncols()]`), `db` the column sums of `dy`, and, when asked, `dx = dy · wᵀ`
/// (row-major `[x.nrows(), w.nrows()]`).
///
/// `scratch` holds at least one row (`w.ncols()` floats); its length decides how the column
/// sums are blocked (rows are summed in blocks of `scratch.len() / w.ncols()`), so the same
/// length gives the same bits.
///
/// # Panics
///
/// If the shapes do not fit, as for [`linear_forward`].
pub fn linear_backward(
    x: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: Option<&mut [f32]>,
    scratch: &mut [f32],
) {
    let (n, (k, width)) = (x.nrows(), w.dim());
    assert!(
        db.len() == width && scratch.len() >= width && dy.len() >= n * width,
        "linear_backward: bias gradient of {} for {width} columns, scratch of {}",
        db.len(),
        scratch.len()
    );
    let dy = view(dy, n, width);
    mat_mul(1.0, &x.t(), &dy, 0.0, &mut view_mut(dw, k, width));
    column_sums(dy.as_slice().expect("row-major"), db, scratch);
    if let Some(dx) = dx {
        mat_mul(1.0, &dy, &w.t(), 0.0, &mut view_mut(dx, n, k));
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

/// TF1's `BasicLSTMCell` run over every step of a time-major batch of sequences, forward and
/// backward, on buffers allocated once by [`LstmSequence::new`].
///
/// The input projection of all steps is one matrix product (`x · K_x + b`); each step adds
/// `h · K_h` and applies the gates as flat loops. The states live in `[(T + 1) B, H]`
/// buffers whose first block is the initial state, so `h_{t-1}` of every step is one
/// contiguous slice (used again for the kernel's gradient). Its numbers are those of
/// [`BasicLstmCell::step`](super::BasicLstmCell::step) on a tape, up to rounding (the gates
/// use this crate's `f32` `exp` and `tanh`, and `tanh(j)` is computed as `2σ(2j) - 1`).
#[derive(Debug)]
pub struct LstmSequence {
    batch: usize,
    steps: usize,
    input: usize,
    units: usize,
    gates: Vec<f32>, // [N, 4H]  pre-activations, then σ(i), tanh(j), σ(f + fb), σ(o)
    /// The activated gates again, per step as four planes `[4][B * H]` (i, j, f, o), so
    /// that the state updates and their gradients run as flat loops over `B * H` rather
    /// than H-long rows (H = 11 leaves a scalar tail on every row).
    planes: Vec<f32>, // [T][4][B H]
    dz_planes: Vec<f32>, // [4][B H]  one step's gate gradients, before interleaving
    rows: Vec<f32>,  // [B, 4H]  scratch of add_bias and column_sums
    cs: Vec<f32>,    // [(T+1) B, H]  c_{-1} (initial), c_0, ..., c_{T-1}
    hs: Vec<f32>,    // [(T+1) B, H]  h_{-1} (initial), h_0, ..., h_{T-1}
    tc: Vec<f32>,    // [N, H]   tanh(c_t)
    dz: Vec<f32>,    // [N, 4H]
    dh_next: Vec<f32>, // [B, H]
    dc_next: Vec<f32>, // [B, H]
    k_t: Vec<f32>,   // [4H, I + H]  the kernel transposed, for the backward products
    /// Per gate column `[scale, offset, mul, add]` (one array each): see
    /// [`LstmSequence::forward`].
    pattern: [Vec<f32>; 4],
    pattern_bias: Option<f32>,
}

impl LstmSequence {
    /// Allocates the buffers of `steps` steps of `batch` sequences of `input` features
    /// through a cell of `units` units; fails with [`TrainError::Config`], instead of
    /// aborting, when the memory cannot be had. The caller bounds the sizes first.
    pub fn new(
        batch: usize,
        steps: usize,
        input: usize,
        units: usize,
    ) -> Result<LstmSequence, TrainError> {
        let (b, h) = (batch, units);
        let n = b * steps;
        let states = (steps + 1) * b * h;
        let zeros = |len| zeros(len, batch, steps);
        Ok(LstmSequence {
            batch,
            steps,
            input,
            units,
            gates: zeros(n * 4 * h)?,
            planes: zeros(n * 4 * h)?,
            dz_planes: zeros(b * 4 * h)?,
            rows: zeros(b * 4 * h)?,
            cs: zeros(states)?,
            hs: zeros(states)?,
            tc: zeros(n * h)?,
            dz: zeros(n * 4 * h)?,
            dh_next: zeros(b * h)?,
            dc_next: zeros(b * h)?,
            k_t: zeros(4 * h * (input + h))?,
            pattern: Default::default(),
            pattern_bias: None,
        })
    }

    /// The outputs `h_0, ..., h_{T-1}` of the last [`LstmSequence::forward`], time-major
    /// `[T * B, H]`.
    pub fn outputs(&self) -> ArrayView2<'_, f32> {
        let bh = self.batch * self.units;
        view(&self.hs[bh..], self.batch * self.steps, self.units)
    }

    /// Runs the cell over every step of `x` (time-major `[T * B, input]`) from `state`, with
    /// `kernel` `[input + units, 4 * units]` and `bias` `[4 * units]` (gates `i, j, f, o`,
    /// `forget_bias` added inside the forget gate's sigmoid). Leaves the final state in
    /// `state` and the outputs in [`LstmSequence::outputs`].
    ///
    /// # Panics
    ///
    /// If a shape differs from the sizes given to [`LstmSequence::new`].
    pub fn forward(
        &mut self,
        x: ArrayView2<'_, f32>,
        kernel: ArrayView2<'_, f32>,
        bias: &[f32],
        forget_bias: f32,
        state: &mut LstmState,
    ) {
        self.check(&x, &kernel, bias);
        wide(
            #[inline(always)]
            || self.forward_impl(x, kernel, bias, forget_bias, state),
        );
    }

    fn check(&self, x: &ArrayView2<'_, f32>, kernel: &ArrayView2<'_, f32>, bias: &[f32]) {
        let (n, i, h) = (self.batch * self.steps, self.input, self.units);
        assert!(
            x.dim() == (n, i) && kernel.dim() == (i + h, 4 * h) && bias.len() == 4 * h,
            "LstmSequence: x {:?}, kernel {:?}, bias [{}] for batch {} x {} steps, {i} inputs \
             and {h} units",
            x.dim(),
            kernel.dim(),
            bias.len(),
            self.batch,
            self.steps
        );
    }

    #[inline(always)]
    fn forward_impl(
        &mut self,
        x: ArrayView2<'_, f32>,
        kernel: ArrayView2<'_, f32>,
        bias: &[f32],
        forget_bias: f32,
        state: &mut LstmState,
    ) {
        let (b, t, i, h) = (self.batch, self.steps, self.input, self.units);
        let (n, h4, bh) = (b * t, 4 * h, b * h);
        // The x part of every step's gate pre-activations at once: x · K_x + b.
        let kx = kernel.slice(s![..i, ..]);
        let kh = kernel.slice(s![i.., ..]);
        mat_mul(1.0, &x, &kx, 0.0, &mut view_mut(&mut self.gates, n, h4));
        add_bias(&mut self.gates, bias, &mut self.rows);
        self.cs[..bh].copy_from_slice(state.c.as_slice().expect("states are standard layout"));
        self.hs[..bh].copy_from_slice(state.h.as_slice().expect("states are standard layout"));
        // Per column of a gate row: σ(x * scale + offset) * mul + add gives σ(i), tanh(j)
        // (as 2σ(2j) - 1: about 1e-7 absolute error, not fastmath::tanh's relative accuracy
        // near 0), σ(f + forget_bias) and σ(o) in one vectorizable pass.
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
    }

    /// Backpropagates `dh` (time-major `[T * B, H]`, the gradient of the outputs of the last
    /// [`LstmSequence::forward`], which ran on the same `x` and `kernel`) into the kernel's
    /// gradient `g_kernel` (row-major `[input + units, 4 * units]`), the bias's `g_bias`, and
    /// `x`'s `dx` (row-major `[T * B, input]`). The initial state is a constant: it gets no
    /// gradient.
    ///
    /// # Panics
    ///
    /// If a shape differs from the sizes given to [`LstmSequence::new`].
    pub fn backward(
        &mut self,
        x: ArrayView2<'_, f32>,
        kernel: ArrayView2<'_, f32>,
        dh: &[f32],
        g_kernel: &mut [f32],
        g_bias: &mut [f32],
        dx: &mut [f32],
    ) {
        self.check(&x, &kernel, g_bias);
        let (n, h) = (self.batch * self.steps, self.units);
        assert!(
            dh.len() >= n * h,
            "LstmSequence: dh of {} floats for [{n}, {h}]",
            dh.len()
        );
        wide(
            #[inline(always)]
            || self.backward_impl(x, kernel, dh, g_kernel, g_bias, dx),
        );
    }

    #[inline(always)]
    fn backward_impl(
        &mut self,
        x: ArrayView2<'_, f32>,
        kernel: ArrayView2<'_, f32>,
        dhs: &[f32],
        g_kernel: &mut [f32],
        g_bias: &mut [f32],
        dx: &mut [f32],
    ) {
        let (b, t, i, h) = (self.batch, self.steps, self.input, self.units);
        let (n, h4, bh, bh4) = (b * t, 4 * h, b * h, b * 4 * h);
        // Last step first. The kernel is transposed once, so that every product below reads
        // rows of it.
        self.dh_next.fill(0.0);
        self.dc_next.fill(0.0);
        let mut k_t = view_mut(&mut self.k_t, h4, i + h);
        k_t.assign(&kernel.t());
        let k_t = view(&self.k_t, h4, i + h);
        let (kx_t, kh_t) = (k_t.slice(s![.., ..i]), k_t.slice(s![.., i..]));
        for step in (0..t).rev() {
            let planes = &self.planes[step * bh4..(step + 1) * bh4];
            let (si, rest) = planes.split_at(bh);
            let (tj, rest) = rest.split_at(bh);
            let (sf, so) = rest.split_at(bh);
            let tc = &self.tc[step * bh..(step + 1) * bh];
            let dhs = &dhs[step * bh..(step + 1) * bh];
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
        let mut gk = view_mut(g_kernel, i + h, h4);
        mat_mul(1.0, &x.t(), &dz, 0.0, &mut gk.slice_mut(s![..i, ..]));
        mat_mul(
            1.0,
            &view(&self.hs, n, h).t(),
            &dz,
            0.0,
            &mut gk.slice_mut(s![i.., ..]),
        );
        column_sums(&self.dz, g_bias, &mut self.rows);
        mat_mul(1.0, &dz, &kx_t, 0.0, &mut view_mut(dx, n, i));
    }
}
