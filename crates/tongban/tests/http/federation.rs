//! The province link (issue 16): a city reporting its case events to a province, each a real
//! `tongban serve` with its own database, across a province restart and a city `kill -9`;
//! the province catching a city ledger rewritten behind the server's back; and on both
//! backends the API's shapes and refusals, the outbox's failure path and the provincial
//! standard list in the 四级四同 report.

use super::exchange::Node;
use super::workflow::{apply_online, scj_item};
use super::{get, App};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const PROVINCE: &str = "430000";
const CITY: &str = "431300";

/// A province and a city that trust each other; the city reports to the province.
async fn linked_pair() -> (Node, Node) {
    linked_pair_with(&[]).await
}

/// [`linked_pair`], the city's database created with `city_env` set (its ledger's
/// partitions).
async fn linked_pair_with(city_env: &[(&str, &str)]) -> (Node, Node) {
    let mut province = Node::new();
    let mut city = Node::new();
    city.env = city_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (node, code, name) in [
        (&province, PROVINCE, "湖南省政务服务平台"),
        (&city, CITY, "娄星市政务服务平台"),
    ] {
        node.run(&["demo", "--no-serve"]);
        node.run(&[
            "member",
            "init",
            "--code",
            code,
            "--name",
            name,
            "--endpoint",
            &node.base,
        ]);
    }
    for (from, to) in [(&province, &city), (&city, &province)] {
        let doc = from.run(&["member", "export"]);
        let file = to.dir.path().join("peer.json");
        std::fs::write(&file, doc).unwrap();
        to.run(&["member", "trust", file.to_str().unwrap()]);
    }
    city.env.extend([
        ("TONGBAN_UPSTREAM_URL".into(), province.base.clone()),
        ("TONGBAN_UPSTREAM_CHECKPOINT_SECONDS".into(), "1".into()),
    ]);
    province.serve().await;
    city.serve().await;
    (province, city)
}

/// zhangsan applies online for the food licence on a node: the 申办 event.
async fn apply(node: &Node, key: &str) -> String {
    let zs = node.token("zhangsan").await;
    let v: Value = reqwest::get(format!("{}/api/v1/items?q=食品经营许可证核发", node.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["columns"]["办件类型"] == "承诺件")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    let mut materials = vec![];
    for m in item["materials"].as_array().unwrap() {
        if m["材料必要性"] != "必要" {
            continue;
        }
        let r = Client::new()
            .post(format!("{}/api/v1/files", node.base))
            .bearer_auth(&zs)
            .header("content-type", "application/octet-stream")
            .body(super::PDF.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let f: Value = r.json().await.unwrap();
        materials.push(json!({"name": m["材料名称"], "sha256": f["sha256"]}));
    }
    let (s, case) = node
        .post(
            &zs,
            "/api/v1/cases",
            json!({"item": item["impl_code"], "delivery": "electronic", "materials": materials, "idempotency_key": key}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    case["case_no"].as_str().unwrap().to_string()
}

/// Waits (up to 60 s) until `check` holds for the city's outbox figures.
async fn outbox_until(
    city: &Node,
    admin: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let (s, v) = city.get(admin, "/api/v1/federation/outbox").await;
        if s == StatusCode::OK && check(&v) {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("outbox never {what}: {last}");
}

async fn reconciliation(node: &Node, token: &str, member: &str) -> Value {
    let (s, v) = node
        .get(
            token,
            &format!("/api/v1/federation/reconciliation?member={member}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn a_city_reports_to_its_province_exactly_once_across_a_restart_and_a_kill() {
    let (mut province, mut city) = linked_pair().await;
    let c_admin = city.token("admin").await;
    let p_admin = province.token("admin").await;
    let p_auditor = province.token("auditor").await;

    // An application: its 申办 is reported.
    let first = apply(&city, "fed-1").await;
    let v = outbox_until(&city, &c_admin, "delivered", |v| {
        v["delivered"].as_i64() >= Some(1) && v["pending"] == 0 && v["failed"] == 0
    })
    .await;
    assert_eq!(
        v.as_object().unwrap().len(),
        3,
        "the outbox answers exactly pending, delivered, failed: {v}"
    );
    let r = reconciliation(&province, &p_auditor, CITY).await;
    assert_eq!(r["member"], CITY);
    assert!(r["events"].as_i64() >= Some(1), "{r}");
    assert!(r["cases"].as_i64() >= Some(1), "{r}");

    // The province goes down (kill -9): the city keeps its events and retries.
    province.kill9();
    let second = apply(&city, "fed-2").await;
    outbox_until(&city, &c_admin, "failed", |v| {
        v["failed"].as_i64() >= Some(1)
    })
    .await;
    province.serve().await;
    outbox_until(
        &city,
        &c_admin,
        "drained after the province returned",
        |v| v["pending"] == 0 && v["failed"] == 0,
    )
    .await;

    // The city dies (kill -9) right after a decision; what it wrote is delivered after.
    let third = apply(&city, "fed-3").await;
    city.kill9();
    city.serve().await;
    let c_admin = city.token("admin").await;
    outbox_until(&city, &c_admin, "drained after the city's restart", |v| {
        v["pending"] == 0 && v["failed"] == 0
    })
    .await;

    // Both sides hold the same set of events: same count, same digest over the ids.
    let mine = reconciliation(&city, &c_admin, CITY).await;
    let theirs = reconciliation(&province, &p_admin, CITY).await;
    assert_eq!(mine["events"], theirs["events"], "{mine} {theirs}");
    assert_eq!(mine["cases"], theirs["cases"], "{mine} {theirs}");
    assert_eq!(mine["digest"], theirs["digest"], "{mine} {theirs}");
    assert_eq!(theirs["consistent"], true, "{theirs}");
    for no in [&first, &second, &third] {
        assert!(no.starts_with("4319"), "{no}");
    }
    assert!(
        theirs["events"].as_i64() >= Some(3),
        "three applications at least: {theirs}"
    );
    // The province holds the city's checkpoints, each proved consistent with the last.
    let mut size = 0;
    for _ in 0..100 {
        let t = reconciliation(&province, &p_admin, CITY).await;
        size = t["last_checkpoint"]["size"].as_u64().unwrap_or(0);
        if size > 0 {
            assert_eq!(t["last_checkpoint"]["root"].as_str().unwrap().len(), 64);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(size > 0, "no checkpoint reached the province");
    // A member the province does not know, and a clerk, are refused.
    let (s, _) = province
        .get(&p_admin, "/api/v1/federation/reconciliation?member=440000")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let clerk = province.token("clerk").await;
    let (s, _) = province
        .get(&clerk, "/api/v1/federation/reconciliation?member=431300")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn sqlite_exec(db: &std::path::Path, statement: &str) -> u64 {
    use tongban_store::sqlx::Connection;
    tongban_store::sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rw", db.display());
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&url)
        .await
        .unwrap();
    let done = tongban_store::sqlx::query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    done.rows_affected()
}

#[tokio::test]
async fn a_city_ledger_rewritten_behind_the_servers_back_is_caught_at_the_next_checkpoint() {
    let (province, mut city) = linked_pair().await;
    let c_admin = city.token("admin").await;
    let p_admin = province.token("admin").await;
    apply(&city, "tamper-1").await;
    outbox_until(&city, &c_admin, "delivered", |v| {
        v["delivered"].as_i64() >= Some(1) && v["pending"] == 0
    })
    .await;
    let mut kept = 0;
    for _ in 0..100 {
        let r = reconciliation(&province, &p_admin, CITY).await;
        kept = r["last_checkpoint"]["size"].as_u64().unwrap_or(0);
        if kept > 0 {
            assert_eq!(r["consistent"], true, "{r}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(kept > 1, "the province kept no checkpoint");

    // Someone with database access rewrites the city's history while it is down.
    city.kill9();
    let db = city.dir.path().join("tongban.db");
    let changed = sqlite_exec(
        &db,
        "UPDATE ledger_events SET entry = REPLACE(entry, '\"actor\":\"', '\"actor\":\"x') WHERE seq = 1",
    )
    .await;
    assert_eq!(changed, 1);
    city.serve().await;
    let c_admin = city.token("admin").await;

    // The next report carries a checkpoint that no longer extends the one the province kept.
    apply(&city, "tamper-2").await;
    let mut r = Value::Null;
    for _ in 0..200 {
        r = reconciliation(&province, &p_admin, CITY).await;
        if r["consistent"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(r["consistent"], false, "the rewrite went unseen: {r}");
    // The alarm is in the province's audit log, and further reports are refused.
    let (s, log) = province.get(&p_admin, "/api/v1/audit?limit=50").await;
    if s == StatusCode::OK {
        assert!(log.to_string().contains("federation.alarm"), "{log}");
    }
    apply(&city, "tamper-3").await;
    outbox_until(&city, &c_admin, "refused by the province", |v| {
        v["failed"].as_i64() >= Some(1)
    })
    .await;
}

/// Waits (up to 20 s) until the province keeps a checkpoint of the city larger than
/// `after`, proved consistent; returns its size.
async fn kept_beyond(province: &Node, p_admin: &str, after: u64) -> u64 {
    let mut r = Value::Null;
    for _ in 0..200 {
        r = reconciliation(province, p_admin, CITY).await;
        assert_eq!(r["consistent"], true, "{r}");
        let kept = r["last_checkpoint"]["size"].as_u64().unwrap_or(0);
        if kept > after {
            return kept;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the province kept no checkpoint beyond {after}: {r}");
}

/// ADR 0010 × ADR 0011: a city whose ledger has 4 partitions sends its checkpoints with
/// their partition heads and one consistency proof per partition; the province proves each
/// new one against the one it kept, and a rewrite inside one partition is still caught.
#[tokio::test]
async fn a_partitioned_city_ledger_is_proved_per_partition_and_a_rewritten_partition_is_caught() {
    let (province, mut city) = linked_pair_with(&[("TONGBAN_LEDGER_PARTITIONS", "4")]).await;
    let c_admin = city.token("admin").await;
    let p_admin = province.token("admin").await;
    let cp: Value = reqwest::get(format!("{}/api/v1/ledger/checkpoint", city.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cp["partitions"].as_array().map(Vec::len), Some(4), "{cp}");

    apply(&city, "parts-1").await;
    outbox_until(&city, &c_admin, "delivered", |v| {
        v["delivered"].as_i64() >= Some(1) && v["pending"] == 0
    })
    .await;
    let first = kept_beyond(&province, &p_admin, 0).await;
    // More cases, in other partitions: each later checkpoint is proved partition by
    // partition from the one kept.
    let mut kept = first;
    for key in ["parts-2", "parts-3", "parts-4"] {
        apply(&city, key).await;
        kept = kept_beyond(&province, &p_admin, kept).await;
    }
    assert!(kept > first);
    // Both sides hold the same events and the same last checkpoint.
    let mut mine = Value::Null;
    for _ in 0..100 {
        mine = reconciliation(&city, &c_admin, CITY).await;
        if mine["last_checkpoint"]["size"].as_u64() == Some(kept) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let theirs = reconciliation(&province, &p_admin, CITY).await;
    assert_eq!(mine["digest"], theirs["digest"], "{mine} {theirs}");
    assert_eq!(mine["last_checkpoint"], theirs["last_checkpoint"]);

    // Someone with database access rewrites the first event of one partition (the last
    // one holding events) while the city is down.
    city.kill9();
    let db = city.dir.path().join("tongban.db");
    let changed = sqlite_exec(
        &db,
        "UPDATE ledger_events SET entry = REPLACE(entry, '\"actor\":\"', '\"actor\":\"x') \
         WHERE seq = 1 AND part = (SELECT MAX(part) FROM ledger_events) AND part > 0",
    )
    .await;
    assert_eq!(changed, 1);
    city.serve().await;
    let c_admin = city.token("admin").await;

    apply(&city, "parts-5").await;
    let mut r = Value::Null;
    for _ in 0..200 {
        r = reconciliation(&province, &p_admin, CITY).await;
        if r["consistent"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(r["consistent"], false, "the rewrite went unseen: {r}");
    let (s, log) = province.get(&p_admin, "/api/v1/audit?limit=50").await;
    if s == StatusCode::OK {
        assert!(log.to_string().contains("federation.alarm"), "{log}");
    }
    apply(&city, "parts-6").await;
    outbox_until(&city, &c_admin, "refused by the province", |v| {
        v["failed"].as_i64() >= Some(1)
    })
    .await;
}

// ---- one process, both backends ---------------------------------------------------------------

async fn the_link_api_answers_its_contract_and_refuses(app: App) {
    let admin = app.token("admin").await;
    let auditor = app.token("auditor").await;
    let clerk = app.token("clerk").await;
    let (s, v) = get(&app, &admin, "/api/v1/federation/outbox").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"pending": 0, "delivered": 0, "failed": 0}));
    let (s, _) = get(&app, &auditor, "/api/v1/federation/outbox").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = Client::new()
        .get(app.url("/api/v1/federation/outbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Reconciliation: a member is required and must be a code.
    let (s, v) = get(&app, &auditor, "/api/v1/federation/reconciliation").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = get(
        &app,
        &auditor,
        "/api/v1/federation/reconciliation?member=abc",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = get(
        &app,
        &auditor,
        "/api/v1/federation/reconciliation?member=440000",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(
        &app,
        &clerk,
        "/api/v1/federation/reconciliation?member=440000",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let me: Value = reqwest::get(app.url("/api/v1/federation/member"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = me["code"].as_str().unwrap();
    let (s, v) = get(
        &app,
        &auditor,
        &format!("/api/v1/federation/reconciliation?member={code}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for k in ["member", "cases", "events", "last_checkpoint", "consistent"] {
        assert!(v.get(k).is_some(), "{k} missing: {v}");
    }
    assert_eq!(v["consistent"], true);
    assert_eq!(v["last_checkpoint"]["root"].as_str().unwrap().len(), 64);

    // The signed endpoints: not JSON, not signed, untrusted, wrong type — nothing stored.
    let events = app.url("/api/v1/federation/events");
    let send = |body: Value| {
        let events = events.clone();
        async move {
            let r = Client::new()
                .post(&events)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let r = Client::new()
        .post(&events)
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let batch = |from: &str| {
        json!({"type": "tongban.federation.events/v1", "from": from, "timestamp": "2026-03-02T01:00:00Z",
               "events": [{"event_id": "431900202603020001#1", "case_no": "431900202603020001", "case_version": 1, "kind": "submitted", "at": "2026-03-02T01:00:00Z", "event": {}}]})
    };
    let (s, v) = send(batch("440000")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("untrusted")),
        "{v}"
    );
    let (s, v) = send(batch(code)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature")),
        "{v}"
    );
    let mut wrong = batch(code);
    wrong["type"] = json!("tongban.federation.checkpoint/v1");
    let (s, _) = send(wrong).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = send(json!({"type": "tongban.federation.checkpoint/v1", "from": code})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let held = app.state.store.received_holdings(code).await.unwrap();
    assert_eq!(held.events, 0);
}
on_each_backend!(the_link_api_answers_its_contract_and_refuses);

/// The outbox is written with the event, kept across a failed delivery, delivered in order
/// and deduplicated on receipt (the node reports to itself, on either backend), and its
/// checkpoint is proved consistent.
async fn the_outbox_is_written_with_the_event_and_delivered_once(app: App) {
    let admin = app.token("admin").await;
    let zs = app.token("zhangsan").await;
    let (code, required) = scj_item(&app).await;
    // Without an upstream member nothing is queued.
    let (s, _) = apply_online(&app, &zs, &code, &required, "fed-0").await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, v) = get(&app, &admin, "/api/v1/federation/outbox").await;
    assert_eq!(v, json!({"pending": 0, "delivered": 0, "failed": 0}));
    // An unreachable upstream: the event waits, marked failed.
    let a = &app.state;
    tongban_app::federation::configure(a, Some("http://127.0.0.1:9"))
        .await
        .unwrap();
    let (s, case) = apply_online(&app, &zs, &code, &required, "fed-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let (_, v) = get(&app, &admin, "/api/v1/federation/outbox").await;
    assert_eq!(v, json!({"pending": 1, "delivered": 0, "failed": 0}));
    let settings = tongban_app::federation::LinkSettings {
        checkpoint_every: Duration::from_secs(0),
        ..Default::default()
    };
    let mut st = tongban_app::federation::SendState::default();
    assert!(tongban_app::federation::deliver(a, &settings, &mut st)
        .await
        .is_err());
    let (_, v) = get(&app, &admin, "/api/v1/federation/outbox").await;
    assert_eq!(v, json!({"pending": 0, "delivered": 0, "failed": 1}));
    // The upstream is this node itself (it trusts its own keys): delivered, once.
    tongban_app::federation::configure(a, Some(&app.url("")))
        .await
        .unwrap();
    let n = tongban_app::federation::deliver(a, &settings, &mut st)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let (_, v) = get(&app, &admin, "/api/v1/federation/outbox").await;
    assert_eq!(v, json!({"pending": 0, "delivered": 1, "failed": 0}));
    let me = tongban_app::exchange::self_member(a).await.unwrap().code;
    let no = case["case_no"].as_str().unwrap();
    let held = a.store.received_case_events(no).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].kind, "submitted");
    assert_eq!(held[0].event_id, format!("{no}#1"));
    // Receiving the same events again changes nothing.
    let (accepted, dup) = a.store.receive_events(&me, &held, a.now()).await.unwrap();
    assert_eq!((accepted, dup), (0, 1));
    assert_eq!(a.store.received_holdings(&me).await.unwrap().events, 1);
    // The checkpoint went with it and was kept as consistent.
    let kept = a.store.last_link_checkpoint(&me).await.unwrap().unwrap();
    assert!(kept.consistent && kept.size > 0, "{kept:?}");
}
on_each_backend!(the_outbox_is_written_with_the_event_and_delivered_once);

/// The provincial standard list (the catalog's export format) is compared with the local
/// catalog; its differences are listed in the 四级四同 report and the API.
async fn the_provincial_list_differences_appear_in_the_four_same_report(app: App) {
    let admin = app.token("admin").await;
    let (s, v) = get(&app, &admin, "/api/v1/federation/standard-items").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"items": 0, "differences": []}));
    let r = Client::new()
        .get(app.url("/api/v1/admin/catalog/export?format=csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    // The province calls one item differently.
    let (s, e) = import(&app, &admin, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let clerk = app.token("clerk").await;
    let (s, _) = import(&app, &clerk, &csv).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = get(&app, &admin, "/api/v1/federation/standard-items").await;
    assert_eq!(v["items"], 0, "a refused list stores nothing");
    let renamed = csv.replacen("食品经营许可证核发", "食品经营许可（省级标准名称）", 1);
    assert_ne!(renamed, csv);
    let (s, v) = import(&app, &admin, &renamed).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let diffs = v["differences"].as_array().unwrap();
    assert!(
        diffs
            .iter()
            .any(|d| d["field"] == "name" && d["standard"] == "食品经营许可（省级标准名称）"),
        "{v}"
    );
    let (c, _) = app.sign_in("admin").await;
    let page = super::page_text(&c, app.url("/admin/four-same")).await;
    assert!(
        page.contains("与省级标准事项清单比对")
            && page.contains("事项名称不一致")
            && page.contains("食品经营许可（省级标准名称）"),
        "{page}"
    );
}
on_each_backend!(the_provincial_list_differences_appear_in_the_four_same_report);

async fn import(app: &App, token: &str, body: &str) -> (StatusCode, Value) {
    let r = Client::new()
        .post(app.url("/api/v1/federation/standard-items"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// 跨域通办 (收受分离): the city's window receives an application for an item the province
/// owns, checks identity and originals, and forwards a signed attestation with the files;
/// the province accepts it (its own case, its own 受理 to come) and both show one timeline.
#[tokio::test]
async fn a_cross_region_application_is_accepted_by_its_owner_with_one_timeline() {
    let (province, city) = linked_pair().await;
    let clerk = city.token("clerk").await;
    let v: Value = reqwest::get(format!(
        "{}/api/v1/items?q=食品经营许可证核发",
        province.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let item = v["items"].as_array().unwrap()[0].clone();
    let impl_code = item["impl_code"].as_str().unwrap().to_string();
    let r = Client::new()
        .post(format!("{}/api/v1/files", city.base))
        .bearer_auth(&clerk)
        .header("content-type", "application/octet-stream")
        .body(super::PDF.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let sha = r.json::<Value>().await.unwrap()["sha256"].clone();
    let body = |identity_checked: bool| {
        json!({
            "owner": PROVINCE, "impl_code": impl_code,
            "applicant": {"name": "张三", "id_number": "430102199001011238", "mobile": "13800000000"},
            "identity_checked": identity_checked,
            "seen": "申请人持身份证原件到场，营业执照原件已核验",
            "materials": [{"name": "营业执照", "sha256": sha, "original_checked": true}],
            "waybill": "",
        })
    };
    // Identity not checked in person: refused, nothing sent.
    let (s, e) = city
        .post(&clerk, "/api/v1/federation/cross", body(false))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // An applicant cannot forward anything.
    let zs = city.token("zhangsan").await;
    let (s, _) = city.post(&zs, "/api/v1/federation/cross", body(true)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, sent) = city
        .post(&clerk, "/api/v1/federation/cross", body(true))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    let id = sent["receipt_id"].as_str().unwrap().to_string();
    assert_eq!(sent["status"], "forwarded");
    assert!(
        !sent.to_string().contains("430102199001011238"),
        "the identifier is masked: {sent}"
    );

    // The owner decides: a refusal needs reasons; then it accepts.
    let p_clerk = province.token("clerk").await;
    let path = format!("/api/v1/federation/cross/{id}/decision");
    let (s, _) = province
        .post(&p_clerk, &path, json!({"decision": "refuse"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, owner) = province
        .post(&p_clerk, &path, json!({"decision": "accept"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{owner}");
    assert_eq!(owner["status"], "accepted");
    let case_no = owner["case_no"].as_str().unwrap().to_string();
    assert!(!case_no.is_empty());
    let (s, _) = province
        .post(&p_clerk, &path, json!({"decision": "accept"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "decided once");
    // The owner's case waits for its own 受理: the legal clock has not started.
    let (s, case) = province
        .get(&p_clerk, &format!("/api/v1/cases/{case_no}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["status"], "submitted", "{case}");

    // One timeline on either member.
    let view = format!("/api/v1/federation/cross/{id}");
    let (_, theirs) = province.get(&p_clerk, &view).await;
    let mut mine = Value::Null;
    for _ in 0..50 {
        let (_, v) = city.get(&clerk, &view).await;
        mine = v;
        if mine["status"] == "accepted" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mine["status"], "accepted", "{mine}");
    assert_eq!(mine["case_no"], case_no);
    assert_eq!(mine["timeline"], theirs["timeline"], "{mine} {theirs}");
    let steps: Vec<&str> = mine["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["what"].as_str().unwrap())
        .collect();
    assert_eq!(steps, vec!["代收窗口收件", "转送事项所属地", "所属地接收"]);
    assert!(mine["timeline"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("核验原件 1 份"));
    // Someone else's receipt is not probeable.
    let (s, _) = city.get(&zs, &view).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
