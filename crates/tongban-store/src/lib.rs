//! Storage for tongban. One code path over sqlx's `Any` driver serves the embedded SQLite
//! default and PostgreSQL (see docs/adr/0001-storage-sqlx-any.md). SQL here is written in the
//! dialect both accept; the few differences live in the per-backend migrations.

pub mod accounts;
pub mod cases;
pub mod catalog;
pub mod catalog_file;
pub mod ledger;
pub mod licences;
pub mod objects;
pub mod supervision;
pub mod testing;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
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
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The database handle. Writes go through `write` (a single connection on SQLite, so
/// writers queue in-process instead of fighting over the file lock); reads use `read`.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    backend: Backend,
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
                let url = format!("sqlite://{path}?mode=rwc");
                let write = sqlite_pool(&url, 1).await?;
                let read = sqlite_pool(&url, 2).await?;
                Store {
                    write,
                    read,
                    backend,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                Store {
                    write: pool.clone(),
                    read: pool,
                    backend,
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.write).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.write)
                    .await?
            }
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
    pub(crate) async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    pub(crate) fn w(&self) -> &AnyPool {
        &self.write
    }

    pub(crate) fn r(&self) -> &AnyPool {
        &self.read
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

async fn sqlite_pool(url: &str, max: u32) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL for concurrent readers; FULL so an acknowledged write survives power loss.
                conn.execute(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                     PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
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
    use sqlx::Row;
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// True for a unique-constraint violation on either backend.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505")
                || db.code().as_deref() == Some("2067")
                || db.code().as_deref() == Some("1555")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
