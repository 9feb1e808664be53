//! Tape-based reverse-mode automatic differentiation over `ndarray`.
//!
//! Build a computation by calling ops on a [`Tape`]; each op computes its value at once and
//! records how to send gradients back. [`Tape::backward`] then walks the tape in reverse
//! and returns the gradient of every node, and of every registry [`Variable`] used as a leaf
//! ([`Tape::variable`]). A variable put on the tape twice (for instance by two models that
//! share it through reuse) is one leaf, so it gets the summed gradient.
//!
//! ```
//! use scope::tape::Tape;
//! use scope::{Registry, VarSpec, Initializer};
//! use ndarray::array;
//!
//! let reg = Registry::with_seed(1);
//! let w = reg.get_variable("w", VarSpec::new().shape([2, 1]).initializer(Initializer::Ones))?;
//! let mut tape = Tape::<f32>::new();
//! let x = tape.constant(array![[1.0f32, 2.0]].into_dyn());
//! let wn = tape.variable(&w)?;
//! let y = tape.matmul(x, wn)?;
//! let loss = tape.square(y)?;
//! let grads = tape.backward(loss)?.into_gradients();
//! // d (x·w)^2 / dw = 2 (x·w) x = 2 * 3 * [1, 2]
//! assert_eq!(grads.get(&w).unwrap().as_slice().unwrap(), &[6.0, 12.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Ops (methods of [`Tape`]): `matmul`, broadcasting `add`/`sub`/`mul`, `relu`, `sigmoid`,
//! `tanh`, `square`, `concat`, `split`, `slice`, `reshape`, `sum`, `mean`, and the fused
//! LSTM gate ops `lstm_c` / `lstm_h`; and for transformers `gather`, `one_hot`,
//! `layer_norm`, `softmax`, `log_softmax`, `masked_softmax` (with
//! `attention_mask_adder`), `gelu`, `bias_gelu`, `permute`, `batch_matmul`, `exp`, `log`,
//! `rsqrt`, `scale`, `weighted_mean`, `nll` and `softmax_cross_entropy`. Every op is checked
//! against central finite differences in this module's tests.
//!
//! Layout: one file per op family holds its ops' forward and backward halves (`elementwise`,
//! `shape`, `matmul`, `norm`, `softmax`, `attention`, `gather`, `losses`, `lstm`); they
//! share the buffer helpers of `buffers` (the bottom module) and the row kernels of `simd`;
//! `leaves` makes the variable leaves and keeps their copies across [`Tape::clear`];
//! `sweep` runs the one reverse pass behind [`Tape::backward`] and [`Tape::gradients`].

mod attention;
mod buffers;
mod elementwise;
pub(crate) mod fastmath;
mod gather;
mod gradients;
mod leaves;
mod losses;
mod lstm;
mod matmul;
mod norm;
mod regularization;
mod scalar;
mod shape;
mod simd;
mod softmax;
mod sweep;

use std::collections::HashMap;

use ndarray::ArrayD;

pub(crate) use gradients::GradView;
pub use gradients::Gradients;
pub use scalar::Real;
pub(crate) use simd::wide;

use crate::train_error::TrainError;
use crate::variable::Variable;

/// A node on a [`Tape`]: the result of one op, or a leaf.
///
/// Only valid on the tape that made it, until that tape is cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(usize);

impl NodeId {
    /// The node's position on its tape.
    pub fn index(self) -> usize {
        self.0
    }
}

/// How a node was computed: its inputs and the op's parameters, one variant per op family
/// (each family's file holds its ops' forward and backward halves).
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Leaf,
    Elementwise(elementwise::ElementwiseOp),
    Shape(shape::ShapeOp),
    MatMul(matmul::MatMulOp),
    Norm(norm::NormOp),
    Softmax(softmax::SoftmaxOp),
    Attention(attention::AttentionOp),
    Gather(gather::GatherOp),
    Loss(losses::LossOp),
    Lstm(lstm::LstmOp),
}

macro_rules! op_family {
    ($($variant:ident($family:ty)),*) => {$(
        impl From<$family> for Op {
            fn from(op: $family) -> Op {
                Op::$variant(op)
            }
        }
    )*};
}
op_family!(
    Elementwise(elementwise::ElementwiseOp),
    Shape(shape::ShapeOp),
    MatMul(matmul::MatMulOp),
    Norm(norm::NormOp),
    Softmax(softmax::SoftmaxOp),
    Attention(attention::AttentionOp),
    Gather(gather::GatherOp),
    Loss(losses::LossOp),
    Lstm(lstm::LstmOp)
);

impl Op {
    /// Calls `f` on every input node of the op.
    pub(crate) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            Op::Leaf => {}
            Op::Elementwise(op) => op.for_each_input(f),
            Op::Shape(op) => op.for_each_input(f),
            Op::MatMul(op) => op.for_each_input(f),
            Op::Norm(op) => op.for_each_input(f),
            Op::Softmax(op) => op.for_each_input(f),
            Op::Attention(op) => op.for_each_input(f),
            Op::Gather(op) => op.for_each_input(f),
            Op::Loss(op) => op.for_each_input(f),
            Op::Lstm(op) => op.for_each_input(f),
        }
    }
}

struct Node<T: Real> {
    value: ArrayD<T>,
    op: Op,
}

/// A recording of ops, differentiable in reverse.
///
/// `T` is the element type: `f32` for training (variables are `float32`), `f64` for checks.
/// [`Tape::clear`] empties the tape for the next step while keeping its node storage.
pub struct Tape<T: Real = f32> {
    nodes: Vec<Node<T>>,
    /// Variable leaves by variable id, so a variable is one leaf however often added.
    var_nodes: HashMap<u64, leaves::VarLeaf>,
    vars: Vec<(Variable, NodeId)>,
    /// The large node values of the step before the last `clear`, for ops to reuse.
    pool: buffers::Pool<T>,
    /// The variable copies of the step before the last `clear`, by variable id, for the
    /// next step to take back while the variables are unchanged (see [`Tape::variable`]).
    kept: HashMap<u64, leaves::Kept<T>>,
    /// How many variable values the tape has copied (tests check what the keep saves).
    #[cfg(test)]
    copies: usize,
    /// The large gradient buffers of the last [`Tape::gradients`], for the next one.
    grad_pool: buffers::Pool<T>,
}

impl<T: Real> Default for Tape<T> {
    fn default() -> Self {
        Tape {
            nodes: Vec::new(),
            var_nodes: HashMap::new(),
            vars: Vec::new(),
            pool: buffers::Pool::default(),
            kept: HashMap::new(),
            #[cfg(test)]
            copies: 0,
            grad_pool: buffers::Pool::default(),
        }
    }
}

impl<T: Real> std::fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tape")
            .field("nodes", &self.nodes.len())
            .field("variables", &self.vars.len())
            .finish()
    }
}

impl<T: Real> Tape<T> {
    /// An empty tape.
    pub fn new() -> Tape<T> {
        Tape::default()
    }

    /// Forgets every node (invalidating their ids), keeping the allocated node list and the
    /// nodes' large buffers: the ops of the next step reuse them, so a loop that records the
    /// same shapes every step (a training loop) allocates no activation storage after its
    /// first step. The buffers of one step are kept at most. The copies of the variables
    /// the step read are kept too, for the next step to take back while they are unchanged
    /// (see [`Tape::variable`]). Clearing an empty tape changes nothing.
    pub fn clear(&mut self) {
        if self.nodes.is_empty() {
            return;
        }
        self.pool.drain();
        self.keep_variables();
        for node in self.nodes.drain(..) {
            self.pool.put(node.value);
        }
        self.var_nodes.clear();
        self.vars.clear();
    }

    /// How many nodes the tape holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tape holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A leaf holding `value` (an input or a constant). Its gradient is available from
    /// [`TapeGrads::node`] after [`Tape::backward`].
    pub fn constant(&mut self, value: ArrayD<T>) -> NodeId {
        self.push(value, Op::Leaf)
    }

    /// Gives the storage of `grads`, gradients this tape computed ([`Tape::gradients`]) and
    /// that are no longer needed (applied), back to the tape for its next
    /// [`Tape::gradients`]: a training loop then faults in no fresh pages for its large
    /// variable gradients (GPT-2's 154 MB `wte` gradient) every step. The results are the
    /// same with or without it.
    pub fn recycle(&self, grads: Gradients<T>) {
        for g in grads.into_dense() {
            self.grad_pool.put(g);
        }
    }

    /// The variables on the tape, with their leaves, in the order they were added. (A leaf
    /// of [`Tape::variable_reshaped`] holds its value in the shape asked for.)
    pub fn variables(&self) -> impl Iterator<Item = (&Variable, NodeId)> {
        self.vars.iter().map(|(v, id)| (v, *id))
    }

    /// The value of `node`.
    pub fn value(&self, node: NodeId) -> Result<&ArrayD<T>, TrainError> {
        self.nodes
            .get(node.0)
            .map(|n| &n.value)
            .ok_or(TrainError::UnknownNode {
                index: node.0,
                len: self.nodes.len(),
            })
    }

    pub(crate) fn push(&mut self, value: ArrayD<T>, op: impl Into<Op>) -> NodeId {
        let op = op.into();
        self.nodes.push(Node { value, op });
        NodeId(self.nodes.len() - 1)
    }
}

/// The result of [`Tape::backward`]: a gradient per node that the loss depends on.
#[derive(Debug)]
pub struct TapeGrads<T: Real = f32> {
    grads: Vec<Option<ArrayD<T>>>,
    vars: Vec<(Variable, NodeId)>,
    /// Variables read only through gathers: the sum of squares of their unsummed rows.
    slices_sq: HashMap<u64, f64>,
}

impl<T: Real> TapeGrads<T> {
    /// The gradient of `node`, or `None` if the loss does not depend on it.
    pub fn node(&self, node: NodeId) -> Option<&ArrayD<T>> {
        self.grads.get(node.0).and_then(Option::as_ref)
    }

    /// The gradient of variable `var`, or `None` if it was not on the tape or the loss does
    /// not depend on it.
    pub fn variable(&self, var: &Variable) -> Option<&ArrayD<T>> {
        self.vars
            .iter()
            .find(|(v, _)| v.id() == var.id())
            .and_then(|(_, id)| self.node(*id))
    }

    /// The gradients of the variables on the tape, keyed by variable (variables the loss does
    /// not depend on are left out, as TF returns `None` for them).
    pub fn into_gradients(mut self) -> Gradients<T> {
        let mut out = Gradients::new();
        for (var, id) in std::mem::take(&mut self.vars) {
            if let Some(g) = self.grads.get_mut(id.0).and_then(Option::take) {
                out.add(&var, g)
                    .expect("a variable leaf's gradient has the variable's shape");
                if let Some(&sq) = self.slices_sq.get(&var.id()) {
                    out.set_slices_sq(&var, sq);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod leaves_tests;
#[cfg(test)]
mod nn_tests;
#[cfg(test)]
mod tests;
