//! Issue 20: the partitioned ledger (ADR 0010). Each case's events in the partition chosen
//! from its id, each partition its own gapless chain and Merkle tree, one signed checkpoint
//! over every partition head, proofs per partition and for the whole, `ledger verify`
//! naming the partition of a tampered row, and two `tongban serve` nodes on one
//! PostgreSQL database appending concurrently.

use super::App;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tongban_core::merkle;
use tongban_store::ledger::{self, Checkpoint, LedgerProblem};

/// Runs a test on SQLite and PostgreSQL with a ledger of `$parts` partitions.
macro_rules! on_each_backend_partitioned {
    ($name:ident, $parts:expr) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(
                    crate::App::start(
                        tongban_store::testing::TestDb::sqlite_partitioned($parts).await,
                    )
                    .await,
                )
                .await
            }

            #[tokio::test]
            async fn postgres() {
                match tongban_store::testing::TestDb::postgres_partitioned($parts).await {
                    Some(db) => super::$name(crate::App::start(db).await).await,
                    None => eprintln!("PostgreSQL not reachable; skipped"),
                }
            }
        }
    };
}

/// An immediate (即办) application item of the demo catalog.
async fn immediate(app: &App) -> tongban_store::catalog::StoredItem {
    let items = app.db().store.all_items().await.unwrap();
    items
        .into_iter()
        .find(|i| {
            i.item.kind == tongban_core::catalog::CaseKind::Immediate
                && i.item.item_type.is_application()
        })
        .unwrap()
}

/// Submits and accepts `n` immediate cases through `base` (numbered from `from`, so
/// applicants differ); returns their 办件编号.
async fn submit(
    base: &str,
    token: &str,
    immediate: &tongban_store::catalog::StoredItem,
    from: usize,
    n: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for k in from..from + n {
        let id = tongban_core::ids::ResidentId::with_check_char(&format!(
            "431302199002{:02}{:03}",
            k % 28 + 1,
            k
        ))
        .unwrap();
        let r = Client::new()
            .post(format!("{base}/api/v1/cases"))
            .bearer_auth(token)
            .json(&json!({ "item": immediate.item.impl_code, "materials": super::received_on_paper(immediate), "applicant": { "kind": "person", "id_number": id.as_str(), "name": format!("申请人{k}") } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "submit {k}");
        let r: Value = r.json().await.unwrap();
        let no = r["case_no"].as_str().unwrap().to_string();
        let r = Client::new()
            .post(format!("{base}/api/v1/cases/{no}/commands"))
            .bearer_auth(token)
            .json(&json!({ "expected_version": 1, "action": "accept" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "accept {no}");
        out.push(no);
    }
    out
}

async fn cases(app: &App, base: &str, token: &str, from: usize, n: usize) -> Vec<String> {
    submit(base, token, &immediate(app).await, from, n).await
}

async fn conn(app: &App) -> tongban_store::sqlx::AnyConnection {
    use tongban_store::sqlx::Connection;
    tongban_store::sqlx::any::install_default_drivers();
    let url = &app.db().url;
    let url = if url.starts_with("sqlite://") {
        format!("{url}?mode=rw")
    } else {
        url.clone()
    };
    tongban_store::sqlx::AnyConnection::connect(&url)
        .await
        .unwrap()
}

async fn sql(app: &App, statement: &str) {
    use tongban_store::sqlx::Connection;
    let mut c = conn(app).await;
    tongban_store::sqlx::query(statement)
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
}

/// (part, seq, case_id, entry) of every ledger row.
async fn rows(app: &App) -> Vec<(i64, i64, i64, String)> {
    use tongban_store::sqlx::{Connection, Row};
    let mut c = conn(app).await;
    let rows = tongban_store::sqlx::query(
        "SELECT part, seq, case_id, entry FROM ledger_events ORDER BY part, seq",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("part"),
                r.get("seq"),
                r.get("case_id"),
                r.get("entry"),
            )
        })
        .collect()
}

async fn get(app: &App, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut r = Client::new().get(app.url(path));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

fn h(s: &str) -> merkle::Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// Every partition's chain is gapless and in its case's partition; one checkpoint signs
/// the tree over the partition heads; entries, inclusion and consistency proofs work per
/// partition and for the whole.
async fn partitioned_ledger_chains_checkpoints_and_proofs(app: App) {
    let store = &app.db().store;
    assert_eq!(store.ledger_partitions(), 4);
    let clerk = app.token("clerk").await;
    cases(&app, &app.url(""), &clerk, 0, 10).await;
    // Every case's events are in the partition its id chooses, each partition gapless.
    let all = rows(&app).await;
    assert_eq!(all.len(), 30);
    let mut next = [1i64; 4];
    for (part, seq, case_id, entry) in &all {
        assert_eq!(*part as u32, store.ledger_partition_of(*case_id));
        assert_eq!(*seq, next[*part as usize], "gapless in partition {part}");
        next[*part as usize] += 1;
        let v: Value = serde_json::from_str(entry).unwrap();
        assert_eq!(
            (v["part"].as_i64(), v["seq"].as_i64()),
            (Some(*part), Some(*seq))
        );
    }
    assert!(
        next.iter().filter(|n| **n > 1).count() >= 2,
        "ten cases use more than one partition: {next:?}"
    );
    assert_eq!(store.verify_chains().await.unwrap(), None);
    let report = store.verify_ledger().await.unwrap();
    assert_eq!(report.problem, None);
    assert_eq!((report.size, report.partitions.len()), (30, 4));

    // One checkpoint over every partition head, verifiable with the published key.
    let (s, first) = get(&app, "/api/v1/ledger/checkpoint", None).await;
    assert_eq!(s, StatusCode::OK);
    let first: Checkpoint = serde_json::from_value(first).unwrap();
    assert_eq!(first.origin, ledger::ORIGIN_PARTITIONED);
    assert_eq!(first.size, 30);
    assert_eq!(first.partitions.len(), 4);
    assert_eq!(first.root, report.root, "verify recomputes the signed root");
    let (_, keys) = get(&app, "/api/v1/ledger/keys", None).await;
    let public = keys["keys"][0]["public_key"].as_str().unwrap().to_string();
    assert!(ledger::verify_checkpoint_signature(&first, &public));
    let mut forged = first.clone();
    forged.partitions[1].size += 1;
    forged.partitions[2].size -= 1;
    assert!(
        !ledger::verify_checkpoint_signature(&forged, &public),
        "the heads must give the signed root"
    );
    // The store's latest checkpoint is the combined one.
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some(first.clone())
    );

    // Entries and inclusion proofs per partition: each partition's leaves give its root in
    // the checkpoint, each leaf is proven in it.
    let auditor = app.token("auditor").await;
    let (s, _) = get(&app, "/api/v1/ledger/entries?start=0&end=1", Some(&auditor)).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "several partitions: name one"
    );
    let (s, _) = get(
        &app,
        "/api/v1/ledger/entries?start=0&end=1&partition=4",
        Some(&auditor),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no partition 4");
    for head in first.partitions.iter().filter(|p| p.size > 0) {
        let (k, n) = (head.partition, head.size);
        let (s, e) = get(
            &app,
            &format!("/api/v1/ledger/entries?start=0&end={n}&partition={k}"),
            Some(&auditor),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let leaves: Vec<merkle::Hash> = e["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| merkle::leaf_hash(l["leaf"].as_str().unwrap().as_bytes()))
            .collect();
        assert_eq!(hex::encode(merkle::root(&leaves)), head.root);
        for i in 0..n {
            let (s, p) = get(
                &app,
                &format!("/api/v1/ledger/proof/inclusion?index={i}&size={n}&partition={k}"),
                None,
            )
            .await;
            assert_eq!(s, StatusCode::OK);
            let path: Vec<merkle::Hash> = p["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| h(x.as_str().unwrap()))
                .collect();
            assert!(merkle::verify_inclusion(
                &leaves[i as usize],
                i,
                n,
                &path,
                &h(&head.root)
            ));
        }
    }
    let (s, _) = get(&app, "/api/v1/ledger/proof/inclusion?index=0&size=1", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The whole ledger grew consistently: between two signed checkpoints, one proof per
    // partition, checked against both combined roots.
    cases(&app, &app.url(""), &clerk, 10, 6).await;
    let (_, second) = get(&app, "/api/v1/ledger/checkpoint", None).await;
    let second: Checkpoint = serde_json::from_value(second).unwrap();
    assert_eq!(second.size, 48);
    let (s, c) = get(&app, "/api/v1/ledger/proof/consistency?from=30&to=48", None).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let proof: ledger::ConsistencyProof = serde_json::from_value(c).unwrap();
    assert_eq!(
        (proof.first_root.as_str(), proof.second_root.as_str()),
        (first.root.as_str(), second.root.as_str())
    );
    assert!(ledger::verify_consistency_proof(&proof));
    assert_eq!(store.consistency_proof(30, 48).await.unwrap(), proof);
    let mut bad = proof.clone();
    let grown = bad
        .partitions
        .iter()
        .position(|p| p.from > 0 && p.from < p.to)
        .expect("a partition grew from non-empty");
    bad.partitions[grown].second_root = bad.partitions[grown].first_root.clone();
    assert!(!ledger::verify_consistency_proof(&bad));
    // Per partition, between any sizes.
    let q = &proof.partitions[grown];
    let (s, c) = get(
        &app,
        &format!(
            "/api/v1/ledger/proof/consistency?from=1&to={}&partition={}",
            q.to, q.partition
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let p: ledger::ConsistencyProof = serde_json::from_value(c).unwrap();
    assert!(ledger::verify_consistency_proof(&p));
    assert_eq!(p.second_root, q.second_root);
    // The whole ledger's proof needs two signed checkpoints.
    let (s, _) = get(&app, "/api/v1/ledger/proof/consistency?from=31&to=48", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = get(&app, "/api/v1/ledger/proof/consistency?from=30&to=49", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = get(
        &app,
        "/api/v1/ledger/proof/consistency?from=1&to=2&partition=7",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Everything still verifies, both checkpoints included; the figures projection, which
    // reads the ledger with a cursor per partition, rebuilds to the same figures.
    let report = store.verify_ledger().await.unwrap();
    assert_eq!((report.problem, report.checkpoints_checked), (None, 2));
    let rebuilt = store.rebuild_case_figures(true).await.unwrap();
    assert_eq!(rebuilt.events, 48);
    app.stop().await;
}

on_each_backend_partitioned!(partitioned_ledger_chains_checkpoints_and_proofs, 4);

/// Recomputes the hash chain of partition `part` from the stored bytes, as a forger with
/// database access would.
async fn rechain(app: &App, part: i64) {
    use tongban_store::sqlx::Connection;
    let mut c = conn(app).await;
    let mut prev = "0".repeat(64);
    for (p, seq, _, entry) in rows(app).await {
        if p != part {
            continue;
        }
        let hash = tongban_store::cases::chain_hash(&prev, &entry);
        tongban_store::sqlx::query(
            "UPDATE ledger_events SET prev_hash = $1, hash = $2 WHERE part = $3 AND seq = $4",
        )
        .bind(&prev)
        .bind(&hash)
        .bind(part)
        .bind(seq)
        .execute(&mut c)
        .await
        .unwrap();
        prev = hash;
    }
    c.close().await.unwrap();
}

fn cli_verify(app: &App, data: &std::path::Path, partition: Option<u32>) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"));
    cmd.args([
        "ledger",
        "verify",
        "--database-url",
        &app.db().url,
        "--data-dir",
    ])
    .arg(data)
    .current_dir(data)
    .env_remove("TONGBAN_CONFIG");
    if let Some(k) = partition {
        cmd.args(["--partition", &k.to_string()]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A row edited in partition k: `ledger verify` (store and CLI) names partition k and the
/// event; the other partitions verify; a forger who re-chains partition k is caught by the
/// signed checkpoint's head of partition k.
async fn ledger_verify_names_the_partition_of_a_tampered_row(app: App) {
    let clerk = app.token("clerk").await;
    cases(&app, &app.url(""), &clerk, 0, 8).await;
    let store = &app.db().store;
    store.checkpoint(chrono::Utc::now()).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let (ok, text) = cli_verify(&app, data.path(), None);
    assert!(ok && text.contains("in 4 partitions"), "{text}");
    // The partition with the most events; its second event edited in place.
    let all = rows(&app).await;
    let k = (0..4i64)
        .max_by_key(|p| all.iter().filter(|r| r.0 == *p).count())
        .unwrap();
    let other = (k + 1) % 4;
    sql(
        &app,
        &format!("UPDATE ledger_events SET entry = REPLACE(entry, '\"seq\":2', '\"seq\":2 ') WHERE part = {k} AND seq = 2"),
    )
    .await;
    let r = store.verify_ledger().await.unwrap();
    assert_eq!(
        (r.problem, r.problem_partition),
        (Some(LedgerProblem::Altered { seq: 2 }), Some(k as u32))
    );
    assert_eq!(store.verify_chains().await.unwrap(), Some((k as u32, 2)));
    let p = store
        .verify_ledger_partition(other as u32, &[])
        .await
        .unwrap();
    assert_eq!(p.problem, None, "partition {other} is intact");
    let (ok, text) = cli_verify(&app, data.path(), None);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("partition {k}: event 2 was altered")),
        "{text}"
    );
    let (ok, text) = cli_verify(&app, data.path(), Some(other as u32));
    assert!(
        ok && text.contains(&format!("(partition {other})")),
        "{text}"
    );
    let (ok, text) = cli_verify(&app, data.path(), Some(9));
    assert!(!ok && text.contains("没有分区 9"), "{text}");
    // Re-chained: the chain holds, the signed head of partition k does not.
    rechain(&app, k).await;
    let r = store.verify_ledger().await.unwrap();
    assert!(
        matches!(
            r.problem,
            Some(LedgerProblem::CheckpointMismatch {
                first_suspect: 1,
                ..
            })
        ) && r.problem_partition == Some(k as u32),
        "{r:?}"
    );
    // A deleted row in partition k is named too.
    sql(
        &app,
        &format!("DELETE FROM ledger_events WHERE part = {k} AND seq = 1"),
    )
    .await;
    let r = store.verify_ledger_partition(k as u32, &[]).await.unwrap();
    assert_eq!(r.problem, Some(LedgerProblem::Missing { seq: 1 }));
    app.stop().await;
}

on_each_backend_partitioned!(ledger_verify_names_the_partition_of_a_tampered_row, 4);

/// An existing one-partition ledger (as every database before migration 0025) stays one
/// partition, whatever is configured later; its checkpoints are as before.
async fn an_existing_ledger_keeps_one_partition(app: App) {
    let clerk = app.token("clerk").await;
    cases(&app, &app.url(""), &clerk, 0, 2).await;
    let again = tongban_store::Store::open_with(&app.db().url, Some(16))
        .await
        .unwrap();
    assert_eq!(again.ledger_partitions(), 1);
    let c = again.checkpoint(chrono::Utc::now()).await.unwrap();
    assert_eq!((c.origin.as_str(), c.partitions.len()), (ledger::ORIGIN, 0));
    let leaves = again.leaf_hashes(c.size).await.unwrap();
    assert_eq!(hex::encode(merkle::root(&leaves)), c.root);
    again.close().await;
    app.stop().await;
}

on_each_backend!(an_existing_ledger_keeps_one_partition);

struct Node {
    base: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(database_url: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let node = Node {
        base: base.clone(),
        child: std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir.path())
            .current_dir(dir.path())
            .env("TONGBAN_DATABASE_URL", database_url)
            .env_remove("TONGBAN_CONFIG")
            .env("TONGBAN_PUBLIC_URL", &base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn tongban serve"),
        _dir: dir,
    };
    for _ in 0..300 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return node;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{base} did not start");
}

/// Two `tongban serve` processes on one PostgreSQL database (16 partitions, the default
/// there), 48 submissions at once spread over both: every case number distinct, every
/// partition's chain gapless and intact, and the combined checkpoint either node signs
/// verifies against every partition.
#[tokio::test]
async fn two_nodes_on_one_postgres_keep_every_partition_chain() {
    let Some(db) = tongban_store::testing::TestDb::postgres_partitioned(16).await else {
        eprintln!("PostgreSQL not reachable; skipped");
        return;
    };
    let app = App::start(db).await;
    let url = app.db().url.clone();
    let (a, b) = (serve(&url).await, serve(&url).await);
    // Signed in on each node (the nodes keep real time, the test app a manual clock).
    let sign_in = |base: String| async move {
        let r: Value = Client::new()
            .post(format!("{base}/api/v1/session"))
            .json(&json!({ "username": "clerk", "password": tongban::demo::DEMO_PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().unwrap().to_string()
    };
    let token = sign_in(a.base.clone()).await;
    let item = immediate(&app).await;
    let mut tasks = Vec::new();
    for (w, base) in [&a.base, &b.base, &a.base, &b.base, &a.base, &b.base]
        .into_iter()
        .enumerate()
    {
        let base = base.clone();
        let token = token.clone();
        let item = item.clone();
        // Each worker submits 8 cases in turn; six workers at once.
        tasks.push(tokio::spawn(async move {
            submit(&base, &token, &item, 100 + w * 8, 8).await
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.extend(t.await.unwrap());
    }
    assert_eq!(numbers.len(), 48);
    let mut distinct = numbers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 48, "case numbers are unique");
    let store = &app.db().store;
    let all = rows(&app).await;
    assert_eq!(all.len(), 48 * 3);
    let report = store.verify_ledger().await.unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(report.partitions.len(), 16);
    assert!(
        report.partitions.iter().filter(|p| p.size > 0).count() >= 8,
        "48 cases spread over the partitions: {:?}",
        report.partitions
    );
    // The figure counters are striped like the ledger (no row every writer waits for):
    // the city-wide day row is spread over the cases' partitions and sums exactly.
    {
        use tongban_store::sqlx::{Connection, Row};
        let mut c = conn(&app).await;
        let r = tongban_store::sqlx::query(
            "SELECT COUNT(DISTINCT stripe) AS stripes, CAST(SUM(received) AS BIGINT) AS received, \
             CAST(SUM(accepted) AS BIGINT) AS accepted FROM figure_counters WHERE grain = 'd' AND department_id = 0",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
        assert!(r.get::<i64, _>("stripes") >= 8);
        assert_eq!(
            (r.get::<i64, _>("received"), r.get::<i64, _>("accepted")),
            (48, 48)
        );
    }
    let rebuilt = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert_eq!(
        (rebuilt.figure_differences, rebuilt.counter_differences),
        (0, 0),
        "{:?}",
        rebuilt.counter_examples
    );
    // The combined checkpoint signed by node b covers every partition of them.
    let cp: Checkpoint = Client::new()
        .get(format!("{}/api/v1/ledger/checkpoint", b.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cp.size, 48 * 3);
    let keys = store.ledger_keys().await.unwrap();
    assert!(ledger::verify_checkpoint_signature(&cp, &keys[0].1));
    for head in &cp.partitions {
        let leaves = store
            .leaf_hashes_in(head.partition, head.size)
            .await
            .unwrap();
        assert_eq!(hex::encode(merkle::root(&leaves)), head.root);
    }
    // Every checkpoint the nodes signed (each signs one when it starts) verifies too.
    let report = store.verify_ledger().await.unwrap();
    assert_eq!(report.problem, None);
    assert!(report.checkpoints_checked >= 1);
    drop((a, b));
    app.stop().await;
}
