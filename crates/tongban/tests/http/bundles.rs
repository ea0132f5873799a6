//! 一件事一次办 (issue #17): the definitions, one application creating real member cases,
//! members waiting for their prerequisite and citing its licence, the refusal rule, the
//! critical path across a holiday, who may read a bundle, and the figures.

use super::{get, post, App, PDF};
use chrono::{TimeZone, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn upload(app: &App, token: &str) -> String {
    let r: Value = Client::new()
        .post(app.url("/api/v1/files"))
        .bearer_auth(token)
        .body(PDF.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["sha256"].as_str().unwrap().to_string()
}

/// Every required material of the definition's merged list that is not a prerequisite's
/// licence, as one uploaded file each.
async fn materials_of(app: &App, token: &str, code: &str) -> Vec<Value> {
    let (s, def) = get(app, token, &format!("/api/v1/bundles/{code}")).await;
    assert_eq!(s, StatusCode::OK, "{def}");
    let sha = upload(app, token).await;
    def["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["required"] == true)
        .map(|m| json!({ "name": m["name"], "sha256": sha }))
        .collect()
}

async fn apply_qykb(app: &App, answers: Value, key: &str) -> (StatusCode, Value) {
    let ent = app.token("enterprise").await;
    let materials = materials_of(app, &ent, "qykb").await;
    post(
        app,
        &ent,
        "/api/v1/bundles/qykb/applications",
        json!({
            "answers": answers,
            "fields": { "企业名称": "娄星市星辰科技有限公司", "企业类型": "有限责任公司", "经营范围": "软件开发" },
            "materials": materials,
            "delivery": "electronic",
            "idempotency_key": key,
        }),
    )
    .await
}

fn member<'a>(b: &'a Value, item: &str) -> &'a Value {
    b["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["item"] == item)
        .unwrap_or_else(|| panic!("{item} not in {b}"))
}

fn items_of(b: &Value) -> Vec<String> {
    b["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["item"].as_str().unwrap().to_string())
        .collect()
}

async fn act(app: &App, who: &str, no: &str, mut body: Value) -> Value {
    let t = app.token(who).await;
    let (_, c) = get(app, &t, &format!("/api/v1/cases/{no}")).await;
    body["expected_version"] = c["version"].clone();
    let (s, v) = post(app, &t, &format!("/api/v1/cases/{no}/commands"), body).await;
    assert_eq!(s, StatusCode::OK, "{who} on {no}: {v}");
    v
}

/// 受理 at the window, two passes by the approver, 准予 by the head (市场监管局).
async fn approve_setup(app: &App, no: &str) {
    act(app, "clerk", no, json!({ "action": "accept" })).await;
    for who in ["approver", "approver", "head"] {
        act(app, who, no, json!({ "action": "pass", "opinion": "同意" })).await;
    }
}

async fn bundle(app: &App, who: &str, no: &str) -> (StatusCode, Value) {
    let t = app.token(who).await;
    get(app, &t, &format!("/api/v1/bundle-cases/{no}")).await
}

async fn applications(app: &App) -> u64 {
    let v: Value = reqwest::get(app.url("/api/v1/bundle-figures"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["applications"].as_u64().unwrap())
        .sum()
}

async fn answers_select_the_right_items(app: App) {
    let v: Value = reqwest::get(app.url("/api/v1/bundles"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qykb = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "qykb")
        .expect("企业开办 is defined");
    assert_eq!(qykb["name"], "企业开办");
    assert_eq!(qykb["lead_department"], "市市场监督管理局");
    assert_eq!(qykb["items"].as_array().unwrap().len(), 5);
    assert!(v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["name"] == "新生儿出生"));
    let def: Value = reqwest::get(app.url("/api/v1/bundles/qykb"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(def["questions"].as_array().unwrap().len(), 3, "{def}");
    assert_eq!(def["promised_days"], 3);
    assert_eq!(def["completion"], "unified");

    // 刻章 yes, 发票 no, 员工 yes: 设立登记 now, 公章刻制, 社保 and 公积金 after it.
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "yes", "invoice": "no", "staff": true }),
        "qykb-1",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no = b["bundle_no"].as_str().unwrap().to_string();
    assert_eq!(
        items_of(&b),
        [
            "企业设立登记",
            "印章刻制备案",
            "企业职工基本养老保险参保登记",
            "住房公积金单位缴存登记"
        ]
    );
    let setup = member(&b, "企业设立登记");
    assert_eq!(setup["status"], "submitted");
    let setup_no = setup["case_no"].as_str().unwrap().to_string();
    for waiting in [
        "印章刻制备案",
        "企业职工基本养老保险参保登记",
        "住房公积金单位缴存登记",
    ] {
        assert_eq!(member(&b, waiting)["status"], "waiting", "{b}");
        assert!(member(&b, waiting)["case_no"].is_null());
    }
    // Monday 2 March: 设立登记 (1 working day), then 公章刻制 (1): Wednesday.
    assert_eq!(b["promised_due"], "2026-03-04");
    assert_eq!(b["limit_due"], "2026-03-05");
    assert_eq!(b["status"], "processing");
    // The member case is a real case of its department, pointing back to the bundle.
    let ent = app.token("enterprise").await;
    let (_, c) = get(&app, &ent, &format!("/api/v1/cases/{setup_no}")).await;
    assert_eq!(c["bundle_no"], no.as_str());
    assert_eq!(c["item_name"], "企业设立登记");
    assert_eq!(c["channel"], "online");

    // The same application again (same key): the same bundle, nothing new.
    let (s, again) = apply_qykb(
        &app,
        json!({ "seal": "yes", "invoice": "no", "staff": true }),
        "qykb-1",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["bundle_no"], no.as_str());
    assert_eq!(member(&again, "企业设立登记")["case_no"], setup_no.as_str());
    assert_eq!(applications(&app).await, 1);

    // Other answers, other items.
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "否", "invoice": "是", "staff": "no" }),
        "qykb-2",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(items_of(&b), ["企业设立登记", "发票领用"]);
    assert_eq!(applications(&app).await, 2);

    // Refused, nothing stored: an unknown 一件事, a question unanswered, an answer it does
    // not have, a question it does not ask, a field it does not have, a material missing.
    let (s, e) = post(
        &app,
        &ent,
        "/api/v1/bundles/nothing/applications",
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    for (answers, why) in [
        (json!({ "seal": "yes", "invoice": "no" }), "员工"),
        (
            json!({ "seal": "maybe", "invoice": "no", "staff": "no" }),
            "maybe",
        ),
        (
            json!({ "seal": "yes", "invoice": "no", "staff": "no", "x": "y" }),
            "x",
        ),
        (
            json!({ "seal": [1], "invoice": "no", "staff": "no" }),
            "seal",
        ),
    ] {
        let (s, e) = apply_qykb(&app, answers, "bad").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{e}");
    }
    let (s, e) = post(
        &app,
        &ent,
        "/api/v1/bundles/qykb/applications",
        json!({ "answers": { "seal": "no", "invoice": "no", "staff": "no" }, "fields": { "企业名称": "x", "身高": "1" } }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = post(
        &app,
        &ent,
        "/api/v1/bundles/qykb/applications",
        json!({ "answers": { "seal": "no", "invoice": "no", "staff": "no" }, "fields": { "企业名称": "x" } }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("缺少必要材料"),
        "{e}"
    );
    let (s, e) = post(
        &app,
        &ent,
        "/api/v1/bundles/qykb/applications",
        json!({ "answers": { "seal": "no", "invoice": "no", "staff": "no" }, "fields": {} }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("企业名称"), "{e}");
    assert_eq!(applications(&app).await, 2);
    // Only applicants and window clerks apply.
    let approver = app.token("approver").await;
    let (s, _) = post(
        &app,
        &approver,
        "/api/v1/bundles/qykb/applications",
        json!({ "answers": {} }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}
on_each_backend!(answers_select_the_right_items);

async fn a_dependent_case_waits_and_reuses_the_licence(app: App) {
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "yes", "invoice": "no", "staff": "no" }),
        "dep",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no = b["bundle_no"].as_str().unwrap().to_string();
    let setup_no = member(&b, "企业设立登记")["case_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Accepted but not decided: 公章刻制 still waits.
    act(&app, "clerk", &setup_no, json!({ "action": "accept" })).await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(member(&b, "印章刻制备案")["status"], "waiting", "{b}");
    // Decided the next day: the licence is signed and 公章刻制 starts, citing it.
    app.clock.advance(chrono::Duration::days(1));
    for who in ["approver", "approver", "head"] {
        act(
            &app,
            who,
            &setup_no,
            json!({ "action": "pass", "opinion": "同意" }),
        )
        .await;
    }
    let (s, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let seal = member(&b, "印章刻制备案");
    assert_eq!(seal["status"], "submitted", "{b}");
    let seal_no = seal["case_no"].as_str().unwrap().to_string();
    let ent = app.token("enterprise").await;
    let (_, setup) = get(&app, &ent, &format!("/api/v1/cases/{setup_no}")).await;
    assert_eq!(setup["outcome"], "approved");
    let licence = app
        .db()
        .store
        .licence_of_case(&setup_no)
        .await
        .unwrap()
        .expect("营业执照 signed");
    let (_, c) = get(&app, &ent, &format!("/api/v1/cases/{seal_no}")).await;
    let cited = c["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "营业执照")
        .unwrap_or_else(|| panic!("营业执照 not cited: {c}"));
    assert_eq!(cited["licence_id"], licence.licence_id.as_str());
    assert!(cited["sha256"].is_null(), "免提交: no upload");
    assert_eq!(c["bundle_no"], no.as_str());
    // Its own department and clock: 市公安局, received the day the prerequisite was 办结.
    let police = app
        .db()
        .store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "市公安局")
        .unwrap();
    assert_eq!(c["department_id"], police.id);
    // The use of the licence is on its record (as for any 免提交).
    let events = app
        .db()
        .store
        .licence_uses(&licence.licence_id)
        .await
        .unwrap();
    assert!(
        events.iter().any(|u| u.0 == seal_no),
        "licence use recorded"
    );
    // The timeline tells the story.
    let kinds: Vec<&str> = b["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["applied", "member_started", "member_started"],
        "{b}"
    );
    // 公章刻制 accepted at the window (承诺 1 day) and completed: the bundle is 办结 when all are.
    act(&app, "clerk", &seal_no, json!({ "action": "accept" })).await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(b["status"], "processing");
    // 2 March applied, 3 March 设立登记 办结, 公章刻制 accepted 3 March: promised 4 March.
    assert_eq!(b["promised_due"], "2026-03-04", "{b}");
    app.stop().await;
}
on_each_backend!(a_dependent_case_waits_and_reuses_the_licence);

async fn a_unified_bundle_completes_and_is_measured(app: App) {
    // 设立登记 then 发票领用 (即办件).
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "no", "invoice": "yes", "staff": "no" }),
        "all",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no = b["bundle_no"].as_str().unwrap().to_string();
    let setup_no = member(&b, "企业设立登记")["case_no"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(chrono::Duration::days(1));
    approve_setup(&app, &setup_no).await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    let invoice_no = member(&b, "发票领用")["case_no"]
        .as_str()
        .expect("发票领用 started")
        .to_string();
    app.clock.advance(chrono::Duration::days(1));
    act(&app, "clerk", &invoice_no, json!({ "action": "accept" })).await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(b["status"], "completed", "{b}");
    assert_eq!(b["completed_on"], "2026-03-04");
    assert_eq!(
        b["events"].as_array().unwrap().last().unwrap()["kind"],
        "completed"
    );
    let v: Value = reqwest::get(app.url("/api/v1/bundle-figures"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let f = v["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "qykb")
        .unwrap();
    assert_eq!(f["applications"], 1);
    assert_eq!(f["completed"], 1);
    assert_eq!(f["median_working_days"], 2.0);
    assert_eq!(f["mean_working_days"], 2.0);
    assert_eq!(f["within_promise_share"], 1.0);
    // The bundles page shows the figure.
    let html = reqwest::get(app.url("/bundles"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("企业开办") && html.contains("2.0 / 2.0"),
        "{html}"
    );
    app.stop().await;
}
on_each_backend!(a_unified_bundle_completes_and_is_measured);

async fn a_refusal_withdraws_the_rest(app: App) {
    // 企业开办 withdraws the rest: 设立登记 approved, then 公章刻制 not accepted; 发票, 社保
    // and 公积金, running, are withdrawn.
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "yes", "invoice": "yes", "staff": "yes" }),
        "ref",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no = b["bundle_no"].as_str().unwrap().to_string();
    approve_setup(
        &app,
        member(&b, "企业设立登记")["case_no"].as_str().unwrap(),
    )
    .await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    let seal_no = member(&b, "印章刻制备案")["case_no"]
        .as_str()
        .unwrap()
        .to_string();
    act(
        &app,
        "clerk",
        &seal_no,
        json!({ "action": "not_accept", "category": "other", "reasons": "申请人已自行刻制公章" }),
    )
    .await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(member(&b, "印章刻制备案")["status"], "not_accepted", "{b}");
    for item in [
        "发票领用",
        "企业职工基本养老保险参保登记",
        "住房公积金单位缴存登记",
    ] {
        assert_eq!(member(&b, item)["status"], "withdrawn", "{b}");
    }
    assert_eq!(member(&b, "企业设立登记")["status"], "completed");
    assert_eq!(b["status"], "closed", "{b}");
    let kinds: Vec<&str> = b["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"member_ended"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "member_withdrawn").count(),
        3,
        "{kinds:?}"
    );
    // The withdrawal is in the member case's own ledger.
    let ent = app.token("enterprise").await;
    let social = member(&b, "企业职工基本养老保险参保登记")["case_no"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, events) = get(&app, &ent, &format!("/api/v1/cases/{social}/events")).await;
    assert!(events.to_string().contains("按一件事规则撤回"), "{events}");

    // 新生儿出生 continues: 预防接种证 not accepted, 出生登记 goes on.
    let clerk = app.token("clerk").await;
    let zhangsan = app
        .db()
        .store
        .applicant_of_user(
            app.db()
                .store
                .users()
                .await
                .unwrap()
                .iter()
                .find(|u| u.username == "zhangsan")
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .unwrap();
    let (s, b) = post(
        &app,
        &clerk,
        "/api/v1/bundles/xsecs/applications",
        json!({
            "answers": { "medical": "no", "sscard": "no" },
            "fields": { "新生儿姓名": "张小宝", "出生日期": "2026-02-20" },
            "materials": [{ "name": "出生医学证明首次签发登记表" }, { "name": "父母居民身份证" }, { "name": "出生医学证明" }, { "name": "居民户口簿" }],
            "applicant": { "id_number": zhangsan.id_number },
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(
        items_of(&b),
        ["出生医学证明签发", "出生登记", "预防接种证办理"]
    );
    let no = b["bundle_no"].as_str().unwrap().to_string();
    let cert = member(&b, "出生医学证明签发")["case_no"]
        .as_str()
        .unwrap()
        .to_string();
    act(&app, "clerk", &cert, json!({ "action": "accept" })).await;
    let (_, b) = bundle(&app, "clerk", &no).await;
    let vaccine = member(&b, "预防接种证办理")["case_no"]
        .as_str()
        .expect("预防接种证 started")
        .to_string();
    act(
        &app,
        "clerk",
        &vaccine,
        json!({ "action": "not_accept", "category": "other", "reasons": "已在出生医院办理" }),
    )
    .await;
    let (_, b) = bundle(&app, "clerk", &no).await;
    assert_eq!(member(&b, "出生登记")["status"], "submitted", "{b}");
    assert_eq!(b["status"], "processing");
    app.stop().await;
}
on_each_backend!(a_refusal_withdraws_the_rest);

async fn the_critical_path_is_right_across_national_day(app: App) {
    // Wednesday 30 September 2026 (Beijing); 1–7 October is the 国庆 holiday, Saturday
    // 10 October a make-up working day.
    app.clock.advance(
        Utc.with_ymd_and_hms(2026, 9, 30, 1, 0, 0).unwrap()
            - Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(),
    );
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "yes", "invoice": "no", "staff": "no" }),
        "gq",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // 设立登记 1 working day (8 October), then 公章刻制 1 (9 October).
    assert_eq!(b["promised_due"], "2026-10-09", "{b}");
    // The 3-day promise ends on the make-up Saturday.
    assert_eq!(b["limit_due"], "2026-10-10", "{b}");
    // Recomputed as cases move: 设立登记 decided on 30 September pulls the path in.
    let no = b["bundle_no"].as_str().unwrap().to_string();
    approve_setup(
        &app,
        member(&b, "企业设立登记")["case_no"].as_str().unwrap(),
    )
    .await;
    let (_, b) = bundle(&app, "enterprise", &no).await;
    assert_eq!(b["promised_due"], "2026-10-08", "{b}");
    app.stop().await;
}
on_each_backend!(the_critical_path_is_right_across_national_day);

async fn staff_see_the_bundle_from_its_member_cases(app: App) {
    let (s, b) = apply_qykb(
        &app,
        json!({ "seal": "no", "invoice": "no", "staff": "no" }),
        "read",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let no = b["bundle_no"].as_str().unwrap().to_string();
    for (who, status) in [
        ("enterprise", StatusCode::OK),
        ("zhangsan", StatusCode::NOT_FOUND),
        ("approver", StatusCode::OK),
        ("clerk", StatusCode::OK),
        ("supervisor", StatusCode::OK),
    ] {
        let (s, v) = bundle(&app, who, &no).await;
        assert_eq!(s, status, "{who}: {v}");
    }
    let (s, _) = get(&app, "", &format!("/api/v1/bundle-cases/{no}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = bundle(&app, "enterprise", "YJS00000000000000").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Past the promised total limit (3 working days from Monday 2 March): red on the
    // supervision board.
    app.clock.advance(chrono::Duration::days(4));
    let (c, _) = app.sign_in("supervisor").await;
    let html = super::page_text(&c, app.url("/supervision")).await;
    let at = html
        .find("id=\"bundle-lights\"")
        .expect("the board lists the bundle");
    assert!(
        html[at..].contains(&no) && html[at..].contains("红灯超期"),
        "{html}"
    );
    // The staff read is audited.
    let audit = app.db().store.audit_log(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "approver" && e.detail == format!("bundle {no}")),
        "bundle read audited"
    );
    app.stop().await;
}
on_each_backend!(staff_see_the_bundle_from_its_member_cases);

async fn definitions_are_imported_and_exported_as_data(app: App) {
    let admin = app.token("admin").await;
    let r = Client::new()
        .get(app.url("/api/v1/admin/bundles/qykb"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut def: Value = r.json().await.unwrap();
    assert_eq!(def["version"], 1);
    def["promised_days"] = json!(2);
    let (s, v) = post(&app, &admin, "/api/v1/admin/bundles", def.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["version"], 2);
    let got: Value = reqwest::get(app.url("/api/v1/bundles/qykb"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["promised_days"], 2);
    assert_eq!(got["version"], 2);
    // A cycle, a member not in the catalog: refused, nothing stored.
    let mut bad = def.clone();
    bad["items"][0]["after"] = json!(["seal"]);
    let (s, e) = post(&app, &admin, "/api/v1/admin/bundles", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let mut bad = def.clone();
    bad["items"][0]["item"] = json!("不存在的事项");
    let (s, e) = post(&app, &admin, "/api/v1/admin/bundles", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let got: Value = reqwest::get(app.url("/api/v1/bundles/qykb"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["version"], 2);
    app.stop().await;
}
on_each_backend!(definitions_are_imported_and_exported_as_data);

/// In a real browser: the enterprise applies for 企业开办 online (one form, one upload per
/// material of the merged list), and the clerk receives 新生儿出生 at the window.
async fn browser_applies_online_and_at_the_window(app: App) {
    use super::browser::{browser_available, Driver};
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("材料.pdf");
    std::fs::write(&pdf, PDF).unwrap();
    let pdf = pdf.display().to_string();
    let def: Value = reqwest::get(app.url("/api/v1/bundles/qykb"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let d = Driver::start().await;

    d.sign_in(&app, "enterprise").await;
    d.goto(&app.url("/")).await;
    d.click("#bundles-link").await;
    d.click("#bundle-qykb a").await;
    d.wait_text("h1", "企业开办").await;
    d.click("#q-seal-yes").await;
    d.click("#q-invoice-no").await;
    d.click("#q-staff-no").await;
    d.type_into("#f-0", "娄星市星辰科技有限公司").await;
    for (i, m) in def["materials"].as_array().unwrap().iter().enumerate() {
        if m["from_item"].is_null() && m["required"] == true {
            let id = d.find(&format!("#file{i}")).await;
            d.call(
                reqwest::Method::POST,
                &format!("/element/{id}/value"),
                Some(json!({ "text": pdf })),
            )
            .await;
        }
    }
    d.click("#submit-bundle").await;
    d.wait_text("#bundle-status", "办理中").await;
    d.wait_text("#member-setup", "待预审").await;
    d.wait_text("#member-seal", "等待前置事项办结").await;
    assert!(d.text("#promised-due").await.starts_with("2026-03-04"));

    let zhangsan = app
        .db()
        .store
        .applicant_of_user(
            app.db()
                .store
                .users()
                .await
                .unwrap()
                .iter()
                .find(|u| u.username == "zhangsan")
                .unwrap()
                .id,
        )
        .await
        .unwrap()
        .unwrap();
    d.sign_in(&app, "clerk").await;
    d.goto(&app.url("/bundles/xsecs")).await;
    d.type_into("#applicant-id", &zhangsan.id_number).await;
    d.type_into("#applicant-name", &zhangsan.name).await;
    d.click("#q-medical-yes").await;
    d.click("#q-sscard-no").await;
    d.type_into("#f-0", "张小宝").await;
    d.click("#submit-bundle").await;
    d.wait_text("h1", "新生儿出生").await;
    d.wait_text("#member-cert", "待预审").await;
    d.wait_text("#member-medical", "等待前置事项办结").await;
    d.quit().await;

    let (_, mine) = get(&app, &app.token("zhangsan").await, "/api/v1/my/cases").await;
    assert!(
        mine.to_string().contains("出生医学证明签发"),
        "the window application is zhangsan's: {mine}"
    );
    app.stop().await;
}
on_each_backend!(browser_applies_online_and_at_the_window);

/// The apply form shows why an application is refused, on the same page, and stores nothing.
async fn the_apply_form_refuses_with_its_reason(app: App) {
    let (c, csrf) = app.sign_in("enterprise").await;
    // Field names as a browser sends them (UTF-8, not percent-encoded).
    let form = reqwest::multipart::Form::new()
        .percent_encode_noop()
        .text("_csrf", csrf)
        .text("q.seal", "yes")
        .text("q.invoice", "no")
        .text("q.staff", "no")
        .text("f.企业名称", "娄星市星辰科技有限公司")
        .text("delivery", "electronic");
    let r = c
        .post(app.url("/bundles/qykb/apply"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("缺少必要材料"), "{html}");
    assert!(
        html.contains("id=\"bundle-form\""),
        "the form is shown again"
    );
    // A clerk must name the applicant.
    let (c, csrf) = app.sign_in("clerk").await;
    // Field names as a browser sends them (UTF-8, not percent-encoded).
    let form = reqwest::multipart::Form::new()
        .percent_encode_noop()
        .text("_csrf", csrf)
        .text("q.medical", "no")
        .text("q.sscard", "no")
        .text("f.新生儿姓名", "张小宝");
    let r = c
        .post(app.url("/bundles/xsecs/apply"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("申请人信息"));
    assert_eq!(applications(&app).await, 0);
    app.stop().await;
}
on_each_backend!(the_apply_form_refuses_with_its_reason);
