//! Electronic supervision over real HTTP on both backends: warnings at the right
//! working-day moment, the stopped clock, auto-resolution, 督办, flagged attempts, and
//! two nodes raising each warning once.

use super::{get, page_text, post, App};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tongban_app::supervision::run_once;

/// Opens a window case for 食品经营许可证核发 (promised 10 working days) and accepts it
/// today (Mon 2 Mar 2026 in the test clock).
async fn accepted_case(app: &App, id17: &str) -> Value {
    let clerk = app.token("clerk").await;
    let items = app.db().store.all_items().await.unwrap();
    let item = items
        .iter()
        .find(|i| i.item.department == "市市场监督管理局" && i.item.name == "食品经营许可证核发")
        .unwrap();
    assert_eq!(item.item.promised_limit, 10);
    let id = tongban_core::ids::ResidentId::with_check_char(id17).unwrap();
    let (s, case) = post(app, &clerk, "/api/v1/cases", json!({ "item": item.item.impl_code, "materials": super::received_on_paper(item), "applicant": { "kind": "person", "id_number": id.as_str(), "name": "监察测试" } })).await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let (s, case) = post(
        app,
        &clerk,
        &format!(
            "/api/v1/cases/{}/commands",
            case["case_no"].as_str().unwrap()
        ),
        json!({ "expected_version": 1, "action": "accept" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["promised_due"], "2026-03-16");
    case
}

async fn open_rules(app: &App, case_no: &str) -> Vec<String> {
    let sup = app.token("supervisor").await;
    let (_, v) = get(
        app,
        &sup,
        &format!("/api/v1/supervision/records?open=true&case_no={case_no}"),
    )
    .await;
    let mut r: Vec<String> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect();
    r.sort();
    r
}

async fn open_total(app: &App) -> i64 {
    let sup = app.token("supervisor").await;
    let (_, v) = get(app, &sup, "/api/v1/supervision/records?open=true").await;
    v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["open"].as_i64().unwrap())
        .sum()
}

fn advance_to(app: &App, day: &str) {
    use tongban_app::clock::Clock;
    let target = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(1, 0, 0)
        .unwrap()
        .and_utc();
    let now = app.clock.now();
    app.clock.advance(target - now);
}

async fn warnings_fire_on_the_right_working_day_and_resolve_on_decision(app: App) {
    let case = accepted_case(&app, "43130219700101001").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    assert!(open_rules(&app, &no).await.is_empty());
    // Wed 11 Mar: 3 working days left, 70% used — nothing yet.
    advance_to(&app, "2026-03-11");
    run_once(&app.state).await.unwrap();
    assert!(open_rules(&app, &no).await.is_empty());
    // Thu 12 Mar: 2 left → yellow card.
    advance_to(&app, "2026-03-12");
    let (checked, raised) = run_once(&app.state).await.unwrap();
    assert_eq!((checked, raised), (1, 1));
    assert_eq!(open_rules(&app, &no).await, vec!["yellow_card"]);
    // Running again the same day raises nothing new.
    assert_eq!(run_once(&app.state).await.unwrap(), (0, 0));
    // Tue 17 Mar: overdue → red card; the yellow card's cause has ended.
    advance_to(&app, "2026-03-17");
    run_once(&app.state).await.unwrap();
    assert_eq!(open_rules(&app, &no).await, vec!["red_card"]);
    assert_eq!(
        open_total(&app).await,
        1,
        "counters follow raising and resolving"
    );
    // The board shows it.
    let (browser, _) = app.sign_in("supervisor").await;
    let html = page_text(&browser, app.url("/supervision")).await;
    assert!(html.contains(&no) && html.contains("红牌"));
    // Deciding the case resolves the open timer records, keeping their history.
    let (approver, head) = (app.token("approver").await, app.token("head").await);
    let mut v = case["version"].as_i64().unwrap();
    for (token, _) in [(&approver, 0), (&approver, 1), (&head, 2)] {
        let (s, c) = post(
            &app,
            token,
            &format!("/api/v1/cases/{no}/commands"),
            json!({ "expected_version": v, "action": "pass", "opinion": "同意" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        v = c["version"].as_i64().unwrap();
    }
    assert!(open_rules(&app, &no).await.is_empty());
    assert_eq!(open_total(&app).await, 0);
    let sup = app.token("supervisor").await;
    let (_, all) = get(
        &app,
        &sup,
        &format!("/api/v1/supervision/records?open=false&case_no={no}"),
    )
    .await;
    let all = all["records"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r["resolved_at"].is_string()));
    // Department figures count it: decided late, one yellow, one red.
    let (_, figs) = get(
        &app,
        &sup,
        "/api/v1/supervision/departments?from=2026-01-01",
    )
    .await;
    let scj = figs["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市市场监督管理局")
        .unwrap();
    assert_eq!(
        (scj["decided"].as_u64(), scj["on_time_rate"].as_f64()),
        (Some(1), Some(0.0))
    );
    assert_eq!(
        (scj["yellow_cards"].as_i64(), scj["red_cards"].as_i64()),
        (Some(1), Some(1))
    );
    // And per item of the department, on the page too.
    let (_, by_item) = get(
        &app,
        &sup,
        &format!(
            "/api/v1/supervision/departments?from=2026-01-01&dept={}",
            scj["department_id"]
        ),
    )
    .await;
    let it = &by_item["items"][0];
    assert_eq!(
        (
            it["name"].as_str(),
            it["decided"].as_u64(),
            it["red_cards"].as_i64()
        ),
        (Some("食品经营许可证核发"), Some(1), Some(1))
    );
    let html = browser
        .get(app.url(&format!(
            "/supervision/stats?from=2026-01-01&dept={}",
            scj["department_id"]
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("按事项") && html.contains("食品经营许可证核发"));
    // A department head may not read another department's items.
    let (s, _) = get(
        &app,
        &app.token("head").await,
        "/api/v1/supervision/departments?from=2026-01-01&dept=9999",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}

on_each_backend!(warnings_fire_on_the_right_working_day_and_resolve_on_decision);

async fn the_clock_stops_during_special_procedures(app: App) {
    let case = accepted_case(&app, "43130219700101002").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    let approver = app.token("approver").await;
    // 《行政许可法》第四十五条: the expected length is told to the applicant; none, no start.
    let (s, e) = post(&app, &approver, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": case["version"], "action": "start_special", "procedure": "检验", "reason": "送样检验" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, c) = post(&app, &approver, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": case["version"], "action": "start_special", "procedure": "检验", "reason": "送样检验", "expected_days": 20 })).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    // 20 working days from Mon 2 Mar 2026: Mon 30 Mar.
    assert_eq!(c["special_expected_end"], "2026-03-30");
    advance_to(&app, "2026-03-30");
    run_once(&app.state).await.unwrap();
    assert!(open_rules(&app, &no).await.is_empty());
    // Far past the original deadline: no deadline fires while the clock is stopped, but
    // the procedure running past the length told to the applicant is on record.
    advance_to(&app, "2026-04-30");
    run_once(&app.state).await.unwrap();
    assert_eq!(open_rules(&app, &no).await, vec!["special_overrun"]);
    app.stop().await;
}

on_each_backend!(the_clock_stops_during_special_procedures);

async fn supervision_order_round_trip_and_flagged_attempts(app: App) {
    let case = accepted_case(&app, "43130219700101003").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    // A refusal without reasons is refused and the attempt flagged.
    let clerk = app.token("clerk").await;
    let (_, other) = post(&app, &clerk, "/api/v1/cases", json!({ "item": case["impl_code"], "applicant": { "kind": "person", "id_number": tongban_core::ids::ResidentId::with_check_char("43130219700101004").unwrap().as_str(), "name": "乙" } })).await;
    let other_no = other["case_no"].as_str().unwrap();
    let (s, _) = post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{other_no}/commands"),
        json!({ "expected_version": 1, "action": "not_accept", "reasons": " " }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        open_rules(&app, other_no).await,
        vec!["refusal_without_reasons"]
    );
    // A fee on a free item is flagged.
    let approver = app.token("approver").await;
    let (s, c) = post(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/commands"),
        json!({ "expected_version": case["version"], "action": "charge_fee", "amount": "50" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(open_rules(&app, &no).await, vec!["irregular_fee"]);

    let sup = app.token("supervisor").await;
    let (_, recs) = get(
        &app,
        &sup,
        &format!("/api/v1/supervision/records?case_no={no}"),
    )
    .await;
    let record_no = recs["records"][0]["record_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Only supervisors order; the due date must be a date not in the past.
    let (s, _) = post(
        &app,
        &approver,
        "/api/v1/supervision/orders",
        json!({ "record_no": record_no, "instruction": "退还多收费用", "due": "2026-03-06" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        &app,
        &sup,
        "/api/v1/supervision/orders",
        json!({ "record_no": record_no, "instruction": "退还多收费用", "due": "2026-03-01" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, order) = post(&app, &sup, "/api/v1/supervision/orders", json!({ "record_no": record_no, "instruction": "退还多收费用并说明原因", "due": "2026-03-06" })).await;
    assert_eq!(s, StatusCode::CREATED, "{order}");
    let order_no = order["order_no"].as_str().unwrap().to_string();
    // Closing before the department answers is refused (escalation is allowed).
    let (s, _) = post(
        &app,
        &sup,
        &format!("/api/v1/supervision/orders/{order_no}/close"),
        json!({ "note": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Another department cannot answer; the ordered department does.
    let admin = app.token("admin").await;
    let depts: Value = reqwest::get(app.url("/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other_dept = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市公安局")
        .unwrap()["id"]
        .clone();
    post(&app, &admin, "/api/v1/admin/users", json!({ "username": "gaj_head", "display_name": "公安负责人", "password": "Gaj-2026-okay", "role": "head", "department_id": other_dept })).await;
    let gaj = app.token_with("gaj_head", "Gaj-2026-okay").await;
    let (s, _) = post(
        &app,
        &gaj,
        &format!("/api/v1/supervision/orders/{order_no}/answer"),
        json!({ "answer": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let head = app.token("head").await;
    let (s, _) = post(
        &app,
        &head,
        &format!("/api/v1/supervision/orders/{order_no}/answer"),
        json!({ "answer": "已退还50元，经办人已批评教育" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, closed) = post(
        &app,
        &sup,
        &format!("/api/v1/supervision/orders/{order_no}/close"),
        json!({ "note": "整改到位" }),
    )
    .await;
    assert_eq!(
        (s, closed["status"].as_str()),
        (StatusCode::OK, Some("closed"))
    );
    assert!(
        open_rules(&app, &no).await.is_empty(),
        "closing the order resolves its record"
    );
    // Orders and answers are ledger events of the case.
    let (_, events) = get(&app, &sup, &format!("/api/v1/cases/{no}/events")).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.ends_with(&[
            "fee_charged",
            "supervision_ordered",
            "supervision_answered",
            "supervision_closed"
        ]),
        "{kinds:?}"
    );
    // Department heads see only their own department's records; applicants nothing.
    let (_, mine) = get(&app, &gaj, "/api/v1/supervision/records?open=false").await;
    assert_eq!(mine["records"].as_array().unwrap().len(), 0);
    let (s, _) = get(
        &app,
        &app.token("zhangsan").await,
        "/api/v1/supervision/records",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}

on_each_backend!(supervision_order_round_trip_and_flagged_attempts);

async fn two_nodes_raise_each_warning_once(app: App) {
    let mut cases = vec![];
    for n in 0..6 {
        cases.push(
            accepted_case(&app, &format!("4313021970010201{n}")).await["case_no"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    advance_to(&app, "2026-03-17");
    // A second node: its own store (pools) on the same database.
    let store2 = tongban_store::Store::open(&app.db().url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let node2 =
        tongban_web::new_state(tongban_app::App::new(store2, app.clock.clone(), dir.path()));
    let (a, b) = tokio::join!(run_once(&app.state), run_once(&node2));
    let (a, b) = (a.unwrap(), b.unwrap());
    // Every case was looked at once in all, and red-carded once.
    assert_eq!(a.0 + b.0, 6, "{a:?} {b:?}");
    assert_eq!(a.1 + b.1, 6);
    for no in &cases {
        assert_eq!(open_rules(&app, no).await, vec!["red_card"]);
    }
    let (c, d) = tokio::join!(run_once(&app.state), run_once(&node2));
    assert_eq!((c.unwrap().1, d.unwrap().1), (0, 0));
    node2.store.close().await;
    app.stop().await;
}

on_each_backend!(two_nodes_raise_each_warning_once);

async fn configured_steps_with_limits_and_joint_processing(app: App) {
    let admin = app.token("admin").await;
    let items = app.db().store.all_items().await.unwrap();
    let item = items
        .iter()
        .find(|i| i.item.department == "市市场监督管理局" && i.item.name == "食品经营许可证核发")
        .unwrap();
    let code = item.item.impl_code.clone();
    let workflow = json!({ "steps": [
        { "name": "受理审查", "role": "approver", "limit_days": 2 },
        { "name": "局长审批", "role": "head", "limit_days": null }
    ], "joint": true });
    // Only administrators configure; a clerk role on a step is refused.
    let bad = json!({ "steps": [{ "name": "收件", "role": "clerk", "limit_days": 1 }] });
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/admin/items/{code}/workflow")))
        .bearer_auth(&admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/admin/items/{code}/workflow")))
        .bearer_auth(&app.token("head").await)
        .json(&workflow)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/admin/items/{code}/workflow")))
        .bearer_auth(&admin)
        .json(&workflow)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, w) = get(&app, "", &format!("/api/v1/items/{code}/workflow")).await;
    assert_eq!(w["steps"][0]["name"], "受理审查");
    assert_eq!(w["extension_cap"], Value::Null, "unset: the statutory cap");
    // An item's own extension cap (laws and regulations may set one) is kept, within reason.
    let put = |body: Value| {
        reqwest::Client::new()
            .put(app.url(&format!("/api/v1/admin/items/{code}/workflow")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let mut capped = workflow.clone();
    capped["extension_cap"] = json!(61);
    assert_eq!(
        put(capped).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A case follows the configured steps; its first step has a 2-working-day limit.
    let case = accepted_case(&app, "43130219700101009").await;
    assert_eq!(case["step"], "受理审查");
    let no = case["case_no"].as_str().unwrap().to_string();
    // Accepted Mon 2 Mar: the step is due Wed 4 Mar; on Thu 5 Mar it is overdue while
    // the case as a whole is still in time (promised 10 working days).
    advance_to(&app, "2026-03-04");
    run_once(&app.state).await.unwrap();
    assert!(open_rules(&app, &no).await.is_empty());
    advance_to(&app, "2026-03-05");
    run_once(&app.state).await.unwrap();
    assert_eq!(open_rules(&app, &no).await, vec!["step_overdue"]);
    // Passing the step ends that record.
    let approver = app.token("approver").await;
    let (_, now) = get(&app, &approver, &format!("/api/v1/cases/{no}")).await;
    let (s, c) = post(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/commands"),
        json!({ "expected_version": now["version"], "action": "pass", "opinion": "同意" }),
    )
    .await;
    assert_eq!((s, c["step"].as_str()), (StatusCode::OK, Some("局长审批")));
    assert!(open_rules(&app, &no).await.is_empty());
    // 《行政许可法》第四十二条第二款: joint processing runs 45 working days (Mon 2 Mar
    // 2026 → Fri 8 May, with 清明 and 劳动节 off) and may be extended by 15 — the part
    // beyond 10 only with the approval of 本级人民政府负责人.
    assert_eq!(c["legal_due"], "2026-05-08", "{c}");
    let head = app.token("head").await;
    let (s, e) = post(&app, &head, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": c["version"], "action": "extend", "days": 15, "reason": "联合审查" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("本级人民政府负责人"));
    let (s, c) = post(&app, &head, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": c["version"], "action": "extend", "days": 15, "reason": "联合审查", "approved_by_government": true })).await;
    assert_eq!(
        (s, c["extension_days"].as_u64()),
        (StatusCode::OK, Some(15)),
        "{c}"
    );
    app.stop().await;
}

on_each_backend!(configured_steps_with_limits_and_joint_processing);

async fn late_extension_refused_breach_kept_and_delivery_watched(app: App) {
    let case = accepted_case(&app, "43130219700101021").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    let legal = case["legal_due"].as_str().unwrap().to_string();
    // The day after the legal limit: 《行政许可法》第四十二条 — too late to extend.
    let after =
        chrono::NaiveDate::parse_from_str(&legal, "%Y-%m-%d").unwrap() + chrono::Duration::days(1);
    advance_to(&app, &after.to_string());
    run_once(&app.state).await.unwrap();
    assert!(open_rules(&app, &no)
        .await
        .contains(&"legal_breach".to_string()));
    let head = app.token("head").await;
    let (s, e) = post(&app, &head, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": case["version"], "action": "extend", "days": 5, "reason": "情况复杂" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("届满"), "{e}");
    // Deciding late ends the timers but leaves 超期办结 on record for good.
    let approver = app.token("approver").await;
    let mut v = case["version"].as_i64().unwrap();
    for token in [&approver, &approver, &head] {
        let (s, c) = post(
            &app,
            token,
            &format!("/api/v1/cases/{no}/commands"),
            json!({ "expected_version": v, "action": "pass", "opinion": "同意" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{c}");
        v = c["version"].as_i64().unwrap();
    }
    assert_eq!(open_rules(&app, &no).await, vec!["late_completion"]);
    // 《行政许可法》第四十四条: not delivered within 10 working days of the decision.
    let overdue = after + chrono::Duration::days(20);
    advance_to(&app, &overdue.to_string());
    run_once(&app.state).await.unwrap();
    assert_eq!(
        open_rules(&app, &no).await,
        vec!["delivery_overdue", "late_completion"]
    );
    let clerk = app.token("clerk").await;
    let (s, c) = post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{no}/commands"),
        json!({ "expected_version": v, "action": "register_delivery", "waybill": "" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(open_rules(&app, &no).await, vec!["late_completion"]);
    app.stop().await;
}

on_each_backend!(late_extension_refused_breach_kept_and_delivery_watched);

async fn an_items_own_extension_cap_reaches_its_cases(app: App) {
    let admin = app.token("admin").await;
    let items = app.db().store.all_items().await.unwrap();
    let code = items
        .iter()
        .find(|i| i.item.department == "市市场监督管理局" && i.item.name == "食品经营许可证核发")
        .unwrap()
        .item
        .impl_code
        .clone();
    // 《行政许可法》第四十二条第一款: 法律、法规另有规定的，依照其规定 — here 5 days.
    let r = reqwest::Client::new()
        .put(app.url(&format!("/api/v1/admin/items/{code}/workflow")))
        .bearer_auth(&admin)
        .json(&json!({ "steps": [{ "name": "审批", "role": "head", "limit_days": null }], "extension_cap": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let case = accepted_case(&app, "43130219700101031").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    let head = app.token("head").await;
    let (s, e) = post(&app, &head, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": case["version"], "action": "extend", "days": 6, "reason": "情况复杂" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("5个工作日"), "{e}");
    let (s, c) = post(&app, &head, &format!("/api/v1/cases/{no}/commands"), json!({ "expected_version": case["version"], "action": "extend", "days": 5, "reason": "情况复杂" })).await;
    assert_eq!(
        (s, c["extension_days"].as_u64()),
        (StatusCode::OK, Some(5)),
        "{c}"
    );
    app.stop().await;
}

on_each_backend!(an_items_own_extension_cap_reaches_its_cases);
