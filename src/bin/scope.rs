//! `scope`: look into TF1 and safetensors checkpoints, compare them, and write the
//! `model!` that declares one. The logic lives in the library (`scope::cli`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scope::cli::{diff, import, inspect, Checkpoint, CliError, ImportOptions, InspectOptions};

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
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Inspect {
            checkpoint,
            json,
            filter,
        } => {
            let ckpt = Checkpoint::open(&checkpoint)?;
            print!("{}", inspect(&ckpt, &InspectOptions { filter, json })?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b, model_only } => {
            let d = diff(&Checkpoint::open(&a)?, &Checkpoint::open(&b)?, model_only);
            print!("{d}");
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
            let ckpt = Checkpoint::open(&checkpoint)?;
            let mut command = format!("scope import {} --name {name}", checkpoint.display());
            if let Some(s) = &scope {
                command.push_str(&format!(" --scope {s}"));
            }
            let opts = ImportOptions {
                name,
                scope,
                command: Some(command),
            };
            print!("{}", import(&ckpt, &opts)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
