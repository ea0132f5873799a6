//! Supervision records and 督办 orders. Records are raised in the same transaction as the
//! events that cause them; a unique key per (case, rule, cause) makes every occurrence
//! raised exactly once, however many nodes look at the case.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tongban_core::case::Event;
use tongban_core::supervision::{Finding, Rule};

/// What supervision writes along with a case change.
#[derive(Debug, Clone, Default)]
pub struct SupervisionWrite {
    pub raise: Vec<Finding>,
    /// Timer rules that hold now; open timer records not listed here are resolved.
    pub timer_holding: Vec<(Rule, String)>,
    pub next_check_on: Option<NaiveDate>,
    /// Leave open timer records alone (when their rules could not be evaluated).
    pub keep_open_timers: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupervisionRecord {
    pub record_no: String,
    pub rule: Rule,
    pub cause: String,
    pub case_no: String,
    pub department_id: i64,
    pub severity: String,
    pub detail: String,
    pub raised_at: String,
    pub resolved_at: Option<String>,
    pub resolution: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupervisionOrder {
    pub order_no: String,
    pub record_no: String,
    pub case_no: String,
    pub department_id: i64,
    pub instruction: String,
    pub due_on: String,
    pub status: String,
    pub issued_by: String,
    pub issued_at: String,
    pub answer: String,
    pub answered_by: String,
    pub answered_at: Option<String>,
    pub closing_note: String,
    pub closed_at: Option<String>,
}

const RECORD_COLS: &str = "record_no, rule, cause, case_no, department_id, severity, detail, raised_at, resolved_at, resolution";
const ORDER_COLS: &str = "order_no, record_no, case_no, department_id, instruction, due_on, status, issued_by, issued_at, answer, answered_by, answered_at, closing_note, closed_at";

fn record_from_row(r: &AnyRow) -> Result<SupervisionRecord> {
    let rule = get_str(r, "rule")?;
    Ok(SupervisionRecord {
        record_no: get_str(r, "record_no")?,
        rule: Rule::parse(&rule)
            .ok_or_else(|| StoreError::Internal(format!("unknown rule {rule}")))?,
        cause: get_str(r, "cause")?,
        case_no: get_str(r, "case_no")?,
        department_id: get_i64(r, "department_id")?,
        severity: get_str(r, "severity")?,
        detail: get_str(r, "detail")?,
        raised_at: get_str(r, "raised_at")?,
        resolved_at: r.try_get::<Option<String>, _>("resolved_at")?,
        resolution: get_str(r, "resolution")?,
    })
}

fn order_from_row(r: &AnyRow) -> Result<SupervisionOrder> {
    Ok(SupervisionOrder {
        order_no: get_str(r, "order_no")?,
        record_no: get_str(r, "record_no")?,
        case_no: get_str(r, "case_no")?,
        department_id: get_i64(r, "department_id")?,
        instruction: get_str(r, "instruction")?,
        due_on: get_str(r, "due_on")?,
        status: get_str(r, "status")?,
        issued_by: get_str(r, "issued_by")?,
        issued_at: get_str(r, "issued_at")?,
        answer: get_str(r, "answer")?,
        answered_by: get_str(r, "answered_by")?,
        answered_at: r.try_get::<Option<String>, _>("answered_at")?,
        closing_note: get_str(r, "closing_note")?,
        closed_at: r.try_get::<Option<String>, _>("closed_at")?,
    })
}

async fn next_number(conn: &mut AnyConnection, prefix: &str, now: DateTime<Utc>) -> Result<String> {
    let key = format!("{prefix}{}", crate::beijing_day(now));
    crate::db::query(
        "INSERT INTO case_counters (day, n) VALUES ($1, 0) ON CONFLICT (day) DO NOTHING",
    )
    .bind(&key)
    .execute(&mut *conn)
    .await?;
    let n = get_i64(
        &crate::db::query("UPDATE case_counters SET n = n + 1 WHERE day = $1 RETURNING n")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await?,
        "n",
    )?;
    Ok(format!("{key}{n:05}"))
}

/// Writes supervision for one case inside the caller's transaction.
pub(crate) async fn apply_supervision(
    conn: &mut AnyConnection,
    case_id: i64,
    case_no: &str,
    department_id: i64,
    sup: &SupervisionWrite,
    now: DateTime<Utc>,
) -> Result<usize> {
    crate::db::query("UPDATE cases SET next_check_on = $1 WHERE id = $2")
        .bind(sup.next_check_on.map(|d| d.to_string()))
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    let open = crate::db::query(
        "SELECT rule, cause FROM supervision_records WHERE case_id = $1 AND resolved_at IS NULL",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &open {
        let (rule, cause) = (get_str(r, "rule")?, get_str(r, "cause")?);
        let Some(rule) = Rule::parse(&rule) else {
            continue;
        };
        if !sup.keep_open_timers
            && rule.is_timer()
            && !sup
                .timer_holding
                .iter()
                .any(|(r2, c2)| *r2 == rule && *c2 == cause)
        {
            let done = crate::db::query("UPDATE supervision_records SET resolved_at = $1, resolution = $2 WHERE case_id = $3 AND rule = $4 AND cause = $5 AND resolved_at IS NULL")
                .bind(now_text(now))
                .bind("原因已消除（办件已办结、期限已变更或已受理）")
                .bind(case_id)
                .bind(rule.code())
                .bind(&cause)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() > 0 {
                count_open(
                    conn,
                    department_id,
                    rule.severity().code(),
                    -(done.rows_affected() as i64),
                )
                .await?;
                case_open_records(conn, case_id, -(done.rows_affected() as i64)).await?;
            }
        }
    }
    let mut raised = 0;
    for f in &sup.raise {
        let exists = crate::db::query(
            "SELECT id FROM supervision_records WHERE case_id = $1 AND rule = $2 AND cause = $3",
        )
        .bind(case_id)
        .bind(f.rule.code())
        .bind(&f.cause)
        .fetch_optional(&mut *conn)
        .await?;
        if exists.is_some() {
            continue;
        }
        let record_no = next_number(conn, "JC", now).await?;
        let done = crate::db::query(
            "INSERT INTO supervision_records (record_no, rule, cause, case_id, case_no, department_id, severity, detail, raised_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (case_id, rule, cause) DO NOTHING",
        )
        .bind(&record_no)
        .bind(f.rule.code())
        .bind(&f.cause)
        .bind(case_id)
        .bind(case_no)
        .bind(department_id)
        .bind(f.rule.severity().code())
        .bind(&f.detail)
        .bind(now_text(now))
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() > 0 {
            count_open(conn, department_id, f.rule.severity().code(), 1).await?;
            case_open_records(conn, case_id, 1).await?;
        }
        raised += done.rows_affected() as usize;
    }
    Ok(raised)
}

#[derive(Debug, Default, Clone)]
pub struct RecordFilter {
    pub open_only: bool,
    pub department_id: Option<i64>,
    pub case_no: Option<String>,
}

impl Store {
    /// Claims the cases whose next check is due and writes what `judge` decides for each,
    /// in one transaction. On PostgreSQL the claim skips rows another node holds, so
    /// several nodes share the work without doing it twice.
    pub async fn supervise_due(
        &self,
        today: NaiveDate,
        limit: i64,
        now: DateTime<Utc>,
        judge: impl Fn(&crate::case_rows::CaseRecord) -> SupervisionWrite,
    ) -> Result<(usize, usize)> {
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let mut tx = self.begin_write().await?;
        let rows = crate::db::query(&format!(
            "SELECT c.id, c.case_no, c.impl_code, c.item_name, c.department_id, c.applicant_id, c.status, c.version, c.submitted_at, c.state \
             FROM cases c WHERE c.next_check_on IS NOT NULL AND c.next_check_on <= $1 ORDER BY c.next_check_on LIMIT $2{lock}"
        ))
        .bind(today.to_string())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut raised = 0;
        for r in &rows {
            let rec = crate::case_rows::case_from_row(r)?;
            let sup = judge(&rec);
            raised +=
                apply_supervision(&mut tx, rec.id, &rec.case_no, rec.department_id, &sup, now)
                    .await?;
        }
        self.commit(tx).await?;
        Ok((rows.len(), raised))
    }

    /// Records a refused irregular attempt (e.g. 不予受理 without reasons).
    pub async fn flag_attempt(
        &self,
        case_no: &str,
        finding: &Finding,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let rec = self.case_by_no(case_no).await?;
        let mut tx = self.begin_write().await?;
        let sup = SupervisionWrite {
            raise: vec![finding.clone()],
            timer_holding: open_timer_keys(&mut tx, rec.id).await?,
            next_check_on: current_next_check(&mut tx, rec.id).await?,
            keep_open_timers: true,
        };
        apply_supervision(&mut tx, rec.id, &rec.case_no, rec.department_id, &sup, now).await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn supervision_records(&self, f: &RecordFilter) -> Result<Vec<SupervisionRecord>> {
        let mut sql = format!("SELECT {RECORD_COLS} FROM supervision_records WHERE 1 = 1");
        if f.open_only {
            sql.push_str(" AND resolved_at IS NULL");
        }
        let mut n = 0;
        if f.department_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND department_id = ${n}"));
        }
        if f.case_no.is_some() {
            n += 1;
            sql.push_str(&format!(" AND case_no = ${n}"));
        }
        sql.push_str(" ORDER BY id DESC LIMIT 200");
        let mut q = crate::db::query(&sql);
        if let Some(d) = f.department_id {
            q = q.bind(d);
        }
        if let Some(c) = &f.case_no {
            q = q.bind(c.clone());
        }
        q.fetch_all(self.r())
            .await?
            .iter()
            .map(record_from_row)
            .collect()
    }

    pub async fn supervision_record(&self, record_no: &str) -> Result<SupervisionRecord> {
        let r = crate::db::query(&format!(
            "SELECT {RECORD_COLS} FROM supervision_records WHERE record_no = $1"
        ))
        .bind(record_no)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("监察记录 {record_no}")))?;
        record_from_row(&r)
    }

    /// Issues a 督办 order on a record; the order is also an event of the case.
    pub async fn issue_order(
        &self,
        record_no: &str,
        instruction: &str,
        due: NaiveDate,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<SupervisionOrder> {
        let instruction = instruction.trim();
        if instruction.is_empty() {
            return Err(StoreError::Invalid("督办事项必须写明要求".into()));
        }
        let record = self.supervision_record(record_no).await?;
        let mut tx = self.begin_write().await?;
        let order_no = next_number(&mut tx, "DB", now).await?;
        crate::db::query(
            "INSERT INTO supervision_orders (order_no, record_no, case_no, department_id, instruction, due_on, status, issued_by, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
        )
        .bind(&order_no)
        .bind(record_no)
        .bind(&record.case_no)
        .bind(record.department_id)
        .bind(instruction)
        .bind(due.to_string())
        .bind(by)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        let event = Event::SupervisionOrdered {
            order_no: order_no.clone(),
            instruction: instruction.into(),
            due,
        };
        crate::case_rows::append_in_tx(&mut tx, &record.case_no, &[event], by, now).await?;
        self.commit(tx).await?;
        self.order(&order_no).await
    }

    pub async fn order(&self, order_no: &str) -> Result<SupervisionOrder> {
        let r = crate::db::query(&format!(
            "SELECT {ORDER_COLS} FROM supervision_orders WHERE order_no = $1"
        ))
        .bind(order_no)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("督办单 {order_no}")))?;
        order_from_row(&r)
    }

    pub async fn orders(&self, department_id: Option<i64>) -> Result<Vec<SupervisionOrder>> {
        let rows = match department_id {
            Some(d) => crate::db::query(&format!("SELECT {ORDER_COLS} FROM supervision_orders WHERE department_id = $1 ORDER BY id DESC LIMIT 200")).bind(d).fetch_all(self.r()).await?,
            None => crate::db::query(&format!("SELECT {ORDER_COLS} FROM supervision_orders ORDER BY id DESC LIMIT 200")).fetch_all(self.r()).await?,
        };
        rows.iter().map(order_from_row).collect()
    }

    /// The department answers an order.
    pub async fn answer_order(
        &self,
        order_no: &str,
        answer: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<SupervisionOrder> {
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(StoreError::Invalid("请填写办理情况".into()));
        }
        let order = self.order(order_no).await?;
        if order.status != "open" {
            return Err(StoreError::Conflict(format!(
                "督办单 {order_no} 当前状态为 {}，不能反馈",
                order.status
            )));
        }
        let mut tx = self.begin_write().await?;
        let done = crate::db::query("UPDATE supervision_orders SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE order_no = $4 AND status = 'open'")
            .bind(answer)
            .bind(by)
            .bind(now_text(now))
            .bind(order_no)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("督办单 {order_no} 已被处理")));
        }
        let event = Event::SupervisionAnswered {
            order_no: order_no.into(),
            answer: answer.into(),
        };
        crate::case_rows::append_in_tx(&mut tx, &order.case_no, &[event], by, now).await?;
        self.commit(tx).await?;
        self.order(order_no).await
    }

    /// The supervisor closes an answered order, or escalates it.
    pub async fn close_order(
        &self,
        order_no: &str,
        escalate: bool,
        note: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<SupervisionOrder> {
        let order = self.order(order_no).await?;
        if order.status == "closed" || order.status == "escalated" {
            return Err(StoreError::Conflict(format!(
                "督办单 {order_no} 已{}",
                if order.status == "closed" {
                    "办结"
                } else {
                    "升级"
                }
            )));
        }
        if !escalate && order.status != "answered" {
            return Err(StoreError::Invalid(
                "部门尚未反馈，不能办结督办单（可升级督办）".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        crate::db::query("UPDATE supervision_orders SET status = $1, closing_note = $2, closed_at = $3 WHERE order_no = $4")
            .bind(if escalate { "escalated" } else { "closed" })
            .bind(note.trim())
            .bind(now_text(now))
            .bind(order_no)
            .execute(&mut *tx)
            .await?;
        if !escalate && !order.record_no.is_empty() {
            let done = crate::db::query("UPDATE supervision_records SET resolved_at = $1, resolution = $2 WHERE record_no = $3 AND resolved_at IS NULL")
                .bind(now_text(now))
                .bind(format!("督办办结：{}", note.trim()))
                .bind(&order.record_no)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                let r = self.supervision_record(&order.record_no).await?;
                count_open(&mut tx, r.department_id, &r.severity, -1).await?;
                crate::db::query(
                    "UPDATE cases SET open_records = open_records - 1 WHERE case_no = $1",
                )
                .bind(&r.case_no)
                .execute(&mut *tx)
                .await?;
            }
        }
        let event = Event::SupervisionClosed {
            order_no: order_no.into(),
            escalated: escalate,
            note: note.trim().into(),
        };
        crate::case_rows::append_in_tx(&mut tx, &order.case_no, &[event], by, now).await?;
        self.commit(tx).await?;
        self.order(order_no).await
    }

    /// Counts of open records per (department, severity).
    pub async fn open_record_counts(&self) -> Result<Vec<(i64, String, i64)>> {
        let rows = crate::db::query("SELECT department_id, severity, n FROM supervision_open_counts WHERE n > 0 ORDER BY department_id, severity")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "department_id")?,
                    get_str(r, "severity")?,
                    get_i64(r, "n")?,
                ))
            })
            .collect()
    }

    /// Records raised per (department, rule) since a time (all, open or resolved).
    pub async fn record_counts_since(&self, since: &str) -> Result<Vec<(i64, String, i64)>> {
        let rows = crate::db::query("SELECT department_id, rule, COUNT(*) AS n FROM supervision_records WHERE raised_at >= $1 GROUP BY department_id, rule")
            .bind(since)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "department_id")?,
                    get_str(r, "rule")?,
                    get_i64(r, "n")?,
                ))
            })
            .collect()
    }
}

async fn open_timer_keys(conn: &mut AnyConnection, case_id: i64) -> Result<Vec<(Rule, String)>> {
    let rows = crate::db::query(
        "SELECT rule, cause FROM supervision_records WHERE case_id = $1 AND resolved_at IS NULL",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                Rule::parse(&get_str(r, "rule").ok()?)?,
                get_str(r, "cause").ok()?,
            ))
        })
        .collect())
}

async fn current_next_check(conn: &mut AnyConnection, case_id: i64) -> Result<Option<NaiveDate>> {
    let r = crate::db::query("SELECT next_check_on FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await?;
    Ok(r.try_get::<Option<String>, _>("next_check_on")?
        .and_then(|s| s.parse().ok()))
}

/// Keeps the open-record counters in step, in the caller's transaction.
async fn count_open(
    conn: &mut AnyConnection,
    department_id: i64,
    severity: &str,
    delta: i64,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO supervision_open_counts (department_id, severity, n) VALUES ($1, $2, $3) \
         ON CONFLICT (department_id, severity) DO UPDATE SET n = supervision_open_counts.n + $3",
    )
    .bind(department_id)
    .bind(severity)
    .bind(delta)
    .execute(conn)
    .await?;
    Ok(())
}

async fn case_open_records(conn: &mut AnyConnection, case_id: i64, delta: i64) -> Result<()> {
    crate::db::query("UPDATE cases SET open_records = open_records + $1 WHERE id = $2")
        .bind(delta)
        .bind(case_id)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Records raised per (item, rule) in one department since a time.
    pub async fn record_counts_by_item(
        &self,
        since: &str,
        department_id: i64,
    ) -> Result<Vec<(String, String, i64)>> {
        let rows = crate::db::query(
            "SELECT c.impl_code, r.rule, COUNT(*) AS n FROM supervision_records r JOIN cases c ON c.id = r.case_id \
             WHERE r.raised_at >= $1 AND r.department_id = $2 GROUP BY c.impl_code, r.rule",
        )
        .bind(since)
        .bind(department_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "impl_code")?,
                    get_str(r, "rule")?,
                    get_i64(r, "n")?,
                ))
            })
            .collect()
    }
}
