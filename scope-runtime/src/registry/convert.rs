//! `tf.Variable(value, dtype=..)`'s conversion of the initial value, as Python converts it.

use super::name_variable;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorData};

/// The first element of `value`, printed as Python prints it (`0.5`, `1`, `True`); `0.0`
/// or `0` for an empty one.
fn first_element(value: &Tensor) -> String {
    match value.data() {
        TensorData::F16(v) => v.first().map(|x| format!("{:?}", f64::from(x.to_f32()))),
        TensorData::F32(v) => v.first().map(|x| format!("{:?}", f64::from(*x))),
        TensorData::F64(v) => v.first().map(|x| format!("{x:?}")),
        TensorData::I32(v) => v.first().map(i32::to_string),
        TensorData::I64(v) => v.first().map(i64::to_string),
        TensorData::Bool(v) => v
            .first()
            .map(|&b| if b { "True" } else { "False" }.to_owned()),
    }
    .unwrap_or_else(|| {
        if value.dtype().is_floating() {
            "0.0"
        } else {
            "0"
        }
        .to_owned()
    })
}

/// Converts a `tf.Variable`'s initial value to an explicit dtype as TF converts the Python
/// value: floats refuse integer and bool types, integers refuse bool, and an integer that
/// does not fit `int32` is refused with [`Error::ValueOutOfRange`]; bools and widening
/// conversions pass. Integers never go through `f64`.
///
/// Takes the value, so keeping its dtype copies nothing; a conversion that cannot get its
/// buffer is [`Error::VariableShapeOverflow`], never an abort.
pub(super) fn convert_value(value: Tensor, dtype: DType, name: &str) -> Result<Tensor> {
    let from = value.dtype();
    if from == dtype {
        return Ok(value);
    }
    let refused = (from.is_floating() && !dtype.is_floating())
        || (matches!(from, DType::I32 | DType::I64) && dtype == DType::Bool);
    if refused {
        let kind = if from.is_floating() { "float" } else { "int" };
        return Err(Error::InitializerType {
            name: name.to_owned(),
            dtype,
            value: first_element(&value),
            kind,
        });
    }
    if let (TensorData::I64(v), DType::I32) = (value.data(), dtype) {
        if let Some(x) = v.iter().find(|&&x| i32::try_from(x).is_err()) {
            return Err(Error::ValueOutOfRange {
                name: name.to_owned(),
                dtype,
                value: x.to_string(),
            });
        }
    }
    value.cast(dtype).map_err(|e| name_variable(e, name))
}
