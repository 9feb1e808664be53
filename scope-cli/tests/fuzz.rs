//! Mutations of real checkpoints through every subcommand of the binary: the readers' damage
//! (bit flips, truncations, overwrites, insertions, deletions), boundary values written over
//! a few bytes and repeated chunks, of the vendored TF1 fixtures (index and data shard), of a
//! safetensors file and of a sharded checkpoint's shard and index, each given to `inspect`
//! (text and JSON), `inspect --map`, `diff`, `import` and `convert`.
//!
//! Every run must end (no hang: a deadline per run) with exit code 0, 1 (`diff`: they
//! differ; `inspect --map`: the mapping does not apply) or 2 with an `error: ` message, and
//! never panic. The count is fixed and the seed deterministic (`SCOPE_FUZZ_SEED` explores
//! another, `SCOPE_FUZZ_CASES` sets the number of mutations), so the suite stays well under a
//! minute in debug.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use scope::checkpoint::{open, Save};

#[path = "../../tests/support/mod.rs"]
mod support;

use support::mutate::{damage, Rng};

/// Mutations per run of the suite (spread over the seed files).
const CASES: usize = 240;
/// A run of one subcommand that takes longer than this is a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// One mutation of `bytes`, described for the failure message: the readers' generic damage
/// (`tests/support/mutate.rs`), or a boundary value written over a few bytes, or a chunk
/// repeated elsewhere.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Rng) -> String {
    const BOUNDARY: [u64; 8] = [
        0,
        1,
        0x7f,
        0xff,
        0x7fff_ffff,
        0xffff_ffff,
        0x7fff_ffff_ffff_ffff,
        u64::MAX,
    ];
    if bytes.is_empty() {
        return damage(rng, bytes).to_owned();
    }
    let at = rng.below(bytes.len());
    match rng.below(4) {
        0 => {
            let value = BOUNDARY[rng.below(BOUNDARY.len())];
            let width = [1, 2, 4, 8][rng.below(4)];
            let end = (at + width).min(bytes.len());
            let le = value.to_le_bytes();
            bytes[at..end].copy_from_slice(&le[..end - at]);
            format!("wrote {value:#x} ({width} bytes) at {at}")
        }
        1 => {
            let len = 1 + rng.below(64.min(bytes.len() - at));
            let chunk = bytes[at..at + len].to_vec();
            let to = rng.below(bytes.len());
            bytes.splice(to..to, chunk);
            format!("copied {len} bytes from {at} to {to}")
        }
        _ => damage(rng, bytes).to_owned(),
    }
}

/// A seed: the checkpoint path the commands are given, and the file that is mutated.
struct Seed {
    label: &'static str,
    checkpoint: PathBuf,
    mutated: PathBuf,
    original: Vec<u8>,
}

/// Runs the binary with a deadline; stdout and stderr go to files, so that a large output
/// cannot block the child on a full pipe.
fn run(args: &[&std::ffi::OsStr], work: &Path) -> (Option<ExitStatus>, String, String) {
    let (out, err) = (work.join("stdout"), work.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_scope"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("the scope binary runs");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into();
    (status, read(&out), read(&err))
}

#[test]
fn mutated_checkpoints_through_every_subcommand() {
    let data = support::data_dir();
    let work = std::env::temp_dir().join(format!("scope-cli-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // The seeds: TF1 fixtures (seed RNN, BERT, TF's partitioned variables) copied, a safetensors file and BERT in Hugging
    // Face shards written from them.
    let mut seeds = Vec::new();
    for (label, dir) in [
        ("seed_rnn", "seed_rnn"),
        ("bert", "bert/classifier"),
        ("p6", "partitioned/p6"),
    ] {
        let to = work.join(label);
        std::fs::create_dir_all(&to).unwrap();
        for f in ["model.ckpt.index", "model.ckpt.data-00000-of-00001"] {
            std::fs::copy(data.join(dir).join(f), to.join(f)).unwrap();
        }
        for (what, f) in [
            ("index", "model.ckpt.index"),
            ("data", "model.ckpt.data-00000-of-00001"),
        ] {
            seeds.push(Seed {
                label: match (label, what) {
                    ("bert", _) => "bert tf1",
                    ("p6", "index") => "partitioned index",
                    ("p6", _) => "partitioned data",
                    _ => what,
                },
                checkpoint: to.join("model.ckpt"),
                mutated: to.join(f),
                original: std::fs::read(to.join(f)).unwrap(),
            });
        }
    }
    let tf = open(work.join("seed_rnn/model.ckpt")).unwrap();
    let st = work.join("st/model.safetensors");
    Save::from_checkpoint(&tf).save(&st).unwrap();
    seeds.push(Seed {
        label: "safetensors",
        checkpoint: st.clone(),
        mutated: st.clone(),
        original: std::fs::read(&st).unwrap(),
    });
    let bert = open(work.join("bert/model.ckpt")).unwrap();
    let shards = work.join("hf/model.safetensors");
    let saved = Save::from_checkpoint(&bert)
        .max_shard_size(64 << 10)
        .save(&shards)
        .unwrap();
    let index = saved.index.expect("BERT takes several 64 KiB shards");
    for (label, file) in [("shard", saved.files[0].clone()), ("index.json", index)] {
        seeds.push(Seed {
            label,
            checkpoint: work.join("hf"),
            original: std::fs::read(&file).unwrap(),
            mutated: file,
        });
    }

    let seed = std::env::var("SCOPE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261207u64);
    let cases: usize = std::env::var("SCOPE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES);
    let mut rng = Rng(seed);
    let out_file = work.join("out/model.safetensors");
    let out_tf1 = work.join("out/model.ckpt");
    let (mut runs, mut errors) = (0, 0);
    let mut failures = Vec::new();
    for case in 0..cases {
        let s = &seeds[case % seeds.len()];
        let mut bytes = s.original.clone();
        let mut what = Vec::new();
        for _ in 0..1 + rng.below(3) {
            what.push(mutate(&mut bytes, &mut rng));
        }
        std::fs::write(&s.mutated, &bytes).unwrap();
        let ck = s.checkpoint.as_os_str();
        let original = seeds[0].checkpoint.as_os_str();
        let commands: [(&str, Vec<&std::ffi::OsStr>); 7] = [
            ("inspect", vec!["inspect".as_ref(), ck]),
            (
                "inspect --json",
                vec!["inspect".as_ref(), ck, "--json".as_ref()],
            ),
            (
                "inspect --map",
                vec![
                    "inspect".as_ref(),
                    ck,
                    "--map".as_ref(),
                    "bert-tf-to-hf".as_ref(),
                ],
            ),
            ("diff", vec!["diff".as_ref(), ck, original]),
            (
                "import",
                vec!["import".as_ref(), ck, "--name".as_ref(), "M".as_ref()],
            ),
            (
                "convert",
                vec!["convert".as_ref(), ck, out_file.as_os_str()],
            ),
            (
                "convert to TF1",
                vec!["convert".as_ref(), ck, out_tf1.as_os_str()],
            ),
        ];
        // Not every command on every case: `inspect` always, plus one that rotates once per
        // round of the seeds, so that every seed meets every command.
        let picked = [0, 1 + (case / seeds.len()) % 6];
        for &k in &picked {
            let (name, args) = &commands[k];
            let (status, stdout, stderr) = run(args, &work);
            runs += 1;
            let fail = |why: &str| {
                format!(
                    "{name} on {} ({}; case {case}, seed {seed}): {why}\nstdout: {}\nstderr: {stderr}",
                    s.label,
                    what.join(", "),
                    stdout.chars().take(300).collect::<String>()
                )
            };
            let Some(status) = status else {
                failures.push(fail("no answer within the deadline (a hang)"));
                continue;
            };
            if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
                failures.push(fail("panicked"));
                continue;
            }
            match status.code() {
                Some(0) => {}
                Some(1) if matches!(*name, "diff" | "inspect --map") => {}
                Some(2) if stderr.starts_with("error: ") && stderr.trim().len() > 8 => {
                    errors += 1;
                }
                other => failures.push(fail(&format!(
                    "exit {other:?} (0, 2 with an `error: ` message, or 1 for diff and --map \
                     expected)"
                ))),
            }
        }
        std::fs::write(&s.mutated, &s.original).unwrap();
        let _ = std::fs::remove_dir_all(work.join("out"));
    }
    println!("fuzz: {cases} mutations, {runs} runs, {errors} refused with a message");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        errors > 0,
        "no mutation was refused: the mutations do not reach the readers"
    );
    std::fs::remove_dir_all(&work).unwrap();
}
