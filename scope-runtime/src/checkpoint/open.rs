//! The front door: [`open`] reads any checkpoint the crate knows from one path (a TF1
//! prefix, a `.safetensors` file, Hugging Face shards with their index, or a directory holding
//! one of these), telling the format from the files themselves.
//!
//! Paths stay [`Path`]s throughout: a checkpoint under a directory whose name is not UTF-8
//! opens like any other.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::{
    CheckpointError, CheckpointSource, Result, SafetensorsCheckpoint, ShardedCheckpoint,
    TensorInfo, TfCheckpoint,
};
use crate::tensor::Tensor;

/// The two formats checkpoints come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A TF1 TensorBundle (`model.ckpt.index` + data shards).
    Tf1,
    /// A safetensors file, or shards with an index.
    Safetensors,
}

impl Format {
    /// `TF1 checkpoint` or `safetensors`.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Tf1 => "TF1 checkpoint",
            Format::Safetensors => "safetensors",
        }
    }
}

/// A checkpoint of any format, as [`open`] found it. It is a [`CheckpointSource`]: list it,
/// read from it, restore from it.
#[derive(Debug)]
pub struct Checkpoint {
    inner: Inner,
    /// Every file it reads, as opened (empty for one held in memory).
    files: Vec<PathBuf>,
}

#[derive(Debug)]
enum Inner {
    Tf1(TfCheckpoint),
    Safetensors(SafetensorsCheckpoint),
    Sharded(ShardedCheckpoint),
}

impl From<TfCheckpoint> for Checkpoint {
    /// A TF1 checkpoint opened elsewhere (its files unknown: [`Checkpoint::files`] is empty).
    fn from(tf: TfCheckpoint) -> Checkpoint {
        Checkpoint {
            inner: Inner::Tf1(tf),
            files: Vec::new(),
        }
    }
}

impl From<SafetensorsCheckpoint> for Checkpoint {
    /// A safetensors checkpoint opened elsewhere (its file unknown: [`Checkpoint::files`] is
    /// empty).
    fn from(st: SafetensorsCheckpoint) -> Checkpoint {
        Checkpoint {
            inner: Inner::Safetensors(st),
            files: Vec::new(),
        }
    }
}

impl From<ShardedCheckpoint> for Checkpoint {
    /// Shards opened elsewhere ([`Checkpoint::files`] lists the shards, not the index).
    fn from(sh: ShardedCheckpoint) -> Checkpoint {
        let files = sh.opened_shards().into_iter().map(Path::to_owned).collect();
        Checkpoint {
            inner: Inner::Sharded(sh),
            files,
        }
    }
}

/// Opens the checkpoint at `path`:
///
/// * a TF1 checkpoint by its prefix (`model.ckpt`), its `.index`, or a data shard's path
///   (`model.ckpt.data-00000-of-00001`);
/// * a `.safetensors` file (any other regular file is read as safetensors too);
/// * a `*.safetensors.index.json` and its shards (Hugging Face's layout);
/// * a directory: the shards of the one index in it, else the one checkpoint in it (a TF
///   `checkpoint` state file, when present, names the TF1 checkpoint to use).
///
/// A directory holding several checkpoints is refused with
/// [`CheckpointError::AmbiguousCheckpoint`], naming them; a path naming none with
/// [`CheckpointError::NoCheckpoint`]. Only regular files are read: a FIFO or a device is
/// refused, not waited on.
///
/// ```
/// use scope::checkpoint::{open, save_safetensors, CheckpointSource, Format};
/// use scope::{Registry, VarSpec};
///
/// let dir = std::env::temp_dir().join(format!("scope-doc-open-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let reg = Registry::new();
/// reg.variable_scope("dense").with(|_| reg.get_variable("kernel", VarSpec::new().shape([2])))?;
/// save_safetensors(dir.join("model.safetensors"), &reg)?;
///
/// let ckpt = open(&dir)?; // the directory's one checkpoint
/// assert_eq!(ckpt.format(), Format::Safetensors);
/// assert_eq!(ckpt.keys(), ["dense/kernel"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<Checkpoint> {
    let path = path.as_ref();
    if let Some(index) = shard_index(path)? {
        let sharded = ShardedCheckpoint::open(&index)?;
        let mut files = vec![index];
        files.extend(sharded.opened_shards().into_iter().map(Path::to_owned));
        return Ok(Checkpoint {
            inner: Inner::Sharded(sharded),
            files,
        });
    }
    if path.is_dir() {
        let found = checkpoints_in(path)?;
        return match found.as_slice() {
            // (Not into another directory: a symlinked `x.index` cannot loop.)
            [one] if !one.is_dir() => open(one),
            [] | [_] => Err(CheckpointError::NoCheckpoint {
                path: path.display().to_string(),
            }),
            many => Err(ambiguous(path, many)),
        };
    }
    let prefix = match tf_prefix(path) {
        Some(prefix) => Some(prefix),
        None if with_suffix(path, ".index").exists() => Some(path.to_owned()),
        None => None,
    };
    if let Some(prefix) = prefix {
        let index = with_suffix(&prefix, ".index");
        regular_file(&index)?;
        let tf = TfCheckpoint::open(&prefix)?;
        let mut files = vec![index];
        files.extend(
            (0..tf.num_shards()).map(|k| TfCheckpoint::shard_path(&prefix, k, tf.num_shards())),
        );
        // Data shards are read on demand: one that is there must be a file that reads
        // (a missing one is reported when a tensor in it is read).
        for data in &files[1..] {
            if data.exists() {
                regular_file(data)?;
            }
        }
        return Ok(Checkpoint {
            inner: Inner::Tf1(tf),
            files,
        });
    }
    if path.exists() {
        regular_file(path)?;
        return Ok(Checkpoint {
            inner: Inner::Safetensors(SafetensorsCheckpoint::open(path)?),
            files: vec![path.to_owned()],
        });
    }
    Err(CheckpointError::NoCheckpoint {
        path: path.display().to_string(),
    })
}

impl Checkpoint {
    /// Which format it is.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Tf1(_) => Format::Tf1,
            Inner::Safetensors(_) | Inner::Sharded(_) => Format::Safetensors,
        }
    }

    /// The checkpoint as the source it is (for APIs that take `&dyn CheckpointSource`).
    pub fn source(&self) -> &dyn CheckpointSource {
        match &self.inner {
            Inner::Tf1(tf) => tf,
            Inner::Safetensors(st) => st,
            Inner::Sharded(sh) => sh,
        }
    }

    /// The trainable flag a safetensors file written by scope records for `name` (TF1
    /// checkpoints record none).
    pub fn trainable(&self, name: &str) -> Option<bool> {
        match &self.inner {
            Inner::Tf1(_) => None,
            Inner::Safetensors(st) => st.trainable(name),
            Inner::Sharded(sh) => sh.trainable(name),
        }
    }

    /// Every file the checkpoint is read from, as [`open`] found them: a TF1 checkpoint's
    /// `.index` and data shards, a safetensors file, an index and its shards. A tool that
    /// writes files checks its outputs against these.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl CheckpointSource for Checkpoint {
    fn location(&self) -> &str {
        self.source().location()
    }
    fn tensors(&self) -> &[TensorInfo] {
        self.source().tensors()
    }
    fn read_tensor(&self, name: &str) -> Result<Tensor> {
        self.source().read_tensor(name)
    }
}

/// `path` with `suffix` appended to its last component, as OS strings (no lossy UTF-8).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The prefix `model.ckpt` of `model.ckpt.index` or of `model.ckpt.data-00000-of-00001`.
fn tf_prefix(path: &Path) -> Option<PathBuf> {
    let ext = path.extension()?.to_str()?;
    let is_data = || {
        let Some((a, b)) = ext.strip_prefix("data-").and_then(|s| s.split_once("-of-")) else {
            return false;
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        digits(a) && digits(b)
    };
    (ext == "index" || is_data()).then(|| path.with_extension(""))
}

/// Whether the file name ends with `suffix` (compared as bytes: no UTF-8 needed).
fn name_ends_with(path: &Path, suffix: &str) -> bool {
    path.file_name()
        .is_some_and(|n| n.as_encoded_bytes().ends_with(suffix.as_bytes()))
}

/// Refuses what is no regular file (a FIFO would block the read, a device never end).
fn regular_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|source| CheckpointError::Io {
        action: "open",
        file: path.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        return Ok(());
    }
    Err(CheckpointError::Io {
        action: "open",
        file: path.display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO or device); give a checkpoint file",
        ),
    })
}

fn list_error(dir: &Path) -> impl Fn(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        action: "list",
        file: dir.display().to_string(),
        source,
    }
}

/// The shard index `path` names: the `*.safetensors.index.json` itself, or the only one in
/// a directory. `None` if it names no index.
fn shard_index(path: &Path) -> Result<Option<PathBuf>> {
    let is_index = |p: &Path| name_ends_with(p, ".safetensors.index.json");
    if !path.is_dir() {
        return Ok(is_index(path).then(|| path.to_owned()));
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path).map_err(list_error(path))? {
        let p = entry.map_err(list_error(path))?.path();
        if is_index(&p) && p.is_file() {
            found.push(p);
        }
    }
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(ambiguous(path, &found)),
    }
}

/// `dir` holds the checkpoints `found`.
fn ambiguous(dir: &Path, found: &[PathBuf]) -> CheckpointError {
    CheckpointError::AmbiguousCheckpoint {
        dir: dir.display().to_string(),
        candidates: found
            .iter()
            .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into())
            .collect(),
    }
}

/// The checkpoints in `dir`, sorted: TF1 prefixes (one per `.index`) and `.safetensors`
/// files. A TF `checkpoint` state file, when present and naming a checkpoint that exists,
/// names the one to use.
pub fn checkpoints_in(dir: &Path) -> Result<Vec<PathBuf>> {
    // Only a regular file is read: a FIFO or device named `checkpoint` would block or never
    // end, and is not TF's state file anyway.
    let state_path = dir.join("checkpoint");
    let state = std::fs::metadata(&state_path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .and_then(|_| std::fs::read_to_string(&state_path).ok());
    if let Some(state) = state {
        let latest = state.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("model_checkpoint_path:")?;
            Some(rest.trim().trim_matches('"').to_owned())
        });
        if let Some(latest) = latest {
            let path = dir.join(latest);
            if with_suffix(&path, ".index").is_file() {
                return Ok(vec![path]);
            }
        }
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error(dir))? {
        let path = entry.map_err(list_error(dir))?.path();
        if path.extension() == Some(OsStr::new("index")) {
            found.push(path.with_extension(""));
        } else if name_ends_with(&path, ".safetensors") && path.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed_rnn")
    }

    #[test]
    fn tf_prefixes() {
        let p = |s: &str| tf_prefix(Path::new(s));
        assert_eq!(p("a/model.ckpt.index"), Some("a/model.ckpt".into()));
        assert_eq!(
            p("model.ckpt.data-00000-of-00001"),
            Some("model.ckpt".into())
        );
        assert_eq!(p("model.ckpt"), None);
        assert_eq!(p("x.data-a-of-1"), None);
    }

    #[test]
    fn opens_by_prefix_index_and_directory() {
        let dir = data();
        let a = open(dir.join("model.ckpt")).unwrap();
        let b = open(dir.join("model.ckpt.index")).unwrap();
        let c = open(dir.join("model.ckpt.data-00000-of-00001")).unwrap();
        assert_eq!(a.format(), Format::Tf1);
        assert_eq!(a.tensors(), b.tensors());
        assert_eq!(a.files(), c.files());
        assert_eq!(
            a.files(),
            [
                dir.join("model.ckpt.index"),
                dir.join("model.ckpt.data-00000-of-00001")
            ]
        );
        let err = open(&dir).unwrap_err().to_string();
        assert!(err.contains("model_step5.ckpt"), "{err}");
        let err = open(dir.join("nothing")).unwrap_err().to_string();
        assert!(err.starts_with("no checkpoint at"), "{err}");
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors() {
        let src = data();
        let dir = std::env::temp_dir().join(format!("scope-open-corrupt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = std::fs::read(src.join("model.ckpt.index")).unwrap();
        let data = std::fs::read(src.join("model.ckpt.data-00000-of-00001")).unwrap();
        for cut in [0, 1, index.len() / 2, index.len() - 1] {
            std::fs::write(dir.join("t.ckpt.index"), &index[..cut]).unwrap();
            std::fs::write(dir.join("t.ckpt.data-00000-of-00001"), &data).unwrap();
            let err = open(dir.join("t.ckpt")).unwrap_err().to_string();
            assert!(err.contains("t.ckpt.index"), "{err}");
        }
        let mut flipped = index.clone();
        flipped[index.len() / 3] ^= 0x55;
        std::fs::write(dir.join("t.ckpt.index"), &flipped).unwrap();
        assert!(open(dir.join("t.ckpt")).is_err());
        for bytes in [&b""[..], b"12345678", b"\xff\xff\xff\xff\xff\xff\xff\xff{}"] {
            std::fs::write(dir.join("x.safetensors"), bytes).unwrap();
            let err = open(dir.join("x.safetensors")).unwrap_err().to_string();
            assert!(err.contains("not a valid safetensors file"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Paths are never passed through lossy UTF-8: a checkpoint under a directory whose name
    /// is not UTF-8 opens by prefix, by index, and as the directory's one checkpoint.
    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_open() {
        use std::os::unix::ffi::OsStrExt;
        let base = std::env::temp_dir().join(format!("scope-open-nu-{}", std::process::id()));
        let dir = base.join(OsStr::from_bytes(b"nu\xff\xfe"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["model.ckpt.index", "model.ckpt.data-00000-of-00001"] {
            std::fs::copy(data().join(f), dir.join(f)).unwrap();
        }
        let expected = open(data().join("model.ckpt")).unwrap();
        for path in [
            dir.join("model.ckpt"),
            dir.join("model.ckpt.index"),
            dir.clone(),
        ] {
            let ckpt = open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(ckpt.tensors(), expected.tensors());
            assert_eq!(ckpt.files()[0], dir.join("model.ckpt.index"));
        }
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_not_waited_on() {
        let dir = std::env::temp_dir().join(format!("scope-open-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("x.safetensors");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = open(&fifo).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
            // A TF1 checkpoint whose data shard is a FIFO.
            std::fs::copy(data().join("model.ckpt.index"), dir.join("m.ckpt.index")).unwrap();
            let shard = dir.join("m.ckpt.data-00000-of-00001");
            std::process::Command::new("mkfifo")
                .arg(&shard)
                .status()
                .unwrap();
            let err = open(dir.join("m.ckpt")).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
            assert!(err.contains("m.ckpt.data-00000-of-00001"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
