//! Accounts and sessions. Passwords are hashed with Argon2id; sessions live in the
//! database (so several server nodes share them) and only a hash of the token is stored.

use crate::catalog::audit;
use crate::db::Row as AnyRow;
use crate::{
    get_i64, get_opt_i64, get_str, is_unique_violation, now_text, Result, Store, StoreError,
};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tongban_core::roles::Role;

/// Failed logins in a row, for one (username, client address), before each further attempt
/// has to wait.
pub const LOCKOUT_THRESHOLD: i64 = 5;
/// The first wait after [`LOCKOUT_THRESHOLD`] failures; it doubles with each further failure.
pub const THROTTLE_FIRST_SECONDS: i64 = 30;
/// The longest wait.
pub const THROTTLE_MAX_SECONDS: i64 = 15 * 60;
/// How long a failure counts: a pair's counter is forgotten this long after its last failure.
pub const THROTTLE_FORGET_HOURS: i64 = 24;
/// How long a node trusts a session it read, instead of reading it on every request. A
/// change made through this process (sign-out, password change, deactivation, the session
/// limit) is seen at once — the writer empties the cache; one made on another node within
/// this interval. Expiry and the idle limit are checked against every request's clock, and
/// a request that must record activity (once a minute) or end an idle session still goes
/// to the database.
pub const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The sessions cache of one node.
#[derive(Debug, Default)]
pub struct SessionCache {
    /// Bumped by every local change to users or sessions, so a read that raced a change is
    /// not served.
    generation: std::sync::atomic::AtomicU64,
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
    /// Whether the cache is used (`TONGBAN_SESSION_CACHE=0` turns it off, to measure it).
    disabled: std::sync::OnceLock<bool>,
}

#[derive(Debug, Clone)]
struct CachedSession {
    user: User,
    seen: DateTime<Utc>,
    expires: DateTime<Utc>,
    read_at: std::time::Instant,
    generation: u64,
}

/// At most this many sessions are held; past it the cache starts again empty.
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn disabled(&self) -> bool {
        *self.disabled.get_or_init(|| {
            std::env::var("TONGBAN_SESSION_CACHE").is_ok_and(|v| v == "0" || v == "off")
        })
    }
}

/// Session lifetime.
pub const SESSION_HOURS: i64 = 12;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub department_id: Option<i64>,
    pub active: bool,
    pub locked_until: Option<String>,
    pub failed_logins: i64,
    /// Set by an administrator's password reset: the user must choose a new password.
    pub must_change_password: bool,
}

/// Why a sign-in failed. Both say the same to the user (no hint that the account exists or
/// is being throttled); the audit log tells them apart.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("{}", LOGIN_FAILED)]
    BadCredentials,
    /// Too many failures from this client for this username: wait until the given time.
    #[error("{}", LOGIN_FAILED)]
    Throttled(String),
}

/// The one answer to every failed sign-in.
pub const LOGIN_FAILED: &str = "用户名或密码错误；多次失败后需稍候再试";

/// How long (username, client) must wait after `failures` failures in a row.
pub fn throttle_delay(failures: i64) -> Duration {
    if failures < LOCKOUT_THRESHOLD {
        return Duration::zero();
    }
    let doublings = (failures - LOCKOUT_THRESHOLD).min(10) as u32;
    Duration::seconds((THROTTLE_FIRST_SECONDS << doublings).min(THROTTLE_MAX_SECONDS))
}

/// How a sign-in is made: from which client, keeping at most how many sessions.
#[derive(Debug, Clone)]
pub struct LoginAttempt<'a> {
    /// The client's address (the throttle's key with the username).
    pub client: &'a str,
    /// Sessions the user may hold at once; the oldest beyond it end.
    pub max_sessions: i64,
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    let role = get_str(row, "role")?;
    Ok(User {
        id: get_i64(row, "id")?,
        username: get_str(row, "username")?,
        display_name: get_str(row, "display_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Internal(format!("unknown role {role}")))?,
        department_id: get_opt_i64(row, "department_id")?,
        active: get_i64(row, "active")? != 0,
        locked_until: { row.try_get::<Option<String>, _>("locked_until")? },
        failed_logins: get_i64(row, "failed_logins")?,
        must_change_password: get_i64(row, "must_change_password")? != 0,
    })
}

const USER_COLS: &str = "id, username, display_name, role, department_id, active, locked_until, failed_logins, must_change_password";

/// Argon2id with the crate's defaults (19 MiB, 2 passes): CPU-heavy, so callers run it
/// off the async runtime.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Internal(format!("hash: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Password rule of an account of `role` (see [`tongban_core::password`]).
pub fn check_password_strength_for(role: Role, password: &str) -> std::result::Result<(), String> {
    tongban_core::password::check(role, password)
}

/// The applicants' password rule: at least 8 characters with letters and digits.
pub fn check_password_strength(password: &str) -> std::result::Result<(), String> {
    tongban_core::password::check(Role::Person, password)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A dummy hash so that a login for an unknown user costs as much as for a known one.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub department_id: Option<i64>,
}

impl Store {
    /// Creates an account. The password hash must be computed by the caller with
    /// [`hash_password`] (off the async runtime).
    pub async fn create_user(
        &self,
        actor: &str,
        u: &NewUser<'_>,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let username = u.username.trim();
        if username.len() < 3
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(StoreError::Invalid(
                "用户名应为3-64位字母、数字、下划线、点或横线".into(),
            ));
        }
        if u.display_name.trim().is_empty() {
            return Err(StoreError::Invalid("姓名必填".into()));
        }
        if u.role.needs_department() && u.department_id.is_none() {
            return Err(StoreError::Invalid(format!(
                "{}必须指定所属部门",
                u.role.label()
            )));
        }
        let mut tx = self.begin_write().await?;
        if let Some(d) = u.department_id {
            let found = crate::db::query("SELECT id FROM departments WHERE id = $1")
                .bind(d)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(format!("部门 {d} 不存在")));
            }
        }
        let user = insert_user(
            &mut tx,
            username,
            password_hash,
            u.display_name,
            u.role,
            u.department_id,
            now,
        )
        .await?;
        audit(
            &mut tx,
            now,
            actor,
            "user.create",
            &format!("{username} {}", u.role.code()),
        )
        .await?;
        self.commit(tx).await?;
        Ok(user)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = crate::db::query(&format!("SELECT {USER_COLS} FROM users ORDER BY id"))
            .fetch_all(self.r())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        let row = crate::db::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("用户 {id}")))?;
        user_from_row(&row)
    }

    pub async fn update_user(
        &self,
        actor: &str,
        id: i64,
        role: Role,
        department_id: Option<i64>,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<User> {
        if role.needs_department() && department_id.is_none() {
            return Err(StoreError::Invalid(format!(
                "{}必须指定所属部门",
                role.label()
            )));
        }
        let mut tx = self.begin_write().await?;
        let row = crate::db::query(&format!(
            "UPDATE users SET role = $1, department_id = $2, active = $3 WHERE id = $4 RETURNING {USER_COLS}"
        ))
        .bind(role.code())
        .bind(department_id)
        .bind(i64::from(active))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("用户 {id}")))?;
        if !active {
            crate::db::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        audit(
            &mut tx,
            now,
            actor,
            "user.update",
            &format!("{id} role={} active={active}", role.code()),
        )
        .await?;
        self.commit(tx).await?;
        self.sessions_changed();
        user_from_row(&row)
    }

    pub async fn unlock_user(&self, actor: &str, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("用户 {id}")));
        }
        crate::db::query(
            "DELETE FROM login_failures WHERE username = (SELECT username FROM users WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit(&mut tx, now, actor, "user.unlock", &id.to_string()).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Checks a password from a test or tool: one client, three sessions.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<(User, String), LoginError>> {
        self.login_from(
            username,
            password,
            &LoginAttempt {
                client: "-",
                max_sessions: 3,
            },
            now,
        )
        .await
    }

    /// Checks a password. Failures are counted per (username, client address), for unknown
    /// usernames too; from [`LOCKOUT_THRESHOLD`] failures on, that pair must wait a delay
    /// that doubles with each failure ([`throttle_delay`]) — other clients are not
    /// affected, so nobody can lock an account from elsewhere. The password is checked (or
    /// a dummy hash, for an unknown user) in every case, so timing says nothing. On success
    /// returns the user and a new session token; the user's oldest sessions beyond
    /// `max_sessions` end. Every outcome is audited.
    pub async fn login_from(
        &self,
        username: &str,
        password: &str,
        attempt: &LoginAttempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<(User, String), LoginError>> {
        let username = username.trim();
        // Unknown names are counted and audited under what was typed, bounded.
        let name_key: String = username.chars().take(64).collect();
        let row = crate::db::query(&format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.r())
        .await?;
        let throttle = crate::db::query(
            "SELECT failures, last_at FROM login_failures WHERE username = $1 AND client = $2",
        )
        .bind(&name_key)
        .bind(attempt.client)
        .fetch_optional(self.r())
        .await?;
        let (failures, last_at) = match &throttle {
            Some(r) => (get_i64(r, "failures")?, get_str(r, "last_at")?),
            None => (0, String::new()),
        };
        let wait_until = DateTime::parse_from_rfc3339(&last_at)
            .ok()
            .map(|t| t.with_timezone(&Utc) + throttle_delay(failures))
            .filter(|t| *t > now);
        let hash = match &row {
            Some(r) => get_str(r, "password_hash")?,
            None => DUMMY_HASH
                .get_or_init(|| hash_password("dummy-password-1").unwrap_or_default())
                .clone(),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let user = row.as_ref().map(user_from_row).transpose()?;
        let mut tx = self.begin_write().await?;
        if let Some(until) = wait_until {
            audit(
                &mut tx,
                now,
                &name_key,
                "login.throttled",
                &format!("client={} failures={failures}", attempt.client),
            )
            .await?;
            self.commit(tx).await?;
            return Ok(Err(LoginError::Throttled(now_text(until))));
        }
        let user = match user {
            Some(u) if ok && u.active => u,
            _ => {
                // Counted in the database, so parallel guesses cannot undercount.
                crate::db::query(
                    "INSERT INTO login_failures (username, client, failures, last_at) VALUES ($1, $2, 1, $3) \
                     ON CONFLICT (username, client) DO UPDATE SET failures = login_failures.failures + 1, last_at = $3",
                )
                .bind(&name_key)
                .bind(attempt.client)
                .bind(now_text(now))
                .execute(&mut *tx)
                .await?;
                audit(
                    &mut tx,
                    now,
                    &name_key,
                    "login.failed",
                    &format!("client={}", attempt.client),
                )
                .await?;
                self.commit(tx).await?;
                return Ok(Err(LoginError::BadCredentials));
            }
        };
        crate::db::query("DELETE FROM login_failures WHERE username = $1 AND client = $2")
            .bind(&name_key)
            .bind(attempt.client)
            .execute(&mut *tx)
            .await?;
        crate::db::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        // This user's expired sessions go now (indexed by user); others' go with the worker.
        crate::db::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(user.id)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        // At most `max_sessions` at once: the oldest beyond it end.
        let keep = attempt.max_sessions.max(1) - 1;
        let live = crate::db::query(
            "SELECT token_hash FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, token_hash",
        )
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut ended = 0;
        for r in live.iter().skip(keep as usize) {
            crate::db::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(get_str(r, "token_hash")?)
                .execute(&mut *tx)
                .await?;
            ended += 1;
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        crate::db::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)")
            .bind(token_hash(&token))
            .bind(user.id)
            .bind(now_text(now))
            .bind(now_text(now + Duration::hours(SESSION_HOURS)))
            .execute(&mut *tx)
            .await?;
        let detail = if ended > 0 {
            format!("client={} ended_oldest_sessions={ended}", attempt.client)
        } else {
            format!("client={}", attempt.client)
        };
        audit(&mut tx, now, &user.username, "login", &detail).await?;
        self.commit(tx).await?;
        self.sessions_changed();
        Ok(Ok((user, token)))
    }

    /// The user of a live session (no idle limit).
    pub async fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        self.session_user_idle(token, now, None).await
    }

    /// The user of a live session. With `staff_idle`, a staff session unused for that long
    /// has ended (and is deleted); applicants keep the absolute lifetime only. A session's
    /// last use is written at most once a minute.
    /// Called after committing a change to users or sessions.
    pub(crate) fn sessions_changed(&self) {
        self.sessions
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.sessions.entries.lock().expect("session cache").clear();
    }

    pub async fn session_user_idle(
        &self,
        token: &str,
        now: DateTime<Utc>,
        staff_idle: Option<Duration>,
    ) -> Result<Option<User>> {
        let th = token_hash(token);
        let cache = &self.sessions;
        let generation = cache.generation.load(std::sync::atomic::Ordering::Acquire);
        if !cache.disabled() {
            let entries = cache.entries.lock().expect("session cache");
            if let Some(c) = entries.get(&th) {
                let idle_ok = staff_idle
                    .filter(|_| c.user.role.is_staff())
                    .is_none_or(|idle| c.seen + idle > now);
                if c.generation == generation
                    && c.read_at.elapsed() < SESSION_TTL
                    && c.expires > now
                    && idle_ok
                    && now - c.seen < Duration::minutes(1)
                {
                    return Ok(Some(c.user.clone()));
                }
            }
        }
        let row = crate::db::query(&format!(
            "SELECT u.{}, s.created_at AS s_created, s.last_seen_at AS s_seen, s.expires_at AS s_expires FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
            USER_COLS.replace(", ", ", u.")
        ))
        .bind(&th)
        .bind(now_text(now))
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        let seen_text = row
            .try_get::<Option<String>, _>("s_seen")?
            .unwrap_or(get_str(&row, "s_created")?);
        let seen = DateTime::parse_from_rfc3339(&seen_text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        if let Some(idle) = staff_idle.filter(|_| user.role.is_staff()) {
            if seen + idle <= now {
                crate::db::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&th)
                    .execute(self.w())
                    .await?;
                self.durable().await?;
                self.sessions_changed();
                return Ok(None);
            }
        }
        let mut seen = seen;
        if now - seen >= Duration::minutes(1) {
            crate::db::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now_text(now))
                .bind(&th)
                .execute(self.w())
                .await?;
            self.durable().await?;
            seen = now;
        }
        if !cache.disabled() {
            let expires = DateTime::parse_from_rfc3339(&get_str(&row, "s_expires")?)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            let mut entries = cache.entries.lock().expect("session cache");
            if entries.len() >= SESSION_CACHE_MAX {
                entries.clear();
            }
            entries.insert(
                th,
                CachedSession {
                    user: user.clone(),
                    seen,
                    expires,
                    read_at: std::time::Instant::now(),
                    generation,
                },
            );
        }
        Ok(Some(user))
    }

    /// Lifts the sign-in wait of a user (every client) and the old account lock; by name,
    /// for the command line.
    pub async fn unlock_username(
        &self,
        actor: &str,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let row = crate::db::query("SELECT id FROM users WHERE username = $1")
            .bind(username.trim())
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("用户 {username}")))?;
        self.unlock_user(actor, get_i64(&row, "id")?, now).await
    }

    /// Failures in a row recorded for (username, client).
    pub async fn login_failures(&self, username: &str, client: &str) -> Result<i64> {
        Ok(crate::db::query(
            "SELECT failures FROM login_failures WHERE username = $1 AND client = $2",
        )
        .bind(username)
        .bind(client)
        .fetch_optional(self.r())
        .await?
        .map(|r| get_i64(&r, "failures"))
        .transpose()?
        .unwrap_or(0))
    }

    /// The stored password hash of a user (to check the current password before a change).
    pub async fn password_hash(&self, user_id: i64) -> Result<String> {
        let row = crate::db::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("用户 {user_id}")))?;
        get_str(&row, "password_hash")
    }

    /// Sets a user's password (hash computed by the caller). `must_change`: an
    /// administrator's reset, which the user must replace at the next sign-in. Every other
    /// session of the user ends (all of them on a reset); `keep_token` is the session that
    /// made the change.
    pub async fn set_password(
        &self,
        actor: &str,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        keep_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL WHERE id = $3",
        )
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("用户 {user_id}")));
        }
        crate::db::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_token.map(token_hash).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        let action = if must_change {
            "password.reset"
        } else {
            "password.change"
        };
        audit(&mut tx, now, actor, action, &user_id.to_string()).await?;
        self.commit(tx).await?;
        self.sessions_changed();
        Ok(())
    }

    /// Forgets sign-in failures older than [`THROTTLE_FORGET_HOURS`]; returns how many.
    pub async fn purge_login_failures(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = crate::db::query("DELETE FROM login_failures WHERE last_at <= $1")
            .bind(now_text(now - Duration::hours(THROTTLE_FORGET_HOURS)))
            .execute(self.w())
            .await?;
        self.durable().await?;
        Ok(done.rows_affected())
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = crate::db::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        self.sessions_changed();
        Ok(done.rows_affected())
    }

    /// Stored sessions of a user, live or expired.
    pub async fn session_count(&self, user_id: i64) -> Result<i64> {
        get_i64(
            &crate::db::query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(self.r())
                .await?,
            "n",
        )
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        crate::db::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(self.w())
            .await?;
        self.durable().await?;
        self.sessions_changed();
        Ok(())
    }
}

/// Inserts a user row inside a transaction (shared by staff creation and applicant sign-up).
pub(crate) async fn insert_user(
    conn: &mut crate::db::Conn,
    username: &str,
    password_hash: &str,
    display_name: &str,
    role: Role,
    department_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<User> {
    let username = username.trim();
    if username.len() < 3
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(StoreError::Invalid(
            "用户名应为3-64位字母、数字、下划线、点或横线".into(),
        ));
    }
    if display_name.trim().is_empty() {
        return Err(StoreError::Invalid("姓名必填".into()));
    }
    let row = crate::db::query(&format!(
        "INSERT INTO users (username, password_hash, display_name, role, department_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLS}"
    ))
    .bind(username)
    .bind(password_hash)
    .bind(display_name.trim())
    .bind(role.code())
    .bind(department_id)
    .bind(now_text(now))
    .fetch_one(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("用户名 {username} 已被使用"))
        } else {
            e.into()
        }
    })?;
    user_from_row(&row)
}
