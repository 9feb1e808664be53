//! Fixture directories and their `fixture.json`, for every fixture kind (seed RNN, BERT,
//! GPT-2, ALBERT, ...): where they are, how to read them, and what they are, told from their
//! content (the `format` field, or a checkpoint's tensor names), never from their path.

use std::ffi::OsStr;
use std::ops::Index;
use std::path::{Path, PathBuf};

use scope::checkpoint::{CheckpointError, TfCheckpoint};
use scope::DType;
use serde_json::Value;

use super::tensor::{self, DecodeError};

/// The repository's `tests/data` directory (found from the crate being tested upwards, so a
/// test of any workspace crate finds the same vendored fixtures).
pub fn data_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("tests/data"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| manifest.join("tests/data"))
}

/// The fixture directories of one kind: `vendored` (relative to [`data_dir`], e.g.
/// `["bert/classifier", "bert/pretraining"]`), then every directory listed in the
/// environment variable `env_var`, separated like `PATH` (`:` on Unix; empty entries are
/// skipped). Extra fixtures are added to the vendored ones, never instead of them.
pub fn fixture_dirs(vendored: &[&str], env_var: &str) -> Vec<PathBuf> {
    let root = data_dir();
    let mut dirs: Vec<PathBuf> = vendored.iter().map(|d| root.join(d)).collect();
    dirs.extend(extra_dirs(env_var));
    dirs
}

/// The directories listed in `env_var` (`PATH`-style), none when it is unset.
pub fn extra_dirs(env_var: &str) -> Vec<PathBuf> {
    match std::env::var_os(env_var) {
        Some(list) => std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => Vec::new(),
    }
}

/// What a fixture records, from its `format` field (`bert-tf1-fixture/1` and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `scope-seed-rnn-fixture/*`: the seed RNN and its Adam steps.
    SeedRnn,
    /// `bert-tf1-fixture/*`: google-research/bert (classifier or pretraining task).
    Bert,
    /// `gpt2-tf1-fixture/*`: openai/gpt-2.
    Gpt2,
    /// `albert-tf1-fixture/*`: google-research/albert.
    Albert,
}

impl Kind {
    /// The kind a `format` string names (its part before the `/version`).
    pub fn from_format(format: &str) -> Option<Kind> {
        match format.split('/').next()? {
            "scope-seed-rnn-fixture" => Some(Kind::SeedRnn),
            "bert-tf1-fixture" => Some(Kind::Bert),
            "gpt2-tf1-fixture" => Some(Kind::Gpt2),
            "albert-tf1-fixture" => Some(Kind::Albert),
            _ => None,
        }
    }

    /// The model a checkpoint holds, from its TF1 tensor names alone (optimizer slots and
    /// counters are ignored): ALBERT's shared `bert/encoder/transformer/group_N/`, BERT's
    /// `bert/encoder/layer_N/`, GPT-2's `model/hN/`, the seed RNN's `rnn/cell/`. An ALBERT
    /// checkpoint has `bert/` names too: ALBERT wins over BERT (and so on in that order).
    pub fn of_checkpoint<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Kind> {
        let numbered = |name: &str, prefix: &str| {
            name.strip_prefix(prefix).is_some_and(|rest| {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                digits > 0 && rest[digits..].starts_with('/')
            })
        };
        let mut seen = [false; 4];
        for name in names {
            let k = if numbered(name, "bert/encoder/transformer/group_") {
                0
            } else if numbered(name, "bert/encoder/layer_") {
                1
            } else if numbered(name, "model/h") {
                2
            } else if name.starts_with("rnn/cell/") {
                3
            } else {
                continue;
            };
            seen[k] = true;
        }
        let kinds = [Kind::Albert, Kind::Bert, Kind::Gpt2, Kind::SeedRnn];
        seen.iter().position(|&s| s).map(|k| kinds[k])
    }
}

/// A fixture variable record (`variables` of every fixture kind).
#[derive(Clone, Debug, PartialEq)]
pub struct VarRecord {
    /// TF's variable name (op name, no `:0`).
    pub name: String,
    /// The variable's shape.
    pub shape: Vec<usize>,
    /// The variable's dtype.
    pub dtype: DType,
    /// Whether TF put it in `trainable_variables` (`None` where the fixture does not say:
    /// the seed RNN's records list trainable variables only).
    pub trainable: Option<bool>,
}

/// One fixture: its directory and its parsed `fixture.json`. Index it like the JSON
/// (`fx["spec"]["config"]`).
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The directory holding `fixture.json` and the checkpoints.
    pub dir: PathBuf,
    /// `fixture.json`, parsed.
    pub json: Value,
}

impl Fixture {
    /// Reads `dir/fixture.json`; the error names the file.
    pub fn load(dir: impl AsRef<Path>) -> Result<Fixture, DecodeError> {
        let dir = dir.as_ref();
        let path = dir.join("fixture.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DecodeError::msg(format_args!("cannot read {}: {e}", path.display())))?;
        let json = serde_json::from_str(&text)
            .map_err(|e| DecodeError::msg(format_args!("{} is not JSON: {e}", path.display())))?;
        Ok(Fixture {
            dir: dir.to_owned(),
            json,
        })
    }

    /// The `format` field (`bert-tf1-fixture/1`, ...).
    pub fn format(&self) -> Option<&str> {
        self.json["format"].as_str()
    }

    /// What this fixture records, from its `format`.
    pub fn kind(&self) -> Option<Kind> {
        self.format().and_then(Kind::from_format)
    }

    /// The directory's last component, for messages (`classifier`, `seed_rnn`).
    pub fn label(&self) -> String {
        self.dir
            .file_name()
            .unwrap_or(OsStr::new("?"))
            .to_string_lossy()
            .into_owned()
    }

    /// The TF1 checkpoint `prefix` (e.g. `model.ckpt`) in the fixture's directory.
    pub fn checkpoint(&self, prefix: &str) -> Result<TfCheckpoint, CheckpointError> {
        TfCheckpoint::open(self.dir.join(prefix))
    }

    /// The checkpoint named by the string at `pointer` (a JSON pointer such as
    /// `/train/checkpoint_after`).
    pub fn checkpoint_at(&self, pointer: &str) -> Result<TfCheckpoint, Box<dyn std::error::Error>> {
        let prefix = self.str_at(pointer)?;
        Ok(self.checkpoint(prefix)?)
    }

    /// The value at a JSON pointer (`/spec/config`), or an error naming the pointer.
    pub fn at(&self, pointer: &str) -> Result<&Value, DecodeError> {
        self.json.pointer(pointer).ok_or_else(|| {
            DecodeError::msg(format_args!(
                "{}: no {pointer} in fixture.json",
                self.dir.display()
            ))
        })
    }

    /// The string at `pointer`.
    pub fn str_at(&self, pointer: &str) -> Result<&str, DecodeError> {
        let v = self.at(pointer)?;
        v.as_str()
            .ok_or_else(|| DecodeError::new(format_args!("{pointer} is not a string"), v))
    }

    /// The unsigned integer at `pointer`.
    pub fn u64_at(&self, pointer: &str) -> Result<u64, DecodeError> {
        let v = self.at(pointer)?;
        v.as_u64()
            .ok_or_else(|| DecodeError::new(format_args!("{pointer} is not a count"), v))
    }

    /// The number at `pointer`.
    pub fn f64_at(&self, pointer: &str) -> Result<f64, DecodeError> {
        let v = self.at(pointer)?;
        v.as_f64()
            .ok_or_else(|| DecodeError::new(format_args!("{pointer} is not a number"), v))
    }

    /// The `variables` records, in TF's creation order.
    pub fn variables(&self) -> Result<Vec<VarRecord>, DecodeError> {
        let list = self.at("/variables")?;
        list.as_array()
            .ok_or_else(|| DecodeError::new("variables is not a list", list))?
            .iter()
            .map(|v| {
                let name = v["name"]
                    .as_str()
                    .ok_or_else(|| DecodeError::new("variable without a name", v))?;
                let dtype = v["dtype"]
                    .as_str()
                    .ok_or_else(|| DecodeError::new("variable without a dtype", v))?;
                Ok(VarRecord {
                    name: name.to_owned(),
                    shape: tensor::shape(v)?,
                    dtype: dtype
                        .parse()
                        .map_err(|e| DecodeError::new(format_args!("{e}"), v))?,
                    trainable: v.get("trainable").and_then(Value::as_bool),
                })
            })
            .collect()
    }
}

impl Index<&str> for Fixture {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        &self.json[key]
    }
}
