//! The audit log: append-only (database triggers refuse UPDATE and DELETE, except the
//! retention purge) and hash-chained like the ledger: each row stores the previous row's
//! hash and `hash = SHA-256(prev_hash || canonical row)`, the canonical row being the JSON
//! array `[at, actor, action, detail]`.

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The bytes a row's hash covers (besides its predecessor's hash).
pub fn canonical(at: &str, actor: &str, action: &str, detail: &str) -> String {
    serde_json::json!([at, actor, action, detail]).to_string()
}

/// `SHA-256(prev_hash || canonical row)`, hex.
pub fn chain_hash(prev_hash: &str, canonical_row: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_row.as_bytes());
    hex::encode(h.finalize())
}

/// Appends a row inside the caller's transaction. The head row is updated first: on
/// PostgreSQL its row lock orders concurrent appends; on SQLite the single writer does.
pub(crate) async fn append(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    let head = crate::db::query("UPDATE audit_head SET hash = hash WHERE id = 1 RETURNING hash")
        .fetch_one(&mut *conn)
        .await?;
    let prev = get_str(&head, "hash")?;
    let at = now_text(now);
    let hash = chain_hash(&prev, &canonical(&at, actor, action, detail));
    crate::db::query(
        "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&at)
    .bind(actor)
    .bind(action)
    .bind(detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    crate::db::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What a verification of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Rows checked.
    pub checked: u64,
    /// Rows written before the chain existed (before migration 0013), not covered.
    pub unchained: u64,
    /// The first row that does not match, with the reason.
    pub first_problem: Option<(i64, String)>,
}

fn entry(r: &crate::db::Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: get_i64(r, "id")?,
        at: get_str(r, "at")?,
        actor: get_str(r, "actor")?,
        action: get_str(r, "action")?,
        detail: get_str(r, "detail")?,
        prev_hash: get_str(r, "prev_hash")?,
        hash: get_str(r, "hash")?,
    })
}

const COLS: &str = "id, at, actor, action, detail, prev_hash, hash";

impl Store {
    /// The newest rows first, at most `limit`.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        crate::db::query(&format!(
            "SELECT {COLS} FROM audit_log ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(entry)
        .collect()
    }

    /// Every row, oldest first (export).
    pub async fn audit_log_all(&self) -> Result<Vec<AuditEntry>> {
        crate::db::query(&format!("SELECT {COLS} FROM audit_log ORDER BY id"))
            .fetch_all(self.r())
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    /// Recomputes the chain. The first chained row's `prev_hash` is taken as the anchor
    /// (older rows may have been purged by retention; the purge itself is an audit row).
    pub async fn verify_audit_log(&self) -> Result<AuditVerification> {
        let rows = self.audit_log_all().await?;
        let head = get_str(
            &crate::db::query("SELECT hash FROM audit_head WHERE id = 1")
                .fetch_one(self.r())
                .await?,
            "hash",
        )?;
        let mut v = AuditVerification {
            checked: 0,
            unchained: 0,
            first_problem: None,
        };
        let mut prev: Option<String> = None;
        for r in &rows {
            if prev.is_none() && r.hash.is_empty() {
                v.unchained += 1;
                continue;
            }
            let expected_prev = prev.clone().unwrap_or_else(|| r.prev_hash.clone());
            v.checked += 1;
            let problem = if r.prev_hash != expected_prev {
                Some("prev_hash does not match the previous row (a row is missing or out of order)")
            } else if chain_hash(
                &r.prev_hash,
                &canonical(&r.at, &r.actor, &r.action, &r.detail),
            ) != r.hash
            {
                Some("hash does not match the row's content (the row was altered)")
            } else {
                None
            };
            if let Some(p) = problem {
                v.first_problem = Some((r.id, p.to_string()));
                return Ok(v);
            }
            prev = Some(r.hash.clone());
        }
        if let Some(last) = prev {
            if last != head {
                v.first_problem = Some((
                    rows.last().map_or(0, |r| r.id),
                    "the newest rows were removed (the chain head is ahead of the log)".into(),
                ));
            }
        }
        Ok(v)
    }

    /// Deletes the rows older than `before` (the retention limit, computed by the caller)
    /// that begin the chain — up to the first row that must be kept, so the chain stays
    /// whole and no row younger than the limit goes — and records the purge in the log.
    /// Returns how many rows went.
    pub async fn purge_audit_log(&self, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        crate::db::query("UPDATE meta SET value = 1 WHERE key = 'audit_purge'")
            .execute(&mut *tx)
            .await?;
        let done = crate::db::query(
            "DELETE FROM audit_log WHERE id < COALESCE(\
               (SELECT MIN(id) FROM audit_log WHERE at >= $1), \
               (SELECT MAX(id) + 1 FROM audit_log))",
        )
        .bind(now_text(before))
        .execute(&mut *tx)
        .await?;
        crate::db::query("UPDATE meta SET value = 0 WHERE key = 'audit_purge'")
            .execute(&mut *tx)
            .await?;
        let n = done.rows_affected();
        if n > 0 {
            append(
                &mut tx,
                now,
                "system",
                "audit.purge",
                &format!("{n} rows older than {}", now_text(before)),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(n)
    }
}
