//! TF1 `BasicLSTMCell`'s fused gate ops: `lstm_c` (the new cell state) and `lstm_h` (the
//! new output), forward and backward.

use ndarray::{ArrayD, ArrayView2};

use super::buffers::{accumulate, as_matrix, matrix, Backprop};
use super::scalar::Real;
use super::{NodeId, Tape};
use crate::tensor::format_shape;
use crate::train_error::TrainError;

/// The recorded form of the LSTM gate ops.
#[derive(Clone, Debug)]
pub(crate) enum LstmOp {
    LstmC {
        z: NodeId,
        c_prev: NodeId,
        forget_bias: f64,
    },
    LstmH {
        z: NodeId,
        c: NodeId,
    },
}

impl LstmOp {
    /// Calls `f` on every input node.
    pub(super) fn for_each_input(&self, f: &mut dyn FnMut(NodeId)) {
        match self {
            LstmOp::LstmC { z, c_prev: c, .. } | LstmOp::LstmH { z, c } => {
                f(*z);
                f(*c);
            }
        }
    }
}

/// The `[B, 4H]` gate pre-activations and the `[B, H]` state of an LSTM op, checked.
fn lstm_operands<'a, T: Real>(
    op: &'static str,
    z: &'a ArrayD<T>,
    c: &'a ArrayD<T>,
) -> Result<(ArrayView2<'a, T>, ArrayView2<'a, T>, usize), TrainError> {
    let z2 = as_matrix(op, "the gate pre-activations z", z)?;
    let c2 = as_matrix(op, "the cell state c", c)?;
    let h = c2.ncols();
    if z2.nrows() != c2.nrows() || h.checked_mul(4) != Some(z2.ncols()) {
        return Err(TrainError::Shape {
            op,
            detail: format!(
                "z must be [batch, 4 * units] for c of shape [batch, units] = {}, got z {}",
                format_shape(c.shape()),
                format_shape(z.shape())
            ),
        });
    }
    Ok((z2, c2, h))
}

impl<T: Real> Tape<T> {
    /// The new cell state of TF1's `BasicLSTMCell`, fused:
    /// `c = c_prev ⊙ σ(f + forget_bias) + σ(i) ⊙ tanh(j)` where `z = [i | j | f | o]` is
    /// `[batch, 4 * units]` and `c_prev` is `[batch, units]`.
    pub fn lstm_c(
        &mut self,
        z: NodeId,
        c_prev: NodeId,
        forget_bias: f64,
    ) -> Result<NodeId, TrainError> {
        let (vz, vc) = (self.value(z)?, self.value(c_prev)?);
        let (z2, c2, h) = lstm_operands("lstm_c", vz, vc)?;
        let fb = T::from_f64(forget_bias);
        let mut out = c2.to_owned();
        for (b, mut row) in out.rows_mut().into_iter().enumerate() {
            let zr = z2.row(b);
            for k in 0..h {
                let (i, j, f) = (zr[k], zr[h + k], zr[2 * h + k]);
                row[k] = row[k] * (f + fb).sigmoid() + i.sigmoid() * j.tanh();
            }
        }
        Ok(self.push(
            out.into_dyn(),
            LstmOp::LstmC {
                z,
                c_prev,
                forget_bias,
            },
        ))
    }

    /// The new output of TF1's `BasicLSTMCell`, fused: `h = tanh(c) ⊙ σ(o)` where `o` is the
    /// last quarter of `z = [i | j | f | o]` (`[batch, 4 * units]`) and `c` is `[batch, units]`.
    pub fn lstm_h(&mut self, z: NodeId, c: NodeId) -> Result<NodeId, TrainError> {
        let (vz, vc) = (self.value(z)?, self.value(c)?);
        let (z2, c2, h) = lstm_operands("lstm_h", vz, vc)?;
        let mut out = c2.to_owned();
        for (b, mut row) in out.rows_mut().into_iter().enumerate() {
            let zr = z2.row(b);
            for k in 0..h {
                row[k] = row[k].tanh() * zr[3 * h + k].sigmoid();
            }
        }
        Ok(self.push(out.into_dyn(), LstmOp::LstmH { z, c }))
    }
}

impl LstmOp {
    /// The backward half (see [`Backprop`]).
    #[inline(always)]
    pub(super) fn backward<T: Real>(&self, cx: Backprop<'_, T>) -> Result<(), TrainError> {
        let Backprop {
            nodes,
            g,
            lower,
            pool,
            ..
        } = cx;
        let val = |id: NodeId| &nodes[id.0].value;
        match self {
            LstmOp::LstmC {
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
            LstmOp::LstmH { z, c } => {
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
}
