//! Saving through a mapping and into shards: variables (or another checkpoint) to one
//! safetensors file, or to Hugging Face style shards plus an index.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::atomic::{
    new_generation, parent_dir, read_regular, written_by_scope, SaveLock, Staged,
    METADATA_GENERATION_KEY,
};
use super::mapping::{transform, CastMode, Mapping, MappingReport, Squeeze};
use super::safetensors::{to_st_dtype, Snapshot};
use super::sharded::{index_path, shard_name, shard_stem, ShardIndex};
use super::{
    CheckpointError, CheckpointSource, Result, TensorInfo, VariableSet, METADATA_FORMAT,
    METADATA_FORMAT_KEY, METADATA_TRAINABLE_KEY,
};
use crate::dtype::DType;
use crate::tensor::{checked_numel, Tensor};

/// What to save: variables (their values snapshotted when the save starts) or the tensors of
/// another checkpoint (read shard by shard).
enum Input<'a> {
    Variables(Vec<(TensorInfo, Tensor, bool)>),
    Checkpoint(&'a dyn CheckpointSource),
}

/// A save to safetensors, optionally through a [`Mapping`] (renamed, transposed, cast,
/// skipped: checked before anything is written) and in shards of at most a given size.
///
/// With [`Save::max_shard_size`], a checkpoint larger than one shard is written as
/// `model-00001-of-0000n.safetensors` ... beside the path given, plus
/// `model.safetensors.index.json` (`metadata.total_size`, `weight_map`), the layout every
/// Hugging Face reader follows; one that fits in one shard is written as the single file.
/// Shards are filled in order, a tensor larger than the limit gets a shard of its own.
/// Files are written to temporary names and renamed only once all are complete, the index
/// last; what an earlier save to the same path left and this one does not use is removed
/// (only files this crate wrote: [`Save::save`] gives the rule, [`Saved::removed`] the list).
///
/// ```
/// use scope::checkpoint::{Mapping, Save};
/// use scope::{Registry, VarSpec};
/// # let dir = std::env::temp_dir().join(format!("scope-doc-save-b-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let reg = Registry::new();
/// reg.variable_scope("dense").with(|_| reg.get_variable("kernel", VarSpec::new().shape([4, 2])))?;
/// let to_hf = Mapping::new("to-hf").rename(r"(\w+)/kernel", "$1.weight")?.transpose(r".*/kernel")?;
/// let saved = Save::new(&reg).mapping(&to_hf).save(dir.join("model.safetensors"))?;
/// assert_eq!(saved.mapping.unwrap().entries[0].target.as_ref().unwrap().shape, [2, 4]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a save does nothing until `.save(path)`"]
pub struct Save<'a> {
    input: Input<'a>,
    mapping: Option<&'a Mapping>,
    max_shard_size: Option<u64>,
    metadata: BTreeMap<String, String>,
}

/// What a [`Save`] wrote.
#[derive(Clone, Debug)]
pub struct Saved {
    /// The files holding tensors: the single file, or the shards in order.
    pub files: Vec<PathBuf>,
    /// The index, when sharded.
    pub index: Option<PathBuf>,
    /// Bytes of tensor data in all.
    pub total_size: u64,
    /// What the mapping did, when there was one.
    pub mapping: Option<MappingReport>,
    /// Files of the checkpoint this save replaced that it removed (not overwrote): the
    /// previous index and shards it no longer uses, or the single file a sharded save
    /// replaced. [`Save::save`] states which files qualify.
    pub removed: Vec<PathBuf>,
}

/// One file's tensors (name, encoded value) and its `__metadata__`.
type FileContent<'i> = (Vec<(&'i str, Snapshot)>, HashMap<String, String>);

/// One tensor to write.
struct Item {
    target: TensorInfo,
    source: usize,
    transpose: bool,
    cast: Option<(DType, CastMode)>,
    squeeze: Option<Squeeze>,
    size: u64,
}

impl<'a> Save<'a> {
    /// Saves variables: a [`crate::Registry`] (all global variables), a collection, a list.
    /// Their values are taken now.
    pub fn new(vars: &(impl VariableSet + ?Sized)) -> Save<'a> {
        let vars = vars
            .to_variables()
            .into_iter()
            .map(|v| {
                let value = v.value();
                let info = TensorInfo::new(v.name(), v.dtype(), v.shape());
                (info, value, v.trainable())
            })
            .collect();
        Save {
            input: Input::Variables(vars),
            mapping: None,
            max_shard_size: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Saves every tensor of another checkpoint (a TF checkpoint, safetensors, shards):
    /// with a [`Save::mapping`], a conversion.
    pub fn from_checkpoint(source: &'a dyn CheckpointSource) -> Save<'a> {
        Save {
            input: Input::Checkpoint(source),
            mapping: None,
            max_shard_size: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Maps names (and layouts) on the way out; its metadata goes into every file.
    pub fn mapping(mut self, mapping: &'a Mapping) -> Save<'a> {
        self.mapping = Some(mapping);
        self
    }

    /// Splits the tensors into shards of at most `bytes` bytes of tensor data each.
    pub fn max_shard_size(mut self, bytes: u64) -> Save<'a> {
        self.max_shard_size = Some(bytes);
        self
    }

    /// Adds a `__metadata__` entry to every file. Keys starting with `scope.` are reserved.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Save<'a> {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The names, dtypes and shapes to save, before mapping.
    fn sources(&self) -> Result<Vec<TensorInfo>> {
        match &self.input {
            Input::Variables(vars) => {
                let mut seen = HashSet::new();
                for (info, _, _) in vars {
                    if !seen.insert(info.name.as_str()) {
                        return Err(CheckpointError::DuplicateName {
                            name: info.name.clone(),
                        });
                    }
                }
                Ok(vars.iter().map(|(info, _, _)| info.clone()).collect())
            }
            Input::Checkpoint(source) => Ok(source.tensors().to_vec()),
        }
    }

    /// The tensors to write, after the mapping, in order.
    fn plan(&self, sources: &[TensorInfo]) -> Result<(Vec<Item>, Option<MappingReport>)> {
        let (mut items, report): (Vec<Item>, _) = match self.mapping {
            Some(m) => {
                let report = m.apply(sources)?;
                let items = report
                    .entries
                    .iter()
                    .enumerate()
                    .filter_map(|(i, e)| {
                        Some(Item {
                            target: e.target.clone()?,
                            source: i,
                            transpose: e.transposed,
                            cast: e.cast.map(|to| (to, m.cast_mode())),
                            squeeze: e.squeeze,
                            size: 0,
                        })
                    })
                    .collect();
                (items, Some(report))
            }
            None => {
                let items = sources
                    .iter()
                    .enumerate()
                    .map(|(i, t)| Item {
                        target: t.clone(),
                        source: i,
                        transpose: false,
                        cast: None,
                        squeeze: None,
                        size: 0,
                    })
                    .collect();
                (items, None)
            }
        };
        for item in &mut items {
            let t = &item.target;
            let Some(dtype) = t.dtype.supported() else {
                return Err(CheckpointError::UnsupportedDtype {
                    file: self.location(),
                    name: sources[item.source].name.clone(),
                    dtype: t.dtype.to_string(),
                });
            };
            item.size = checked_numel(&t.shape)
                .and_then(|n| n.checked_mul(dtype.size_of()))
                .ok_or_else(|| CheckpointError::Save {
                    file: self.location(),
                    reason: format!("tensor `{}` is too large", t.name),
                })? as u64;
        }
        Ok((items, report))
    }

    fn location(&self) -> String {
        match &self.input {
            Input::Variables(_) => "<variables>".to_owned(),
            Input::Checkpoint(s) => s.location().to_owned(),
        }
    }

    /// Writes the file(s), creating the directory if needed. Everything is checked
    /// (mapping, dtypes, what the save would replace) and every tensor read before the
    /// first file replaces anything at `path`.
    ///
    /// What a save replaces or removes, and nothing else:
    ///
    /// * the file at `path` (the path given): replaced by a single-file save, removed (if a
    ///   regular file or a symbolic link) by a sharded one;
    /// * the index beside it (`model.safetensors.index.json`) and the shards that index
    ///   names, if they are a checkpoint this crate wrote (their safetensors headers carry
    ///   `scope.format`): the index is replaced by a sharded save and removed by a
    ///   single-file one; its shards are replaced when this save writes the same names and
    ///   removed otherwise.
    ///
    /// Anything else in the way (an index or a shard file not written by this crate: another
    /// tool's checkpoint, the input of a conversion) stops the save with
    /// [`CheckpointError::SaveConflict`] before anything is written. Shards that no index
    /// names are never touched. Every file removed is listed in [`Saved::removed`].
    ///
    /// Saves and sharded opens of one directory are serialized around the renames: saves
    /// racing to one path each leave one complete checkpoint (the last to commit), and
    /// [`super::ShardedCheckpoint::open`] sees one save or the other, never a mix (see
    /// `docs/08-robustness.md`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<Saved> {
        let path = path.as_ref();
        let sources = self.sources()?;
        let (items, report) = self.plan(&sources)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
                action: "create",
                file: dir.display().to_string(),
                source,
            })?;
        }
        let total_size: u64 = items.iter().map(|i| i.size).sum();
        let groups = split(&items, self.max_shard_size);
        let dir = parent_dir(path);
        let stem = shard_stem(path);
        let files: Vec<PathBuf> = if groups.len() == 1 {
            vec![path.to_owned()]
        } else {
            (1..=groups.len())
                .map(|k| dir.join(shard_name(&stem, k, groups.len())))
                .collect()
        };
        let index = (files.len() > 1).then(|| index_path(path));
        // Refused before anything is written; checked again when committing. Under the
        // lock too, so that no other save's commit is seen half done.
        {
            let _lock = SaveLock::exclusive(path)?;
            replaced(path, &files, index.as_deref())?;
        }
        let generation = new_generation();
        let mut staged = Staged::default();
        let mut weight_map = BTreeMap::new();
        for (group, file) in groups.iter().zip(&files) {
            let (snapshots, meta) = self.snapshots(&items[group.clone()], &generation)?;
            staged.write_with(file, |tmp| {
                let data = snapshots.iter().map(|(name, s)| (*name, s));
                ::safetensors::serialize_to_file(data, Some(meta), tmp).map_err(|e| match e {
                    ::safetensors::SafeTensorError::IoError(source) => CheckpointError::Io {
                        action: "write",
                        file: tmp.display().to_string(),
                        source,
                    },
                    other => CheckpointError::Save {
                        file: file.display().to_string(),
                        reason: other.to_string(),
                    },
                })
            })?;
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            for item in &items[group.clone()] {
                weight_map.insert(item.target.name.clone(), name.to_string());
            }
        }
        // The index is written last, so it is renamed into place last.
        if let Some(index) = &index {
            let mut metadata = serde_json::Map::new();
            metadata.insert("total_size".to_owned(), total_size.into());
            metadata.insert(METADATA_FORMAT_KEY.to_owned(), METADATA_FORMAT.into());
            metadata.insert(
                METADATA_GENERATION_KEY.to_owned(),
                generation.clone().into(),
            );
            let json = serde_json::to_vec_pretty(&ShardIndex {
                metadata,
                weight_map,
            })
            .map_err(|e| CheckpointError::Save {
                file: index.display().to_string(),
                reason: e.to_string(),
            })?;
            staged.write(index, &json)?;
        }
        let lock = SaveLock::exclusive(path)?;
        let stale = replaced(path, &files, index.as_deref())?;
        staged.commit()?;
        let removed = stale
            .into_iter()
            .filter(|f| std::fs::remove_file(f).is_ok())
            .collect();
        drop(lock);
        Ok(Saved {
            files,
            index,
            total_size,
            mapping: report,
            removed,
        })
    }

    /// The bytes of the single safetensors file this save would write, built in memory.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let sources = self.sources()?;
        let (items, _) = self.plan(&sources)?;
        let (snapshots, meta) = self.snapshots(&items, &new_generation())?;
        let data = snapshots.iter().map(|(name, s)| (*name, s));
        ::safetensors::serialize(data, Some(meta)).map_err(|e| CheckpointError::Save {
            file: "<memory>".to_owned(),
            reason: e.to_string(),
        })
    }

    /// The tensors of one file, read, transformed and encoded, and its `__metadata__`.
    fn snapshots<'i>(&self, items: &'i [Item], generation: &str) -> Result<FileContent<'i>> {
        let mut snapshots = Vec::with_capacity(items.len());
        let mut trainable = serde_json::Map::new();
        for item in items {
            let value = match &self.input {
                Input::Variables(vars) => {
                    let (_, value, flag) = &vars[item.source];
                    trainable.insert(item.target.name.clone(), (*flag).into());
                    value.clone()
                }
                Input::Checkpoint(source) => {
                    source.read_tensor(&source.tensors()[item.source].name)?
                }
            };
            let value = transform(
                value,
                item.squeeze,
                item.transpose,
                item.cast,
                &self.location(),
                &item.target.name,
            )?;
            let bytes = value
                .to_le_bytes()
                .map_err(|_| CheckpointError::OutOfMemory {
                    file: self.location(),
                    name: item.target.name.clone(),
                    bytes: item.size,
                })?;
            snapshots.push((
                item.target.name.as_str(),
                Snapshot {
                    dtype: to_st_dtype(value.dtype()),
                    shape: value.shape().to_vec(),
                    bytes,
                },
            ));
        }
        let mut meta: HashMap<String, String> = self
            .mapping
            .map(|m| m.metadata().clone())
            .unwrap_or_default()
            .into_iter()
            .chain(self.metadata.clone())
            .collect();
        meta.insert(METADATA_FORMAT_KEY.to_owned(), METADATA_FORMAT.to_owned());
        meta.insert(METADATA_GENERATION_KEY.to_owned(), generation.to_owned());
        if !trainable.is_empty() {
            meta.insert(
                METADATA_TRAINABLE_KEY.to_owned(),
                serde_json::Value::Object(trainable).to_string(),
            );
        }
        Ok((snapshots, meta))
    }
}

/// Consecutive groups of `items` of at most `max` bytes each (a larger item alone).
fn split(items: &[Item], max: Option<u64>) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let Some(max) = max else {
        groups.push(0..items.len());
        return groups;
    };
    let (mut start, mut size) = (0, 0u64);
    for (i, item) in items.iter().enumerate() {
        if i > start && size + item.size > max {
            groups.push(start..i);
            (start, size) = (i, 0);
        }
        size += item.size;
    }
    groups.push(start..items.len());
    groups
}

/// The files a save to `path` (writing `files`, and `index` if sharded) replaces beside
/// what it writes, to be removed once it has committed: [`Save::save`] states the rule.
/// Fails with [`CheckpointError::SaveConflict`] if a file in the way is not this crate's.
fn replaced(path: &Path, files: &[PathBuf], index: Option<&Path>) -> Result<Vec<PathBuf>> {
    let conflict = |file: &Path, reason: &str| CheckpointError::SaveConflict {
        path: path.display().to_string(),
        file: file.display().to_string(),
        reason: reason.to_owned(),
    };
    let exists = |p: &Path| std::fs::symlink_metadata(p).ok();
    let mut stale = Vec::new();
    if index.is_some() {
        match exists(path) {
            None => {}
            Some(m) if m.is_file() || m.file_type().is_symlink() => stale.push(path.to_owned()),
            Some(_) => {
                return Err(conflict(
                    path,
                    "is not a regular file, and a sharded save would leave it beside its index",
                ))
            }
        }
    }
    let previous = index_path(path);
    if exists(&previous).is_some() {
        let dir = parent_dir(path);
        let parsed = read_regular(&previous, "read")
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ShardIndex>(&bytes).ok());
        let shards: Vec<PathBuf> = parsed
            .as_ref()
            .map(|ix| {
                let names: BTreeSet<&str> = ix.weight_map.values().map(String::as_str).collect();
                names
                    .into_iter()
                    .filter(|f| Path::new(f).file_name().is_some_and(|n| n == *f))
                    .map(|f| dir.join(f))
                    .collect()
            })
            .unwrap_or_default();
        let ours = parsed.as_ref().is_some_and(|ix| {
            ix.metadata.contains_key(METADATA_FORMAT_KEY)
                || (!shards.is_empty() && shards.iter().all(|s| written_by_scope(s)))
        });
        if !ours {
            return Err(conflict(
                &previous,
                "is the index of a checkpoint that scope did not write (its shards would be \
                 orphaned, or a reader of the directory would still find it)",
            ));
        }
        if index.is_none() {
            stale.push(previous.clone());
        }
        for shard in shards {
            if !files.contains(&shard) && shard != path && written_by_scope(&shard) {
                stale.push(shard);
            }
        }
    }
    if index.is_some() {
        for file in files {
            if exists(file).is_some() && !written_by_scope(file) {
                return Err(conflict(
                    file,
                    "exists and was not written by scope (a sharded save would replace it)",
                ));
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(size: u64) -> Item {
        Item {
            target: TensorInfo::new("x", DType::F32, &[]),
            source: 0,
            transpose: false,
            cast: None,
            squeeze: None,
            size,
        }
    }

    #[test]
    fn shards_fill_in_order_and_big_tensors_stand_alone() {
        let items: Vec<Item> = [4, 4, 4, 20, 1, 1].into_iter().map(item).collect();
        assert_eq!(split(&items, Some(8)), [0..2, 2..3, 3..4, 4..6]);
        let whole = |r: Vec<std::ops::Range<usize>>| r.into_iter().map(|g| (g.start, g.end));
        assert!(whole(split(&items, None)).eq([(0, 6)]));
        assert!(whole(split(&items, Some(1000))).eq([(0, 6)]));
        assert!(whole(split(&[], Some(8))).eq([(0, 0)]));
    }
}
