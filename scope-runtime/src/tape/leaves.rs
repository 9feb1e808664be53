//! Variable leaves: the copy of a registry [`Variable`] that a tape computes with, and the
//! copies a tape keeps across [`Tape::clear`] so that a step over unchanged variables (a
//! repeated forward at inference) copies none of them again.
//!
//! A leaf holds the variable's value as it was when the leaf was made, tagged with the
//! variable's [`Variable::version`] read under the same read lock. At `clear` the leaves of
//! the step go to the tape's keep instead of its buffer pool; the next step's
//! [`Tape::variable`] takes a kept copy back as it is when the variable's version and read
//! dtype still match, and otherwise copies the value into the kept buffer. Every route that
//! changes a variable (its write lock: `assign`, optimizer steps, checkpoint restores, from
//! any handle or thread) bumps its version, so a kept copy is never served stale.

use ndarray::{ArrayD, IxDyn};

use super::buffers::bad;
use super::scalar::Real;
use super::{NodeId, Op, Tape};
use crate::dtype::DType;
use crate::tensor::format_shape;
use crate::train_error::TrainError;
use crate::variable::Variable;

/// Elements per piece of a variable's copy split across threads.
const COPY_PIECE: usize = 64 * 1024;

/// A variable's leaf on the tape.
#[derive(Clone, Copy, Debug)]
pub(super) struct VarLeaf {
    pub(super) node: NodeId,
    /// The version of the value the leaf holds and the dtype it was read as; `None` while
    /// it holds none (a table so far only read by `Tape::gather_variable`).
    pub(super) copy: Option<Stamp>,
}

/// Which value of its variable a leaf's copy holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stamp {
    version: u64,
    read_dtype: DType,
}

/// A variable's copy kept across [`Tape::clear`].
pub(super) struct Kept<T> {
    copy: Stamp,
    /// In standard layout, with the variable's element count (in its leaf's shape).
    value: ArrayD<T>,
}

impl<T: Real> Tape<T> {
    /// The leaf for registry variable `var`, holding its current value (converted to `T`).
    /// The same variable always maps to the same leaf, so its gradient sums every use.
    ///
    /// The tape keeps the leaves of its last step across [`Tape::clear`]: when the next
    /// step adds a variable whose value has not changed since (by any route: see
    /// [`Variable::version`]), its leaf takes the kept copy back without copying, so a
    /// repeated forward over unchanged weights copies none of them. The keep holds at most
    /// one copy per variable the last step read (the copies that step's leaves held anyway);
    /// [`Tape::release_variables`] frees it.
    ///
    /// Fails with [`TrainError::UnsupportedDtype`] unless the variable is `float32`.
    pub fn variable(&mut self, var: &Variable) -> Result<NodeId, TrainError> {
        self.variable_as(var, var.shape())
    }

    /// The leaf for `var` holding its value in `shape`, which has the variable's element
    /// count (row-major order, as [`Tape::reshape`]): GPT-2's `conv1d` reads its
    /// `[1, nx, nf]` weight as the `[nx, nf]` matrix it multiplies by. Unlike a `reshape` of
    /// [`Tape::variable`], this copies nothing when the tape kept the variable's copy from
    /// its last step.
    ///
    /// The leaf is the variable's one leaf on the tape ([`Tape::variable`]); its gradient,
    /// from [`Tape::gradients`] or [`Tape::backward`] (including
    /// [`TapeGrads::node`](super::TapeGrads::node) of the leaf), has the variable's shape.
    /// Adding the variable again in another shape gives a `reshape` of the leaf.
    ///
    /// Fails with [`TrainError::Shape`] if `shape` has another element count, and with
    /// [`TrainError::UnsupportedDtype`] unless the variable is `float32`.
    ///
    /// ```
    /// use scope::tape::Tape;
    /// use scope::{Initializer, Registry, VarSpec};
    ///
    /// let reg = Registry::new();
    /// let w = reg.get_variable("w", VarSpec::new().shape([1, 2, 3]).initializer(Initializer::Ones))?;
    /// let mut tape = Tape::<f32>::new();
    /// let m = tape.variable_reshaped(&w, &[2, 3])?;
    /// assert_eq!(tape.value(m)?.shape(), &[2, 3]);
    /// let loss = tape.sum(m, &[0, 1])?;
    /// let grads = tape.gradients(loss)?;
    /// assert_eq!(grads.get(&w).unwrap().shape(), &[1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn variable_reshaped(
        &mut self,
        var: &Variable,
        shape: &[usize],
    ) -> Result<NodeId, TrainError> {
        let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if count != Some(var.numel()) {
            return Err(TrainError::Shape {
                op: "variable_reshaped",
                detail: format!(
                    "variable {} of shape {} ({} elements) cannot be read as shape {}; \
                     give a shape with the same element count",
                    var.name(),
                    format_shape(var.shape()),
                    var.numel(),
                    format_shape(shape)
                ),
            });
        }
        self.variable_as(var, shape)
    }

    /// Frees the copies of variables the tape keeps across [`Tape::clear`] (see
    /// [`Tape::variable`]), for instance before a long pause between steps. The leaves of
    /// the step on the tape now are not touched (the next `clear` keeps them in turn): call
    /// it after a `clear` to hold no copy at all.
    pub fn release_variables(&mut self) {
        self.kept.clear();
    }

    fn variable_as(&mut self, var: &Variable, shape: &[usize]) -> Result<NodeId, TrainError> {
        if let Some(leaf) = self.var_nodes.get(&var.id()).copied() {
            if leaf.copy.is_none() {
                // A leaf made by `gather_variable`, which copied only the rows it gathered;
                // the gathers' gradients have the variable's shape, and so must the leaf.
                let (value, copy) = self.copy_variable(var, var.shape())?;
                self.nodes[leaf.node.0].value = value;
                self.var_nodes.insert(
                    var.id(),
                    VarLeaf {
                        copy: Some(copy),
                        ..leaf
                    },
                );
            }
            if self.nodes[leaf.node.0].value.shape() == shape {
                return Ok(leaf.node);
            }
            return self.reshape(leaf.node, shape);
        }
        let (value, copy) = self.copy_variable(var, shape)?;
        let node = self.push(value, Op::Leaf);
        self.var_nodes.insert(
            var.id(),
            VarLeaf {
                node,
                copy: Some(copy),
            },
        );
        self.vars.push((var.clone(), node));
        Ok(node)
    }

    /// `var`'s value in `shape` (its element count): the kept copy if the variable has not
    /// changed since it was made, else a fresh copy (into the kept copy's buffer).
    fn copy_variable(
        &mut self,
        var: &Variable,
        shape: &[usize],
    ) -> Result<(ArrayD<T>, Stamp), TrainError> {
        let guard = var.read();
        let src = guard.as_f32().ok_or_else(|| TrainError::unsupported(var))?;
        // Read under the read lock, so no write can come between the version and the value.
        let copy = Stamp {
            version: var.version(),
            read_dtype: var.read_dtype(),
        };
        if let Some(kept) = self.kept.remove(&var.id()) {
            if kept.copy == copy {
                let value = kept
                    .value
                    .into_shape_with_order(IxDyn(shape))
                    .map_err(|_| bad("variable"))?;
                return Ok((value, copy));
            }
            self.pool.put(kept.value);
        }
        #[cfg(test)]
        {
            self.copies += 1;
        }
        if copy.read_dtype == DType::F16 {
            // A cast read (mixed precision) sees the value rounded to its read dtype.
            let value = self.pool.build("variable", shape, |data| {
                data.extend(
                    src.iter()
                        .map(|&x| T::from_f32(half::f16::from_f32(x).to_f32())),
                );
            })?;
            return Ok((value, copy));
        }
        // A training step copies every variable it reads (0.5 GB for GPT-2 small), bound by
        // memory: large ones are copied in blocks across the threads.
        let mut value = self.pool.scratch("variable", shape)?;
        let dst = value.as_slice_mut().ok_or_else(|| bad("variable"))?;
        if dst.len() != src.len() {
            return Err(bad("variable"));
        }
        crate::threads::for_each_block(dst, COPY_PIECE, dst.len(), |first, block| {
            let from = &src[first * COPY_PIECE..][..block.len()];
            T::copy_from_f32(block, from);
        });
        Ok((value, copy))
    }

    /// Moves the step's variable copies to the keep, and frees the copies the step did not
    /// take back (their buffers serve the next step's ops); for [`Tape::clear`], before the
    /// nodes go.
    pub(super) fn keep_variables(&mut self) {
        for (_, kept) in self.kept.drain() {
            self.pool.put(kept.value);
        }
        for (var, node) in &self.vars {
            let Some(VarLeaf {
                copy: Some(copy), ..
            }) = self.var_nodes.get(&var.id())
            else {
                continue;
            };
            let value =
                std::mem::replace(&mut self.nodes[node.0].value, ArrayD::zeros(IxDyn(&[0])));
            self.kept.insert(var.id(), Kept { copy: *copy, value });
        }
    }
}

/// `g`, the gradient of `var`'s leaf, in the variable's shape (a leaf of
/// [`Tape::variable_reshaped`] has another).
pub(super) fn in_variable_shape<T: Real>(var: &Variable, g: ArrayD<T>) -> ArrayD<T> {
    if g.shape() == var.shape() {
        return g;
    }
    let g = if g.is_standard_layout() {
        g
    } else {
        g.as_standard_layout().into_owned()
    };
    g.into_shape_with_order(IxDyn(var.shape()))
        .expect("a variable's leaf has the variable's element count")
}
