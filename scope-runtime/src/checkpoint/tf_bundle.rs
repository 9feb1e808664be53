//! TF1 checkpoints in the V2 "TensorBundle" format: `<prefix>.index` (an SSTable of
//! `BundleEntryProto`s keyed by variable name, plus a `BundleHeaderProto` under key `""`) and
//! `<prefix>.data-NNNNN-of-NNNNN` shards holding raw little-endian tensor bytes.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use prost::Message;

use super::sstable::{read_table, unmask_crc, TableError};
use super::tf_slice::{self, RawExtents, TensorSliceProto};
use super::{decode_tensor, find_tensor};
use super::{CheckpointError, CheckpointSource, Result, StoredDType, TensorInfo};
use crate::dtype::DType;
use crate::partition::Slice;
use crate::tensor::{checked_numel, Tensor};

/// TF's `kTensorBundleVersion`: the newest bundle format this reader understands.
const BUNDLE_VERSION: i32 = 1;

/// `tensorflow.BundleHeaderProto`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct BundleHeaderProto {
    #[prost(int32, tag = "1")]
    pub(crate) num_shards: i32,
    /// `LITTLE = 0`, `BIG = 1`.
    #[prost(int32, tag = "2")]
    pub(crate) endianness: i32,
    #[prost(message, optional, tag = "3")]
    pub(crate) version: Option<VersionDef>,
}

/// `tensorflow.VersionDef`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct VersionDef {
    #[prost(int32, tag = "1")]
    pub(crate) producer: i32,
    #[prost(int32, tag = "2")]
    pub(crate) min_consumer: i32,
    #[prost(int32, repeated, tag = "3")]
    pub(crate) bad_consumers: Vec<i32>,
}

/// `tensorflow.BundleEntryProto`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct BundleEntryProto {
    #[prost(int32, tag = "1")]
    pub(crate) dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub(crate) shape: Option<TensorShapeProto>,
    #[prost(int32, tag = "3")]
    pub(crate) shard_id: i32,
    #[prost(int64, tag = "4")]
    pub(crate) offset: i64,
    #[prost(int64, tag = "5")]
    pub(crate) size: i64,
    /// Masked crc32c of the tensor bytes.
    #[prost(fixed32, tag = "6")]
    pub(crate) crc32c: u32,
    /// `TensorSliceProto`s of a partitioned variable: the parts its slice entries hold.
    #[prost(message, repeated, tag = "7")]
    pub(crate) slices: Vec<TensorSliceProto>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub(crate) dim: Vec<Dim>,
    #[prost(bool, tag = "3")]
    pub(crate) unknown_rank: bool,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Dim {
    #[prost(int64, tag = "1")]
    pub(crate) size: i64,
    #[prost(string, tag = "2")]
    pub(crate) name: String,
}

/// TF's name for a `DataType` enum value (`1` is `float32`, `7` is `string`), as
/// `tf.train.list_variables` prints it; `DT_<n>` for values it does not know.
pub fn tf_dtype_name(code: i32) -> String {
    let name = match code {
        1 => "float32",
        2 => "float64",
        3 => "int32",
        4 => "uint8",
        5 => "int16",
        6 => "int8",
        7 => "string",
        8 => "complex64",
        9 => "int64",
        10 => "bool",
        11 => "qint8",
        12 => "quint8",
        13 => "qint32",
        14 => "bfloat16",
        15 => "qint16",
        16 => "quint16",
        17 => "uint16",
        18 => "complex128",
        19 => "float16",
        20 => "resource",
        21 => "variant",
        22 => "uint32",
        23 => "uint64",
        _ => return format!("DT_{code}"),
    };
    name.to_owned()
}

/// TF's `DataType` enum value of a dtype this crate supports.
pub(crate) fn tf_dtype_code(dtype: DType) -> i32 {
    match dtype {
        DType::F32 => 1,
        DType::F64 => 2,
        DType::I32 => 3,
        DType::I64 => 9,
        DType::Bool => 10,
        DType::F16 => 19,
    }
}

impl BundleHeaderProto {
    /// The header TF's `BundleWriter` writes: little-endian, version 1.
    pub(crate) fn tf1(num_shards: i32) -> BundleHeaderProto {
        BundleHeaderProto {
            num_shards,
            endianness: 0,
            version: Some(VersionDef {
                producer: BUNDLE_VERSION,
                min_consumer: 0,
                bad_consumers: Vec::new(),
            }),
        }
    }
}

impl TensorShapeProto {
    /// The proto of a known shape.
    pub(crate) fn of(shape: &[usize]) -> TensorShapeProto {
        TensorShapeProto {
            dim: shape
                .iter()
                .map(|&d| Dim {
                    size: d as i64,
                    name: String::new(),
                })
                .collect(),
            unknown_rank: false,
        }
    }
}

fn dtype_from_tf(code: i32) -> StoredDType {
    match code {
        1 => StoredDType::Supported(DType::F32),
        2 => StoredDType::Supported(DType::F64),
        3 => StoredDType::Supported(DType::I32),
        9 => StoredDType::Supported(DType::I64),
        10 => StoredDType::Supported(DType::Bool),
        19 => StoredDType::Supported(DType::F16),
        other => StoredDType::Unsupported(tf_dtype_name(other)),
    }
}

/// Where one tensor's (or one slice's) bytes are.
#[derive(Clone, Debug)]
struct Location {
    shard: u32,
    offset: u64,
    size: u64,
    /// Unmasked crc32c of the bytes.
    crc: u32,
}

/// How a listed tensor is stored: whole, or as the slices of a partitioned variable.
#[derive(Clone, Debug)]
enum Stored {
    Whole(Location),
    /// Each slice with the location of its bytes, in the order the entry lists them.
    Sliced(Vec<(Slice, Location)>),
}

/// Where the data shards come from.
#[derive(Clone, Debug)]
enum Shards {
    /// `<prefix>.data-NNNNN-of-NNNNN` files next to the index.
    Files(PathBuf),
    /// Shard contents given in memory, by shard id.
    Memory(Vec<Vec<u8>>),
}

/// A TF1 V2 checkpoint (`tf.train.Saver`'s `model.ckpt.index` + `model.ckpt.data-*`), opened
/// for listing and reading.
///
/// Opening parses and checks the whole index (block checksums, entry bounds); tensors are
/// read from the data shards on demand, each checked against its crc32c.
///
/// ```no_run
/// use scope::checkpoint::{CheckpointSource, Restore, TfCheckpoint};
/// let ckpt = TfCheckpoint::open("train/model.ckpt")?;
/// for t in ckpt.tensors() {
///     println!("{t}"); // rnn/input_layer/weights  float32  (10, 11)
/// }
/// # let reg = scope::Registry::new();
/// Restore::new(&reg).restore(&ckpt)?;
/// # Ok::<(), scope::checkpoint::CheckpointError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TfCheckpoint {
    location: String,
    tensors: Vec<TensorInfo>,
    stored: Vec<Stored>,
    num_shards: u32,
    shards: Shards,
}

impl TfCheckpoint {
    /// Opens the checkpoint with this prefix (`dir/model.ckpt`; the path of the `.index`
    /// file is accepted too) and parses its index.
    pub fn open(prefix: impl AsRef<Path>) -> Result<TfCheckpoint> {
        // Paths are built as OS strings: `display()` would replace bytes that are not UTF-8.
        let prefix = prefix.as_ref();
        let prefix = match prefix.extension() {
            Some(ext) if ext == "index" => prefix.with_extension(""),
            _ => prefix.to_path_buf(),
        };
        let index_path = with_suffix(&prefix, ".index");
        let file = index_path.display().to_string();
        let bytes = super::atomic::read_regular(&index_path, "read the checkpoint index")?;
        TfCheckpoint::parse(&bytes, file, Shards::Files(prefix))
    }

    /// Parses a checkpoint from the bytes of its `.index` and of its data shards (by shard
    /// id). Used for checkpoints held in memory, and by the fuzz target.
    pub fn from_bytes(index: &[u8], shards: Vec<Vec<u8>>) -> Result<TfCheckpoint> {
        TfCheckpoint::parse(index, "<memory>.index".to_owned(), Shards::Memory(shards))
    }

    fn parse(bytes: &[u8], file: String, shards: Shards) -> Result<TfCheckpoint> {
        let corrupt = |reason: String| CheckpointError::CorruptIndex {
            file: file.clone(),
            reason,
        };
        let entries = read_table(bytes).map_err(|e| match e {
            TableError::Corrupt(reason) => corrupt(reason),
            TableError::Checksum {
                what,
                expected,
                actual,
            } => CheckpointError::Checksum {
                file: file.clone(),
                what,
                expected,
                actual,
            },
        })?;
        let mut iter = entries.into_iter();
        let header = match iter.next() {
            Some((key, value)) if key.is_empty() => BundleHeaderProto::decode(value)
                .map_err(|e| corrupt(format!("the bundle header does not decode: {e}")))?,
            _ => {
                return Err(corrupt(
                    "the bundle header (key \"\") is missing".to_owned(),
                ))
            }
        };
        if header.endianness != 0 {
            return Err(CheckpointError::Unsupported {
                file,
                what: "a big-endian tensor bundle".to_owned(),
                hint: "re-save the checkpoint on a little-endian machine".to_owned(),
            });
        }
        if let Some(v) = &header.version {
            if v.min_consumer > BUNDLE_VERSION || v.bad_consumers.contains(&BUNDLE_VERSION) {
                return Err(CheckpointError::Unsupported {
                    file,
                    what: format!(
                        "tensor bundle version (producer {}, min consumer {})",
                        v.producer, v.min_consumer
                    ),
                    hint: format!("this reader understands version {BUNDLE_VERSION}"),
                });
            }
        }
        let num_shards = u32::try_from(header.num_shards)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                corrupt(format!(
                    "the header gives {} data shards (at least 1 expected)",
                    header.num_shards
                ))
            })?;

        let mut tensors = Vec::new();
        let mut stored = Vec::new();
        // Slice entries (under binary keys, sorted before every name) by full name and
        // extents, until the entry of their full name claims them.
        let mut slice_entries: HashMap<(String, RawExtents), (TensorInfo, i32, Location)> =
            HashMap::new();
        let mut sliced = Vec::new();
        for (key, value) in iter {
            if tf_slice::is_slice_key(&key) {
                let (name, raw) = tf_slice::decode_key(&key)
                    .map_err(|e| corrupt(format!("a slice key does not parse: {e}")))?;
                let entry = BundleEntryProto::decode(value).map_err(|e| {
                    corrupt(format!("a slice entry of `{name}` does not decode: {e}"))
                })?;
                if !entry.slices.is_empty() {
                    return Err(corrupt(format!(
                        "a slice entry of `{name}` lists slices of its own"
                    )));
                }
                let dtype = entry.dtype;
                let (info, loc) =
                    check_entry(format!("{name} (a slice)"), entry, num_shards).map_err(corrupt)?;
                slice_entries.insert((name, raw), (info, dtype, loc));
                continue;
            }
            let name = String::from_utf8(key)
                .map_err(|_| corrupt("a tensor name is not valid UTF-8".to_owned()))?;
            let entry = BundleEntryProto::decode(value)
                .map_err(|e| corrupt(format!("the entry of `{name}` does not decode: {e}")))?;
            let slices = entry.slices.clone();
            let dtype = entry.dtype;
            let (info, loc) = check_entry(name, entry, num_shards).map_err(corrupt)?;
            if slices.is_empty() {
                stored.push(Stored::Whole(loc));
            } else {
                sliced.push((tensors.len(), dtype, slices));
                stored.push(Stored::Sliced(Vec::new()));
            }
            tensors.push(info);
        }
        for (i, dtype, slices) in sliced {
            let info: &TensorInfo = &tensors[i];
            let parts = claim_slices(info, dtype, &slices, &mut slice_entries).map_err(corrupt)?;
            stored[i] = Stored::Sliced(parts);
        }
        if let Some(((name, raw), _)) = slice_entries.into_iter().next() {
            return Err(corrupt(format!(
                "it holds a slice of `{name}` ({}) that no entry lists",
                raw_spec(&raw)
            )));
        }
        Ok(TfCheckpoint {
            location: file.strip_suffix(".index").unwrap_or(&file).to_owned(),
            tensors,
            stored,
            num_shards,
            shards,
        })
    }

    /// How many slices a partitioned variable was saved in (`Some(1..)`), or `None` for a
    /// tensor saved whole or a name not stored.
    pub fn slice_count(&self, name: &str) -> Option<usize> {
        let i = self
            .tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()?;
        match &self.stored[i] {
            Stored::Whole(_) => None,
            Stored::Sliced(parts) => Some(parts.len()),
        }
    }

    /// The slices a partitioned variable was saved in, in the order its entry lists them
    /// (empty for a tensor saved whole or a name not stored).
    pub fn slices(&self, name: &str) -> Vec<Slice> {
        let Ok(i) = self.tensors.binary_search_by(|t| t.name.as_str().cmp(name)) else {
            return Vec::new();
        };
        match &self.stored[i] {
            Stored::Whole(_) => Vec::new(),
            Stored::Sliced(parts) => parts.iter().map(|(s, _)| s.clone()).collect(),
        }
    }

    /// [`CheckpointSource::read_region`] of a TF checkpoint.
    fn read_box(&self, name: &str, region: &Slice) -> Result<Tensor> {
        let i = find_tensor(&self.location, &self.tensors, name)?;
        let info = &self.tensors[i];
        let Some(dtype) = info.dtype.supported() else {
            return Err(CheckpointError::UnsupportedDtype {
                file: self.location.clone(),
                name: name.to_owned(),
                dtype: info.dtype.to_string(),
            });
        };
        if !region.fits_in(&info.shape) || region.shape.len() != region.start.len() {
            return Err(CheckpointError::CorruptTensor {
                file: self.location.clone(),
                name: name.to_owned(),
                reason: format!(
                    "the region {region} asked for is not inside its shape {}",
                    crate::tensor::format_shape(&info.shape)
                ),
            });
        }
        let whole;
        let parts: &[(Slice, Location)] = match &self.stored[i] {
            Stored::Whole(loc) => {
                whole = [(Slice::full(&info.shape), loc.clone())];
                &whole
            }
            Stored::Sliced(parts) => parts,
        };
        let elem = dtype.size_of();
        let bytes = usize::try_from(region.numel())
            .ok()
            .and_then(|n| n.checked_mul(elem))
            .ok_or_else(|| CheckpointError::OutOfMemory {
                file: self.location.clone(),
                name: name.to_owned(),
                bytes: u64::MAX,
            })?;
        let mut out = Vec::new();
        out.try_reserve_exact(bytes)
            .map_err(|_| CheckpointError::OutOfMemory {
                file: self.location.clone(),
                name: name.to_owned(),
                bytes: bytes as u64,
            })?;
        out.resize(bytes, 0);
        let mut file = self.location.clone();
        for (part, loc) in parts {
            if part.intersect(region).is_none() {
                continue;
            }
            let (src, from) = self.checked_bytes(name, loc)?;
            tf_slice::copy_overlap(&src, part, &mut out, region, elem);
            file = from;
        }
        let region_info = TensorInfo {
            name: info.name.clone(),
            dtype: info.dtype.clone(),
            shape: region.shape.clone(),
        };
        decode_tensor(&file, name, &region_info, dtype, &out)
    }

    /// Reads one entry's bytes and checks them against its crc32c.
    fn checked_bytes(&self, name: &str, loc: &Location) -> Result<(Vec<u8>, String)> {
        let (bytes, file) = self.read_bytes(name, loc)?;
        let actual = crc32c::crc32c(&bytes);
        if actual != loc.crc {
            return Err(CheckpointError::Checksum {
                file,
                what: format!("tensor `{name}`"),
                expected: loc.crc,
                actual,
            });
        }
        Ok((bytes, file))
    }

    /// The number of data shards the header declares.
    pub fn num_shards(&self) -> u32 {
        self.num_shards
    }

    /// `tf.train.list_variables`: every `(name, dtype, shape)`, sorted by name.
    pub fn list_variables(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The path of data shard `shard` of a checkpoint with `num_shards` shards:
    /// `<prefix>.data-00000-of-00001`.
    pub fn shard_path(prefix: impl AsRef<Path>, shard: u32, num_shards: u32) -> PathBuf {
        with_suffix(
            prefix.as_ref(),
            &format!(".data-{shard:05}-of-{num_shards:05}"),
        )
    }

    /// An empty buffer with room for the tensor's bytes, or
    /// [`CheckpointError::OutOfMemory`].
    fn buffer(&self, name: &str, loc: &Location, file: &str) -> Result<Vec<u8>> {
        let oom = || CheckpointError::OutOfMemory {
            file: file.to_owned(),
            name: name.to_owned(),
            bytes: loc.size,
        };
        let size = usize::try_from(loc.size).map_err(|_| oom())?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(size).map_err(|_| oom())?;
        Ok(buf)
    }

    fn read_bytes(&self, name: &str, loc: &Location) -> Result<(Vec<u8>, String)> {
        let out_of_range = |file: &str, len: u64| CheckpointError::CorruptTensor {
            file: file.to_owned(),
            name: name.to_owned(),
            reason: format!(
                "its {} bytes at offset {} run past the end of the shard ({len} bytes)",
                loc.size, loc.offset
            ),
        };
        let end = loc.offset.saturating_add(loc.size);
        match &self.shards {
            Shards::Memory(shards) => {
                let file = format!("<memory>.data-{:05}-of-{:05}", loc.shard, self.num_shards);
                let Some(shard) = shards.get(loc.shard as usize) else {
                    return Err(CheckpointError::Io {
                        action: "read the data shard",
                        file,
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "shard not provided",
                        ),
                    });
                };
                if end > shard.len() as u64 {
                    return Err(out_of_range(&file, shard.len() as u64));
                }
                let mut buf = self.buffer(name, loc, &file)?;
                buf.extend_from_slice(&shard[loc.offset as usize..end as usize]);
                Ok((buf, file))
            }
            Shards::Files(prefix) => {
                let path = TfCheckpoint::shard_path(prefix, loc.shard, self.num_shards);
                let file = path.display().to_string();
                let io = |action: &'static str| {
                    let file = file.clone();
                    move |source| CheckpointError::Io {
                        action,
                        file,
                        source,
                    }
                };
                let mut f = super::atomic::open_regular(&path, "open the data shard")?;
                let len = f.metadata().map_err(io("stat the data shard"))?.len();
                if end > len {
                    return Err(out_of_range(&file, len));
                }
                f.seek(SeekFrom::Start(loc.offset))
                    .map_err(io("seek in the data shard"))?;
                // The size was checked against the file's length just above, but a file can
                // be larger than memory (a sparse one costs no disk): reserved fallibly.
                let mut buf = self.buffer(name, loc, &file)?;
                buf.resize(loc.size as usize, 0);
                f.read_exact(&mut buf).map_err(io("read the data shard"))?;
                Ok((buf, file))
            }
        }
    }
}

/// `prefix` with `suffix` appended to its last component, byte for byte.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut path = prefix.as_os_str().to_os_string();
    path.push(suffix);
    PathBuf::from(path)
}

/// Validates one entry against the header; returns the listing and the location.
fn check_entry(
    name: String,
    entry: BundleEntryProto,
    num_shards: u32,
) -> std::result::Result<(TensorInfo, Location), String> {
    let shape_proto = entry.shape.unwrap_or_default();
    if shape_proto.unknown_rank {
        return Err(format!("`{name}` has a shape of unknown rank"));
    }
    let shape = shape_proto
        .dim
        .iter()
        .map(|d| usize::try_from(d.size).ok())
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| format!("`{name}` has a negative or oversized dimension"))?;
    let numel = checked_numel(&shape)
        .ok_or_else(|| format!("`{name}`'s shape has more elements than fit in memory"))?;
    let shard = u32::try_from(entry.shard_id)
        .ok()
        .filter(|&s| s < num_shards)
        .ok_or_else(|| {
            format!(
                "`{name}` is in shard {} but the header declares {num_shards}",
                entry.shard_id
            )
        })?;
    let (Ok(offset), Ok(size)) = (u64::try_from(entry.offset), u64::try_from(entry.size)) else {
        return Err(format!(
            "`{name}` has a negative offset ({}) or size ({})",
            entry.offset, entry.size
        ));
    };
    if offset.checked_add(size).is_none() {
        return Err(format!("`{name}`: offset + size overflows"));
    }
    let dtype = dtype_from_tf(entry.dtype);
    if let (Some(d), true) = (dtype.supported(), entry.slices.is_empty()) {
        let expected = numel.checked_mul(d.size_of()).map(|n| n as u64);
        if expected != Some(size) {
            return Err(format!(
                "`{name}` is {d} of shape {} ({numel} elements) but its entry says {size} bytes",
                crate::tensor::format_shape(&shape)
            ));
        }
    }
    Ok((
        TensorInfo { name, dtype, shape },
        Location {
            shard,
            offset,
            size,
            crc: unmask_crc(entry.crc32c),
        },
    ))
}

/// Matches the slices a partitioned variable's entry lists with their slice entries (taken
/// out of `entries`), checking that each exists, has the slice's shape and the variable's
/// dtype, and that together they tile the full shape.
fn claim_slices(
    info: &TensorInfo,
    dtype: i32,
    protos: &[TensorSliceProto],
    entries: &mut HashMap<(String, RawExtents), (TensorInfo, i32, Location)>,
) -> std::result::Result<Vec<(Slice, Location)>, String> {
    let name = &info.name;
    let mut parts = Vec::with_capacity(protos.len());
    for proto in protos {
        let raw = tf_slice::raw_extents(proto);
        let slice = tf_slice::resolve(&raw, &info.shape)
            .map_err(|e| format!("`{name}` lists a bad slice: {e}"))?;
        let Some((part, part_dtype, loc)) = entries.remove(&(name.clone(), raw)) else {
            return Err(format!(
                "`{name}` lists the slice {slice}, but no entry holds its data (the \
                 checkpoint is incomplete: copy it again, or re-save it with TF)"
            ));
        };
        if part_dtype != dtype || part.shape != slice.shape {
            return Err(format!(
                "the slice {slice} of `{name}` is stored as {} {}, but `{name}` is {} and \
                 the slice's shape is {}",
                part.dtype,
                crate::tensor::format_shape(&part.shape),
                info.dtype,
                crate::tensor::format_shape(&slice.shape)
            ));
        }
        parts.push((slice, loc));
    }
    let slices: Vec<Slice> = parts.iter().map(|(s, _)| s.clone()).collect();
    tf_slice::check_tiling(&slices, &info.shape).map_err(|e| format!("`{name}`: {e}"))?;
    Ok(parts)
}

/// A slice's raw extents as TF spells a slice spec (`-` for a whole dimension).
fn raw_spec(raw: &RawExtents) -> String {
    raw.iter()
        .map(|&(s, n)| {
            if n < 0 {
                "-".to_owned()
            } else {
                format!("{s},{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

impl CheckpointSource for TfCheckpoint {
    fn location(&self) -> &str {
        &self.location
    }

    fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        let i = find_tensor(&self.location, &self.tensors, name)?;
        let info = &self.tensors[i];
        let loc = match &self.stored[i] {
            Stored::Whole(loc) => loc,
            Stored::Sliced(_) => return self.read_box(name, &Slice::full(&info.shape)),
        };
        let Some(dtype) = info.dtype.supported() else {
            return Err(CheckpointError::UnsupportedDtype {
                file: self.location.clone(),
                name: name.to_owned(),
                dtype: info.dtype.to_string(),
            });
        };
        let (bytes, file) = self.checked_bytes(name, loc)?;
        decode_tensor(&file, name, info, dtype, &bytes)
    }

    /// Reads the box `region` of tensor `name`, whether it was saved whole or in slices
    /// (TF's `BundleReader::LookupSlice`): only the slices that overlap it are read, each
    /// checked against its crc32c. This is how a partitioned variable is restored part by
    /// part, whatever partitioning the checkpoint was saved with.
    fn read_region(&self, name: &str, region: &Slice) -> Result<Tensor> {
        self.read_box(name, region)
    }

    fn verify(&self, name: &str) -> Result<()> {
        let i = find_tensor(&self.location, &self.tensors, name)?;
        match &self.stored[i] {
            Stored::Whole(_) => self.read_tensor(name).map(drop),
            Stored::Sliced(parts) => parts
                .iter()
                .try_for_each(|(_, loc)| self.checked_bytes(name, loc).map(drop)),
        }
    }
}

#[cfg(test)]
#[path = "tf_bundle_tests.rs"]
mod tests;
