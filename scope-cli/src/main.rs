//! `scope`: look into TF1 and safetensors checkpoints, compare them, write the `model!` that
//! declares one, and convert one between layouts (BERT: TF1 <-> Hugging Face). The logic lives
//! in this crate's library (`scope_cli`); checkpoints open through `scope::checkpoint::open`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scope::checkpoint::open;
use scope_cli::{
    convert, diff, group_digits, import, inspect, map_report, parse_size, CliError, ConvertOptions,
    ImportOptions, InspectOptions,
};

/// Checkpoints as scope trees: inspect, diff, import.
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
        /// Instead, show what a preset mapping (`bert-tf-to-hf`, `bert-hf-to-tf`, optionally
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
    /// Write a checkpoint as safetensors through a preset mapping (checked against every
    /// name first), in one file or in Hugging Face's shards.
    Convert {
        /// The checkpoint to read (TF1, safetensors, or shards with their index).
        input: PathBuf,
        /// The `.safetensors` file to write (shards and the index go beside it).
        output: PathBuf,
        /// `bert-tf-to-hf` or `bert-hf-to-tf` (the layout is detected; fix it with
        /// `:model`, `:pretraining` or `:classifier`). Without one, names stay as they are.
        #[arg(long)]
        preset: Option<String>,
        /// Shards of at most this size (`5GB`, `64KiB`, bytes): `model-00001-of-0000n.
        /// safetensors` ... plus `model.safetensors.index.json`.
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_shard_size: Option<u64>,
        /// Replace an output that exists but is no regular file (a FIFO, a device); without
        /// this flag such an output is refused.
        #[arg(long)]
        replace_special_file: bool,
    },
}

/// Runs one command, appending what it prints to `out`.
fn run(cli: Cli, out: &mut String) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Inspect {
            checkpoint,
            map: Some(preset),
            ..
        } => {
            let report = map_report(&open(&checkpoint)?, &preset)?;
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
            let ckpt = open(&checkpoint)?;
            out.push_str(&inspect(&ckpt, &InspectOptions { filter, json })?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b, model_only } => {
            let d = diff(&open(&a)?, &open(&b)?, model_only);
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
            let ckpt = open(&checkpoint)?;
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
            preset,
            max_shard_size,
            replace_special_file,
        } => {
            let ckpt = open(&input)?;
            let options = ConvertOptions {
                preset,
                max_shard_size,
                replace_special: replace_special_file,
            };
            let converted = convert(&ckpt, &output, &options)?;
            let saved = &converted.saved;
            if let Some(report) = &saved.mapping {
                writeln!(out, "{}", report.problems_text()).ok();
            }
            for file in saved.files.iter().chain(&saved.index) {
                writeln!(out, "wrote {}", file.display()).ok();
            }
            for file in &converted.removed {
                writeln!(
                    out,
                    "removed {} (left from an earlier save)",
                    file.display()
                )
                .ok();
            }
            writeln!(
                out,
                "{} tensor bytes in {} file(s)",
                group_digits(saved.total_size.into()),
                saved.files.len()
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
