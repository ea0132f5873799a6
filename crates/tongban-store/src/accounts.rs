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

/// Failed logins in a row that lock an account.
pub const LOCKOUT_THRESHOLD: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;
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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("账号已锁定，请于{0}后再试或联系管理员")]
    Locked(String),
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
    })
}

const USER_COLS: &str =
    "id, username, display_name, role, department_id, active, locked_until, failed_logins";

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

/// Password rule: at least 8 characters with letters and digits.
pub fn check_password_strength(password: &str) -> std::result::Result<(), String> {
    if password.chars().count() < 8 {
        return Err("密码至少8位".into());
    }
    if !password.chars().any(|c| c.is_ascii_digit()) || !password.chars().any(|c| c.is_alphabetic())
    {
        return Err("密码须同时包含字母和数字".into());
    }
    Ok(())
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
        audit(&mut tx, now, actor, "user.unlock", &id.to_string()).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Checks a password; counts failures and locks the account after
    /// [`LOCKOUT_THRESHOLD`] in a row. On success returns the user and a new session token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<(User, String), LoginError>> {
        let row = crate::db::query(&format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username.trim())
        .fetch_optional(self.r())
        .await?;
        let Some(row) = row else {
            let dummy = DUMMY_HASH
                .get_or_init(|| hash_password("dummy-password-1").unwrap_or_default())
                .clone();
            let pw = password.to_string();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, &dummy)).await;
            return Ok(Err(LoginError::BadCredentials));
        };
        let user = user_from_row(&row)?;
        if let Some(until) = &user.locked_until {
            if let Ok(t) = DateTime::parse_from_rfc3339(until) {
                if t.with_timezone(&Utc) > now {
                    return Ok(Err(LoginError::Locked(
                        t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                            .format("%H:%M")
                            .to_string(),
                    )));
                }
            }
        }
        let hash = get_str(&row, "password_hash")?;
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        if !ok || !user.active {
            // Counted in the database, so parallel guesses cannot undercount.
            let row = crate::db::query(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            )
            .bind(user.id)
            .fetch_one(&mut *tx)
            .await?;
            let failed = get_i64(&row, "failed_logins")?;
            let locked = (failed >= LOCKOUT_THRESHOLD)
                .then(|| now_text(now + Duration::minutes(LOCKOUT_MINUTES)));
            if locked.is_some() {
                crate::db::query(
                    "UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2",
                )
                .bind(locked.clone())
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            }
            if locked.is_some() {
                audit(
                    &mut tx,
                    now,
                    &user.username,
                    "user.locked",
                    "too many failed logins",
                )
                .await?;
            }
            self.commit(tx).await?;
            return Ok(Err(LoginError::BadCredentials));
        }
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
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        crate::db::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(user.id)
            .bind(now_text(now))
            .bind(now_text(now + Duration::hours(SESSION_HOURS)))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Ok((user, token)))
    }

    /// The user of a live session.
    pub async fn session_user(&self, token: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let row = crate::db::query(&format!(
            "SELECT u.{} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
            USER_COLS.replace(", ", ", u.")
        ))
        .bind(token_hash(token))
        .bind(now_text(now))
        .fetch_optional(self.r())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = crate::db::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
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
