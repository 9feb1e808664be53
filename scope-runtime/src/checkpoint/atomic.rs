//! The one way files reach disk: written under a temporary name beside their target, flushed,
//! and renamed into place together under the directory's save lock; plus the lock readers
//! take, and the test of whether a file was written by this crate.
//!
//! # Concurrent saves and reads
//!
//! Every save's commit (the renames, and the removal of what the save replaces) runs under an
//! exclusive lock of the checkpoint's directory; opening a sharded checkpoint (reading the
//! index, mapping its shards) runs under a shared lock of the same directory. The expensive
//! part of a save (serializing, writing, flushing the temporaries) runs unlocked, so saves
//! only queue for their renames. The lock is per directory: on Unix an advisory `flock` on
//! the directory itself, so no lock file is left anywhere; elsewhere an empty
//! `.scope-save.lock` file in the directory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CheckpointError, Result, METADATA_FORMAT_KEY};

/// `__metadata__` key (and index `metadata` key) holding the save's generation: a random
/// token that every file of one save carries, so that a reader can tell files of two saves
/// apart.
pub(super) const METADATA_GENERATION_KEY: &str = "scope.generation";

/// A fresh generation token.
pub(super) fn new_generation() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A temporary path beside `path` that no other save, in this process or another, uses:
/// `<file>.tmp-<pid>-<sequence>-<random>`.
pub(super) fn temporary_beside(path: &Path) -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".tmp-{}-{}-{:08x}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    ));
    path.with_file_name(name)
}

/// The directory holding `path` (`.` for a bare file name).
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Files written under temporary names, renamed into place in the order written by
/// [`Staged::commit`], removed if dropped before.
#[derive(Default)]
pub(super) struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// Writes `path`'s future content to a temporary beside it with `write` (given the
    /// temporary's path) and flushes it to disk.
    pub(super) fn write_with(
        &mut self,
        path: &Path,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<()> {
        let tmp = temporary_beside(path);
        self.files.push((tmp.clone(), path.to_owned()));
        write(&tmp)?;
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|source| CheckpointError::Io {
                action: "write",
                file: tmp.display().to_string(),
                source,
            })
    }

    /// [`Staged::write_with`] for bytes in memory.
    pub(super) fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.write_with(path, |tmp| {
            std::fs::write(tmp, bytes).map_err(|source| CheckpointError::Io {
                action: "write",
                file: tmp.display().to_string(),
                source,
            })
        })
    }

    /// Renames every file into place, in the order written. Call it under the directory's
    /// [`SaveLock::exclusive`].
    /// If a rename fails, the temporaries not yet renamed are removed (by `Drop`).
    pub(super) fn commit(mut self) -> Result<()> {
        while !self.files.is_empty() {
            let (tmp, path) = &self.files[0];
            std::fs::rename(tmp, path).map_err(|source| CheckpointError::Io {
                action: "write",
                file: path.display().to_string(),
                source,
            })?;
            self.files.remove(0);
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

/// An advisory lock on the directory holding a checkpoint, released when dropped.
pub(super) struct SaveLock {
    _file: File,
}

impl SaveLock {
    /// Waits for the exclusive lock that a save's commit holds.
    pub(super) fn exclusive(path: &Path) -> Result<SaveLock> {
        let file = lock_target(path, true).map_err(|source| CheckpointError::Io {
            action: "lock",
            file: parent_dir(path).display().to_string(),
            source,
        })?;
        file.lock().map_err(|source| CheckpointError::Io {
            action: "lock",
            file: parent_dir(path).display().to_string(),
            source,
        })?;
        Ok(SaveLock { _file: file })
    }

    /// Waits for a shared lock (no save commits meanwhile). `None` if the lock cannot be
    /// had (a directory this process may not open, or no lock file yet): then the reader
    /// relies on the generation check alone.
    pub(super) fn shared(path: &Path) -> Option<SaveLock> {
        let file = lock_target(path, false).ok()?;
        file.lock_shared().ok()?;
        Some(SaveLock { _file: file })
    }
}

/// What is locked for a checkpoint at `path`: its directory (Unix), or the empty file
/// `.scope-save.lock` in it.
#[cfg(unix)]
fn lock_target(path: &Path, _create: bool) -> std::io::Result<File> {
    File::open(parent_dir(path))
}

/// What is locked for a checkpoint at `path`: its directory (Unix), or the empty file
/// `.scope-save.lock` in it.
#[cfg(not(unix))]
fn lock_target(path: &Path, create: bool) -> std::io::Result<File> {
    let lock = parent_dir(path).join(".scope-save.lock");
    if create {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock)
    } else {
        File::open(lock)
    }
}

/// Opens `path` for reading if it is a regular file (following symbolic links). A FIFO, a
/// device or a directory is refused before it is opened, so that reading never blocks on
/// one.
pub(super) fn open_regular(path: &Path, action: &'static str) -> Result<File> {
    let io = |source| CheckpointError::Io {
        action,
        file: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(not_regular(&meta)));
    }
    let file = File::open(path).map_err(io)?;
    // Checked again on what was opened: the path may have been replaced meanwhile.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(not_regular(&meta)));
    }
    Ok(file)
}

/// Reads the whole of `path` if it is a regular file ([`open_regular`]).
pub(super) fn read_regular(path: &Path, action: &'static str) -> Result<Vec<u8>> {
    let mut file = open_regular(path, action)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| CheckpointError::Io {
            action,
            file: path.display().to_string(),
            source,
        })?;
    Ok(bytes)
}

fn not_regular(meta: &std::fs::Metadata) -> std::io::Error {
    let kind = if meta.is_dir() {
        "a directory"
    } else {
        "a FIFO, socket or device"
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is {kind}, not a regular file; checkpoints are read from regular files only"),
    )
}

/// The `__metadata__` of the safetensors file at `path`, reading its header only; `None` if
/// it is not a regular safetensors file.
pub(super) fn header_metadata(path: &Path) -> Option<BTreeMap<String, String>> {
    /// Far above any real header; bounds what a hostile file can make this read.
    const MAX_HEADER: u64 = 100 << 20;
    let mut file = open_regular(path, "read").ok()?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER || n > file.metadata().ok()?.len() {
        return None;
    }
    let mut header = vec![0u8; n as usize];
    file.read_exact(&mut header).ok()?;
    #[derive(serde::Deserialize)]
    struct Header {
        #[serde(rename = "__metadata__", default)]
        metadata: BTreeMap<String, String>,
    }
    serde_json::from_slice::<Header>(&header)
        .ok()
        .map(|h| h.metadata)
}

/// Whether `path` is a regular safetensors file this crate wrote (its header carries
/// [`METADATA_FORMAT_KEY`]).
pub(super) fn written_by_scope(path: &Path) -> bool {
    header_metadata(path).is_some_and(|m| m.contains_key(METADATA_FORMAT_KEY))
}
