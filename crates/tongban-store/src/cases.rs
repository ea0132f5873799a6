//! Applicants and cases. Every action appends events to the hash-chained ledger, and the
//! case projection (status, deadlines, inbox columns) is updated in the same transaction.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, is_unique_violation, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tongban_core::case::{Case, Event, Status};

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
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    pub seq: i64,
    pub case_version: i64,
    pub actor: String,
    pub at: String,
    pub event: Event,
    pub hash: String,
}

/// What a new case starts with.
pub struct NewCase<'a> {
    pub impl_code: &'a str,
    pub item_name: &'a str,
    pub department_id: i64,
    pub applicant_id: i64,
    pub created_by: i64,
    pub idem_key: Option<&'a str>,
    /// The 申办 event (it carries the steps and limits).
    pub first: Event,
}

#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub case_no: Option<String>,
    pub applicant_id: Option<i64>,
    pub applicant_query: Option<String>,
    pub impl_code: Option<String>,
    pub department_id: Option<i64>,
    pub statuses: Vec<Status>,
    pub submitted_from: Option<String>,
    pub submitted_to: Option<String>,
    /// Order by promised deadline (inbox) instead of newest first.
    pub by_deadline: bool,
    pub limit: i64,
    pub offset: i64,
}

const APPLICANT_COLS: &str = "id, kind, name, id_number, mobile, legal_rep, user_id, verified";
const CASE_COLS: &str = "c.id, c.case_no, c.impl_code, c.item_name, c.department_id, c.applicant_id, c.status, c.version, c.submitted_at, c.state";

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
    })
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The hash of a ledger entry: SHA-256 over the predecessor's hash and the entry bytes.
pub fn chain_hash(prev_hash: &str, entry: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(entry.as_bytes());
    hex::encode(h.finalize())
}

/// Region code of the demo city, the prefix of every 办件编号.
pub const REGION_CODE: &str = "431900";

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
        let r = crate::db::query(&format!(
            "SELECT {APPLICANT_COLS} FROM applicants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("申请人 {id}")))?;
        applicant_from_row(&r)
    }

    pub async fn applicant_of_user(&self, user_id: i64) -> Result<Option<Applicant>> {
        let r = crate::db::query(&format!(
            "SELECT {APPLICANT_COLS} FROM applicants WHERE user_id = $1"
        ))
        .bind(user_id)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(applicant_from_row).transpose()
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

    /// Opens a case: allocates its 办件编号, appends the first event, writes the projection.
    /// A retried submission with the same idempotency key returns the case already made.
    pub async fn open_case(
        &self,
        nc: NewCase<'_>,
        actor: &str,
        now: DateTime<Utc>,
        sup: &crate::supervision::SupervisionWrite,
    ) -> Result<(CaseRecord, bool)> {
        if let Some(key) = nc.idem_key {
            if let Some(existing) = self.case_by_idem(nc.created_by, key).await? {
                return Ok((existing, false));
            }
        }
        let state = Case::open(&nc.first).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let day = crate::cases::beijing_day(now);
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "INSERT INTO case_counters (day, n) VALUES ($1, 0) ON CONFLICT (day) DO NOTHING",
        )
        .bind(&day)
        .execute(&mut *tx)
        .await?;
        let n = get_i64(
            &crate::db::query("UPDATE case_counters SET n = n + 1 WHERE day = $1 RETURNING n")
                .bind(&day)
                .fetch_one(&mut *tx)
                .await?,
            "n",
        )?;
        let case_no = format!("{REGION_CODE}{day}{n:06}");
        let inserted = crate::db::query(
            "INSERT INTO cases (case_no, impl_code, item_name, department_id, applicant_id, created_by, idem_key, channel, status, step_name, version, submitted_at, state, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', 1, $10, $11, $10) RETURNING id",
        )
        .bind(&case_no)
        .bind(nc.impl_code)
        .bind(nc.item_name)
        .bind(nc.department_id)
        .bind(nc.applicant_id)
        .bind(nc.created_by)
        .bind(nc.idem_key)
        .bind(state.channel.label())
        .bind(state.status.code())
        .bind(now_text(now))
        .bind(json(&state)?)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(r) => get_i64(&r, "id")?,
            Err(e) if is_unique_violation(&e) && nc.idem_key.is_some() => {
                // A concurrent retry won the race: hand back its case (once the winner's
                // write is committed, so a reader sees it).
                drop(tx);
                self.w().settle().await?;
                let existing = self
                    .case_by_idem(nc.created_by, nc.idem_key.unwrap_or_default())
                    .await?;
                return existing
                    .map(|c| (c, false))
                    .ok_or_else(|| StoreError::Internal("idempotency race".into()));
            }
            Err(e) => return Err(e.into()),
        };
        crate::supervision::apply_supervision(&mut tx, id, &case_no, nc.department_id, sup, now)
            .await?;
        message(
            &mut tx,
            nc.applicant_id,
            &case_no,
            now,
            &format!("您的「{}」申请已收到，办件编号 {case_no}。", nc.item_name),
        )
        .await?;
        // The ledger head last: on PostgreSQL its row lock orders every writer, so it is
        // held only from here to the commit.
        append_events(&mut tx, id, 0, std::slice::from_ref(&nc.first), actor, now).await?;
        self.commit(tx).await?;
        Ok((self.case_by_no(&case_no).await?, true))
    }

    async fn case_by_idem(&self, created_by: i64, key: &str) -> Result<Option<CaseRecord>> {
        let r = crate::db::query(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE c.created_by = $1 AND c.idem_key = $2"
        ))
        .bind(created_by)
        .bind(key)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(case_from_row).transpose()
    }

    pub async fn case_by_no(&self, case_no: &str) -> Result<CaseRecord> {
        let r = crate::db::query(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE c.case_no = $1"
        ))
        .bind(case_no)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("办件 {case_no}")))?;
        case_from_row(&r)
    }

    /// Appends decided events to a case if it is still at `expected_version`; otherwise
    /// reports a conflict and stores nothing.
    /// Appends decided events to `current` (the case as the decision saw it) if it is still
    /// at that version; otherwise reports a conflict and stores nothing. The new state is
    /// folded from `current`, so the row is not read again inside the write.
    pub async fn append_case_events(
        &self,
        current: &CaseRecord,
        events: &[Event],
        actor: &str,
        now: DateTime<Utc>,
        sup: &crate::supervision::SupervisionWrite,
        jobs: &[crate::jobs::NewJob],
    ) -> Result<CaseRecord> {
        if events.is_empty() {
            return Err(StoreError::Invalid("没有要记录的事件".into()));
        }
        let case_no = current.case_no.as_str();
        let expected_version = current.version;
        let mut rec = current.clone();
        for e in events {
            rec.state.apply(e);
        }
        let s = &rec.state;
        let mut tx = self.begin_write().await?;
        let updated = crate::db::query(
            "UPDATE cases SET status = $1, step_name = $2, version = $3, accepted_on = $4, promised_due = $5, legal_due = $6, state = $7, updated_at = $8, \
             inbox_due = $11, next_check_on = $12 WHERE id = $9 AND version = $10 RETURNING open_records",
        )
        .bind(s.status.code())
        .bind(s.current_step().map(|st| st.name.clone()).unwrap_or_default())
        .bind(s.version)
        .bind(s.accepted_on.map(|d| d.to_string()))
        .bind(s.promised_due.map(|d| d.to_string()))
        .bind(s.legal_due.map(|d| d.to_string()))
        .bind(json(s)?)
        .bind(now_text(now))
        .bind(rec.id)
        .bind(expected_version)
        .bind(inbox_due(s))
        .bind(sup.next_check_on.map(|d| d.to_string()))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(updated) = updated else {
            return Err(StoreError::Conflict(format!(
                "办件 {case_no} 已被他人处理（您看到的是版本 {expected_version}），请刷新后重试"
            )));
        };
        let open_records = get_i64(&updated, "open_records")?;
        // Nothing open and nothing to raise: supervision has nothing to write.
        if open_records > 0 || !sup.raise.is_empty() {
            crate::supervision::apply_supervision(
                &mut tx,
                rec.id,
                case_no,
                rec.department_id,
                sup,
                now,
            )
            .await?;
        }
        let last = events.last().expect("non-empty");
        message(
            &mut tx,
            rec.applicant_id,
            case_no,
            now,
            &format!(
                "您的办件 {case_no}（{}）：{}，当前状态「{}」。",
                rec.item_name,
                last.label(),
                s.status.label()
            ),
        )
        .await?;
        // Follow-up work is written with the decision: it cannot be lost between them.
        crate::jobs::enqueue(&mut tx, jobs, now).await?;
        // The ledger head last (its row lock orders writers on PostgreSQL).
        append_events(&mut tx, rec.id, expected_version, events, actor, now).await?;
        self.commit(tx).await?;
        rec.status = rec.state.status;
        rec.version = rec.state.version;
        Ok(rec)
    }

    pub async fn case_events(&self, case_id: i64) -> Result<Vec<LedgerEntry>> {
        let rows = crate::db::query("SELECT seq, case_version, actor, at, entry, hash FROM ledger_events WHERE case_id = $1 ORDER BY case_version")
            .bind(case_id)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                let entry: serde_json::Value = serde_json::from_str(&get_str(r, "entry")?)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                Ok(LedgerEntry {
                    seq: get_i64(r, "seq")?,
                    case_version: get_i64(r, "case_version")?,
                    actor: get_str(r, "actor")?,
                    at: get_str(r, "at")?,
                    event: serde_json::from_value(entry["event"].clone())
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                    hash: get_str(r, "hash")?,
                })
            })
            .collect()
    }

    /// Recomputes the hash chain; returns the first sequence number that does not match.
    pub async fn verify_chain(&self) -> Result<Option<i64>> {
        let rows =
            crate::db::query("SELECT seq, entry, prev_hash, hash FROM ledger_events ORDER BY seq")
                .fetch_all(self.r())
                .await?;
        let mut prev = "0".repeat(64);
        for r in &rows {
            let seq = get_i64(r, "seq")?;
            if get_str(r, "prev_hash")? != prev
                || chain_hash(&prev, &get_str(r, "entry")?) != get_str(r, "hash")?
            {
                return Ok(Some(seq));
            }
            prev = get_str(r, "hash")?;
        }
        Ok(None)
    }

    pub async fn find_cases(&self, f: &CaseFilter) -> Result<(Vec<CaseRecord>, i64)> {
        let mut wh = vec!["1 = 1".to_string()];
        let mut args: Vec<String> = vec![];
        let mut ints: Vec<(usize, i64)> = vec![];
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if let Some(v) = &f.case_no {
            let i = next();
            wh.push(format!("c.case_no = ${i}"));
            args.push(v.clone());
        }
        if let Some(v) = f.applicant_id {
            let i = next();
            wh.push(format!("c.applicant_id = ${i}"));
            ints.push((args.len(), v));
            args.push(String::new());
        }
        if let Some(v) = &f.applicant_query {
            let i = next();
            // A certificate number is looked up exactly (indexed); anything else by name.
            let is_code = tongban_core::ids::ResidentId::parse(v).is_ok()
                || tongban_core::ids::Uscc::parse(v).is_ok();
            if is_code {
                wh.push(format!(
                    "c.applicant_id IN (SELECT id FROM applicants WHERE id_number = ${i})"
                ));
                args.push(v.to_ascii_uppercase());
            } else {
                wh.push(format!(
                    "c.applicant_id IN (SELECT id FROM applicants WHERE name LIKE ${i})"
                ));
                args.push(format!("%{v}%"));
            }
        }
        if let Some(v) = &f.impl_code {
            let i = next();
            wh.push(format!(
                "(c.impl_code = ${i} OR c.item_name LIKE ${})",
                i + 1
            ));
            next();
            args.push(v.clone());
            args.push(format!("%{v}%"));
        }
        if let Some(v) = f.department_id {
            let i = next();
            wh.push(format!("c.department_id = ${i}"));
            ints.push((args.len(), v));
            args.push(String::new());
        }
        if !f.statuses.is_empty() {
            let mut parts = vec![];
            for s in &f.statuses {
                let i = next();
                parts.push(format!("${i}"));
                args.push(s.code().to_string());
            }
            wh.push(format!("c.status IN ({})", parts.join(", ")));
        }
        if let Some(v) = &f.submitted_from {
            let i = next();
            wh.push(format!("c.submitted_at >= ${i}"));
            args.push(v.clone());
        }
        if let Some(v) = &f.submitted_to {
            let i = next();
            wh.push(format!("c.submitted_at < ${i}"));
            args.push(v.clone());
        }
        if f.by_deadline {
            // The department inbox: cases with the department, by deadline (one index scan).
            wh.push("c.inbox_due IS NOT NULL".to_string());
        }
        let where_sql = wh.join(" AND ");
        let order = if f.by_deadline {
            "c.inbox_due, c.id"
        } else {
            "c.id DESC"
        };
        let count_sql = format!("SELECT COUNT(*) AS n FROM cases c WHERE {where_sql}");
        let limit = if f.limit <= 0 { 50 } else { f.limit.min(500) };
        let rows_sql = format!(
            "SELECT {CASE_COLS} FROM cases c WHERE {where_sql} ORDER BY {order} LIMIT {limit} OFFSET {}",
            f.offset.max(0)
        );
        let total = get_i64(
            &bind_args(crate::db::query(&count_sql), &args, &ints)
                .fetch_one(self.r())
                .await?,
            "n",
        )?;
        let rows = bind_args(crate::db::query(&rows_sql), &args, &ints)
            .fetch_all(self.r())
            .await?;
        Ok((
            rows.iter().map(case_from_row).collect::<Result<Vec<_>>>()?,
            total,
        ))
    }

    pub async fn messages(
        &self,
        applicant_id: i64,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>> {
        let rows = crate::db::query("SELECT case_no, at, text FROM messages WHERE applicant_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(applicant_id)
            .bind(limit)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "case_no")?,
                    get_str(r, "at")?,
                    get_str(r, "text")?,
                ))
            })
            .collect()
    }

    pub async fn record_file(
        &self,
        sha: &str,
        size: usize,
        media_type: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        crate::db::query("INSERT INTO files (sha256, size, media_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha)
            .bind(size as i64)
            .bind(media_type)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        Ok(())
    }

    pub async fn file_type(&self, sha: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT media_type FROM files WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "media_type")).transpose()
    }

    /// Working-day calendar years loaded by administrators: (year, source text).
    pub async fn calendar_years(&self) -> Result<Vec<(i64, String)>> {
        let rows = crate::db::query("SELECT year, source FROM calendar_years ORDER BY year")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| Ok((get_i64(r, "year")?, get_str(r, "source")?)))
            .collect()
    }

    pub async fn calendar_rev(&self) -> Result<i64> {
        self.meta_rev("calendar_rev").await
    }

    pub async fn save_calendar_year(
        &self,
        actor: &str,
        year: i64,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("DELETE FROM calendar_years WHERE year = $1")
            .bind(year)
            .execute(&mut *tx)
            .await?;
        crate::db::query("INSERT INTO calendar_years (year, source, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)")
            .bind(year)
            .bind(source)
            .bind(actor)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        crate::db::query("UPDATE meta SET value = value + 1 WHERE key = 'calendar_rev'")
            .execute(&mut *tx)
            .await?;
        crate::catalog::audit(&mut tx, now, actor, "calendar.load", &year.to_string()).await?;
        self.commit(tx).await?;
        self.revs_changed();
        Ok(())
    }
}

pub(crate) fn beijing_day(now: DateTime<Utc>) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    now.with_timezone(&tz).format("%Y%m%d").to_string()
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

pub(crate) async fn message(
    conn: &mut AnyConnection,
    applicant_id: i64,
    case_no: &str,
    now: DateTime<Utc>,
    text: &str,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO messages (applicant_id, case_no, at, text) VALUES ($1, $2, $3, $4)",
    )
    .bind(applicant_id)
    .bind(case_no)
    .bind(now_text(now))
    .bind(text)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends events to the global hash chain. The head row is updated first: on PostgreSQL
/// that row lock orders concurrent appends; on SQLite the single writer already does.
async fn append_events(
    conn: &mut AnyConnection,
    case_id: i64,
    from_version: i64,
    events: &[Event],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let head = crate::db::query(
        "UPDATE ledger_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash, frontier",
    )
    .bind(events.len() as i64)
    .fetch_one(&mut *conn)
    .await?;
    let last_seq = get_i64(&head, "seq")?;
    let mut prev = get_str(&head, "hash")?;
    let mut seq = last_seq - events.len() as i64;
    // Keep the Merkle frontier in step; a missing or stale one is rebuilt at the next checkpoint.
    let stored = get_str(&head, "frontier")?;
    let mut frontier = tongban_core::merkle::Frontier::decode(&stored)
        .or_else(|| (seq == 0).then(tongban_core::merkle::Frontier::default))
        .filter(|f| f.size as i64 == seq);
    let at = now_text(now);
    for (i, e) in events.iter().enumerate() {
        seq += 1;
        let case_version = from_version + i as i64 + 1;
        let entry = serde_json::json!({
            "seq": seq, "case_id": case_id, "case_version": case_version,
            "actor": actor, "at": at, "event": e,
        })
        .to_string();
        let hash = chain_hash(&prev, &entry);
        if let Some(f) = frontier.as_mut() {
            // With the subtree hashes it completes (ledger_nodes): O(log n) proofs.
            let leaf = tongban_core::merkle::leaf_hash(entry.as_bytes());
            crate::ledger::push_leaf(&mut *conn, f, leaf).await?;
        }
        crate::db::query("INSERT INTO ledger_events (seq, case_id, case_version, kind, actor, at, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(seq)
            .bind(case_id)
            .bind(case_version)
            .bind(e.kind())
            .bind(actor)
            .bind(&at)
            .bind(&entry)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *conn)
            .await?;
        prev = hash;
    }
    crate::db::query("UPDATE ledger_head SET hash = $1, frontier = $2 WHERE id = 1")
        .bind(&prev)
        .bind(frontier.map(|f| f.encode()).unwrap_or_default())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

type AnyQuery<'q> = crate::db::Query<'q>;

/// Binds the collected filter values in order: integers where `ints` says so, text otherwise.
fn bind_args<'q>(mut q: AnyQuery<'q>, args: &[String], ints: &[(usize, i64)]) -> AnyQuery<'q> {
    for (idx, a) in args.iter().enumerate() {
        match ints.iter().find(|(j, _)| *j == idx) {
            Some((_, v)) => q = q.bind(*v),
            None => q = q.bind(a.clone()),
        }
    }
    q
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

impl Store {
    /// Undecided cases of the same item at the same department accepted before `accepted_on`
    /// (for the out-of-order rule).
    pub async fn earlier_open_cases(
        &self,
        impl_code: &str,
        department_id: i64,
        accepted_on: chrono::NaiveDate,
        exclude_id: i64,
    ) -> Result<usize> {
        let r = crate::db::query(
            "SELECT COUNT(*) AS n FROM cases WHERE impl_code = $1 AND department_id = $2 AND status IN ('in_approval', 'suspended') \
             AND accepted_on < $3 AND id <> $4",
        )
        .bind(impl_code)
        .bind(department_id)
        .bind(accepted_on.to_string())
        .bind(exclude_id)
        .fetch_one(self.r())
        .await?;
        Ok(get_i64(&r, "n")? as usize)
    }
}

impl Store {
    /// Decided cases (办结 and after) submitted since `since`, for department figures.
    pub async fn decided_cases_since(&self, since: &str) -> Result<Vec<CaseRecord>> {
        let rows = crate::db::query(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE c.status IN ('completed', 'dispatched', 'delivered') AND c.submitted_at >= $1"
        ))
        .bind(since)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(case_from_row).collect()
    }
}

/// One case written by the bulk seeder (benchmarks): its row and its events.
pub struct BulkCase {
    pub case_no: String,
    pub impl_code: String,
    pub item_name: String,
    pub department_id: i64,
    pub applicant_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub state: Case,
    pub events: Vec<Event>,
}

impl Store {
    /// Writes many cases and their ledger events in one transaction (benchmark datasets).
    pub async fn bulk_insert_cases(&self, cases: &[BulkCase], actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for c in cases {
            let s = &c.state;
            let r = crate::db::query(
                "INSERT INTO cases (case_no, impl_code, item_name, department_id, applicant_id, created_by, channel, status, step_name, version, submitted_at, accepted_on, promised_due, legal_due, state, updated_at, inbox_due, next_check_on) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11, $12, $13, $14, $10, $15, $16) RETURNING id",
            )
            .bind(&c.case_no)
            .bind(&c.impl_code)
            .bind(&c.item_name)
            .bind(c.department_id)
            .bind(c.applicant_id)
            .bind(s.channel.label())
            .bind(s.status.code())
            .bind(s.current_step().map(|x| x.name.clone()).unwrap_or_default())
            .bind(s.version)
            .bind(now_text(c.submitted_at))
            .bind(s.accepted_on.map(|d| d.to_string()))
            .bind(s.promised_due.map(|d| d.to_string()))
            .bind(s.legal_due.map(|d| d.to_string()))
            .bind(json(s)?)
            .bind(inbox_due(s))
            // Open cases are due for the supervision worker's first look right away.
            .bind(s.status.is_open().then(|| c.submitted_at.date_naive().to_string()))
            .fetch_one(&mut *tx)
            .await?;
            append_events(
                &mut tx,
                get_i64(&r, "id")?,
                0,
                &c.events,
                actor,
                c.submitted_at,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// Creates many applicants at once (benchmark datasets); returns their ids.
    pub async fn bulk_insert_applicants(
        &self,
        people: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(people.len());
        for (name, id_number) in people {
            let r = crate::db::query("INSERT INTO applicants (kind, name, id_number, verified, created_at) VALUES ('person', $1, $2, 1, $3) RETURNING id")
                .bind(name)
                .bind(id_number)
                .bind(now_text(now))
                .fetch_one(&mut *tx)
                .await?;
            ids.push(get_i64(&r, "id")?);
        }
        self.commit(tx).await?;
        Ok(ids)
    }

    /// Bytes the database occupies (SQLite: the main file and its WAL; PostgreSQL: the database).
    pub async fn database_bytes(&self, sqlite_path: Option<&std::path::Path>) -> Result<u64> {
        match self.backend() {
            crate::Backend::Postgres => Ok(get_i64(
                &crate::db::query("SELECT pg_database_size(current_database()) AS n")
                    .fetch_one(self.r())
                    .await?,
                "n",
            )? as u64),
            crate::Backend::Sqlite => {
                let p =
                    sqlite_path.ok_or_else(|| StoreError::Invalid("no database path".into()))?;
                let size =
                    |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                Ok(size(p.to_path_buf()) + size(p.with_extension("db-wal")))
            }
        }
    }
}

/// The deadline a department inbox sorts by, set only while the case is with the department.
pub(crate) fn inbox_due(s: &Case) -> Option<String> {
    matches!(s.status, Status::InApproval | Status::Suspended)
        .then(|| s.promised_due.map(|d| d.to_string()))
        .flatten()
}
