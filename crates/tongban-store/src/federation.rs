//! Storage of the province link: the upstream member, the outbox of reported case events
//! (written by the ledger append, in the transaction of the event), and on the receiving
//! side the events, checkpoints and alarms per member, and the provincial standard list.

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use tongban_core::case::Event;
use tongban_core::federation::{self as rules, LinkCheckpoint, ReportedEvent, StandardItem};

/// The outbox in figures (`GET /api/v1/federation/outbox`): pending (never tried, or not
/// yet failed), delivered, failed (tried and refused or unreachable; retried with backoff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// A queued event, with its outbox row id.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub event: ReportedEvent,
}

/// What a receiving member holds of another member's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    pub cases: i64,
    pub events: i64,
    pub digest: String,
}

/// A checkpoint kept for a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCheckpoint {
    pub size: u64,
    pub root: String,
    pub consistent: bool,
    /// A partitioned ledger's partition heads, as the checkpoint listed them (empty for a
    /// one-partition ledger).
    pub partitions: Vec<rules::LinkHead>,
}

/// A kept checkpoint from its row (the heads come from the checkpoint's JSON as received).
fn kept_from_row(r: &crate::db::Row) -> Result<KeptCheckpoint> {
    let partitions = serde_json::from_str::<LinkCheckpoint>(&get_str(r, "checkpoint")?)
        .map(|c| c.partitions)
        .unwrap_or_default();
    Ok(KeptCheckpoint {
        size: get_i64(r, "size")? as u64,
        root: get_str(r, "root")?,
        consistent: get_i64(r, "consistent")? == 1,
        partitions,
    })
}

/// Queues the reported events among `events` (appended to case `case_id` from version
/// `from_version + 1`), inside the append's transaction. Called only while an upstream
/// member is configured (the append reads that with the ledger head, in one statement).
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    case_id: i64,
    from_version: i64,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<()> {
    if !events.iter().any(|e| rules::reported(e.kind())) {
        return Ok(());
    }
    let case_no = get_str(
        &crate::db::query("SELECT case_no FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *conn)
            .await?,
        "case_no",
    )?;
    let at = now_text(now);
    for (i, e) in events.iter().enumerate() {
        if !rules::reported(e.kind()) {
            continue;
        }
        let version = from_version + i as i64 + 1;
        let payload = serde_json::to_string(e).map_err(|e| StoreError::Internal(e.to_string()))?;
        crate::db::query(
            "INSERT INTO federation_outbox (event_id, case_no, case_version, kind, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(rules::event_id(&case_no, version))
        .bind(&case_no)
        .bind(version)
        .bind(e.kind())
        .bind(&payload)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

impl Store {
    /// Sets (or with `None` clears) the upstream member's address. While it is set, every
    /// reported case event is queued in the transaction that writes it.
    pub async fn set_upstream(&self, url: Option<&str>, now: DateTime<Utc>) -> Result<()> {
        match url {
            Some(u) => {
                crate::db::query("INSERT INTO federation_upstream (id, url, since) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET url = $1")
                    .bind(u)
                    .bind(now_text(now))
                    .execute(self.w())
                    .await?;
            }
            None => {
                crate::db::query("DELETE FROM federation_upstream")
                    .execute(self.w())
                    .await?;
            }
        }
        self.durable().await
    }

    pub async fn upstream(&self) -> Result<Option<String>> {
        let r = crate::db::query("SELECT url FROM federation_upstream WHERE id = 1")
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "url")).transpose()
    }

    /// The oldest undelivered events, in the order they were written.
    pub async fn undelivered(&self, limit: i64) -> Result<Vec<Queued>> {
        let rows = crate::db::query(
            "SELECT id, event_id, case_no, case_version, kind, payload, created_at FROM federation_outbox \
             WHERE delivered_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Queued {
                    id: get_i64(r, "id")?,
                    event: ReportedEvent {
                        event_id: get_str(r, "event_id")?,
                        case_no: get_str(r, "case_no")?,
                        case_version: get_i64(r, "case_version")?,
                        kind: get_str(r, "kind")?,
                        at: get_str(r, "created_at")?,
                        event: serde_json::from_str(&get_str(r, "payload")?).map_err(internal)?,
                    },
                })
            })
            .collect()
    }

    /// Marks outbox rows up to and including `last_id` delivered (they were sent in order).
    pub async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> Result<()> {
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(());
        };
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "UPDATE federation_outbox SET delivered_at = $1, attempts = attempts + 1, last_error = '' \
             WHERE id >= $2 AND id <= $3 AND delivered_at IS NULL",
        )
        .bind(now_text(now))
        .bind(*first)
        .bind(*last)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// Records a failed delivery of these rows.
    pub async fn mark_failed(&self, ids: &[i64], error: &str) -> Result<()> {
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(());
        };
        let error: String = error.chars().take(500).collect();
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "UPDATE federation_outbox SET attempts = attempts + 1, last_error = $1 \
             WHERE id >= $2 AND id <= $3 AND delivered_at IS NULL",
        )
        .bind(if error.is_empty() { "error" } else { &error })
        .bind(*first)
        .bind(*last)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let r = crate::db::query(
            "SELECT \
               COALESCE(SUM(CASE WHEN delivered_at IS NULL AND last_error = '' THEN 1 ELSE 0 END), 0) AS pending, \
               COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS delivered, \
               COALESCE(SUM(CASE WHEN delivered_at IS NULL AND last_error <> '' THEN 1 ELSE 0 END), 0) AS failed \
             FROM federation_outbox",
        )
        .fetch_one(self.r())
        .await?;
        Ok(OutboxCounts {
            pending: get_i64(&r, "pending")?,
            delivered: get_i64(&r, "delivered")?,
            failed: get_i64(&r, "failed")?,
        })
    }

    /// What this member queued for upstream (all of it, delivered or not): the sender's side
    /// of the reconciliation.
    pub async fn outbox_holdings(&self, delivered_only: bool) -> Result<Holdings> {
        let cond = if delivered_only {
            "WHERE delivered_at IS NOT NULL"
        } else {
            ""
        };
        let rows = crate::db::query(&format!(
            "SELECT event_id, case_no FROM federation_outbox {cond}"
        ))
        .fetch_all(self.r())
        .await?;
        holdings(&rows)
    }

    /// Stores received events, in order; an event already held is skipped (at-least-once
    /// delivery, effect once). Returns (accepted, duplicates).
    pub async fn receive_events(
        &self,
        member: &str,
        events: &[ReportedEvent],
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        let mut tx = self.begin_write().await?;
        let mut accepted = 0;
        for e in events {
            let payload = serde_json::to_string(&e.event).map_err(internal)?;
            let r = crate::db::query(
                "INSERT INTO federation_received (member, event_id, case_no, case_version, kind, at, payload, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (member, event_id) DO NOTHING",
            )
            .bind(member)
            .bind(&e.event_id)
            .bind(&e.case_no)
            .bind(e.case_version)
            .bind(&e.kind)
            .bind(&e.at)
            .bind(&payload)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
            accepted += r.rows_affected() as usize;
        }
        self.commit(tx).await?;
        Ok((accepted, events.len() - accepted))
    }

    /// The receiving side of the reconciliation for one member.
    pub async fn received_holdings(&self, member: &str) -> Result<Holdings> {
        let rows =
            crate::db::query("SELECT event_id, case_no FROM federation_received WHERE member = $1")
                .bind(member)
                .fetch_all(self.r())
                .await?;
        holdings(&rows)
    }

    /// The events received for a case, in case order (the applicant's one timeline).
    pub async fn received_case_events(&self, case_no: &str) -> Result<Vec<ReportedEvent>> {
        let rows = crate::db::query(
            "SELECT event_id, case_no, case_version, kind, at, payload FROM federation_received \
             WHERE case_no = $1 ORDER BY case_version",
        )
        .bind(case_no)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportedEvent {
                    event_id: get_str(r, "event_id")?,
                    case_no: get_str(r, "case_no")?,
                    case_version: get_i64(r, "case_version")?,
                    kind: get_str(r, "kind")?,
                    at: get_str(r, "at")?,
                    event: serde_json::from_str(&get_str(r, "payload")?).map_err(internal)?,
                })
            })
            .collect()
    }

    /// The last checkpoint kept for a member.
    pub async fn last_link_checkpoint(&self, member: &str) -> Result<Option<KeptCheckpoint>> {
        let r = crate::db::query(
            "SELECT size, root, consistent, checkpoint FROM federation_checkpoints WHERE member = $1 ORDER BY size DESC LIMIT 1",
        )
        .bind(member)
        .fetch_optional(self.r())
        .await?;
        r.map(|r| kept_from_row(&r)).transpose()
    }

    /// The last checkpoint kept for a member that was proved consistent (the one a new one
    /// is checked against).
    pub async fn last_good_checkpoint(&self, member: &str) -> Result<Option<KeptCheckpoint>> {
        let r = crate::db::query(
            "SELECT size, root, consistent, checkpoint FROM federation_checkpoints WHERE member = $1 AND consistent = 1 ORDER BY size DESC LIMIT 1",
        )
        .bind(member)
        .fetch_optional(self.r())
        .await?;
        r.map(|r| kept_from_row(&r)).transpose()
    }

    /// Whether every checkpoint kept for the member was proved consistent.
    pub async fn all_checkpoints_consistent(&self, member: &str) -> Result<bool> {
        let r = crate::db::query(
            "SELECT COUNT(*) AS n FROM federation_checkpoints WHERE member = $1 AND consistent = 0",
        )
        .bind(member)
        .fetch_one(self.r())
        .await?;
        Ok(get_i64(&r, "n")? == 0)
    }

    /// Keeps a checkpoint received from a member; a failed one raises the alarm in the same
    /// transaction (with its audit entry). A checkpoint already kept at that size with the
    /// same root is not stored twice.
    pub async fn keep_link_checkpoint(
        &self,
        member: &str,
        c: &LinkCheckpoint,
        consistent: bool,
        alarm: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let text = serde_json::to_string(c).map_err(internal)?;
        let mut tx = self.begin_write().await?;
        // A rewritten history may come back at a size already kept: keep the first, the
        // alarm records the second.
        crate::db::query(
            "INSERT INTO federation_checkpoints (member, size, root, signature, checkpoint, consistent, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (member, size) DO UPDATE SET consistent = $6 \
             WHERE federation_checkpoints.root <> $3",
        )
        .bind(member)
        .bind(c.size as i64)
        .bind(&c.root)
        .bind(&c.signature)
        .bind(&text)
        .bind(i64::from(consistent))
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        if let Some(reason) = alarm {
            crate::db::query(
                "INSERT INTO federation_alarms (member, reason, raised_at) VALUES ($1, $2, $3) ON CONFLICT (member) DO NOTHING",
            )
            .bind(member)
            .bind(reason)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
            crate::catalog::audit(
                &mut tx,
                now,
                &format!("member:{member}"),
                "federation.alarm",
                reason,
            )
            .await?;
        }
        self.commit(tx).await
    }

    /// The alarm raised against a member, if any: its reports are refused while it stands.
    pub async fn federation_alarm(&self, member: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT reason FROM federation_alarms WHERE member = $1")
            .bind(member)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "reason")).transpose()
    }

    /// Replaces the provincial standard item list.
    pub async fn set_standard_items(
        &self,
        items: &[StandardItem],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("DELETE FROM federation_standard_items")
            .execute(&mut *tx)
            .await?;
        for i in items {
            crate::db::query(
                "INSERT INTO federation_standard_items (code, name, legal_basis, legal_limit, unit, promised_limit, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
            )
            .bind(&i.code)
            .bind(&i.name)
            .bind(&i.legal_basis)
            .bind(i.legal_limit)
            .bind(&i.unit)
            .bind(i.promised_limit)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx).await
    }

    pub async fn standard_items(&self) -> Result<Vec<StandardItem>> {
        let rows = crate::db::query(
            "SELECT code, name, legal_basis, legal_limit, unit, promised_limit FROM federation_standard_items ORDER BY code",
        )
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StandardItem {
                    code: get_str(r, "code")?,
                    name: get_str(r, "name")?,
                    legal_basis: get_str(r, "legal_basis")?,
                    legal_limit: get_i64(r, "legal_limit")?,
                    unit: get_str(r, "unit")?,
                    promised_limit: get_i64(r, "promised_limit")?,
                })
            })
            .collect()
    }
}

fn holdings(rows: &[crate::db::Row]) -> Result<Holdings> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut cases = std::collections::BTreeSet::new();
    for r in rows {
        ids.push(get_str(r, "event_id")?);
        cases.insert(get_str(r, "case_no")?);
    }
    Ok(Holdings {
        cases: cases.len() as i64,
        events: ids.len() as i64,
        digest: rules::digest(&ids),
    })
}

/// A 跨域 receipt as one member keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrossCase {
    pub receipt_id: String,
    /// `receiver` (this member's window took it) or `owner` (this member decides).
    pub role: String,
    pub receiver: String,
    pub owner: String,
    pub impl_code: String,
    pub applicant_name: String,
    #[serde(skip)]
    pub id_number: String,
    /// `forwarded`, `received`, `accepted` or `refused`.
    pub status: String,
    pub case_no: String,
    pub reasons: String,
    pub waybill: String,
    pub created_at: String,
}

/// One entry of the timeline both members keep.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CrossStep {
    pub step: i64,
    pub at: String,
    pub member: String,
    pub what: String,
    pub detail: String,
}

/// A new 跨域 receipt.
pub struct NewCross<'a> {
    pub receipt_id: &'a str,
    pub role: &'a str,
    pub receiver: &'a str,
    pub owner: &'a str,
    pub impl_code: &'a str,
    pub applicant_name: &'a str,
    pub id_number: &'a str,
    pub attestation: &'a str,
    pub status: &'a str,
    pub waybill: &'a str,
}

const CROSS_COLS: &str = "receipt_id, role, receiver, owner, impl_code, applicant_name, id_number, status, case_no, reasons, waybill, created_at";

fn cross_from_row(r: &crate::db::Row) -> Result<CrossCase> {
    Ok(CrossCase {
        receipt_id: get_str(r, "receipt_id")?,
        role: get_str(r, "role")?,
        receiver: get_str(r, "receiver")?,
        owner: get_str(r, "owner")?,
        impl_code: get_str(r, "impl_code")?,
        applicant_name: get_str(r, "applicant_name")?,
        id_number: get_str(r, "id_number")?,
        status: get_str(r, "status")?,
        case_no: get_str(r, "case_no")?,
        reasons: get_str(r, "reasons")?,
        waybill: get_str(r, "waybill")?,
        created_at: get_str(r, "created_at")?,
    })
}

async fn add_step(conn: &mut AnyConnection, receipt_id: &str, s: &CrossStep) -> Result<()> {
    crate::db::query(
        "INSERT INTO federation_cross_timeline (receipt_id, step, at, member, what, detail) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (receipt_id, step) DO NOTHING",
    )
    .bind(receipt_id)
    .bind(s.step)
    .bind(&s.at)
    .bind(&s.member)
    .bind(&s.what)
    .bind(&s.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Records a receipt with the first steps of its timeline. False when the receipt is
    /// already held (a retried message): nothing changes.
    pub async fn record_cross(
        &self,
        c: &NewCross<'_>,
        steps: &[CrossStep],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let r = crate::db::query(
            "INSERT INTO federation_cross (receipt_id, role, receiver, owner, impl_code, applicant_name, id_number, attestation, status, case_no, reasons, waybill, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', '', $10, $11) ON CONFLICT (receipt_id) DO NOTHING"
        )
        .bind(c.receipt_id)
        .bind(c.role)
        .bind(c.receiver)
        .bind(c.owner)
        .bind(c.impl_code)
        .bind(c.applicant_name)
        .bind(c.id_number)
        .bind(c.attestation)
        .bind(c.status)
        .bind(c.waybill)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        for s in steps {
            add_step(&mut tx, c.receipt_id, s).await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    /// Settles a receipt (accepted with its case, or refused) and appends the step, if it
    /// is still open; false when it was already settled.
    pub async fn settle_cross(
        &self,
        receipt_id: &str,
        status: &str,
        case_no: &str,
        reasons: &str,
        step: &CrossStep,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let r = crate::db::query(
            "UPDATE federation_cross SET status = $1, case_no = $2, reasons = $3 \
             WHERE receipt_id = $4 AND status IN ('forwarded', 'received')",
        )
        .bind(status)
        .bind(case_no)
        .bind(reasons)
        .bind(receipt_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        add_step(&mut tx, receipt_id, step).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    pub async fn cross_case(&self, receipt_id: &str) -> Result<Option<CrossCase>> {
        let r = crate::db::query(&format!(
            "SELECT {CROSS_COLS} FROM federation_cross WHERE receipt_id = $1"
        ))
        .bind(receipt_id)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(cross_from_row).transpose()
    }

    pub async fn cross_attestation(&self, receipt_id: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT attestation FROM federation_cross WHERE receipt_id = $1")
            .bind(receipt_id)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "attestation")).transpose()
    }

    pub async fn cross_timeline(&self, receipt_id: &str) -> Result<Vec<CrossStep>> {
        let rows = crate::db::query(
            "SELECT step, at, member, what, detail FROM federation_cross_timeline WHERE receipt_id = $1 ORDER BY step",
        )
        .bind(receipt_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CrossStep {
                    step: get_i64(r, "step")?,
                    at: get_str(r, "at")?,
                    member: get_str(r, "member")?,
                    what: get_str(r, "what")?,
                    detail: get_str(r, "detail")?,
                })
            })
            .collect()
    }
}
