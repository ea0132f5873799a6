//! Accounts and the audit trail as use cases: signing in and out (audited, throttled per
//! username and client), changing and resetting passwords under the password policy, the
//! session limits, reads of personal data recorded in the audit log, and the audit log
//! itself (read, export, verify, retention).

use crate::authz;
use crate::error::Error;
use crate::App;
use chrono::Duration;
use tongban_core::capability::{Capability, Standing};
use tongban_store::accounts::{LoginAttempt, LoginError, User};
use tongban_store::audit::{AuditEntry, AuditVerification};

/// Six months (等保 level 3): the audit log is never purged younger than this.
pub const MIN_AUDIT_RETENTION_DAYS: i64 = 183;

/// The configurable parts of the security policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// A staff session ends after this many minutes without a request.
    pub staff_idle_minutes: i64,
    /// Sessions a user may hold at once; a new sign-in ends the oldest.
    pub max_sessions_per_user: i64,
    /// Audit rows are kept this many days (at least [`MIN_AUDIT_RETENTION_DAYS`]).
    pub audit_retention_days: i64,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            staff_idle_minutes: 30,
            max_sessions_per_user: 3,
            audit_retention_days: MIN_AUDIT_RETENTION_DAYS,
        }
    }
}

/// Signs in from `client` (its address). A failure is `Ok(Err(_))`, answered the same way
/// whatever the cause.
pub async fn login(
    app: &App,
    username: &str,
    password: &str,
    client: &str,
) -> Result<Result<(User, String), LoginError>, Error> {
    Ok(app
        .store
        .login_from(
            username,
            password,
            &LoginAttempt {
                client,
                max_sessions: app.security.max_sessions_per_user,
            },
            app.now(),
        )
        .await?)
}

/// The user of a session token, applying the staff idle limit.
pub async fn session_user(app: &App, token: &str) -> Result<Option<User>, Error> {
    Ok(app
        .store
        .session_user_idle(
            token,
            app.now(),
            Some(Duration::minutes(app.security.staff_idle_minutes)),
        )
        .await?)
}

/// Ends a session; audited when it belonged to someone.
pub async fn logout(app: &App, user: Option<&User>, token: &str) -> Result<(), Error> {
    app.store.logout(token).await?;
    if let Some(u) = user {
        app.store
            .record_audit(app.now(), &u.username, "logout", "")
            .await?;
    }
    Ok(())
}

async fn hash(password: String) -> Result<String, Error> {
    Ok(
        tokio::task::spawn_blocking(move || tongban_store::accounts::hash_password(&password))
            .await
            .map_err(Error::internal)??,
    )
}

/// Changes the user's own password: the current one must be given; the new one must meet
/// the policy of the user's role and differ from the current one. Other sessions end.
pub async fn change_own_password(
    app: &App,
    user: &User,
    current: &str,
    new: &str,
    session_token: Option<&str>,
) -> Result<(), Error> {
    let stored = app.store.password_hash(user.id).await?;
    let (cur, st) = (current.to_string(), stored.clone());
    let ok =
        tokio::task::spawn_blocking(move || tongban_store::accounts::verify_password(&cur, &st))
            .await
            .map_err(Error::internal)?;
    if !ok {
        return Err(Error::invalid("当前密码不正确"));
    }
    tongban_core::password::check(user.role, new).map_err(Error::invalid)?;
    if new == current {
        return Err(Error::invalid("新密码不能与当前密码相同"));
    }
    let h = hash(new.to_string()).await?;
    app.store
        .set_password(&user.username, user.id, &h, false, session_token, app.now())
        .await?;
    Ok(())
}

/// An administrator sets a temporary password for a user, who must change it at the next
/// sign-in. Every session of the user ends.
pub async fn reset_password(
    app: &App,
    admin: &User,
    user_id: i64,
    temporary: &str,
) -> Result<(), Error> {
    authz::require(
        app,
        admin,
        Capability::ResetPassword,
        Standing::Other,
        &user_id.to_string(),
    )
    .await?;
    let target = app.store.user(user_id).await?;
    tongban_core::password::check(target.role, temporary).map_err(Error::invalid)?;
    let h = hash(temporary.to_string()).await?;
    app.store
        .set_password(&admin.username, user_id, &h, true, None, app.now())
        .await?;
    Ok(())
}

/// Lifts the sign-in waits of a user, by name (the command line).
pub async fn unlock(app: &App, actor: &str, username: &str) -> Result<(), Error> {
    Ok(app
        .store
        .unlock_username(actor, username, app.now())
        .await?)
}

/// Records that a staff member read someone's personal data (a case, a licence). Applicants
/// reading their own are not recorded. A failure to record is logged, not shown.
pub async fn record_personal_read(app: &App, user: &User, what: &str, id: &str) {
    if !user.role.is_staff() {
        return;
    }
    if let Err(e) = app
        .store
        .record_audit(
            app.now(),
            &user.username,
            "personal.read",
            &format!("{what} {id}"),
        )
        .await
    {
        tracing::warn!(error = %e, "could not audit a read of personal data");
    }
}

/// The newest audit rows, for auditors and administrators.
pub async fn audit_log(app: &App, user: &User, limit: i64) -> Result<Vec<AuditEntry>, Error> {
    authz::require_scope(app, user, Capability::ReadAuditLog).await?;
    Ok(app.store.audit_log(limit).await?)
}

/// The whole audit log as CSV (UTF-8 with BOM, for spreadsheet programs); the export itself
/// is audited.
pub async fn audit_csv(app: &App, user: &User) -> Result<Vec<u8>, Error> {
    authz::require_scope(app, user, Capability::ReadAuditLog).await?;
    app.store
        .record_audit(app.now(), &user.username, "audit.export", "csv")
        .await?;
    let rows = app.store.audit_log_all().await?;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_err = |e: csv::Error| Error::internal(e);
    w.write_record(["id", "at", "actor", "action", "detail", "prev_hash", "hash"])
        .map_err(csv_err)?;
    for r in rows {
        w.write_record([
            r.id.to_string(),
            r.at,
            neutralise(&r.actor),
            neutralise(&r.action),
            neutralise(&r.detail),
            r.prev_hash,
            r.hash,
        ])
        .map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::internal(e.to_string()))
}

/// A cell starting with `=`, `+`, `-` or `@` would be a formula in a spreadsheet (the
/// usernames of failed sign-ins are typed by anyone): prefix it with an apostrophe.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// Recomputes the audit log's hash chain.
pub async fn verify_audit_log(app: &App) -> Result<AuditVerification, Error> {
    Ok(app.store.verify_audit_log().await?)
}

/// Deletes audit rows older than the retention (never younger than six months, whatever
/// the configuration says). Returns how many went.
pub async fn purge_audit_log(app: &App) -> Result<u64, Error> {
    let days = app
        .security
        .audit_retention_days
        .max(MIN_AUDIT_RETENTION_DAYS);
    let now = app.now();
    Ok(app
        .store
        .purge_audit_log(now - Duration::days(days), now)
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(super::neutralise("=cmd()"), "'=cmd()");
        assert_eq!(super::neutralise("admin"), "admin");
    }
}
