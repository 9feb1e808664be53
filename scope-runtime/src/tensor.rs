//! Dense, row-major tensors of any [`DType`]: the storage behind every variable.

use std::fmt;

use half::f16;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;

/// A shape: one extent per axis, `[]` for a scalar.
pub type Shape = Vec<usize>;

/// The typed element buffer of a [`Tensor`].
#[derive(Clone, PartialEq)]
pub enum TensorData {
    /// `float16` elements.
    F16(Vec<f16>),
    /// `float32` elements.
    F32(Vec<f32>),
    /// `float64` elements.
    F64(Vec<f64>),
    /// `int32` elements.
    I32(Vec<i32>),
    /// `int64` elements.
    I64(Vec<i64>),
    /// `bool` elements.
    Bool(Vec<bool>),
}

/// A dense row-major tensor: a shape and a typed buffer of `shape.iter().product()` elements.
///
/// Tensors are plain values; [`crate::Variable`] shares one behind a lock. Views as
/// [`ndarray`] arrays are available for each element type (`view_f32`, `view_f32_mut`, ...).
#[derive(Clone, PartialEq)]
pub struct Tensor {
    shape: Box<[usize]>,
    data: TensorData,
}

/// `len` copies of `value`, or [`Error::ShapeOverflow`] if the allocation fails (a `vec!`
/// would abort the process instead).
fn try_filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::ShapeOverflow { shape: vec![len] })?;
    v.resize(len, value);
    Ok(v)
}

/// `len` zeros from zeroed memory (see [`kernels::try_zeros`]), or [`Error::ShapeOverflow`]
/// if the allocation fails.
fn try_zeros<T: kernels::ZeroBits>(len: usize) -> Result<Vec<T>> {
    kernels::try_zeros(len).ok_or_else(|| Error::ShapeOverflow { shape: vec![len] })
}

/// Collects an exactly sized iterator into a `Vec`, reserving fallibly first.
fn try_collect<T>(values: impl ExactSizeIterator<Item = T>) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(values.len())
        .map_err(|_| Error::ShapeOverflow {
            shape: vec![values.len()],
        })?;
    v.extend(values);
    Ok(v)
}

/// Converts every element of `values` with `f` into a fallibly reserved `Vec`.
fn try_map<S: Copy, D>(values: &[S], f: impl Fn(S) -> D) -> Result<Vec<D>> {
    try_collect(values.iter().map(|&x| f(x)))
}

/// Formats a shape the way TensorFlow prints a `TensorShape`: `()`, `(2,)`, `(10, 11)`.
pub fn format_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_owned(),
        [d] => format!("({d},)"),
        dims => {
            let inner: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("({})", inner.join(", "))
        }
    }
}

/// The number of elements of `shape`, or `None` if it overflows `usize`.
pub(crate) fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

macro_rules! typed_access {
    ($($variant:ident, $ty:ty, $view:ident, $view_mut:ident, $from:ident, $to_array:ident;)*) => {
        impl Tensor {
            $(
                #[doc = concat!("Builds a `", stringify!($ty), "` tensor from a shape and row-major data.")]
                ///
                /// Fails with [`Error::ValueShape`] when the data length is not the shape's
                /// element count.
                pub fn $from(shape: &[usize], data: Vec<$ty>) -> Result<Tensor> {
                    Tensor::new(shape, TensorData::$variant(data))
                }

                #[doc = concat!("A read-only `ndarray` view, if the tensor holds `", stringify!($ty), "`.")]
                pub fn $view(&self) -> Option<ArrayViewD<'_, $ty>> {
                    match &self.data {
                        TensorData::$variant(v) => {
                            ArrayViewD::from_shape(IxDyn(&self.shape), v.as_slice()).ok()
                        }
                        _ => None,
                    }
                }

                #[doc = concat!("A mutable `ndarray` view, if the tensor holds `", stringify!($ty), "`.")]
                pub fn $view_mut(&mut self) -> Option<ArrayViewMutD<'_, $ty>> {
                    match &mut self.data {
                        TensorData::$variant(v) => {
                            ArrayViewMutD::from_shape(IxDyn(&self.shape), v.as_mut_slice()).ok()
                        }
                        _ => None,
                    }
                }

                #[doc = concat!("An owned `ndarray` copy, if the tensor holds `", stringify!($ty), "`.")]
                pub fn $to_array(&self) -> Option<ArrayD<$ty>> {
                    self.$view().map(|v| v.to_owned())
                }
            )*
        }

        $(
            impl From<ArrayD<$ty>> for Tensor {
                fn from(array: ArrayD<$ty>) -> Tensor {
                    let shape: Vec<usize> = array.shape().to_vec();
                    let data = if array.is_standard_layout() {
                        array.into_raw_vec_and_offset().0
                    } else {
                        array.iter().cloned().collect()
                    };
                    Tensor { shape: shape.into(), data: TensorData::$variant(data) }
                }
            }

            impl From<$ty> for Tensor {
                fn from(value: $ty) -> Tensor {
                    Tensor { shape: Box::new([]), data: TensorData::$variant(vec![value]) }
                }
            }

            impl From<Vec<$ty>> for Tensor {
                fn from(values: Vec<$ty>) -> Tensor {
                    Tensor { shape: Box::new([values.len()]), data: TensorData::$variant(values) }
                }
            }

            impl<const N: usize> From<[$ty; N]> for Tensor {
                fn from(values: [$ty; N]) -> Tensor {
                    Tensor::from(values.to_vec())
                }
            }
        )*
    };
}

typed_access! {
    F16, f16, view_f16, view_f16_mut, from_f16, to_array_f16;
    F32, f32, view_f32, view_f32_mut, from_f32, to_array_f32;
    F64, f64, view_f64, view_f64_mut, from_f64, to_array_f64;
    I32, i32, view_i32, view_i32_mut, from_i32, to_array_i32;
    I64, i64, view_i64, view_i64_mut, from_i64, to_array_i64;
    Bool, bool, view_bool, view_bool_mut, from_bool, to_array_bool;
}

impl TensorData {
    /// The element type of the buffer.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F16(_) => DType::F16,
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
            TensorData::Bool(_) => DType::Bool,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F16(v) => v.len(),
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// Whether the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A buffer of `len` copies of `value`, converted to `dtype` (TF's `fill` + cast:
    /// floats round, integers truncate toward zero, bool is `value != 0`).
    ///
    /// Fails with [`Error::ShapeOverflow`], instead of aborting, when the memory cannot be had.
    pub fn filled(dtype: DType, len: usize, value: f64) -> Result<TensorData> {
        // Positive zero only: -0.0 keeps its sign bit through the loop below.
        if value.to_bits() == 0 {
            return Ok(match dtype {
                DType::F16 => TensorData::F16(try_zeros(len)?),
                DType::F32 => TensorData::F32(try_zeros(len)?),
                DType::F64 => TensorData::F64(try_zeros(len)?),
                DType::I32 => TensorData::I32(try_zeros(len)?),
                DType::I64 => TensorData::I64(try_zeros(len)?),
                DType::Bool => TensorData::Bool(try_zeros(len)?),
            });
        }
        Ok(match dtype {
            DType::F16 => TensorData::F16(try_filled(len, f16::from_f64(value))?),
            DType::F32 => TensorData::F32(try_filled(len, value as f32)?),
            DType::F64 => TensorData::F64(try_filled(len, value)?),
            DType::I32 => TensorData::I32(try_filled(len, value as i32)?),
            DType::I64 => TensorData::I64(try_filled(len, value as i64)?),
            DType::Bool => TensorData::Bool(try_filled(len, value != 0.0)?),
        })
    }

    /// Converts every element from `f64` values produced by `values` (used by random
    /// initializers). Fails with [`Error::ShapeOverflow`] when the memory cannot be had.
    pub fn from_f64_iter(
        dtype: DType,
        values: impl ExactSizeIterator<Item = f64>,
    ) -> Result<TensorData> {
        Ok(match dtype {
            DType::F16 => TensorData::F16(try_collect(values.map(f16::from_f64))?),
            DType::F32 => TensorData::F32(try_collect(values.map(|v| v as f32))?),
            DType::F64 => TensorData::F64(try_collect(values)?),
            DType::I32 => TensorData::I32(try_collect(values.map(|v| v as i32))?),
            DType::I64 => TensorData::I64(try_collect(values.map(|v| v as i64))?),
            DType::Bool => TensorData::Bool(try_collect(values.map(|v| v != 0.0))?),
        })
    }

    /// The elements as `f64`, whatever the type (bool is 0 or 1).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            TensorData::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::F64(v) => v.clone(),
            TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
        }
    }
}

impl Tensor {
    /// Builds a tensor, checking that `data` holds exactly as many elements as `shape` asks.
    pub fn new(shape: &[usize], data: TensorData) -> Result<Tensor> {
        match checked_numel(shape) {
            Some(n) if n == data.len() => Ok(Tensor {
                shape: shape.into(),
                data,
            }),
            _ => Err(Error::ValueShape {
                shape: shape.to_vec(),
                len: data.len(),
            }),
        }
    }

    /// A tensor of `dtype` filled with `value` (converted as [`TensorData::filled`] does).
    pub fn full(dtype: DType, shape: &[usize], value: f64) -> Result<Tensor> {
        let n = checked_numel(shape).ok_or_else(|| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        let data = TensorData::filled(dtype, n, value).map_err(|_| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        Ok(Tensor {
            shape: shape.into(),
            data,
        })
    }

    /// A tensor of zeros (`false` for bool).
    pub fn zeros(dtype: DType, shape: &[usize]) -> Result<Tensor> {
        Tensor::full(dtype, shape, 0.0)
    }

    /// The shape, `[]` for a scalar.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no element (some axis is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The `f32` elements, mutably, if this is a `float32` tensor.
    pub fn as_f32_mut(&mut self) -> Option<&mut [f32]> {
        match &mut self.data {
            TensorData::F32(v) => Some(v.as_mut_slice()),
            _ => None,
        }
    }

    /// The `f32` elements, if this is a `float32` tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v.as_slice()),
            _ => None,
        }
    }

    /// The typed buffer.
    pub fn data(&self) -> &TensorData {
        &self.data
    }

    /// Consumes the tensor into its shape and buffer.
    pub fn into_parts(self) -> (Shape, TensorData) {
        (self.shape.into_vec(), self.data)
    }

    /// The elements as `f64`, whatever the type.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.to_f64_vec()
    }

    /// A copy, or [`Error::ShapeOverflow`] if the memory cannot be had (`clone` would abort
    /// the process instead).
    pub fn try_clone(&self) -> Result<Tensor> {
        let data = match &self.data {
            TensorData::F16(v) => TensorData::F16(try_map(v, |x| x)?),
            TensorData::F32(v) => TensorData::F32(try_map(v, |x| x)?),
            TensorData::F64(v) => TensorData::F64(try_map(v, |x| x)?),
            TensorData::I32(v) => TensorData::I32(try_map(v, |x| x)?),
            TensorData::I64(v) => TensorData::I64(try_map(v, |x| x)?),
            TensorData::Bool(v) => TensorData::Bool(try_map(v, |x| x)?),
        };
        Ok(Tensor {
            shape: self.shape.clone(),
            data,
        })
    }

    /// Converts to another dtype with `tf.cast`'s semantics: floats round to the nearest
    /// representable value, floats to integers truncate toward zero (saturating), integers
    /// narrow by wrapping (`int64` -> `int32`), and bool is `x != 0`. Integers convert to
    /// integers directly, never through `f64`, so no `int64` loses precision.
    ///
    /// Fails with [`Error::ShapeOverflow`] if the new buffer cannot be allocated (a `bool`
    /// tensor cast to `float64` needs eight times its size); nothing else can fail.
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return self.try_clone();
        }
        // Element by element, straight into the new buffer: no intermediate copy.
        let converted = match (&self.data, dtype) {
            (TensorData::I32(v), DType::I64) => try_map(v, i64::from).map(TensorData::I64),
            (TensorData::I64(v), DType::I32) => try_map(v, |x| x as i32).map(TensorData::I32),
            (TensorData::I64(v), DType::F32) => try_map(v, |x| x as f32).map(TensorData::F32),
            (TensorData::I64(v), DType::Bool) => try_map(v, |x| x != 0).map(TensorData::Bool),
            (TensorData::F16(v), _) => {
                TensorData::from_f64_iter(dtype, v.iter().map(|x| x.to_f64()))
            }
            (TensorData::F32(v), _) => {
                TensorData::from_f64_iter(dtype, v.iter().map(|&x| f64::from(x)))
            }
            (TensorData::F64(v), _) => TensorData::from_f64_iter(dtype, v.iter().copied()),
            (TensorData::I32(v), _) => {
                TensorData::from_f64_iter(dtype, v.iter().map(|&x| f64::from(x)))
            }
            (TensorData::I64(v), _) => {
                TensorData::from_f64_iter(dtype, v.iter().map(|&x| x as f64))
            }
            (TensorData::Bool(v), _) => {
                TensorData::from_f64_iter(dtype, v.iter().map(|&x| f64::from(u8::from(x))))
            }
        };
        let data = converted.map_err(|_| Error::ShapeOverflow {
            shape: self.shape.to_vec(),
        })?;
        Ok(Tensor {
            shape: self.shape.clone(),
            data,
        })
    }

    /// The raw little-endian bytes of the elements (bool as one byte each), as checkpoints
    /// store them. Fails with [`Error::ShapeOverflow`] if the buffer cannot be allocated.
    pub fn to_le_bytes(&self) -> Result<Vec<u8>> {
        fn collect<T, const N: usize>(v: &[T], f: impl Fn(&T) -> [u8; N]) -> Result<Vec<u8>> {
            let mut out = Vec::new();
            out.try_reserve_exact(v.len().saturating_mul(N))
                .map_err(|_| Error::ShapeOverflow {
                    shape: vec![v.len(), N],
                })?;
            out.extend(v.iter().flat_map(f));
            Ok(out)
        }
        match &self.data {
            TensorData::F16(v) => collect(v, |x| x.to_le_bytes()),
            TensorData::F32(v) => collect(v, |x| x.to_le_bytes()),
            TensorData::F64(v) => collect(v, |x| x.to_le_bytes()),
            TensorData::I32(v) => collect(v, |x| x.to_le_bytes()),
            TensorData::I64(v) => collect(v, |x| x.to_le_bytes()),
            TensorData::Bool(v) => collect(v, |&b| [u8::from(b)]),
        }
    }

    /// Decodes little-endian bytes as written by [`Tensor::to_le_bytes`]. Fails, without
    /// allocating more than `bytes` justifies, when the byte count does not match the shape.
    pub fn from_le_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Tensor> {
        let n = checked_numel(shape).ok_or_else(|| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        if n.checked_mul(dtype.size_of()) != Some(bytes.len()) {
            return Err(Error::ValueShape {
                shape: shape.to_vec(),
                len: bytes.len() / dtype.size_of().max(1),
            });
        }
        fn chunks<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Result<Vec<T>> {
            try_collect(
                b.chunks_exact(N)
                    .map(|c| f(c.try_into().expect("chunks_exact yields N bytes"))),
            )
        }
        let data = match dtype {
            DType::F16 => chunks(bytes, f16::from_le_bytes).map(TensorData::F16),
            DType::F32 => chunks(bytes, f32::from_le_bytes).map(TensorData::F32),
            DType::F64 => chunks(bytes, f64::from_le_bytes).map(TensorData::F64),
            DType::I32 => chunks(bytes, i32::from_le_bytes).map(TensorData::I32),
            DType::I64 => chunks(bytes, i64::from_le_bytes).map(TensorData::I64),
            DType::Bool => chunks(bytes, |[b]: [u8; 1]| b != 0).map(TensorData::Bool),
        }
        .map_err(|_| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        Tensor::new(shape, data)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor({}, {}, ",
            self.dtype(),
            format_shape(&self.shape)
        )?;
        fmt::Display::fmt(self, f)?;
        f.write_str(")")
    }
}

/// Prints the values the way numpy does for small arrays: `[1.0]`, `[[1 2] [3 4]]`, `2.5`.
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write_nested<T>(
            f: &mut fmt::Formatter<'_>,
            shape: &[usize],
            data: &[T],
            sep: &str,
            item: &dyn Fn(&T) -> String,
        ) -> fmt::Result {
            match shape {
                [] => f.write_str(&item(&data[0])),
                [_, rest @ ..] => {
                    let stride: usize = rest.iter().product();
                    f.write_str("[")?;
                    let n = shape[0];
                    for i in 0..n {
                        if i > 0 {
                            f.write_str(sep)?;
                        }
                        let chunk = &data[i * stride..(i + 1) * stride];
                        write_nested(f, rest, chunk, sep, item)?;
                    }
                    f.write_str("]")
                }
            }
        }
        fn float(x: f64) -> String {
            if x.is_finite() && x == x.trunc() && x.abs() < 1e16 {
                format!("{x:.1}")
            } else {
                format!("{x}")
            }
        }
        if self.is_empty() {
            return f.write_str("[]");
        }
        let s = &self.shape;
        match &self.data {
            TensorData::F16(v) => write_nested(f, s, v, " ", &|x| float(x.to_f64())),
            TensorData::F32(v) => write_nested(f, s, v, " ", &|x| {
                // Shortest representation that round-trips the f32, like numpy prints float32.
                let r = format!("{x}");
                if r.contains(['.', 'e', 'N', 'i']) {
                    r
                } else {
                    format!("{r}.0")
                }
            }),
            TensorData::F64(v) => write_nested(f, s, v, " ", &|x| float(*x)),
            TensorData::I32(v) => write_nested(f, s, v, " ", &|x| x.to_string()),
            TensorData::I64(v) => write_nested(f, s, v, " ", &|x| x.to_string()),
            TensorData::Bool(v) => {
                write_nested(f, s, v, " ", &|x| if *x { "True" } else { "False" }.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_shapes_like_tf() {
        assert_eq!(format_shape(&[]), "()");
        assert_eq!(format_shape(&[2]), "(2,)");
        assert_eq!(format_shape(&[10, 11]), "(10, 11)");
    }

    #[test]
    fn displays_like_numpy() {
        assert_eq!(Tensor::from(vec![2.1f32]).to_string(), "[2.1]");
        assert_eq!(Tensor::from(vec![1.0f32]).to_string(), "[1.0]");
        assert_eq!(Tensor::from(3i32).to_string(), "3");
    }

    #[test]
    fn rejects_wrong_length_and_overflow() {
        assert!(Tensor::from_f32(&[2, 2], vec![1.0; 3]).is_err());
        assert!(matches!(
            Tensor::zeros(DType::F32, &[usize::MAX, 2]),
            Err(Error::ShapeOverflow { .. })
        ));
    }

    #[test]
    fn bytes_round_trip() {
        let t = Tensor::from_f32(&[2, 3], (0..6).map(|i| i as f32 * 0.5).collect()).unwrap();
        let b = t.to_le_bytes().unwrap();
        assert_eq!(Tensor::from_le_bytes(DType::F32, &[2, 3], &b).unwrap(), t);
        assert!(Tensor::from_le_bytes(DType::F32, &[2, 3], &b[..5]).is_err());
    }
}
