//! The licence of an approved case is issued by an outbox job written with the decision:
//! failures injected between the decision and the issuance, and inside the issuance, end
//! with exactly one licence per approved case once the fault is gone, with no command from
//! anyone — on SQLite and on PostgreSQL, each its own test.

use super::licences::approved;
use super::{get, App};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tongban_store::testing::TestDb;

/// Licences stored for a case (the unique index allows one; this counts them anyway).
async fn licences_of_case(app: &App, case_no: &str) -> usize {
    app.db()
        .store
        .all_licences()
        .await
        .unwrap()
        .iter()
        .filter(|l| l.case_no == case_no)
        .count()
}

/// Waits (on the real clock) until the background worker has issued the case's licence.
async fn eventually_issued(app: &App, case_no: &str) {
    for _ in 0..60 {
        if licences_of_case(app, case_no).await == 1
            && !tongban_app::cases::licence_pending(&app.state, case_no)
                .await
                .unwrap()
        {
            return;
        }
        // Retries wait for their backoff on the application's clock: move it along.
        app.clock.advance(chrono::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the licence of {case_no} was never issued");
}

async fn faults_end_with_exactly_one_licence(app: App) {
    let faults = app.state.faults.clone();
    let ent = app.token("enterprise").await;
    tongban_app::jobs::spawn_worker((*app.state.app).clone());

    // 1. The process "dies" between the decision and the issuance: the approval is stored
    //    with its job, the answer says the licence is being signed, and the worker issues it.
    faults.stop_after_decision.store(true, Ordering::SeqCst);
    let case = approved(&app, "食品经营许可证核发", None).await;
    faults.stop_after_decision.store(false, Ordering::SeqCst);
    let no = case["case_no"].as_str().unwrap().to_string();
    assert_eq!(case["status"], "completed", "{case}");
    if licences_of_case(&app, &no).await == 0 {
        assert_eq!(case["licence_pending"], true, "{case}");
        assert_eq!(case["licence_status"], "证照签发中", "{case}");
    }
    eventually_issued(&app, &no).await;
    let (_, after) = get(&app, &ent, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(after["licence_pending"], false, "{after}");

    // 2. Issuance fails twice before signing: retried with backoff until it succeeds.
    faults.fail_before_issuing.store(2, Ordering::SeqCst);
    let case = approved(&app, "食品经营许可证核发", None).await;
    let no = case["case_no"].as_str().unwrap().to_string();
    assert_eq!(licences_of_case(&app, &no).await, 0, "nothing signed yet");
    assert_eq!(case["licence_pending"], true, "{case}");
    eventually_issued(&app, &no).await;
    assert_eq!(faults.fail_before_issuing.load(Ordering::SeqCst), 0);

    // 3. Issuance fails after the licence is stored, before the job is marked done: the
    //    retry finds the licence and signs no second one.
    faults.fail_after_issuing.store(1, Ordering::SeqCst);
    let case = approved(&app, "食品经营许可证核发", None).await;
    let no = case["case_no"].as_str().unwrap().to_string();
    assert_eq!(licences_of_case(&app, &no).await, 1);
    eventually_issued(&app, &no).await;
    assert_eq!(licences_of_case(&app, &no).await, 1, "exactly one licence");
    assert_eq!(app.db().store.pending_jobs().await.unwrap(), 0);

    // No case was left approved without its licence; the repair command finds nothing.
    assert!(app
        .db()
        .store
        .cases_missing_licences()
        .await
        .unwrap()
        .is_empty());
    app.stop().await;
}

#[tokio::test]
async fn licence_outbox_survives_faults_sqlite() {
    faults_end_with_exactly_one_licence(App::start(TestDb::sqlite().await).await).await;
}

#[tokio::test]
async fn licence_outbox_survives_faults_postgres() {
    match TestDb::postgres().await {
        Some(db) => faults_end_with_exactly_one_licence(App::start(db).await).await,
        None => eprintln!("PostgreSQL not reachable; skipped"),
    }
}
