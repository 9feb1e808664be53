//! Fuzzes the TF checkpoint index parser (SSTable footer, blocks, restart arrays, block
//! checksums, BundleHeaderProto/BundleEntryProto decoding and entry validation) and the
//! tensor reads it enables. The same bytes also serve as data shard 0, so entries that
//! survive validation are read, bounds-checked and checksummed.
//!
//! `cargo fuzz run tf_index` (from the repository root); seed corpus in
//! `fuzz/corpus/tf_index/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use scope_runtime::checkpoint::{CheckpointSource, TfCheckpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(ckpt) = TfCheckpoint::from_bytes(data, vec![data.to_vec()]) {
        for t in ckpt.tensors() {
            let _ = t.to_string();
            let _ = ckpt.read_tensor(&t.name);
        }
    }
});
