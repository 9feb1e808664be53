//! The backward half of every op: given a node's gradient, adds its inputs' gradients.

use ndarray::{ArrayD, Axis, Ix2, IxDyn, Slice, Zip};

use super::broadcast::reduce_to;
use super::gradients::{Gradients, Rows};
use super::nn_ops::NnOp;
use super::pool::Pool;
use super::scalar::Real;
use super::{Node, NodeId, Op, Tape};
use crate::kernels::mat_mul;
use crate::train_error::TrainError;

impl<T: Real> Tape<T> {
    /// The gradients of the sum of `loss`'s elements with respect to the variables on the
    /// tape: the numbers of [`Tape::backward`]`(loss)?.`[`into_gradients`](super::TapeGrads::into_gradients)`()`,
    /// computed as an optimizer needs them ([`crate::optim::Optimizer::minimize`] calls
    /// this). A node's gradient is recycled as soon as it has been sent to its inputs (the
    /// tape keeps the large buffers for the next call, so a training loop stops allocating
    /// them after its first step), a reshape passes its gradient on without a copy, and a variable read only through
    /// gathers (an embedding table) gets the rows gathered, summed per id, rather than a
    /// dense table mostly of zeros (TF's `IndexedSlices`; [`Gradients::get`] still gives
    /// the dense array).
    pub fn gradients(&self, loss: NodeId) -> Result<Gradients<T>, TrainError> {
        let root = self.value(loss)?;
        let n = loss.0 + 1;
        let mut grads: Vec<Option<ArrayD<T>>> = Vec::with_capacity(n);
        grads.resize_with(n, || None);
        grads[loss.0] = Some(ArrayD::from_elem(root.raw_dim(), T::ONE));
        let mut keep = vec![false; n];
        for (_, id) in &self.vars {
            if let Some(k) = keep.get_mut(id.0) {
                *k = true;
            }
        }
        let mut tables = GatherTables::new(&self.nodes, n, &self.vars);
        for i in (0..n).rev() {
            let (lower, upper) = grads.split_at_mut(i);
            if keep[i] {
                continue;
            }
            let Some(g) = upper[0].take() else { continue };
            match &self.nodes[i].op {
                Op::Nn(NnOp::Gather { table, ids, .. }) if tables.has(*table) => {
                    tables.add(*table, ids, &g);
                }
                Op::Reshape(input) if g.is_standard_layout() => {
                    let shape = self.nodes[input.0].value.raw_dim();
                    let d = g.into_shape_with_order(shape).map_err(|_| bad("reshape"))?;
                    accumulate(&self.grad_pool, &mut lower[input.0], d);
                    continue;
                }
                _ => propagate(&self.nodes, i, &g, lower, &self.grad_pool)?,
            }
            // Sent on: its buffer serves a later node, or the next call.
            self.grad_pool.put(g);
        }
        let mut out = Gradients::new();
        for (var, id) in &self.vars {
            if let Some((rows, sq)) = tables.take(*id) {
                out.add_rows(var, rows);
                out.set_slices_sq(var, sq);
            } else if let Some(g) = grads.get_mut(id.0).and_then(Option::take) {
                out.add(var, g)?;
            }
        }
        Ok(out)
    }
}

/// The gradients of the variable leaves that only gathers read, summed row by row as the
/// gathers' gradients arrive.
struct GatherTables<T: Real> {
    /// By leaf node.
    tables: std::collections::HashMap<usize, TableRows<T>>,
}

struct TableRows<T> {
    shape: Vec<usize>,
    /// The ids of every gather of the table, ascending, each once.
    ids: Vec<usize>,
    values: Vec<T>,
    /// Whether a gather of the table got a gradient.
    touched: bool,
    /// Each gather's sum of squared (unsummed) rows, in the order they arrived.
    sq: Vec<f64>,
}

impl<T: Real> GatherTables<T> {
    /// Finds, among the variable leaves `vars`, those read by gathers and by no other op
    /// anywhere on the tape (TF's `IndexedSlices` gradients, as
    /// [`super::nn_ops::gather_slices_sq`] counts them), with the ids the gathers among the
    /// first `n` nodes read.
    fn new(nodes: &[Node<T>], n: usize, vars: &[(crate::variable::Variable, NodeId)]) -> Self {
        let mut gathered: std::collections::HashMap<usize, Option<TableRows<T>>> =
            vars.iter().map(|(_, id)| (id.0, None)).collect();
        for (j, node) in nodes.iter().enumerate() {
            if let Op::Nn(NnOp::Gather {
                table,
                table_shape,
                ids,
            }) = &node.op
            {
                if let Some(Some(t)) = gathered.get_mut(&table.0) {
                    if j < n {
                        t.ids.extend_from_slice(ids);
                    }
                } else if let Some(slot @ None) = gathered.get_mut(&table.0) {
                    // First gather of this leaf (a leaf read densely was removed below).
                    *slot = Some(TableRows {
                        shape: table_shape.clone(),
                        ids: if j < n { ids.clone() } else { Vec::new() },
                        values: Vec::new(),
                        touched: false,
                        sq: Vec::new(),
                    });
                }
                continue;
            }
            node.op.for_each_input(&mut |id| {
                gathered.remove(&id.0);
            });
        }
        let tables = gathered
            .into_iter()
            .filter_map(|(leaf, t)| {
                let mut t = t?;
                t.ids.sort_unstable();
                t.ids.dedup();
                let width: usize = t.shape[1..].iter().product();
                t.values = vec![T::ZERO; t.ids.len() * width];
                Some((leaf, t))
            })
            .collect();
        GatherTables { tables }
    }

    fn has(&self, leaf: NodeId) -> bool {
        self.tables.contains_key(&leaf.0)
    }

    /// Adds a gather's gradient `g` (row `k` for id `ids[k]`) to its table's rows.
    fn add(&mut self, leaf: NodeId, ids: &[usize], g: &ArrayD<T>) {
        let t = self.tables.get_mut(&leaf.0).expect("checked by `has`");
        let width: usize = t.shape[1..].iter().product();
        t.touched = true;
        t.sq.push(super::gradients::sum_of_squares(g));
        let flat = g
            .as_slice()
            .map(std::borrow::Cow::Borrowed)
            .unwrap_or_else(|| std::borrow::Cow::Owned(g.iter().copied().collect::<Vec<T>>()));
        for (&id, row) in ids.iter().zip(flat.chunks_exact(width.max(1))) {
            let k = t
                .ids
                .binary_search(&id)
                .expect("every gathered id is listed");
            for (d, &v) in t.values[k * width..(k + 1) * width].iter_mut().zip(row) {
                *d = *d + v;
            }
        }
    }

    /// The rows of `leaf`'s gradient and TF's sum of squares for it, if only gathers read
    /// it and one of them got a gradient.
    fn take(&mut self, leaf: NodeId) -> Option<(Rows<T>, f64)> {
        let t = self.tables.remove(&leaf.0).filter(|t| t.touched)?;
        // Summed in tape order, as `gather_slices_sq` does.
        let sq = t.sq.iter().rev().sum();
        Some((Rows::new(t.shape, t.ids, t.values), sq))
    }
}

/// Adds `delta` to a node's gradient slot (or fills it); a buffer added in goes back to
/// `pool` for a later node.
pub(crate) fn accumulate<T: Real>(pool: &Pool<T>, slot: &mut Option<ArrayD<T>>, delta: ArrayD<T>) {
    match slot {
        Some(g) => {
            Zip::from(g).and(&delta).for_each(|a, &b| *a = *a + b);
            pool.put(delta);
        }
        None => *slot = Some(delta),
    }
}

fn matrix_mut<T: Real>(a: &mut ArrayD<T>) -> ndarray::ArrayViewMut2<'_, T> {
    a.view_mut()
        .into_dimensionality::<Ix2>()
        .expect("made with a matrix's shape")
}

fn matrix<T: Real>(a: &ArrayD<T>) -> Result<ndarray::ArrayView2<'_, T>, TrainError> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| TrainError::Shape {
            op: "matmul",
            detail: "operand is not a matrix".into(),
        })
}

/// A zero-filled array of `shape`, from `pool` if it keeps a buffer that fits.
pub(crate) fn zeros<T: Real>(pool: &Pool<T>, shape: &[usize]) -> ArrayD<T> {
    // The shape is that of an existing array, so its size cannot overflow; a failure to
    // allocate aborts, as `ArrayD::zeros` does.
    pool.zeros("gradient", shape)
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
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

/// An array of `shape` for an op that writes every element, from `pool` if it keeps a
/// buffer that fits (its old contents are not cleared).
pub(crate) fn scratch<T: Real>(pool: &Pool<T>, shape: &[usize]) -> ArrayD<T> {
    pool.scratch("gradient", shape)
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

/// Sends gradient `g` of node `i` to its inputs, whose gradient slots are `lower`
/// (`lower[k]` is node `k`; inputs always precede the node), taking the large buffers it
/// makes from `pool`.
pub(crate) fn propagate<T: Real>(
    nodes: &[Node<T>],
    i: usize,
    g: &ArrayD<T>,
    lower: &mut [Option<ArrayD<T>>],
    pool: &Pool<T>,
) -> Result<(), TrainError> {
    let val = |id: NodeId| &nodes[id.0].value;
    let out = &nodes[i].value;
    match &nodes[i].op {
        Op::Leaf => {}
        Op::Nn(op) => super::simd::wide(
            #[inline(always)]
            || super::nn_ops::propagate(nodes, op, out, g, lower, pool),
        ),
        Op::Attention(op) => {
            super::simd::wide(
                #[inline(always)]
                || super::attention::propagate(nodes, op, out, g, lower, pool),
            );
        }
        Op::MatMul(a, b) => {
            let (ma, mb, mg) = (matrix(val(*a))?, matrix(val(*b))?, matrix(g)?);
            let mut ga = zeros(pool, ma.shape());
            mat_mul(T::ONE, &mg, &mb.t(), T::ZERO, &mut matrix_mut(&mut ga));
            let mut gb = zeros(pool, mb.shape());
            mat_mul(T::ONE, &ma.t(), &mg, T::ZERO, &mut matrix_mut(&mut gb));
            accumulate(pool, &mut lower[a.0], ga);
            accumulate(pool, &mut lower[b.0], gb);
        }
        Op::Add(a, b) => {
            accumulate(pool, &mut lower[a.0], reduced(pool, g, val(*a).shape()));
            accumulate(pool, &mut lower[b.0], reduced(pool, g, val(*b).shape()));
        }
        Op::Sub(a, b) => {
            accumulate(pool, &mut lower[a.0], reduced(pool, g, val(*a).shape()));
            let neg = reduce_to(g, val(*b).shape()).mapv(|x| -x);
            accumulate(pool, &mut lower[b.0], neg);
        }
        Op::Mul(a, b) => {
            let (va, vb) = (val(*a), val(*b));
            let shape = g.shape();
            let bb = vb.broadcast(shape).ok_or_else(|| bad("mul"))?;
            let ba = va.broadcast(shape).ok_or_else(|| bad("mul"))?;
            let ga = Zip::from(g).and(&bb).map_collect(|&x, &y| x * y);
            let gb = Zip::from(g).and(&ba).map_collect(|&x, &y| x * y);
            accumulate(pool, &mut lower[a.0], reduce_to(&ga, va.shape()));
            accumulate(pool, &mut lower[b.0], reduce_to(&gb, vb.shape()));
        }
        Op::Relu(a) => {
            let d = Zip::from(g)
                .and(val(*a))
                .map_collect(|&g, &x| if x > T::ZERO { g } else { T::ZERO });
            accumulate(pool, &mut lower[a.0], d);
        }
        Op::Sigmoid(a) => {
            let d = Zip::from(g)
                .and(out)
                .map_collect(|&g, &y| g * y * (T::ONE - y));
            accumulate(pool, &mut lower[a.0], d);
        }
        Op::Tanh(a) => {
            let d = Zip::from(g)
                .and(out)
                .map_collect(|&g, &y| g * (T::ONE - y * y));
            accumulate(pool, &mut lower[a.0], d);
        }
        Op::Square(a) => {
            let two = T::ONE + T::ONE;
            let d = Zip::from(g).and(val(*a)).map_collect(|&g, &x| two * x * g);
            accumulate(pool, &mut lower[a.0], d);
        }
        Op::Concat { inputs, axis } => {
            let mut start = 0;
            for id in inputs {
                let len = val(*id).shape()[*axis];
                let piece = g
                    .slice_axis(Axis(*axis), Slice::from(start..start + len))
                    .to_owned();
                accumulate(pool, &mut lower[id.0], piece);
                start += len;
            }
        }
        Op::Slice { input, axis, start } => {
            let mut d = zeros(pool, val(*input).shape());
            let len = g.shape()[*axis];
            d.slice_axis_mut(Axis(*axis), Slice::from(*start..*start + len))
                .assign(g);
            accumulate(pool, &mut lower[input.0], d);
        }
        Op::Reshape(input) => {
            let data: Vec<T> = match g.as_slice() {
                Some(s) => s.to_vec(),
                None => g.iter().copied().collect(),
            };
            let d =
                ArrayD::from_shape_vec(val(*input).raw_dim(), data).map_err(|_| bad("reshape"))?;
            accumulate(pool, &mut lower[input.0], d);
        }
        Op::Sum { input, axes } => {
            let d = expand(g, val(*input).shape(), axes, T::ONE)?;
            accumulate(pool, &mut lower[input.0], d);
        }
        Op::Mean { input, axes, count } => {
            let scale = T::ONE / T::from_f64(*count as f64);
            let d = expand(g, val(*input).shape(), axes, scale)?;
            accumulate(pool, &mut lower[input.0], d);
        }
        Op::LstmC {
            z,
            c_prev,
            forget_bias,
        } => {
            let (vz, vc) = (val(*z), val(*c_prev));
            let z2 = matrix(vz)?;
            let c2 = matrix(vc)?;
            let g2 = matrix(g)?;
            let h = c2.ncols();
            let fb = T::from_f64(*forget_bias);
            let mut gz = ndarray::Array2::<T>::zeros(z2.raw_dim());
            let mut gc = ndarray::Array2::<T>::zeros(c2.raw_dim());
            for b in 0..z2.nrows() {
                for k in 0..h {
                    let (i, j, f) = (z2[[b, k]], z2[[b, h + k]], z2[[b, 2 * h + k]]);
                    let (si, tj, sf) = (i.sigmoid(), j.tanh(), (f + fb).sigmoid());
                    let dc = g2[[b, k]];
                    gz[[b, k]] = dc * tj * si * (T::ONE - si);
                    gz[[b, h + k]] = dc * si * (T::ONE - tj * tj);
                    gz[[b, 2 * h + k]] = dc * c2[[b, k]] * sf * (T::ONE - sf);
                    gc[[b, k]] = dc * sf;
                }
            }
            accumulate(pool, &mut lower[z.0], gz.into_dyn());
            accumulate(pool, &mut lower[c_prev.0], gc.into_dyn());
        }
        Op::LstmH { z, c } => {
            let (vz, vc) = (val(*z), val(*c));
            let z2 = matrix(vz)?;
            let c2 = matrix(vc)?;
            let g2 = matrix(g)?;
            let h = c2.ncols();
            let mut gz = ndarray::Array2::<T>::zeros(z2.raw_dim());
            let mut gc = ndarray::Array2::<T>::zeros(c2.raw_dim());
            for b in 0..z2.nrows() {
                for k in 0..h {
                    let (so, tc) = (z2[[b, 3 * h + k]].sigmoid(), c2[[b, k]].tanh());
                    let dh = g2[[b, k]];
                    gz[[b, 3 * h + k]] = dh * tc * so * (T::ONE - so);
                    gc[[b, k]] = dh * so * (T::ONE - tc * tc);
                }
            }
            accumulate(pool, &mut lower[z.0], gz.into_dyn());
            accumulate(pool, &mut lower[c.0], gc.into_dyn());
        }
    }
    Ok(())
}

/// Broadcasts a reduction's gradient `g` back over the reduced `axes` of `shape`, times
/// `scale`.
fn expand<T: Real>(
    g: &ArrayD<T>,
    shape: &[usize],
    axes: &[usize],
    scale: T,
) -> Result<ArrayD<T>, TrainError> {
    let keep: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(k, &d)| if axes.contains(&k) { 1 } else { d })
        .collect();
    let data: Vec<T> = g.iter().map(|&x| x * scale).collect();
    let kept = ArrayD::from_shape_vec(IxDyn(&keep), data).map_err(|_| bad("reduce"))?;
    let b = kept.broadcast(shape).ok_or_else(|| bad("reduce"))?;
    Ok(b.to_owned())
}

fn bad(op: &'static str) -> TrainError {
    TrainError::Shape {
        op,
        detail: "internal: gradient shape does not match the recorded op".into(),
    }
}
