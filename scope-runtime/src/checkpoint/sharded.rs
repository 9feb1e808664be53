//! Sharded safetensors, the Hugging Face convention: `model-00001-of-00003.safetensors` ...
//! plus `model.safetensors.index.json` (`metadata.total_size`, `weight_map`: key -> shard
//! file). Reading is memory-mapped and can open only the shards holding the keys wanted.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::atomic::{open_regular, read_regular, SaveLock, METADATA_GENERATION_KEY};
use super::{CheckpointError, CheckpointSource, Result, SafetensorsCheckpoint, TensorInfo};
use crate::tensor::Tensor;

/// The bytes of a safetensors file: read into memory, or memory-mapped.
#[derive(Clone, Debug)]
pub(super) enum FileBytes {
    /// Read into memory.
    Owned(Vec<u8>),
    /// Memory-mapped; pages are read when touched.
    Mapped(Arc<memmap2::Mmap>),
}

impl FileBytes {
    /// Maps `path` read-only.
    pub(super) fn map(path: &Path) -> Result<FileBytes> {
        let io = |source| CheckpointError::Io {
            action: "open",
            file: path.display().to_string(),
            source,
        };
        let file = open_regular(path, "open")?;
        let map = crate::kernels::map_file(&file).map_err(io)?;
        Ok(FileBytes::Mapped(Arc::new(map)))
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> FileBytes {
        FileBytes::Owned(bytes)
    }
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m,
        }
    }
}

/// `model.safetensors.index.json`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ShardIndex {
    /// `{"total_size": bytes of all tensors}` and whatever else the writer put there.
    #[serde(default)]
    pub(super) metadata: serde_json::Map<String, serde_json::Value>,
    /// Key -> shard file name (in the index's directory).
    pub(super) weight_map: BTreeMap<String, String>,
}

/// The index file name for a safetensors path: `model.safetensors` ->
/// `model.safetensors.index.json`.
pub(super) fn index_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".index.json");
    path.with_file_name(name)
}

/// The stem shards are named after: `model.safetensors` -> `model`.
pub(super) fn shard_stem(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.strip_suffix(".safetensors")
        .unwrap_or(&name)
        .to_owned()
}

/// `model-00002-of-00005.safetensors`.
pub(super) fn shard_name(stem: &str, k: usize, n: usize) -> String {
    format!("{stem}-{k:05}-of-{n:05}.safetensors")
}

/// What a path given to [`ShardedCheckpoint::open`] names.
enum Layout {
    Single(PathBuf),
    Index(PathBuf),
}

fn resolve(path: &Path) -> Result<Layout> {
    if path.is_dir() {
        let index = path.join("model.safetensors.index.json");
        if index.is_file() {
            return Ok(Layout::Index(index));
        }
        let single = path.join("model.safetensors");
        if single.is_file() {
            return Ok(Layout::Single(single));
        }
        return Err(CheckpointError::Io {
            action: "open",
            file: path.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the directory holds neither model.safetensors.index.json nor model.safetensors",
            ),
        });
    }
    let is_json = path.extension().is_some_and(|e| e == "json");
    Ok(if is_json {
        Layout::Index(path.to_owned())
    } else {
        Layout::Single(path.to_owned())
    })
}

/// A safetensors checkpoint in one file or in shards with an index, memory-mapped.
///
/// [`ShardedCheckpoint::open`] takes a `.safetensors` file, an `.index.json` file, or a
/// directory holding `model.safetensors.index.json` or `model.safetensors` (how Hugging Face
/// repositories are laid out). [`ShardedCheckpoint::open_filtered`] opens only the shards
/// holding the keys wanted, and lists only those keys: a restore of one sub-scope from a
/// many-shard checkpoint touches only its shards. Tensors are read when restored, straight
/// from the mapped file.
///
/// ```
/// use scope::checkpoint::{Restore, Save, ShardedCheckpoint};
/// use scope::{Initializer, Registry, VarSpec};
/// # let dir = std::env::temp_dir().join(format!("scope-doc-sharded-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let reg = Registry::new();
/// for layer in ["layer_0", "layer_1", "layer_2"] {
///     reg.variable_scope(layer).with(|_| {
///         reg.get_variable("w", VarSpec::new().shape([64, 64]).initializer(Initializer::Ones))
///     })?;
/// }
/// // 16 KiB per tensor, shards of at most 20 KiB: three shards and an index.
/// let saved = Save::new(&reg).max_shard_size(20 << 10).save(dir.join("model.safetensors"))?;
/// assert_eq!(saved.files.len(), 3);
///
/// let layer_1 = ShardedCheckpoint::open_prefix(&dir, "layer_1/")?;
/// assert_eq!(layer_1.opened_shards().len(), 1);
/// let vars = reg.collection(scope::Collection::Global, Some("layer_1/"));
/// Restore::new(&reg).variables(vars).restore(&layer_1)?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ShardedCheckpoint {
    location: String,
    shards: Vec<(PathBuf, SafetensorsCheckpoint)>,
    shard_count: usize,
    tensors: Vec<TensorInfo>,
    /// The shard (index into `shards`) holding each tensor, parallel to `tensors`.
    owners: Vec<usize>,
}

impl ShardedCheckpoint {
    /// Opens every shard (a single file counts as one).
    pub fn open(path: impl AsRef<Path>) -> Result<ShardedCheckpoint> {
        ShardedCheckpoint::open_filtered(path, |_| true)
    }

    /// Opens only the shards holding keys that start with `prefix`, and lists only those
    /// keys.
    pub fn open_prefix(path: impl AsRef<Path>, prefix: &str) -> Result<ShardedCheckpoint> {
        ShardedCheckpoint::open_filtered(path, |k| k.starts_with(prefix))
    }

    /// Opens only the shards holding keys for which `keep` is true, and lists only those
    /// keys.
    pub fn open_filtered(
        path: impl AsRef<Path>,
        keep: impl Fn(&str) -> bool,
    ) -> Result<ShardedCheckpoint> {
        let path = path.as_ref();
        // No save to this directory commits while the index is read and the shards mapped:
        // once mapped, a shard's bytes stay those of the save that wrote it.
        let target = if path.is_dir() {
            path.join("model.safetensors")
        } else {
            path.to_owned()
        };
        let _lock = SaveLock::shared(&target);
        match resolve(path)? {
            Layout::Single(file) => {
                let ckpt = SafetensorsCheckpoint::open_mapped(&file)?;
                let tensors: Vec<TensorInfo> = ckpt
                    .tensors()
                    .iter()
                    .filter(|t| keep(&t.name))
                    .cloned()
                    .collect();
                Ok(ShardedCheckpoint {
                    location: file.display().to_string(),
                    owners: vec![0; tensors.len()],
                    tensors,
                    shards: vec![(file, ckpt)],
                    shard_count: 1,
                })
            }
            Layout::Index(index) => open_index(&index, &keep),
        }
    }

    /// The shard files opened (all of them, or those holding the keys kept).
    pub fn opened_shards(&self) -> Vec<&Path> {
        self.shards.iter().map(|(p, _)| p.as_path()).collect()
    }

    /// How many shards the checkpoint has in all.
    pub fn shard_count(&self) -> usize {
        self.shard_count
    }

    /// The trainable flag saved for `name`, if the writer recorded one.
    pub fn trainable(&self, name: &str) -> Option<bool> {
        let i = self
            .tensors
            .binary_search_by(|t| t.name.as_str().cmp(name))
            .ok()?;
        self.shards[self.owners[i]].1.trainable(name)
    }
}

fn open_index(index: &Path, keep: &dyn Fn(&str) -> bool) -> Result<ShardedCheckpoint> {
    let file = index.display().to_string();
    let bad = |reason: String| CheckpointError::ShardIndex {
        file: file.clone(),
        reason,
    };
    let text = read_regular(index, "read")?;
    let parsed: ShardIndex = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "{e} (expected {{\"metadata\": ..., \"weight_map\": ...}})"
        ))
    })?;
    let all_files: BTreeSet<&str> = parsed.weight_map.values().map(String::as_str).collect();
    for f in &all_files {
        let plain = Path::new(f).file_name().is_some_and(|n| n == *f);
        if !plain || f.is_empty() || *f == ".." || *f == "." {
            return Err(bad(format!(
                "shard file `{f}` is not a plain file name in the index's directory"
            )));
        }
    }
    let generation = parsed
        .metadata
        .get(METADATA_GENERATION_KEY)
        .and_then(|g| g.as_str());
    let dir = index.parent().unwrap_or(Path::new("."));
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, shard) in &parsed.weight_map {
        if keep(key) {
            wanted.entry(shard.as_str()).or_default().push(key.as_str());
        }
    }
    let mut shards = Vec::new();
    let mut entries: Vec<(TensorInfo, usize)> = Vec::new();
    for (shard_file, keys) in wanted {
        let path = dir.join(shard_file);
        let ckpt = SafetensorsCheckpoint::open_mapped(&path)?;
        // Written by one save of this crate: every shard carries the index's generation.
        if let Some(generation) = generation {
            let found = ckpt.metadata().get(METADATA_GENERATION_KEY);
            if found.map(String::as_str) != Some(generation) {
                return Err(bad(format!(
                    "shard `{shard_file}` is from another save than the index (generation {} \
                     where the index has {generation}): a save to this path was interrupted, \
                     or the files were copied from different saves",
                    found.map_or("none", String::as_str)
                )));
            }
        }
        for t in ckpt.tensors() {
            if parsed.weight_map.get(&t.name).map(String::as_str) != Some(shard_file) {
                return Err(bad(format!(
                    "shard `{shard_file}` holds `{}`, which the index does not place there \
                     (the index and the shards are from different saves)",
                    t.name
                )));
            }
        }
        for key in keys {
            let info = ckpt.info(key).ok_or_else(|| {
                bad(format!(
                    "the index places `{key}` in `{shard_file}`, which does not hold it"
                ))
            })?;
            entries.push((info.clone(), shards.len()));
        }
        shards.push((path, ckpt));
    }
    entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let (tensors, owners) = entries.into_iter().unzip();
    Ok(ShardedCheckpoint {
        location: file,
        shards,
        shard_count: all_files.len(),
        tensors,
        owners,
    })
}

impl CheckpointSource for ShardedCheckpoint {
    fn location(&self) -> &str {
        &self.location
    }

    fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        let i = super::find_tensor(&self.location, &self.tensors, name)?;
        self.shards[self.owners[i]].1.read_tensor(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_truncated_files_are_refused_when_mapped() {
        let dir = std::env::temp_dir().join(format!("scope-sharded-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in [("empty", &b""[..]), ("short", &b"\x10\0\0\0\0\0\0\0{}"[..])] {
            let path = dir.join(format!("{name}.safetensors"));
            std::fs::write(&path, bytes).unwrap();
            let err = ShardedCheckpoint::open(&path).unwrap_err().to_string();
            assert!(
                err.contains("not a valid safetensors file"),
                "{name}: {err}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Shards of two saves under one index (an interrupted save, or files copied from two
    /// saves) are refused by their generation, even where names and layout agree.
    #[test]
    fn a_shard_of_another_save_is_refused() {
        use crate::checkpoint::Save;
        use crate::{Initializer, Registry, VarSpec};
        let dir = std::env::temp_dir().join(format!("scope-generation-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        for (d, value) in [(&a, 1.0), (&b, 2.0)] {
            let reg = Registry::new();
            for k in 0..3 {
                let spec = VarSpec::new()
                    .shape([16])
                    .initializer(Initializer::Constant(value));
                reg.get_variable(&format!("w{k}"), spec).unwrap();
            }
            let saved = Save::new(&reg)
                .max_shard_size(64)
                .save(d.join("model.safetensors"))
                .unwrap();
            assert_eq!(saved.files.len(), 3);
        }
        let shard = "model-00002-of-00003.safetensors";
        std::fs::copy(b.join(shard), a.join(shard)).unwrap();
        let err = ShardedCheckpoint::open(&a).unwrap_err().to_string();
        assert!(
            err.contains(shard) && err.contains("from another save than the index"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shard_names_follow_hugging_face() {
        let p = Path::new("out/model.safetensors");
        assert_eq!(shard_stem(p), "model");
        assert_eq!(
            shard_name("model", 2, 15),
            "model-00002-of-00015.safetensors"
        );
        assert_eq!(index_path(p), Path::new("out/model.safetensors.index.json"));
    }
}
