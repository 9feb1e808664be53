//! Checkpoints keyed by scoped names: save to and restore from safetensors, read TF1
//! checkpoints, with a strict pre-flight diff before any variable changes.
//!
//! * [`save_safetensors`] writes variables (a [`Registry`], a collection, or any list) keyed
//!   by their full TF op name, with trainable flags in the header's `__metadata__`.
//! * [`SafetensorsCheckpoint`] and [`TfCheckpoint`] open files; both implement
//!   [`CheckpointSource`] (list the contents, read one tensor).
//! * [`Restore`] maps checkpoint keys to variables (identity, explicit map, prefix remap),
//!   computes a [`PreflightReport`] (missing, unexpected, shape and dtype mismatches, with
//!   "did you mean" suggestions) and restores all-or-nothing, or partially on request.
//!
//! ```
//! use scope::checkpoint::{save_safetensors, Restore, SafetensorsCheckpoint};
//! use scope::{Initializer, Registry, VarSpec};
//!
//! let dir = std::env::temp_dir().join(format!("scope-doc-mod-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("model.safetensors");
//!
//! let reg = Registry::with_seed(1);
//! let w = reg.variable_scope("rnn").with(|_| {
//!     reg.get_variable("w", VarSpec::new().shape([2, 3]).initializer(Initializer::Ones))
//! })?;
//! save_safetensors(&path, &reg)?;
//!
//! w.assign(scope::Tensor::zeros(scope::DType::F32, &[2, 3])?)?;
//! let report = Restore::new(&reg).restore(&SafetensorsCheckpoint::open(&path)?)?;
//! assert_eq!(report.matched.len(), 1);
//! assert_eq!(w.value().to_f64_vec(), vec![1.0; 6]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::dtype::DType;
use crate::registry::Registry;
use crate::tensor::{format_shape, Shape, Tensor};
use crate::variable::Variable;

mod atomic;
mod mapping;
mod open;
mod presets;
mod restore;
mod safetensors;
mod save;
mod sharded;
mod sstable;
mod suggest;
mod tf_bundle;
mod tf_slice;
mod tf_writer;

pub use self::mapping::{
    CastMode, MappedName, MappedSource, Mapping, MappingProblem, MappingReport, NearMiss,
    NumberedRule, Rule, Side,
};
pub use self::open::{checkpoints_in, open, Checkpoint, Format};
pub use self::presets::{bert_hf_to_tf, bert_tf_to_hf, preset, BertLayout, PRESETS};
pub use self::restore::{Matched, Mismatch, Missing, PreflightReport, Restore, Unexpected};
pub use self::safetensors::{
    save_safetensors, save_safetensors_with_metadata, to_safetensors_bytes, SafetensorsCheckpoint,
    METADATA_FORMAT, METADATA_FORMAT_KEY, METADATA_TRAINABLE_KEY,
};
pub use self::save::{Save, Saved};
pub use self::sharded::ShardedCheckpoint;
pub use self::tf_bundle::{tf_dtype_name, TfCheckpoint};
pub(crate) use self::tf_slice::copy_overlap;
pub use self::tf_writer::{save_tf_checkpoint, TfCheckpointWriter};

/// A `Result` whose error is [`CheckpointError`].
pub type Result<T, E = CheckpointError> = std::result::Result<T, E>;

/// Everything saving, reading and restoring checkpoints can refuse. Each message names the
/// file or variable concerned and how to fix it.
///
/// A restore that returns an error has changed no variable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// A registry call made beside the checkpoint one (creating the variables to restore
    /// into, assigning one), so that `?` on both works in one function.
    #[error(transparent)]
    Registry(#[from] crate::error::Error),

    /// The operating system refused to read or write a file.
    #[error("cannot {action} {file}: {source} (check the path and its permissions)")]
    Io {
        /// What was being done (`read`, `write`, `open`).
        action: &'static str,
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A safetensors file that the format does not accept.
    #[error(
        "{file} is not a valid safetensors file: {reason} (it is truncated, corrupt or in \
         another format; re-save it with `save_safetensors`)"
    )]
    Safetensors {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },

    /// A TF checkpoint index (`.index`) that is truncated or corrupt.
    #[error(
        "{file} is not a valid TF checkpoint index: {reason} (it is truncated or corrupt; copy \
         the checkpoint again, or re-save it with TF)"
    )]
    CorruptIndex {
        /// The index file.
        file: String,
        /// What is wrong.
        reason: String,
    },

    /// A tensor whose stored bytes cannot be what its entry describes.
    #[error(
        "tensor `{name}` in {file} is corrupt: {reason} (copy the checkpoint again, or re-save \
         it)"
    )]
    CorruptTensor {
        /// The file holding the tensor.
        file: String,
        /// The tensor's checkpoint key.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// A crc32c checksum does not match the bytes it covers.
    #[error(
        "checksum mismatch in {file}: {what} has crc32c {actual:#010x} but the file records \
         {expected:#010x} (the file is corrupt; copy the checkpoint again)"
    )]
    Checksum {
        /// The file.
        file: String,
        /// What the checksum covers (a block, or a tensor).
        what: String,
        /// The checksum recorded in the file (unmasked).
        expected: u32,
        /// The checksum of the bytes read.
        actual: u32,
    },

    /// A tensor whose element type this crate cannot hold.
    #[error(
        "tensor `{name}` in {file} has dtype {dtype}, which scope cannot hold (supported: \
         float16, float32, float64, int32, int64, bool); leave it out of the restore (partial \
         restore, or map only the keys you need) or convert the checkpoint"
    )]
    UnsupportedDtype {
        /// The file.
        file: String,
        /// The tensor's checkpoint key.
        name: String,
        /// The stored dtype's name.
        dtype: String,
    },

    /// A TF checkpoint feature this reader does not support (partitioned variables, big-endian
    /// bundles, bundles from a newer format version).
    #[error("{file}: {what} is not supported by this reader ({hint})")]
    Unsupported {
        /// The file.
        file: String,
        /// The feature.
        what: String,
        /// How to get around it.
        hint: String,
    },

    /// A key that is not in the checkpoint.
    #[error(
        "no tensor named `{name}` in {file}{}",
        suggestion.as_deref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
    )]
    NotFound {
        /// The checkpoint.
        file: String,
        /// The key asked for.
        name: String,
        /// A close key that does exist.
        suggestion: Option<String>,
    },

    /// The pre-flight found problems and the restore is strict: nothing was changed.
    #[error(
        "restore from {} refused; no variable was changed.\n{report}\nFix the names, map keys \
         with `Restore::map` or `Restore::remap_prefix`, or opt in to `Restore::partial`.",
        report.source
    )]
    Preflight {
        /// The full report.
        report: Box<PreflightReport>,
    },

    /// A mapping names a variable that is not in the registry.
    #[error(
        "the checkpoint mapping targets variable `{name}`, which is not in the registry{}",
        suggestion.as_deref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
    )]
    UnknownVariable {
        /// The variable name given to the mapping.
        name: String,
        /// A close variable name that exists.
        suggestion: Option<String>,
    },

    /// Two explicit mappings target the same variable.
    #[error(
        "variable `{name}` is mapped from two checkpoint keys, `{first}` and `{second}`; keep \
         one of the `Restore::map` calls"
    )]
    ConflictingMapping {
        /// The variable.
        name: String,
        /// The first key.
        first: String,
        /// The second key.
        second: String,
    },

    /// Two prefix remappings onto the same variable prefix.
    #[error(
        "variable prefix `{prefix}` is remapped from two checkpoint prefixes, `{first}` and \
         `{second}`; keep one of the `Restore::remap_prefix` calls"
    )]
    ConflictingPrefix {
        /// The variable prefix.
        prefix: String,
        /// The first checkpoint prefix.
        first: String,
        /// The second checkpoint prefix.
        second: String,
    },

    /// The same name twice in a list of variables to save.
    #[error(
        "variable `{name}` appears twice in the list to save; checkpoint keys must be unique \
         (pass each variable once)"
    )]
    DuplicateName {
        /// The name.
        name: String,
    },

    /// A mapping rule that cannot be built: a pattern that is no regex, a template naming a
    /// group the pattern lacks.
    #[error("mapping `{mapping}`: rule {rule} is invalid: {reason}")]
    InvalidRule {
        /// The mapping's name.
        mapping: String,
        /// The rule's pattern.
        rule: String,
        /// What is wrong, and how to fix it.
        reason: String,
    },

    /// A mapping whose inverse cannot be derived.
    #[error(
        "mapping `{mapping}` has no inverse: rule {rule} ({text}): {reason}; write the reverse \
         mapping by hand"
    )]
    NotInvertible {
        /// The mapping's name.
        mapping: String,
        /// The rule's number, from 1.
        rule: usize,
        /// The rule.
        text: String,
        /// Why it cannot be inverted.
        reason: String,
    },

    /// A mapping that does not apply cleanly to a set of names: nothing was read, written
    /// or restored.
    #[error(
        "{}\nnothing was read, written or restored; fix the rules (or mark a rule optional)",
        report.problems_text()
    )]
    Mapping {
        /// Every name before and after, and every problem.
        report: Box<MappingReport>,
    },

    /// A preset mapping name that does not exist.
    #[error(
        "no preset mapping named `{name}`{}; known: {known}",
        suggestion.as_deref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// A close known name.
        suggestion: Option<String>,
        /// Every known name.
        known: String,
    },

    /// A sharded checkpoint's index (`model.safetensors.index.json`) that cannot be used.
    #[error("{file} is not a usable safetensors index: {reason}")]
    ShardIndex {
        /// The index file.
        file: String,
        /// What is wrong.
        reason: String,
    },

    /// A tensor whose bytes the allocator cannot provide: the file may be fine, the memory
    /// is not there.
    #[error(
        "tensor `{name}` in {file} needs {bytes} bytes, which cannot be allocated (free memory, \
         or leave it out of the restore)"
    )]
    OutOfMemory {
        /// The file holding the tensor.
        file: String,
        /// The tensor's checkpoint key.
        name: String,
        /// The bytes asked for.
        bytes: u64,
    },

    /// A restore that had verified every tensor stopped between two assignments: the file
    /// changed on disk while it was read, or memory ran out. The first `restored` variables
    /// hold the checkpoint's values, the rest their old ones.
    #[error(
        "restoring from {file} stopped after {restored} of {total} variables ({source}); the \
         file changed while it was read, or memory ran out: restore again once it is stable"
    )]
    RestoreInterrupted {
        /// The checkpoint.
        file: String,
        /// How many variables were assigned before the failure.
        restored: usize,
        /// How many the restore would have assigned.
        total: usize,
        /// What failed.
        source: Box<CheckpointError>,
    },

    /// The safetensors writer refused the data.
    #[error("cannot save to {file}: {reason}")]
    Save {
        /// The target file.
        file: String,
        /// What is wrong.
        reason: String,
    },

    /// A mapping's cast met a value its target dtype cannot hold (see
    /// [`CastMode`]): nothing was written or restored.
    #[error(
        "cannot cast `{name}` from {file}: its element at {index:?} is {value}, and \
         {reason}; nothing was written or restored (fix the value, drop the cast, or choose \
         `Mapping::with_cast_mode(CastMode::Saturating)` or `CastMode::Wrapping` (what \
         tf.cast does) to accept the change)"
    )]
    Cast {
        /// The file (or source) the tensor was read from.
        file: String,
        /// The tensor's name.
        name: String,
        /// The first refused element's index, one entry per dimension.
        index: Box<[usize]>,
        /// Its value, as written.
        value: Box<str>,
        /// Why the target dtype (which it names) cannot hold it.
        reason: String,
    },

    /// A save that would have to replace or remove a file this crate did not write (another
    /// checkpoint's index or shard beside the path): nothing was written or removed.
    #[error(
        "not saving to {path}: {file} {reason}; nothing was written or removed (save to \
         another directory, or move that file away first)"
    )]
    SaveConflict {
        /// The path the save was given.
        path: String,
        /// The file in the way.
        file: String,
        /// What it is and why the save cannot replace it.
        reason: String,
    },

    /// [`open`] found nothing at a path that looks like a checkpoint.
    #[error(
        "no checkpoint at {path}: give a TF1 checkpoint prefix (`model.ckpt`, with \
         `model.ckpt.index` beside it), a `.safetensors` file, a `*.safetensors.index.json`, \
         or a directory holding one"
    )]
    NoCheckpoint {
        /// The path given.
        path: String,
    },

    /// [`open`] was given a directory holding several checkpoints.
    #[error("{dir} holds {} checkpoints ({}); name one of them", candidates.len(), candidates.join(", "))]
    AmbiguousCheckpoint {
        /// The directory.
        dir: String,
        /// The checkpoints found, by file name.
        candidates: Vec<String>,
    },
}

/// The element type of a stored tensor: one this crate supports, or another that it can list
/// but not load (`string`, `bfloat16`, `uint8`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StoredDType {
    /// A dtype variables can have.
    Supported(DType),
    /// Any other dtype, by its TF (or safetensors) name.
    Unsupported(String),
}

impl StoredDType {
    /// The supported dtype, if it is one.
    pub fn supported(&self) -> Option<DType> {
        match self {
            StoredDType::Supported(d) => Some(*d),
            StoredDType::Unsupported(_) => None,
        }
    }
}

impl fmt::Display for StoredDType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredDType::Supported(d) => d.fmt(f),
            StoredDType::Unsupported(name) => f.write_str(name),
        }
    }
}

impl From<DType> for StoredDType {
    fn from(d: DType) -> StoredDType {
        StoredDType::Supported(d)
    }
}

/// One stored tensor, as `tf.train.list_variables` lists it: key, dtype, shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// The checkpoint key: the variable's full TF op name.
    pub name: String,
    /// The element type.
    pub dtype: StoredDType,
    /// The shape, `[]` for a scalar.
    pub shape: Shape,
}

impl TensorInfo {
    /// An entry for `name`.
    pub fn new(name: impl Into<String>, dtype: impl Into<StoredDType>, shape: &[usize]) -> Self {
        TensorInfo {
            name: name.into(),
            dtype: dtype.into(),
            shape: shape.to_vec(),
        }
    }
}

/// `name  dtype  shape`, e.g. `rnn/w  float32  (2, 3)`.
impl fmt::Display for TensorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {}  {}",
            self.name,
            self.dtype,
            format_shape(&self.shape)
        )
    }
}

/// A checkpoint that can be listed and read by key: a [`SafetensorsCheckpoint`] or a
/// [`TfCheckpoint`]. [`Restore`] works on any source.
pub trait CheckpointSource {
    /// Where it was read from (a path), for messages.
    fn location(&self) -> &str;

    /// Every stored tensor, sorted by key (`tf.train.list_variables`).
    fn tensors(&self) -> &[TensorInfo];

    /// Reads and checks one tensor.
    fn read_tensor(&self, name: &str) -> Result<Tensor>;

    /// Checks that tensor `name` reads back (its checksums, its decoding) without keeping it:
    /// [`Restore`] verifies every tensor this way before it assigns the first, then reads
    /// and assigns one at a time, so a restore holds one tensor's copy at a time. The
    /// default reads the tensor and drops it; [`TfCheckpoint`] checks a partitioned
    /// variable slice by slice.
    fn verify(&self, name: &str) -> Result<()> {
        self.read_tensor(name).map(drop)
    }

    /// Reads the box `region` of tensor `name` (one part of a partitioned variable). The
    /// default reads the whole tensor and copies the box out; [`TfCheckpoint`] reads only the
    /// slices the box overlaps.
    fn read_region(&self, name: &str, region: &crate::partition::Slice) -> Result<Tensor> {
        let whole = self.read_tensor(name)?;
        crate::partition::copy_region(&whole, region).map_err(|e| CheckpointError::CorruptTensor {
            file: self.location().to_owned(),
            name: name.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The entry for `name`, if stored.
    fn info(&self, name: &str) -> Option<&TensorInfo> {
        let tensors = self.tensors();
        tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()
            .map(|i| &tensors[i])
    }

    /// Every key, sorted.
    fn keys(&self) -> Vec<&str> {
        self.tensors().iter().map(|t| t.name.as_str()).collect()
    }
}

impl<T: CheckpointSource + ?Sized> CheckpointSource for &T {
    fn location(&self) -> &str {
        (**self).location()
    }
    fn tensors(&self) -> &[TensorInfo] {
        (**self).tensors()
    }
    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        (**self).read_tensor(name)
    }
    fn read_region(&self, name: &str, region: &crate::partition::Slice) -> Result<Tensor> {
        (**self).read_region(name, region)
    }
    fn verify(&self, name: &str) -> Result<()> {
        (**self).verify(name)
    }
}

/// Something that names a set of variables to save or restore: a [`Registry`] (all its
/// global variables, TF's default `var_list`), or a list such as a collection.
pub trait VariableSet {
    /// The variables, in order.
    fn to_variables(&self) -> Vec<Variable>;
}

impl VariableSet for Registry {
    fn to_variables(&self) -> Vec<Variable> {
        self.global_variables()
    }
}

impl VariableSet for [Variable] {
    fn to_variables(&self) -> Vec<Variable> {
        self.to_vec()
    }
}

impl VariableSet for Vec<Variable> {
    fn to_variables(&self) -> Vec<Variable> {
        self.clone()
    }
}

impl<const N: usize> VariableSet for [Variable; N] {
    fn to_variables(&self) -> Vec<Variable> {
        self.to_vec()
    }
}

impl VariableSet for Variable {
    fn to_variables(&self) -> Vec<Variable> {
        vec![self.clone()]
    }
}

impl<T: VariableSet + ?Sized> VariableSet for &T {
    fn to_variables(&self) -> Vec<Variable> {
        (**self).to_variables()
    }
}

/// Lists a checkpoint the way `tf.train.list_variables` does: `(name, dtype, shape)` sorted
/// by name, one per line.
pub fn format_listing(source: &dyn CheckpointSource) -> String {
    let width = source
        .tensors()
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for t in source.tensors() {
        out.push_str(&format!(
            "{:<width$}  {:<8}  {}\n",
            t.name,
            t.dtype.to_string(),
            format_shape(&t.shape)
        ));
    }
    out
}

/// "Did you mean": for each of `names`, the closest of `candidates`, or `None`, by the
/// matcher of the restore pre-flight (a shared tail of path components such as `rnn/w` for
/// `model/rnn/w`, else a small edit distance such as `weights` for `wieghts`), with the
/// pre-flight's bound on the work spent on typos.
///
/// ```
/// use scope::checkpoint::suggest_names;
/// let found = suggest_names(&["rnn/wieghts", "zzz"], &["rnn/weights", "rnn/biases"]);
/// assert_eq!(found, [Some("rnn/weights"), None]);
/// ```
pub fn suggest_names<'a>(names: &[&str], candidates: &[&'a str]) -> Vec<Option<&'a str>> {
    let mut budget = suggest::Budget::new(suggest::EDIT_WORK_BUDGET);
    suggest::suggest_all(names, candidates, &mut budget)
}

/// Decodes the stored bytes of tensor `name`: [`CheckpointError::OutOfMemory`] if the
/// buffer cannot be allocated, [`CheckpointError::CorruptTensor`] if the bytes do not fit.
pub(crate) fn decode_tensor(
    file: &str,
    name: &str,
    info: &TensorInfo,
    dtype: DType,
    bytes: &[u8],
) -> Result<Tensor> {
    Tensor::from_le_bytes(dtype, &info.shape, bytes).map_err(|e| match e {
        crate::Error::ShapeOverflow { .. } => CheckpointError::OutOfMemory {
            file: file.to_owned(),
            name: name.to_owned(),
            bytes: bytes.len() as u64,
        },
        e => CheckpointError::CorruptTensor {
            file: file.to_owned(),
            name: name.to_owned(),
            reason: e.to_string(),
        },
    })
}

/// The position of `name` among a checkpoint's `tensors` (sorted by name), or
/// [`CheckpointError::NotFound`] with the closest name as a suggestion.
pub(crate) fn find_tensor(location: &str, tensors: &[TensorInfo], name: &str) -> Result<usize> {
    tensors
        .binary_search_by(|t| t.name.as_str().cmp(name))
        .map_err(|_| CheckpointError::NotFound {
            file: location.to_owned(),
            name: name.to_owned(),
            suggestion: suggest::closest(name, tensors.iter().map(|t| t.name.as_str()))
                .map(str::to_owned),
        })
}
