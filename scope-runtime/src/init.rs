//! Initializers: how a variable's first value is made (TF's `*_initializer`s).

use rand::rngs::Xoshiro256PlusPlus;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::{checked_numel, Tensor, TensorData};

/// How a variable gets its first value.
///
/// All but [`Initializer::Value`] are "callable" initializers in TF's sense: they need the
/// variable's shape. `Value` carries its own shape and dtype, and must not be combined with
/// an explicit shape (TF: "If initializer is a constant, do not specify shape.").
///
/// Random initializers draw from a generator seeded by the registry seed and the variable's
/// full name, so a registry built with [`crate::Registry::with_seed`] is reproducible. The
/// generator is xoshiro256++ (a fixed, documented algorithm: the values do not change with
/// the `rand` version), not a cryptographic one: initial weights need speed, not secrecy.
#[derive(Clone, Debug, PartialEq)]
pub enum Initializer {
    /// Every element is the float `x` (`tf.constant_initializer(x)` with a Python float).
    /// Like TF, it refuses integer and bool variables: use [`Initializer::ConstantInt`].
    Constant(f64),
    /// Every element is the integer `x` (`tf.constant_initializer(x)` with a Python int);
    /// fits integer and float variables.
    ConstantInt(i64),
    /// Every element is `x` (`tf.constant_initializer(x)` with a Python bool); fits every
    /// dtype (`1`/`0` for numbers).
    ConstantBool(bool),
    /// All zeros (`tf.zeros_initializer()`); `false` for bool.
    Zeros,
    /// All ones (`tf.ones_initializer()`).
    Ones,
    /// A literal value whose shape and dtype become the variable's (a non-callable TF
    /// initializer, such as passing `[1.0, 2.0]` directly).
    Value(Tensor),
    /// Normal samples (`tf.random_normal_initializer(mean, stddev)`).
    RandomNormal {
        /// Mean of the distribution.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Normal samples redrawn until within two standard deviations
    /// (`tf.truncated_normal_initializer(mean, stddev)`).
    TruncatedNormal {
        /// Mean of the distribution.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Uniform samples in `[minval, maxval)` (`tf.random_uniform_initializer`).
    RandomUniform {
        /// Lower bound (inclusive).
        minval: f64,
        /// Upper bound (exclusive).
        maxval: f64,
    },
    /// Glorot (Xavier) uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`; TF's
    /// default for floating-point variables.
    GlorotUniform,
}

impl Initializer {
    /// `tf.random_normal_initializer(mean, stddev)`.
    pub fn random_normal(mean: f64, stddev: f64) -> Initializer {
        Initializer::RandomNormal { mean, stddev }
    }

    /// `tf.truncated_normal_initializer(mean, stddev)`.
    pub fn truncated_normal(mean: f64, stddev: f64) -> Initializer {
        Initializer::TruncatedNormal { mean, stddev }
    }

    /// `tf.random_uniform_initializer(minval, maxval)`.
    pub fn random_uniform(minval: f64, maxval: f64) -> Initializer {
        Initializer::RandomUniform { minval, maxval }
    }

    /// A literal value (see [`Initializer::Value`]).
    pub fn value(value: impl Into<Tensor>) -> Initializer {
        Initializer::Value(value.into())
    }

    /// TF's default for a variable with no initializer anywhere: glorot-uniform for floats,
    /// zeros for integers and bool.
    pub fn default_for(dtype: DType) -> Initializer {
        if dtype.is_floating() {
            Initializer::GlorotUniform
        } else {
            Initializer::Zeros
        }
    }

    /// Whether this initializer carries its own value (and so its own shape and dtype).
    pub fn is_value(&self) -> bool {
        matches!(self, Initializer::Value(_))
    }

    /// The name used in manifests and listings (`"glorot_uniform"`, `"constant(0.1)"`, ...).
    pub fn describe(&self) -> String {
        match self {
            Initializer::Constant(v) => format!("constant({v:?})"),
            Initializer::ConstantInt(v) => format!("constant({v})"),
            Initializer::ConstantBool(v) => format!("constant({v})"),
            Initializer::Zeros => "zeros".into(),
            Initializer::Ones => "ones".into(),
            Initializer::Value(t) => format!("value({:?})", t.shape()),
            Initializer::RandomNormal { mean, stddev } => {
                format!("random_normal({mean}, {stddev})")
            }
            Initializer::TruncatedNormal { mean, stddev } => {
                format!("truncated_normal({mean}, {stddev})")
            }
            Initializer::RandomUniform { minval, maxval } => {
                format!("random_uniform({minval}, {maxval})")
            }
            Initializer::GlorotUniform => "glorot_uniform".into(),
        }
    }

    /// Checks that this initializer can fill a variable of `dtype`, as TF's conversion of
    /// the initializer's Python value does: a float for an integer or bool variable, and an
    /// int for a bool one, are [`Error::InitializerType`].
    pub fn check_dtype(&self, name: &str, dtype: DType) -> Result<()> {
        let refuse = |value: String, kind: &'static str| {
            Err(Error::InitializerType {
                name: name.to_owned(),
                dtype,
                value,
                kind,
            })
        };
        let float = |v: f64| format!("{v:?}");
        match self {
            Initializer::Constant(v) if !dtype.is_floating() => refuse(float(*v), "float"),
            Initializer::ConstantInt(v) if dtype == DType::Bool => refuse(v.to_string(), "int"),
            Initializer::RandomNormal { mean: v, .. }
            | Initializer::TruncatedNormal { mean: v, .. }
            | Initializer::RandomUniform { minval: v, .. }
                if !dtype.is_floating() =>
            {
                refuse(float(*v), "float")
            }
            Initializer::GlorotUniform if !dtype.is_floating() => refuse("0.0".into(), "float"),
            _ => Ok(()),
        }
    }

    /// Makes the initial value of a variable of `shape` and `dtype`. `seed` selects the random
    /// stream (the registry derives it from its own seed and the variable's name).
    ///
    /// For [`Initializer::Value`] the value is returned as is (its shape and dtype win).
    pub fn initialize(&self, shape: &[usize], dtype: DType, seed: u64) -> Result<Tensor> {
        self.initialize_part(shape, shape, dtype, seed)
    }

    /// [`Initializer::initialize`] for one part of a partitioned variable of `full_shape`:
    /// scaling initializers count their fans on the full shape, as TF's `partition_info`
    /// makes them.
    pub(crate) fn initialize_part(
        &self,
        shape: &[usize],
        full_shape: &[usize],
        dtype: DType,
        seed: u64,
    ) -> Result<Tensor> {
        let n = checked_numel(shape).ok_or_else(|| Error::ShapeOverflow {
            shape: shape.to_vec(),
        })?;
        // Seeded only for the random initializers: constant ones are on the hot path.
        let rng = || Xoshiro256PlusPlus::seed_from_u64(seed);
        let data = match self {
            Initializer::Value(t) => return t.try_clone(),
            Initializer::Constant(v) => TensorData::filled(dtype, n, *v)?,
            Initializer::ConstantInt(v) => TensorData::filled(dtype, n, *v as f64)?,
            Initializer::ConstantBool(v) => TensorData::filled(dtype, n, f64::from(u8::from(*v)))?,
            Initializer::Zeros => TensorData::filled(dtype, n, 0.0)?,
            Initializer::Ones => TensorData::filled(dtype, n, 1.0)?,
            Initializer::RandomNormal { mean, stddev } => {
                let d = normal(*mean, *stddev)?;
                let mut rng = rng();
                TensorData::from_f64_iter(dtype, (0..n).map(|_| d.sample(&mut rng)))?
            }
            Initializer::TruncatedNormal { mean, stddev } => {
                // Checks the caller's parameters; samples are drawn standard and scaled.
                normal(*mean, *stddev)?;
                let d = normal(0.0, 1.0)?;
                let mut rng = rng();
                let values = (0..n).map(|_| loop {
                    let x: f64 = d.sample(&mut rng);
                    if x.abs() <= 2.0 {
                        break mean + stddev * x;
                    }
                });
                TensorData::from_f64_iter(dtype, values)?
            }
            Initializer::RandomUniform { minval, maxval } => {
                let d = uniform(*minval, *maxval)?;
                let mut rng = rng();
                TensorData::from_f64_iter(dtype, (0..n).map(|_| d.sample(&mut rng)))?
            }
            Initializer::GlorotUniform => {
                let (fan_in, fan_out) = fans(full_shape);
                let limit = (6.0 / (fan_in + fan_out).max(1.0)).sqrt();
                let d = uniform(-limit, limit)?;
                let mut rng = rng();
                TensorData::from_f64_iter(dtype, (0..n).map(|_| d.sample(&mut rng)))?
            }
        };
        Tensor::new(shape, data)
    }
}

fn normal(mean: f64, stddev: f64) -> Result<Normal<f64>> {
    let invalid = || Error::InvalidInitializer {
        reason: format!(
            "a normal distribution needs a finite mean and a finite, non-negative stddev, got \
             mean {mean} and stddev {stddev}"
        ),
    };
    if !(mean.is_finite() && stddev.is_finite() && stddev >= 0.0) {
        return Err(invalid());
    }
    Normal::new(mean, stddev).map_err(|_| invalid())
}

fn uniform(lo: f64, hi: f64) -> Result<Uniform<f64>> {
    if lo == hi {
        // A degenerate range: every sample is `lo`, as TF gives.
        return Uniform::new_inclusive(lo, hi).map_err(|_| Error::InvalidInitializer {
            reason: format!("uniform range [{lo}, {hi}) is not finite"),
        });
    }
    Uniform::new(lo, hi).map_err(|_| Error::InvalidInitializer {
        reason: format!("uniform range [{lo}, {hi}) is empty or not finite"),
    })
}

/// TF's `_compute_fans`: fan-in and fan-out of a weight shape.
pub(crate) fn fans(shape: &[usize]) -> (f64, f64) {
    match shape {
        [] => (1.0, 1.0),
        [d] => (*d as f64, *d as f64),
        [i, o] => (*i as f64, *o as f64),
        [rest @ .., i, o] => {
            let receptive: f64 = rest.iter().map(|&d| d as f64).product();
            (*i as f64 * receptive, *o as f64 * receptive)
        }
    }
}

/// Mixes a registry seed with a variable name into a stream seed (FNV-1a, then SplitMix64),
/// stable across runs and platforms.
pub(crate) fn stream_seed(registry_seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h ^ registry_seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glorot_stays_within_limit_and_is_reproducible() {
        let a = Initializer::GlorotUniform
            .initialize(&[22, 44], DType::F32, 7)
            .unwrap();
        let b = Initializer::GlorotUniform
            .initialize(&[22, 44], DType::F32, 7)
            .unwrap();
        assert_eq!(a, b);
        let limit = (6.0f64 / 66.0).sqrt();
        assert!(a.to_f64_vec().iter().all(|x| x.abs() <= limit));
    }

    #[test]
    fn truncated_normal_is_truncated() {
        let t = Initializer::truncated_normal(1.0, 0.5)
            .initialize(&[1000], DType::F64, 3)
            .unwrap();
        assert!(t
            .to_f64_vec()
            .iter()
            .all(|x| (x - 1.0).abs() <= 1.0 + 1e-12));
    }

    #[test]
    fn constant_casts_to_dtype() {
        let t = Initializer::ConstantInt(3)
            .initialize(&[2], DType::F32, 0)
            .unwrap();
        assert_eq!(t.to_f64_vec(), vec![3.0, 3.0]);
        assert!(Initializer::Constant(2.0)
            .check_dtype("i", DType::I32)
            .is_err());
        assert!(Initializer::ConstantInt(1)
            .check_dtype("b", DType::Bool)
            .is_err());
        assert!(Initializer::ConstantInt(1)
            .check_dtype("i", DType::I64)
            .is_ok());
    }

    #[test]
    fn huge_shapes_are_errors_not_aborts() {
        let huge = [1usize << 40];
        assert!(Initializer::Zeros.initialize(&huge, DType::F32, 0).is_err());
        assert!(Tensor::zeros(DType::F64, &[usize::MAX / 4]).is_err());
        assert!(Initializer::random_normal(0.0, 1.0)
            .initialize(&huge, DType::F32, 0)
            .is_err());
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(Initializer::truncated_normal(f64::NAN, -1.0)
            .initialize(&[2], DType::F32, 0)
            .is_err());
        assert!(Initializer::random_normal(0.0, -1.0)
            .initialize(&[2], DType::F32, 0)
            .is_err());
        assert!(Initializer::random_uniform(1.0, 0.0)
            .initialize(&[2], DType::F32, 0)
            .is_err());
    }
}
