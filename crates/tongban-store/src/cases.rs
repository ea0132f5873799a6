//! Cases. Every action appends events to the hash-chained ledger, and the case projection
//! (status, deadlines, inbox columns) is updated in the same transaction.

use crate::case_rows::{case_from_row, inbox_due, json, CASE_COLS};
use crate::db::Conn as AnyConnection;
use crate::ledger_append::append_events;
use crate::messages::message;
use crate::{
    beijing_date, get_i64, get_str, is_unique_violation, now_text, Result, Store, StoreError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tongban_core::case::{Case, Event, Status};

// The types other crates know by these paths.
pub use crate::applicants::{Applicant, NewApplicant};
#[cfg(feature = "bench")]
pub use crate::bench::BulkCase;
pub use crate::case_rows::CaseRecord;
pub use crate::ledger_append::chain_hash;

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
    /// The deployment's 行政区划代码: the prefix of the 办件编号.
    pub region: &'a tongban_core::codes::RegionCode,
    pub impl_code: &'a str,
    pub item_name: &'a str,
    pub department_id: i64,
    pub applicant_id: i64,
    pub created_by: i64,
    pub idem_key: Option<&'a str>,
    /// The 申办 event (it carries the steps and limits).
    pub first: Event,
    /// The uploaded files the materials cite, marked as used in the case's transaction
    /// (each must have been uploaded by `created_by`, else nothing is stored).
    pub uploads: &'a [String],
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

impl Store {
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
        let day = crate::beijing_day(now);
        // PostgreSQL: the day's number comes from a sequence, before the transaction and
        // without a row lock (issue 20); SQLite: the day's counter row, inside it.
        let drawn = match self.backend() {
            crate::Backend::Postgres => Some(self.next_case_seq_pg(&day, nc.region, now).await?),
            crate::Backend::Sqlite => None,
        };
        let mut tx = self.begin_write().await?;
        crate::uploads::claim_in(&mut tx, nc.created_by, nc.uploads, now).await?;
        let n = match drawn {
            Some(n) => n,
            None => {
                crate::db::query(
                    "INSERT INTO case_counters (day, n) VALUES ($1, 0) ON CONFLICT (day) DO NOTHING",
                )
                .bind(&day)
                .execute(&mut *tx)
                .await?;
                get_i64(
                    &crate::db::query(
                        "UPDATE case_counters SET n = n + 1 WHERE day = $1 RETURNING n",
                    )
                    .bind(&day)
                    .fetch_one(&mut *tx)
                    .await?,
                    "n",
                )?
            }
        };
        let case_no = tongban_core::codes::CaseNo::try_new(nc.region, beijing_date(now), n as u32)
            .map_err(|e| StoreError::Invalid(e.to_string()))?
            .as_str()
            .to_string();
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
        crate::figures::write_figure(
            &mut tx,
            id,
            nc.department_id,
            nc.impl_code,
            &state,
            crate::beijing_date(now),
            None,
        )
        .await?;
        // The ledger head last: on PostgreSQL its row lock orders every writer, so it is
        // held only from here to the commit.
        append_events(&mut tx, id, 0, std::slice::from_ref(&nc.first), actor, now).await?;
        self.commit(tx).await?;
        Ok((self.case_by_no(&case_no).await?, true))
    }

    /// The next 办件编号 sequence number of `day` on PostgreSQL: `nextval` of the day's
    /// SEQUENCE (`case_no_YYYYMMDD`), which takes no row lock, so concurrent submissions on
    /// any number of nodes do not queue on a counter row. The sequence is created on the
    /// day's first submission, starting after every number already given that day (by the
    /// counter row of before, or in a database restored from a backup). Unique always;
    /// dense, not gapless: a submission rolled back after drawing leaves its number unused.
    async fn next_case_seq_pg(
        &self,
        day: &str,
        region: &tongban_core::codes::RegionCode,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let digits: String = day.chars().filter(char::is_ascii_digit).collect();
        let first = tongban_core::codes::CaseNo::try_new(region, beijing_date(now), 0)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let prefix = first.as_str()[..first.as_str().len() - 6].to_string();
        let given = || async move {
            Ok(
                crate::db::query("SELECT MAX(case_no) AS m FROM cases WHERE case_no LIKE $1")
                    .bind(format!("{prefix}%"))
                    .fetch_one(self.w())
                    .await?
                    .try_get::<Option<String>, _>("m")?
                    .and_then(|m| m.get(m.len().saturating_sub(6)..)?.parse::<i64>().ok())
                    .unwrap_or(0),
            )
        };
        self.draw_from_sequence(&format!("case_no_{digits}"), day, 0, given)
            .await
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
        self.append_case_events_inviting(current, events, actor, now, sup, jobs, &[])
            .await
    }

    /// [`Store::append_case_events`] that also stores the rating links the events call for
    /// (受理, 办结), in the same transaction: a decision is one commit, not two.
    #[allow(clippy::too_many_arguments)]
    pub async fn append_case_events_inviting(
        &self,
        current: &CaseRecord,
        events: &[Event],
        actor: &str,
        now: DateTime<Utc>,
        sup: &crate::supervision::SupervisionWrite,
        jobs: &[crate::jobs::NewJob],
        rating_links: &[crate::ratings::NewRatingToken],
    ) -> Result<CaseRecord> {
        let mut tx = self.begin_write().await?;
        crate::ratings::insert_rating_tokens(&mut tx, rating_links, now).await?;
        let rec = write_case_events(&mut tx, current, events, actor, now, sup, jobs).await?;
        self.commit(tx).await?;
        Ok(rec)
    }

    /// Open cases (in approval or suspended) with a due date on or after `from`: the cases
    /// whose deadlines a change of the calendar from that day on may move.
    pub async fn open_cases_due_from(&self, from: chrono::NaiveDate) -> Result<Vec<CaseRecord>> {
        let rows = crate::db::query(&format!(
            "SELECT {CASE_COLS} FROM cases c WHERE c.status IN ('in_approval', 'suspended') \
             AND (c.promised_due >= $1 OR c.legal_due >= $1) ORDER BY c.id"
        ))
        .bind(from.to_string())
        .fetch_all(self.r())
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// How many open cases have a due date on or after `from`.
    pub async fn count_open_cases_due_from(&self, from: chrono::NaiveDate) -> Result<i64> {
        let r = crate::db::query(
            "SELECT COUNT(*) AS n FROM cases c WHERE c.status IN ('in_approval', 'suspended') \
             AND (c.promised_due >= $1 OR c.legal_due >= $1)",
        )
        .bind(from.to_string())
        .fetch_one(self.r())
        .await?;
        get_i64(&r, "n")
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

    /// Recomputes every partition's hash chain; returns the first sequence number that does
    /// not match (in the first partition with one).
    pub async fn verify_chain(&self) -> Result<Option<i64>> {
        Ok(self.verify_chains().await?.map(|(_, seq)| seq))
    }

    /// [`Store::verify_chain`], naming the partition: (partition, sequence number).
    pub async fn verify_chains(&self) -> Result<Option<(u32, i64)>> {
        let rows = crate::db::query(
            "SELECT part, seq, entry, prev_hash, hash FROM ledger_events ORDER BY part, seq",
        )
        .fetch_all(self.r())
        .await?;
        let mut prev = "0".repeat(64);
        let mut current = -1;
        for r in &rows {
            let part = get_i64(r, "part")?;
            if part != current {
                current = part;
                prev = "0".repeat(64);
            }
            let seq = get_i64(r, "seq")?;
            if get_str(r, "prev_hash")? != prev
                || chain_hash(&prev, &get_str(r, "entry")?) != get_str(r, "hash")?
            {
                return Ok(Some((part as u32, seq)));
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
                    "c.applicant_id IN (SELECT id FROM applicants WHERE name LIKE ${i} ESCAPE '\\')"
                ));
                args.push(crate::like_contains(v));
            }
        }
        if let Some(v) = &f.impl_code {
            let i = next();
            wh.push(format!(
                "(c.impl_code = ${i} OR c.item_name LIKE ${} ESCAPE '\\')",
                i + 1
            ));
            next();
            args.push(v.clone());
            args.push(crate::like_contains(v));
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

/// Appends decided events to `current` (the case as the decision saw it) inside the caller's
/// transaction, if the case is still at that version; otherwise a conflict. The new state is
/// folded from `current`, so the row is not read again inside the write.
pub(crate) async fn write_case_events(
    tx: &mut AnyConnection,
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
            &mut *tx,
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
        &mut *tx,
        rec.applicant_id,
        case_no,
        now,
        &format!(
            "您的办件 {case_no}（{}）：{}，当前状态「{}」。{}{}",
            rec.item_name,
            last.label(),
            s.status.label(),
            last.applicant_note(),
            crate::ratings::prompt_after(events)
        ),
    )
    .await?;
    // The case figures change only with the facts they count (not with supervision notes).
    let today = crate::beijing_date(now);
    if tongban_core::figures::CaseFigure::project(None, &current.state, today)
        != tongban_core::figures::CaseFigure::project(None, s, today)
    {
        crate::figures::write_figure(
            &mut *tx,
            rec.id,
            rec.department_id,
            &rec.impl_code,
            s,
            today,
            None,
        )
        .await?;
    }
    // Follow-up work is written with the decision: it cannot be lost between them.
    crate::jobs::enqueue(&mut *tx, jobs, now).await?;
    // The ledger head last (its row lock orders writers on PostgreSQL).
    append_events(&mut *tx, rec.id, expected_version, events, actor, now).await?;
    rec.status = rec.state.status;
    rec.version = rec.state.version;
    Ok(rec)
}
