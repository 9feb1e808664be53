//! Safetensors files keyed by full TF op name, as tch-rs, candle, burn and Python's
//! `safetensors` read them.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use ::safetensors::tensor::{Dtype, SafeTensors, View};

use super::atomic::read_regular;
use super::sharded::FileBytes;
use super::{decode_tensor, find_tensor};
use super::{
    CheckpointError, CheckpointSource, Result, Save, StoredDType, TensorInfo, VariableSet,
};
use crate::dtype::DType;
use crate::tensor::Tensor;

/// `__metadata__` key naming the writer's format.
pub const METADATA_FORMAT_KEY: &str = "scope.format";
/// Value of [`METADATA_FORMAT_KEY`] in files this crate writes.
pub const METADATA_FORMAT: &str = "scope-safetensors/1";
/// `__metadata__` key holding a JSON object `{variable name: trainable flag}`.
pub const METADATA_TRAINABLE_KEY: &str = "scope.trainable";

pub(super) fn to_st_dtype(d: DType) -> Dtype {
    match d {
        DType::F16 => Dtype::F16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::Bool => Dtype::BOOL,
    }
}

fn from_st_dtype(d: Dtype) -> StoredDType {
    match d {
        Dtype::F16 => StoredDType::Supported(DType::F16),
        Dtype::F32 => StoredDType::Supported(DType::F32),
        Dtype::F64 => StoredDType::Supported(DType::F64),
        Dtype::I32 => StoredDType::Supported(DType::I32),
        Dtype::I64 => StoredDType::Supported(DType::I64),
        Dtype::BOOL => StoredDType::Supported(DType::Bool),
        other => StoredDType::Unsupported(format!("{other:?}")),
    }
}

/// One variable's snapshot, as the safetensors writer wants it.
pub(super) struct Snapshot {
    pub(super) dtype: Dtype,
    pub(super) shape: Vec<usize>,
    pub(super) bytes: Vec<u8>,
}

impl View for &Snapshot {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Saves variables to a safetensors file, keyed by full op name (`rnn/input_layer/weights`),
/// with each dtype and shape; the trainable flags go in the header's `__metadata__`.
///
/// `vars` is a [`crate::Registry`] (all global variables), a collection, or any list. This
/// is [`Save::new`]`(vars).save(path)`: the file is written to a temporary sibling of its own
/// and renamed, so a crash never leaves half a file, and saves racing to one path each
/// succeed: the file holds the last one renamed into place, whole. An index of a sharded
/// checkpoint this crate wrote at the same path is removed with its shards ([`Save::save`]
/// gives the rule).
///
/// ```
/// use scope::checkpoint::save_safetensors;
/// use scope::{Collection, Registry, VarSpec};
/// # let dir = std::env::temp_dir().join(format!("scope-doc-save-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let reg = Registry::with_seed(7);
/// reg.variable_scope("rnn").with(|_| reg.get_variable("w", VarSpec::new().shape([4, 2])))?;
/// save_safetensors(dir.join("all.safetensors"), &reg)?;
/// save_safetensors(dir.join("trainable.safetensors"), &reg.collection(Collection::Trainable, None))?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_safetensors(path: impl AsRef<Path>, vars: &(impl VariableSet + ?Sized)) -> Result<()> {
    save_safetensors_with_metadata(path, vars, &BTreeMap::new())
}

/// [`save_safetensors`] with extra `__metadata__` entries (a step count, a model
/// version...): [`Save::metadata`] for each. Keys starting with `scope.` are reserved and
/// overwritten. Unlike [`Save::save`], the file's directory must exist.
pub fn save_safetensors_with_metadata(
    path: impl AsRef<Path>,
    vars: &(impl VariableSet + ?Sized),
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let path = path.as_ref();
    // Unlike `Save::save`, the directory must exist (as it always had to here).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(CheckpointError::Io {
                action: "write",
                file: path.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "its directory does not exist",
                ),
            });
        }
    }
    metadata
        .iter()
        .fold(Save::new(vars), |save, (k, v)| save.metadata(k, v))
        .save(path)
        .map(drop)
}

/// The bytes of the safetensors file [`save_safetensors_with_metadata`] would write.
pub fn to_safetensors_bytes(
    vars: &(impl VariableSet + ?Sized),
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    metadata
        .iter()
        .fold(Save::new(vars), |save, (k, v)| save.metadata(k, v))
        .to_bytes()
}

/// A safetensors file, read and validated, ready to list and restore from.
///
/// Any safetensors file opens (whoever wrote it); tensors of dtypes scope cannot hold are
/// listed but not loadable.
#[derive(Clone, Debug)]
pub struct SafetensorsCheckpoint {
    location: String,
    bytes: FileBytes,
    tensors: Vec<TensorInfo>,
    /// Byte range of each tensor in `bytes`, parallel to `tensors`.
    ranges: Vec<(usize, usize)>,
    metadata: BTreeMap<String, String>,
    trainable: HashMap<String, bool>,
}

impl SafetensorsCheckpoint {
    /// Reads and validates a safetensors file.
    pub fn open(path: impl AsRef<Path>) -> Result<SafetensorsCheckpoint> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let bytes = read_regular(path, "read")?;
        SafetensorsCheckpoint::parse(bytes.into(), file)
    }

    /// Opens a safetensors file memory-mapped: only the header is read now, and each
    /// tensor's bytes when it is read. The file must not change while it is open.
    pub fn open_mapped(path: impl AsRef<Path>) -> Result<SafetensorsCheckpoint> {
        let path = path.as_ref();
        SafetensorsCheckpoint::parse(FileBytes::map(path)?, path.display().to_string())
    }

    /// Validates safetensors bytes held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SafetensorsCheckpoint> {
        SafetensorsCheckpoint::parse(bytes.into(), "<memory>".to_owned())
    }

    fn parse(bytes: FileBytes, file: String) -> Result<SafetensorsCheckpoint> {
        let invalid = |reason: String| CheckpointError::Safetensors {
            file: file.clone(),
            reason,
        };
        precheck_offsets(&bytes).map_err(invalid)?;
        let (header_len, meta) =
            SafeTensors::read_metadata(&bytes).map_err(|e| invalid(e.to_string()))?;
        let data_start = 8 + header_len;
        let mut entries: Vec<(TensorInfo, (usize, usize))> = meta
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                (
                    TensorInfo {
                        name,
                        dtype: from_st_dtype(info.dtype),
                        shape: info.shape.clone(),
                    },
                    (
                        data_start + info.data_offsets.0,
                        data_start + info.data_offsets.1,
                    ),
                )
            })
            .collect();
        entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let metadata: BTreeMap<String, String> = meta
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let trainable = metadata
            .get(METADATA_TRAINABLE_KEY)
            .and_then(|s| serde_json::from_str::<HashMap<String, bool>>(s).ok())
            .unwrap_or_default();
        let (tensors, ranges) = entries.into_iter().unzip();
        Ok(SafetensorsCheckpoint {
            location: file,
            bytes,
            tensors,
            ranges,
            metadata,
            trainable,
        })
    }

    /// The header's `__metadata__` (string to string), including this crate's `scope.*`
    /// entries.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The trainable flag saved for `name`, if the writer recorded one.
    pub fn trainable(&self, name: &str) -> Option<bool> {
        self.trainable.get(name).copied()
    }
}

/// Checks, before the safetensors crate sees the header, that every `data_offsets` value is
/// within the file: this keeps the crate's offset arithmetic far from overflow on hostile
/// headers.
fn precheck_offsets(bytes: &[u8]) -> std::result::Result<(), String> {
    let Some(len_bytes) = bytes.get(..8) else {
        return Err(format!(
            "{} bytes is shorter than the 8-byte header length",
            bytes.len()
        ));
    };
    let n = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    let available = (bytes.len() - 8) as u64;
    if n > available {
        return Err(format!(
            "the header claims {n} bytes but only {available} follow (truncated, or not \
             safetensors)"
        ));
    }
    let header = &bytes[8..8 + n as usize];
    // Streamed, so that only the offsets are looked at: shapes and metadata are skipped
    // without building a JSON tree, and duplicate keys are each checked.
    match serde_json::from_slice::<LargestOffset>(header) {
        Ok(LargestOffset(Some((name, o)))) if o > available => Err(format!(
            "tensor `{name}` has a data offset {o} past the end of the file"
        )),
        // Valid, or invalid JSON: then the crate produces its precise parse error.
        _ => Ok(()),
    }
}

/// The largest `data_offsets` value in a safetensors header, with its tensor's name.
struct LargestOffset(Option<(String, u64)>);

impl<'de> Deserialize<'de> for LargestOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Header;
        impl<'de> Visitor<'de> for Header {
            type Value = LargestOffset;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a safetensors header object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<LargestOffset, A::Error> {
                let mut largest: Option<(String, u64)> = None;
                // Every entry is checked, duplicates included.
                while let Some(name) = map.next_key::<String>()? {
                    let o = map.next_value_seed(Scan(Level::Entry))?;
                    if largest.as_ref().is_none_or(|(_, l)| o > *l) {
                        largest = Some((name, o));
                    }
                }
                Ok(LargestOffset(largest))
            }
        }
        d.deserialize_map(Header)
    }
}

/// Where a [`Scan`] is in the header.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// A header entry's value (a tensor's info object).
    Entry,
    /// The value of an entry's `data_offsets`.
    Offsets,
    /// One element of `data_offsets`.
    Offset,
    /// Anything else: skipped.
    Other,
}

/// Streams over one JSON value and returns the largest `data_offsets` element in it (0 if
/// none), skipping everything else without storing it.
#[derive(Clone, Copy)]
struct Scan(Level);

impl<'de> DeserializeSeed<'de> for Scan {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! scan_ignores {
    ($($method:ident($ty:ty)),*) => {
        $(fn $method<E: serde::de::Error>(self, _: $ty) -> std::result::Result<u64, E> {
            Ok(0)
        })*
    };
}

impl<'de> Visitor<'de> for Scan {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<u64, E> {
        Ok(if self.0 == Level::Offset { v } else { 0 })
    }
    scan_ignores!(
        visit_bool(bool),
        visit_i64(i64),
        visit_f64(f64),
        visit_str(&str)
    );
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<u64, E> {
        Ok(0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<u64, A::Error> {
        let child = if self.0 == Level::Offsets {
            Level::Offset
        } else {
            Level::Other
        };
        let mut max = 0;
        while let Some(o) = seq.next_element_seed(Scan(child))? {
            max = max.max(o);
        }
        Ok(max)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<u64, A::Error> {
        let mut max = 0;
        while let Some(key) = map.next_key::<String>()? {
            let child = if self.0 == Level::Entry && key == "data_offsets" {
                Level::Offsets
            } else {
                Level::Other
            };
            max = max.max(map.next_value_seed(Scan(child))?);
        }
        Ok(max)
    }
}

impl CheckpointSource for SafetensorsCheckpoint {
    fn location(&self) -> &str {
        &self.location
    }

    fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        let i = find_tensor(&self.location, &self.tensors, name)?;
        let info = &self.tensors[i];
        let Some(dtype) = info.dtype.supported() else {
            return Err(CheckpointError::UnsupportedDtype {
                file: self.location.clone(),
                name: name.to_owned(),
                dtype: info.dtype.to_string(),
            });
        };
        let (start, end) = self.ranges[i];
        let bytes = self
            .bytes
            .get(start..end)
            .ok_or_else(|| CheckpointError::CorruptTensor {
                file: self.location.clone(),
                name: name.to_owned(),
                reason: "its byte range is outside the file".to_owned(),
            })?;
        decode_tensor(&self.location, name, info, dtype, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(c) = SafetensorsCheckpoint::from_bytes(bytes) {
                for t in c.tensors() {
                    let _ = c.read_tensor(&t.name);
                }
            }
        }

        #[test]
        fn arbitrary_headers_never_panic(
            dtype in "(F32|F64|I32|BOOL|U8|BF16|F16|I64|X)",
            shape in prop::collection::vec(any::<u64>(), 0..4),
            start in any::<u64>(),
            end in any::<u64>(),
            tail in 0usize..64,
        ) {
            let header = format!(
                r#"{{"t":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{end}]}}}}"#
            );
            let mut file = (header.len() as u64).to_le_bytes().to_vec();
            file.extend_from_slice(header.as_bytes());
            file.resize(file.len() + tail, 0);
            if let Ok(c) = SafetensorsCheckpoint::from_bytes(file) {
                let _ = c.read_tensor("t");
            }
        }
    }

    #[test]
    fn precheck_refuses_offsets_past_the_end() {
        let header =
            br#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header);
        let err = SafetensorsCheckpoint::from_bytes(file).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;

    /// Eight BOOL tensors of 2^61 - 1 bytes each: their offsets sum to 2^64 - 8, so the
    /// safetensors crate's `buffer_end + 8 + n` check overflows.
    fn hostile_header(metadata: &str) -> Vec<u8> {
        let a: u64 = (1 << 61) - 1;
        let mut entries = vec![metadata.to_owned()];
        for i in 0..8u64 {
            entries.push(format!(
                r#""t{i}":{{"dtype":"BOOL","shape":[{a}],"data_offsets":[{},{}]}}"#,
                i * a,
                (i + 1) * a
            ));
        }
        let header = format!("{{{}}}", entries.join(","));
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        file
    }

    #[test]
    fn offsets_summing_past_u64_are_refused_without_panicking() {
        for meta in [
            r#""__metadata__":{"k":"v"}"#,
            // A header entry that a typed parse would choke on must not switch the check off.
            r#""__metadata__":{"data_offsets":"x"}"#,
        ] {
            let err = SafetensorsCheckpoint::from_bytes(hostile_header(meta)).unwrap_err();
            assert!(err.to_string().contains("past the end"), "{err}");
        }
        // Duplicate keys: every occurrence is checked.
        let header = r#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        file.extend_from_slice(&[0; 4]);
        assert!(SafetensorsCheckpoint::from_bytes(file).is_err());
    }
}
