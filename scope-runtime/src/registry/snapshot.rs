//! What a failed model build puts back (see `crate::model::atomic_build`): a copy of the
//! registry's shared state, and the mark that tells whether another thread wrote since.

use super::{Registry, Shared};

/// The thread that took the registry's write lock last, and how many times that changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct WriterMark {
    last: Option<std::thread::ThreadId>,
    changes: u64,
}

impl WriterMark {
    pub(super) fn note(&mut self, thread: std::thread::ThreadId) {
        if self.last != Some(thread) {
            self.last = Some(thread);
            self.changes += 1;
        }
    }
}

/// The registry's shared state (variables, store, op names in use) as it was when
/// [`Registry::snapshot`] took it: what a failed model build puts back.
pub(crate) struct SharedSnapshot {
    shared: Shared,
}

impl Registry {
    /// The shared state as it is now (a copy: O(variables)), for [`Registry::restore`].
    pub(crate) fn snapshot(&self) -> SharedSnapshot {
        // Taken as a write: a write by another thread after it shows in the writer mark.
        let shared = self.write();
        SharedSnapshot {
            shared: shared.clone(),
        }
    }

    /// Puts the shared state back as `snapshot` holds it, unless another thread has written
    /// since it was taken (whose variables and names would go too): returns whether it did.
    pub(crate) fn restore(&self, snapshot: SharedSnapshot) -> bool {
        let mut shared = self.write();
        if shared.writer != snapshot.shared.writer {
            return false;
        }
        let writer = shared.writer;
        *shared = snapshot.shared;
        shared.writer = writer;
        true
    }
}
