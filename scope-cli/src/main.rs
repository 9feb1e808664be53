//! `scope`: look into TF1 and safetensors checkpoints, compare them, write the `model!` that
//! declares one, and convert one between formats (TF1 <-> safetensors) and layouts (BERT:
//! TF1 <-> Hugging Face). The logic lives in this crate's library (`scope_cli`); checkpoints
//! open through `scope_cli::open_checkpoint` (`scope::checkpoint::open`, guarded).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use scope::checkpoint::CastMode;
use scope_cli::{
    convert, diff, group_digits, import, inspect, map_report, open_checkpoint, parse_size,
    CliError, ConvertOptions, ImportOptions, InspectOptions, OutputFormat,
};

/// Checkpoints as scope trees: inspect, diff, import, convert.
#[derive(Parser)]
#[command(name = "scope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a checkpoint's variables as a scope tree, with sizes; training state apart.
    Inspect {
        /// A TF1 checkpoint prefix (`model.ckpt`), a `.safetensors` file, or a directory
        /// holding one.
        checkpoint: PathBuf,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only tensors whose name matches this regular expression.
        #[arg(long, value_name = "REGEX")]
        filter: Option<String>,
        /// Instead, show what a preset mapping (`bert-tf-to-hf`, `bert-hf-to-tf`, `gpt2-tf-to-hf`, `albert-tf-to-hf`, ..., optionally
        /// `:model`, `:pretraining` or `:classifier`) does to every name, and every problem;
        /// exit 1 if it does not apply.
        #[arg(long, value_name = "PRESET", conflicts_with_all = ["json", "filter"])]
        map: Option<String>,
    },
    /// Compare two checkpoints by name, shape and dtype; exit 1 when they differ.
    Diff {
        /// The first checkpoint.
        a: PathBuf,
        /// The second checkpoint.
        b: PathBuf,
        /// Leave training state (optimizer slots, step counters) out on both sides.
        #[arg(long)]
        model_only: bool,
    },
    /// Print Rust source with a `model!` declaring every model variable of a checkpoint.
    Import {
        /// The checkpoint.
        checkpoint: PathBuf,
        /// The model's type name.
        #[arg(long, default_value = "Model")]
        name: String,
        /// Declare only the variables under this scope, which becomes the model's own.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Write a checkpoint as safetensors (one file, or Hugging Face's shards) or as a TF1
    /// checkpoint, through a preset mapping (checked against every name first).
    ///
    /// The format comes from the output's name: `<name>.safetensors` is safetensors,
    /// `<name>.ckpt` a TF1 checkpoint prefix (`<name>.ckpt.index` and
    /// `<name>.ckpt.data-00000-of-00001` are written); any other prefix needs `--format tf1`.
    /// An output that is one of the input's files (by any name or link) is refused.
    Convert {
        /// The checkpoint to read (TF1, safetensors, or shards with their index).
        input: PathBuf,
        /// The `.safetensors` file to write (shards and the index go beside it), or the TF1
        /// checkpoint prefix (`model.ckpt`).
        output: PathBuf,
        /// The format to write, when the output's name does not say it.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// `bert-tf-to-hf` or `bert-hf-to-tf` (the layout is detected; fix it with
        /// `:model`, `:pretraining` or `:classifier`), `gpt2-tf-to-hf` or `gpt2-hf-to-tf`.
        /// Without one, names stay as they are (and a TF1 input's partitioned variables keep
        /// their slices in a TF1 output; safetensors holds them whole).
        #[arg(long)]
        preset: Option<String>,
        /// What the preset's casts do with a value the target dtype cannot hold: `checked`
        /// refuses the conversion naming the first such element, `saturating` clamps to the
        /// target's range, `wrapping` does what `tf.cast` does.
        #[arg(long, value_enum, default_value_t = CastArg::Checked)]
        cast_mode: CastArg,
        /// Shards of at most this size (`5GB`, `64KiB`, bytes): `model-00001-of-0000n.
        /// safetensors` ... plus `model.safetensors.index.json`. Safetensors only.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_shard_size: Option<u64>,
        /// Replace an output file that exists but is no regular file (a FIFO, a device);
        /// without this flag such an output is refused.
        #[arg(long)]
        replace_special_file: bool,
    },
}

/// `--format`.
#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    /// One `.safetensors` file, or shards and an index with `--max-shard-size`.
    Safetensors,
    /// A TF1 checkpoint: `<prefix>.index` and `<prefix>.data-00000-of-00001`.
    Tf1,
}

/// `--cast-mode`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CastArg {
    /// Refuse a value the target dtype cannot hold.
    Checked,
    /// Clamp to the target's range.
    Saturating,
    /// As `tf.cast`: integers wrap, float overflow becomes infinity.
    Wrapping,
}

/// Runs one command, appending what it prints to `out`.
fn run(cli: Cli, out: &mut String) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Inspect {
            checkpoint,
            map: Some(preset),
            ..
        } => {
            let report = map_report(&open_checkpoint(&checkpoint)?, &preset)?;
            out.push_str(&report.to_string());
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Inspect {
            checkpoint,
            json,
            filter,
            map: None,
        } => {
            let ckpt = open_checkpoint(&checkpoint)?;
            out.push_str(&inspect(&ckpt, &InspectOptions { filter, json })?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b, model_only } => {
            let d = diff(&open_checkpoint(&a)?, &open_checkpoint(&b)?, model_only);
            out.push_str(&d.to_string());
            Ok(if d.is_same() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Import {
            checkpoint,
            name,
            scope,
        } => {
            let ckpt = open_checkpoint(&checkpoint)?;
            let mut command = format!("scope import {} --name {name}", checkpoint.display());
            if let Some(s) = &scope {
                command.push_str(&format!(" --scope {s}"));
            }
            let opts = ImportOptions {
                name,
                scope,
                command: Some(command),
            };
            out.push_str(&import(&ckpt, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Convert {
            input,
            output,
            format,
            preset,
            cast_mode,
            max_shard_size,
            replace_special_file,
        } => {
            let ckpt = open_checkpoint(&input)?;
            let options = ConvertOptions {
                preset,
                format: format.map(|f| match f {
                    FormatArg::Safetensors => OutputFormat::Safetensors,
                    FormatArg::Tf1 => OutputFormat::Tf1,
                }),
                cast_mode: match cast_mode {
                    CastArg::Checked => CastMode::Checked,
                    CastArg::Saturating => CastMode::Saturating,
                    CastArg::Wrapping => CastMode::Wrapping,
                },
                max_shard_size,
                replace_special: replace_special_file,
            };
            let converted = convert(&ckpt, &output, &options)?;
            if let Some(report) = &converted.mapping {
                writeln!(out, "{}", report.problems_text()).ok();
            }
            for file in &converted.files {
                writeln!(out, "wrote {}", file.display()).ok();
            }
            // Exactly what the save removed (files of the checkpoint it replaced).
            for file in &converted.removed {
                writeln!(
                    out,
                    "removed {} (left by the earlier save to this name, which this one replaced)",
                    file.display()
                )
                .ok();
            }
            for file in &converted.left {
                writeln!(
                    out,
                    "left {} in place (a data shard of the TF1 checkpoint this one replaced, \
                     which no index names now; remove it if nothing else reads it)",
                    file.display()
                )
                .ok();
            }
            let what = match converted.format {
                OutputFormat::Safetensors => "safetensors",
                OutputFormat::Tf1 => "TF1 checkpoint",
            };
            writeln!(
                out,
                "{} tensor bytes in {} {what} file(s)",
                group_digits(converted.total_size.into()),
                converted.data_files
            )
            .ok();
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let mut out = String::new();
    let code = match run(Cli::parse(), &mut out) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    };
    // A reader that stops early (`scope inspect big.ckpt | head`) closes the pipe: that is
    // not an error, and `print!` would panic on it.
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: writing the output: {e}");
            ExitCode::from(2)
        }
        _ => code,
    }
}
