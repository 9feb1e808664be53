//! The one reverse sweep behind [`Tape::backward`] and [`Tape::gradients`]: walks the tape
//! from the loss down, sending each node's gradient to its inputs through its op family's
//! backward half, and routes the gradients of variables read only through gathers to the
//! one sparse path ([`GatherTables`]).

use std::collections::HashMap;

use ndarray::ArrayD;

use super::buffers::{accumulate, bad, Backprop, Pool};
use super::gather::{GatherOp, GatherTables};
use super::gradients::Gradients;
use super::leaves::in_variable_shape;
use super::scalar::Real;
use super::shape::ShapeOp;
use super::simd::wide;
use super::{Node, NodeId, Op, Tape, TapeGrads};
use crate::train_error::TrainError;

/// What a sweep keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Every node's gradient ([`Tape::backward`]); gathered tables get dense gradients too.
    EveryNode,
    /// Only the variables' ([`Tape::gradients`]): a node's gradient is recycled as soon as it
    /// has been sent on, and a table read only through gathers gets its rows.
    Variables,
}

impl<T: Real> Tape<T> {
    /// Reverse mode: the gradient of the sum of `loss`'s elements with respect to every node
    /// that `loss` depends on (TF's `tf.gradients(loss, ..)` with implicit ones as
    /// `grad_ys`).
    pub fn backward(&self, loss: NodeId) -> Result<TapeGrads<T>, TrainError> {
        let (mut grads, mut tables) = self.sweep(loss, Keep::EveryNode)?;
        let mut slices_sq = HashMap::new();
        for (var, id) in &self.vars {
            if let Some(slot) = grads.get_mut(id.0) {
                *slot = slot.take().map(|g| in_variable_shape(var, g));
            }
            if let Some(sq) = tables.take_sq(*id) {
                slices_sq.insert(var.id(), sq);
            }
        }
        Ok(TapeGrads {
            grads,
            vars: self.vars.clone(),
            slices_sq,
        })
    }

    /// The gradients of the sum of `loss`'s elements with respect to the variables on the
    /// tape: the numbers of [`Tape::backward`]`(loss)?.`[`into_gradients`](super::TapeGrads::into_gradients)`()`,
    /// computed as an optimizer needs them ([`crate::optim::Optimizer::minimize`] calls
    /// this). A node's gradient is recycled as soon as it has been sent to its inputs (the
    /// tape keeps the large buffers for the next call, so a training loop stops allocating
    /// them after its first step), a reshape passes its gradient on without a copy, and a
    /// variable read only through gathers (an embedding table) gets the rows gathered, summed
    /// per id, rather than a dense table mostly of zeros (TF's `IndexedSlices`;
    /// [`Gradients::get`] still gives the dense array).
    pub fn gradients(&self, loss: NodeId) -> Result<Gradients<T>, TrainError> {
        let (mut grads, mut tables) = self.sweep(loss, Keep::Variables)?;
        let mut out = Gradients::new();
        for (var, id) in &self.vars {
            if let Some((rows, sq)) = tables.take(*id) {
                out.add_rows(var, rows);
                out.set_slices_sq(var, sq);
            } else if let Some(g) = grads.get_mut(id.0).and_then(Option::take) {
                out.add(var, in_variable_shape(var, g))?;
            }
        }
        Ok(out)
    }

    /// Walks the nodes from `loss` down, seeding `loss` with ones.
    #[allow(clippy::type_complexity)]
    fn sweep(
        &self,
        loss: NodeId,
        keep: Keep,
    ) -> Result<(Vec<Option<ArrayD<T>>>, GatherTables<T>), TrainError> {
        let root = self.value(loss)?;
        let n = loss.0 + 1;
        let mut grads: Vec<Option<ArrayD<T>>> = Vec::with_capacity(n);
        grads.resize_with(n, || None);
        grads[loss.0] = Some(ArrayD::from_elem(root.raw_dim(), T::ONE));
        let mut is_var = vec![false; n];
        for (_, id) in &self.vars {
            if let Some(k) = is_var.get_mut(id.0) {
                *k = true;
            }
        }
        let rows = keep == Keep::Variables;
        // The buffers kept from before this sweep that it does not take back are freed at
        // its end, so the pool never grows past one sweep's worth (plus one `recycle`).
        self.grad_pool.begin();
        let mut tables = GatherTables::new(&self.nodes, n, &self.vars, rows);
        for i in (0..n).rev() {
            let (lower, upper) = grads.split_at_mut(i);
            if is_var[i] {
                // A leaf: nothing to send on.
                continue;
            }
            if keep == Keep::EveryNode {
                let Some(g) = upper[0].as_ref() else { continue };
                if let Op::Gather(GatherOp::Gather { table, ids, .. }) = &self.nodes[i].op {
                    if tables.has(*table) {
                        tables.add(*table, ids, g);
                    }
                }
                propagate(&self.nodes, i, g, lower, &self.grad_pool)?;
                continue;
            }
            let Some(g) = upper[0].take() else { continue };
            match &self.nodes[i].op {
                Op::Gather(GatherOp::Gather { table, ids, .. }) if tables.has(*table) => {
                    tables.add(*table, ids, &g);
                }
                Op::Shape(ShapeOp::Reshape(input)) if g.is_standard_layout() => {
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
        self.grad_pool.drop_old();
        Ok((grads, tables))
    }
}

/// Sends gradient `g` of node `i` to its inputs, whose gradient slots are `lower`
/// (`lower[k]` is node `k`; inputs always precede the node), taking the large buffers it
/// makes from `pool`. The families whose loops are written to vectorize run inside
/// [`wide`].
fn propagate<T: Real>(
    nodes: &[Node<T>],
    i: usize,
    g: &ArrayD<T>,
    lower: &mut [Option<ArrayD<T>>],
    pool: &Pool<T>,
) -> Result<(), TrainError> {
    let cx = Backprop {
        nodes,
        out: &nodes[i].value,
        g,
        lower,
        pool,
    };
    match &nodes[i].op {
        Op::Leaf => Ok(()),
        Op::Elementwise(op) => op.backward(cx),
        Op::Shape(op) => op.backward(cx),
        Op::MatMul(op) => op.backward(cx),
        Op::Lstm(op) => op.backward(cx),
        Op::Norm(op) => wide(
            #[inline(always)]
            || op.backward(cx),
        ),
        Op::Softmax(op) => wide(
            #[inline(always)]
            || op.backward(cx),
        ),
        Op::Gather(op) => wide(
            #[inline(always)]
            || op.backward(cx),
        ),
        Op::Loss(op) => wide(
            #[inline(always)]
            || op.backward(cx),
        ),
        Op::Attention(op) => {
            wide(
                #[inline(always)]
                || super::attention::backward(op, cx),
            );
            Ok(())
        }
    }
}
