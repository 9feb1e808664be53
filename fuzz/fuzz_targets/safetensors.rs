//! Fuzzes the safetensors reader: header length, JSON header pre-check, the safetensors
//! crate's validation, and tensor decoding.
//!
//! `cargo fuzz run safetensors` (from the repository root).

#![no_main]

use libfuzzer_sys::fuzz_target;
use scope_runtime::checkpoint::{CheckpointSource, SafetensorsCheckpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(ckpt) = SafetensorsCheckpoint::from_bytes(data.to_vec()) {
        for t in ckpt.tensors() {
            let _ = ckpt.read_tensor(&t.name);
        }
    }
});
