//! A reader for the LevelDB-format SSTable that TensorFlow writes as a checkpoint's `.index`
//! (`tensorflow/core/lib/io/table`), uncompressed.
//!
//! Layout: data blocks, a meta-index block, an index block, then a 48-byte footer. Every
//! block is followed by a 5-byte trailer (compression type, masked crc32c of block + type).
//! A block holds prefix-compressed entries, then `u32` restart offsets and their count.
//!
//! Every offset and length read from the file is checked against the bytes actually present
//! before it is used, and nothing is allocated beyond what those bytes justify: the parsed
//! entries are at most a constant factor larger than the file.

/// Size of the table footer.
pub(crate) const FOOTER_LEN: usize = 48;
/// The magic number closing a LevelDB table (fixed64, little-endian).
pub(crate) const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Compression type byte + masked crc32c after every block.
const TRAILER_LEN: usize = 5;
const MASK_DELTA: u32 = 0xa282_ead8;
/// How many times the file size all decoded keys together may take. TF restarts prefix
/// compression every 16 entries, so real tables stay far below this.
const KEY_EXPANSION: usize = 64;

/// Why a table could not be read. Turned into a [`super::CheckpointError`] by the caller,
/// which knows the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TableError {
    /// The bytes do not form a valid table.
    Corrupt(String),
    /// A block's checksum does not match.
    Checksum {
        what: String,
        expected: u32,
        actual: u32,
    },
}

fn corrupt<T>(reason: impl Into<String>) -> Result<T, TableError> {
    Err(TableError::Corrupt(reason.into()))
}

/// TF's `crc32c::Mask`: rotate right by 15 and add a constant, so that a crc of data that
/// itself contains crcs is not trivially zero.
pub(crate) fn mask_crc(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// The inverse of [`mask_crc`].
pub(crate) fn unmask_crc(masked: u32) -> u32 {
    masked.wrapping_sub(MASK_DELTA).rotate_left(15)
}

/// A cursor over a byte slice that never reads past its end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// A varint of at most `max_bytes` bytes (5 for 32-bit, 10 for 64-bit values).
    fn varint(&mut self, max_bytes: usize, what: &str) -> Result<u64, TableError> {
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let Some(&b) = self.bytes.get(self.pos) else {
                return corrupt(format!("{what}: varint runs past the end of its block"));
            };
            self.pos += 1;
            let shift = 7 * i as u32;
            let bits = u64::from(b & 0x7f);
            if shift >= 64 || (shift > 0 && bits >> (64 - shift) != 0) {
                return corrupt(format!("{what}: varint overflows 64 bits"));
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        corrupt(format!("{what}: varint longer than {max_bytes} bytes"))
    }

    pub(crate) fn varint32(&mut self, what: &str) -> Result<u32, TableError> {
        let v = self.varint(5, what)?;
        u32::try_from(v).or_else(|_| corrupt(format!("{what}: varint32 value {v} too large")))
    }

    pub(crate) fn varint64(&mut self, what: &str) -> Result<u64, TableError> {
        self.varint(10, what)
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], TableError> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => corrupt(format!(
                "{what}: {len} bytes claimed at offset {} but only {} remain",
                self.pos,
                self.bytes.len().saturating_sub(self.pos)
            )),
        }
    }
}

/// One table entry: the full key and a view of the value.
pub(crate) type Entry<'a> = (Vec<u8>, &'a [u8]);

/// Where a block sits in the file (LevelDB's `BlockHandle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHandle {
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

impl BlockHandle {
    fn decode(r: &mut Reader<'_>, what: &str) -> Result<BlockHandle, TableError> {
        let offset = r.varint64(what)?;
        let size = r.varint64(what)?;
        Ok(BlockHandle { offset, size })
    }
}

/// Parses the footer: the meta-index and index block handles, and the magic number.
pub(crate) fn read_footer(file: &[u8]) -> Result<(BlockHandle, BlockHandle), TableError> {
    if file.len() < FOOTER_LEN {
        return corrupt(format!(
            "file is {} bytes, shorter than the {FOOTER_LEN}-byte table footer (truncated?)",
            file.len()
        ));
    }
    let footer = &file[file.len() - FOOTER_LEN..];
    let magic = u64::from_le_bytes(footer[40..48].try_into().expect("8-byte slice"));
    if magic != TABLE_MAGIC {
        return corrupt(format!(
            "bad table magic {magic:#018x} (expected {TABLE_MAGIC:#018x}): not a TF checkpoint \
             index, or truncated"
        ));
    }
    let mut r = Reader::new(&footer[..40]);
    let meta = BlockHandle::decode(&mut r, "footer meta-index handle")?;
    let index = BlockHandle::decode(&mut r, "footer index handle")?;
    Ok((meta, index))
}

/// The contents of the block at `handle`, after checking that it (and its trailer) lies
/// inside the file before the footer, that it is uncompressed, and its checksum.
pub(crate) fn read_block<'a>(
    file: &'a [u8],
    handle: BlockHandle,
    what: &str,
) -> Result<&'a [u8], TableError> {
    let limit = file.len().saturating_sub(FOOTER_LEN) as u64;
    let end = handle
        .offset
        .checked_add(handle.size)
        .and_then(|e| e.checked_add(TRAILER_LEN as u64));
    match end {
        Some(end) if end <= limit => {}
        _ => {
            return corrupt(format!(
                "{what} at offset {} of size {} does not fit in the {limit} bytes before the \
                 footer",
                handle.offset, handle.size
            ))
        }
    }
    // Both fit in `limit`, which is a usize.
    let start = handle.offset as usize;
    let size = handle.size as usize;
    let contents = &file[start..start + size];
    let kind = file[start + size];
    let stored = u32::from_le_bytes(
        file[start + size + 1..start + size + TRAILER_LEN]
            .try_into()
            .expect("4-byte slice"),
    );
    let actual = crc32c::crc32c_append(crc32c::crc32c(contents), &[kind]);
    let expected = unmask_crc(stored);
    if actual != expected {
        return Err(TableError::Checksum {
            what: format!("{what} at offset {start}"),
            expected,
            actual,
        });
    }
    if kind != 0 {
        return corrupt(format!(
            "{what} uses compression type {kind}; only uncompressed tables (type 0) are \
             supported (TF writes checkpoint indexes uncompressed)"
        ));
    }
    Ok(contents)
}

/// Decodes every `(key, value)` entry of a block, in order.
pub(crate) fn block_entries<'a>(
    block: &'a [u8],
    what: &str,
    key_budget: &mut usize,
) -> Result<Vec<Entry<'a>>, TableError> {
    if block.len() < 4 {
        return corrupt(format!(
            "{what} of {} bytes has no restart count",
            block.len()
        ));
    }
    let n = u32::from_le_bytes(block[block.len() - 4..].try_into().expect("4 bytes")) as usize;
    let restarts_len = n
        .checked_mul(4)
        .and_then(|l| l.checked_add(4))
        .filter(|&l| l <= block.len());
    let Some(restarts_len) = restarts_len else {
        return corrupt(format!(
            "{what} claims {n} restart points, more than its {} bytes hold",
            block.len()
        ));
    };
    let data_end = block.len() - restarts_len;
    if n == 0 && data_end > 0 {
        return corrupt(format!("{what} has entries but no restart point"));
    }
    // Every restart offset must point inside the entry area.
    for i in 0..n {
        let at = data_end + 4 * i;
        let off = u32::from_le_bytes(block[at..at + 4].try_into().expect("4 bytes")) as usize;
        if off >= data_end.max(1) {
            return corrupt(format!(
                "{what}: restart point {i} at offset {off} is past the entries ({data_end} bytes)"
            ));
        }
    }
    let mut r = Reader::new(&block[..data_end]);
    let mut entries = Vec::new();
    let mut last_key: Vec<u8> = Vec::new();
    while !r.at_end() {
        let shared = r.varint32(what)? as usize;
        let non_shared = r.varint32(what)? as usize;
        let value_len = r.varint32(what)? as usize;
        if shared > last_key.len() {
            return corrupt(format!(
                "{what}: entry shares {shared} key bytes with a previous key of {} bytes",
                last_key.len()
            ));
        }
        let delta = r.take(non_shared, what)?;
        let value = r.take(value_len, what)?;
        // Prefix compression lets a few bytes stand for a long key; cap the total so a
        // hostile block cannot expand into far more memory than the file justifies.
        let Some(left) = key_budget.checked_sub(shared + non_shared) else {
            return corrupt(format!(
                "{what}: prefix-compressed keys expand to more than {KEY_EXPANSION} times the \
                 file size"
            ));
        };
        *key_budget = left;
        let mut key = Vec::with_capacity(shared + non_shared);
        key.extend_from_slice(&last_key[..shared]);
        key.extend_from_slice(delta);
        last_key.clone_from(&key);
        entries.push((key, value));
    }
    Ok(entries)
}

/// Reads a whole table: every `(key, value)` of every data block, in key order. Keys must
/// be strictly increasing and data blocks must follow each other without overlapping, so
/// the work is linear in the file size.
pub(crate) fn read_table(file: &[u8]) -> Result<Vec<Entry<'_>>, TableError> {
    let (_meta, index_handle) = read_footer(file)?;
    let index = read_block(file, index_handle, "index block")?;
    let mut key_budget = file.len().saturating_mul(KEY_EXPANSION).max(1 << 16);
    let index_entries = block_entries(index, "index block", &mut key_budget)?;
    let mut out: Vec<Entry<'_>> = Vec::new();
    let mut next_free: u64 = 0;
    for (i, (_sep, value)) in index_entries.iter().enumerate() {
        let mut r = Reader::new(value);
        let handle = BlockHandle::decode(&mut r, "index entry block handle")?;
        if handle.offset < next_free {
            return corrupt(format!(
                "index entry {i} points to a data block at offset {} that overlaps the previous \
                 block (ending at {next_free})",
                handle.offset
            ));
        }
        let what = format!("data block {i}");
        let block = read_block(file, handle, &what)?;
        next_free = handle.offset + handle.size + TRAILER_LEN as u64;
        for (key, value) in block_entries(block, &what, &mut key_budget)? {
            if let Some((prev, _)) = out.last() {
                if key <= *prev {
                    return corrupt(format!(
                        "{what}: key {:?} is not after the previous key {:?} (keys must be \
                         sorted and unique)",
                        String::from_utf8_lossy(&key),
                        String::from_utf8_lossy(prev)
                    ));
                }
            }
            out.push((key, value));
        }
    }
    Ok(out)
}

/// TF's `table::TableBuilder` with the options `BundleWriter` gives it (no compression, 256 KiB
/// blocks, a restart point every 16 keys): the `.index` of a TF1 checkpoint, byte for byte
/// what TF writes for the same entries.
pub(crate) struct TableBuilder {
    file: Vec<u8>,
    block: BlockBuilder,
    index: BlockBuilder,
    last_key: Vec<u8>,
    /// A data block was flushed; its index entry waits for the next key (or the end), so
    /// that its separator can be shortened.
    pending: Option<BlockHandle>,
    block_size: usize,
}

/// TF's `table::Options::block_size`.
const BLOCK_SIZE: usize = 262_144;

impl TableBuilder {
    pub(crate) fn new() -> TableBuilder {
        TableBuilder::with_options(BLOCK_SIZE, 16)
    }

    pub(crate) fn with_options(block_size: usize, restart_interval: usize) -> TableBuilder {
        TableBuilder {
            file: Vec::new(),
            block: BlockBuilder::new(restart_interval),
            index: BlockBuilder::new(restart_interval),
            last_key: Vec::new(),
            pending: None,
            block_size,
        }
    }

    /// Adds an entry; keys must come strictly increasing (the caller sorts them).
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8]) {
        debug_assert!(self.file.is_empty() && self.block.is_empty() || key > &self.last_key[..]);
        if let Some(handle) = self.pending.take() {
            shortest_separator(&mut self.last_key, key);
            self.index.add(&self.last_key, &handle.encode());
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.block.add(key, value);
        if self.block.size_estimate() >= self.block_size {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.block.is_empty() {
            return;
        }
        let contents = self.block.finish();
        self.pending = Some(append_block(&mut self.file, &contents));
    }

    /// The finished table: data blocks, an empty meta-index block, the index, the footer.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush();
        let meta = append_block(&mut self.file, &BlockBuilder::new(16).finish());
        if let Some(handle) = self.pending.take() {
            short_successor(&mut self.last_key);
            self.index.add(&self.last_key, &handle.encode());
        }
        let index_contents = self.index.finish();
        let index = append_block(&mut self.file, &index_contents);
        let mut footer = meta.encode();
        footer.extend_from_slice(&index.encode());
        footer.resize(FOOTER_LEN - 8, 0);
        footer.extend_from_slice(&TABLE_MAGIC.to_le_bytes());
        self.file.extend_from_slice(&footer);
        self.file
    }
}

/// One block being built: prefix-compressed entries, restart offsets every `interval` keys.
struct BlockBuilder {
    buf: Vec<u8>,
    restarts: Vec<u32>,
    counter: usize,
    interval: usize,
    last: Vec<u8>,
}

impl BlockBuilder {
    fn new(interval: usize) -> BlockBuilder {
        BlockBuilder {
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            interval,
            last: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn size_estimate(&self) -> usize {
        self.buf.len() + self.restarts.len() * 4 + 4
    }

    fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.counter < self.interval {
            self.last
                .iter()
                .zip(key)
                .take_while(|(a, b)| a == b)
                .count()
        } else {
            self.restarts.push(self.buf.len() as u32);
            self.counter = 0;
            0
        };
        put_varint(&mut self.buf, shared as u64);
        put_varint(&mut self.buf, (key.len() - shared) as u64);
        put_varint(&mut self.buf, value.len() as u64);
        self.buf.extend_from_slice(&key[shared..]);
        self.buf.extend_from_slice(value);
        self.last.clear();
        self.last.extend_from_slice(key);
        self.counter += 1;
    }

    /// The block's bytes; the builder starts over empty.
    fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        for r in &self.restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts = vec![0];
        self.counter = 0;
        self.last.clear();
        out
    }
}

impl BlockHandle {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20);
        put_varint(&mut out, self.offset);
        put_varint(&mut out, self.size);
        out
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a block and its trailer (no compression, masked crc32c of block + type byte).
fn append_block(file: &mut Vec<u8>, contents: &[u8]) -> BlockHandle {
    let handle = BlockHandle {
        offset: file.len() as u64,
        size: contents.len() as u64,
    };
    file.extend_from_slice(contents);
    file.push(0);
    let crc = crc32c::crc32c_append(crc32c::crc32c(contents), &[0]);
    file.extend_from_slice(&mask_crc(crc).to_le_bytes());
    handle
}

/// The bytewise comparator's `FindShortestSeparator`: shortens `start` to a key still
/// `>= start` and `< limit`, where one byte can be bumped.
fn shortest_separator(start: &mut Vec<u8>, limit: &[u8]) {
    let diff = start.iter().zip(limit).take_while(|(a, b)| a == b).count();
    if diff >= start.len().min(limit.len()) {
        return;
    }
    let byte = start[diff];
    if byte < 0xff && byte + 1 < limit[diff] {
        start[diff] += 1;
        start.truncate(diff + 1);
    }
}

/// The bytewise comparator's `FindShortSuccessor`: the shortest key `>= key` (bump the first
/// byte that is not 0xff and cut after it).
fn short_successor(key: &mut Vec<u8>) {
    if let Some(i) = key.iter().position(|&b| b != 0xff) {
        key[i] += 1;
        key.truncate(i + 1);
    }
}

#[cfg(test)]
/// Test support: a table of sorted entries, as TF's `TableBuilder` writes it.
pub(crate) fn build_table(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    build_table_with_restarts(entries, 16)
}

#[cfg(test)]
/// [`build_table`] with a chosen restart interval.
pub(crate) fn build_table_with_restarts(
    entries: &[(Vec<u8>, Vec<u8>)],
    restart_interval: usize,
) -> Vec<u8> {
    let mut table = TableBuilder::with_options(BLOCK_SIZE, restart_interval);
    for (k, v) in entries {
        table.add(k, v);
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_round_trips() {
        for c in [0u32, 1, 0xdead_beef, u32::MAX] {
            assert_eq!(unmask_crc(mask_crc(c)), c);
        }
    }

    #[test]
    fn built_table_reads_back() {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..40)
            .map(|i| (format!("key/{i:03}").into_bytes(), vec![i as u8; i]))
            .collect();
        let file = build_table(&entries);
        let got = read_table(&file).unwrap();
        assert_eq!(got.len(), 40);
        for ((k, v), (gk, gv)) in entries.iter().zip(&got) {
            assert_eq!(k, gk);
            assert_eq!(v.as_slice(), *gv);
        }
    }

    #[test]
    fn rejects_short_and_bad_magic() {
        assert!(matches!(read_table(&[0; 10]), Err(TableError::Corrupt(_))));
        assert!(matches!(read_table(&[0; 48]), Err(TableError::Corrupt(_))));
    }

    #[test]
    fn key_expansion_is_bounded() {
        // One long key, then thousands of entries sharing nearly all of it: each costs a
        // few bytes in the file (between restarts) but the whole key in memory.
        let long = vec![b'k'; 4000];
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..5000u32)
            .map(|i| {
                let mut k = long.clone();
                k.extend_from_slice(&i.to_be_bytes());
                (k, Vec::new())
            })
            .collect();
        // Real tables restart every 16 entries and stay within the budget...
        assert_eq!(read_table(&build_table(&entries)).unwrap().len(), 5000);
        // ...one that never restarts expands ~1000 times and is refused.
        let file = build_table_with_restarts(&entries, usize::MAX);
        let result = read_table(&file);
        assert!(
            matches!(&result, Err(TableError::Corrupt(m)) if m.contains("expand")),
            "{:?}",
            result.as_ref().map(|e| e.len())
        );
    }

    #[test]
    fn varints_are_bounded() {
        let bytes = [0xffu8; 11];
        assert!(Reader::new(&bytes).varint64("x").is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x1f])
            .varint32("x")
            .is_err());
        assert_eq!(Reader::new(&[0xac, 0x02]).varint32("x").unwrap(), 300);
    }
}
