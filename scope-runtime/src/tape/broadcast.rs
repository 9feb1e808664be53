//! numpy broadcasting: the result shape of two operands, and summing a gradient back to an
//! operand's shape.

use ndarray::{ArrayD, Axis};

use super::scalar::Real;

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
