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
