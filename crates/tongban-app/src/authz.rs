//! Authorization, resolved once per request from the capability table in the core
//! ([`tongban_core::capability`]): does this user hold this capability over this resource?
//! Every refusal is written to the audit log.

use crate::error::Error;
use crate::App;
use tongban_core::capability::{self, Capability, Scope, Standing};
use tongban_store::accounts::User;

/// How the refusal is answered: applicants asking for someone else's resource are told it
/// does not exist (so identifiers cannot be probed); staff are told they may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refuse {
    Forbidden,
    Hidden,
}

/// Checks `cap` for a resource standing to the user as `standing`.
pub async fn require(
    app: &App,
    user: &User,
    cap: Capability,
    standing: Standing,
    resource: &str,
) -> Result<(), Error> {
    if capability::permits(user.role, cap, standing) {
        return Ok(());
    }
    let hidden = user.role.is_applicant() && capability::holds(user.role, cap);
    Err(refused(
        app,
        user,
        cap,
        resource,
        if hidden {
            Refuse::Hidden
        } else {
            Refuse::Forbidden
        },
    )
    .await)
}

/// Checks that the user holds `cap` in some scope (lists, boards, forms) and returns the
/// scope, by which the caller narrows what it shows.
pub async fn require_scope(app: &App, user: &User, cap: Capability) -> Result<Scope, Error> {
    match capability::scope(user.role, cap) {
        Some(s) => Ok(s),
        None => Err(refused(app, user, cap, "", Refuse::Forbidden).await),
    }
}

/// Audits a refusal and builds its answer.
pub async fn refused(
    app: &App,
    user: &User,
    cap: Capability,
    resource: &str,
    how: Refuse,
) -> Error {
    let detail = format!("{cap:?} {resource}");
    if let Err(e) = app
        .store
        .record_audit(app.now(), &user.username, "access.refused", detail.trim())
        .await
    {
        tracing::warn!(error = %e, "could not audit a refusal");
    }
    match how {
        Refuse::Hidden => Error::not_found(format!("未找到：{resource}")),
        Refuse::Forbidden => Error::forbidden(),
    }
}

/// How a department's resource stands to a staff user.
pub fn department_standing(user: &User, department_id: i64) -> Standing {
    if user.department_id == Some(department_id) {
        Standing::OwnDepartment
    } else {
        Standing::Other
    }
}
