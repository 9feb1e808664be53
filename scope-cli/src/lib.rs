//! The logic of the `scope` command (`src/main.rs` only parses flags and prints): show a
//! checkpoint as a scope tree, compare two, write the `model!` that declares one, convert one.
//! Checkpoints are opened by the library's front door, [`scope::checkpoint::open`].
//!
//! Not public API: the binary and its benchmarks need it public, but it may change in any
//! release.

use std::path::Path;

use scope::checkpoint::{Checkpoint, CheckpointError};

mod convert;
mod diff;
mod import;
mod inspect;
mod naming;
mod split;
mod tree;

pub use self::convert::{
    check_output, convert, map_report, output_format, parse_size, ConvertOptions, Converted,
    OutputFormat,
};
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

    /// An output `convert` refuses to write: one of its inputs, a file that is not a
    /// regular one, a name that tells no format (see [`output_format`]).
    #[error("refusing to write {output}: {reason}")]
    Output {
        /// The output path given.
        output: String,
        /// Why, and what to do.
        reason: String,
    },

    /// A directory whose TF `checkpoint` state file is no regular file (a FIFO, a device):
    /// reading it could block or never end.
    #[error(
        "{file} is not a regular file (a FIFO, a device or a socket), and TF's `checkpoint` \
         state file is read to find a directory's latest checkpoint; remove it, or give the \
         checkpoint itself (its prefix, e.g. `model.ckpt`, or its file)"
    )]
    StateFile {
        /// The state file.
        file: String,
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

/// Opens the checkpoint at `path` through [`scope::checkpoint::open`], after refusing a
/// directory whose TF `checkpoint` state file (which `open` reads to find the latest
/// checkpoint) exists and is neither a regular file nor a directory: a FIFO would block the
/// read, a device never end it.
pub fn open_checkpoint(path: &Path) -> Result<Checkpoint> {
    if path.is_dir() {
        let state = path.join("checkpoint");
        // (Following symbolic links: a link to a FIFO blocks as the FIFO does.)
        if let Ok(meta) = std::fs::metadata(&state) {
            if !meta.is_file() && !meta.is_dir() {
                return Err(CliError::StateFile {
                    file: state.display().to_string(),
                });
            }
        }
    }
    Ok(scope::checkpoint::open(path)?)
}

/// A `Result` whose error is [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

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
    fn digits() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1234567), "1,234,567");
    }
}
