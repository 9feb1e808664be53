//! TF1 checkpoints crafted by tests: the LevelDB-format table (SSTable) TF writes as
//! `<prefix>.index`, its `BundleHeaderProto` / `BundleEntryProto` values, a whole V2 bundle
//! from tensors, and the table surgery the robustness tests need (finding the data block,
//! re-sealing its checksum). The format is described in `tests/data/seed_rnn/README.md`.

use std::path::Path;

use scope::checkpoint::TfCheckpoint;
use scope::{DType, Tensor};

/// The magic number ending every table footer.
pub const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// The footer's length: two block handles padded to 40 bytes, then the magic.
pub const FOOTER_LEN: usize = 48;

/// Appends `v` as a protobuf / LevelDB varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `v` as a varint.
pub fn varint(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, v);
    out
}

/// Reads a varint at `*pos` of a well-formed buffer, advancing `*pos` (panics past the end:
/// for reading tables this module wrote or TF's own).
pub fn read_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = bytes[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

/// TF's masked crc32c (`((c >> 15 | c << 17) + 0xa282ead8)`), as block trailers and bundle
/// entries store it.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}

/// A table of `entries` (keys sorted, unique) in one uncompressed data block with a restart
/// point every `restart_interval` entries (TF's `TableBuilder` uses 16; 1 disables shared
/// key prefixes), an empty meta-index block, an index block and the footer.
pub fn table_with_restarts(entries: &[(&[u8], &[u8])], restart_interval: usize) -> Vec<u8> {
    assert!(restart_interval > 0, "a restart interval of 0");
    assert!(
        entries.windows(2).all(|w| w[0].0 < w[1].0),
        "table keys must be sorted and unique"
    );
    fn block(entries: &[(&[u8], &[u8])], interval: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut restarts = Vec::new();
        let mut last: &[u8] = &[];
        for (i, (k, v)) in entries.iter().enumerate() {
            let shared = if i % interval == 0 {
                restarts.push(out.len() as u32);
                0
            } else {
                last.iter()
                    .zip(k.iter())
                    .take_while(|(a, b)| a == b)
                    .count()
            };
            put_varint(&mut out, shared as u64);
            put_varint(&mut out, (k.len() - shared) as u64);
            put_varint(&mut out, v.len() as u64);
            out.extend_from_slice(&k[shared..]);
            out.extend_from_slice(v);
            last = k;
        }
        if restarts.is_empty() {
            restarts.push(0);
        }
        for r in &restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
        out
    }
    /// Appends a block and its trailer (type 0 = uncompressed, masked crc32c of the block and
    /// the type byte); returns its handle, encoded.
    fn append(file: &mut Vec<u8>, contents: &[u8]) -> Vec<u8> {
        let mut handle = varint(file.len() as u64);
        put_varint(&mut handle, contents.len() as u64);
        file.extend_from_slice(contents);
        file.push(0);
        let crc = masked_crc32c(&file[file.len() - contents.len() - 1..]);
        file.extend_from_slice(&crc.to_le_bytes());
        handle
    }
    let mut file = Vec::new();
    let data = append(&mut file, &block(entries, restart_interval));
    let meta = append(&mut file, &block(&[], restart_interval));
    // The index key: past the data block's last key (LevelDB only needs it not below it).
    let mut separator = entries.last().map(|(k, _)| k.to_vec()).unwrap_or_default();
    separator.push(0);
    let index = append(&mut file, &block(&[(&separator, &data)], restart_interval));
    let mut footer = [meta, index].concat();
    footer.resize(FOOTER_LEN - 8, 0);
    footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
    file.extend_from_slice(&footer);
    file
}

/// [`table_with_restarts`] with a restart at every entry (no shared key prefixes).
pub fn table(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
    table_with_restarts(entries, 1)
}

/// Offset and size of the first data block of a valid table, from its footer and index.
pub fn first_data_block(table: &[u8]) -> (usize, usize) {
    let footer = &table[table.len() - FOOTER_LEN..];
    let mut p = 0;
    let _meta = (read_varint(footer, &mut p), read_varint(footer, &mut p));
    let index_offset = read_varint(footer, &mut p) as usize;
    let block = &table[index_offset..];
    let mut p = 0;
    let (_shared, key_len, _value_len) = (
        read_varint(block, &mut p),
        read_varint(block, &mut p) as usize,
        read_varint(block, &mut p),
    );
    p += key_len;
    (
        read_varint(block, &mut p) as usize,
        read_varint(block, &mut p) as usize,
    )
}

/// Rewrites the trailer checksum of the block at `off..off + size` to match its (edited)
/// bytes, so a reader goes past the checksum into the entries. Does nothing when the block
/// and its trailer no longer fit in `file`.
pub fn fix_block_crc(file: &mut [u8], off: usize, size: usize) {
    let Some(block) = file.get(off..off + size + 1) else {
        return;
    };
    let masked = masked_crc32c(block);
    if let Some(trailer) = file.get_mut(off + size + 1..off + size + 5) {
        trailer.copy_from_slice(&masked.to_le_bytes());
    }
}

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
/// no version (TF writes `version { producer: 1 }`; readers accept its absence).
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
