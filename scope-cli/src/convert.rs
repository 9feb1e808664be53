//! `scope convert`: a checkpoint to safetensors through a preset mapping (BERT between TF1 and
//! Hugging Face names), optionally sharded; and `scope inspect --map`: the names before and
//! after, without writing anything.
//!
//! Nothing the conversion reads is written over or removed: every file the save may replace
//! or clean up (the output, its index, stale shards of its name) is compared with the input's
//! files by identity (device and inode, so a symlink or a hard link is caught too) before
//! anything is read.

use std::path::{Path, PathBuf};

use scope::checkpoint::{preset, Checkpoint, CheckpointSource, MappingReport, Save, Saved};

use super::{CliError, Result};

/// How to convert.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// A preset name (`bert-tf-to-hf`, `bert-hf-to-tf:classifier`, ...); `None` copies the
    /// names as they are.
    pub preset: Option<String>,
    /// Shards of at most this many bytes (Hugging Face's layout); `None` writes one file.
    pub max_shard_size: Option<u64>,
    /// Replace an output that exists but is no regular file (a FIFO, a device) with the
    /// checkpoint; refused without.
    pub replace_special: bool,
}

/// What a conversion did.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The files written.
    pub saved: Saved,
    /// Files of an earlier save to the same name that this one removed (stale shards, the
    /// single file or the index of the other layout).
    pub removed: Vec<PathBuf>,
}

/// Writes `input` to `output` (a `.safetensors` path; shards and an index go beside it)
/// through the preset. The output is checked first (see [`check_output`]), then the mapping
/// against every name, before anything is written.
pub fn convert(input: &Checkpoint, output: &Path, options: &ConvertOptions) -> Result<Converted> {
    let at_risk = check_output(input, output, options.replace_special)?;
    let mapping = options
        .preset
        .as_deref()
        .map(|name| preset(name, input.tensors()))
        .transpose()?;
    let mut save = Save::from_checkpoint(input.source());
    if let Some(m) = &mapping {
        save = save.mapping(m);
    }
    if let Some(n) = options.max_shard_size {
        save = save.max_shard_size(n);
    }
    let saved = save.save(output)?;
    let written: Vec<&PathBuf> = saved.files.iter().chain(&saved.index).collect();
    let removed = at_risk
        .into_iter()
        .filter(|p| !written.contains(&p) && std::fs::symlink_metadata(p).is_err())
        .collect();
    Ok(Converted { saved, removed })
}

/// Refuses an output that this conversion must not write, and returns the files that exist
/// and that the save may replace or remove: the output, its index
/// (`<output>.index.json`), and shards of its name (`<stem>-NNNNN-of-NNNNN.safetensors`)
/// beside it.
///
/// Refused: a name that does not end in `.safetensors` (the format written), a directory,
/// a FIFO or device unless `replace_special`, and any of those files that is one of the
/// input's files (the same device and inode: by any name, symlink or hard link).
pub fn check_output(
    input: &Checkpoint,
    output: &Path,
    replace_special: bool,
) -> Result<Vec<PathBuf>> {
    let refuse = |reason: String| CliError::Output {
        output: output.display().to_string(),
        reason,
    };
    let name = output.file_name().unwrap_or_default();
    let stem = name
        .as_encoded_bytes()
        .strip_suffix(b".safetensors")
        .filter(|s| !s.is_empty());
    let Some(stem) = stem else {
        return Err(refuse(
            "convert writes safetensors: name the output `<name>.safetensors` (shards and an \
             index go beside it)"
                .to_owned(),
        ));
    };
    if let Ok(meta) = std::fs::metadata(output) {
        if meta.is_dir() {
            return Err(refuse(
                "it is a directory; give a file path inside it, e.g. `<dir>/model.safetensors`"
                    .to_owned(),
            ));
        }
        if !meta.is_file() && !replace_special {
            return Err(refuse(
                "it exists and is not a regular file (a FIFO, a device, a socket); give \
                 --replace-special-file to replace it with the checkpoint"
                    .to_owned(),
            ));
        }
    }
    let mut at_risk = vec![output.to_owned(), index_path(output)];
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
    Ok(at_risk)
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
    Ok(preset(name, input.tensors())?.report(input.tensors()))
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
