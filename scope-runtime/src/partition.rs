//! TF1's partitioned variables: `tf.get_variable(.., partitioner=..)` makes `name/part_0 ..
//! name/part_{n-1}`, each a slice of one full variable along one axis, saved by
//! `tf.train.Saver` as ONE checkpoint entry under the full name.
//!
//! * [`Partitioner`]: TF's three (`fixed_size_partitioner`, `variable_axis_size_partitioner`,
//!   `min_max_variable_partitioner`), exact in how many parts they ask for.
//! * [`Registry::get_partitioned_variable`](crate::Registry::get_partitioned_variable):
//!   creates or reuses the parts with TF's names, checks and errors; the first `dim % n`
//!   parts get one more row, as TF splits.
//! * [`PartitionedVariable`]: the parts, their [`Slice`]s, and the whole as one tensor.
//!
//! ```
//! use scope::partition::Partitioner;
//! use scope::{Registry, VarSpec};
//!
//! let reg = Registry::with_seed(1);
//! let emb = reg.variable_scope("model").with(|_| {
//!     reg.get_partitioned_variable(
//!         "embedding",
//!         VarSpec::new().shape([10, 4]).partitioner(Partitioner::fixed_size(3, 0)),
//!     )
//! })?;
//! let names: Vec<&str> = emb.parts().iter().map(|p| p.name()).collect();
//! assert_eq!(names, ["model/embedding/part_0", "model/embedding/part_1", "model/embedding/part_2"]);
//! assert_eq!(emb.parts()[0].shape(), [4, 4]); // 10 = 4 + 3 + 3
//! assert_eq!(emb.value()?.shape(), [10, 4]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::{format_shape, Tensor};
use crate::variable::Variable;

/// A box inside a tensor: where it starts and how large it is, per dimension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slice {
    /// The first index along every dimension.
    pub start: Vec<usize>,
    /// The size along every dimension.
    pub shape: Vec<usize>,
}

impl Slice {
    /// The whole of a tensor of shape `shape`.
    pub fn full(shape: &[usize]) -> Slice {
        Slice {
            start: vec![0; shape.len()],
            shape: shape.to_vec(),
        }
    }

    /// The number of elements.
    pub fn numel(&self) -> u128 {
        self.shape.iter().map(|&d| d as u128).product()
    }

    /// Whether every index of the box lies inside a tensor of shape `full`.
    pub fn fits_in(&self, full: &[usize]) -> bool {
        self.start.len() == full.len()
            && self
                .start
                .iter()
                .zip(&self.shape)
                .zip(full)
                .all(|((&s, &n), &d)| s.checked_add(n).is_some_and(|end| end <= d))
    }

    /// The common part of two boxes of the same rank, if they share an element.
    pub fn intersect(&self, other: &Slice) -> Option<Slice> {
        let mut start = Vec::with_capacity(self.start.len());
        let mut shape = Vec::with_capacity(self.start.len());
        for d in 0..self.start.len() {
            let lo = self.start[d].max(other.start[d]);
            let hi = (self.start[d] + self.shape[d]).min(other.start[d] + other.shape[d]);
            if hi <= lo {
                return None;
            }
            start.push(lo);
            shape.push(hi - lo);
        }
        Some(Slice { start, shape })
    }
}

impl fmt::Display for Slice {
    /// TF's slice spec: `start,length` per dimension, joined by `:` (`15,15:0,4`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (d, (s, n)) in self.start.iter().zip(&self.shape).enumerate() {
            if d > 0 {
                f.write_str(":")?;
            }
            write!(f, "{s},{n}")?;
        }
        Ok(())
    }
}

/// How to split a new variable: TF's partitioners. Each asks for a number of parts along one
/// axis; [`Partitioner::partitions`] gives TF's per-axis list.
#[derive(Clone, Debug, PartialEq)]
pub enum Partitioner {
    /// `tf.fixed_size_partitioner(num_shards, axis)`: `min(num_shards, shape[axis])` parts.
    FixedSize {
        /// Parts asked for.
        num_shards: usize,
        /// The axis split.
        axis: usize,
    },
    /// `tf.variable_axis_size_partitioner(max_shard_bytes, axis, max_shards=..)`: as many
    /// parts as keep each at most `max_shard_bytes` (but never less than one slice of the
    /// axis), capped at `max_shards`.
    VariableAxisSize {
        /// The most bytes one part should hold.
        max_shard_bytes: u64,
        /// The axis split.
        axis: usize,
        /// The most parts (`None` or `Some(0)`: no cap, as TF's falsy `max_shards`).
        max_shards: Option<usize>,
    },
    /// `tf.min_max_variable_partitioner(max_partitions, axis, min_slice_size)`: one part per
    /// `min_slice_size` bytes, at least one, at most `max_partitions` and `shape[axis]`.
    MinMax {
        /// The most parts.
        max_partitions: usize,
        /// The axis split.
        axis: usize,
        /// The fewest bytes a part should hold (TF's default is 256 KiB).
        min_slice_size: u64,
    },
}

impl Partitioner {
    /// `tf.fixed_size_partitioner(num_shards, axis)`.
    pub fn fixed_size(num_shards: usize, axis: usize) -> Partitioner {
        Partitioner::FixedSize { num_shards, axis }
    }

    /// `tf.variable_axis_size_partitioner(max_shard_bytes, axis, max_shards=max_shards)`.
    pub fn variable_axis_size(
        max_shard_bytes: u64,
        axis: usize,
        max_shards: Option<usize>,
    ) -> Partitioner {
        Partitioner::VariableAxisSize {
            max_shard_bytes,
            axis,
            max_shards,
        }
    }

    /// `tf.min_max_variable_partitioner(max_partitions, axis, min_slice_size)`.
    pub fn min_max(max_partitions: usize, axis: usize, min_slice_size: u64) -> Partitioner {
        Partitioner::MinMax {
            max_partitions,
            axis,
            min_slice_size,
        }
    }

    /// The axis this partitioner splits.
    pub fn axis(&self) -> usize {
        match *self {
            Partitioner::FixedSize { axis, .. }
            | Partitioner::VariableAxisSize { axis, .. }
            | Partitioner::MinMax { axis, .. } => axis,
        }
    }

    /// What TF's partitioner returns for a variable of `shape` and `dtype`: the number of
    /// parts along every axis, checked as TF's `_call_partitioner` checks it (rank at least
    /// one, no axis with zero parts, at most one axis split). `Err` says what is wrong.
    pub fn partitions(
        &self,
        shape: &[usize],
        dtype: DType,
    ) -> std::result::Result<Vec<usize>, String> {
        if shape.is_empty() {
            return Err(format!(
                "A partitioned Variable must have rank at least 1, shape: {}",
                format_shape(shape)
            ));
        }
        let axis = self.axis();
        let Some(&dim) = shape.get(axis) else {
            return Err(format!(
                "Cannot partition variable along axis {axis} when shape is only {}",
                format_shape(shape)
            ));
        };
        let numel: f64 = shape.iter().map(|&d| d as f64).product();
        let elem = dtype.size_of() as f64;
        let parts = match *self {
            Partitioner::FixedSize { num_shards, .. } => num_shards.min(dim),
            Partitioner::VariableAxisSize {
                max_shard_bytes,
                max_shards,
                ..
            } => {
                if max_shard_bytes < 1 {
                    return Err(format!(
                        "max_shard_bytes must be positive, it is {max_shard_bytes}"
                    ));
                }
                if dim == 0 {
                    return Err(format!(
                        "axis {axis} of shape {} has size 0: it has no slices to divide",
                        format_shape(shape)
                    ));
                }
                let bytes_per_slice = numel / dim as f64 * elem;
                let slices_per_shard = (max_shard_bytes as f64 / bytes_per_slice).floor().max(1.0);
                let shards = (dim as f64 / slices_per_shard).ceil() as usize;
                match max_shards {
                    Some(cap) if cap > 0 => shards.min(cap),
                    _ => shards,
                }
            }
            Partitioner::MinMax {
                max_partitions,
                min_slice_size,
                ..
            } => {
                if min_slice_size < 1 {
                    return Err(format!(
                        "min_slice_size must be positive, it is {min_slice_size}"
                    ));
                }
                let wanted = (numel * elem / min_slice_size as f64).ceil() as usize;
                dim.min(max_partitions).min(wanted).max(1)
            }
        };
        let mut list = vec![1; shape.len()];
        list[axis] = parts;
        if parts < 1 {
            return Err(format!(
                "Partitioner returned zero partitions for some axes: {list:?}"
            ));
        }
        Ok(list)
    }
}

impl fmt::Display for Partitioner {
    /// The TF1 call that makes this partitioner.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partitioner::FixedSize { num_shards, axis } => {
                write!(f, "tf.fixed_size_partitioner({num_shards}, axis={axis})")
            }
            Partitioner::VariableAxisSize {
                max_shard_bytes,
                axis,
                max_shards,
            } => {
                write!(
                    f,
                    "tf.variable_axis_size_partitioner({max_shard_bytes}, axis={axis}"
                )?;
                if let Some(m) = max_shards {
                    write!(f, ", max_shards={m}")?;
                }
                f.write_str(")")
            }
            Partitioner::MinMax {
                max_partitions,
                axis,
                min_slice_size,
            } => write!(
                f,
                "tf.min_max_variable_partitioner({max_partitions}, axis={axis}, \
                 min_slice_size={min_slice_size})"
            ),
        }
    }
}

/// TF's `Variable.SaveSliceInfo`: which box of which full variable a part holds. A saver
/// writes the parts of one full name as one sliced checkpoint entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveSliceInfo {
    /// The full variable's name (`model/embedding`).
    pub full_name: String,
    /// The full variable's shape.
    pub full_shape: Vec<usize>,
    /// The part's box in it.
    pub slice: Slice,
}

/// Copies the box `region` out of `whole` (a new tensor of the box's shape).
pub(crate) fn copy_region(whole: &Tensor, region: &Slice) -> Result<Tensor> {
    copy_regions(whole, std::slice::from_ref(region)).map(|mut out| out.remove(0))
}

/// [`copy_region`] for several boxes, reading `whole`'s bytes once.
pub(crate) fn copy_regions(whole: &Tensor, regions: &[Slice]) -> Result<Vec<Tensor>> {
    if let Some(region) = regions.iter().find(|r| !r.fits_in(whole.shape())) {
        return Err(Error::ShapeMismatch {
            name: format!("the box {region}"),
            specified: region.shape.clone(),
            found: whole.shape().to_vec(),
        });
    }
    let elem = whole.dtype().size_of();
    let src = whole.to_le_bytes()?;
    let full = Slice::full(whole.shape());
    regions
        .iter()
        .map(|region| {
            let mut bytes = vec![0u8; region.numel() as usize * elem];
            crate::checkpoint::copy_overlap(&src, &full, &mut bytes, region, elem);
            Tensor::from_le_bytes(whole.dtype(), &region.shape, &bytes)
        })
        .collect()
}

/// TF's `_iter_slices`: `num` boxes of `full` along `axis`, the first `full[axis] % num` one
/// row longer.
pub(crate) fn split(full: &[usize], num: usize, axis: usize) -> Vec<Slice> {
    let dim = full[axis];
    let (base, excess) = (dim / num, dim % num);
    let mut offset = 0;
    (0..num)
        .map(|i| {
            let mut slice = Slice::full(full);
            slice.shape[axis] = base + usize::from(i < excess);
            slice.start[axis] = offset;
            offset += slice.shape[axis];
            slice
        })
        .collect()
}

/// The axis a partition list splits and into how many parts (TF's
/// `_get_slice_dim_and_num_slices`: axis 0 and one part when none is split).
pub(crate) fn axis_and_parts(partitions: &[usize]) -> (usize, usize) {
    partitions
        .iter()
        .enumerate()
        .find(|(_, &p)| p > 1)
        .map_or((0, 1), |(axis, &p)| (axis, p))
}

/// A variable made of parts (TF's `PartitionedVariable`): `name/part_0 ..`, each an ordinary
/// [`Variable`] in the registry's collections, together one variable of [`shape`](Self::shape).
#[derive(Clone)]
pub struct PartitionedVariable {
    name: String,
    shape: Vec<usize>,
    dtype: DType,
    partitions: Vec<usize>,
    parts: Vec<Variable>,
}

impl PartitionedVariable {
    pub(crate) fn new(
        name: String,
        shape: Vec<usize>,
        dtype: DType,
        partitions: Vec<usize>,
        parts: Vec<Variable>,
    ) -> PartitionedVariable {
        PartitionedVariable {
            name,
            shape,
            dtype,
            partitions,
            parts,
        }
    }

    /// The full name (`model/embedding`), the key it is saved under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The dtype of every part.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// TF's `_get_partitions()`: the number of parts along every axis (`[3, 1]`).
    pub fn partitions(&self) -> &[usize] {
        &self.partitions
    }

    /// The parts, in order (`part_0` first).
    pub fn parts(&self) -> &[Variable] {
        &self.parts
    }

    /// Each part's box in the full variable, in part order.
    pub fn slices(&self) -> Vec<Slice> {
        let (axis, num) = axis_and_parts(&self.partitions);
        split(&self.shape, num, axis)
    }

    /// The whole variable as one tensor: the parts concatenated (a copy).
    pub fn value(&self) -> Result<Tensor> {
        let elem = self.dtype.size_of();
        let full = Slice::full(&self.shape);
        let mut bytes = vec![0u8; self.parts.iter().map(|p| p.numel() * elem).sum()];
        for (part, slice) in self.parts.iter().zip(self.slices()) {
            let src = part.read().to_le_bytes()?;
            crate::checkpoint::copy_overlap(&src, &slice, &mut bytes, &full, elem);
        }
        Tensor::from_le_bytes(self.dtype, &self.shape, &bytes)
    }

    /// Assigns a whole value: each part gets its slice. Checked first, so a wrong shape or
    /// dtype changes nothing.
    pub fn assign(&self, value: &Tensor) -> Result<()> {
        if value.shape() != self.shape.as_slice() || value.dtype() != self.dtype {
            return Err(Error::ShapeMismatch {
                name: self.name.clone(),
                specified: value.shape().to_vec(),
                found: self.shape.clone(),
            });
        }
        let values = copy_regions(value, &self.slices())?;
        for (part, v) in self.parts.iter().zip(values) {
            part.assign(v)?;
        }
        Ok(())
    }

    /// Whether both hold the very same parts (shared storage).
    pub fn ptr_eq(&self, other: &PartitionedVariable) -> bool {
        self.parts.len() == other.parts.len()
            && self
                .parts
                .iter()
                .zip(&other.parts)
                .all(|(a, b)| a.ptr_eq(b))
    }
}

impl fmt::Debug for PartitionedVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionedVariable")
            .field("name", &self.name)
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .field("partitions", &self.partitions)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_gives_the_first_parts_one_more_row() {
        let p = Partitioner::fixed_size(4, 0);
        assert_eq!(p.partitions(&[10, 3], DType::F32).unwrap(), [4, 1]);
        let rows: Vec<usize> = split(&[10, 3], 4, 0).iter().map(|s| s.shape[0]).collect();
        assert_eq!(rows, [3, 3, 2, 2]);
        // Never more parts than rows.
        assert_eq!(p.partitions(&[2, 3], DType::F32).unwrap(), [2, 1]);
        assert!(p
            .partitions(&[0, 3], DType::F32)
            .unwrap_err()
            .contains("zero partitions"));
        assert!(p
            .partitions(&[], DType::F32)
            .unwrap_err()
            .contains("rank at least 1"));
        let cols = Partitioner::fixed_size(3, 1);
        assert!(cols
            .partitions(&[5], DType::F32)
            .unwrap_err()
            .contains("axis 1"));
    }

    #[test]
    fn assigning_the_whole_gives_each_part_its_slice() {
        let reg = crate::Registry::new();
        let spec = crate::VarSpec::new()
            .shape([5, 2])
            .partitioner(Partitioner::fixed_size(2, 0));
        let pv = reg.get_partitioned_variable("e", spec).unwrap();
        let whole = Tensor::from_f32(&[5, 2], (0..10).map(|x| x as f32).collect()).unwrap();
        pv.assign(&whole).unwrap();
        assert_eq!(pv.parts()[1].value().to_f64_vec(), [6.0, 7.0, 8.0, 9.0]);
        assert_eq!(pv.value().unwrap().to_f64_vec(), whole.to_f64_vec());
        let wrong = Tensor::zeros(DType::F32, &[4, 2]).unwrap();
        assert!(pv.assign(&wrong).is_err());
        assert_eq!(pv.value().unwrap().to_f64_vec(), whole.to_f64_vec());
    }

    #[test]
    fn size_partitioners_count_bytes_as_tf() {
        // 30 rows of 4 float32 (16 bytes a row): 48 bytes hold 3 rows, so 10 parts.
        let p = Partitioner::variable_axis_size(48, 0, None);
        assert_eq!(p.partitions(&[30, 4], DType::F32).unwrap(), [10, 1]);
        let capped = Partitioner::variable_axis_size(48, 0, Some(4));
        assert_eq!(capped.partitions(&[30, 4], DType::F32).unwrap(), [4, 1]);
        // A slice larger than a shard still makes one slice per part.
        let tiny = Partitioner::variable_axis_size(1, 0, None);
        assert_eq!(tiny.partitions(&[3, 4], DType::F64).unwrap(), [3, 1]);
        // 480 bytes at 100 bytes a part: ceil(4.8) = 5, under both caps.
        let mm = Partitioner::min_max(8, 0, 100);
        assert_eq!(mm.partitions(&[30, 4], DType::F32).unwrap(), [5, 1]);
        assert_eq!(
            Partitioner::min_max(2, 0, 100)
                .partitions(&[30, 4], DType::F32)
                .unwrap(),
            [2, 1]
        );
        assert_eq!(
            Partitioner::min_max(8, 0, 1 << 20)
                .partitions(&[30, 4], DType::F32)
                .unwrap(),
            [1, 1]
        );
    }
}
