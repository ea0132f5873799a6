//! The outbox: follow-up jobs written in the transaction of the decision that calls for them
//! (so a decision is never stored without its follow-up), claimed by workers on any node
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and retried with backoff until done.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};

/// A new job is left to the request that made the decision for this long: that request runs
/// it at once, and the workers take it over only if it did not (failure, or a process that
/// died). So the answer to an approval normally carries the licence already.
pub const FIRST_RUN_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// Sign and store the licence of an approved case.
pub const ISSUE_LICENCE: &str = "issue_licence";

/// A job to enqueue with a decision. The key makes enqueueing idempotent: a job with the
/// same key is never written twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: &'static str,
    pub key: String,
    pub case_no: String,
}

impl NewJob {
    /// The licence of one decision: at most one per case.
    pub fn issue_licence(case_no: &str) -> NewJob {
        NewJob {
            kind: ISSUE_LICENCE,
            key: format!("{ISSUE_LICENCE}:{case_no}"),
            case_no: case_no.to_string(),
        }
    }
}

/// A job claimed by a worker: nobody else runs it until its lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub key: String,
    pub case_no: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A job not yet done, as shown to people (the case page's 证照签发中).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingJob {
    pub kind: String,
    pub attempts: i64,
    pub run_after: String,
    pub last_error: String,
}

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<()> {
    for j in jobs {
        crate::db::query(
            "INSERT INTO jobs (kind, job_key, case_no, attempts, run_after, created_at) VALUES ($1, $2, $3, 0, $4, $5) \
             ON CONFLICT (job_key) DO NOTHING",
        )
        .bind(j.kind)
        .bind(&j.key)
        .bind(&j.case_no)
        .bind(now_text(now + FIRST_RUN_GRACE))
        .bind(now_text(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Marks a job done inside the transaction that did its work.
pub(crate) async fn mark_done(
    conn: &mut AnyConnection,
    key: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::db::query("UPDATE jobs SET done_at = $1, last_error = '' WHERE job_key = $2")
        .bind(now_text(now))
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn job_from_row(r: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: get_i64(r, "id")?,
        kind: get_str(r, "kind")?,
        key: get_str(r, "job_key")?,
        case_no: get_str(r, "case_no")?,
        attempts: get_i64(r, "attempts")?,
    })
}

impl Store {
    /// Claims up to `limit` due jobs: each gets a lease until `now + lease` (a worker that
    /// dies mid-job leaves it to be claimed again when the lease ends) and one more attempt.
    pub async fn claim_due_jobs(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<Job>> {
        // Most polls find nothing: look on a reader first, so an idle node opens no write
        // transaction (and on SQLite syncs nothing).
        let due = crate::db::query(
            "SELECT id FROM jobs WHERE done_at IS NULL AND run_after <= $1 LIMIT 1",
        )
        .bind(now_text(now))
        .fetch_optional(self.r())
        .await?;
        if due.is_none() {
            return Ok(vec![]);
        }
        let lock = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT id, kind, job_key, case_no, attempts FROM jobs WHERE done_at IS NULL AND run_after <= $1 \
             ORDER BY run_after, id LIMIT $2{lock}"
        );
        let rows = crate::db::query(&sql)
            .bind(now_text(now))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut job = job_from_row(r)?;
            job.attempts += 1;
            crate::db::query("UPDATE jobs SET attempts = $1, run_after = $2 WHERE id = $3")
                .bind(job.attempts)
                .bind(now_text(now + lease))
                .bind(job.id)
                .execute(&mut *tx)
                .await?;
            jobs.push(job);
        }
        self.commit(tx).await?;
        Ok(jobs)
    }

    /// Marks a claimed job done.
    pub async fn finish_job(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("UPDATE jobs SET done_at = $1, last_error = '' WHERE id = $2")
            .bind(now_text(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// Marks a job done by its key (work that had nothing to store).
    pub async fn finish_job_key(&self, key: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        mark_done(&mut tx, key, now).await?;
        self.commit(tx).await
    }

    /// Records a failed first run by the deciding request: one attempt, again at `retry_at`.
    pub async fn retry_job_key(
        &self,
        key: &str,
        retry_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "UPDATE jobs SET attempts = attempts + 1, run_after = $1, last_error = $2 WHERE job_key = $3 AND done_at IS NULL",
        )
        .bind(now_text(retry_at))
        .bind(error)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// Records a failed attempt; the job runs again at `retry_at`.
    pub async fn retry_job(&self, id: i64, retry_at: DateTime<Utc>, error: &str) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        let mut tx = self.begin_write().await?;
        crate::db::query("UPDATE jobs SET run_after = $1, last_error = $2 WHERE id = $3")
            .bind(now_text(retry_at))
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// The case's jobs of `kind` that are not done yet.
    pub async fn pending_job(&self, kind: &str, case_no: &str) -> Result<Option<PendingJob>> {
        let row = crate::db::query(
            "SELECT kind, attempts, run_after, last_error FROM jobs WHERE case_no = $1 AND kind = $2 AND done_at IS NULL",
        )
        .bind(case_no)
        .bind(kind)
        .fetch_optional(self.r())
        .await?;
        row.map(|r| {
            Ok(PendingJob {
                kind: get_str(&r, "kind")?,
                attempts: get_i64(&r, "attempts")?,
                run_after: get_str(&r, "run_after")?,
                last_error: get_str(&r, "last_error")?,
            })
        })
        .transpose()
    }

    /// How many jobs are not done (for /metrics and the tests).
    pub async fn pending_jobs(&self) -> Result<i64> {
        let r = crate::db::query("SELECT COUNT(*) AS n FROM jobs WHERE done_at IS NULL")
            .fetch_one(self.r())
            .await?;
        get_i64(&r, "n")
    }
}
