//! Element-wise ops and broadcasting: `add`, `sub`, `mul` (with NumPy broadcasting), `relu`,
//! `sigmoid`, `tanh`, `square`, `exp`, `log`, `rsqrt`, `scale`, BERT's tanh-form `gelu`
//! (plain, and fused with a bias), forward and backward.

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use super::buffers::{
    self, accumulate, bad, check_size, flat, flat_mut, rows_of, shape_error, Backprop, Pool,
};
use super::norm::rows_and_column_sums;
use super::scalar::Real;
use super::simd::wide;
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the element-wise ops.
#[derive(Clone, Debug)]
pub(crate) enum ElementwiseOp {
    Add(NodeId, NodeId),
    Sub(NodeId, NodeId),
    Mul(NodeId, NodeId),
    Relu(NodeId),
    Sigmoid(NodeId),
    Tanh(NodeId),
    Square(NodeId),
    Exp(NodeId),
    Log(NodeId),
    Rsqrt(NodeId),
    Scale { input: NodeId, factor: f64 },
    Gelu(NodeId),
    BiasGelu { x: NodeId, bias: NodeId },
}

impl ElementwiseOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            ElementwiseOp::Add(a, b) | ElementwiseOp::Sub(a, b) | ElementwiseOp::Mul(a, b) => {
                f(*a);
                f(*b);
            }
            ElementwiseOp::Relu(a)
            | ElementwiseOp::Sigmoid(a)
            | ElementwiseOp::Tanh(a)
            | ElementwiseOp::Square(a)
            | ElementwiseOp::Exp(a)
            | ElementwiseOp::Log(a)
            | ElementwiseOp::Rsqrt(a)
            | ElementwiseOp::Gelu(a) => f(*a),
            ElementwiseOp::Scale { input, .. } => f(*input),
            ElementwiseOp::BiasGelu { x, bias } => {
                f(*x);
                f(*bias);
            }
        }
    }
}

/// The broadcast shape of `a` and `b` (numpy rules: align on the right, extents equal or 1),
/// or `None` if they do not broadcast.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for (i, slot) in out.iter_mut().enumerate() {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        *slot = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Sums `grad` (of the broadcast shape) down to `shape`, undoing a broadcast.
pub(crate) fn reduce_to<T: Real>(grad: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    if grad.shape() == shape {
        return grad.clone();
    }
    let mut r = grad.clone();
    while r.ndim() > shape.len() {
        r = r.sum_axis(Axis(0));
    }
    for (ax, &d) in shape.iter().enumerate() {
        if d == 1 && r.shape()[ax] != 1 {
            r = r.sum_axis(Axis(ax)).insert_axis(Axis(ax));
        }
    }
    r
}

/// `f(a, b)` elementwise when both operands are contiguous and one of them is the other
/// repeated (equal shapes, or a bias `[.., d]` over rows): plain slice loops, vectorized.
/// `None` for any other broadcast, which [`Tape::binary`] leaves to `ndarray`.
fn contiguous_binary<T: Real>(
    pool: &Pool<T>,
    op: &'static str,
    va: &ArrayD<T>,
    vb: &ArrayD<T>,
    shape: &[usize],
    f: &(impl Fn(T, T) -> T + Sync),
) -> Result<Option<ArrayD<T>>, TrainError> {
    let (Some(a), Some(b)) = (va.as_slice(), vb.as_slice()) else {
        return Ok(None);
    };
    let n = shape.iter().product::<usize>();
    // The operand as long as the result, and whether the other one is a suffix of it.
    let suffix = |short: &ArrayD<T>| {
        let s = short.shape();
        let skip = s.iter().take_while(|&&d| d == 1).count();
        shape.ends_with(&s[skip..])
    };
    let (long_is_a, short) = if va.len() == n && suffix(vb) {
        (true, b)
    } else if vb.len() == n && suffix(va) {
        (false, a)
    } else {
        return Ok(None);
    };
    let long = if long_is_a { a } else { b };
    if short.is_empty() {
        return Ok(None);
    }
    let mut out = pool.scratch(op, shape)?;
    let dst = out
        .as_slice_mut()
        .expect("a fresh array is in standard layout");
    let period = short.len();
    // Pieces: whole repeats of the short operand, or runs of elements when both are as long.
    let piece = if period == n { ELEMENTS } else { period };
    crate::threads::for_each_block(dst, piece, n.saturating_mul(2), |first, block| {
        let off = first * piece;
        let long = &long[off..off + block.len()];
        wide(
            #[inline(always)]
            || {
                if period == n {
                    let short = &short[off..off + block.len()];
                    for ((o, &x), &y) in block.iter_mut().zip(long).zip(short) {
                        *o = if long_is_a { f(x, y) } else { f(y, x) };
                    }
                    return;
                }
                for (o, l) in block
                    .chunks_exact_mut(period)
                    .zip(long.chunks_exact(period))
                {
                    for ((o, &x), &y) in o.iter_mut().zip(l).zip(short) {
                        *o = if long_is_a { f(x, y) } else { f(y, x) };
                    }
                }
            },
        );
    });
    Ok(Some(out))
}

/// Elements per piece when an element-wise op is split across threads.
const ELEMENTS: usize = 4096;

/// `dst[k] = f(src[k])`, in blocks of elements across threads (`per_element`: about how
/// many operations an element costs), each compiled for the CPU's vector unit.
fn map_into<T: Real>(
    src: &[T],
    dst: &mut [T],
    per_element: usize,
    f: impl Fn(T) -> T + Send + Sync,
) {
    let work = dst.len().saturating_mul(per_element);
    crate::threads::for_each_block(dst, ELEMENTS, work, |first, block| {
        let src = &src[first * ELEMENTS..first * ELEMENTS + block.len()];
        wide(
            #[inline(always)]
            || {
                for (o, &x) in block.iter_mut().zip(src) {
                    *o = f(x);
                }
            },
        );
    });
}

/// `f(a, b)` element by element of two arrays of the same shape, into a buffer from `pool`
/// (a backward half's gradient), split as [`map_into`] splits.
fn zip_map<T: Real>(
    pool: &Pool<T>,
    a: &ArrayD<T>,
    b: &ArrayD<T>,
    per_element: usize,
    f: impl Fn(T, T) -> T + Send + Sync,
) -> ArrayD<T> {
    let mut out = buffers::scratch(pool, a.shape());
    let (a, b) = (flat(a), flat(b));
    let dst = flat_mut(&mut out);
    let work = dst.len().saturating_mul(per_element);
    crate::threads::for_each_block(dst, ELEMENTS, work, |first, block| {
        let span = first * ELEMENTS..first * ELEMENTS + block.len();
        let (a, b) = (&a[span.clone()], &b[span]);
        wide(
            #[inline(always)]
            || {
                for ((o, &x), &y) in block.iter_mut().zip(a).zip(b) {
                    *o = f(x, y);
                }
            },
        );
    });
    out
}

/// `out[j] += Σ_r rows[r][j]` over the rows of `width` elements of `rows`, each column
/// adding its rows in order (a bias's gradient): split across threads by blocks of columns,
/// so every sum is the one a single thread makes.
pub(super) fn add_column_sums<T: Real>(rows: &[T], width: usize, out: &mut [T]) {
    const COLUMNS: usize = 64;
    let width = width.max(1);
    crate::threads::for_each_block(out, COLUMNS, rows.len(), |first, block| {
        let c0 = first * COLUMNS;
        wide(
            #[inline(always)]
            || {
                for row in rows.chunks_exact(width) {
                    for (d, &v) in block.iter_mut().zip(&row[c0..]) {
                        *d = *d + v;
                    }
                }
            },
        );
    });
}

fn unreachable_broadcast(op: &'static str) -> TrainError {
    TrainError::Shape {
        op,
        detail: "operands do not broadcast".into(),
    }
}

/// `g` summed down to a broadcast operand's `shape` ([`reduce_to`]); when nothing is summed
/// (a residual connection's equal shapes), a copy in a buffer from `pool`.
fn reduced<T: Real>(pool: &Pool<T>, g: &ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    if g.shape() == shape {
        if let Ok(copy) = pool.copy("gradient", g, shape) {
            return copy;
        }
    }
    reduce_to(g, shape)
}

fn gelu_consts<T: Real>() -> (T, T, T) {
    // BERT: `0.5 * (1.0 + tf.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * tf.pow(x, 3))))`.
    (
        T::from_f64((2.0 / std::f64::consts::PI).sqrt()),
        T::from_f64(0.044715),
        T::from_f64(0.5),
    )
}

#[inline(always)]
fn gelu<T: Real>(x: T, (c, k, half): (T, T, T)) -> T {
    let cdf = half * (T::ONE + (c * (x + k * (x * x * x))).tanh());
    x * cdf
}

#[inline(always)]
fn gelu_grad<T: Real>(x: T, (c, k, half): (T, T, T)) -> T {
    let x2 = x * x;
    let t = (c * (x + k * x2 * x)).tanh();
    let three = T::from_f64(3.0);
    half * (T::ONE + t) + x * half * (T::ONE - t * t) * c * (T::ONE + three * k * x2)
}

impl<T: Real> Tape<T> {
    fn binary(
        &mut self,
        op: &'static str,
        a: NodeId,
        b: NodeId,
        f: impl Fn(T, T) -> T + Send + Sync,
        record: ElementwiseOp,
    ) -> Result<NodeId, TrainError> {
        let (va, vb) = (self.value(a)?, self.value(b)?);
        let shape = broadcast_shape(va.shape(), vb.shape()).ok_or_else(|| TrainError::Shape {
            op,
            detail: format!(
                "shapes {} and {} do not broadcast (each axis, aligned on the right, must be \
                 equal or 1)",
                format_shape(va.shape()),
                format_shape(vb.shape())
            ),
        })?;
        // The result can be far larger than either operand (`[n, 1] + [1, n]`): its size is
        // checked and its buffer reserved fallibly, so an impossible one is an error.
        check_size(op, &shape)?;
        if let Some(out) = contiguous_binary(&self.pool, op, va, vb, &shape, &f)? {
            return Ok(self.push(out, record));
        }
        let out = {
            let ba = va
                .broadcast(shape.as_slice())
                .ok_or_else(|| unreachable_broadcast(op))?;
            let bb = vb
                .broadcast(shape.as_slice())
                .ok_or_else(|| unreachable_broadcast(op))?;
            let mut out = self.pool.zeros(op, &shape)?;
            Zip::from(&mut out)
                .and(&ba)
                .and(&bb)
                .for_each(|o, &x, &y| *o = f(x, y));
            out
        };
        Ok(self.push(out, record))
    }

    /// `f` of every element of `a`, recorded as `record` (`per_element`: about how many
    /// operations an element costs, for the split across threads).
    fn unary(
        &mut self,
        a: NodeId,
        per_element: usize,
        f: impl Fn(T) -> T + Send + Sync,
        record: ElementwiseOp,
    ) -> Result<NodeId, TrainError> {
        let va = self.value(a)?;
        let mut out = self.pool.scratch("unary", va.shape())?;
        map_into(flat(va), flat_mut(&mut out), per_element, f);
        Ok(self.push(out, record))
    }

    /// `a + b` with numpy broadcasting (a bias `[n]` adds to every row of `[m, n]`).
    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("add", a, b, |x, y| x + y, ElementwiseOp::Add(a, b))
    }

    /// `a - b` with numpy broadcasting.
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("sub", a, b, |x, y| x - y, ElementwiseOp::Sub(a, b))
    }

    /// Elementwise `a ⊙ b` with numpy broadcasting.
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, TrainError> {
        self.binary("mul", a, b, |x, y| x * y, ElementwiseOp::Mul(a, b))
    }

    /// `max(a, 0)` (NaN stays NaN); its gradient passes where `a > 0` (TF's choice at 0).
    pub fn relu(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(
            a,
            1,
            #[inline(always)]
            |x| if x < T::ZERO { T::ZERO } else { x },
            ElementwiseOp::Relu(a),
        )
    }

    /// The logistic function `1 / (1 + e^-a)`.
    pub fn sigmoid(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, 20, Real::sigmoid, ElementwiseOp::Sigmoid(a))
    }

    /// `tanh(a)`.
    pub fn tanh(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(a, 20, Real::tanh, ElementwiseOp::Tanh(a))
    }

    /// `a²`, elementwise.
    pub fn square(&mut self, a: NodeId) -> Result<NodeId, TrainError> {
        self.unary(
            a,
            1,
            #[inline(always)]
            |x| x * x,
            ElementwiseOp::Square(a),
        )
    }

    /// `e^x`, elementwise.
    pub fn exp(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        self.unary(x, 20, Real::exp, ElementwiseOp::Exp(x))
    }

    /// The natural logarithm, elementwise (NaN below 0, `-inf` at 0, as in TF).
    pub fn log(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        self.unary(x, 20, Real::ln, ElementwiseOp::Log(x))
    }

    /// `1 / sqrt(x)`, elementwise (TF's `tf.math.rsqrt`).
    pub fn rsqrt(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        self.unary(
            x,
            10,
            #[inline(always)]
            |v| T::ONE / v.sqrt(),
            ElementwiseOp::Rsqrt(x),
        )
    }

    /// `x * factor` for a constant `factor` (rounded to `T`).
    pub fn scale(&mut self, input: NodeId, factor: f64) -> Result<NodeId, TrainError> {
        let f = T::from_f64(factor);
        self.unary(
            input,
            2,
            #[inline(always)]
            |v| v * f,
            ElementwiseOp::Scale { input, factor },
        )
    }

    /// BERT's gelu, the tanh form: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    pub fn gelu(&mut self, x: NodeId) -> Result<NodeId, TrainError> {
        let k = gelu_consts::<T>();
        self.unary(
            x,
            30,
            #[inline(always)]
            |v| gelu(v, k),
            ElementwiseOp::Gelu(x),
        )
    }

    /// `gelu(x + bias)` fused, for `x` `[.., d]` and `bias` `[d]` (a dense layer's bias and
    /// BERT's intermediate activation).
    pub fn bias_gelu(&mut self, x: NodeId, bias: NodeId) -> Result<NodeId, TrainError> {
        let (vx, vb) = (self.value(x)?, self.value(bias)?);
        let (_, d) = rows_of("bias_gelu", "x", vx)?;
        if vb.shape() != [d] {
            return Err(shape_error(
                "bias_gelu",
                format!(
                    "the bias must be [{d}] for x of shape {}, got {}",
                    format_shape(vx.shape()),
                    format_shape(vb.shape())
                ),
            ));
        }
        let k = gelu_consts::<T>();
        let mut out = self.pool.scratch("bias_gelu", vx.shape())?;
        let (b, src) = (flat(vb), flat(vx));
        let dst = flat_mut(&mut out);
        // Rows of `d`, one thread per block of whole rows; about 30 operations an element.
        let work = dst.len().saturating_mul(30);
        crate::threads::for_each_chunk(dst, d, work, |r, o| {
            let row = &src[r * d..(r + 1) * d];
            wide(
                #[inline(always)]
                || {
                    for ((o, &v), &bk) in o.iter_mut().zip(row).zip(b) {
                        *o = gelu(v + bk, k);
                    }
                },
            );
        });
        Ok(self.push(out, ElementwiseOp::BiasGelu { x, bias }))
    }
}

impl ElementwiseOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop {
            nodes,
            out,
            g,
            lower,
            pool,
        } = cx;
        let val = |id: NodeId| &nodes[id.0].value;
        let scratch = |shape: &[usize]| buffers::scratch(pool, shape);
        match self {
            ElementwiseOp::Add(a, b) => {
                accumulate(pool, &mut lower[a.0], reduced(pool, g, val(*a).shape()));
                accumulate(pool, &mut lower[b.0], reduced(pool, g, val(*b).shape()));
            }
            ElementwiseOp::Sub(a, b) => {
                accumulate(pool, &mut lower[a.0], reduced(pool, g, val(*a).shape()));
                let neg = reduce_to(g, val(*b).shape()).mapv(|x| -x);
                accumulate(pool, &mut lower[b.0], neg);
            }
            ElementwiseOp::Mul(a, b) => {
                let (va, vb) = (val(*a), val(*b));
                let shape = g.shape();
                let bb = vb.broadcast(shape).ok_or_else(|| bad("mul"))?;
                let ba = va.broadcast(shape).ok_or_else(|| bad("mul"))?;
                let ga = Zip::from(g).and(&bb).map_collect(|&x, &y| x * y);
                let gb = Zip::from(g).and(&ba).map_collect(|&x, &y| x * y);
                accumulate(pool, &mut lower[a.0], reduce_to(&ga, va.shape()));
                accumulate(pool, &mut lower[b.0], reduce_to(&gb, vb.shape()));
            }
            ElementwiseOp::Relu(a) => {
                let d = zip_map(
                    pool,
                    g,
                    val(*a),
                    1,
                    |g, x| if x > T::ZERO { g } else { T::ZERO },
                );
                accumulate(pool, &mut lower[a.0], d);
            }
            ElementwiseOp::Sigmoid(a) => {
                let d = zip_map(
                    pool,
                    g,
                    out,
                    3,
                    #[inline(always)]
                    |g, y| g * y * (T::ONE - y),
                );
                accumulate(pool, &mut lower[a.0], d);
            }
            ElementwiseOp::Tanh(a) => {
                let d = zip_map(
                    pool,
                    g,
                    out,
                    3,
                    #[inline(always)]
                    |g, y| g * (T::ONE - y * y),
                );
                accumulate(pool, &mut lower[a.0], d);
            }
            ElementwiseOp::Square(a) => {
                let two = T::ONE + T::ONE;
                let d = zip_map(
                    pool,
                    g,
                    val(*a),
                    2,
                    #[inline(always)]
                    |g, x| two * x * g,
                );
                accumulate(pool, &mut lower[a.0], d);
            }
            ElementwiseOp::Exp(x) => {
                let dx = zip_map(
                    pool,
                    g,
                    out,
                    1,
                    #[inline(always)]
                    |g, y| g * y,
                );
                accumulate(pool, &mut lower[x.0], dx);
            }
            ElementwiseOp::Log(x) => {
                let dx = zip_map(
                    pool,
                    g,
                    val(*x),
                    10,
                    #[inline(always)]
                    |g, v| g / v,
                );
                accumulate(pool, &mut lower[x.0], dx);
            }
            ElementwiseOp::Rsqrt(x) => {
                // d/dx x^-1/2 = -1/2 y^3.
                let half = T::from_f64(0.5);
                let dx = zip_map(
                    pool,
                    g,
                    out,
                    4,
                    #[inline(always)]
                    |g, y| -(half * g * y * y * y),
                );
                accumulate(pool, &mut lower[x.0], dx);
            }
            ElementwiseOp::Scale { input, factor } => {
                let f = T::from_f64(*factor);
                let mut dx = scratch(g.shape());
                map_into(
                    flat(g),
                    flat_mut(&mut dx),
                    2,
                    #[inline(always)]
                    |v| v * f,
                );
                accumulate(pool, &mut lower[input.0], dx);
            }
            ElementwiseOp::Gelu(x) => {
                let k = gelu_consts::<T>();
                let dx = zip_map(
                    pool,
                    g,
                    val(*x),
                    30,
                    #[inline(always)]
                    |g, v| g * gelu_grad(v, k),
                );
                accumulate(pool, &mut lower[x.0], dx);
            }
            ElementwiseOp::BiasGelu { x, bias } => {
                let vx = val(*x);
                let b = flat(val(*bias));
                let d = b.len();
                let k = gelu_consts::<T>();
                let mut dx = scratch(vx.shape());
                let (xs, gs) = (flat(vx), flat(g));
                // dx, and the bias's column sums of it.
                let work = xs.len().saturating_mul(30);
                let db =
                    rows_and_column_sums(pool, flat_mut(&mut dx), d, 1, work, |first, dxb, db| {
                        let span = first * d..first * d + dxb.len();
                        let rows = xs[span.clone()]
                            .chunks_exact(d)
                            .zip(gs[span].chunks_exact(d));
                        wide(
                            #[inline(always)]
                            || {
                                for ((row, gr), o) in rows.zip(dxb.chunks_exact_mut(d)) {
                                    for ((((o, &x), &bj), &gj), dbj) in
                                        o.iter_mut().zip(row).zip(b).zip(gr).zip(db.iter_mut())
                                    {
                                        let v = gj * gelu_grad(x + bj, k);
                                        *o = v;
                                        *dbj = *dbj + v;
                                    }
                                }
                            },
                        );
                    });
                accumulate(pool, &mut lower[x.0], dx);
                accumulate(
                    pool,
                    &mut lower[bias.0],
                    ArrayD::from_shape_vec(IxDyn(&[d]), db).expect("[d]"),
                );
            }
        }
        Ok(())
    }
}
