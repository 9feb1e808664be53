//! Writing TF1 V2 checkpoints (TensorBundle): `<prefix>.index` and
//! `<prefix>.data-00000-of-00001`, as `tf.train.Saver` writes them, so that a model trained
//! here goes back to TF1 and TF2 code (`tf.train.load_checkpoint`, `Saver.restore`).
//!
//! For the same tensors the files equal TF's byte for byte: entries sorted by name, data in
//! that order (a partitioned variable's slices in the order given), the index built as TF's
//! `TableBuilder` builds it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use prost::Message;

use super::atomic::{SaveLock, Staged};
use super::sstable::{mask_crc, TableBuilder};
use super::tf_bundle::{tf_dtype_code, BundleEntryProto, BundleHeaderProto, TensorShapeProto};
use super::tf_slice;
use super::{CheckpointError, Result, TfCheckpoint, VariableSet};
use crate::dtype::DType;
use crate::partition::Slice;
use crate::tensor::{format_shape, Tensor};
use crate::variable::Variable;

/// Saves variables as a TF1 checkpoint at `prefix` (`<prefix>.index`,
/// `<prefix>.data-00000-of-00001`), as `tf.train.Saver().save(sess, prefix)` does: see
/// [`TfCheckpointWriter::add_variables`]. Returns the paths written.
///
/// ```
/// use scope::checkpoint::{save_tf_checkpoint, CheckpointSource, TfCheckpoint};
/// use scope::partition::Partitioner;
/// use scope::{Registry, VarSpec};
///
/// let reg = Registry::with_seed(3);
/// let spec = VarSpec::new().shape([5, 2]).partitioner(Partitioner::fixed_size(2, 0));
/// let emb = reg.get_partitioned_variable("emb", spec)?;
/// let dir = std::env::temp_dir().join(format!("scope-doc-tfsave-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// save_tf_checkpoint(dir.join("model.ckpt"), &reg)?;
///
/// let ckpt = TfCheckpoint::open(dir.join("model.ckpt"))?;
/// assert_eq!(ckpt.keys(), ["emb"]); // one entry, full shape, two slices
/// assert_eq!(ckpt.slice_count("emb"), Some(2));
/// assert_eq!(ckpt.read_tensor("emb")?.to_f64_vec(), emb.value()?.to_f64_vec());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_tf_checkpoint(
    prefix: impl AsRef<Path>,
    vars: &(impl VariableSet + ?Sized),
) -> Result<Vec<PathBuf>> {
    TfCheckpointWriter::new().add_variables(vars)?.write(prefix)
}

/// Where an entry's values come from when the files are written.
#[derive(Clone, Debug)]
enum Source {
    Tensor(Tensor),
    /// Read when written, so that saving a registry holds one tensor's bytes at a time.
    Variable(Variable),
}

impl Source {
    fn shape(&self) -> Vec<usize> {
        match self {
            Source::Tensor(t) => t.shape().to_vec(),
            Source::Variable(v) => v.shape().to_vec(),
        }
    }

    fn dtype(&self) -> DType {
        match self {
            Source::Tensor(t) => t.dtype(),
            Source::Variable(v) => v.dtype(),
        }
    }

    fn bytes(&self) -> crate::Result<Vec<u8>> {
        match self {
            Source::Tensor(t) => t.to_le_bytes(),
            Source::Variable(v) => v.read().to_le_bytes(),
        }
    }
}

/// One entry under a full name.
#[derive(Clone, Debug)]
enum Entry {
    Whole(Source),
    Sliced {
        dtype: DType,
        shape: Vec<usize>,
        parts: Vec<(Slice, Source)>,
    },
}

/// Builds a TF1 checkpoint from tensors, variables and slices of partitioned variables, then
/// writes it ([`TfCheckpointWriter::write`]) or returns its bytes.
///
/// ```
/// use scope::checkpoint::{CheckpointSource, TfCheckpoint, TfCheckpointWriter};
/// use scope::partition::Slice;
/// use scope::Tensor;
///
/// let mut w = TfCheckpointWriter::new();
/// w.add("global_step", Tensor::from(7i64))?;
/// // A [4, 2] variable saved in two parts of two rows, as `fixed_size_partitioner(2)` makes.
/// let part = |row: usize| Slice { start: vec![row, 0], shape: vec![2, 2] };
/// w.add_slice("emb", &[4, 2], &part(0), Tensor::from_f32(&[2, 2], vec![1.0; 4])?)?;
/// w.add_slice("emb", &[4, 2], &part(2), Tensor::from_f32(&[2, 2], vec![2.0; 4])?)?;
/// let (index, data) = w.to_bytes()?;
///
/// let ckpt = TfCheckpoint::from_bytes(&index, vec![data])?;
/// assert_eq!(ckpt.slice_count("emb"), Some(2));
/// assert_eq!(ckpt.read_tensor("emb")?.to_f64_vec(), [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TfCheckpointWriter {
    entries: BTreeMap<String, Entry>,
}

impl TfCheckpointWriter {
    /// An empty checkpoint.
    pub fn new() -> TfCheckpointWriter {
        TfCheckpointWriter::default()
    }

    /// Adds a tensor saved whole under `name`.
    pub fn add(&mut self, name: &str, tensor: Tensor) -> Result<&mut Self> {
        self.add_whole(name, Source::Tensor(tensor))
    }

    /// Adds a variable saved whole under `name`; its value is read when the files are
    /// written.
    pub fn add_variable(&mut self, name: &str, variable: &Variable) -> Result<&mut Self> {
        self.add_whole(name, Source::Variable(variable.clone()))
    }

    /// Adds one part of a partitioned variable: the box `slice` of the tensor `name` of
    /// shape `full_shape`. The parts of one name must share a dtype and, by the time the
    /// checkpoint is written, tile the full shape exactly.
    pub fn add_slice(
        &mut self,
        name: &str,
        full_shape: &[usize],
        slice: &Slice,
        tensor: Tensor,
    ) -> Result<&mut Self> {
        self.add_part(name, full_shape, slice, Source::Tensor(tensor))
    }

    /// [`TfCheckpointWriter::add_slice`] for a variable holding the part, read when the files
    /// are written.
    pub fn add_variable_slice(
        &mut self,
        name: &str,
        full_shape: &[usize],
        slice: &Slice,
        variable: &Variable,
    ) -> Result<&mut Self> {
        self.add_part(name, full_shape, slice, Source::Variable(variable.clone()))
    }

    /// Adds variables (a [`crate::Registry`]: all its global variables, a collection, a
    /// list) as `tf.train.Saver` saves them: each under its name, and the parts of a
    /// partitioned variable as the slices of one entry under the full name. Values are read
    /// when the files are written, one variable at a time.
    pub fn add_variables(&mut self, vars: &(impl VariableSet + ?Sized)) -> Result<&mut Self> {
        for var in vars.to_variables() {
            match var.save_slice_info() {
                Some(info) => {
                    let (name, shape, slice) = (&info.full_name, &info.full_shape, &info.slice);
                    self.add_variable_slice(name, shape, slice, &var)?
                }
                None => self.add_variable(var.name(), &var)?,
            };
        }
        Ok(self)
    }

    fn refuse(name: &str, reason: String) -> CheckpointError {
        CheckpointError::Save {
            file: format!("the TF checkpoint entry `{name}`"),
            reason,
        }
    }

    fn add_whole(&mut self, name: &str, source: Source) -> Result<&mut Self> {
        check_name(name)?;
        if self.entries.contains_key(name) {
            return Err(CheckpointError::DuplicateName {
                name: name.to_owned(),
            });
        }
        self.entries.insert(name.to_owned(), Entry::Whole(source));
        Ok(self)
    }

    fn add_part(
        &mut self,
        name: &str,
        full_shape: &[usize],
        slice: &Slice,
        source: Source,
    ) -> Result<&mut Self> {
        check_name(name)?;
        if !slice.fits_in(full_shape) || slice.shape.len() != slice.start.len() {
            return Err(Self::refuse(
                name,
                format!(
                    "the slice {slice} does not fit its full shape {}",
                    format_shape(full_shape)
                ),
            ));
        }
        if source.shape() != slice.shape {
            return Err(Self::refuse(
                name,
                format!(
                    "the slice {slice} is {} but its values are {}",
                    format_shape(&slice.shape),
                    format_shape(&source.shape())
                ),
            ));
        }
        let dtype = source.dtype();
        match self.entries.get_mut(name) {
            None => {
                self.entries.insert(
                    name.to_owned(),
                    Entry::Sliced {
                        dtype,
                        shape: full_shape.to_vec(),
                        parts: vec![(slice.clone(), source)],
                    },
                );
            }
            Some(Entry::Sliced {
                dtype: d,
                shape,
                parts,
            }) => {
                if *d != dtype || shape != full_shape {
                    return Err(Self::refuse(
                        name,
                        format!(
                            "a part of {dtype} in {} joins parts of {d} in {}",
                            format_shape(full_shape),
                            format_shape(shape)
                        ),
                    ));
                }
                if let Some((other, _)) = parts.iter().find(|(s, _)| s.intersect(slice).is_some()) {
                    return Err(Self::refuse(
                        name,
                        format!("the slice {slice} overlaps the slice {other} added before"),
                    ));
                }
                parts.push((slice.clone(), source));
            }
            Some(Entry::Whole(_)) => {
                return Err(CheckpointError::DuplicateName {
                    name: name.to_owned(),
                })
            }
        }
        Ok(self)
    }

    /// The `.index` and the one data shard, as TF would write them.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut data = Vec::new();
        let index = self.write_to(&mut data, "<memory>")?;
        Ok((index, data))
    }

    /// Writes `<prefix>.data-00000-of-00001` and `<prefix>.index` (under temporary names,
    /// renamed into place once complete: the data first, the index last) and returns the
    /// two paths.
    pub fn write(&self, prefix: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let prefix = prefix.as_ref();
        let data_path = TfCheckpoint::shard_path(prefix, 0, 1);
        let index_path = with_suffix(prefix, ".index");
        // The one staged write of every checkpoint format (see `atomic`): temporaries of this
        // call's own, flushed, renamed under the directory's save lock, the index last; a
        // failure leaves no temporary.
        let mut staged = Staged::default();
        let mut index = Vec::new();
        staged.write_with(&data_path, |tmp| {
            let io = |source| CheckpointError::Io {
                action: "write",
                file: tmp.display().to_string(),
                source,
            };
            let mut out = std::io::BufWriter::new(std::fs::File::create(tmp).map_err(io)?);
            index = self.write_to(&mut out, &tmp.display().to_string())?;
            out.into_inner().map_err(|e| io(e.into_error()))?;
            Ok(())
        })?;
        staged.write(&index_path, &index)?;
        let _lock = SaveLock::exclusive(&index_path)?;
        staged.commit()?;
        Ok(vec![index_path, data_path])
    }

    /// Streams the data shard into `out` and returns the index that describes it.
    fn write_to(&self, out: &mut impl Write, file: &str) -> Result<Vec<u8>> {
        let mut index: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut offset = 0u64;
        let mut put = |name: &str, source: &Source| -> Result<BundleEntryProto> {
            let bytes = source
                .bytes()
                .map_err(|e| Self::refuse(name, e.to_string()))?;
            out.write_all(&bytes)
                .map_err(|source| CheckpointError::Io {
                    action: "write the data shard",
                    file: file.to_owned(),
                    source,
                })?;
            let entry = BundleEntryProto {
                dtype: tf_dtype_code(source.dtype()),
                shape: Some(TensorShapeProto::of(&source.shape())),
                shard_id: 0,
                offset: offset as i64,
                size: bytes.len() as i64,
                crc32c: mask_crc(crc32c::crc32c(&bytes)),
                slices: Vec::new(),
            };
            offset += bytes.len() as u64;
            Ok(entry)
        };
        for (name, entry) in &self.entries {
            match entry {
                Entry::Whole(source) => {
                    let proto = put(name, source)?;
                    index.insert(name.as_bytes().to_vec(), proto.encode_to_vec());
                }
                Entry::Sliced {
                    dtype,
                    shape,
                    parts,
                } => {
                    let slices: Vec<Slice> = parts.iter().map(|(s, _)| s.clone()).collect();
                    tf_slice::check_tiling(&slices, shape)
                        .map_err(|reason| Self::refuse(name, reason))?;
                    for (slice, source) in parts {
                        let proto = put(name, source)?;
                        let raw = slice
                            .start
                            .iter()
                            .zip(&slice.shape)
                            .map(|(&s, &n)| (s as i64, n as i64))
                            .collect();
                        index.insert(tf_slice::encode_key(name, &raw), proto.encode_to_vec());
                    }
                    let full = BundleEntryProto {
                        dtype: tf_dtype_code(*dtype),
                        shape: Some(TensorShapeProto::of(shape)),
                        slices: slices.iter().map(tf_slice::slice_proto).collect(),
                        ..Default::default()
                    };
                    index.insert(name.as_bytes().to_vec(), full.encode_to_vec());
                }
            }
        }
        let mut table = TableBuilder::new();
        table.add(b"", &BundleHeaderProto::tf1(1).encode_to_vec());
        for (key, value) in &index {
            table.add(key, value);
        }
        Ok(table.finish())
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(TfCheckpointWriter::refuse(
            name,
            "a TF checkpoint key cannot be empty (the header's key)".to_owned(),
        ));
    }
    Ok(())
}

/// `path` with `suffix` appended to its last component, byte for byte.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::CheckpointSource;

    /// What TF wrote, read back, written again: the same bytes.
    #[test]
    fn rewrites_tf_partitioned_checkpoint_byte_for_byte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/partitioned/p6");
        let prefix = dir.join("model.ckpt");
        let ckpt = TfCheckpoint::open(&prefix).unwrap();
        let mut w = TfCheckpointWriter::new();
        for info in ckpt.tensors() {
            let slices = ckpt.slices(&info.name);
            if slices.is_empty() {
                w.add(&info.name, ckpt.read_tensor(&info.name).unwrap())
                    .unwrap();
            }
            for s in slices {
                let part = ckpt.read_region(&info.name, &s).unwrap();
                w.add_slice(&info.name, &info.shape, &s, part).unwrap();
            }
        }
        let (index, data) = w.to_bytes().unwrap();
        let tf_data = std::fs::read(dir.join("model.ckpt.data-00000-of-00001")).unwrap();
        let tf_index = std::fs::read(dir.join("model.ckpt.index")).unwrap();
        assert_eq!(data, tf_data);
        assert_eq!(index, tf_index);
    }

    #[test]
    fn refuses_gaps_overlaps_and_mismatches() {
        let t = |rows: usize| Tensor::zeros(DType::F32, &[rows, 2]).unwrap();
        let s = |row: usize, rows: usize| Slice {
            start: vec![row, 0],
            shape: vec![rows, 2],
        };
        let mut w = TfCheckpointWriter::new();
        w.add_slice("e", &[4, 2], &s(0, 2), t(2)).unwrap();
        let err = w.add_slice("e", &[4, 2], &s(1, 2), t(2)).unwrap_err();
        assert!(err.to_string().contains("overlaps"), "{err}");
        let err = w.add_slice("e", &[4, 2], &s(3, 2), t(2)).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
        let err = w.add_slice("e", &[4, 2], &s(2, 2), t(1)).unwrap_err();
        assert!(err.to_string().contains("values are"), "{err}");
        let err = w.to_bytes().unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        w.add_slice("e", &[4, 2], &s(2, 2), t(2)).unwrap();
        assert!(w.to_bytes().is_ok());
        assert!(matches!(
            w.add("e", t(4)),
            Err(CheckpointError::DuplicateName { .. })
        ));
    }
}
