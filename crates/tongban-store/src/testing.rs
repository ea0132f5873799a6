//! Test fixtures: a fresh database per test on each available backend.
//!
//! SQLite always runs. PostgreSQL runs when the server at `TONGBAN_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) answers; each test gets a database of its
//! own, dropped afterwards. With `TONGBAN_REQUIRE_PG=1` (set by CI) an unreachable
//! PostgreSQL fails the test instead of skipping it.

use crate::{Backend, Store};

pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempdir::Dir>,
    pg_cleanup: Option<(String, String)>,
}

mod tempdir {
    /// A directory removed on drop (a tiny stand-in so the library needs no dev crate).
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pg_admin_url() -> String {
    std::env::var("TONGBAN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn unique_name(prefix: &str) -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{prefix}_{}_{n:016x}", std::process::id())
}

/// The ledger partitions a test database is created with: `TONGBAN_TEST_LEDGER_PARTITIONS`,
/// else 1 (the tests written before partitions name sequence numbers of the one chain;
/// the partitioned ledger's own tests ask for several with `*_partitioned`).
fn test_partitions() -> u32 {
    std::env::var("TONGBAN_TEST_LEDGER_PARTITIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::sqlite_partitioned(test_partitions()).await
    }

    /// A fresh SQLite database whose ledger has `partitions` partitions.
    pub async fn sqlite_partitioned(partitions: u32) -> TestDb {
        let dir = std::env::temp_dir().join(unique_name("tongban_test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("tongban.db").display());
        let store = Store::open_with(&url, Some(partitions))
            .await
            .expect("open sqlite");
        TestDb {
            store,
            url,
            backend: Backend::Sqlite,
            _dir: Some(tempdir::Dir(dir)),
            pg_cleanup: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` when PostgreSQL is not reachable (and not required).
    pub async fn postgres() -> Option<TestDb> {
        TestDb::postgres_partitioned(test_partitions()).await
    }

    /// [`TestDb::postgres`] whose ledger has `partitions` partitions.
    pub async fn postgres_partitioned(partitions: u32) -> Option<TestDb> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let required = std::env::var("TONGBAN_REQUIRE_PG").is_ok_and(|v| v == "1");
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if !required => {
                eprintln!("PostgreSQL not reachable at {admin} ({e}); skipping the PostgreSQL run");
                return None;
            }
            Err(e) => {
                panic!("TONGBAN_REQUIRE_PG=1 but PostgreSQL is not reachable at {admin}: {e}")
            }
        };
        let name = unique_name("tongban_t");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin).expect("pg url");
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::open_with(&url, Some(partitions))
            .await
            .expect("open postgres");
        Some(TestDb {
            store,
            url,
            backend: Backend::Postgres,
            _dir: None,
            pg_cleanup: Some((admin, name)),
        })
    }

    /// SQLite always, PostgreSQL when available.
    pub async fn all() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite().await];
        if let Some(pg) = TestDb::postgres().await {
            v.push(pg);
        }
        v
    }

    /// Closes the pools and drops a PostgreSQL test database.
    pub async fn cleanup(mut self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg_cleanup.take() {
            drop_database(&admin, &name).await;
        }
    }
}

async fn drop_database(admin: &str, name: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::AnyConnection::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

/// A test that panicked (or forgot `cleanup`) leaves no PostgreSQL database behind: the drop
/// runs on a thread of its own, with a runtime of its own, since it may happen while the
/// test's runtime unwinds.
impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_cleanup.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_database(&admin, &name));
                }
            })
            .join();
        }
    }
}

/// Raw statements for tests that check what the database itself refuses, and a way round
/// the audit log's triggers to simulate tampering by someone with database access.
impl crate::Store {
    pub async fn debug_execute(&self, sql: &str, id: i64) -> crate::Result<u64> {
        let done = crate::db::query(sql).bind(id).execute(self.w()).await;
        self.durable().await?;
        Ok(done?.rows_affected())
    }

    pub async fn debug_tamper_audit(&self, id: i64, detail: &str) -> crate::Result<()> {
        let (off, on) = match self.backend() {
            crate::Backend::Sqlite => (
                "DROP TRIGGER audit_log_no_update",
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
            ),
            crate::Backend::Postgres => (
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
                "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
            ),
        };
        crate::db::query(off).execute(self.w()).await?;
        crate::db::query("UPDATE audit_log SET detail = $1 WHERE id = $2")
            .bind(detail)
            .bind(id)
            .execute(self.w())
            .await?;
        crate::db::query(on).execute(self.w()).await?;
        self.durable().await
    }
}
