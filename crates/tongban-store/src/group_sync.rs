//! Group commit for the embedded SQLite database.
//!
//! With `synchronous=FULL` every COMMIT waits for its own `fsync` of the write-ahead log
//! while holding the single write connection, so writers queue behind the disk one by one.
//! Instead the write connection runs with `synchronous=NORMAL` (a COMMIT appends its frames
//! to the WAL without waiting for the disk) and a request is acknowledged only after an
//! `fdatasync` of the WAL that *started after* its COMMIT has finished. One sync covers every
//! transaction committed before it began, so concurrent writers share the disk's latency
//! instead of paying it in turn, and the write connection is free again as soon as the
//! frames are written. Durability is unchanged: an acknowledged write is on disk.
//!
//! Why this is sound for SQLite's WAL: a commit only appends frames (or, after a completed
//! checkpoint, restarts the log with a new salt, when everything before is already in the
//! synced database file); recovery replays the frames whose checksums chain up to a commit
//! frame. Under `NORMAL`, SQLite itself still syncs the WAL before every checkpoint and the
//! database file after it. `fdatasync` flushes the file's pages whichever descriptor wrote
//! them, so our own descriptor covers the frames SQLite wrote.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::watch;

/// Tickets are numbered; `synced` is the highest ticket known to be on disk.
#[derive(Default)]
struct State {
    requested: u64,
    shutdown: bool,
    /// The last sync failure, reported to the tickets it could not cover.
    failed: Option<(u64, String)>,
}

struct Shared {
    wal: PathBuf,
    state: Mutex<State>,
    wake: Condvar,
    synced: watch::Sender<u64>,
    syncs: std::sync::atomic::AtomicU64,
}

/// The syncer: one thread per database that turns committed tickets into durable ones.
pub(crate) struct GroupSync {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GroupSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupSync")
            .field("wal", &self.shared.wal)
            .finish()
    }
}

impl GroupSync {
    /// Starts the syncer for the database file at `db_path` (its log is `<db_path>-wal`).
    pub(crate) fn start(db_path: &std::path::Path) -> GroupSync {
        let mut wal = db_path.as_os_str().to_owned();
        wal.push("-wal");
        let (synced, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            wal: PathBuf::from(wal),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            synced,
            syncs: Default::default(),
        });
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("tongban-wal-sync".into())
            .spawn(move || run(worker))
            .expect("spawn the WAL sync thread");
        GroupSync { shared }
    }

    /// Waits until everything committed before this call is on disk. Call it after COMMIT
    /// returns and before acknowledging the write.
    pub(crate) async fn durable(&self) -> std::result::Result<(), String> {
        let mut rx = self.shared.synced.subscribe();
        let ticket = {
            let mut st = self.shared.state.lock().expect("sync state");
            st.requested += 1;
            st.requested
        };
        self.shared.wake.notify_one();
        loop {
            // A failed sync is final for the tickets it was to cover, even if a later one
            // succeeds: after an fsync error the kernel may have dropped those pages.
            if let Some((upto, err)) = &self.shared.state.lock().expect("sync state").failed {
                if *upto >= ticket {
                    return Err(err.clone());
                }
            }
            if *rx.borrow_and_update() >= ticket {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err("the WAL sync thread stopped".into());
            }
        }
    }

    /// The highest write ticket a finished sync has covered.
    pub(crate) fn synced_ticket(&self) -> u64 {
        *self.shared.synced.borrow()
    }

    /// WAL syncs done so far.
    pub(crate) fn syncs(&self) -> u64 {
        self.shared.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for GroupSync {
    fn drop(&mut self) {
        self.shared.state.lock().expect("sync state").shutdown = true;
        self.shared.wake.notify_one();
    }
}

fn run(shared: Arc<Shared>) {
    let mut done = 0u64;
    let mut wal: Option<std::fs::File> = None;
    loop {
        let target = {
            let mut st = shared.state.lock().expect("sync state");
            while st.requested <= done && !st.shutdown {
                st = shared.wake.wait(st).expect("sync state");
            }
            if st.requested <= done {
                return; // shut down with nothing pending
            }
            st.requested
        };
        // Every ticket up to `target` was taken after its COMMIT returned, so its frames
        // are in the file before this sync starts.
        match sync_file(&shared.wal, &mut wal) {
            Ok(()) => {
                shared
                    .syncs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                done = target;
                shared.synced.send_replace(target);
            }
            Err(e) => {
                tracing::error!(error = %e, wal = %shared.wal.display(), "WAL sync failed");
                shared.state.lock().expect("sync state").failed = Some((target, e.to_string()));
                done = target;
                // Wake the waiters so they see the failure; `synced` does not advance.
                shared.synced.send_modify(|_| {});
            }
        }
    }
}

fn sync_file(path: &std::path::Path, open: &mut Option<std::fs::File>) -> std::io::Result<()> {
    // The log file is kept open between syncs; SQLite keeps the same file while any
    // connection is open (it is removed only when the last one closes, after a checkpoint
    // into the synced database file), and it is opened again if that happened.
    if let Some(f) = open.as_ref() {
        if f.metadata().is_ok_and(|m| m.nlink() > 0) {
            return f.sync_data();
        }
    }
    match std::fs::File::open(path) {
        Ok(f) => {
            let r = f.sync_data();
            *open = Some(f);
            r
        }
        // No log file: nothing has been written since the last connection closed, and
        // SQLite checkpointed and synced the database file before removing it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
