//! The logic of the `scope` command (`src/bin/scope.rs` only parses flags and prints): open
//! a checkpoint, show it as a scope tree, compare two, and write the `model!` that declares
//! one.
//!
//! Not public API: the binary needs it public, but it may change in any release.

use std::path::{Path, PathBuf};

use scope_runtime::checkpoint::{
    CheckpointError, CheckpointSource, SafetensorsCheckpoint, ShardedCheckpoint, TensorInfo,
    TfCheckpoint,
};

mod convert;
mod diff;
mod import;
mod inspect;
mod naming;
mod tree;

pub use self::convert::{convert, map_report, parse_size, ConvertOptions};
pub use self::diff::{diff, Diff};
pub use self::import::{import, ImportOptions};
pub use self::inspect::{inspect, InspectOptions};
pub use self::tree::{training_state, TrainingState};

/// What the `scope` command can refuse, each naming the file or variable and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Reading the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),

    /// Nothing at the path looks like a checkpoint.
    #[error(
        "no checkpoint at {path}: give a TF1 checkpoint prefix (`model.ckpt`, with \
         `model.ckpt.index` beside it), a `.safetensors` file, or a directory holding one"
    )]
    NoCheckpoint {
        /// The path given.
        path: String,
    },

    /// A directory holding several checkpoints.
    #[error("{dir} holds {} checkpoints ({}); name one of them", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// The directory.
        dir: String,
        /// The checkpoints found.
        candidates: Vec<String>,
    },

    /// A directory could not be listed.
    #[error("cannot list {dir}: {source}")]
    Io {
        /// The directory.
        dir: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// `--filter` is no valid regular expression.
    #[error("--filter: {0}")]
    Filter(#[from] regex::Error),

    /// A name nested deeper than the tools follow.
    #[error(
        "`{name}` is nested {depth} scopes deep; scope's tools follow at most {max} (is the \
         checkpoint corrupt?)"
    )]
    TooDeep {
        /// The tensor name, shortened.
        name: String,
        /// Its number of `/`-separated components.
        depth: usize,
        /// The limit.
        max: usize,
    },

    /// A name that no declaration can create.
    #[error("cannot declare `{name}`: {reason}")]
    Undeclarable {
        /// The tensor name.
        name: String,
        /// Why, and what to do.
        reason: String,
    },

    /// Nothing to import.
    #[error("{location} has no model variables{what}; nothing to declare")]
    Empty {
        /// The checkpoint.
        location: String,
        /// ` under scope `x``, or empty.
        what: String,
    },
}

/// A `Result` whose error is [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// The two formats the tools read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A TF1 TensorBundle (`model.ckpt.index` + data shards).
    Tf1,
    /// A safetensors file.
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

/// An opened checkpoint of either format.
#[derive(Debug)]
pub enum Checkpoint {
    /// A TF1 TensorBundle.
    Tf1(TfCheckpoint),
    /// A safetensors file.
    Safetensors(SafetensorsCheckpoint),
    /// Safetensors shards with a `*.safetensors.index.json` (Hugging Face's layout).
    Sharded(ShardedCheckpoint),
}

impl Checkpoint {
    /// Opens a TF1 checkpoint prefix (or its `.index` or a data shard's path), a
    /// `.safetensors` file, a `*.safetensors.index.json` with its shards, or the one
    /// checkpoint in a directory (a directory holding one such index means its shards).
    pub fn open(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        if let Some(index) = convert::shard_index(path)? {
            return Ok(Checkpoint::Sharded(ShardedCheckpoint::open(index)?));
        }
        if path.is_dir() {
            let found = checkpoints_in(path)?;
            return match found.as_slice() {
                [one] => Checkpoint::open(one),
                [] => Err(CliError::NoCheckpoint {
                    path: path.display().to_string(),
                }),
                many => Err(CliError::Ambiguous {
                    dir: path.display().to_string(),
                    candidates: many
                        .iter()
                        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into())
                        .collect(),
                }),
            };
        }
        let text = path.to_string_lossy();
        if let Some(prefix) = tf_prefix(&text) {
            return Ok(Checkpoint::Tf1(TfCheckpoint::open(prefix)?));
        }
        if Path::new(&format!("{text}.index")).is_file() {
            return Ok(Checkpoint::Tf1(TfCheckpoint::open(path)?));
        }
        if path.is_file() {
            return Ok(Checkpoint::Safetensors(SafetensorsCheckpoint::open(path)?));
        }
        Err(CliError::NoCheckpoint {
            path: text.into_owned(),
        })
    }

    /// Which format it is.
    pub fn format(&self) -> Format {
        match self {
            Checkpoint::Tf1(_) => Format::Tf1,
            Checkpoint::Safetensors(_) | Checkpoint::Sharded(_) => Format::Safetensors,
        }
    }

    /// The checkpoint as a source to list and restore from.
    pub fn source(&self) -> &dyn CheckpointSource {
        match self {
            Checkpoint::Tf1(tf) => tf,
            Checkpoint::Safetensors(st) => st,
            Checkpoint::Sharded(sh) => sh,
        }
    }

    /// Every stored tensor, sorted by name.
    pub fn tensors(&self) -> &[TensorInfo] {
        self.source().tensors()
    }

    /// Where it was read from.
    pub fn location(&self) -> &str {
        self.source().location()
    }

    /// The trainable flag a safetensors file written by scope records for `name`.
    pub fn trainable(&self, name: &str) -> Option<bool> {
        match self {
            Checkpoint::Tf1(_) => None,
            Checkpoint::Safetensors(st) => st.trainable(name),
            Checkpoint::Sharded(sh) => sh.trainable(name),
        }
    }
}

/// `model.ckpt` for `model.ckpt.index` or `model.ckpt.data-00000-of-00001`.
fn tf_prefix(path: &str) -> Option<&str> {
    if let Some(prefix) = path.strip_suffix(".index") {
        return Some(prefix);
    }
    let (prefix, shard) = path.rsplit_once(".data-")?;
    let (a, b) = shard.split_once("-of-")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    (digits(a) && digits(b)).then_some(prefix)
}

/// The checkpoints in `dir`, sorted: TF1 prefixes (one per `.index`) and `.safetensors`
/// files. A TF `checkpoint` state file, when present, names the one to use.
pub fn checkpoints_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| CliError::Io {
        dir: dir.display().to_string(),
        source,
    };
    if let Ok(state) = std::fs::read_to_string(dir.join("checkpoint")) {
        let latest = state.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("model_checkpoint_path:")?;
            Some(rest.trim().trim_matches('"').to_owned())
        });
        if let Some(latest) = latest {
            let path = dir.join(latest);
            if Path::new(&format!("{}.index", path.display())).is_file() {
                return Ok(vec![path]);
            }
        }
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path.to_string_lossy();
        if let Some(prefix) = name.strip_suffix(".index") {
            found.push(PathBuf::from(prefix));
        } else if name.ends_with(".safetensors") && path.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Hash maps of the tools' per-name work: foldhash (as the registry uses) instead of SipHash.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// A hash set, as [`Map`].
pub(crate) type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// The most `/`-separated components a name may have for `inspect` and `import`.
pub const MAX_DEPTH: usize = 256;

/// A name cut to a readable length for messages.
fn shorten(name: &str) -> String {
    const MAX: usize = 120;
    if name.len() <= MAX {
        return name.to_owned();
    }
    let mut end = MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &name[..end])
}

/// Thousands separators: `12,345`.
pub fn group_digits(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_prefixes() {
        assert_eq!(tf_prefix("a/model.ckpt.index"), Some("a/model.ckpt"));
        assert_eq!(
            tf_prefix("model.ckpt.data-00000-of-00001"),
            Some("model.ckpt")
        );
        assert_eq!(tf_prefix("model.ckpt"), None);
        assert_eq!(tf_prefix("x.data-a-of-1"), None);
    }

    #[test]
    fn digits() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1234567), "1,234,567");
    }

    #[test]
    fn opens_by_prefix_index_and_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed_rnn");
        let a = Checkpoint::open(dir.join("model.ckpt")).unwrap();
        let b = Checkpoint::open(dir.join("model.ckpt.index")).unwrap();
        assert_eq!(a.format(), Format::Tf1);
        assert_eq!(a.tensors(), b.tensors());
        let err = Checkpoint::open(&dir).unwrap_err().to_string();
        assert!(err.contains("model_step5.ckpt"), "{err}");
        let err = Checkpoint::open(dir.join("nothing"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no checkpoint at"), "{err}");
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seed_rnn");
        let dir = std::env::temp_dir().join(format!("scope-cli-corrupt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = std::fs::read(src.join("model.ckpt.index")).unwrap();
        let data = std::fs::read(src.join("model.ckpt.data-00000-of-00001")).unwrap();
        for cut in [0, 1, index.len() / 2, index.len() - 1] {
            std::fs::write(dir.join("t.ckpt.index"), &index[..cut]).unwrap();
            std::fs::write(dir.join("t.ckpt.data-00000-of-00001"), &data).unwrap();
            let err = Checkpoint::open(dir.join("t.ckpt"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("t.ckpt.index"), "{err}");
        }
        let mut flipped = index.clone();
        flipped[index.len() / 3] ^= 0x55;
        std::fs::write(dir.join("t.ckpt.index"), &flipped).unwrap();
        assert!(Checkpoint::open(dir.join("t.ckpt")).is_err());
        for bytes in [&b""[..], b"12345678", b"\xff\xff\xff\xff\xff\xff\xff\xff{}"] {
            std::fs::write(dir.join("x.safetensors"), bytes).unwrap();
            let err = Checkpoint::open(dir.join("x.safetensors"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a valid safetensors file"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
