//! A mapping's casts, value by value: refused when the target dtype cannot hold a value (the
//! default), or saturating, or wrapping as `tf.cast` does.

use half::f16;

use crate::dtype::DType;
use crate::tensor::{Tensor, TensorData};

/// What a [`super::Mapping`]'s casts do with a value the target dtype cannot hold.
///
/// Rounding a finite float to the nearest value of a narrower float type (`float32` ->
/// `float16`, `float64` -> `float32`), or a large integer to the nearest float, is not a
/// loss in any mode: that is what the narrower type holds. What differs is a value outside
/// the target's range, a NaN or infinity cast to an integer, a fraction cast to an integer,
/// and a value other than 0 or 1 cast to `bool`:
///
/// | value | `Checked` (default) | `Saturating` | `Wrapping` (`tf.cast`) |
/// |---|---|---|---|
/// | finite float beyond a float type's range (`1e6` to `float16`) | refused | largest finite value (`65504`) | `inf`, as `tf.cast` |
/// | NaN, ±inf float to float | kept | kept | kept |
/// | integer out of an integer type's range (`2^40` to `int32`) | refused | clamped to `i32::MAX` / `MIN` | low bits kept (two's complement), as `tf.cast` |
/// | fraction to integer (`1.5` to `int32`) | refused | truncated toward zero | truncated toward zero, as `tf.cast` |
/// | NaN to integer | refused | `0` | `0` (`tf.cast`: undefined) |
/// | ±inf or out-of-range float to integer | refused | clamped to the type's `MAX` / `MIN` | clamped (`tf.cast`: undefined) |
/// | not 0 or 1 to `bool` (`2`, NaN) | refused | `true` | `true` (`x != 0`), as `tf.cast` |
///
/// TensorFlow's `tf.cast` converts each element with C++ `static_cast`: integers narrow by
/// keeping their low bits, floats narrow by rounding to nearest (even) with overflow to
/// ±inf, floats become integers by truncation toward zero, and its documentation says
/// "casting nan and inf values to integral types has undefined behavior" (out-of-range
/// finite floats too, in C++); on x86 CPUs TensorFlow returns the type's minimum there.
/// `Wrapping` gives `tf.cast`'s results wherever `tf.cast` defines them, and Rust's
/// saturating float-to-integer conversion where it does not. `tf.saturate_cast` clamps to
/// the target's range, as `Saturating` does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CastMode {
    /// A value the target cannot hold stops the read or save with
    /// [`crate::checkpoint::CheckpointError::Cast`], naming the first such element.
    #[default]
    Checked,
    /// Values beyond the target's range become its nearest finite value.
    Saturating,
    /// `tf.cast`'s behaviour: integers wrap, float overflow becomes ±inf.
    Wrapping,
}

/// The first element a checked cast refuses: its flat index, its value as written, and why.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) index: usize,
    pub(crate) value: String,
    pub(crate) reason: String,
}

/// `value` cast to `to` in `mode`. Fails with the first refused element (`Checked`), or
/// with `Ok(Err(_))` when memory runs out.
pub(crate) fn cast(
    value: &Tensor,
    to: DType,
    mode: CastMode,
) -> Result<crate::Result<Tensor>, Refused> {
    if value.dtype() == to {
        return Ok(value.try_clone());
    }
    match mode {
        CastMode::Checked => {
            if let Some(refused) = first_refused(value.data(), to) {
                return Err(refused);
            }
            Ok(value.cast(to))
        }
        CastMode::Wrapping => Ok(value.cast(to)),
        CastMode::Saturating => Ok(saturating(value, to)),
    }
}

/// Largest finite value of a float dtype, if `to` is one narrower than `float64`.
fn float_max(to: DType) -> Option<f64> {
    match to {
        DType::F16 => Some(f16::MAX.to_f64()),
        DType::F32 => Some(f64::from(f32::MAX)),
        _ => None,
    }
}

fn saturating(value: &Tensor, to: DType) -> crate::Result<Tensor> {
    let data = match (value.data(), to) {
        (TensorData::I64(v), DType::I32) => {
            let clamp = |x: i64| x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            TensorData::I32(v.iter().map(|&x| clamp(x)).collect())
        }
        (data, to) => match float_max(to) {
            // Finite values clamped to the range, then rounded; NaN and ±inf kept.
            Some(max) => TensorData::from_f64_iter(
                to,
                data.to_f64_vec().into_iter().map(|x| {
                    if x.is_finite() {
                        x.clamp(-max, max)
                    } else {
                        x
                    }
                }),
            )?,
            // Float to integer saturates already (Rust's `as`); bool is `x != 0`.
            None => return value.cast(to),
        },
    };
    Tensor::new(value.shape(), data)
}

/// Why a checked cast to `to` refuses the float `x`, if it does.
fn float_refusal(x: f64, to: DType) -> Option<String> {
    match to {
        DType::F16 | DType::F32 => {
            let max = float_max(to)?;
            // Beyond the largest finite value once rounded: overflows to inf.
            let rounds_to_inf = match to {
                DType::F16 => f16::from_f64(x).is_infinite(),
                _ => (x as f32).is_infinite(),
            };
            (x.is_finite() && rounds_to_inf)
                .then(|| format!("it overflows {to} (largest finite value {max})"))
        }
        DType::F64 => None,
        DType::I32 | DType::I64 => {
            let (lo, hi) = match to {
                DType::I32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
                _ => (i64::MIN as f64, i64::MAX as f64),
            };
            if x.is_nan() {
                Some(format!("NaN has no {to} value"))
            } else if x.is_infinite() {
                Some(format!("an infinity has no {to} value"))
            } else if x.trunc() != x {
                Some(format!(
                    "it is not a whole number, and {to} holds only those"
                ))
            } else if x < lo || x >= hi + 1.0 {
                Some(format!("it is outside {to}'s range"))
            } else {
                None
            }
        }
        DType::Bool => (x != 0.0 && x != 1.0).then(|| "bool holds only 0 and 1".to_owned()),
    }
}

/// Why a checked cast to `to` refuses the integer `x`, if it does.
fn int_refusal(x: i64, to: DType) -> Option<String> {
    match to {
        DType::I32 => i32::try_from(x)
            .is_err()
            .then(|| "it is outside int32's range".to_owned()),
        DType::Bool => (x != 0 && x != 1).then(|| "bool holds only 0 and 1".to_owned()),
        DType::F16 => float_refusal(x as f64, to),
        // int64 to float32/float64 rounds to nearest within range; int32 widens.
        _ => None,
    }
}

/// The first element of `data` that a checked cast to `to` refuses.
fn first_refused(data: &TensorData, to: DType) -> Option<Refused> {
    fn find<T: Copy>(
        v: &[T],
        why: impl Fn(T) -> Option<String>,
        show: impl Fn(T) -> String,
    ) -> Option<Refused> {
        v.iter().enumerate().find_map(|(index, &x)| {
            why(x).map(|reason| Refused {
                index,
                value: show(x),
                reason,
            })
        })
    }
    match data {
        TensorData::F16(v) => find(v, |x| float_refusal(x.to_f64(), to), |x| format!("{x:?}")),
        TensorData::F32(v) => find(v, |x| float_refusal(f64::from(x), to), |x| format!("{x:?}")),
        TensorData::F64(v) => find(v, |x| float_refusal(x, to), |x| format!("{x:?}")),
        TensorData::I32(v) => find(v, |x| int_refusal(i64::from(x), to), |x| x.to_string()),
        TensorData::I64(v) => find(v, |x| int_refusal(x, to), |x| x.to_string()),
        TensorData::Bool(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(t: Tensor, to: DType) -> Option<(usize, String)> {
        cast(&t, to, CastMode::Checked)
            .err()
            .map(|r| (r.index, r.value))
    }

    #[test]
    fn checked_casts_refuse_what_the_target_cannot_hold() {
        let f32s = |v: Vec<f32>| Tensor::from_f32(&[v.len()], v).unwrap();
        let i64s = |v: Vec<i64>| Tensor::from_i64(&[v.len()], v).unwrap();
        // The three of the issue: overflow to inf, NaN to an integer, an int32 overflow.
        assert_eq!(
            refused(f32s(vec![1.0, 1e6]), DType::F16),
            Some((1, "1000000.0".into()))
        );
        assert_eq!(
            refused(f32s(vec![f32::NAN]), DType::I32),
            Some((0, "NaN".into()))
        );
        assert_eq!(
            refused(i64s(vec![0, 1 << 40]), DType::I32),
            Some((1, (1i64 << 40).to_string()))
        );
        assert_eq!(
            refused(f32s(vec![2.0, 1.5]), DType::I64),
            Some((1, "1.5".into()))
        );
        assert_eq!(
            refused(i64s(vec![1, 2]), DType::Bool),
            Some((1, "2".into()))
        );
        assert_eq!(
            refused(i64s(vec![70_000]), DType::F16),
            Some((0, "70000".into()))
        );
        // Rounding within range, infinities and NaN between floats, whole numbers in
        // range: all held.
        for (t, to) in [
            (f32s(vec![0.1, 65504.0, 65519.0, -1e-10]), DType::F16),
            (f32s(vec![f32::INFINITY, f32::NAN]), DType::F16),
            (f32s(vec![-2147483648.0, 2147483520.0]), DType::I32),
            (i64s(vec![(1 << 53) + 1, i64::MAX]), DType::F32),
            (i64s(vec![i64::from(i32::MIN), 0, 1]), DType::I32),
        ] {
            assert_eq!(refused(t.clone(), to), None, "{t:?} to {to}");
        }
        assert_eq!(
            refused(f32s(vec![2147483648.0]), DType::I32),
            Some((0, "2147483600.0".into()))
        );
    }

    #[test]
    fn saturating_and_wrapping_casts_do_what_they_say() {
        let f32s = |v: Vec<f32>| Tensor::from_f32(&[v.len()], v).unwrap();
        let run = |t: &Tensor, to, mode| cast(t, to, mode).unwrap().unwrap().to_f64_vec();
        let big = f32s(vec![1e6, -1e6, f32::NAN]);
        let sat = run(&big, DType::F16, CastMode::Saturating);
        assert_eq!(&sat[..2], [65504.0, -65504.0]);
        assert!(sat[2].is_nan());
        let wrap = run(&big, DType::F16, CastMode::Wrapping);
        assert_eq!(&wrap[..2], [f64::INFINITY, f64::NEG_INFINITY]);
        let ints = Tensor::from_i64(&[2], vec![(1 << 40) + 5, -(1 << 40)]).unwrap();
        assert_eq!(
            run(&ints, DType::I32, CastMode::Saturating),
            [f64::from(i32::MAX), f64::from(i32::MIN)]
        );
        assert_eq!(run(&ints, DType::I32, CastMode::Wrapping), [5.0, 0.0]);
        let odd = f32s(vec![f32::NAN, 1.7, -1.7, 1e10]);
        let expected = [0.0, 1.0, -1.0, f64::from(i32::MAX)];
        assert_eq!(run(&odd, DType::I32, CastMode::Saturating), expected);
        assert_eq!(run(&odd, DType::I32, CastMode::Wrapping), expected);
    }
}
