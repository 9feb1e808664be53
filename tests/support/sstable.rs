//! The LevelDB-format table (SSTable) that TF writes as a checkpoint's `<prefix>.index`,
//! written by tests, and the surgery robustness tests do on one (finding its data block,
//! re-sealing a block's checksum). Plain bytes: only `std` and `crc32c`, so the runtime's
//! unit tests include this same file (`scope-runtime/src/checkpoint/sstable.rs`).

// Included by several crates, each using a part.
#![allow(dead_code, unreachable_pub)]

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

/// A table of `entries`, in the order given (sorted and unique for a valid table; tests of
/// the reader give others), in one uncompressed data block with a restart
/// point every `restart_interval` entries (TF's `TableBuilder` uses 16; 1 disables shared
/// key prefixes), an empty meta-index block, an index block and the footer.
pub fn table_with_restarts(entries: &[(&[u8], &[u8])], restart_interval: usize) -> Vec<u8> {
    assert!(restart_interval > 0, "a restart interval of 0");
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
    let separator = entries
        .last()
        .map(|(k, _)| [k, &[0u8][..]].concat())
        .unwrap_or_default();
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
