//! Embedding lookup: `gather` (and `gather_variable`, which copies only the rows it reads)
//! and `one_hot`, forward and backward; and the tape's one sparse-gradient path
//! ([`GatherTables`]): a variable read only through gathers gets its gradient as the rows
//! gathered (TF's `IndexedSlices`), with the sum of squares TF's global norm adds for it.

use ndarray::{ArrayD, IxDyn};

use super::buffers::{flat, flat_mut, shape_error, Backprop, Pool};
use super::gradients::{sum_of_squares, Rows};
use super::leaves::VarLeaf;
use super::scalar::Real;
use super::{Node, NodeId, Op, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// The recorded form of the gather op.
#[derive(Clone, Debug)]
pub(crate) enum GatherOp {
    Gather {
        table: NodeId,
        /// The table's shape (its leaf may hold no value: see `Tape::gather_variable`).
        table_shape: Vec<usize>,
        ids: Vec<usize>,
    },
}

impl GatherOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            GatherOp::Gather { table, .. } => f(*table),
        }
    }
}

/// Rows `ids` of a row-major table of `shape`, converted by `convert`.
fn gather_rows<S: Copy, T: Real>(
    pool: &Pool<T>,
    input: &str,
    shape: &[usize],
    src: &[S],
    ids: &[usize],
    convert: impl Fn(S) -> T,
) -> Result<ArrayD<T>, TrainError> {
    let Some(&rows) = shape.first() else {
        return Err(shape_error(
            "gather",
            "the table must have rank 1 or more, got a scalar".into(),
        ));
    };
    if let Some((index, &id)) = ids.iter().enumerate().find(|(_, &i)| i >= rows) {
        return Err(TrainError::OutOfRange {
            input: input.to_owned(),
            index,
            value: id as i64,
            limit: rows,
        });
    }
    let width: usize = shape[1..].iter().product();
    let mut out_shape = shape.to_vec();
    out_shape[0] = ids.len();
    pool.build("gather", &out_shape, |data| {
        for &id in ids {
            data.extend(
                src[id * width..(id + 1) * width]
                    .iter()
                    .map(|&x| convert(x)),
            );
        }
    })
}

impl<T: Real> Tape<T> {
    /// Rows `ids` of `table` (TF's `tf.gather(table, ids)` on axis 0): `table` is
    /// `[rows, ...]`, the result `[ids.len(), ...]`. The gradient scatters back (summing
    /// repeated ids); see [`super::Gradients::tf_global_norm`] for the norm TF computes over
    /// it.
    ///
    /// Fails with [`TrainError::OutOfRange`] if an id is not a row of `table`.
    pub fn gather(&mut self, table: NodeId, ids: &[usize]) -> Result<NodeId, TrainError> {
        let t = self.value(table)?;
        let shape = t.shape().to_vec();
        let out = gather_rows(&self.pool, "gather ids", &shape, flat(t), ids, |x| x)?;
        Ok(self.push(
            out,
            GatherOp::Gather {
                table,
                table_shape: shape,
                ids: ids.to_vec(),
            },
        ))
    }

    /// [`Tape::gather`] straight from a registry variable (TF's `tf.gather(var, ids)`, BERT's
    /// embedding lookup): copies only the rows gathered, not the whole table, so a large
    /// vocabulary costs nothing per step but its gradient.
    ///
    /// The variable's leaf ([`Tape::variable`]) is shared with every other use; if the table
    /// was not on the tape yet, the leaf holds no value (an empty array) until
    /// [`Tape::variable`] is called for it, which copies the value in.
    ///
    /// Fails with [`TrainError::UnsupportedDtype`] unless the variable is `float32`, and
    /// with [`TrainError::OutOfRange`] if an id is not a row of it.
    pub fn gather_variable(
        &mut self,
        var: &crate::variable::Variable,
        ids: &[usize],
    ) -> Result<NodeId, TrainError> {
        if let Some(leaf) = self.var_nodes.get(&var.id()) {
            if leaf.copy.is_some() {
                // The leaf holds the whole value (in the variable's shape, or a reshape).
                let table = self.variable(var)?;
                return self.gather(table, ids);
            }
        }
        let shape = var.shape().to_vec();
        let out = {
            let guard = var.read();
            let src = guard.as_f32().ok_or_else(|| TrainError::unsupported(var))?;
            gather_rows(
                &self.pool,
                &format!("ids into {}", var.name()),
                &shape,
                src,
                ids,
                T::from_f32,
            )?
        };
        let leaf = match self.var_nodes.get(&var.id()) {
            Some(leaf) => leaf.node,
            None => {
                let leaf = self.push(ArrayD::zeros(IxDyn(&[0])), Op::Leaf);
                self.var_nodes.insert(
                    var.id(),
                    VarLeaf {
                        node: leaf,
                        copy: None,
                    },
                );
                self.vars.push((var.clone(), leaf));
                leaf
            }
        };
        Ok(self.push(
            out,
            GatherOp::Gather {
                table: leaf,
                table_shape: shape,
                ids: ids.to_vec(),
            },
        ))
    }

    /// A constant `[ids.len(), depth]` of one-hot rows (TF's `tf.one_hot(ids, depth)`).
    ///
    /// Fails with [`TrainError::OutOfRange`] for an id `>= depth` (where TF would silently
    /// give a zero row).
    pub fn one_hot(&mut self, ids: &[usize], depth: usize) -> Result<NodeId, TrainError> {
        if let Some((index, &id)) = ids.iter().enumerate().find(|(_, &i)| i >= depth) {
            return Err(TrainError::OutOfRange {
                input: "one_hot ids".into(),
                index,
                value: id as i64,
                limit: depth,
            });
        }
        let mut out = ArrayD::zeros(IxDyn(&[ids.len(), depth]));
        for (row, &id) in out.outer_iter_mut().zip(ids) {
            let mut row = row;
            row[[id]] = T::ONE;
        }
        Ok(self.constant(out))
    }
}

impl GatherOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop { g, lower, .. } = cx;
        match self {
            GatherOp::Gather {
                table,
                table_shape,
                ids,
            } => {
                let width: usize = table_shape[1..].iter().product();
                let slot = &mut lower[table.0];
                if slot.is_none() {
                    *slot = Some(ArrayD::zeros(IxDyn(table_shape)));
                }
                let dst = flat_mut(slot.as_mut().expect("just filled"));
                for (&id, gr) in ids.iter().zip(flat(g).chunks_exact(width.max(1))) {
                    for (d, &v) in dst[id * width..(id + 1) * width].iter_mut().zip(gr) {
                        *d = *d + v;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The gradients of the variable leaves that only gathers read, summed row by row as the
/// gathers' gradients arrive.
pub(super) struct GatherTables<T: Real> {
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
    /// TF's global norm counts them), with the ids the gathers among the
    /// first `n` nodes read.
    ///
    /// With `rows` false only the sums of squares are kept (the gathers' gradients also go
    /// their dense way, for [`Tape::backward`]).
    pub(super) fn new(
        nodes: &[Node<T>],
        n: usize,
        vars: &[(Variable, NodeId)],
        rows: bool,
    ) -> Self {
        let mut gathered: std::collections::HashMap<usize, Option<TableRows<T>>> =
            vars.iter().map(|(_, id)| (id.0, None)).collect();
        for (j, node) in nodes.iter().enumerate() {
            if let Op::Gather(GatherOp::Gather {
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
        // A table gathered in another shape than its variable's (a gather of a
        // `variable_reshaped` leaf) gets its gradient the dense way, which is reshaped.
        let var_shapes: std::collections::HashMap<usize, &[usize]> =
            vars.iter().map(|(v, id)| (id.0, v.shape())).collect();
        let tables = gathered
            .into_iter()
            .filter_map(|(leaf, t)| {
                let mut t = t.filter(|t| var_shapes.get(&leaf) == Some(&t.shape.as_slice()))?;
                t.ids.sort_unstable();
                t.ids.dedup();
                let width: usize = t.shape[1..].iter().product();
                if rows {
                    t.values = vec![T::ZERO; t.ids.len() * width];
                }
                Some((leaf, t))
            })
            .collect();
        GatherTables { tables }
    }

    pub(super) fn has(&self, leaf: NodeId) -> bool {
        self.tables.contains_key(&leaf.0)
    }

    /// Adds a gather's gradient `g` (row `k` for id `ids[k]`) to its table's rows.
    pub(super) fn add(&mut self, leaf: NodeId, ids: &[usize], g: &ArrayD<T>) {
        let t = self.tables.get_mut(&leaf.0).expect("checked by `has`");
        let width: usize = t.shape[1..].iter().product();
        t.touched = true;
        t.sq.push(sum_of_squares(g));
        if t.values.is_empty() {
            // Sums of squares only (or nothing to sum).
            return;
        }
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

    /// TF's sum of squares for `leaf`'s gradient, if only gathers read it and one of them
    /// got a gradient.
    pub(super) fn take_sq(&mut self, leaf: NodeId) -> Option<f64> {
        let t = self.tables.remove(&leaf.0).filter(|t| t.touched)?;
        // Summed in tape order (the sweep runs in reverse).
        Some(t.sq.iter().rev().sum())
    }

    /// The rows of `leaf`'s gradient and TF's sum of squares for it, if only gathers read
    /// it and one of them got a gradient.
    pub(super) fn take(&mut self, leaf: NodeId) -> Option<(Rows<T>, f64)> {
        let t = self.tables.remove(&leaf.0).filter(|t| t.touched)?;
        // Summed in tape order (the sweep runs in reverse).
        let sq = t.sq.iter().rev().sum();
        Some((Rows::new(t.shape, t.ids, t.values), sq))
    }
}
