//! Element types of variables, with TensorFlow's names.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The element type of a variable, named as TensorFlow names it (`float32`, `int64`, ...).
///
/// `DType::F32` is TensorFlow's default for `get_variable` and for scope defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// IEEE half precision (`tf.float16`), stored as [`half::f16`].
    F16,
    /// `tf.float32`, the default.
    #[default]
    F32,
    /// `tf.float64`.
    F64,
    /// `tf.int32`.
    I32,
    /// `tf.int64`.
    I64,
    /// `tf.bool`.
    Bool,
}

impl DType {
    /// Every dtype, in declaration order.
    pub const ALL: [DType; 6] = [
        DType::F16,
        DType::F32,
        DType::F64,
        DType::I32,
        DType::I64,
        DType::Bool,
    ];

    /// TensorFlow's name for the type, e.g. `"float32"`.
    pub const fn name(self) -> &'static str {
        match self {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    /// Whether this is a floating-point type (the types whose default initializer is
    /// glorot-uniform).
    pub const fn is_floating(self) -> bool {
        matches!(self, DType::F16 | DType::F32 | DType::F64)
    }

    /// Size of one element in bytes.
    pub const fn size_of(self) -> usize {
        match self {
            DType::F16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::UnknownDtype { name: s.to_owned() })
    }
}
