//! Hostile files: real checkpoint bytes (a TF index + data shard, and a safetensors file)
//! mutated tens of thousands of times with a seeded RNG (bit flips, truncations, byte
//! overwrites, length-field corruption, insertions and deletions, and corruptions with the
//! block checksum fixed up so the parser goes deeper). Every open, listing, read and restore
//! must return `Ok` or a typed error: no panic, and no allocation much larger than the
//! input.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use std::time::Instant;

use scope::checkpoint::{
    to_safetensors_bytes, CheckpointError, CheckpointSource, Restore, SafetensorsCheckpoint,
    TfCheckpoint,
};
use scope::{Initializer, Registry, VarSpec};

use crate::support::mutate::{damage, Rng};
use crate::support::sstable::{first_data_block, fix_block_crc, varint};
use crate::support::{data_dir, variable_at};

/// Mutations per format.
const ITERATIONS: usize = 10_000;

/// Runs `f` while recording the largest single allocation it makes on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let (r, used) = crate::alloc::measure(f);
    (r, used.largest)
}

/// A large or unusual length value.
fn bad_length(rng: &mut Rng, len: usize) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => u64::MAX,
        2 => 1 << rng.below(64),
        3 => len as u64 + rng.below(64) as u64,
        4 => (len as u64).saturating_sub(rng.below(64) as u64),
        _ => rng.next(),
    }
}

fn mutate_tf(
    rng: &mut Rng,
    index: &mut Vec<u8>,
    data: &mut Vec<u8>,
    block: (usize, usize),
) -> &'static str {
    let (off, size) = block;
    // Structured corruptions need the layout intact; after a resize, damage instead.
    let intact = index.len() >= off + size + 5 && index.len() >= 48;
    match rng.below(10) {
        0..=3 => damage(rng, index),
        _ if !intact => damage(rng, index),
        4 => damage(rng, data),
        5 | 6 => {
            // Corrupt inside the data block, then fix its checksum so the entries and
            // protobufs are parsed.
            {
                for _ in 0..=rng.below(4) {
                    let i = off + rng.below(size);
                    index[i] = if rng.below(2) == 0 {
                        rng.byte()
                    } else {
                        index[i] ^ (1 << rng.below(8))
                    };
                }
                fix_block_crc(index, off, size);
            }
            "data block, checksum fixed"
        }
        7 => {
            // A length or offset varint (block handle, entry length, proto size) replaced
            // with a bad one, checksum fixed.
            let at = off + rng.below(size);
            let v = varint(bad_length(rng, data.len()));
            let end = (at + v.len()).min(off + size);
            index[at..end].copy_from_slice(&v[..end - at]);
            fix_block_crc(index, off, size);
            "length field in data block"
        }
        8 => {
            // The footer's block handles.
            let len = index.len();
            let mut footer = Vec::new();
            for _ in 0..4 {
                footer.extend(varint(bad_length(rng, len)));
            }
            let start = len - 48;
            let n = footer.len().min(40);
            index[start..start + n].copy_from_slice(&footer[..n]);
            "footer handles"
        }
        _ => {
            // The restart count at the end of the data block.
            let at = off + size - 4;
            let v = bad_length(rng, size) as u32;
            index[at..at + 4].copy_from_slice(&v.to_le_bytes());
            fix_block_crc(index, off, size);
            "restart count"
        }
    }
}

fn mutate_safetensors(rng: &mut Rng, bytes: &mut Vec<u8>) -> &'static str {
    let header_len =
        u64::from_le_bytes(bytes[..8].try_into().unwrap()).min(bytes.len() as u64 - 8) as usize;
    match rng.below(8) {
        0..=3 => damage(rng, bytes),
        4 => {
            let v = bad_length(rng, bytes.len());
            bytes[..8].copy_from_slice(&v.to_le_bytes());
            "header length"
        }
        5 | 6 => {
            // Change digits of offsets and shapes (keeps the JSON valid and its length).
            let digits: Vec<usize> = (8..8 + header_len)
                .filter(|&i| bytes[i].is_ascii_digit())
                .collect();
            for _ in 0..=rng.below(3) {
                if !digits.is_empty() {
                    let i = digits[rng.below(digits.len())];
                    bytes[i] = b'0' + rng.below(10) as u8;
                }
            }
            "header digits"
        }
        _ => {
            // Replace a number with a huge one (changing the header length accordingly).
            let digits: Vec<usize> = (8..8 + header_len)
                .filter(|&i| bytes[i].is_ascii_digit())
                .collect();
            if let Some(&i) = digits.get(rng.below(digits.len().max(1))) {
                let huge = bad_length(rng, bytes.len()).to_string();
                bytes.splice(i..=i, huge.bytes());
                let new_len = (header_len + huge.len() - 1) as u64;
                bytes[..8].copy_from_slice(&new_len.to_le_bytes());
            }
            "huge number in header"
        }
    }
}

/// Opens, lists, reads every tensor and restores (partially) into `reg`; returns whether
/// the open succeeded and, if anything failed, the error.
fn exercise<S: CheckpointSource>(
    opened: Result<S, CheckpointError>,
    reg: &Registry,
) -> (bool, Option<CheckpointError>) {
    let ckpt = match opened {
        Ok(c) => c,
        Err(e) => return (false, Some(e)),
    };
    let mut last = None;
    for t in ckpt.tensors() {
        let _ = t.to_string();
        if let Err(e) = ckpt.read_tensor(&t.name) {
            let _ = e.to_string();
            last = Some(e);
        }
    }
    match Restore::new(reg).partial().restore(&ckpt) {
        Ok(report) => {
            let _ = report.to_string();
        }
        Err(e) => {
            let _ = e.to_string();
            last = Some(e);
        }
    }
    (true, last)
}

#[derive(Default, Debug)]
struct Tally {
    opened: usize,
    refused: usize,
    read_errors: usize,
    largest_alloc: usize,
    kinds: BTreeMap<&'static str, usize>,
    errors: BTreeMap<&'static str, usize>,
    panics: Vec<String>,
}

fn variant(e: &CheckpointError) -> &'static str {
    match e {
        CheckpointError::Io { .. } => "Io",
        CheckpointError::Safetensors { .. } => "Safetensors",
        CheckpointError::CorruptIndex { .. } => "CorruptIndex",
        CheckpointError::CorruptTensor { .. } => "CorruptTensor",
        CheckpointError::Checksum { .. } => "Checksum",
        CheckpointError::UnsupportedDtype { .. } => "UnsupportedDtype",
        CheckpointError::Unsupported { .. } => "Unsupported",
        CheckpointError::NotFound { .. } => "NotFound",
        CheckpointError::Preflight { .. } => "Preflight",
        _ => "other",
    }
}

fn seed_rnn() -> (Vec<u8>, Vec<u8>) {
    let dir = data_dir().join("seed_rnn");
    (
        std::fs::read(dir.join("model_step5.ckpt.index")).unwrap(),
        std::fs::read(dir.join("model_step5.ckpt.data-00000-of-00001")).unwrap(),
    )
}

/// A registry holding every variable of the checkpoint, with its values.
fn registry_from(ckpt: &TfCheckpoint) -> Registry {
    let reg = Registry::new();
    for t in ckpt.tensors() {
        let value = ckpt.read_tensor(&t.name).unwrap();
        let spec = VarSpec::new().initializer(Initializer::value(value));
        let v = variable_at(&reg, &t.name, spec).unwrap();
        assert_eq!(v.name(), t.name);
    }
    reg
}

/// One mutation half of the time (so single corruptions reach deep into the parsers),
/// else two to four.
fn mutation_count(rng: &mut Rng) -> usize {
    if rng.below(2) == 0 {
        1
    } else {
        2 + rng.below(3)
    }
}

#[test]
fn mutated_checkpoints_never_panic() {
    let started = Instant::now();
    let (index, data) = seed_rnn();
    let clean = TfCheckpoint::from_bytes(&index, vec![data.clone()]).expect("fixture opens");
    let reg = registry_from(&clean);
    Restore::new(&reg)
        .restore(&clean)
        .expect("fixture restores");
    let safetensors = to_safetensors_bytes(&reg, &BTreeMap::new()).unwrap();
    SafetensorsCheckpoint::from_bytes(safetensors.clone()).expect("own file opens");
    let block = first_data_block(&index);

    let mut rng = Rng(0x5eed_2026_c4ec_4b00);
    let mut tf = Tally::default();
    let mut st = Tally::default();
    for i in 0..ITERATIONS {
        // TF index + data shard.
        let (mut idx, mut dat) = (index.clone(), data.clone());
        let mut kinds = Vec::new();
        for _ in 0..mutation_count(&mut rng) {
            kinds.push(mutate_tf(&mut rng, &mut idx, &mut dat, block));
        }
        let input = idx.len() + dat.len();
        let run = catch_unwind(AssertUnwindSafe(|| {
            largest_allocation(|| exercise(TfCheckpoint::from_bytes(&idx, vec![dat.clone()]), &reg))
        }));
        record(&mut tf, run, input, &kinds, i);

        // Safetensors.
        let mut bytes = safetensors.clone();
        let mut kinds = Vec::new();
        for _ in 0..mutation_count(&mut rng) {
            if bytes.len() < 8 {
                break;
            }
            kinds.push(mutate_safetensors(&mut rng, &mut bytes));
        }
        let input = bytes.len();
        let run = catch_unwind(AssertUnwindSafe(|| {
            largest_allocation(|| exercise(SafetensorsCheckpoint::from_bytes(bytes.clone()), &reg))
        }));
        record(&mut st, run, input, &kinds, i);
    }
    let secs = started.elapsed().as_secs_f64();
    for (name, t) in [("tf index+data", &tf), ("safetensors", &st)] {
        println!(
            "mutation: {name}: {ITERATIONS} mutated files, {} opened, {} refused with a typed \
             error, {} with a typed read/restore error, {} panics, largest allocation {} bytes; \
             errors {:?}; kinds {:?}",
            t.opened,
            t.refused,
            t.read_errors,
            t.panics.len(),
            t.largest_alloc,
            t.errors,
            t.kinds
        );
    }
    println!("mutation: {} mutations in {secs:.1} s", 2 * ITERATIONS);
    for p in tf.panics.iter().chain(&st.panics).take(10) {
        println!("PANIC {p}");
    }
    assert!(
        tf.panics.is_empty() && st.panics.is_empty(),
        "panics (see above)"
    );
    assert!(tf.refused > 0 && tf.opened > 0 && st.refused > 0 && st.opened > 0);
}

#[allow(clippy::type_complexity)]
fn record(
    tally: &mut Tally,
    run: std::thread::Result<((bool, Option<CheckpointError>), usize)>,
    input: usize,
    kinds: &[&'static str],
    iteration: usize,
) {
    for k in kinds {
        *tally.kinds.entry(k).or_default() += 1;
    }
    match run {
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            tally
                .panics
                .push(format!("iteration {iteration} ({kinds:?}): {msg}"));
        }
        Ok(((opened, err), largest)) => {
            if let Some(e) = &err {
                *tally.errors.entry(variant(e)).or_default() += 1;
            }
            if opened {
                tally.opened += 1;
                if err.is_some() {
                    tally.read_errors += 1;
                }
            } else {
                tally.refused += 1;
            }
            tally.largest_alloc = tally.largest_alloc.max(largest);
            // Nothing may allocate far beyond what the input justifies.
            assert!(
                largest <= 8 * input + (1 << 16),
                "iteration {iteration} ({kinds:?}): allocated {largest} bytes for a {input}-byte input"
            );
        }
    }
}

#[test]
fn oversized_claims_fail_before_allocating() {
    // A safetensors header claiming a tensor of 2^60 bytes.
    let header = br#"{"x":{"dtype":"F32","shape":[268435456,1073741824],"data_offsets":[0,1152921504606846976]}}"#;
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header);
    file.extend_from_slice(&[0; 16]);
    let (r, largest) = largest_allocation(|| SafetensorsCheckpoint::from_bytes(file.clone()));
    assert!(
        matches!(r, Err(CheckpointError::Safetensors { .. })),
        "{r:?}"
    );
    assert!(largest < 1 << 16, "{largest}");
    // A header length of 2^63.
    let mut file = (1u64 << 63).to_le_bytes().to_vec();
    file.extend_from_slice(b"{}");
    let (r, largest) = largest_allocation(|| SafetensorsCheckpoint::from_bytes(file.clone()));
    assert!(r.is_err());
    assert!(largest < 1 << 16, "{largest}");
}

/// Two `remap_prefix` rules onto one variable prefix are refused like two `map` calls onto
/// one variable (issue #15, item 7), with `allow_unexpected` or without; the same rule
/// twice is fine.
#[test]
fn conflicting_prefix_remaps_are_an_error_like_conflicting_maps() {
    let old = Registry::with_seed(1);
    for scope in ["a", "b"] {
        old.variable_scope(scope)
            .with(|_| old.get_variable("w", VarSpec::new().shape([2])))
            .unwrap();
    }
    let ckpt =
        SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&old, &BTreeMap::new()).unwrap())
            .unwrap();
    let reg = Registry::with_seed(2);
    let w = reg
        .variable_scope("m")
        .with(|_| {
            reg.get_variable(
                "w",
                VarSpec::new().shape([2]).initializer(Initializer::Zeros),
            )
        })
        .unwrap();
    for lenient in [false, true] {
        let mut r = Restore::new(&reg)
            .remap_prefix("a/", "m/")
            .remap_prefix("b/", "m/");
        if lenient {
            r = r.allow_unexpected();
        }
        match r.restore(&ckpt) {
            Err(CheckpointError::ConflictingPrefix {
                prefix,
                first,
                second,
            }) => {
                assert_eq!(
                    (prefix.as_str(), first.as_str(), second.as_str()),
                    ("m/", "a/", "b/")
                );
            }
            other => panic!("expected ConflictingPrefix, got {other:?}"),
        }
        assert_eq!(
            w.value().to_f64_vec(),
            [0.0, 0.0],
            "a refused restore wrote"
        );
        let e = Restore::new(&reg)
            .map("a/w", "m/w")
            .map("b/w", "m/w")
            .restore(&ckpt);
        assert!(
            matches!(e, Err(CheckpointError::ConflictingMapping { .. })),
            "{e:?}"
        );
    }
    let report = Restore::new(&reg)
        .remap_prefix("a/", "m/")
        .remap_prefix("a/", "m/")
        .allow_unexpected()
        .restore(&ckpt)
        .unwrap();
    assert_eq!(report.matched.len(), 1);
    assert_eq!(w.value(), ckpt.read_tensor("a/w").unwrap());
}

/// A TF checkpoint in a directory whose name is not UTF-8 opens and reads (issue #15, item
/// 6): the `.index` and `.data-*` paths are built as OS strings, not through `display()`,
/// which would replace the invalid bytes. Saving and opening safetensors there works too.
#[cfg(unix)]
#[test]
fn checkpoints_under_non_utf8_paths_open() {
    use std::os::unix::ffi::OsStrExt;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(std::ffi::OsStr::from_bytes(
        format!("ckpt-\u{e9}-{}-", std::process::id())
            .into_bytes()
            .into_iter()
            .chain([0xff, 0xfe, b'x'])
            .collect::<Vec<u8>>()
            .as_slice(),
    ));
    assert!(dir.to_str().is_none(), "the path must not be UTF-8");
    std::fs::create_dir_all(&dir).unwrap();
    let (index, data) = seed_rnn();
    std::fs::write(dir.join("model.ckpt.index"), &index).unwrap();
    std::fs::write(dir.join("model.ckpt.data-00000-of-00001"), &data).unwrap();
    let reference = TfCheckpoint::from_bytes(&index, vec![data]).unwrap();
    for opened in [dir.join("model.ckpt"), dir.join("model.ckpt.index")] {
        let ckpt = TfCheckpoint::open(&opened).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ckpt.tensors(), reference.tensors());
        for t in ckpt.tensors() {
            assert_eq!(
                ckpt.read_tensor(&t.name).unwrap(),
                reference.read_tensor(&t.name).unwrap()
            );
        }
    }
    assert_eq!(
        TfCheckpoint::shard_path(dir.join("model.ckpt"), 0, 1),
        dir.join("model.ckpt.data-00000-of-00001")
    );
    let reg = registry_from(&reference);
    let path = dir.join("model.safetensors");
    scope::checkpoint::save_safetensors(&path, &reg).unwrap();
    let st = SafetensorsCheckpoint::open(&path).unwrap();
    assert_eq!(st.tensors().len(), reference.tensors().len());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pre-flight of 10^4 variables against 10^4 unused keys, with names up to the registry's
/// 4,096-byte limit (issue #15, item 4): suffix suggestions come from an index and typo
/// suggestions from a banded edit distance under a fixed work budget (see `suggest.rs`,
/// whose unit tests check the bound) instead of a search over all 10^8 pairs. Every near
/// miss is still suggested, both ways, and the remap hint is found.
#[test]
fn preflight_of_ten_thousand_squared_long_names_still_suggests_near_misses() {
    const N: usize = 10_000;
    const TYPOS: [usize; 3] = [3, 5_000, N - 1];
    let scope_of = |i: usize| format!("block_{i}/{i}_{}", "p".repeat(10 + (i * 397) % 4000));
    let old = Registry::with_seed(1);
    let reg = Registry::with_seed(2);
    let one = || VarSpec::new().shape([1]).initializer(Initializer::Zeros);
    for i in 0..N {
        let s = scope_of(i);
        let key_root = if TYPOS.contains(&i) { "new" } else { "old" };
        let key_name = if TYPOS.contains(&i) {
            "wieghts"
        } else {
            "weights"
        };
        old.variable_scope(format!("{key_root}/{s}").as_str())
            .with(|_| old.get_variable(key_name, one()))
            .unwrap();
        reg.variable_scope(format!("new/{s}").as_str())
            .with(|_| reg.get_variable("weights", one()))
            .unwrap();
    }
    let longest = reg
        .global_variables()
        .iter()
        .map(|v| v.name().len())
        .max()
        .unwrap();
    assert!(longest > 4000 && longest <= 4096, "{longest}");
    let ckpt =
        SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&old, &BTreeMap::new()).unwrap())
            .unwrap();
    let report = Restore::new(&reg).preflight(&ckpt).unwrap();
    assert_eq!((report.missing.len(), report.unexpected.len()), (N, N));
    for m in &report.missing {
        let want = if m.key.ends_with("weights")
            && TYPOS.iter().any(|i| m.key.contains(&format!("/{i}_")))
        {
            m.key.replace("/weights", "/wieghts")
        } else {
            m.key.replacen("new/", "old/", 1)
        };
        assert_eq!(
            m.suggestion.as_deref(),
            Some(want.as_str()),
            "no near miss for {}",
            &m.key[..40]
        );
    }
    for u in &report.unexpected {
        let want = if u.key.starts_with("new/") {
            u.key.replace("/wieghts", "/weights")
        } else {
            u.key.replacen("old/", "new/", 1)
        };
        assert_eq!(
            u.suggestion.as_deref(),
            Some(want.as_str()),
            "no near miss for {}",
            &u.key[..40]
        );
    }
    assert_eq!(
        report.remap_hint,
        Some(("old/".to_owned(), "new/".to_owned()))
    );
}

/// A safetensors file another tool wrote (no `scope.format` in its header): one float32
/// tensor `name` holding `value`.
fn foreign_safetensors(name: &str, value: f32) -> Vec<u8> {
    let header = format!(r#"{{"{name}":{{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}}}"#);
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(&value.to_le_bytes());
    file
}

/// A folder holding another tool's sharded checkpoint (index + 3 shards).
fn foreign_sharded(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let mut weight_map = serde_json::Map::new();
    for k in 1..=3 {
        let shard = format!("model-{k:05}-of-00003.safetensors");
        files.push((
            shard.clone(),
            foreign_safetensors(&format!("t{k}"), k as f32),
        ));
        weight_map.insert(format!("t{k}"), shard.into());
    }
    let index = serde_json::json!({"metadata": {"total_size": 12}, "weight_map": weight_map});
    files.push((
        "model.safetensors.index.json".to_owned(),
        serde_json::to_vec(&index).unwrap(),
    ));
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    files
}

/// Issue 25, item 2: converting a sharded checkpoint into its own folder deleted its shards.
/// A save never removes or replaces a file scope did not write: it refuses before writing
/// anything, and every file of the other checkpoint is still there, byte for byte.
#[test]
fn a_save_never_deletes_another_checkpoints_shards() {
    use scope::checkpoint::{Save, ShardedCheckpoint};
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("foreign-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = foreign_sharded(&dir);
    let input = ShardedCheckpoint::open(&dir).unwrap();
    let check_intact = |what: &str| {
        for (name, bytes) in &files {
            let now = std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{what}: {name} is gone: {e}"));
            assert_eq!(&now, bytes, "{what}: {name} changed");
        }
    };
    // Into the folder as one file: the input's index would stay beside it (or be deleted).
    let err = Save::from_checkpoint(&input)
        .save(dir.join("model.safetensors"))
        .unwrap_err();
    assert!(
        matches!(err, CheckpointError::SaveConflict { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("model.safetensors.index.json") && msg.contains("not write"),
        "{msg}"
    );
    check_intact("single-file save");
    assert!(!dir.join("model.safetensors").exists());
    // Sharded into the same names: the input's shards would be overwritten.
    let err = Save::from_checkpoint(&input)
        .max_shard_size(4)
        .save(dir.join("model.safetensors"))
        .unwrap_err();
    assert!(
        matches!(err, CheckpointError::SaveConflict { .. }),
        "{err:?}"
    );
    check_intact("sharded save");
    // Nothing but the input's files: no temporary left behind either.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), files.len());
    // Another name in the same folder is fine, and touches nothing of the input.
    let saved = Save::from_checkpoint(&input)
        .save(dir.join("converted.safetensors"))
        .unwrap();
    assert!(saved.removed.is_empty(), "{:?}", saved.removed);
    check_intact("save beside");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What a save replaces of its own earlier saves, it reports: shards and index of scope's
/// own sharded checkpoint at that path are removed (and listed in `Saved::removed`); shards
/// no index names, and foreign files, are left alone.
#[test]
fn a_save_removes_only_its_own_earlier_files_and_says_so() {
    use scope::checkpoint::{Save, ShardedCheckpoint};
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("own-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let reg = Registry::new();
    for k in 0..4 {
        reg.get_variable(&format!("w{k}"), VarSpec::new().shape([8]))
            .unwrap();
    }
    let path = dir.join("model.safetensors");
    // An orphan shard of scope's (no index names it) and an unrelated file.
    let orphan = dir.join("model-00009-of-00009.safetensors");
    std::fs::write(
        &orphan,
        to_safetensors_bytes(&reg, &BTreeMap::new()).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();

    let four = Save::new(&reg).max_shard_size(32).save(&path).unwrap();
    assert_eq!(four.files.len(), 4);
    assert!(four.removed.is_empty(), "{:?}", four.removed);
    // Sharded in two: the four old shards go, and are listed.
    let two = Save::new(&reg).max_shard_size(64).save(&path).unwrap();
    assert_eq!(two.files.len(), 2);
    let mut removed = two.removed.clone();
    removed.sort();
    assert_eq!(removed, four.files, "the old shards, listed");
    // One file: the index and the two shards go.
    let one = Save::new(&reg).save(&path).unwrap();
    let mut removed = one.removed.clone();
    removed.sort();
    let mut expected = two.files.clone();
    expected.push(dir.join("model.safetensors.index.json"));
    expected.sort();
    assert_eq!(removed, expected);
    // Sharded again: the single file goes.
    let again = Save::new(&reg).max_shard_size(64).save(&path).unwrap();
    assert_eq!(again.removed, std::slice::from_ref(&path));
    ShardedCheckpoint::open(&dir).unwrap();
    assert!(
        orphan.exists(),
        "a shard no index names is not this save's to remove"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "keep me"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 25, item 10: an index naming a FIFO as a shard hung every open (and a FIFO as a
/// TF data file or index likewise). Only regular files are opened; a FIFO is refused,
/// without blocking, with a message that says what it is.
#[test]
fn a_fifo_in_place_of_a_checkpoint_file_is_refused_without_hanging() {
    use scope::checkpoint::ShardedCheckpoint;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = foreign_sharded(&dir);
    let fifo = |path: &Path| -> bool {
        let _ = std::fs::remove_file(path);
        match std::process::Command::new("mkfifo").arg(path).status() {
            Ok(s) if s.success() => true,
            _ => {
                eprintln!("mkfifo is not available: the FIFO case is skipped");
                false
            }
        }
    };
    if !fifo(&dir.join(&files[1].0)) {
        return;
    }
    // Run in a thread so that a regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let (d, data_dir) = (dir.clone(), dir.join("tf"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let (index, _) = seed_rnn();
    std::fs::write(data_dir.join("model.ckpt.index"), &index).unwrap();
    let fifos = fifo(&data_dir.join("model.ckpt.data-00000-of-00001"));
    std::thread::spawn(move || {
        let sharded = ShardedCheckpoint::open(&d).map(|_| ()).unwrap_err();
        let shard = SafetensorsCheckpoint::open(d.join("model-00002-of-00003.safetensors"))
            .map(|_| ())
            .unwrap_err();
        let tf = fifos.then(|| {
            let ckpt = TfCheckpoint::open(data_dir.join("model.ckpt")).unwrap();
            let name = ckpt.tensors()[0].name.clone();
            ckpt.read_tensor(&name).map(|_| ()).unwrap_err()
        });
        let _ = tx.send((sharded, shard, tf));
    });
    let (sharded, shard, tf) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("opening a FIFO blocked");
    for err in [Some(sharded), Some(shard), tf].into_iter().flatten() {
        let msg = err.to_string();
        assert!(msg.contains("not a regular file"), "{msg}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
