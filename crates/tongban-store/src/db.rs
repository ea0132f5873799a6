//! The one query interface of the store, over two drivers (ADR 0007).
//!
//! SQL is written once, in the dialect both backends accept, with `$1…$n` parameters, and
//! run through `query(sql).bind(…).fetch_*(target)`. Underneath:
//!
//! - **SQLite** runs in-process through rusqlite, on the calling thread. A statement is a
//!   few microseconds of work; handing each one to a driver thread and waiting to be woken
//!   (as an async driver must) cost more than the statement itself, and under load half the
//!   server's time went to those thread switches. Reads take a connection from a small
//!   pool; writes take the single write connection, held for the transaction (an async
//!   mutex, so waiting writers queue instead of fighting over the file lock).
//! - **PostgreSQL** runs through sqlx's async driver, as before.
//!
//! Rows come back as `Row` (column names and values), the same on both backends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::watch;

/// A bound parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL, with the type PostgreSQL should give it.
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

/// Types that can be bound as parameters.
pub trait Bind {
    const KIND: Kind;
    fn into_value(self) -> Value;
}

macro_rules! bind_int {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            const KIND: Kind = Kind::Int;
            fn into_value(self) -> Value {
                Value::Int(self as i64)
            }
        }
    )*};
}
bind_int!(i64, i32, u32, u16, u8, usize);

impl Bind for bool {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(i64::from(self))
    }
}
impl Bind for f64 {
    const KIND: Kind = Kind::Real;
    fn into_value(self) -> Value {
        Value::Real(self)
    }
}
impl Bind for String {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self)
    }
}
impl Bind for &str {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self.to_string())
    }
}
impl Bind for &String {
    const KIND: Kind = Kind::Text;
    fn into_value(self) -> Value {
        Value::Text(self.clone())
    }
}
impl Bind for Vec<u8> {
    const KIND: Kind = Kind::Blob;
    fn into_value(self) -> Value {
        Value::Blob(self)
    }
}
impl Bind for &[u8] {
    const KIND: Kind = Kind::Blob;
    fn into_value(self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl<T: Bind> Bind for Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::Null(T::KIND),
        }
    }
}
impl<T: Bind + Clone> Bind for &Option<T> {
    const KIND: Kind = T::KIND;
    fn into_value(self) -> Value {
        self.clone().into_value()
    }
}

/// A database failure, with the backend's error code when it has one (SQLSTATE on
/// PostgreSQL, the extended result code on SQLite).
#[derive(Debug, Clone)]
pub struct DbError {
    pub code: Option<String>,
    pub message: String,
    /// See [`DbError::is_unavailable`].
    pub unavailable: bool,
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{} (code {c})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DbError {}

impl DbError {
    fn new(message: impl Into<String>) -> DbError {
        DbError {
            code: None,
            message: message.into(),
            unavailable: false,
        }
    }

    /// The database could not be reached or could not store the change (connection lost or
    /// refused, pool exhausted, I/O error, disk full, read-only file, busy past the
    /// timeout): worth retrying later, unlike a refused statement.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }

    /// A unique-constraint violation on either backend.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self.code.as_deref(), Some("23505" | "2067" | "1555"))
            || self.message.contains("UNIQUE constraint failed")
    }
}

/// The code given to failures that never reached the database (connection, pool, I/O).
pub const UNAVAILABLE_CODE: &str = "unavailable";

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> DbError {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string());
                // SQLSTATE classes: 08 connection exception, 53 insufficient resources
                // (disk full, out of memory), 57P operator intervention (shutdown, cannot
                // connect now), 58 system error (I/O).
                let unavailable = code
                    .as_deref()
                    .is_some_and(|c| ["08", "53", "57P", "58"].iter().any(|p| c.starts_with(p)));
                DbError {
                    code,
                    message: db.message().to_string(),
                    unavailable,
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => DbError {
                code: Some(UNAVAILABLE_CODE.into()),
                message: e.to_string(),
                unavailable: true,
            },
            other => DbError::new(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg) => DbError {
                code: Some(f.extended_code.to_string()),
                message: msg.clone().unwrap_or_else(|| f.to_string()),
                unavailable: matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::SystemIoFailure
                        | rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::CannotOpen
                ),
            },
            other => DbError::new(other.to_string()),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// Types a column can be read as.
pub trait Decode: Sized {
    fn decode(v: &Value) -> Option<Self>;
}

impl Decode for i64 {
    fn decode(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl Decode for f64 {
    fn decode(v: &Value) -> Option<f64> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl Decode for bool {
    fn decode(v: &Value) -> Option<bool> {
        match v {
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}
impl Decode for String {
    fn decode(v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl Decode for Vec<u8> {
    fn decode(v: &Value) -> Option<Vec<u8>> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }
}
impl<T: Decode> Decode for Option<T> {
    fn decode(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null(_) => Some(None),
            other => T::decode(other).map(Some),
        }
    }
}

impl Row {
    /// The value of column `col` as `T`; an error names the column when it is missing or
    /// of another type. (The second type parameter keeps sqlx's call shape.)
    pub fn try_get<T: Decode, I: AsRef<str>>(&self, col: I) -> Result<T, DbError> {
        let col = col.as_ref();
        let i = self
            .columns
            .iter()
            .position(|c| c == col)
            .ok_or_else(|| DbError::new(format!("no column {col} in the result")))?;
        T::decode(&self.values[i]).ok_or_else(|| {
            DbError::new(format!(
                "column {col} holds {:?}, not {}",
                self.values[i],
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A statement with its parameters.
#[must_use = "a query does nothing until it is executed"]
pub struct Query<'q> {
    sql: &'q str,
    args: Vec<Value>,
}

pub fn query(sql: &str) -> Query<'_> {
    Query {
        sql,
        args: Vec::new(),
    }
}

/// What an `execute` did.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// Where a query runs: a pool (each statement on its own) or a transaction.
pub enum Target<'a> {
    Db(&'a Db),
    Conn(&'a mut Conn),
}

impl<'a> From<&'a Db> for Target<'a> {
    fn from(d: &'a Db) -> Target<'a> {
        Target::Db(d)
    }
}
impl<'a> From<&'a mut Conn> for Target<'a> {
    fn from(c: &'a mut Conn) -> Target<'a> {
        Target::Conn(c)
    }
}

impl<'q> Query<'q> {
    pub fn bind<T: Bind>(mut self, v: T) -> Query<'q> {
        self.args.push(v.into_value());
        self
    }

    pub async fn execute<'a>(self, t: impl Into<Target<'a>>) -> Result<Done, DbError> {
        let (_, n) = run(t.into(), self.sql, self.args, false).await?;
        Ok(Done { rows_affected: n })
    }

    pub async fn fetch_all<'a>(self, t: impl Into<Target<'a>>) -> Result<Vec<Row>, DbError> {
        Ok(run(t.into(), self.sql, self.args, true).await?.0)
    }

    pub async fn fetch_optional<'a>(
        self,
        t: impl Into<Target<'a>>,
    ) -> Result<Option<Row>, DbError> {
        Ok(self.fetch_all(t).await?.into_iter().next())
    }

    pub async fn fetch_one<'a>(self, t: impl Into<Target<'a>>) -> Result<Row, DbError> {
        self.fetch_optional(t)
            .await?
            .ok_or_else(|| DbError::new("no rows returned by a query that expected one"))
    }
}

async fn run(
    t: Target<'_>,
    sql: &str,
    args: Vec<Value>,
    rows: bool,
) -> Result<(Vec<Row>, u64), DbError> {
    match t {
        Target::Db(Db::Postgres(pool)) => pg_run(pool, sql, args, rows).await,
        Target::Db(Db::Sqlite { shared, writer }) => {
            if *writer {
                // A statement on the write side is a transaction of its own (it joins the
                // open batch like any other, and returns once the batch is committed).
                let mut tx = Db::Sqlite {
                    shared: shared.clone(),
                    writer: true,
                }
                .begin()
                .await?;
                let r = match &mut *tx {
                    Conn::Sqlite(g) => sqlite_run(&g.conn, sql, &args, rows)?,
                    Conn::Postgres(_) => unreachable!("a SQLite store"),
                };
                tx.commit().await?;
                Ok(r)
            } else {
                shared.with_reader(|c| sqlite_run(c, sql, &args, rows))
            }
        }
        Target::Conn(Conn::Postgres(tx)) => pg_run(&mut **tx, sql, args, rows).await,
        Target::Conn(Conn::Sqlite(guard)) => sqlite_run(&guard.conn, sql, &args, rows),
    }
}

// ---- PostgreSQL ---------------------------------------------------------------------

async fn pg_run<'e, E>(
    e: E,
    sql: &str,
    args: Vec<Value>,
    rows: bool,
) -> Result<(Vec<Row>, u64), DbError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Value::Null(Kind::Int) => q.bind(None::<i64>),
            Value::Null(Kind::Real) => q.bind(None::<f64>),
            Value::Null(Kind::Text) => q.bind(None::<String>),
            Value::Null(Kind::Blob) => q.bind(None::<Vec<u8>>),
            Value::Int(i) => q.bind(i),
            Value::Real(f) => q.bind(f),
            Value::Text(s) => q.bind(s),
            Value::Blob(b) => q.bind(b),
        };
    }
    if !rows {
        let r = q.execute(e).await?;
        return Ok((Vec::new(), r.rows_affected()));
    }
    let fetched = q.fetch_all(e).await?;
    let n = fetched.len() as u64;
    let mut out = Vec::with_capacity(fetched.len());
    let mut columns: Option<Arc<[String]>> = None;
    for r in &fetched {
        use sqlx::{Column, Row as _, TypeInfo as _, ValueRef as _};
        let cols = columns
            .get_or_insert_with(|| r.columns().iter().map(|c| c.name().to_string()).collect())
            .clone();
        let mut values = Vec::with_capacity(cols.len());
        for i in 0..cols.len() {
            let raw = r.try_get_raw(i)?;
            let kind = raw.type_info().name().to_ascii_uppercase();
            let null = raw.is_null();
            let v = match kind.as_str() {
                "SMALLINT" | "INTEGER" | "BIGINT" | "INT2" | "INT4" | "INT8" => {
                    opt(r.try_get::<Option<i64>, _>(i)?, Value::Int, Kind::Int)
                }
                "BOOLEAN" | "BOOL" => opt(
                    r.try_get::<Option<bool>, _>(i)?.map(i64::from),
                    Value::Int,
                    Kind::Int,
                ),
                "REAL" | "DOUBLE" | "FLOAT4" | "FLOAT8" => {
                    opt(r.try_get::<Option<f64>, _>(i)?, Value::Real, Kind::Real)
                }
                "BLOB" | "BYTEA" => {
                    opt(r.try_get::<Option<Vec<u8>>, _>(i)?, Value::Blob, Kind::Blob)
                }
                "NULL" => Value::Null(Kind::Text),
                _ if null => Value::Null(Kind::Text),
                _ => Value::Text(r.try_get::<String, _>(i)?),
            };
            values.push(v);
        }
        out.push(Row {
            columns: cols,
            values,
        });
    }
    Ok((out, n))
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value, kind: Kind) -> Value {
    v.map(f).unwrap_or(Value::Null(kind))
}

// ---- SQLite -------------------------------------------------------------------------

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null(_) => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The most parameters one statement binds (multi-row inserts are chunked to fit).
pub const MAX_PARAMS: usize = 256;

/// Parameter names `$1…$n`, made once.
fn param_name(k: usize) -> &'static str {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| (0..=MAX_PARAMS).map(|k| format!("${k}")).collect());
    names.get(k).map(String::as_str).unwrap_or("$?")
}

fn sqlite_run(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
    _rows: bool,
) -> Result<(Vec<Row>, u64), DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    if args.len() > MAX_PARAMS {
        return Err(DbError::new(format!(
            "more than {MAX_PARAMS} parameters in one statement"
        )));
    }
    // `$k` are named parameters to SQLite; bind each by its name, whatever order or
    // repetition the statement uses.
    for (k, a) in args.iter().enumerate() {
        if let Some(idx) = stmt.parameter_index(param_name(k + 1))? {
            stmt.raw_bind_parameter(idx, a)?;
        }
    }
    let ncol = stmt.column_count();
    if ncol == 0 {
        let n = stmt.raw_execute()?;
        return Ok((Vec::new(), n as u64));
    }
    let columns: Arc<[String]> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        use rusqlite::types::ValueRef;
        let mut values = Vec::with_capacity(ncol);
        for i in 0..ncol {
            values.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null(Kind::Text),
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_err(|e| DbError::new(format!("column is not UTF-8: {e}")))?
                        .to_string(),
                ),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(Row {
            columns: columns.clone(),
            values,
        });
    }
    let n = out.len() as u64;
    Ok((out, n))
}

/// The SQLite side of a store: one write connection and a few readers, shared by every
/// `Store` opened on the same file in this process (so two of them queue on one writer
/// instead of blocking each other on the file lock).
pub struct SqliteShared {
    path: PathBuf,
    writer: Arc<tokio::sync::Mutex<Writer>>,
    /// Writers queued for the write connection; while there are any, a finished
    /// transaction leaves the batch open for them instead of committing it.
    waiting: AtomicUsize,
    /// Outcome of the batches: the last one settled, and recent failures.
    settled: watch::Sender<Settled>,
    readers: Mutex<Vec<rusqlite::Connection>>,
}

/// The write connection and the batch it has open.
///
/// Group commit at the SQL level: each store transaction runs as a SAVEPOINT inside one
/// outer transaction (a *batch*), and the batch is committed when nobody is queued behind
/// it, when it holds `MAX_BATCH` transactions, or when it has been open `MAX_BATCH_AGE`.
/// Consecutive transactions touch the same hot pages (the ledger head, index tails), so a
/// batch writes each page to the log once instead of once per transaction. A transaction
/// returns only after its batch is committed (and the store then waits for the WAL sync,
/// see group_sync): nothing is acknowledged early. A failed transaction rolls back to its
/// savepoint and leaves the rest of the batch alone; a failed batch COMMIT fails every
/// transaction in it.
pub struct Writer {
    conn: rusqlite::Connection,
    batch: Option<OpenBatch>,
    next_batch: u64,
}

struct OpenBatch {
    id: u64,
    done: usize,
    opened: std::time::Instant,
}

#[derive(Debug, Default, Clone)]
struct Settled {
    upto: u64,
    failed: Vec<(u64, String)>,
    /// Batches and transactions committed so far (for /metrics).
    batches: u64,
    transactions: u64,
}

const MAX_BATCH: usize = 256;
const MAX_BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(20);

impl Writer {
    /// Commits the open batch, if any, and publishes the outcome.
    fn settle(&mut self, settled: &watch::Sender<Settled>) {
        let Some(b) = self.batch.take() else { return };
        let outcome = self.conn.execute_batch("COMMIT").map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            DbError::from(e).to_string()
        });
        settled.send_modify(|s| {
            s.upto = b.id;
            if outcome.is_ok() {
                s.batches += 1;
                s.transactions += b.done as u64;
            }
            if let Err(e) = outcome {
                tracing::error!(batch = b.id, error = %e, "batch commit failed");
                s.failed.push((b.id, e));
                let n = s.failed.len();
                if n > 64 {
                    s.failed.drain(..n - 64);
                }
            }
        });
    }
}

/// Counts a writer as queued until it holds the connection (or gives up waiting).
struct Queued<'a>(&'a SqliteShared, Option<Arc<tokio::sync::Mutex<Writer>>>);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let before = self.0.waiting.fetch_sub(1, Ordering::AcqRel);
        // Cancelled while queued, and the last one: whoever left the batch open for us
        // expected us to commit it. Settle it from a task of its own.
        if let Some(writer) = self.1.take() {
            if before == 1 {
                let settled = self.0.settled.clone();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        let mut w = writer.lock().await;
                        w.settle(&settled);
                    });
                }
            }
        }
    }
}

impl std::fmt::Debug for SqliteShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteShared")
            .field("path", &self.path)
            .finish()
    }
}

/// Readers kept for reuse; more are opened when every one is busy and closed after.
const IDLE_READERS: usize = 4;

fn open_sqlite(path: &Path, writer: bool) -> Result<rusqlite::Connection, DbError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL for concurrent readers. The writer commits with NORMAL: its durability comes
    // from the group commit (a shared WAL sync before any write is acknowledged).
    // The writer's page cache holds a whole batch's dirty pages (16 MiB, ~4,000 pages), so
    // a batch is written to the log once, at its commit, instead of spilling part-way; each
    // transaction of a batch is a savepoint whose undo pages stay in memory
    // (temp_store=MEMORY) instead of a temporary file.
    conn.execute_batch(if writer {
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; \
         PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;"
    } else {
        "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
    })?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl SqliteShared {
    /// The shared handle for `path`, opened if this process has none.
    pub fn open(path: &Path) -> Result<Arc<SqliteShared>, DbError> {
        static OPEN: Mutex<Option<HashMap<PathBuf, Weak<SqliteShared>>>> = Mutex::new(None);
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut open = OPEN.lock().expect("open databases");
        let map = open.get_or_insert_with(HashMap::new);
        map.retain(|_, w| w.strong_count() > 0);
        if let Some(s) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(s);
        }
        let shared = Arc::new(SqliteShared {
            path: path.to_path_buf(),
            writer: Arc::new(tokio::sync::Mutex::new(Writer {
                conn: open_sqlite(path, true)?,
                batch: None,
                next_batch: 1,
            })),
            waiting: AtomicUsize::new(0),
            settled: watch::channel(Settled::default()).0,
            readers: Mutex::new(Vec::new()),
        });
        map.insert(key, Arc::downgrade(&shared));
        Ok(shared)
    }

    /// Batches and transactions committed through the write connection so far.
    pub fn committed(&self) -> (u64, u64) {
        let s = self.settled.borrow();
        (s.batches, s.transactions)
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let conn = self.readers.lock().expect("readers").pop();
        let conn = match conn {
            Some(c) => c,
            None => open_sqlite(&self.path, false)?,
        };
        let r = f(&conn);
        let mut idle = self.readers.lock().expect("readers");
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        r
    }
}

/// A connection pool: the read side or the write side of a store.
#[derive(Clone, Debug)]
pub enum Db {
    Postgres(sqlx::AnyPool),
    Sqlite {
        shared: Arc<SqliteShared>,
        writer: bool,
    },
}

/// A connection inside a transaction.
pub enum Conn {
    Postgres(sqlx::Transaction<'static, sqlx::Any>),
    Sqlite(tokio::sync::OwnedMutexGuard<Writer>),
}

/// A write transaction; rolled back when dropped uncommitted.
pub struct Tx {
    conn: Option<Conn>,
    /// SQLite: the shared state, to settle the batch and wait for it.
    shared: Option<Arc<SqliteShared>>,
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("transaction in use")
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("transaction in use")
    }
}

impl Db {
    /// Starts a write transaction. On SQLite it takes the write lock up front (BEGIN
    /// IMMEDIATE): a transaction that reads first and upgrades later can be refused
    /// outright when another process writes at the same moment; one that waits its turn
    /// cannot.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        match self {
            Db::Postgres(pool) => Ok(Tx {
                conn: Some(Conn::Postgres(pool.begin().await?)),
                shared: None,
            }),
            Db::Sqlite { shared, .. } => {
                shared.waiting.fetch_add(1, Ordering::AcqRel);
                let mut queued = Queued(shared, Some(shared.writer.clone()));
                let mut guard = shared.writer.clone().lock_owned().await;
                queued.1 = None;
                drop(queued);
                if guard.batch.is_none() {
                    guard.conn.execute_batch("BEGIN IMMEDIATE")?;
                    let id = guard.next_batch;
                    guard.next_batch += 1;
                    guard.batch = Some(OpenBatch {
                        id,
                        done: 0,
                        opened: std::time::Instant::now(),
                    });
                }
                if let Err(e) = guard.conn.execute_batch("SAVEPOINT tx") {
                    guard.settle(&shared.settled);
                    return Err(e.into());
                }
                Ok(Tx {
                    conn: Some(Conn::Sqlite(guard)),
                    shared: Some(shared.clone()),
                })
            }
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite { shared, .. } => shared.readers.lock().expect("readers").clear(),
        }
    }
}

impl Tx {
    /// Commits and returns once the commit is done (on SQLite: once the batch holding this
    /// transaction is committed). Durability is the store's next step (see group_sync).
    pub async fn commit(mut self) -> Result<(), DbError> {
        let shared = self.shared.take();
        match self.conn.take().expect("transaction in use") {
            Conn::Postgres(tx) => Ok(tx.commit().await?),
            Conn::Sqlite(mut guard) => {
                let shared = shared.expect("SQLite transaction has its store");
                let batch = guard.batch.as_ref().map(|b| b.id).unwrap_or_default();
                if let Err(e) = guard.conn.execute_batch("RELEASE tx") {
                    let _ = guard.conn.execute_batch("ROLLBACK TO tx; RELEASE tx");
                    finish(&mut guard, &shared);
                    return Err(e.into());
                }
                if let Some(b) = guard.batch.as_mut() {
                    b.done += 1;
                }
                finish(&mut guard, &shared);
                drop(guard);
                let mut rx = shared.settled.subscribe();
                loop {
                    {
                        let s = rx.borrow_and_update();
                        if s.upto >= batch {
                            return match s.failed.iter().find(|(id, _)| *id == batch) {
                                Some((_, e)) => Err(DbError::new(format!(
                                    "the batch holding this transaction failed to commit: {e}"
                                ))),
                                None => Ok(()),
                            };
                        }
                    }
                    if rx.changed().await.is_err() {
                        return Err(DbError::new("the database was closed"));
                    }
                }
            }
        }
    }
}

/// After a transaction: commit the batch unless someone is queued to continue it (and it
/// is neither full nor old).
fn finish(w: &mut Writer, shared: &SqliteShared) {
    let keep_open = shared.waiting.load(Ordering::Acquire) > 0
        && w.batch
            .as_ref()
            .is_some_and(|b| b.done < MAX_BATCH && b.opened.elapsed() < MAX_BATCH_AGE);
    if !keep_open {
        w.settle(&shared.settled);
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let (Some(Conn::Sqlite(guard)), Some(shared)) = (&mut self.conn, &self.shared) {
            // Not committed: undo this transaction (only) before the connection is handed on.
            let _ = guard.conn.execute_batch("ROLLBACK TO tx; RELEASE tx");
            finish(guard, shared);
        }
    }
}

impl Db {
    /// Waits until everything written so far on this store's write side is committed (a
    /// reader opened afterwards sees it).
    pub async fn settle(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(_) => Ok(()),
            Db::Sqlite { shared, .. } => {
                let tx = Db::Sqlite {
                    shared: shared.clone(),
                    writer: true,
                }
                .begin()
                .await?;
                tx.commit().await
            }
        }
    }
}
