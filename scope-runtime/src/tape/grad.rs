//! The backward half of every op: given a node's gradient, adds its inputs' gradients.

use ndarray::{Array2, ArrayD, Axis, Ix2, IxDyn, Slice, Zip};

use super::broadcast::reduce_to;
use super::scalar::Real;
use super::{Node, NodeId, Op};
use crate::linalg::mat_mul;
use crate::train_error::TrainError;

pub(crate) fn accumulate<T: Real>(slot: &mut Option<ArrayD<T>>, delta: ArrayD<T>) {
    match slot {
        Some(g) => Zip::from(g).and(&delta).for_each(|a, &b| *a = *a + b),
        None => *slot = Some(delta),
    }
}

fn matrix<T: Real>(a: &ArrayD<T>) -> Result<ndarray::ArrayView2<'_, T>, TrainError> {
    a.view()
        .into_dimensionality::<Ix2>()
        .map_err(|_| TrainError::Shape {
            op: "matmul",
            detail: "operand is not a matrix".into(),
        })
}

/// Sends gradient `g` of node `i` to its inputs, whose gradient slots are `lower`
/// (`lower[k]` is node `k`; inputs always precede the node).
pub(crate) fn propagate<T: Real>(
    nodes: &[Node<T>],
    i: usize,
    g: &ArrayD<T>,
    lower: &mut [Option<ArrayD<T>>],
) -> Result<(), TrainError> {
    let val = |id: NodeId| &nodes[id.0].value;
    let out = &nodes[i].value;
    match &nodes[i].op {
        Op::Leaf => {}
        Op::Nn(op) => super::simd::wide(
            #[inline(always)]
            || super::nn_ops::propagate(nodes, op, out, g, lower),
        ),
        Op::Attention(op) => {
            super::simd::wide(
                #[inline(always)]
                || super::attention::propagate(nodes, op, out, g, lower),
            );
        }
        Op::MatMul(a, b) => {
            let (ma, mb, mg) = (matrix(val(*a))?, matrix(val(*b))?, matrix(g)?);
            let mut ga = Array2::zeros(ma.raw_dim());
            mat_mul(T::ONE, &mg, &mb.t(), T::ZERO, &mut ga.view_mut());
            let mut gb = Array2::zeros(mb.raw_dim());
            mat_mul(T::ONE, &ma.t(), &mg, T::ZERO, &mut gb.view_mut());
            let (ga, gb) = (ga.into_dyn(), gb.into_dyn());
            accumulate(&mut lower[a.0], ga);
            accumulate(&mut lower[b.0], gb);
        }
        Op::Add(a, b) => {
            accumulate(&mut lower[a.0], reduce_to(g, val(*a).shape()));
            accumulate(&mut lower[b.0], reduce_to(g, val(*b).shape()));
        }
        Op::Sub(a, b) => {
            accumulate(&mut lower[a.0], reduce_to(g, val(*a).shape()));
            let neg = reduce_to(g, val(*b).shape()).mapv(|x| -x);
            accumulate(&mut lower[b.0], neg);
        }
        Op::Mul(a, b) => {
            let (va, vb) = (val(*a), val(*b));
            let shape = g.shape();
            let bb = vb.broadcast(shape).ok_or_else(|| bad("mul"))?;
            let ba = va.broadcast(shape).ok_or_else(|| bad("mul"))?;
            let ga = Zip::from(g).and(&bb).map_collect(|&x, &y| x * y);
            let gb = Zip::from(g).and(&ba).map_collect(|&x, &y| x * y);
            accumulate(&mut lower[a.0], reduce_to(&ga, va.shape()));
            accumulate(&mut lower[b.0], reduce_to(&gb, vb.shape()));
        }
        Op::Relu(a) => {
            let d = Zip::from(g)
                .and(val(*a))
                .map_collect(|&g, &x| if x > T::ZERO { g } else { T::ZERO });
            accumulate(&mut lower[a.0], d);
        }
        Op::Sigmoid(a) => {
            let d = Zip::from(g)
                .and(out)
                .map_collect(|&g, &y| g * y * (T::ONE - y));
            accumulate(&mut lower[a.0], d);
        }
        Op::Tanh(a) => {
            let d = Zip::from(g)
                .and(out)
                .map_collect(|&g, &y| g * (T::ONE - y * y));
            accumulate(&mut lower[a.0], d);
        }
        Op::Square(a) => {
            let two = T::ONE + T::ONE;
            let d = Zip::from(g).and(val(*a)).map_collect(|&g, &x| two * x * g);
            accumulate(&mut lower[a.0], d);
        }
        Op::Concat { inputs, axis } => {
            let mut start = 0;
            for id in inputs {
                let len = val(*id).shape()[*axis];
                let piece = g
                    .slice_axis(Axis(*axis), Slice::from(start..start + len))
                    .to_owned();
                accumulate(&mut lower[id.0], piece);
                start += len;
            }
        }
        Op::Slice { input, axis, start } => {
            let mut d = ArrayD::zeros(val(*input).raw_dim());
            let len = g.shape()[*axis];
            d.slice_axis_mut(Axis(*axis), Slice::from(*start..*start + len))
                .assign(g);
            accumulate(&mut lower[input.0], d);
        }
        Op::Reshape(input) => {
            let data: Vec<T> = g.iter().copied().collect();
            let d =
                ArrayD::from_shape_vec(val(*input).raw_dim(), data).map_err(|_| bad("reshape"))?;
            accumulate(&mut lower[input.0], d);
        }
        Op::Sum { input, axes } => {
            let d = expand(g, val(*input).shape(), axes, T::ONE)?;
            accumulate(&mut lower[input.0], d);
        }
        Op::Mean { input, axes, count } => {
            let scale = T::ONE / T::from_f64(*count as f64);
            let d = expand(g, val(*input).shape(), axes, scale)?;
            accumulate(&mut lower[input.0], d);
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
            accumulate(&mut lower[z.0], gz.into_dyn());
            accumulate(&mut lower[c_prev.0], gc.into_dyn());
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
            accumulate(&mut lower[z.0], gz.into_dyn());
            accumulate(&mut lower[c.0], gc.into_dyn());
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
