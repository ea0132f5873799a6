//! Authorization, resolved once per request from the capability table in the core
//! ([`tongban_core::capability`]): does this user hold this capability over this resource?
//! Every refusal is written to the audit log.

use crate::error::{Error, ErrorKind};
use crate::App;
use tongban_core::capability::{self, Capability, Scope, Standing};
use tongban_core::messages;
use tongban_store::accounts::User;
use tongban_store::cases::CaseRecord;
use tongban_store::StoreError;

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

/// How a case stands to a user: an applicant's own, a case of a staff member's department,
/// or other.
pub async fn case_standing(state: &App, user: &User, rec: &CaseRecord) -> Result<Standing, Error> {
    Ok(if user.role.is_applicant() {
        match state.store.applicant_of_user(user.id).await? {
            Some(a) if a.id == rec.applicant_id => Standing::Own,
            _ => Standing::Other,
        }
    } else {
        department_standing(user, rec.department_id)
    })
}

/// How the viewer stands to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Owner,
    Staff,
}

/// Loads a case the user may see (capability `ReadCase`): applicants only their own
/// (others get 404, so case numbers cannot be probed); department staff only their
/// department's (403). Refusals are audited.
pub async fn case_for(
    state: &App,
    user: &User,
    case_no: &str,
) -> Result<(CaseRecord, Access), Error> {
    use tongban_core::capability::{Capability, Standing};
    let hidden = || Error::not_found(messages::no_such_case(case_no));
    let rec = match state.store.case_by_no(case_no).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Err(hidden()),
        Err(e) => return Err(e.into()),
    };
    let standing = case_standing(state, user, &rec).await?;
    match require(state, user, Capability::ReadCase, standing, case_no).await {
        Ok(()) => {}
        Err(e) if e.kind == ErrorKind::NotFound => return Err(hidden()),
        Err(e) if user.role.needs_department() => {
            return Err(Error::forbidden_because(messages::NOT_YOUR_DEPARTMENT).with_kind_of(&e))
        }
        Err(e) => return Err(e),
    }
    let access = if standing == Standing::Own {
        Access::Owner
    } else {
        Access::Staff
    };
    Ok((rec, access))
}
