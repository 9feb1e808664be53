//! A checkpoint seen through a mapping: its keys renamed, its tensors transposed or cast on
//! read.

use super::cast::{cast, CastMode};
use super::{Mapping, MappingReport};
use crate::checkpoint::{CheckpointError, CheckpointSource, Result, TensorInfo};
use crate::dtype::DType;
use crate::tensor::Tensor;

/// Where a mapped tensor comes from and what happens to it on the way.
#[derive(Clone, Debug)]
struct Origin {
    key: String,
    transpose: bool,
    cast: Option<DType>,
    mode: CastMode,
}

/// A [`CheckpointSource`] whose keys are another source's keys mapped by a [`Mapping`]:
/// restore from it as from the original, and each tensor is read, transposed and cast as the
/// mapping says. Made by [`Mapping::view`], which checks the mapping against every key
/// first; nothing is read until [`CheckpointSource::read_tensor`].
#[derive(Clone, Debug)]
pub struct MappedSource<S> {
    inner: S,
    location: String,
    tensors: Vec<TensorInfo>,
    origins: Vec<Origin>,
    report: MappingReport,
}

impl<S> MappedSource<S> {
    /// What the mapping did to each key (the "before and after" table).
    pub fn report(&self) -> &MappingReport {
        &self.report
    }

    /// The source underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The source key a mapped key is read from.
    pub fn source_key(&self, name: &str) -> Option<&str> {
        let i = self
            .tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()?;
        Some(&self.origins[i].key)
    }
}

impl Mapping {
    /// `source` with its keys mapped. Fails with [`CheckpointError::Mapping`] (listing every
    /// problem) unless the mapping applies cleanly to all of the source's keys.
    ///
    /// ```
    /// use scope::checkpoint::{to_safetensors_bytes, Mapping, Restore, SafetensorsCheckpoint};
    /// use scope::{Initializer, Registry, VarSpec};
    ///
    /// // A checkpoint with Hugging Face style names and a [out, in] weight...
    /// let hf = Registry::new();
    /// hf.get_variable("dense.weight", VarSpec::new().shape([3, 2]).initializer(Initializer::Ones))?;
    /// let ckpt = SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&hf, &Default::default())?)?;
    ///
    /// // ...restored into a TF-named [in, out] kernel.
    /// let reg = Registry::new();
    /// let k = reg.variable_scope("dense").with(|_| reg.get_variable("kernel", VarSpec::new().shape([2, 3])))?;
    /// let m = Mapping::new("hf-to-tf").rename(r"(\w+)\.weight", "$1/kernel")?.transpose(r".*\.weight")?;
    /// Restore::new(&reg).restore(&m.view(&ckpt)?)?;
    /// assert_eq!(k.value().to_f64_vec(), vec![1.0; 6]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn view<S: CheckpointSource>(&self, source: S) -> Result<MappedSource<S>> {
        let report = self.apply(source.tensors())?;
        let mut mapped: Vec<(TensorInfo, Origin)> = report
            .entries
            .iter()
            .filter_map(|e| {
                let target = e.target.clone()?;
                Some((
                    target,
                    Origin {
                        key: e.source.name.clone(),
                        transpose: e.transposed,
                        cast: e.cast,
                        mode: self.cast_mode,
                    },
                ))
            })
            .collect();
        mapped.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let (tensors, origins) = mapped.into_iter().unzip();
        Ok(MappedSource {
            location: format!("{} (mapped by `{}`)", source.location(), self.name),
            inner: source,
            tensors,
            origins,
            report,
        })
    }
}

impl<S: CheckpointSource> CheckpointSource for MappedSource<S> {
    fn location(&self) -> &str {
        &self.location
    }

    fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        let i = crate::checkpoint::find_tensor(&self.location, &self.tensors, name)?;
        let origin = &self.origins[i];
        let value = self.inner.read_tensor(&origin.key)?;
        transform(
            value,
            origin.transpose,
            origin.cast.map(|to| (to, origin.mode)),
            self.inner.location(),
            &origin.key,
        )
    }
}

/// Applies a mapping's transpose and cast (to a dtype, in a mode) to `value`, read from
/// `file` under `name`.
pub(crate) fn transform(
    value: Tensor,
    transpose: bool,
    cast_to: Option<(DType, CastMode)>,
    file: &str,
    name: &str,
) -> Result<Tensor> {
    let out_of_memory = |value: &Tensor| CheckpointError::OutOfMemory {
        file: file.to_owned(),
        name: name.to_owned(),
        bytes: (value.len() * value.dtype().size_of()) as u64,
    };
    let mut value = value;
    if transpose {
        if value.shape().len() != 2 {
            return Err(CheckpointError::CorruptTensor {
                file: file.to_owned(),
                name: name.to_owned(),
                reason: format!(
                    "it has shape {} where a 2-D tensor was listed",
                    crate::tensor::format_shape(value.shape())
                ),
            });
        }
        value = transpose_2d(&value).map_err(|_| out_of_memory(&value))?;
    }
    if let Some((to, mode)) = cast_to {
        value = match cast(&value, to, mode) {
            Ok(cast) => cast.map_err(|_| out_of_memory(&value))?,
            Err(refused) => {
                return Err(CheckpointError::Cast {
                    file: file.to_owned(),
                    name: name.to_owned(),
                    index: element_index(value.shape(), refused.index).into(),
                    value: refused.value.into(),
                    reason: refused.reason,
                })
            }
        };
    }
    Ok(value)
}

/// The multi-dimensional index of flat (row-major) index `flat` in `shape`: `[1, 2]`.
fn element_index(shape: &[usize], mut flat: usize) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[i] = flat % d;
            flat /= d;
        }
    }
    index
}

/// `[rows, cols]` to `[cols, rows]`, for any dtype; fails only if memory runs out.
fn transpose_2d(t: &Tensor) -> crate::Result<Tensor> {
    let (rows, cols) = match *t.shape() {
        [rows, cols] => (rows, cols),
        _ => (1, t.len()),
    };
    let size = t.dtype().size_of();
    let bytes = t.to_le_bytes()?;
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len())
        .map_err(|_| crate::Error::ShapeOverflow {
            shape: t.shape().to_vec(),
        })?;
    out.resize(bytes.len(), 0u8);
    for r in 0..rows {
        for c in 0..cols {
            let from = (r * cols + c) * size;
            let to = (c * rows + r) * size;
            out[to..to + size].copy_from_slice(&bytes[from..from + size]);
        }
    }
    Tensor::from_le_bytes(t.dtype(), &[cols, rows], &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_any_dtype() {
        let t = Tensor::from_i64(&[2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        let u = transpose_2d(&t).unwrap();
        assert_eq!(u.shape(), &[3, 2]);
        assert_eq!(u.to_f64_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(transpose_2d(&u).unwrap(), t);
        let one_d = Tensor::from_i64(&[2], vec![1, 2]).unwrap();
        let err = transform(one_d, true, None, "f", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("shape (2,) where a 2-D tensor"), "{err}");
    }
}
