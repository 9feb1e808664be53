//! TF1 checkpoints crafted by tests: the `BundleHeaderProto` / `BundleEntryProto` values of
//! a `<prefix>.index` table (built with [`super::sstable`]), and a whole V2 bundle from
//! tensors. The format is described in `tests/data/seed_rnn/README.md`.

use std::path::Path;

use scope::checkpoint::TfCheckpoint;
use scope::{DType, Tensor};

use super::sstable::{masked_crc32c, put_varint, table_with_restarts};

/// TF's `DataType` enum value for `dtype`.
pub fn dtype_code(dtype: DType) -> i32 {
    match dtype {
        DType::F32 => 1,
        DType::F64 => 2,
        DType::I32 => 3,
        DType::I64 => 9,
        DType::Bool => 10,
        DType::F16 => 19,
    }
}

fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The bundle header (the table's entry under the empty key): `num_shards`, little-endian,
/// no version (TF writes `version { producer: 1 }`; scope's reader does not need it).
pub fn header(num_shards: u32) -> Vec<u8> {
    let mut out = vec![0x08];
    put_varint(&mut out, u64::from(num_shards));
    out
}

/// A `BundleEntryProto`: where one tensor's bytes are. Zero fields are omitted, as protobuf
/// writes them; the checksum is always written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// TF's `DataType` value ([`dtype_code`]).
    pub dtype: i32,
    /// The extents.
    pub shape: Vec<u64>,
    /// Which data file.
    pub shard_id: u32,
    /// Byte offset in that file.
    pub offset: u64,
    /// Byte length.
    pub size: u64,
    /// The masked crc32c of the bytes ([`masked_crc32c`]).
    pub crc32c: u32,
}

impl Entry {
    /// The entry of `tensor` stored at `offset` of shard 0.
    pub fn of(tensor: &Tensor, offset: u64) -> Entry {
        let bytes = tensor.to_le_bytes().expect("a tensor's bytes");
        Entry {
            dtype: dtype_code(tensor.dtype()),
            shape: tensor.shape().iter().map(|&d| d as u64).collect(),
            shard_id: 0,
            offset,
            size: bytes.len() as u64,
            crc32c: masked_crc32c(&bytes),
        }
    }

    /// The protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut shape = Vec::new();
        for &d in &self.shape {
            let mut dim = vec![0x08];
            put_varint(&mut dim, d);
            field(&mut shape, 0x12, &dim);
        }
        let mut out = vec![0x08];
        put_varint(&mut out, self.dtype as u64);
        field(&mut out, 0x12, &shape);
        for (tag, v) in [
            (0x18, u64::from(self.shard_id)),
            (0x20, self.offset),
            (0x28, self.size),
        ] {
            if v != 0 {
                out.push(tag);
                put_varint(&mut out, v);
            }
        }
        out.push(0x35);
        out.extend_from_slice(&self.crc32c.to_le_bytes());
        out
    }
}

/// A whole single-shard V2 bundle of `tensors` (names unique, any order): the index table
/// and the data file, tensors laid out in name order as TF's `BundleWriter` does.
pub fn bundle(tensors: &[(&str, &Tensor)]) -> (Vec<u8>, Vec<u8>) {
    let mut sorted: Vec<&(&str, &Tensor)> = tensors.iter().collect();
    sorted.sort_by_key(|(name, _)| *name);
    let mut data = Vec::new();
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = vec![(Vec::new(), header(1))];
    for (name, tensor) in sorted {
        let entry = Entry::of(tensor, data.len() as u64);
        data.extend(tensor.to_le_bytes().expect("a tensor's bytes"));
        entries.push((name.as_bytes().to_vec(), entry.encode()));
    }
    let refs: Vec<(&[u8], &[u8])> = entries
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    (table_with_restarts(&refs, 16), data)
}

/// Writes [`bundle`] as `<prefix>.index` and `<prefix>.data-00000-of-00001`.
pub fn write(prefix: &Path, tensors: &[(&str, &Tensor)]) -> std::io::Result<()> {
    let (index, data) = bundle(tensors);
    let mut index_path = prefix.as_os_str().to_owned();
    index_path.push(".index");
    std::fs::write(index_path, index)?;
    std::fs::write(TfCheckpoint::shard_path(prefix, 0, 1), data)
}
