//! The case projection's row: reading it, and appending events to a case inside a caller's
//! transaction. Shared by the case, supervision and licence repositories.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::ledger_append::append_events;
use crate::{get_i64, get_str, now_text, Result, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tongban_core::case::{Case, Event, Status};

#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    pub case_no: String,
    pub impl_code: String,
    pub item_name: String,
    pub department_id: i64,
    pub applicant_id: i64,
    pub status: Status,
    pub version: i64,
    pub submitted_at: String,
    pub state: Case,
    /// The 一件事 the case is a member of, read with the case (one statement, not two) by
    /// every read of [`CASE_COLS`]; None also from the scans that do not select it.
    pub bundle_no: Option<String>,
}

pub(crate) const CASE_COLS: &str = "c.id, c.case_no, c.impl_code, c.item_name, c.department_id, c.applicant_id, c.status, c.version, c.submitted_at, c.state, \
     (SELECT b.bundle_no FROM bundle_members m JOIN bundles b ON b.id = m.bundle_id WHERE m.case_no = c.case_no ORDER BY b.id LIMIT 1) AS bundle_no";

pub(crate) fn case_from_row(r: &AnyRow) -> Result<CaseRecord> {
    let state: Case = serde_json::from_str(&get_str(r, "state")?)
        .map_err(|e| StoreError::Internal(format!("corrupt case state: {e}")))?;
    Ok(CaseRecord {
        id: get_i64(r, "id")?,
        case_no: get_str(r, "case_no")?,
        impl_code: get_str(r, "impl_code")?,
        item_name: get_str(r, "item_name")?,
        department_id: get_i64(r, "department_id")?,
        applicant_id: get_i64(r, "applicant_id")?,
        status: state.status,
        version: get_i64(r, "version")?,
        submitted_at: get_str(r, "submitted_at")?,
        state,
        // Scans that select the case columns alone (backup, the supervision sweep) leave it
        // out: they never look at bundles.
        bundle_no: r.try_get::<Option<String>, _>("bundle_no").ok().flatten(),
    })
}

pub(crate) fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The deadline a department inbox sorts by, set only while the case is with the department.
pub(crate) fn inbox_due(s: &Case) -> Option<String> {
    matches!(s.status, Status::InApproval | Status::Suspended)
        .then(|| s.promised_due.map(|d| d.to_string()))
        .flatten()
}

/// Appends events that do not come from a command decided against a version the user saw
/// (督办 orders and answers), inside the caller's transaction.
pub(crate) async fn append_in_tx(
    conn: &mut AnyConnection,
    case_no: &str,
    events: &[Event],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let r = crate::db::query(&format!(
        "SELECT {CASE_COLS} FROM cases c WHERE c.case_no = $1"
    ))
    .bind(case_no)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("办件 {case_no}")))?;
    let mut rec = case_from_row(&r)?;
    let from = rec.version;
    for e in events {
        rec.state.apply(e);
    }
    let updated = crate::db::query(
        "UPDATE cases SET version = $1, state = $2, updated_at = $3 WHERE id = $4 AND version = $5",
    )
    .bind(rec.state.version)
    .bind(json(&rec.state)?)
    .bind(now_text(now))
    .bind(rec.id)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "办件 {case_no} 正在被处理，请重试"
        )));
    }
    append_events(conn, rec.id, from, events, actor, now).await
}
