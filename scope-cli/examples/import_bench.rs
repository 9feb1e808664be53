//! `cargo run --release -p scope-cli --example import_bench`: times `scope inspect` and `scope import`
//! (parsing the checkpoint and generating the output, as the commands do after reading the
//! file) on synthetic safetensors checkpoints of 10^5 variables, and prints the median of five
//! runs.
//!
//! Two shapes of checkpoint: `flat` (1,000 scopes of 100 variables, no two scopes alike, so
//! nothing folds and the generated `model!` declares all 10^5 variables) and `layers`
//! (1,000 identical indexed blocks, which fold into one repeated type). The goal is under
//! one second for each.

use std::time::{Duration, Instant};

use scope::checkpoint::{to_safetensors_bytes, Checkpoint, SafetensorsCheckpoint};
use scope::{Initializer, Registry, VarSpec};
use scope_cli::{import, inspect, ImportOptions, InspectOptions};

/// A safetensors file of these f32 variables, as scope writes it.
fn safetensors(tensors: &[(String, Vec<usize>)]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let reg = Registry::new();
    for (name, shape) in tensors {
        let (scope, var) = name.rsplit_once('/').ok_or("names have a scope")?;
        let spec = VarSpec::new().shape(shape).initializer(Initializer::Zeros);
        reg.variable_scope(scope)
            .with(|_| reg.get_variable(var, spec))?;
    }
    Ok(to_safetensors_bytes(&reg, &Default::default())?)
}

/// Variable `i`'s shape: the first of each scope of 100 has a length unique to its scope,
/// so no two scopes are alike; the data stay small (about 2.4 MB in all).
fn distinct_shape(i: usize) -> Vec<usize> {
    if i.is_multiple_of(100) {
        vec![1 + i / 100]
    } else {
        vec![1 + i % 5, 2]
    }
}

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64()
}

fn time<T>(f: impl Fn() -> T) -> f64 {
    f(); // warm-up
    median(
        (0..5)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let flat: Vec<(String, Vec<usize>)> = (0..100_000)
        .map(|i| {
            (
                format!("model/s{}/v{}", i / 100, i % 100),
                distinct_shape(i),
            )
        })
        .collect();
    let layers: Vec<(String, Vec<usize>)> = (0..100_000)
        .map(|i| {
            let j = i % 100;
            (
                format!("model/encoder/layer_{}/sub{}/w{}", i / 100, j / 10, j % 10),
                vec![1 + j % 10, 2],
            )
        })
        .collect();
    for (label, list) in [("flat", flat), ("layers", layers)] {
        let bytes = safetensors(&list)?;
        let open = || SafetensorsCheckpoint::from_bytes(bytes.clone()).map(Checkpoint::from);
        let opts = ImportOptions {
            name: "Model".to_owned(),
            scope: None,
            command: None,
        };
        let ckpt = open()?;
        let lines = import(&ckpt, &opts)?.lines().count();
        // What `scope import` does after reading the file: parse, then generate.
        let import_s = time(|| import(&open().unwrap(), &opts));
        let generate_s = time(|| import(&ckpt, &opts));
        let inspect_s = time(|| inspect(&open().unwrap(), &InspectOptions::default()));
        let parse_s = time(open);
        println!(
            "{label}: {} variables, {lines} lines of source: import_s={import_s:.3} \
             (parse_s={parse_s:.3}, generate_s={generate_s:.3}), inspect_s={inspect_s:.3}",
            list.len()
        );
    }
    Ok(())
}
