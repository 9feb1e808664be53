//! The fixtures' tensor encoding, decoded once: `{"shape": [d0, ...], "data": [flat,
//! row-major]}`, or a bare number (or bool) for a scalar. An optional `"dtype"` (TF's name,
//! as `values.json` of the partitioned fixture writes it) is honoured by [`tensor`].

use std::fmt;

use ndarray::{ArrayD, IxDyn};
use scope::{DType, Tensor};
use serde_json::Value;

/// Why a JSON value is not the tensor asked for: what was wrong, and (in part) the value.
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// An error saying `what`.
    pub fn msg(what: impl fmt::Display) -> DecodeError {
        DecodeError(what.to_string())
    }

    /// An error saying `what`, showing the start of the offending value.
    pub fn new(what: impl fmt::Display, v: &Value) -> DecodeError {
        let mut shown = v.to_string();
        if shown.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|&i| shown.is_char_boundary(i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push_str("...");
        }
        DecodeError(format!("{what}: {shown}"))
    }
}

/// An element type the fixtures store: `f32`, `f64`, `i32`, `i64` or `bool`.
pub trait Element: Copy {
    /// What the element is called in error messages.
    const NAME: &'static str;
    /// One JSON scalar as this type (`None` when it is not one).
    fn from_json(v: &Value) -> Option<Self>;
}

impl Element for f64 {
    const NAME: &'static str = "number";
    fn from_json(v: &Value) -> Option<f64> {
        v.as_f64()
    }
}

impl Element for f32 {
    const NAME: &'static str = "number";
    /// Parsed as `f64`, then rounded: the fixtures print float32 with nine significant
    /// digits, which this rounds back to the stored bits.
    fn from_json(v: &Value) -> Option<f32> {
        v.as_f64().map(|x| x as f32)
    }
}

impl Element for i64 {
    const NAME: &'static str = "integer";
    fn from_json(v: &Value) -> Option<i64> {
        v.as_i64()
    }
}

impl Element for i32 {
    const NAME: &'static str = "int32";
    fn from_json(v: &Value) -> Option<i32> {
        v.as_i64().and_then(|x| i32::try_from(x).ok())
    }
}

impl Element for bool {
    const NAME: &'static str = "bool (or 0/1)";
    fn from_json(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => match other.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
        }
    }
}

/// The `shape` of a `{shape, data}` tensor (or of a variable record: same key).
pub fn shape(v: &Value) -> Result<Vec<usize>, DecodeError> {
    v["shape"]
        .as_array()
        .ok_or_else(|| DecodeError::new("tensor without a shape", v))?
        .iter()
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| DecodeError::new("bad extent in shape", d))
        })
        .collect()
}

/// A `{shape, data}` tensor, or a bare scalar, as an array of `T`.
pub fn array<T: Element>(v: &Value) -> Result<ArrayD<T>, DecodeError> {
    if let Some(x) = T::from_json(v) {
        return Ok(ArrayD::from_elem(IxDyn(&[]), x));
    }
    let shape = shape(v)?;
    let data = data::<T>(v)?;
    let n = data.len();
    ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|_| {
        DecodeError::new(
            format_args!("{n} data values do not fill shape {shape:?}"),
            v,
        )
    })
}

/// The flat `data` of a `{shape, data}` tensor (or a bare scalar as one value), shape unchecked.
pub fn data<T: Element>(v: &Value) -> Result<Vec<T>, DecodeError> {
    if let Some(x) = T::from_json(v) {
        return Ok(vec![x]);
    }
    v["data"]
        .as_array()
        .ok_or_else(|| DecodeError::new("tensor without data", v))?
        .iter()
        .map(|x| {
            T::from_json(x).ok_or_else(|| DecodeError::new(format_args!("not a {}", T::NAME), x))
        })
        .collect()
}

/// A `{shape, data}` tensor as `f64`s (what comparisons use).
pub fn f64s(v: &Value) -> Result<ArrayD<f64>, DecodeError> {
    array(v)
}

/// A `{shape, data}` tensor as `f32`s (bit-identical to the checkpoint's float32 values).
pub fn f32s(v: &Value) -> Result<ArrayD<f32>, DecodeError> {
    array(v)
}

/// A `{shape, data}` tensor as `i64`s (token ids, labels, masks, positions).
pub fn i64s(v: &Value) -> Result<ArrayD<i64>, DecodeError> {
    array(v)
}

/// A `{shape, data}` tensor as an array of exactly `D` dimensions (e.g. `Ix2` for `[B, S]` ids).
pub fn array_nd<T: Element, D: ndarray::Dimension>(
    v: &Value,
) -> Result<ndarray::Array<T, D>, DecodeError> {
    let a = array::<T>(v)?;
    let got = a.shape().to_vec();
    a.into_dimensionality::<D>().map_err(|_| {
        DecodeError::new(
            format_args!("expected rank {:?}, got shape {got:?}", D::NDIM),
            v,
        )
    })
}

/// A `{shape, data, dtype?}` tensor as a [`scope::Tensor`] of its `dtype` (TF's name:
/// `float32`, `float64`, `int32`, `int64`, `bool`; `float32` when absent).
pub fn tensor(v: &Value) -> Result<Tensor, DecodeError> {
    let dtype: DType = match v.get("dtype").and_then(Value::as_str) {
        Some(name) => name
            .parse()
            .map_err(|e| DecodeError::new(format_args!("{e}"), v))?,
        None => DType::F32,
    };
    Ok(match dtype {
        DType::F32 => Tensor::from(f32s(v)?),
        DType::F64 => Tensor::from(f64s(v)?),
        DType::I32 => Tensor::from(array::<i32>(v)?),
        DType::I64 => Tensor::from(i64s(v)?),
        DType::Bool => Tensor::from(array::<bool>(v)?),
        other => {
            let t = Tensor::from(f64s(v)?);
            t.cast(other)
                .map_err(|e| DecodeError::new(format_args!("{e}"), v))?
        }
    })
}

#[cfg(test)]
mod tests {
    use scope::DType;
    use serde_json::json;

    use super::{array, array_nd, data, f32s, i64s, shape, tensor};

    #[test]
    fn decodes_every_element_type_and_scalars() {
        let v = json!({"shape": [2, 2], "data": [1, 2, 3, 4]});
        assert_eq!(shape(&v).unwrap(), [2, 2]);
        assert_eq!(i64s(&v).unwrap().shape(), [2, 2]);
        assert_eq!(array::<i32>(&v).unwrap()[[1, 0]], 3);
        assert_eq!(f32s(&json!(0.1)).unwrap().shape(), [0usize; 0]);
        assert_eq!(f32s(&json!(0.1)).unwrap().sum(), 0.1f32);
        let b = json!({"shape": [3], "data": [true, false, 1]});
        assert_eq!(data::<bool>(&b).unwrap(), [true, false, true]);
        let m: ndarray::Array2<f64> = array_nd(&v).unwrap();
        assert_eq!(m[[0, 1]], 2.0);
        let t = tensor(&json!({"shape": [2], "dtype": "int64", "data": [5, -1]})).unwrap();
        assert_eq!((t.dtype(), t.to_f64_vec()), (DType::I64, vec![5.0, -1.0]));
        assert_eq!(tensor(&v).unwrap().dtype(), DType::F32);
    }

    #[test]
    fn refuses_what_is_not_the_tensor_asked_for() {
        let short = json!({"shape": [2, 2], "data": [1, 2, 3]});
        assert!(i64s(&short)
            .unwrap_err()
            .to_string()
            .contains("do not fill"));
        let floaty = json!({"shape": [1], "data": [1.5]});
        assert!(i64s(&floaty)
            .unwrap_err()
            .to_string()
            .contains("not a integer"));
        assert!(array::<i32>(&json!({"shape": [1], "data": [1u64 << 40]})).is_err());
        assert!(f32s(&json!({"data": [1.0]}))
            .unwrap_err()
            .to_string()
            .contains("shape"));
        assert!(array_nd::<f64, ndarray::Ix2>(&json!({"shape": [2], "data": [1, 2]})).is_err());
        let unknown = json!({"shape": [1], "dtype": "string", "data": [1]});
        assert!(tensor(&unknown).is_err());
    }
}
