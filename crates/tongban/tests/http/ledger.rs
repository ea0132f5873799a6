//! The ledger no one can quietly rewrite: signed checkpoints, proofs checked by an
//! independent verifier, and `verify` catching edits, deletions and reordering.

use super::App;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tongban_store::ledger::LedgerProblem;

/// Makes a few cases so the ledger has some dozens of events.
async fn busy_ledger(app: &App, cases: usize) {
    let clerk = app.token("clerk").await;
    let items = app.db().store.all_items().await.unwrap();
    let immediate = items
        .iter()
        .find(|i| {
            i.item.kind == tongban_core::catalog::CaseKind::Immediate
                && i.item.item_type.is_application()
        })
        .unwrap();
    for n in 0..cases {
        let id = tongban_core::ids::ResidentId::with_check_char(&format!(
            "431302199001{:02}{:03}",
            n % 28 + 1,
            n
        ))
        .unwrap();
        let r: Value = Client::new()
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&clerk)
            .json(&json!({ "item": immediate.item.impl_code, "materials": super::received_on_paper(immediate), "applicant": { "kind": "person", "id_number": id.as_str(), "name": format!("申请人{n}") } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let no = r["case_no"].as_str().unwrap();
        let r = Client::new()
            .post(app.url(&format!("/api/v1/cases/{no}/commands")))
            .bearer_auth(&clerk)
            .json(&json!({ "expected_version": 1, "action": "accept" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

async fn get(app: &App, path: &str) -> Value {
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn proofs_verify_with_an_independent_implementation(app: App) {
    busy_ledger(&app, 7).await;
    let first = get(&app, "/api/v1/ledger/checkpoint").await;
    let first_size = first["size"].as_u64().unwrap();
    assert_eq!(first_size, 21);
    busy_ledger(&app, 4).await;
    let cp = get(&app, "/api/v1/ledger/checkpoint").await;
    let size = cp["size"].as_u64().unwrap();
    assert_eq!(size, 33);
    // The checkpoint's signature verifies with the published key.
    let keys = get(&app, "/api/v1/ledger/keys").await;
    let public = keys["keys"][0]["public_key"].as_str().unwrap();
    let c: tongban_store::ledger::Checkpoint = serde_json::from_value(cp.clone()).unwrap();
    assert!(tongban_store::ledger::verify_checkpoint_signature(
        &c, public
    ));
    let mut forged = c.clone();
    forged.size -= 1;
    assert!(!tongban_store::ledger::verify_checkpoint_signature(
        &forged, public
    ));

    // The leaf bytes are for auditors: anonymous callers and applicants are refused.
    let path = format!("/api/v1/ledger/entries?start=0&end={size}");
    assert_eq!(
        reqwest::get(app.url(&path)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let zs = app.token("zhangsan").await;
    assert_eq!(
        Client::new()
            .get(app.url(&path))
            .bearer_auth(&zs)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let auditor = app.token("auditor").await;
    let r = Client::new()
        .get(app.url(&path))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let leaves = r.json::<Value>().await.unwrap()["entries"].clone();
    let mut inclusion = vec![];
    let mut consistency = vec![];
    for s in 1..=size {
        for i in [0, s / 2, s - 1] {
            inclusion.push(
                get(
                    &app,
                    &format!("/api/v1/ledger/proof/inclusion?index={i}&size={s}"),
                )
                .await,
            );
        }
        consistency.push(
            get(
                &app,
                &format!("/api/v1/ledger/proof/consistency?from={s}&to={size}"),
            )
            .await,
        );
        consistency.push(
            get(
                &app,
                &format!(
                    "/api/v1/ledger/proof/consistency?from={}&to={s}",
                    s.div_ceil(2)
                ),
            )
            .await,
        );
    }
    let input = json!({ "checkpoint": cp, "leaves": leaves, "inclusion": inclusion, "consistency": consistency });
    let mut child = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/http/verify_rfc6962.py"
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.starts_with("OK"),
        "independent verifier: {text}"
    );
    // Bad requests are refused clearly.
    for bad in [
        "/api/v1/ledger/proof/inclusion?index=40&size=33",
        "/api/v1/ledger/proof/consistency?from=0&to=3",
        "/api/v1/ledger/entries?start=5&end=2",
    ] {
        let r = Client::new()
            .get(app.url(bad))
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert!(app
        .db()
        .store
        .verify_ledger()
        .await
        .unwrap()
        .problem
        .is_none());
    app.stop().await;
}

on_each_backend!(proofs_verify_with_an_independent_implementation);

async fn sql(app: &App, statement: &str) {
    use tongban_store::sqlx::Connection;
    tongban_store::sqlx::any::install_default_drivers();
    let url = &app.db().url;
    let url = if url.starts_with("sqlite://") {
        format!("{url}?mode=rw")
    } else {
        url.clone()
    };
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&url)
        .await
        .unwrap();
    tongban_store::sqlx::query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn ledger_verify_catches_edits_deletions_and_reordering(app: App) {
    busy_ledger(&app, 5).await;
    app.db().store.checkpoint(chrono::Utc::now()).await.unwrap();
    let store = &app.db().store;
    assert_eq!(store.verify_ledger().await.unwrap().problem, None);

    // 1. An event edited in the database: the reason of an acceptance changed.
    sql(&app, "UPDATE ledger_events SET entry = REPLACE(entry, '即办件当场办结', '不予批准') WHERE seq = 6").await;
    assert_eq!(
        store.verify_ledger().await.unwrap().problem,
        Some(LedgerProblem::Altered { seq: 6 })
    );
    // A forger who also recomputes every chain hash after it is still caught: the
    // signed checkpoint no longer matches.
    rechain(&app).await;
    assert_eq!(
        store.verify_ledger().await.unwrap().problem,
        Some(LedgerProblem::CheckpointMismatch {
            size: 15,
            first_suspect: 1
        })
    );
    app.stop().await;
}

on_each_backend!(ledger_verify_catches_edits_deletions_and_reordering);

/// Recomputes the whole hash chain from the stored bytes, as a forger with database access would.
async fn rechain(app: &App) {
    use tongban_store::sqlx::{Connection, Row};
    let url = &app.db().url;
    let url = if url.starts_with("sqlite://") {
        format!("{url}?mode=rw")
    } else {
        url.clone()
    };
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&url)
        .await
        .unwrap();
    let rows = tongban_store::sqlx::query("SELECT seq, entry FROM ledger_events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut prev = "0".repeat(64);
    for r in rows {
        let seq: i64 = r.get("seq");
        let entry: String = r.get("entry");
        let hash = tongban_store::cases::chain_hash(&prev, &entry);
        tongban_store::sqlx::query(
            "UPDATE ledger_events SET prev_hash = $1, hash = $2 WHERE seq = $3",
        )
        .bind(&prev)
        .bind(&hash)
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
        prev = hash;
    }
    conn.close().await.unwrap();
}

async fn ledger_verify_names_deleted_events(app: App) {
    busy_ledger(&app, 5).await;
    app.db().store.checkpoint(chrono::Utc::now()).await.unwrap();
    let store = &app.db().store;
    // 2. A deleted event.
    sql(&app, "DELETE FROM ledger_events WHERE seq = 9").await;
    assert_eq!(
        store.verify_ledger().await.unwrap().problem,
        Some(LedgerProblem::Missing { seq: 9 })
    );
    app.stop().await;
}

on_each_backend!(ledger_verify_names_deleted_events);

async fn ledger_verify_names_reordered_events(app: App) {
    busy_ledger(&app, 5).await;
    app.db().store.checkpoint(chrono::Utc::now()).await.unwrap();
    // 3. A reordered pair: the bytes of events 4 and 5 swapped.
    sql(&app, "UPDATE ledger_events SET seq = -4 WHERE seq = 4").await;
    sql(&app, "UPDATE ledger_events SET seq = 4 WHERE seq = 5").await;
    sql(&app, "UPDATE ledger_events SET seq = 5 WHERE seq = -4").await;
    assert_eq!(
        app.db().store.verify_ledger().await.unwrap().problem,
        Some(LedgerProblem::OutOfOrder { seq: 4 })
    );
    app.stop().await;
}

on_each_backend!(ledger_verify_names_reordered_events);

/// Issue #13 (3): proofs come from the stored subtree hashes, equal the leaf-based
/// computation for every size and index, do not read the leaves (they survive the leaf
/// table being overwritten), are back-filled for a ledger that has none, and the public
/// endpoints are rate-limited per client.
async fn proofs_come_from_stored_subtrees_not_leaves(app: App) {
    use tongban_core::merkle;
    busy_ledger(&app, 6).await;
    let store = &app.db().store;
    let size = store.ledger_size().await.unwrap();
    assert!(size >= 18, "{size}");
    let leaves = store.leaf_hashes(size).await.unwrap();
    let hex = |v: &[merkle::Hash]| v.iter().map(hex::encode).collect::<Vec<_>>();
    let mut expected = vec![];
    for n in 1..=size as usize {
        let d = &leaves[..n];
        for m in 0..n {
            let p = store.inclusion_proof(m as u64, n as u64).await.unwrap();
            assert_eq!(p.path, hex(&merkle::inclusion_proof(m, d).unwrap()));
            assert_eq!(p.root, hex::encode(merkle::root(d)));
            assert_eq!(p.leaf_hash, hex::encode(d[m]));
            let c = store
                .consistency_proof(m as u64 + 1, n as u64)
                .await
                .unwrap();
            assert_eq!(c.proof, hex(&merkle::consistency_proof(m + 1, d).unwrap()));
            assert_eq!(c.first_root, hex::encode(merkle::root(&d[..=m])));
            expected.push((p, c));
        }
    }
    // A fresh handle (empty cache) over a leaf table whose bytes are all overwritten:
    // the proofs are unchanged, so they were never computed from the leaves.
    sql(&app, "UPDATE ledger_events SET entry = 'overwritten'").await;
    let fresh = tongban_store::Store::open(&app.db().url).await.unwrap();
    let mut k = 0;
    for n in 1..=size {
        for m in 0..n {
            assert_eq!(fresh.inclusion_proof(m, n).await.unwrap(), expected[k].0);
            assert_eq!(
                fresh.consistency_proof(m + 1, n).await.unwrap(),
                expected[k].1
            );
            k += 1;
        }
    }
    fresh.close().await;
    app.stop().await;
}

on_each_backend!(proofs_come_from_stored_subtrees_not_leaves);

async fn subtree_hashes_are_back_filled_for_an_older_ledger(app: App) {
    busy_ledger(&app, 5).await;
    let store = &app.db().store;
    let size = store.ledger_size().await.unwrap();
    let before = store.inclusion_proof(3, size).await.unwrap();
    let before_c = store.consistency_proof(7, size).await.unwrap();
    // As a ledger written before migration 0013: no subtree hashes at all.
    sql(&app, "DELETE FROM ledger_nodes").await;
    let fresh = tongban_store::Store::open(&app.db().url).await.unwrap();
    assert_eq!(
        fresh.backfill_ledger_nodes().await.unwrap(),
        0,
        "done at open"
    );
    sql(&app, "UPDATE ledger_events SET entry = 'overwritten'").await;
    assert_eq!(fresh.inclusion_proof(3, size).await.unwrap(), before);
    assert_eq!(fresh.consistency_proof(7, size).await.unwrap(), before_c);
    fresh.close().await;
    app.stop().await;
}

on_each_backend!(subtree_hashes_are_back_filled_for_an_older_ledger);

async fn public_ledger_endpoints_are_rate_limited_per_client(app: App) {
    busy_ledger(&app, 1).await;
    app.state.ledger_limit.set(5, 1);
    for _ in 0..5 {
        let r = reqwest::get(app.url("/api/v1/ledger/proof/inclusion?index=0&size=1"))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = reqwest::get(app.url("/api/v1/ledger/checkpoint"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    // Other endpoints are not affected.
    let r = reqwest::get(app.url("/items")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

on_each_backend!(public_ledger_endpoints_are_rate_limited_per_client);
