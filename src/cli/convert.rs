//! `scope convert`: a checkpoint to safetensors through a preset mapping (BERT between TF1 and
//! Hugging Face names), optionally sharded; and `scope inspect --map`: the names before and
//! after, without writing anything.

use std::path::{Path, PathBuf};

use crate::models::gpt2::presets::preset_or_builtin;
use scope_runtime::checkpoint::{MappingReport, Save, Saved};

use super::{Checkpoint, CliError, Result};

/// The shard index `path` names: the `*.safetensors.index.json` itself, or the only one in
/// a directory. `None` if it names no index.
pub(super) fn shard_index(path: &Path) -> Result<Option<PathBuf>> {
    let is_index = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".safetensors.index.json"))
    };
    if !path.is_dir() {
        return Ok(is_index(path).then(|| path.to_owned()));
    }
    let io = |source| CliError::Io {
        dir: path.display().to_string(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if is_index(&p) && p.is_file() {
            found.push(p);
        }
    }
    found.sort();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(CliError::Ambiguous {
            dir: path.display().to_string(),
            candidates: found
                .iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into())
                .collect(),
        }),
    }
}

/// How to convert.
#[derive(Clone, Debug, Default)]
pub struct ConvertOptions {
    /// A preset name (`bert-tf-to-hf`, `bert-hf-to-tf:classifier`, ...); `None` copies the
    /// names as they are.
    pub preset: Option<String>,
    /// Shards of at most this many bytes (Hugging Face's layout); `None` writes one file.
    pub max_shard_size: Option<u64>,
}

/// Writes `input` to `output` (a `.safetensors` path; shards and an index go beside it)
/// through the preset. The mapping is checked against every name before anything is
/// written.
pub fn convert(input: &Checkpoint, output: &Path, options: &ConvertOptions) -> Result<Saved> {
    let mapping = options
        .preset
        .as_deref()
        .map(|name| preset_or_builtin(name, input.tensors()))
        .transpose()?;
    let mut save = Save::from_checkpoint(input.source());
    if let Some(m) = &mapping {
        save = save.mapping(m);
    }
    if let Some(n) = options.max_shard_size {
        save = save.max_shard_size(n);
    }
    Ok(save.save(output)?)
}

/// What the preset named `name` does to `input`'s names (every name before and after, and
/// every problem), writing nothing.
pub fn map_report(input: &Checkpoint, name: &str) -> Result<MappingReport> {
    Ok(preset_or_builtin(name, input.tensors())?.report(input.tensors()))
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
}
