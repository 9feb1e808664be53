//! Saving through a mapping and into shards: variables (or another checkpoint) to one
//! safetensors file, or to Hugging Face style shards plus an index.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::mapping::{transform, Mapping, MappingReport, Squeeze};
use super::safetensors::{temporary_beside, to_st_dtype, Snapshot};
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
/// Files are written to temporary names and renamed only once all are complete; stale
/// shards of an earlier save to the same path are removed.
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
}

/// One tensor to write.
struct Item {
    target: TensorInfo,
    source: usize,
    transpose: bool,
    cast: Option<DType>,
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
                            cast: e.cast,
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
                        squeeze: None,
                        cast: None,
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
    /// (mapping, dtypes) and every tensor read before the first file replaces anything at
    /// `path`.
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
        let dir = path.parent().unwrap_or(Path::new("."));
        let stem = shard_stem(path);
        let files: Vec<PathBuf> = if groups.len() == 1 {
            vec![path.to_owned()]
        } else {
            (1..=groups.len())
                .map(|k| dir.join(shard_name(&stem, k, groups.len())))
                .collect()
        };
        let mut staged = Staged::default();
        let mut weight_map = BTreeMap::new();
        for (group, file) in groups.iter().zip(&files) {
            let bytes = self.serialize(&items[group.clone()])?;
            staged.write(file, &bytes)?;
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            for item in &items[group.clone()] {
                weight_map.insert(item.target.name.clone(), name.to_string());
            }
        }
        let index = (files.len() > 1).then(|| index_path(path));
        if let Some(index) = &index {
            let mut metadata = serde_json::Map::new();
            metadata.insert("total_size".to_owned(), total_size.into());
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
        staged.commit()?;
        remove_stale(path, &stem, &files, index.is_some());
        Ok(Saved {
            files,
            index,
            total_size,
            mapping: report,
        })
    }

    /// One safetensors file holding `items`.
    fn serialize(&self, items: &[Item]) -> Result<Vec<u8>> {
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
        if !trainable.is_empty() {
            meta.insert(
                METADATA_TRAINABLE_KEY.to_owned(),
                serde_json::Value::Object(trainable).to_string(),
            );
        }
        let data = snapshots.iter().map(|(name, s)| (*name, s));
        ::safetensors::serialize(data, Some(meta)).map_err(|e| CheckpointError::Save {
            file: self.location(),
            reason: e.to_string(),
        })
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

/// Files written under temporary names, renamed into place together by `commit`, removed
/// if dropped before.
#[derive(Default)]
struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = temporary_beside(path);
        let written = std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .map_err(|source| CheckpointError::Io {
                action: "write",
                file: tmp.display().to_string(),
                source,
            });
        self.files.push((tmp, path.to_owned()));
        written
    }

    fn commit(mut self) -> Result<()> {
        for (tmp, path) in std::mem::take(&mut self.files) {
            std::fs::rename(&tmp, &path).map_err(|source| CheckpointError::Io {
                action: "write",
                file: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Removes files of an earlier save to `path` that this one did not write: shards
/// `stem-NNNNN-of-NNNNN.safetensors`, the index (if now single), the single file (if now
/// sharded).
fn remove_stale(path: &Path, stem: &str, written: &[PathBuf], sharded: bool) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if sharded {
        let _ = std::fs::remove_file(path);
    } else {
        let _ = std::fs::remove_file(index_path(path));
    }
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let keep: HashSet<&std::ffi::OsStr> = written.iter().filter_map(|p| p.file_name()).collect();
    for entry in listing.flatten() {
        let name = entry.file_name();
        if keep.contains(name.as_os_str()) {
            continue;
        }
        let name = name.to_string_lossy();
        let is_shard = name
            .strip_prefix(stem)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.strip_suffix(".safetensors"))
            .is_some_and(|r| {
                r.len() == 14
                    && r.as_bytes()[5..9] == *b"-of-"
                    && r[..5]
                        .bytes()
                        .chain(r[9..].bytes())
                        .all(|b| b.is_ascii_digit())
            });
        if is_shard {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(size: u64) -> Item {
        Item {
            target: TensorInfo::new("x", DType::F32, &[]),
            source: 0,
            transpose: false,
            squeeze: None,
            cast: None,
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
