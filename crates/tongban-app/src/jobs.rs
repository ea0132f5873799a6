//! The outbox worker. A decision that calls for follow-up work (signing the licence of an
//! approved case) writes a job in its own transaction; the job is run right after the
//! decision and, if that fails or the process dies, by the worker of any node, with
//! backoff, until it is done. Jobs are idempotent: running one twice has the effect of once.

use crate::error::Error;
use crate::App;
use chrono::Duration;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use tongban_store::jobs::{Job, ISSUE_LICENCE};

/// How long a claimed job is held before another worker may take it over.
const LEASE: Duration = Duration::seconds(120);
/// How often the background worker looks for due jobs.
pub const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The wait before attempt `attempts + 1`: 2, 4, 8 … seconds, at most 10 minutes.
pub fn backoff(attempts: i64) -> Duration {
    Duration::seconds(1i64 << attempts.clamp(1, 10)).min(Duration::minutes(10))
}

/// Runs every due job once. Returns how many were done and how many failed (to be retried).
pub async fn run_due(app: &App) -> Result<(usize, usize), Error> {
    let (mut done, mut failed) = (0, 0);
    loop {
        let jobs = app.store.claim_due_jobs(app.now(), LEASE, 50).await?;
        let n = jobs.len();
        for job in jobs {
            if run(app, &job).await? {
                done += 1;
            } else {
                failed += 1;
            }
        }
        if n < 50 {
            return Ok((done, failed));
        }
    }
}

/// Runs a job the deciding request has just written, without claiming it: for the first
/// [`tongban_store::jobs::FIRST_RUN_GRACE`] the workers leave it to this request. True when
/// it is done; on failure it is left to the workers, with backoff.
pub async fn run_now(app: &App, job: &tongban_store::jobs::NewJob) -> Result<bool, Error> {
    match perform(app, job.kind, &job.case_no, &job.key).await {
        Ok(true) => Ok(true),
        Ok(false) => {
            app.store.finish_job_key(&job.key, app.now()).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(job = %job.key, error = %e.message, "job failed; left to the workers");
            app.store
                .retry_job_key(&job.key, app.now() + backoff(1), &e.message)
                .await?;
            Ok(false)
        }
    }
}

/// Does a job's work; true when the work itself marked the job done (in its transaction).
async fn perform(app: &App, kind: &str, case_no: &str, key: &str) -> Result<bool, Error> {
    match kind {
        ISSUE_LICENCE => crate::licences::issue_job(app, case_no, key).await,
        other => Err(Error::internal(format!("unknown job kind {other}"))),
    }
}

async fn run(app: &App, job: &Job) -> Result<bool, Error> {
    match perform(app, &job.kind, &job.case_no, &job.key).await {
        Ok(true) => Ok(true),
        Ok(false) => {
            app.store.finish_job(job.id, app.now()).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(job = %job.key, attempts = job.attempts, error = %e.message, "job failed; will retry");
            app.store
                .retry_job(job.id, app.now() + backoff(job.attempts), &e.message)
                .await?;
            Ok(false)
        }
    }
}

/// Injected failures for the outbox tests. Without the `faults` feature every probe answers
/// "no fault" and the counters are never read.
#[derive(Default)]
pub struct Faults {
    /// Fail this many issuance attempts before anything is signed.
    pub fail_before_issuing: AtomicU32,
    /// Fail this many issuance attempts after the licence is stored, before the job is
    /// marked done (the retry must find the licence, not sign a second one).
    pub fail_after_issuing: AtomicU32,
    /// Skip the run right after the decision, as if the process died between the two.
    pub stop_after_decision: AtomicBool,
}

impl Faults {
    fn take(counter: &AtomicU32) -> bool {
        cfg!(feature = "faults")
            && counter
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
    }
    pub(crate) fn before_issuing(&self) -> Result<(), Error> {
        if Self::take(&self.fail_before_issuing) {
            return Err(Error::internal("injected fault before issuing"));
        }
        Ok(())
    }
    pub(crate) fn after_issuing(&self) -> Result<(), Error> {
        if Self::take(&self.fail_after_issuing) {
            return Err(Error::internal("injected fault after issuing"));
        }
        Ok(())
    }
    pub(crate) fn stops_after_decision(&self) -> bool {
        cfg!(feature = "faults") && self.stop_after_decision.load(Ordering::SeqCst)
    }
}

/// Runs the outbox every few seconds until the process ends; at start it picks up whatever
/// an earlier process left undone.
pub fn spawn_worker(app: App) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        loop {
            every.tick().await;
            match run_due(&app).await {
                Ok((done, failed)) if done + failed > 0 => {
                    tracing::info!(done, failed, "outbox pass")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "outbox pass failed"),
            }
        }
    });
}
