//! `scope convert`: a checkpoint to safetensors (optionally in Hugging Face's shards) or to a
//! TF1 checkpoint, through a preset mapping (BERT between TF1 and Hugging Face names); and
//! `scope inspect --map`: the names before and after, without writing anything.
//!
//! Nothing the conversion reads is written over or removed: every file the save may replace
//! or clean up (the output, its index, stale shards of its name; a TF1 checkpoint's `.index`
//! and data shard) is compared with the input's files by identity (device and inode, so a
//! symlink or a hard link is caught too) before anything is read.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use scope::checkpoint::{
    CastMode, Checkpoint, CheckpointError, CheckpointSource, Mapping, MappingReport, Save,
    TfCheckpoint, TfCheckpointWriter,
};
use scope::models::presets;

use super::{CliError, Result};

/// The format `convert` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One `.safetensors` file, or Hugging Face's shards and index beside the path given.
    Safetensors,
    /// A TF1 checkpoint (TensorBundle V2) at the prefix given: `<prefix>.index` and
    /// `<prefix>.data-00000-of-00001`, which `tf.train.load_checkpoint` and
    /// `tf.compat.v1.train.Saver.restore` read.
    Tf1,
}

/// How to convert.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// A preset name (`bert-tf-to-hf`, `bert-hf-to-tf:classifier`, ...); `None` copies the
    /// names as they are.
    pub preset: Option<String>,
    /// The format to write; `None` tells it from the output's name (see [`output_format`]).
    pub format: Option<OutputFormat>,
    /// What the preset's casts do with a value the target dtype cannot hold (refuse by
    /// default; see [`CastMode`]).
    pub cast_mode: CastMode,
    /// Shards of at most this many bytes (Hugging Face's layout); `None` writes one file.
    /// Safetensors only.
    pub max_shard_size: Option<u64>,
    /// Replace an output that exists but is no regular file (a FIFO, a device) with the
    /// checkpoint; refused without.
    pub replace_special: bool,
}

/// What a conversion did.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The format written.
    pub format: OutputFormat,
    /// Every file written: the tensor files (the single file, the shards in order, or the TF1
    /// data shard), then the index, if any.
    pub files: Vec<PathBuf>,
    /// How many of [`Converted::files`] hold tensors.
    pub data_files: usize,
    /// Bytes of tensor data in all.
    pub total_size: u64,
    /// What the mapping did, when there was one.
    pub mapping: Option<MappingReport>,
    /// Files of an earlier save to the same name that this one removed (stale shards, the
    /// single file or the index of the other layout), as the save reports them
    /// ([`scope::checkpoint::Saved::removed`]). A TF1 output removes nothing.
    pub removed: Vec<PathBuf>,
    /// Data shards of an earlier TF1 checkpoint at the same prefix that the new index no
    /// longer names (`model.ckpt.data-00001-of-00002`, ...): left in place, not removed.
    pub left: Vec<PathBuf>,
}

/// Writes `input` to `output` through the preset, in the format [`output_format`] picks:
/// safetensors at a `.safetensors` path (shards and an index go beside it), or a TF1
/// checkpoint at a prefix. The output is checked first (see [`check_output`]), then the
/// mapping against every name, and every tensor is read before anything is written.
pub fn convert(input: &Checkpoint, output: &Path, options: &ConvertOptions) -> Result<Converted> {
    let format = check_output(input, output, options)?;
    let mapping = options
        .preset
        .as_deref()
        .map(|name| presets().mapping(name, input.tensors()))
        .transpose()?
        .map(|m| m.with_cast_mode(options.cast_mode));
    match format {
        OutputFormat::Safetensors => {
            let mut save = Save::from_checkpoint(input.source());
            if let Some(m) = &mapping {
                save = save.mapping(m);
            }
            if let Some(n) = options.max_shard_size {
                save = save.max_shard_size(n);
            }
            let saved = save.save(output)?;
            let data_files = saved.files.len();
            Ok(Converted {
                format,
                files: saved.files.into_iter().chain(saved.index).collect(),
                data_files,
                total_size: saved.total_size,
                mapping: saved.mapping,
                removed: saved.removed,
                left: Vec::new(),
            })
        }
        OutputFormat::Tf1 => write_tf1(input, output, mapping.as_ref()),
    }
}

/// Writes `input` (mapped, when a mapping is given) as a TF1 checkpoint at `prefix`. Without
/// a mapping, a TF1 input's partitioned variables keep their slices (a mapping may transpose,
/// so through one every tensor is written whole).
fn write_tf1(input: &Checkpoint, prefix: &Path, mapping: Option<&Mapping>) -> Result<Converted> {
    let mut writer = TfCheckpointWriter::new();
    let mut total_size = 0u64;
    let mut count = |t: &scope::Tensor| {
        total_size += (t.len() * t.dtype().size_of()) as u64;
    };
    let report = match mapping {
        Some(m) => {
            let view = m.view(input.source())?;
            for info in view.tensors() {
                let value = view.read_tensor(&info.name)?;
                count(&value);
                writer.add(&info.name, value)?;
            }
            Some(view.report().clone())
        }
        None => {
            let tf = crate::split::tf1_of(input);
            for info in input.tensors() {
                let slices = tf
                    .as_ref()
                    .map(|tf| tf.slices(&info.name))
                    .unwrap_or_default();
                if slices.is_empty() {
                    let value = input.read_tensor(&info.name)?;
                    count(&value);
                    writer.add(&info.name, value)?;
                }
                for slice in &slices {
                    let part = input.source().read_region(&info.name, slice)?;
                    count(&part);
                    writer.add_slice(&info.name, &info.shape, slice, part)?;
                }
            }
            None
        }
    };
    // As a safetensors save does, the directory is created (the TF1 writer does not).
    if let Some(dir) = prefix.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
            action: "create",
            file: dir.display().to_string(),
            source,
        })?;
    }
    // `write` returns the index, then the data shard.
    let mut files = writer.write(prefix)?;
    files.reverse();
    let left = other_data_shards(prefix, &files[0]);
    Ok(Converted {
        format: OutputFormat::Tf1,
        files,
        data_files: 1,
        total_size,
        mapping: report,
        removed: Vec::new(),
        left,
    })
}

/// The files beside `prefix` named as its data shards (`<prefix>.data-NNNNN-of-NNNNN`),
/// other than `written`, sorted.
fn other_data_shards(prefix: &Path, written: &Path) -> Vec<PathBuf> {
    let Some(name) = prefix.file_name() else {
        return Vec::new();
    };
    let dir = match prefix.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut data_prefix = name.as_encoded_bytes().to_vec();
    data_prefix.extend_from_slice(b".data-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| prefix.with_file_name(entry.file_name()))
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().as_encoded_bytes();
            n.starts_with(&data_prefix)
                && n.len() == data_prefix.len() + 14
                && is_tf_file(p)
                && p.as_path() != written
        })
        .collect();
    found.sort();
    found
}

/// The format to write at `output`: `flag` if given (checked against the name), else told
/// from the name. The rule:
///
/// * `<name>.safetensors` is safetensors (`--format tf1` refuses it: a TF1 checkpoint under
///   that name would be taken for safetensors by every reader);
/// * `<name>.ckpt` is a TF1 checkpoint prefix: `<name>.ckpt.index` and
///   `<name>.ckpt.data-00000-of-00001` are written;
/// * any other name is a TF1 prefix with `--format tf1` (`model.ckpt-1000`, as TF names
///   checkpoints by step) and refused without a flag, as is any name with
///   `--format safetensors` that does not end in `.safetensors`;
/// * a file of a checkpoint rather than its name is refused whatever the flag: a TF1
///   checkpoint's `.index` or `.data-NNNNN-of-NNNNN` (give the prefix), a
///   `.safetensors.index.json` (give the `.safetensors` name; the index goes beside it), and a
///   path that ends in a separator.
pub fn output_format(output: &Path, flag: Option<OutputFormat>) -> Result<OutputFormat> {
    let refuse = |reason: &str| CliError::Output {
        output: output.display().to_string(),
        reason: reason.to_owned(),
    };
    let trailing = output
        .as_os_str()
        .as_encoded_bytes()
        .last()
        .is_some_and(|&c| std::path::is_separator(c as char));
    let name =
        match output.file_name() {
            Some(name) if !trailing => name.as_encoded_bytes(),
            _ => return Err(refuse(
                "give a file name, not a directory: `<dir>/model.safetensors` for safetensors, \
                 `<dir>/model.ckpt` for a TF1 checkpoint",
            )),
        };
    if name.ends_with(b".safetensors.index.json") {
        return Err(refuse(
            "that is where a sharded save's index goes: name the output `<name>.safetensors` \
             (shards and the index go beside it)",
        ));
    }
    if is_tf_file(output) {
        return Err(refuse(
            "that is a file of a TF1 checkpoint: give the checkpoint's prefix, e.g. \
             `model.ckpt` (convert writes `<prefix>.index` and \
             `<prefix>.data-00000-of-00001`), or name the output `<name>.safetensors`",
        ));
    }
    let safetensors = name.len() > SAFETENSORS.len() && name.ends_with(SAFETENSORS);
    match (flag, safetensors) {
        (Some(OutputFormat::Tf1), true) => Err(refuse(
            "--format tf1 writes a TF1 checkpoint, which a `.safetensors` name would pass off \
             as safetensors: give a prefix such as `model.ckpt`",
        )),
        (Some(OutputFormat::Tf1), false) => Ok(OutputFormat::Tf1),
        (_, true) => Ok(OutputFormat::Safetensors),
        (Some(OutputFormat::Safetensors), false) => Err(refuse(
            "convert writes safetensors: name the output `<name>.safetensors` (shards and an \
             index go beside it)",
        )),
        (None, false) if name.ends_with(b".ckpt") && name.len() > 5 => Ok(OutputFormat::Tf1),
        (None, false) => Err(refuse(
            "cannot tell which format to write from the name: name it `<name>.safetensors` \
             for safetensors or `<name>.ckpt` for a TF1 checkpoint, or give --format \
             safetensors|tf1 (a TF1 checkpoint goes to `<prefix>.index` and \
             `<prefix>.data-00000-of-00001`)",
        )),
    }
}

const SAFETENSORS: &[u8] = b".safetensors";

/// Whether `path` names a TF1 checkpoint's `.index` or a `.data-NNNNN-of-NNNNN` shard.
fn is_tf_file(path: &Path) -> bool {
    let Some(ext) = path.extension() else {
        return false;
    };
    let ext = ext.as_encoded_bytes();
    let Some(rest) = ext.strip_prefix(b"data-") else {
        return ext == b"index";
    };
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    rest.windows(4)
        .position(|w| w == b"-of-")
        .is_some_and(|at| digits(&rest[..at]) && digits(&rest[at + 4..]))
}

/// `path` with `suffix` appended to its last component (as OS strings: no lossy UTF-8).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Refuses an output that this conversion must not write, and returns the format to write
/// (see [`output_format`]).
///
/// The files at risk are those the save may replace or remove: for safetensors the output,
/// its index (`<output>.index.json`) and shards of its name
/// (`<stem>-NNNNN-of-NNNNN.safetensors`) beside it; for a TF1 checkpoint `<prefix>.index`
/// and `<prefix>.data-00000-of-00001`. Refused: a file to be written that is a directory, or
/// a FIFO or device unless `replace_special`; any file at risk that is one of the input's
/// files (the same device and inode: by any name, symlink or hard link); `max_shard_size`
/// for a TF1 checkpoint (written in one data shard).
pub fn check_output(
    input: &Checkpoint,
    output: &Path,
    options: &ConvertOptions,
) -> Result<OutputFormat> {
    let refuse = |reason: String| CliError::Output {
        output: output.display().to_string(),
        reason,
    };
    let format = output_format(output, options.format)?;
    let (written, mut at_risk) = match format {
        OutputFormat::Safetensors => {
            let mut at_risk = vec![output.to_owned(), index_path(output)];
            let name = output.file_name().unwrap_or_default().as_encoded_bytes();
            let stem = &name[..name.len() - SAFETENSORS.len()];
            let dir = match output.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            if let Ok(listing) = std::fs::read_dir(dir) {
                for entry in listing.flatten() {
                    if is_shard_of(stem, entry.file_name().as_encoded_bytes()) {
                        at_risk.push(output.with_file_name(entry.file_name()));
                    }
                }
            }
            (vec![output.to_owned()], at_risk)
        }
        OutputFormat::Tf1 => {
            if options.max_shard_size.is_some() {
                return Err(refuse(
                    "--max-shard-size splits safetensors; a TF1 checkpoint is written in one \
                     data shard (drop the flag, or write `<name>.safetensors`)"
                        .to_owned(),
                ));
            }
            if output.is_dir() {
                return Err(refuse(
                    "it is a directory; give a checkpoint prefix inside it, e.g. \
                     `<dir>/model.ckpt`"
                        .to_owned(),
                ));
            }
            let files = vec![
                with_suffix(output, ".index"),
                TfCheckpoint::shard_path(output, 0, 1),
            ];
            (files.clone(), files)
        }
    };
    for path in &written {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let what = if path == output {
            "it is".to_owned()
        } else {
            format!("{}, which the checkpoint is written to, is", path.display())
        };
        if meta.is_dir() {
            let example = match format {
                OutputFormat::Safetensors => "`<dir>/model.safetensors`",
                OutputFormat::Tf1 => "`<dir>/model.ckpt`",
            };
            return Err(refuse(format!(
                "{what} a directory; give a path inside it, e.g. {example}"
            )));
        }
        if !meta.is_file() && !options.replace_special {
            return Err(refuse(format!(
                "{what} not a regular file (a FIFO, a device, a socket); give \
                 --replace-special-file to replace it with the checkpoint"
            )));
        }
    }
    at_risk.retain(|p| std::fs::symlink_metadata(p).is_ok());
    let inputs: Vec<(FileId, &PathBuf)> = input
        .files()
        .iter()
        .filter_map(|f| Some((file_id(f)?, f)))
        .collect();
    for path in &at_risk {
        let Some(id) = file_id(path) else { continue };
        if let Some((_, file)) = inputs.iter().find(|(i, _)| *i == id) {
            let what = if path == output {
                "it is".to_owned()
            } else {
                format!(
                    "saving there would replace or remove {}, which is",
                    path.display()
                )
            };
            return Err(refuse(format!(
                "{what} {}, a file of the input checkpoint; write to another name or directory",
                file.display()
            )));
        }
    }
    Ok(format)
}

/// `<output>.index.json`, where a sharded save puts its index.
fn index_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_owned();
    name.push(".index.json");
    output.with_file_name(name)
}

/// Whether `name` is `<stem>-NNNNN-of-NNNNN.safetensors`.
fn is_shard_of(stem: &[u8], name: &[u8]) -> bool {
    let Some(rest) = name
        .strip_prefix(stem)
        .and_then(|r| r.strip_prefix(b"-"))
        .and_then(|r| r.strip_suffix(b".safetensors"))
    else {
        return false;
    };
    rest.len() == 14
        && rest[5..9] == *b"-of-"
        && rest[..5].iter().chain(&rest[9..]).all(u8::is_ascii_digit)
}

/// What makes two paths one file: device and inode.
#[cfg(unix)]
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// What makes two paths one file: the canonical path.
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<FileId> {
    std::fs::canonicalize(path).ok()
}

/// What the preset named `name` does to `input`'s names (every name before and after, and
/// every problem), writing nothing.
pub fn map_report(input: &Checkpoint, name: &str) -> Result<MappingReport> {
    Ok(presets()
        .mapping(name, input.tensors())?
        .report(input.tensors()))
}

/// Parses a size: bytes, or with a `KB`/`MB`/`GB` (powers of 1000) or `KiB`/`MiB`/`GiB`
/// (powers of 1024) suffix, as transformers' `max_shard_size` accepts.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` (B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 5GB, 64KiB, 1000000)"))?;
    let bytes = n * factor as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{text}` is not a usable shard size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_transformers() {
        assert_eq!(parse_size("5GB"), Ok(5_000_000_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1.5 MB"), Ok(1_500_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("5 parsecs")
            .unwrap_err()
            .contains("unknown size unit"));
        assert!(parse_size("GB").is_err());
    }

    #[test]
    fn shard_names() {
        assert!(is_shard_of(b"model", b"model-00001-of-00005.safetensors"));
        assert!(!is_shard_of(b"model", b"model-0001-of-00005.safetensors"));
        assert!(!is_shard_of(b"model", b"other-00001-of-00005.safetensors"));
        assert!(!is_shard_of(b"model", b"model.safetensors"));
    }
}
