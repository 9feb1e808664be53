//! Eight threads build and reuse models in one registry, in separate and in shared scopes,
//! for well over 100,000 registry operations: no variable is lost or duplicated, every reuse
//! returns the creator's storage, nothing deadlocks (the test waits with its own deadline)
//! or panics, and where the interleaving cannot matter the names are a serial run's.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use scope::{Error, Initializer, Registry, Reuse, VarSpec, Variable, VariableScope};

const THREADS: usize = 8;
/// Rounds over each thread's own tower: round 0 creates, later rounds reuse.
const ROUNDS: usize = 10;
const LAYERS: usize = 40;
/// Variables every thread asks for in the shared AUTO_REUSE scope, and how often.
const SHARED: usize = 400;
const SHARED_PASSES: usize = 32;
/// Variables every thread races to create in a scope without reuse.
const RACE: usize = 200;
/// tf.Variable creations per thread in the shared name scope.
const COMMON: usize = 100;
/// Re-entries of the main thread's captured scope per thread.
const CAPTURED: usize = 200;
/// How long the whole run may take before it counts as a deadlock.
const DEADLINE: Duration = Duration::from_secs(120);

fn one() -> VarSpec {
    VarSpec::new()
        .shape([1])
        .initializer(Initializer::Constant(0.5))
}

/// What one thread saw.
#[derive(Default)]
struct Log {
    /// Names from the thread's own tower, in order: must equal a serial run's.
    tower_names: Vec<String>,
    /// Every variable this thread's calls created (as opposed to reused).
    created: Vec<Variable>,
    /// What the shared AUTO_REUSE scope returned, by name (the same on every pass).
    shared: HashMap<String, Variable>,
    /// Names this thread won the race to create.
    race_won: Vec<String>,
    /// Registry calls made (scope entries, variable calls, unique names).
    ops: usize,
}

/// The part whose names cannot depend on other threads: scopes named after the thread.
fn build_tower(reg: &Registry, t: usize, log: &mut Log) -> Result<(), Error> {
    let tower = format!("tower{t}");
    let mut first: Vec<Variable> = Vec::new();
    for round in 0..ROUNDS {
        let b = reg.variable_scope(tower.as_str());
        let b = if round == 0 { b } else { b.reuse(true) };
        let _g = b.enter()?;
        log.ops += 1;
        for layer in 0..LAYERS {
            let _l = reg.variable_scope(format!("layer{layer}")).enter()?;
            log.ops += 1;
            for (k, name) in ["w", "b"].into_iter().enumerate() {
                let spec = if round == 0 {
                    VarSpec::new().shape([2, 3])
                } else {
                    VarSpec::new()
                };
                let v = reg.get_variable(name, spec)?;
                log.ops += 1;
                if round == 0 {
                    log.created.push(v.clone());
                    first.push(v.clone());
                } else {
                    assert!(
                        v.ptr_eq(&first[2 * layer + k]),
                        "reuse of {} returned other storage",
                        v.name()
                    );
                }
                log.tower_names.push(v.name().to_owned());
            }
        }
        let v = Variable::new(reg, "v", [round as f32])?;
        log.created.push(v.clone());
        log.tower_names.push(v.name().to_owned());
        log.tower_names.push(reg.unique_name("op"));
        log.ops += 2;
    }
    Ok(())
}

/// The part in scopes every thread shares.
fn build_shared(
    reg: &Registry,
    captured: &VariableScope,
    captured_w: &Variable,
    log: &mut Log,
) -> Result<(), Error> {
    for _ in 0..SHARED_PASSES {
        let _g = reg.variable_scope("shared").reuse(Reuse::Auto).enter()?;
        log.ops += 1;
        for k in 0..SHARED {
            let name = format!("w{k}");
            let v = reg.get_variable(&name, one())?;
            log.ops += 1;
            match log.shared.get(v.name()) {
                Some(seen) => assert!(seen.ptr_eq(&v), "{} changed storage", v.name()),
                None => {
                    log.shared.insert(v.name().to_owned(), v);
                }
            }
        }
    }
    {
        let _g = reg.variable_scope("race").enter()?;
        log.ops += 1;
        for k in 0..RACE {
            match reg.get_variable(&format!("x{k}"), one()) {
                Ok(v) => {
                    log.race_won.push(v.name().to_owned());
                    log.created.push(v);
                }
                Err(Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
            log.ops += 1;
        }
    }
    for _ in 0..COMMON {
        let _ns = reg.name_scope("common").enter()?;
        log.created.push(Variable::new(reg, "v", [1.0f32])?);
        log.ops += 2;
    }
    for _ in 0..CAPTURED {
        let _g = reg.variable_scope(captured).reuse(true).enter()?;
        let w = reg.get_variable("w", VarSpec::new())?;
        assert!(
            w.ptr_eq(captured_w),
            "captured scope reuse returned other storage"
        );
        log.ops += 2;
    }
    Ok(())
}

fn worker(
    reg: Registry,
    t: usize,
    start: Arc<Barrier>,
    captured: VariableScope,
    captured_w: Variable,
) -> Result<Log, String> {
    start.wait();
    let mut log = Log::default();
    // Alternate the order so that towers and shared scopes really interleave.
    let run = |log: &mut Log| -> Result<(), Error> {
        if t.is_multiple_of(2) {
            build_tower(&reg, t, log)?;
            build_shared(&reg, &captured, &captured_w, log)
        } else {
            build_shared(&reg, &captured, &captured_w, log)?;
            build_tower(&reg, t, log)
        }
    };
    match catch_unwind(AssertUnwindSafe(|| run(&mut log))) {
        Ok(Ok(())) => Ok(log),
        Ok(Err(e)) => Err(format!("thread {t}: error {e}")),
        Err(panic) => Err(format!(
            "thread {t}: panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )),
    }
}

#[test]
fn eight_threads_build_and_reuse_without_losing_anything() {
    let started = Instant::now();
    let reg = Registry::with_seed(7);
    // A scope captured on this thread, re-entered on every other.
    let (captured, captured_w) = reg
        .variable_scope("model")
        .with(|s| Ok::<_, Error>((s.clone(), reg.get_variable("w", one())?)))
        .expect("main-thread model");

    let (tx, rx) = mpsc::channel();
    let start = Arc::new(Barrier::new(THREADS));
    for t in 0..THREADS {
        let (reg, tx, start) = (reg.clone(), tx.clone(), start.clone());
        let (captured, captured_w) = (captured.clone(), captured_w.clone());
        std::thread::spawn(move || {
            let result = worker(reg, t, start, captured, captured_w);
            // The receiver may have given up already; nothing else to do then.
            let _ = tx.send((t, result));
        });
    }
    drop(tx);
    let mut logs: Vec<Option<Log>> = (0..THREADS).map(|_| None).collect();
    for _ in 0..THREADS {
        let left = DEADLINE.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok((t, Ok(log))) => logs[t] = Some(log),
            Ok((_, Err(why))) => panic!("{why}"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("deadlock: threads still running after {DEADLINE:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("a thread died without a result"),
        }
    }
    let logs: Vec<Log> = logs.into_iter().map(|l| l.expect("every thread")).collect();

    // Enough work was done.
    let ops: usize = logs.iter().map(|l| l.ops).sum();
    assert!(ops >= 100_000, "only {ops} operations");

    // No lost or duplicated variable: the registry holds exactly what the threads created
    // (plus the main thread's one), each once, under a unique name and id.
    let mut created: Vec<&Variable> = logs.iter().flat_map(|l| &l.created).collect();
    created.push(&captured_w);
    let shared_created: Vec<&Variable> = {
        // Each shared name was created by exactly one thread; count it once.
        let mut by_name: HashMap<&str, &Variable> = HashMap::new();
        for l in &logs {
            for (name, v) in &l.shared {
                let first = by_name.entry(name.as_str()).or_insert(v);
                assert!(first.ptr_eq(v), "{name}: threads got different storage");
            }
        }
        assert_eq!(by_name.len(), SHARED);
        by_name.into_values().collect()
    };
    created.extend(shared_created);
    let all = reg.global_variables();
    assert_eq!(all.len(), created.len(), "lost or extra variables");
    let names: HashSet<&str> = all.iter().map(Variable::name).collect();
    assert_eq!(names.len(), all.len(), "duplicate names");
    let ids: HashSet<u64> = all.iter().map(Variable::id).collect();
    assert_eq!(ids.len(), all.len(), "duplicate ids");
    assert!(
        all.windows(2).all(|w| w[0].id() < w[1].id()),
        "creation order"
    );
    for v in &created {
        let found = reg
            .variable(v.name())
            .expect("created variable is registered");
        assert!(
            found.ptr_eq(v),
            "{} registered with other storage",
            v.name()
        );
    }

    // The race to create without reuse had exactly one winner per name.
    let mut won: Vec<&String> = logs.iter().flat_map(|l| &l.race_won).collect();
    won.sort();
    let want: Vec<String> = {
        let mut w: Vec<String> = (0..RACE).map(|k| format!("race/x{k}")).collect();
        w.sort();
        w
    };
    assert_eq!(won, want.iter().collect::<Vec<_>>());

    // tf.Variable in a shared name scope: who got which name depends on the interleaving,
    // the set of names does not.
    let common: HashSet<String> = all
        .iter()
        .map(|v| v.name().to_owned())
        .filter(|n| n.starts_with("common"))
        .collect();
    let want: HashSet<String> = (0..THREADS * COMMON)
        .map(|j| match j {
            0 => "common/v".to_owned(),
            j => format!("common_{j}/v"),
        })
        .collect();
    assert_eq!(common, want);

    // Each thread's own tower is named exactly as a serial run names it.
    let serial = Registry::with_seed(7);
    for (t, log) in logs.iter().enumerate() {
        let mut alone = Log::default();
        build_tower(&serial, t, &mut alone).expect("serial run");
        assert_eq!(log.tower_names, alone.tower_names, "thread {t}'s names");
    }
    eprintln!("{ops} operations in {:?}", started.elapsed());
}

/// Many threads hammer one shared name with reuse=AUTO while others list and filter the
/// collection: readers never see a half-registered variable.
#[test]
fn readers_never_see_a_half_built_registry() {
    let reg = Registry::with_seed(3);
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let (reg, tx) = (reg.clone(), tx.clone());
        std::thread::spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                for k in 0..2_000 {
                    if t % 2 == 0 {
                        let v = reg
                            .variable_scope("s")
                            .reuse(Reuse::Auto)
                            .with(|_| reg.get_variable(&format!("v{}", k % 500), one()))
                            .expect("get_variable");
                        assert_eq!(
                            reg.stored_variable(v.name()).map(|s| s.ptr_eq(&v)),
                            Some(true)
                        );
                    } else {
                        let listed = reg.collection(scope::Collection::Global, Some("s/"));
                        let unique: HashSet<&str> = listed.iter().map(Variable::name).collect();
                        assert_eq!(unique.len(), listed.len());
                        for v in listed.iter().take(3) {
                            assert!(reg.variable(v.name()).is_some_and(|f| f.ptr_eq(v)));
                        }
                    }
                }
            }));
            let _ = tx.send(result.is_ok());
        });
    }
    drop(tx);
    let deadline = Instant::now() + DEADLINE;
    for _ in 0..THREADS {
        let ok = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no deadlock and no lost thread");
        assert!(ok, "a thread panicked");
    }
    assert_eq!(reg.len(), 500);
}

/// Under `Reuse::Auto`, a value initializer's shape is not a requested shape: whether a
/// thread finds the variable before it initializes (fast path) or after (another thread
/// created it while this one was initializing), it gets the existing variable, never a
/// shape mismatch. Each thread's value has its own shape, so a race would show.
#[test]
fn auto_reuse_with_a_value_does_not_depend_on_timing() {
    const NAMES: usize = 2_000;
    let reg = Registry::with_seed(4);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (reg, barrier) = (reg.clone(), barrier.clone());
            std::thread::spawn(move || -> Result<Vec<Variable>, Error> {
                let value = vec![t as f32; t + 1];
                barrier.wait();
                reg.variable_scope("auto").reuse(Reuse::Auto).with(|_| {
                    (0..NAMES)
                        .map(|k| {
                            let init = Initializer::value(value.clone());
                            reg.get_variable(&format!("v{k}"), VarSpec::new().initializer(init))
                        })
                        .collect()
                })
            })
        })
        .collect();
    let results: Vec<Vec<Variable>> = handles
        .into_iter()
        .map(|h| {
            h.join()
                .expect("no panic")
                .expect("no error, whatever the timing")
        })
        .collect();
    for k in 0..NAMES {
        let first = &results[0][k];
        assert!(results.iter().all(|vars| vars[k].ptr_eq(first)), "v{k}");
    }
    assert_eq!(reg.len(), NAMES);
}

/// Threads saving to one path at once (issue #15, item 3): every save succeeds (none
/// removes another's temporary), the file afterwards is one whole save of that round (never
/// a mix, never an older round), and no temporary is left behind.
#[test]
fn concurrent_saves_to_one_path_all_succeed_and_the_last_wins() {
    use scope::checkpoint::{save_safetensors, CheckpointSource, SafetensorsCheckpoint};
    const SAVERS: usize = 4;
    const SAVE_ROUNDS: usize = 60;
    let dir = std::env::temp_dir().join(format!("scope-concurrent-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    // Each saver has its own registry with the same names; values say who saved which round.
    let regs = saver_registries(SAVERS, &["a", "b"]);
    let barrier = Arc::new(Barrier::new(SAVERS + 1));
    let path_ = path.clone();
    let handles = spawn_savers(regs, SAVE_ROUNDS, &barrier, move |_, reg| {
        save_safetensors(&path_, reg)
    });
    for round in 0..SAVE_ROUNDS {
        barrier.wait();
        barrier.wait();
        let ckpt = SafetensorsCheckpoint::open(&path).expect("a whole file");
        let a = ckpt.read_tensor("a").unwrap().to_f64_vec();
        let b = ckpt.read_tensor("b").unwrap().to_f64_vec();
        assert!(
            a.iter().chain(&b).all(|&x| x == a[0]),
            "round {round}: a mixed file"
        );
        let saver = a[0] as usize;
        assert_eq!(saver / SAVERS, round, "the file holds another round's save");
    }
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("a saver panicked"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} saves failed: {failures:#?}",
        failures.len()
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["model.safetensors"], "temporaries left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `savers` registries (one per saver thread), each with a `[64]` float32 variable per name.
fn saver_registries(savers: usize, names: &[&str]) -> Vec<Registry> {
    (0..savers)
        .map(|t| {
            let reg = Registry::with_seed(t as u64);
            for name in names {
                reg.get_variable(name, VarSpec::new().shape([64])).unwrap();
            }
            reg
        })
        .collect()
}

/// Threads that each, in every round, set every variable of their registry to the mark
/// `round * savers + t` (64 elements each), wait at `barrier`, save with `save(t, reg)` and
/// wait again; each returns the saves that failed (collected, not panicked on, so the barrier
/// never strands a thread).
fn spawn_savers<T, E: std::fmt::Display>(
    regs: Vec<Registry>,
    rounds: usize,
    barrier: &Arc<Barrier>,
    save: impl Fn(usize, &Registry) -> Result<T, E> + Send + Clone + 'static,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    let savers = regs.len();
    regs.into_iter()
        .enumerate()
        .map(|(t, reg)| {
            let (barrier, save) = (barrier.clone(), save.clone());
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for round in 0..rounds {
                    let mark = (round * savers + t) as f32;
                    for v in reg.global_variables() {
                        v.assign(vec![mark; 64]).unwrap();
                    }
                    barrier.wait();
                    let saved = save(t, &reg);
                    barrier.wait();
                    if let Err(e) = saved {
                        failures.push(format!("saver {t}, round {round}: {e}"));
                    }
                }
                failures
            })
        })
        .collect()
}

/// Sharded saves racing to one path, of different layouts (3 shards, 6 shards, one file) and
/// of one layout (two savers writing the same 3 shard names),
/// while a reader opens that path over and over: every save reports `Ok`; after every round
/// the path opens as one complete checkpoint holding one save of that round, and the
/// directory holds exactly that checkpoint's files; and every read the reader made saw the
/// values of one save throughout, never a mix. Bounded by rounds, not by time. On cc5c752
/// this failed three ways: rounds ended unreadable (one saver's stale-shard removal deleted
/// the other's shards), reads mixed two saves, and reads failed.
#[test]
fn racing_sharded_saves_leave_one_checkpoint_and_readers_never_see_a_mix() {
    use scope::checkpoint::{CheckpointSource, Save, ShardedCheckpoint};
    use std::sync::atomic::{AtomicBool, Ordering};
    const SAVE_ROUNDS: usize = 40;
    const TENSORS: usize = 6;
    // 64 float32 = 256 bytes per tensor: shards of 512 bytes hold two (three shards), of
    // 256 bytes one (six shards); no limit, one file. Two savers share a layout, so their
    // files have the same names and only their values tell them apart.
    let layouts = [Some(512u64), Some(256), None, Some(512)];
    let saver_count = layouts.len();
    let dir = std::env::temp_dir().join(format!("scope-racing-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let names: Vec<String> = (0..TENSORS).map(|k| format!("layer_{k}/w")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let regs = saver_registries(layouts.len(), &names);
    /// One save's values: every element of every tensor is the same mark.
    fn one_mark(ckpt: &ShardedCheckpoint) -> Result<f64, String> {
        let mut marks = Vec::new();
        for t in ckpt.tensors() {
            let v = ckpt.read_tensor(&t.name).map_err(|e| e.to_string())?;
            marks.extend(v.to_f64_vec());
        }
        if marks.len() != TENSORS * 64 {
            return Err(format!("{} elements", marks.len()));
        }
        match marks.iter().all(|&m| m == marks[0]) {
            true => Ok(marks[0]),
            false => Err(format!("values of two saves: {marks:?}")),
        }
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (done, dir) = (done.clone(), dir.clone());
        std::thread::spawn(move || {
            let (mut reads, mut bad) = (0usize, Vec::new());
            while !done.load(Ordering::Acquire) {
                // Before the first save there is nothing to open.
                let Ok(ckpt) = ShardedCheckpoint::open(&dir) else {
                    if reads > 0 {
                        bad.push("the checkpoint could not be opened".to_owned());
                    }
                    continue;
                };
                reads += 1;
                if let Err(e) = one_mark(&ckpt) {
                    bad.push(e);
                }
            }
            (reads, bad)
        })
    };
    let barrier = Arc::new(Barrier::new(layouts.len() + 1));
    let path_ = path.clone();
    let savers = spawn_savers(regs, SAVE_ROUNDS, &barrier, move |t, reg| {
        let save = Save::new(reg);
        match layouts[t] {
            Some(bytes) => save.max_shard_size(bytes).save(&path_),
            None => save.save(&path_),
        }
    });
    for round in 0..SAVE_ROUNDS {
        barrier.wait();
        barrier.wait();
        let ckpt = ShardedCheckpoint::open(&dir)
            .unwrap_or_else(|e| panic!("round {round}: an unreadable checkpoint: {e}"));
        let mark = one_mark(&ckpt).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(
            mark as usize / saver_count,
            round,
            "the path holds another round's save"
        );
        let mut expected: Vec<String> = match ckpt.shard_count() {
            1 => vec!["model.safetensors".to_owned()],
            n => (1..=n)
                .map(|k| format!("model-{k:05}-of-{n:05}.safetensors"))
                .chain(["model.safetensors.index.json".to_owned()])
                .collect(),
        };
        expected.sort();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, expected, "round {round}: files of another save left");
    }
    let failures: Vec<String> = savers
        .into_iter()
        .flat_map(|h| h.join().expect("a saver panicked"))
        .collect();
    done.store(true, Ordering::Release);
    let (reads, bad) = reader.join().expect("the reader panicked");
    assert!(failures.is_empty(), "saves failed: {failures:#?}");
    assert!(reads > 0, "the reader never read");
    assert!(
        bad.is_empty(),
        "{} of {reads} reads were wrong; first: {}",
        bad.len(),
        bad[0]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TF1 checkpoints saved by racing threads to one prefix: every save reports `Ok`, and after
/// every round the prefix opens and reads as one whole save of that round, with no temporary
/// left behind. (The writer used one fixed temporary name per prefix, so racing saves wrote
/// into each other's temporary.)
#[test]
fn racing_tf_checkpoint_saves_leave_one_whole_checkpoint() {
    use scope::checkpoint::{save_tf_checkpoint, CheckpointSource, TfCheckpoint};
    const SAVERS: usize = 3;
    const SAVE_ROUNDS: usize = 30;
    let dir = std::env::temp_dir().join(format!("scope-racing-tf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = dir.join("model.ckpt");
    let regs = saver_registries(SAVERS, &["a", "b", "c"]);
    let barrier = Arc::new(Barrier::new(SAVERS + 1));
    let prefix_ = prefix.clone();
    let savers = spawn_savers(regs, SAVE_ROUNDS, &barrier, move |_, reg| {
        save_tf_checkpoint(&prefix_, reg)
    });
    for round in 0..SAVE_ROUNDS {
        barrier.wait();
        barrier.wait();
        let ckpt = TfCheckpoint::open(&prefix)
            .unwrap_or_else(|e| panic!("round {round}: unreadable: {e}"));
        let mut marks = Vec::new();
        for name in ["a", "b", "c"] {
            let t = ckpt
                .read_tensor(name)
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            marks.extend(t.to_f64_vec());
        }
        assert!(
            marks.iter().all(|&m| m == marks[0]),
            "round {round}: values of two saves"
        );
        assert_eq!(marks[0] as usize / SAVERS, round, "another round's save");
    }
    let failures: Vec<String> = savers
        .into_iter()
        .flat_map(|h| h.join().expect("a saver panicked"))
        .collect();
    assert!(failures.is_empty(), "saves failed: {failures:#?}");
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["model.ckpt.data-00000-of-00001", "model.ckpt.index"],
        "temporaries left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
