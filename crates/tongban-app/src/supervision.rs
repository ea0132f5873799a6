//! Electronic supervision's worker: looks at the cases whose next check is due, raises and
//! resolves timer records; the background loop that runs it (and the outbox) every so often.

use crate::error::Error;
use crate::App;
use tongban_core::supervision::{next_check, timer_findings};
use tongban_store::supervision::SupervisionWrite;

/// Looks at every case whose next check is due, raises and resolves timer records.
pub async fn run_once(state: &App) -> Result<(usize, usize), Error> {
    let cal = state.calendar().await?;
    let today = state.today();
    let t = state.thresholds;
    let (mut checked, mut raised) = (0, 0);
    // Cases whose correction deadline has passed: ended as 补正逾期 after the pass.
    let lapsed = std::sync::Mutex::new(Vec::new());
    loop {
        let (n, r) = state
            .store
            .supervise_due(today, 200, state.now(), |rec| {
                if rec.state.status == tongban_core::case::Status::AwaitingCorrection
                    && rec.state.correction_due.is_some_and(|d| today > d)
                {
                    if let Ok(mut l) = lapsed.lock() {
                        l.push(rec.case_no.clone());
                    }
                }
                match timer_findings(&rec.state, today, &cal, &t) {
                    Ok(found) => SupervisionWrite {
                        timer_holding: found.iter().map(|f| (f.rule, f.cause.clone())).collect(),
                        raise: found,
                        next_check_on: next_check(&rec.state, today, &cal, &t)
                            .unwrap_or(today.succ_opt()),
                        keep_open_timers: false,
                    },
                    // Outside the known calendar: keep what is open, look again tomorrow.
                    Err(_) => SupervisionWrite {
                        raise: vec![],
                        timer_holding: vec![],
                        next_check_on: today.succ_opt(),
                        keep_open_timers: true,
                    },
                }
            })
            .await?;
        checked += n;
        raised += r;
        if n < 200 {
            break;
        }
    }
    let lapsed = lapsed.into_inner().unwrap_or_default();
    for case_no in lapsed {
        if let Err(e) = crate::cases::expire_correction(state, &case_no).await {
            tracing::warn!(case_no, error = %e.message, "could not end a lapsed correction");
        }
    }
    Ok((checked, raised))
}

/// Runs the supervision worker every minute until the process ends.
pub fn spawn_worker(state: App) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        let mut purge_tick: u64 = 0;
        loop {
            every.tick().await;
            match run_once(&state).await {
                Ok((checked, raised)) if checked > 0 => {
                    tracing::info!(checked, raised, "supervision pass")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "supervision pass failed"),
            }
            // Housekeeping on the same tick: sessions past their expiry.
            match state.store.purge_expired_sessions(state.now()).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
            if let Err(e) = state.store.purge_login_failures(state.now()).await {
                tracing::warn!(error = %e, "sign-in failure purge failed");
            }
            // The audit log's retention, once an hour is plenty.
            if purge_tick.is_multiple_of(60) {
                match crate::security::purge_audit_log(&state).await {
                    Ok(n) if n > 0 => {
                        tracing::info!(purged = n, "audit rows past retention removed")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.message, "audit purge failed"),
                }
            }
            purge_tick += 1;
            // Uploads no case cited within a day, with their objects.
            match crate::cases::purge_unused_uploads(&state).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "unused uploads removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "upload purge failed"),
            }
        }
    });
}
