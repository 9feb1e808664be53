//! ALBERT's einsum dense layers (`modeling.dense_layer_2d`, `dense_layer_3d`,
//! `dense_layer_3d_proj`) on the tape.
//!
//! Each is one matrix product with a bias once its operands are seen as matrices: the
//! einsum's summed axes are contiguous in both the input and the kernel, so
//! `einsum("BFH,HND->BFND", x, W.reshape(H, N, D))` is `x.reshape(B*F, H) · W` read as
//! `[B, F, N, D]`, and `einsum("BFND,NDH->BFH", x, W.reshape(N, D, H))` is
//! `x.reshape(B*F, N*D) · W`. So they are composed from the tape's fused [`Dense`] product
//! (BERT's) and reshapes, which copy only when the leading axes are not already one; their
//! gradients are those ops' gradients.

use crate::nn::{Activation, Dense};
use crate::tape::{NodeId, Real, Tape};
use crate::TrainError;

/// `modeling.dense_layer_2d(x, output_size, ..)`: `activation(einsum("BFH,HO->BFO", x,
/// kernel) + bias)` for `x` `[.., in]` (any leading axes; `[rows, in]` passes through
/// without a copy), `kernel` `[in, out]`; the result is `[.., out]`.
///
/// Fails with [`TrainError::Shape`] if the last axis of `x` is not the kernel's input width.
pub fn dense_layer_2d<T: Real>(
    tape: &mut Tape<T>,
    dense: &Dense,
    x: NodeId,
    activation: Activation,
) -> Result<NodeId, TrainError> {
    let (rows, lead) = as_rows(tape, "dense_layer_2d", x, &[dense.inputs()])?;
    let y = dense.forward_with(tape, rows, activation)?;
    from_rows(tape, y, &lead, &[dense.units()])
}

/// `modeling.dense_layer_3d(x, num_attention_heads, head_size, ..)`:
/// `einsum("BFH,HND->BFND", x, kernel.reshape(H, N, D)) + bias.reshape(N, D)` for `x`
/// `[.., H]` and the kernel `[H, N*D]` as it is stored; the result is `[.., N, D]`.
///
/// BERT's attention (and so ALBERT's forward) reads the heads in place from the `[.., N*D]`
/// product instead (see [`crate::models::bert::BertSelfAttention`]); this is the same product with the
/// head axis made explicit.
///
/// Fails with [`TrainError::Shape`] if `x` does not end in `H`, and with
/// [`TrainError::Config`] if `heads` does not divide the kernel's width.
pub fn dense_layer_3d<T: Real>(
    tape: &mut Tape<T>,
    dense: &Dense,
    x: NodeId,
    heads: usize,
) -> Result<NodeId, TrainError> {
    let d = head_size("dense_layer_3d", dense.units(), heads)?;
    let (rows, lead) = as_rows(tape, "dense_layer_3d", x, &[dense.inputs()])?;
    let y = dense.forward(tape, rows)?;
    let mut shape = lead;
    shape.extend([heads, d]);
    tape.reshape(y, &shape)
}

/// `modeling.dense_layer_3d_proj(x, hidden_size, head_size, ..)`:
/// `einsum("BFND,NDH->BFH", x, kernel.reshape(N, D, H)) + bias` for `x` `[.., N, D]` and the
/// kernel `[N*D, H]` as it is stored; the result is `[.., H]`. `x` may also come with its
/// heads concatenated, `[.., N*D]` (as [`Tape::attention_context`] gives them): the same
/// product without the reshape.
///
/// Fails with [`TrainError::Shape`] if `x` ends in neither `[N, D]` nor `[N*D]`, and with
/// [`TrainError::Config`] if `heads` does not divide the kernel's input width.
pub fn dense_layer_3d_proj<T: Real>(
    tape: &mut Tape<T>,
    dense: &Dense,
    x: NodeId,
    heads: usize,
) -> Result<NodeId, TrainError> {
    let d = head_size("dense_layer_3d_proj", dense.inputs(), heads)?;
    let shape = tape.value(x)?.shape().to_vec();
    let tail: &[usize] = if shape.len() >= 3 && shape[shape.len() - 2..] == [heads, d] {
        &[heads, d]
    } else {
        &[heads * d]
    };
    let (rows, lead) = as_rows(tape, "dense_layer_3d_proj", x, tail)?;
    let y = dense.forward(tape, rows)?;
    from_rows(tape, y, &lead, &[dense.units()])
}

fn head_size(op: &'static str, width: usize, heads: usize) -> Result<usize, TrainError> {
    if heads == 0 || !width.is_multiple_of(heads) {
        return Err(TrainError::Config {
            detail: format!(
                "{op}: {heads} attention heads do not divide the kernel's width {width}"
            ),
        });
    }
    Ok(width / heads)
}

/// `x` `[lead.., tail..]` as a matrix `[prod(lead), prod(tail)]`, with `lead`; no copy when
/// `x` is that matrix already.
fn as_rows<T: Real>(
    tape: &mut Tape<T>,
    op: &'static str,
    x: NodeId,
    tail: &[usize],
) -> Result<(NodeId, Vec<usize>), TrainError> {
    let shape = tape.value(x)?.shape().to_vec();
    let fits = shape.len() > tail.len() && shape[shape.len() - tail.len()..] == *tail;
    if !fits {
        return Err(TrainError::Shape {
            op,
            detail: format!("the input must end in {tail:?}, got {shape:?}"),
        });
    }
    let lead = shape[..shape.len() - tail.len()].to_vec();
    if lead.len() == 1 && tail.len() == 1 {
        return Ok((x, lead));
    }
    let rows = lead.iter().product();
    Ok((tape.reshape(x, &[rows, tail.iter().product()])?, lead))
}

/// The inverse of [`as_rows`] for a result `[rows, prod(tail)]`.
fn from_rows<T: Real>(
    tape: &mut Tape<T>,
    y: NodeId,
    lead: &[usize],
    tail: &[usize],
) -> Result<NodeId, TrainError> {
    if lead.len() == 1 && tail.len() == 1 {
        return Ok(y);
    }
    let shape: Vec<usize> = lead.iter().chain(tail).copied().collect();
    tape.reshape(y, &shape)
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::{Initializer, Model, Registry, Tensor, Variable};

    /// A deterministic, irregular tensor.
    fn filled(shape: &[usize], seed: f64) -> ArrayD<f64> {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|i| ((i as f64 + seed) * 0.731).sin() * 0.8)
            .collect();
        ArrayD::from_shape_vec(IxDyn(shape), data).expect("shape")
    }

    type Op = fn(&mut Tape<f64>, &Dense, NodeId) -> Result<NodeId, TrainError>;

    /// `sum(op(x) * r)` and, with `grads`, the tape's gradients for `x`, kernel and bias.
    fn loss(dense: &Dense, x: &ArrayD<f64>, op: Op) -> (f64, Option<Vec<ArrayD<f64>>>) {
        let mut tape = Tape::<f64>::new();
        let xn = tape.constant(x.clone());
        let y = op(&mut tape, dense, xn).expect("op");
        let r = filled(tape.value(y).expect("y").shape(), 0.3);
        let r = tape.constant(r);
        let prod = tape.mul(y, r).expect("mul");
        let l = tape.sum_all(prod).expect("sum");
        let value = tape.value(l).expect("l").iter().sum();
        let g = tape.backward(l).expect("backward");
        let grads = [
            g.node(xn).cloned(),
            g.variable(dense.kernel()).cloned(),
            g.variable(dense.bias()).cloned(),
        ];
        (value, grads.into_iter().collect())
    }

    fn assert_close(what: &str, got: f64, want: f64) {
        let tol = 1e-4 * (1.0 + want.abs());
        assert!(
            (got - want).abs() <= tol,
            "{what}: tape {got}, finite difference {want}"
        );
    }

    /// Central differences on `x` (in f64) and on the kernel and bias (stored in f32, so
    /// the step actually taken is read back).
    fn check_gradients(dense: &Dense, x: &ArrayD<f64>, op: Op) {
        let (_, grads) = loss(dense, x, op);
        let grads = grads.expect("every gradient");
        let h = 1e-3;
        for i in (0..x.len()).step_by(3) {
            let (mut up, mut down) = (x.clone(), x.clone());
            up.as_slice_mut().expect("std")[i] += h;
            down.as_slice_mut().expect("std")[i] -= h;
            let fd = (loss(dense, &up, op).0 - loss(dense, &down, op).0) / (2.0 * h);
            assert_close(&format!("x[{i}]"), grads[0].as_slice().expect("std")[i], fd);
        }
        for (k, var) in [dense.kernel(), dense.bias()].into_iter().enumerate() {
            let base = var.value().to_f64_vec();
            for i in (0..base.len()).step_by(5) {
                let at = |delta: f64| -> (f64, f64) {
                    let mut v = base.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                    v[i] = (base[i] + delta) as f32;
                    let stored = f64::from(v[i]);
                    set(var, v);
                    (loss(dense, x, op).0, stored)
                };
                let ((lu, su), (ld, sd)) = (at(h), at(-h));
                set(var, base.iter().map(|&x| x as f32).collect());
                let fd = (lu - ld) / (su - sd);
                let got = grads[k + 1].as_slice().expect("std")[i];
                assert_close(&format!("{}[{i}]", var.name()), got, fd);
            }
        }
    }

    fn set(var: &Variable, values: Vec<f32>) {
        let a = ArrayD::from_shape_vec(IxDyn(var.shape()), values).expect("shape");
        var.assign(Tensor::from(a)).expect("assign");
    }

    fn dense(reg: &Registry, name: &str, inputs: usize, units: usize) -> Dense {
        let d = Dense::build_in(
            reg,
            name,
            (inputs, units, Initializer::random_normal(0.0, 0.5)),
        )
        .expect("dense");
        // A bias that is not zero, so that its place in the sum is checked.
        let b: Vec<f32> = (0..units).map(|i| (i as f32 * 0.37).cos() * 0.2).collect();
        set(d.bias(), b);
        d
    }

    #[test]
    fn dense_layer_2d_gradients_match_finite_differences() {
        let reg = Registry::with_seed(5);
        let d = dense(&reg, "dense", 4, 3);
        let x = filled(&[2, 3, 4], 1.0);
        check_gradients(&d, &x, |t, d, x| dense_layer_2d(t, d, x, Activation::Gelu));
        check_gradients(&d, &filled(&[5, 4], 2.0), |t, d, x| {
            dense_layer_2d(t, d, x, Activation::Linear)
        });
    }

    #[test]
    fn dense_layer_3d_and_proj_gradients_match_finite_differences() {
        let reg = Registry::with_seed(6);
        let q = dense(&reg, "query", 6, 6);
        let x = filled(&[2, 3, 6], 0.5);
        check_gradients(&q, &x, |t, d, x| dense_layer_3d(t, d, x, 3));
        let proj = dense(&reg, "dense", 6, 4);
        check_gradients(&proj, &filled(&[2, 3, 3, 2], 4.0), |t, d, x| {
            dense_layer_3d_proj(t, d, x, 3)
        });
        check_gradients(&proj, &filled(&[6, 6], 7.0), |t, d, x| {
            dense_layer_3d_proj(t, d, x, 2)
        });
    }

    /// The einsums, written out as loops, against the ops.
    #[test]
    fn the_ops_are_the_einsums() {
        let reg = Registry::with_seed(7);
        let (b, f, n, dh) = (2, 3, 2, 3);
        let h = n * dh;
        let q = dense(&reg, "query", h, h);
        let x = filled(&[b, f, h], 0.1);
        let w = q.kernel().value().to_f64_vec();
        let bias = q.bias().value().to_f64_vec();
        let mut tape = Tape::<f64>::new();
        let xn = tape.constant(x.clone());
        let y = dense_layer_3d(&mut tape, &q, xn, n).expect("3d");
        let got = tape.value(y).expect("y").clone();
        assert_eq!(got.shape(), [b, f, n, dh]);
        for ((bi, fi, ni, di), &g) in got
            .indexed_iter()
            .map(|(ix, g)| ((ix[0], ix[1], ix[2], ix[3]), g))
        {
            let want: f64 = (0..h)
                .map(|hi| x[[bi, fi, hi]] * w[hi * h + ni * dh + di])
                .sum::<f64>()
                + bias[ni * dh + di];
            assert!((g - want).abs() < 1e-5, "{g} vs {want}");
        }
        // The projection of that result back to [b, f, h].
        let p = dense(&reg, "dense", h, h);
        let wp = p.kernel().value().to_f64_vec();
        let bp = p.bias().value().to_f64_vec();
        let z = dense_layer_3d_proj(&mut tape, &p, y, n).expect("proj");
        let z = tape.value(z).expect("z");
        assert_eq!(z.shape(), [b, f, h]);
        for bi in 0..b {
            for fi in 0..f {
                for o in 0..h {
                    let want: f64 = (0..n)
                        .flat_map(|ni| (0..dh).map(move |di| (ni, di)))
                        .map(|(ni, di)| got[[bi, fi, ni, di]] * wp[(ni * dh + di) * h + o])
                        .sum::<f64>()
                        + bp[o];
                    assert!((z[[bi, fi, o]] - want).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn misfitting_inputs_are_refused() {
        let reg = Registry::with_seed(8);
        let d = dense(&reg, "dense", 4, 6);
        let mut tape = Tape::<f64>::new();
        let x = tape.constant(filled(&[2, 5], 0.0));
        let err = dense_layer_2d(&mut tape, &d, x, Activation::Linear).expect_err("width");
        assert!(
            matches!(
                err,
                TrainError::Shape {
                    op: "dense_layer_2d",
                    ..
                }
            ),
            "{err}"
        );
        let x = tape.constant(filled(&[2, 4], 0.0));
        let err = dense_layer_3d(&mut tape, &d, x, 4).expect_err("heads");
        assert!(matches!(err, TrainError::Config { .. }), "{err}");
    }
}
