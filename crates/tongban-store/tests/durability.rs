//! Group commit: concurrent writers are acknowledged only after a sync that covers them,
//! and what was acknowledged is there when the database is opened again.

use tongban_store::testing::TestDb;
use tongban_store::{Backend, Store};

#[tokio::test]
async fn concurrent_writes_are_acknowledged_after_a_covering_sync() {
    for db in TestDb::all().await {
        let table = "bench_durability";
        db.store.probe_create(table).await.unwrap();
        let before = db.store.synced_writes();
        let mut tasks = Vec::new();
        for w in 0..32i64 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..5i64 {
                    store.probe_pair(table, w * 100 + n, "x").await.unwrap();
                    // Acknowledged means covered by a finished sync (SQLite group commit).
                    if let Some(synced) = store.synced_writes() {
                        assert!(synced >= 1, "acknowledged before any sync");
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(db.store.probe_count(table).await.unwrap(), 320);
        if db.backend == Backend::Sqlite {
            let after = db.store.synced_writes().unwrap();
            // Every one of the 160 transactions took a ticket that a sync covered.
            assert!(after >= before.unwrap() + 160, "{before:?} → {after}");
            // Reopening (a new process would) finds every acknowledged row.
            db.store.close().await;
            let again = Store::open(&db.url).await.unwrap();
            assert_eq!(again.probe_count(table).await.unwrap(), 320);
            again.close().await;
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn probe_tables_are_checked_by_name() {
    let db = TestDb::sqlite().await;
    let err = db.store.probe_create("cases; DROP TABLE cases").await;
    assert!(err.is_err());
    let err = db.store.probe_pair("cases", 1, "x").await;
    assert!(err.is_err(), "only bench_ tables may be probed");
    db.cleanup().await;
}

/// Concurrent transactions share a batch on SQLite: the ones refused roll back alone, the
/// others all land, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_transaction_in_a_batch_leaves_the_others_alone() {
    use chrono::Utc;
    use tongban_core::ids::Uscc;
    use tongban_store::StoreError;
    for db in TestDb::all().await {
        let before = db.store.departments().await.unwrap().len();
        let mut tasks = Vec::new();
        for i in 0..20 {
            for attempt in 0..2 {
                let store = db.store.clone();
                tasks.push(tokio::spawn(async move {
                    let code = Uscc::with_check_char(&format!("1143190000{i:07}")).unwrap();
                    store
                        .create_department(
                            "t",
                            &code,
                            &format!("并发部门{i}-{attempt}"),
                            "",
                            Utc::now(),
                        )
                        .await
                }));
            }
        }
        let (mut ok, mut conflicts) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict(_)) => conflicts += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!((ok, conflicts), (20, 20), "{:?}", db.backend);
        assert_eq!(db.store.departments().await.unwrap().len(), before + 20);
        db.cleanup().await;
    }
}

/// Writers cancelled while queued for the write connection do not strand the batch that
/// was left open for them: everyone else still gets an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_writers_do_not_strand_a_batch() {
    let db = TestDb::sqlite().await;
    let table = "bench_cancel";
    db.store.probe_create(table).await.unwrap();
    for round in 0..5i64 {
        let mut tasks = Vec::new();
        for w in 0..40i64 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                store.probe_pair(table, round * 1000 + w, "x").await
            }));
        }
        // Cancel every other writer, wherever it is.
        let mut kept = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            if i % 2 == 1 {
                t.abort();
            } else {
                kept.push(t);
            }
        }
        for t in kept {
            tokio::time::timeout(std::time::Duration::from_secs(10), t)
                .await
                .expect("a writer was left waiting for a batch")
                .unwrap()
                .unwrap();
        }
    }
    // And the connection is still usable afterwards.
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        db.store.probe_pair(table, 99_999, "x"),
    )
    .await
    .expect("the write connection is stuck")
    .unwrap();
    let n = db.store.probe_count(table).await.unwrap();
    assert!(n >= 2 * (5 * 20 + 1), "{n}");
    assert_eq!(n % 2, 0, "a cancelled transaction left half its rows");
    db.cleanup().await;
}

/// The child half of `acknowledged_writes_survive_a_killed_process`: writes pairs from 64
/// concurrent writers (enough that transactions share batches) and prints `ack N` after each acknowledged one, until killed.
async fn crash_child(url: &str) {
    use std::io::Write;
    let store = Store::open(url).await.unwrap();
    store.probe_create("bench_crash").await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..64i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = w * 1_000_000 + n;
                store.probe_pair("bench_crash", id, "x").await.unwrap();
                let mut out = std::io::stdout().lock();
                writeln!(out, "ack {id}").unwrap();
                out.flush().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// A process killed while writing (SIGKILL, no shutdown) loses nothing it acknowledged:
/// every pair it reported is in the database when it is opened again, and no transaction
/// is half there. (Power loss is not simulated: the kernel's page cache survives a killed
/// process, so this checks acknowledgement after commit, not after the sync.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_killed_process() {
    use std::io::{BufRead, BufReader};
    use tongban_store::sqlx::{Connection, Row};
    if let Ok(url) = std::env::var("TONGBAN_CRASH_CHILD") {
        crash_child(&url).await;
        return;
    }
    let db = TestDb::sqlite().await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "acknowledged_writes_survive_a_killed_process",
            "--nocapture",
        ])
        .env("TONGBAN_CRASH_CHILD", &db.url)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.parse::<i64>().unwrap());
            if acked.len() == 2000 {
                child.kill().unwrap(); // SIGKILL, mid-write
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acked.len(), 2000, "the child stopped before writing");
    tongban_store::sqlx::any::install_default_drivers();
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&db.url)
        .await
        .unwrap();
    let rows = tongban_store::sqlx::query("SELECT id FROM bench_crash")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let stored: std::collections::HashSet<i64> =
        rows.iter().map(|r| r.get::<i64, _>("id")).collect();
    for id in &acked {
        assert!(
            stored.contains(&(id * 2)) && stored.contains(&(id * 2 + 1)),
            "acknowledged pair {id} is missing after the crash"
        );
    }
    // No half transactions either.
    for id in &stored {
        let pair = id / 2;
        assert!(stored.contains(&(pair * 2)) && stored.contains(&(pair * 2 + 1)));
    }
    drop(conn);
    db.cleanup().await;
}
