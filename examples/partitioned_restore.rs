//! Memory of saving and restoring a large partitioned table (issue #23), one figure a line:
//!
//! ```text
//! table_mb=<x>                  the float32 table: `--mb` MiB in `--parts` parts
//! save_ms=<x>                   save_tf_checkpoint of the registry (one sliced entry)
//! save_heap_over_table=<x>      the most heap the save held at once beyond the table, over it
//! restore_ms=<x>                a strict Restore into a registry partitioned another way
//! restore_heap_over_table=<x>   likewise for the restore
//! restore_rss_over_table=<x>    the peak resident set the restore added, over the table
//! ```
//!
//! Heap figures count the bytes requested from the allocator (the example's global allocator
//! counts them): the table itself is live throughout, so a restore that staged a second copy
//! shows about 1.0, and one that streams part by part the size of a few parts over the table.
//! The resident-set figure (Linux `VmHWM`, reset through `/proc/self/clear_refs`) also counts
//! what the system allocator keeps after a free, and is printed only on Linux.
//!
//! Run with `cargo run --release --example partitioned_restore -- --mb 1024`. The checkpoint
//! goes to a temporary directory, removed after.

use std::time::Instant;

#[path = "support/peak_heap.rs"]
mod peak_heap;

use scope::checkpoint::{save_tf_checkpoint, Restore, TfCheckpoint};
use scope::partition::Partitioner;
use scope::{Initializer, Registry, VarSpec};

/// Reads a `kB` field of `/proc/self/status` in MiB.
fn status_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Runs `f` and returns its result, the most heap it held at once beyond what was live
/// before (MiB) and, on Linux, the resident memory it added at its peak (MiB).
fn peak_added<R>(f: impl FnOnce() -> R) -> (R, f64, Option<f64>) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_mb("VmRSS:");
    let (out, heap) = peak_heap::peak_during(f);
    let rss = match (reset, before, status_mb("VmHWM:")) {
        (true, Some(before), Some(peak)) => Some((peak - before).max(0.0)),
        _ => None,
    };
    (out, heap as f64 / (1 << 20) as f64, rss)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mb, parts) = (arg("--mb", 1024), arg("--parts", 8));
    let cols = 256;
    let rows = mb * 1024 * 1024 / (4 * cols);
    let table = |reg: &Registry, parts: usize, fill: f64| {
        let spec = VarSpec::new()
            .shape([rows, cols])
            .initializer(Initializer::Constant(fill))
            .partitioner(Partitioner::fixed_size(parts, 0));
        reg.get_partitioned_variable("embedding", spec)
    };
    let dir = std::env::temp_dir().join(format!("scope-partitioned-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let prefix = dir.join("model.ckpt");

    let saved = Registry::new();
    table(&saved, parts, 0.5)?;
    println!("table_mb={mb}");
    let start = Instant::now();
    let (result, heap, _) = peak_added(|| save_tf_checkpoint(&prefix, &saved));
    result?;
    println!("save_ms={:.0}", start.elapsed().as_secs_f64() * 1e3);
    println!("save_heap_over_table={:.3}", heap / mb as f64);
    drop(saved);

    let restored = Registry::new();
    let target = table(&restored, parts * 2 - 1, 0.0)?;
    let ckpt = TfCheckpoint::open(&prefix)?;
    let start = Instant::now();
    let (result, heap, rss) = peak_added(|| Restore::new(&restored).restore(&ckpt));
    result?;
    println!("restore_ms={:.0}", start.elapsed().as_secs_f64() * 1e3);
    println!("restore_heap_over_table={:.3}", heap / mb as f64);
    if let Some(rss) = rss {
        println!("restore_rss_over_table={:.3}", rss / mb as f64);
    }
    let first = target.parts()[0].read().to_f64_vec()[0];
    assert_eq!(first, 0.5, "the restore must bring the saved values");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
