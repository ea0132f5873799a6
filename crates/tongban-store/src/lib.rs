//! Storage for tongban. One code path over sqlx's `Any` driver serves the embedded SQLite
//! default and PostgreSQL (see docs/adr/0001-storage-sqlx-any.md). SQL here is written in the
//! dialect both accept; the few differences live in the per-backend migrations.

pub mod accounts;
pub mod applicants;
pub mod audit;
pub mod backup;
#[cfg(feature = "bench")]
pub mod bench;
pub mod bundles;
pub mod calendar;
pub mod case_rows;
pub mod cases;
pub mod catalog;
pub mod catalog_file;
pub mod db;
pub mod exchange;
pub mod federation;
pub mod figures;
pub mod files;
pub mod group_sync;
pub mod hall;
pub mod jobs;
pub mod ledger;
pub mod ledger_append;
pub mod licences;
pub mod material_views;
pub mod messages;
mod numbers;
pub mod objects;
pub mod ratings;
pub mod supervision;
#[cfg(any(test, feature = "testing"))]
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

impl StoreError {
    /// The database is unreachable or storage is failing (see [`db::DbError::is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Database(e) if e.is_unavailable())
    }
}

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
    /// Signed-in sessions recently read, trusted for `SESSION_TTL` (see accounts.rs).
    pub(crate) sessions: std::sync::Arc<accounts::SessionCache>,
    /// Applicant rows this node read (they never change once written).
    applicants: std::sync::Arc<applicants::ApplicantCache>,
    /// The ledger's number of partitions (ADR 0010), read when the store opens.
    ledger_parts: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// The number of partitions to create a new database with (None: the backend's default).
    wanted_parts: Option<u32>,
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
        Store::open_with(url, None).await
    }

    /// [`Store::open`]; a database created now gets `ledger_partitions` ledger partitions
    /// (None: 1 on SQLite, 16 on PostgreSQL). An existing database keeps its own number.
    pub async fn open_with(url: &str, ledger_partitions: Option<u32>) -> Result<Store> {
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
                    sessions: Default::default(),
                    applicants: Default::default(),
                    ledger_parts: Default::default(),
                    wanted_parts: ledger_partitions,
                }
            }
            Backend::Postgres => {
                // One direct connection first: when the server is unreachable or refuses
                // us, the pool would only say "pool timed out"; this says why.
                {
                    use sqlx::Connection;
                    match tokio::time::timeout(
                        Duration::from_secs(10),
                        sqlx::AnyConnection::connect(url),
                    )
                    .await
                    {
                        Ok(Ok(c)) => {
                            let _ = c.close().await;
                        }
                        Ok(Err(e)) => {
                            return Err(StoreError::Database(db::DbError {
                                code: Some(db::UNAVAILABLE_CODE.into()),
                                message: format!("cannot connect to PostgreSQL: {e}"),
                                unavailable: true,
                            }))
                        }
                        Err(_) => {
                            return Err(StoreError::Database(db::DbError {
                                code: Some(db::UNAVAILABLE_CODE.into()),
                                message: "cannot connect to PostgreSQL: no answer within 10 s"
                                    .into(),
                                unavailable: true,
                            }))
                        }
                    }
                }
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
                    sessions: Default::default(),
                    applicants: Default::default(),
                    ledger_parts: Default::default(),
                    wanted_parts: ledger_partitions,
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
        self.settle_ledger_partitions(self.wanted_parts).await?;
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
            // A failed WAL sync means the write may not be on disk: storage is failing.
            Some(s) => s.durable().await.map_err(|message| {
                StoreError::Database(db::DbError {
                    code: Some(db::UNAVAILABLE_CODE.into()),
                    message,
                    unavailable: true,
                })
            }),
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

    /// A write round trip: one durable write of a probe row, read back. Readiness means
    /// the database takes writes, not only that it answers.
    pub async fn write_probe(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        db::query(
            "INSERT INTO meta (key, value) VALUES ('ready_probe', 1) \
             ON CONFLICT (key) DO UPDATE SET value = meta.value + 1",
        )
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        db::query("SELECT value FROM meta WHERE key = 'ready_probe'")
            .fetch_one(&self.write)
            .await?;
        Ok(())
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

/// Free bytes available to this process on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Checks that a directory exists (creating it) and that files can be written in it.
pub fn check_writable_dir(dir: &Path) -> std::result::Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(".tongban-write-probe");
    std::fs::write(&probe, b"ok").map_err(|e| format!("{} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A LIKE pattern matching `text` anywhere, with `%`, `_` and the escape character `\`
/// taken literally (use with `ESCAPE '\'`).
pub(crate) fn like_contains(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
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

/// The date in Beijing (UTC+8), the day the legal clock and case numbers count in.
pub(crate) fn beijing_date(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    now.with_timezone(&tz).date_naive()
}

/// The day in Beijing, as YYYYMMDD (case numbers, order numbers).
pub(crate) fn beijing_day(now: chrono::DateTime<chrono::Utc>) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    now.with_timezone(&tz).format("%Y%m%d").to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_taken_literally() {
        assert_eq!(like_contains("食品"), "%食品%");
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn storage_failures_are_unavailable_and_refusals_are_not() {
        let sqlite = |code: i32| {
            db::DbError::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        // SQLITE_FULL, SQLITE_IOERR_FSYNC, SQLITE_READONLY, SQLITE_BUSY, SQLITE_CANTOPEN
        for code in [13, 10 | (4 << 8), 8, 5, 14] {
            assert!(sqlite(code).is_unavailable(), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE
        assert!(!sqlite(2067).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from(sqlx::Error::Io(std::io::Error::other("reset"))).is_unavailable());
        assert!(!StoreError::Conflict("x".into()).is_unavailable());
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
    }

    #[tokio::test]
    async fn an_unreachable_postgres_says_why() {
        let e = Store::open("postgres://postgres@127.0.0.1:1/nothing")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("cannot connect to PostgreSQL"), "{text}");
        assert!(!text.contains("pool timed out"), "{text}");
        assert!(e.is_unavailable());
    }

    #[test]
    fn a_data_dir_that_cannot_be_written_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable_dir(dir.path()).is_ok());
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = check_writable_dir(&file.join("data")).unwrap_err();
        assert!(e.contains("cannot create"), "{e}");
    }
}
