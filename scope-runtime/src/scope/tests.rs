//! Unit tests of variable and name scopes.
use super::*;
use crate::registry::VarSpec;
use std::sync::mpsc;

fn entries_on_this_thread() -> usize {
    THREAD_SCOPES.with(|map| map.borrow().entries.len())
}

/// A registry used on a worker thread and dropped on another leaves an entry in the
/// worker's map that its own drop cannot reach; the worker sweeps such entries as it
/// adds new ones, so a long-lived worker's map stays bounded by the live registries.
#[test]
fn registries_dropped_elsewhere_do_not_accumulate_in_a_worker() {
    const REGISTRIES: usize = 5_000;
    let (to_worker, jobs) = mpsc::channel::<Registry>();
    let (done, finished) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let kept = Registry::new();
        let _open = kept.variable_scope("kept").enter().expect("enter");
        let mut most = 0;
        for reg in jobs {
            // Leaves per-thread state for `reg` on this thread: an open-and-closed scope.
            reg.variable_scope("s")
                .with(|_| reg.get_variable("w", VarSpec::new().shape([1])))
                .expect("get_variable");
            drop(reg);
            most = most.max(entries_on_this_thread());
            done.send(()).expect("main is waiting");
        }
        // The registry still alive keeps its scope state through every sweep.
        assert_eq!(kept.current_variable_scope().name(), "kept");
        (most, entries_on_this_thread())
    });
    for _ in 0..REGISTRIES {
        let reg = Registry::new();
        to_worker.send(reg.clone()).expect("worker is running");
        finished.recv().expect("worker answers");
        // The last handle, dropped here: the worker's entry is now dead.
        drop(reg);
    }
    drop(to_worker);
    let (most, last) = worker.join().expect("worker did not panic");
    assert!(most <= 2 * ThreadMap::MIN_SWEEP, "{most} entries at most");
    assert!(last <= 2 * ThreadMap::MIN_SWEEP, "{last} entries left");
}

/// Registries dropped on the thread that used them remove their entries at once.
#[test]
fn registries_dropped_here_remove_their_entry() {
    let before = entries_on_this_thread();
    for _ in 0..100 {
        let reg = Registry::new();
        let _ = reg.current_name_scope();
        assert_eq!(entries_on_this_thread(), before + 1);
    }
    assert_eq!(entries_on_this_thread(), before);
}
