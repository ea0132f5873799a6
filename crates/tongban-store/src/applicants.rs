//! Applicants (申请人): natural persons and enterprises, with their verified identity.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, is_unique_violation, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Applicant {
    pub id: i64,
    /// `person` or `enterprise`
    pub kind: String,
    pub name: String,
    /// 身份证号 or 统一社会信用代码 (store only; screens show it masked).
    pub id_number: String,
    pub mobile: String,
    pub legal_rep: String,
    pub user_id: Option<i64>,
    pub verified: bool,
}

impl Applicant {
    pub fn masked_id(&self) -> String {
        if self.kind == "person" {
            tongban_core::ids::ResidentId::parse(&self.id_number)
                .map(|r| r.masked())
                .unwrap_or_else(|_| "****".into())
        } else {
            // Enterprise codes are public (营业执照); shown in full.
            self.id_number.clone()
        }
    }
}

pub struct NewApplicant<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub id_number: &'a str,
    pub mobile: &'a str,
    pub legal_rep: &'a str,
    pub verified: bool,
}

const APPLICANT_COLS: &str = "id, kind, name, id_number, mobile, legal_rep, user_id, verified";

fn applicant_from_row(r: &AnyRow) -> Result<Applicant> {
    Ok(Applicant {
        id: get_i64(r, "id")?,
        kind: get_str(r, "kind")?,
        name: get_str(r, "name")?,
        id_number: get_str(r, "id_number")?,
        mobile: get_str(r, "mobile")?,
        legal_rep: get_str(r, "legal_rep")?,
        user_id: r.try_get::<Option<i64>, _>("user_id")?,
        verified: get_i64(r, "verified")? != 0,
    })
}

impl Store {
    pub async fn create_applicant(
        &self,
        a: &NewApplicant<'_>,
        user_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Applicant> {
        let mut tx = self.begin_write().await?;
        let ap = insert_applicant(&mut tx, a, user_id, now).await?;
        self.commit(tx).await?;
        Ok(ap)
    }

    /// Registers an applicant account: the user and the applicant in one transaction.
    pub async fn register_applicant(
        &self,
        a: &NewApplicant<'_>,
        username: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(crate::accounts::User, Applicant)> {
        let role = if a.kind == "person" {
            tongban_core::roles::Role::Person
        } else {
            tongban_core::roles::Role::Enterprise
        };
        let mut tx = self.begin_write().await?;
        let user =
            crate::accounts::insert_user(&mut tx, username, password_hash, a.name, role, None, now)
                .await?;
        let ap = insert_applicant(&mut tx, a, Some(user.id), now).await?;
        self.commit(tx).await?;
        Ok((user, ap))
    }

    pub async fn applicant(&self, id: i64) -> Result<Applicant> {
        if let Some(a) = self.applicants.get(id) {
            return Ok(a);
        }
        let r = crate::db::query(&format!(
            "SELECT {APPLICANT_COLS} FROM applicants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("申请人 {id}")))?;
        let a = applicant_from_row(&r)?;
        self.applicants.put(&a);
        Ok(a)
    }

    pub async fn applicant_of_user(&self, user_id: i64) -> Result<Option<Applicant>> {
        if let Some(a) = self.applicants.of_user(user_id) {
            return Ok(Some(a));
        }
        let r = crate::db::query(&format!(
            "SELECT {APPLICANT_COLS} FROM applicants WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(self.r())
        .await?;
        let a = r.as_ref().map(applicant_from_row).transpose()?;
        if let Some(a) = &a {
            self.applicants.put(a);
        }
        Ok(a)
    }

    pub async fn applicant_by_id_number(&self, id_number: &str) -> Result<Option<Applicant>> {
        let r = crate::db::query(&format!(
            "SELECT {APPLICANT_COLS} FROM applicants WHERE id_number = $1"
        ))
        .bind(id_number.trim().to_ascii_uppercase())
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(applicant_from_row).transpose()
    }
}

async fn insert_applicant(
    conn: &mut AnyConnection,
    a: &NewApplicant<'_>,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Applicant> {
    let id_number = match a.kind {
        "person" => tongban_core::ids::ResidentId::parse(a.id_number)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .as_str()
            .to_string(),
        "enterprise" => tongban_core::ids::Uscc::parse(a.id_number)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .as_str()
            .to_string(),
        _ => return Err(StoreError::Invalid("申请人类型应为自然人或企业".into())),
    };
    if a.name.trim().is_empty() {
        return Err(StoreError::Invalid("姓名或企业名称必填".into()));
    }
    let mobile = a.mobile.trim();
    let valid_mobile =
        mobile.len() == 11 && mobile.starts_with('1') && mobile.bytes().all(|b| b.is_ascii_digit());
    if !mobile.is_empty() && !valid_mobile {
        return Err(StoreError::Invalid("手机号码应为11位数字".into()));
    }
    if a.kind == "enterprise" && a.legal_rep.trim().is_empty() {
        return Err(StoreError::Invalid("企业须填写法定代表人".into()));
    }
    let r = crate::db::query(&format!(
        "INSERT INTO applicants (kind, name, id_number, mobile, legal_rep, user_id, verified, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {APPLICANT_COLS}"
    ))
    .bind(a.kind)
    .bind(a.name.trim())
    .bind(&id_number)
    .bind(mobile)
    .bind(a.legal_rep.trim())
    .bind(user_id)
    .bind(i64::from(a.verified))
    .bind(now_text(now))
    .fetch_one(conn)
    .await
    .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("该证件号码已登记".into()) } else { e.into() })?;
    applicant_from_row(&r)
}

/// Applicants read by this node. An applicant row is never changed once written (no
/// statement updates or deletes one; a correction is a new applicant), so a row read once
/// stays true: every command that notifies its applicant, and every request of an applicant
/// account, reads it from memory. Bounded: emptied when full.
#[derive(Debug, Default)]
pub(crate) struct ApplicantCache {
    rows: std::sync::Mutex<ApplicantRows>,
}

#[derive(Debug, Default)]
struct ApplicantRows {
    by_id: std::collections::HashMap<i64, Applicant>,
    by_user: std::collections::HashMap<i64, i64>,
}

/// The most applicants one node keeps in memory (a few hundred bytes each).
const APPLICANT_CACHE_MAX: usize = 20_000;

impl ApplicantCache {
    fn get(&self, id: i64) -> Option<Applicant> {
        self.rows.lock().ok()?.by_id.get(&id).cloned()
    }

    fn of_user(&self, user_id: i64) -> Option<Applicant> {
        let rows = self.rows.lock().ok()?;
        rows.by_id.get(rows.by_user.get(&user_id)?).cloned()
    }

    fn put(&self, a: &Applicant) {
        let Ok(mut rows) = self.rows.lock() else {
            return;
        };
        if rows.by_id.len() >= APPLICANT_CACHE_MAX {
            rows.by_id.clear();
            rows.by_user.clear();
        }
        if let Some(u) = a.user_id {
            rows.by_user.insert(u, a.id);
        }
        rows.by_id.insert(a.id, a.clone());
    }
}
