//! Storage for tongban. One code path over sqlx's `Any` driver serves the embedded SQLite
//! default and PostgreSQL (see docs/adr/0001-storage-sqlx-any.md). SQL here is written in the
//! dialect both accept; the few differences live in the per-backend migrations.

pub mod accounts;
pub mod backup;
pub mod cases;
pub mod catalog;
pub mod catalog_file;
pub mod db;
pub mod group_sync;
pub mod jobs;
pub mod ledger;
pub mod licences;
pub mod objects;
pub mod supervision;
pub mod testing;
pub mod uploads;

use db::{Db, Row as AnyRow};
use sqlx::any::AnyPoolOptions;
use std::path::Path;
use std::time::Duration;

pub use sqlx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors the store reports. `Conflict` and `NotFound` are expected outcomes that the web
/// layer shows to users; `Database` is an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("未找到：{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] db::DbError),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(e.into())
    }
}

/// The database handle. Writes go through `write` (a single connection on SQLite, so
/// writers queue in-process instead of fighting over the file lock); reads use `read`.
#[derive(Clone, Debug)]
pub struct Store {
    write: Db,
    read: Db,
    backend: Backend,
    /// SQLite only: the group commit that makes committed writes durable (see group_sync).
    sync: Option<std::sync::Arc<group_sync::GroupSync>>,
    revs: std::sync::Arc<RevCache>,
    /// Ledger proofs already computed (they never change for a given tree size).
    proofs: std::sync::Arc<ledger::ProofCache>,
}

/// How long a node trusts the catalog and calendar revisions it read. Every request checks
/// them (to rebuild its cached catalog view and calendar when an administrator changes
/// them); re-reading them once a second instead of per request saves two database round
/// trips per request. Changes made through this process are seen at once (the writer
/// invalidates); changes made by another node or the CLI are seen within this interval.
const REV_TTL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct RevCache {
    /// Bumped by every local change, so a read that raced a change is not cached.
    generation: std::sync::atomic::AtomicU64,
    values: std::sync::Mutex<Vec<(&'static str, i64, std::time::Instant, u64)>>,
}

static DRIVERS: std::sync::Once = std::sync::Once::new();

impl Store {
    /// Opens (creating if needed) the database named by `url`: `sqlite://path` or
    /// `postgres://…`. Runs the embedded migrations.
    pub async fn open(url: &str) -> Result<Store> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database URL (expected sqlite:// or postgres://): {}",
                redact_url(url)
            )));
        };
        let store = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = Path::new(path).parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| {
                            StoreError::Internal(format!("cannot create {}: {e}", dir.display()))
                        })?;
                    }
                }
                // The schema is migrated through sqlx's SQLite driver on a connection of
                // its own; everything else runs through rusqlite (see db.rs).
                let url = format!("sqlite://{path}?mode=rwc");
                let migrator = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await?;
                sqlx::migrate!("migrations/sqlite").run(&migrator).await?;
                migrator.close().await;
                let shared = db::SqliteShared::open(Path::new(path))?;
                let write = Db::Sqlite {
                    shared: shared.clone(),
                    writer: true,
                };
                let read = Db::Sqlite {
                    shared,
                    writer: false,
                };
                Store {
                    write,
                    read,
                    backend,
                    sync: Some(std::sync::Arc::new(group_sync::GroupSync::start(
                        Path::new(path),
                    ))),
                    revs: Default::default(),
                    proofs: Default::default(),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    // No `SELECT 1` round trip before every checkout: a connection the
                    // server dropped fails its next statement, that request gets an error
                    // and sqlx discards the connection.
                    .test_before_acquire(false)
                    .connect(url)
                    .await?;
                Store {
                    write: Db::Postgres(pool.clone()),
                    read: Db::Postgres(pool),
                    backend,
                    sync: None,
                    revs: Default::default(),
                    proofs: Default::default(),
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        // SQLite is migrated when opened (before its rusqlite connections exist).
        if let Db::Postgres(pool) = &self.write {
            sqlx::migrate!("migrations/postgres").run(pool).await?;
        }
        self.durable().await?;
        // Ledgers older than the stored subtree hashes (migration 0013) get them now.
        let n = self.backfill_ledger_nodes().await?;
        if n > 0 {
            tracing::info!(events = n, "ledger subtree hashes back-filled");
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (BEGIN
    /// IMMEDIATE): a transaction that reads first and upgrades later can be refused
    /// outright when another process writes at the same moment; one that waits its turn
    /// cannot.
    pub(crate) async fn begin_write(&self) -> std::result::Result<db::Tx, db::DbError> {
        self.write.begin().await
    }

    /// Commits a write transaction and returns once it is durable. Every write goes
    /// through here (or through `durable` after an autocommit statement): nothing is
    /// acknowledged before it is on disk.
    pub(crate) async fn commit(&self, tx: db::Tx) -> std::result::Result<(), StoreError> {
        tx.commit().await?;
        self.durable().await
    }

    /// Waits until every write committed so far is on disk. PostgreSQL commits durably by
    /// itself (`synchronous_commit=on`, grouping concurrent commits in its own WAL flush).
    pub(crate) async fn durable(&self) -> Result<()> {
        match &self.sync {
            Some(s) => s.durable().await.map_err(StoreError::Internal),
            None => Ok(()),
        }
    }

    /// How the SQLite group commit is doing (None on PostgreSQL, which groups by itself).
    pub fn write_stats(&self) -> Option<WriteStats> {
        let (Db::Sqlite { shared, .. }, Some(sync)) = (&self.write, &self.sync) else {
            return None;
        };
        let (batches, transactions) = shared.committed();
        Some(WriteStats {
            transactions,
            batches,
            syncs: sync.syncs(),
            acknowledged: sync.synced_ticket(),
        })
    }

    /// Tickets made durable so far by the SQLite group commit (None on PostgreSQL).
    pub fn synced_writes(&self) -> Option<u64> {
        self.sync.as_ref().map(|s| s.synced_ticket())
    }

    /// A revision counter of the `meta` table (`catalog_rev`, `calendar_rev`), trusted for
    /// `REV_TTL` after it was read.
    pub(crate) async fn meta_rev(&self, key: &'static str) -> Result<i64> {
        use std::sync::atomic::Ordering;
        let generation = self.revs.generation.load(Ordering::Acquire);
        {
            let values = self.revs.values.lock().expect("rev cache");
            if let Some((_, v, at, g)) = values.iter().find(|(k, ..)| *k == key) {
                if *g == generation && at.elapsed() < REV_TTL {
                    return Ok(*v);
                }
            }
        }
        let v = get_i64(
            &db::query("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_one(&self.read)
                .await?,
            "value",
        )?;
        let mut values = self.revs.values.lock().expect("rev cache");
        values.retain(|(k, ..)| *k != key);
        values.push((key, v, std::time::Instant::now(), generation));
        Ok(v)
    }

    /// Called after committing a change that bumped a `meta` revision.
    pub(crate) fn revs_changed(&self) {
        self.revs
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub(crate) fn w(&self) -> &Db {
        &self.write
    }

    pub(crate) fn r(&self) -> &Db {
        &self.read
    }

    /// The benchmark's storage limit: a scratch table written by `probe_pair`.
    pub async fn probe_create(&self, table: &str) -> Result<()> {
        let table = probe_table(table)?;
        db::query(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (id BIGINT, payload TEXT)"
        ))
        .execute(&self.write)
        .await?;
        self.durable().await
    }

    /// One durable two-row transaction, committed the way every write of the store is.
    pub async fn probe_pair(&self, table: &str, id: i64, payload: &str) -> Result<()> {
        let table = probe_table(table)?;
        let insert = format!("INSERT INTO {table} (id, payload) VALUES ($1, $2)");
        let mut tx = self.begin_write().await?;
        for k in 0..2 {
            db::query(&insert)
                .bind(id * 2 + k)
                .bind(payload)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await
    }

    /// Rows in a probe table, read on the read side (what a reader would see).
    pub async fn probe_count(&self, table: &str) -> Result<i64> {
        let table = probe_table(table)?;
        get_i64(
            &db::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(&self.read)
                .await?,
            "n",
        )
    }

    pub async fn probe_drop(&self, table: &str) -> Result<()> {
        let table = probe_table(table)?;
        db::query(&format!("DROP TABLE IF EXISTS {table}"))
            .execute(&self.write)
            .await?;
        self.durable().await
    }

    pub async fn ping(&self) -> Result<()> {
        db::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Counters of the SQLite write path since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions committed (each a savepoint of a batch).
    pub transactions: u64,
    /// Batches committed (one SQLite COMMIT each).
    pub batches: u64,
    /// `fdatasync` calls on the write-ahead log.
    pub syncs: u64,
    /// Writes acknowledged as durable.
    pub acknowledged: u64,
}

/// Scratch table names for the storage-limit probe: `bench_` and letters, digits, `_`.
fn probe_table(name: &str) -> Result<&str> {
    if name.starts_with("bench_") && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name)
    } else {
        Err(StoreError::Invalid(format!(
            "not a probe table name: {name}"
        )))
    }
}

/// Hides the password of a database URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub(crate) fn now_text(now: chrono::DateTime<chrono::Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn get_str(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// True for a unique-constraint violation on either backend.
pub(crate) fn is_unique_violation(e: &db::DbError) -> bool {
    e.is_unique_violation()
}
