//! The approval workflow over real HTTP on both backends.

use super::{get, page_text, post, App, PDF};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

pub(crate) async fn upload(app: &App, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = Client::new()
        .post(app.url("/api/v1/files"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A promised item of the demo approver's department (市场监管局) and its required materials.
pub async fn scj_item(app: &App) -> (String, Vec<String>) {
    let v: Value = reqwest::get(app.url("/api/v1/items?q=食品经营许可证核发"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["columns"]["实施主体"] == "市市场监督管理局" && i["columns"]["办件类型"] == "承诺件"
        })
        .expect("a promised 市场监管 item");
    let required = item["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["材料必要性"] == "必要")
        .map(|m| m["材料名称"].as_str().unwrap().to_string())
        .collect();
    (item["impl_code"].as_str().unwrap().to_string(), required)
}

pub async fn apply_online(
    app: &App,
    token: &str,
    code: &str,
    required: &[String],
    key: &str,
) -> (StatusCode, Value) {
    let mut materials = vec![];
    for name in required {
        let (s, f) = upload(app, token, PDF.to_vec()).await;
        assert_eq!(s, StatusCode::CREATED);
        materials.push(json!({ "name": name, "sha256": f["sha256"] }));
    }
    post(app, token, "/api/v1/cases", json!({ "item": code, "delivery": "post", "address": "娄星区长青中街1号 张三 13800000000", "materials": materials, "idempotency_key": key })).await
}

async fn act(app: &App, token: &str, case: &Value, body: Value) -> (StatusCode, Value) {
    let mut b = body;
    b["expected_version"] = case["version"].clone();
    post(
        app,
        token,
        &format!(
            "/api/v1/cases/{}/commands",
            case["case_no"].as_str().unwrap()
        ),
        b,
    )
    .await
}

async fn online_application_through_correction_approval_and_post(app: App) {
    let (zs, clerk, approver, head) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("head").await,
    );
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "k-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    assert_eq!(case["status"], "submitted");
    assert_eq!(case["case_no"].as_str().unwrap().len(), 20);
    // Missing required materials are refused.
    let (s, e) = post(
        &app,
        &zs,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["message"].as_str().unwrap().contains("缺少必要材料"));

    let (s, case) = act(&app, &clerk, &case, json!({ "action": "request_correction", "items": ["营业执照副本不清晰，请重新上传", "补充经营场所平面图"] })).await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["status"], "awaiting_correction");
    assert_eq!(case["correction_items"].as_array().unwrap().len(), 2);
    // The applicant answers online.
    let (_, f) = upload(&app, &zs, PDF.to_vec()).await;
    let materials = json!([{ "name": "补正材料", "sha256": f["sha256"] }]);
    // Through the API the files are uploaded first; an answer without files is refused.
    let (s, e) = act(
        &app,
        &zs,
        &case,
        json!({ "action": "submit_correction", "materials": [] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = act(&app, &zs, &case, json!({ "action": "submit_correction", "materials": [{ "name": "补正材料", "sha256": "00".repeat(32) }] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // Issue #12: each file answers one item of the notice; a file naming none is refused.
    let (s, e) = act(
        &app,
        &zs,
        &case,
        json!({ "action": "submit_correction", "materials": materials }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("逐项"), "{e}");
    // A partial answer is kept and the case waits for the rest.
    let (s, partial) = act(&app, &zs, &case, json!({ "action": "submit_correction", "materials": [{ "item": "补充经营场所平面图", "sha256": f["sha256"] }] })).await;
    assert_eq!(
        (s, partial["status"].as_str()),
        (StatusCode::OK, Some("awaiting_correction")),
        "{partial}"
    );
    let (s, via_api) = act(&app, &zs, &partial, json!({ "action": "submit_correction", "materials": [{ "name": "营业执照副本不清晰，请重新上传", "sha256": f["sha256"] }] })).await;
    assert_eq!(
        (s, via_api["status"].as_str()),
        (StatusCode::OK, Some("submitted")),
        "{via_api}"
    );
    // A second notice, answered on the case page with a multipart upload.
    let (_, case) = act(
        &app,
        &clerk,
        &via_api,
        json!({ "action": "request_correction", "items": ["营业执照副本不清晰，请重新上传"] }),
    )
    .await;
    let case = submit_correction_via_page(&app, case["case_no"].as_str().unwrap()).await;
    assert_eq!(case["status"], "submitted");
    // 一次告知 (《行政许可法》第三十二条第一款第四项): the second notice is on record.
    let sup = app.token("supervisor").await;
    let (_, recs) = get(
        &app,
        &sup,
        &format!(
            "/api/v1/supervision/records?open=true&case_no={}",
            case["case_no"].as_str().unwrap()
        ),
    )
    .await;
    let rules: Vec<&str> = recs["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["repeated_correction_notice"]);

    let (s, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (case["status"].as_str(), case["step"].as_str()),
        (Some("in_approval"), Some("承办"))
    );
    assert!(case["promised_due"].is_string() && case["legal_due"].is_string());
    // The clerk cannot approve; the approver passes 承办 and 审核; 批准 is the head's.
    let (s, _) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "pass", "opinion": "同意" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "pass", "opinion": "材料齐全" }),
    )
    .await;
    let (_, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "pass", "opinion": "符合条件" }),
    )
    .await;
    let (s, _) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "pass", "opinion": "准予" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, case) = act(
        &app,
        &head,
        &case,
        json!({ "action": "pass", "opinion": "准予许可" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (case["status"].as_str(), case["outcome"].as_str()),
        (Some("completed"), Some("approved"))
    );
    // Post needs a waybill number.
    let (s, _) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "register_delivery", "waybill": "" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, case) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "register_delivery", "waybill": "EA123456789CN" }),
    )
    .await;
    assert_eq!(case["status"], "dispatched");
    let (_, case) = act(&app, &zs, &case, json!({ "action": "confirm_receipt" })).await;
    assert_eq!(case["status"], "delivered");

    let no = case["case_no"].as_str().unwrap();
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "submitted",
            "correction_requested",
            "correction_submitted",
            // the rest of the answer (issue #12: the one before was partial)
            "correction_submitted",
            "correction_requested",
            "correction_submitted",
            "accepted",
            "step_passed",
            "step_passed",
            "step_passed",
            "completed",
            "licence_issued",
            "delivery_registered",
            "receipt_confirmed"
        ]
    );
    let (_, mine) = get(&app, &zs, "/api/v1/my/cases").await;
    assert!(mine["messages"].as_array().unwrap().len() >= kinds.len() - 1);
    assert_eq!(app.db().store.verify_chain().await.unwrap(), None);
    app.stop().await;
}

on_each_backend!(online_application_through_correction_approval_and_post);

/// The applicant answers a correction notice on the case page (multipart upload).
async fn submit_correction_via_page(app: &App, no: &str) -> Value {
    let (browser, _) = app.sign_in("zhangsan").await;
    let html = page_text(&browser, app.url(&format!("/cases/{no}"))).await;
    assert!(
        html.contains("营业执照副本不清晰"),
        "the notice is shown to the applicant"
    );
    let csrf = super::csrf_of(&html);
    let version = html
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form = reqwest::multipart::Form::new()
        .text("version", version)
        .part(
            "correction",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("补正.pdf"),
        );
    let r = browser
        .post(app.url(&format!("/cases/{no}/correction?_csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let token = app.token("zhangsan").await;
    get(app, &token, &format!("/api/v1/cases/{no}")).await.1
}

async fn retried_submission_makes_one_case_and_concurrent_actions_conflict(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let (code, required) = scj_item(&app).await;
    let (s1, a) = apply_online(&app, &zs, &code, &required, "same-key").await;
    let (s2, b) = apply_online(&app, &zs, &code, &required, "same-key").await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(a["case_no"], b["case_no"]);
    let (_, mine) = get(&app, &zs, "/api/v1/my/cases").await;
    assert_eq!(mine["total"], 1);

    // Two clerks act on version 1 at once: one wins, the other gets 409.
    let no = a["case_no"].as_str().unwrap();
    let path = format!("/api/v1/cases/{no}/commands");
    let (r1, r2) = tokio::join!(
        post(
            &app,
            &clerk,
            &path,
            json!({ "expected_version": 1, "action": "accept" })
        ),
        post(
            &app,
            &clerk,
            &path,
            json!({ "expected_version": 1, "action": "not_accept", "reasons": "不属于本级受理" })
        )
    );
    let mut statuses = vec![r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
    let loser = if r1.0 == StatusCode::CONFLICT {
        &r1.1
    } else {
        &r2.1
    };
    assert_eq!(loser["code"], "conflict");
    assert!(loser["message"].as_str().unwrap().contains("已被他人处理"));
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    assert_eq!(events.as_array().unwrap().len(), 2);
    app.stop().await;
}

on_each_backend!(retried_submission_makes_one_case_and_concurrent_actions_conflict);

async fn uploads_of_wrong_disguised_or_oversized_files_are_refused(app: App) {
    let zs = app.token("zhangsan").await;
    let (s, e) = upload(&app, &zs, b"just some text, not a document".to_vec()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(e["code"], "unsupported_type");
    // An executable renamed to .pdf: the content decides.
    let (browser, _) = app.sign_in("zhangsan").await;
    let (code, _) = scj_item(&app).await;
    let html = page_text(&browser, app.url(&format!("/apply/{code}"))).await;
    let csrf = super::csrf_of(
        &html
            .replace("?_csrf=", "name=\"_csrf\" value=\"")
            .replace("\" enctype", "\""),
    );
    let form = reqwest::multipart::Form::new()
        .text("delivery", "electronic")
        .part(
            "file0",
            reqwest::multipart::Part::bytes(b"MZ\x90\x00\x03 this is a program".to_vec())
                .file_name("营业执照.pdf"),
        );
    let r = browser
        .post(app.url(&format!("/apply/{code}?_csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().await.unwrap().contains("按文件内容识别"));
    // Over the 10 MB limit.
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (s, e) = upload(&app, &zs, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    // Nothing was stored: no case, no file.
    let (_, mine) = get(&app, &zs, "/api/v1/my/cases").await;
    assert_eq!(mine["total"], 0);
    // A PNG and a JPEG are fine.
    let (s, f) = upload(&app, &zs, tongban_store::objects::sample_png(1240, 1754)).await;
    assert_eq!(
        (s, f["media_type"].as_str()),
        (StatusCode::CREATED, Some("image/png"))
    );
    let (s, f) = upload(&app, &zs, tongban_store::objects::sample_jpeg(1240, 1754)).await;
    assert_eq!(
        (s, f["media_type"].as_str()),
        (StatusCode::CREATED, Some("image/jpeg"))
    );
    // Issue #13 (10): magic bytes alone are not a file of that type.
    for fake in [
        b"%PDF-1.4\n<html><script>alert(1)</script></html>".to_vec(),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        b"PK\x03\x04 OFD.xml".to_vec(),
    ] {
        let (s, _) = upload(&app, &zs, fake).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    app.stop().await;
}

on_each_backend!(uploads_of_wrong_disguised_or_oversized_files_are_refused);

async fn applicants_and_departments_only_reach_their_own_cases(app: App) {
    let (zs, clerk, admin) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("admin").await,
    );
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "k").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    // Another applicant: 404, as if the case did not exist.
    let (s, _) = post(&app, "", "/api/v1/applicants", json!({ "kind": "person", "name": "李四", "id_number": tongban_core::ids::ResidentId::with_check_char("43130219900101123").unwrap().as_str(), "mobile": "13900000000", "username": "lisi", "password": "lisi2026ok" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let lisi = app.token_with("lisi", "lisi2026ok").await;
    let (s, _) = get(&app, &lisi, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = post(
        &app,
        &lisi,
        &format!("/api/v1/cases/{no}/commands"),
        json!({ "expected_version": 1, "action": "withdraw", "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let r = app
        .browser()
        .get(app.url(&format!("/cases/{no}")))
        .bearer_auth(&lisi)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // An approver of another department: 403.
    let depts: Value = reqwest::get(app.url("/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市公安局")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, _) = post(&app, &admin, "/api/v1/admin/users", json!({ "username": "gaj_approver", "display_name": "公安审批", "password": "Gaj-2026-okay", "role": "approver", "department_id": other })).await;
    assert_eq!(s, StatusCode::CREATED);
    let gaj = app.token_with("gaj_approver", "Gaj-2026-okay").await;
    let (_, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    let (s, e) = act(
        &app,
        &gaj,
        &case,
        json!({ "action": "pass", "opinion": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, _) = get(&app, &gaj, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, inbox) = get(&app, &gaj, "/api/v1/inbox").await;
    assert_eq!(inbox["total"], 0);
    let (_, inbox) = get(&app, &app.token("approver").await, "/api/v1/inbox").await;
    assert_eq!(inbox["total"], 1);
    // Nothing changed by the refused attempts.
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(now["version"], case["version"]);
    app.stop().await;
}

on_each_backend!(applicants_and_departments_only_reach_their_own_cases);

async fn illegal_transitions_are_refused_and_store_nothing(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "k").await;
    for (token, body, status) in [
        (
            &zs,
            json!({ "action": "confirm_receipt" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &clerk,
            json!({ "action": "pass", "opinion": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &clerk,
            json!({ "action": "not_accept", "reasons": "" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &clerk,
            json!({ "action": "request_correction", "items": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&zs, json!({ "action": "accept" }), StatusCode::FORBIDDEN),
        (
            &clerk,
            json!({ "action": "fly" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, e) = act(&app, token, &case, body.clone()).await;
        assert_eq!(s, status, "{body} -> {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, now) = get(
        &app,
        &zs,
        &format!("/api/v1/cases/{}", case["case_no"].as_str().unwrap()),
    )
    .await;
    assert_eq!(now["version"], 1);
    // Withdrawal before the decision, then nothing more can happen.
    let (s, case) = act(
        &app,
        &zs,
        &case,
        json!({ "action": "withdraw", "reason": "不再需要" }),
    )
    .await;
    assert_eq!(
        (s, case["status"].as_str()),
        (StatusCode::OK, Some("withdrawn"))
    );
    let (s, _) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

on_each_backend!(illegal_transitions_are_refused_and_store_nothing);

async fn window_intake_and_immediate_items(app: App) {
    let clerk = app.token("clerk").await;
    let items: Value = reqwest::get(app.url("/api/v1/items?q=登记"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all: Value = reqwest::get(app.url("/api/v1/items?page=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = (items, all);
    let store_items = app.db().store.all_items().await.unwrap();
    let immediate = store_items
        .iter()
        .find(|i| {
            i.item.kind == tongban_core::catalog::CaseKind::Immediate
                && i.item.item_type.is_application()
        })
        .unwrap();
    let id = tongban_core::ids::ResidentId::with_check_char("43130219800202003").unwrap();
    // The clerk received every required material on paper (issue #12: 受理 checks the
    // item's checklist).
    let received: Vec<Value> = immediate
        .materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
        .map(|m| json!({ "name": m.name }))
        .collect();
    let body = json!({ "item": immediate.item.impl_code, "delivery": "window", "materials": received, "applicant": { "kind": "person", "id_number": id.as_str(), "name": "王五", "mobile": "13700000000" } });
    let (s, case) = post(&app, &clerk, "/api/v1/cases", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    assert_eq!(case["channel"], "window");
    let (_, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    assert_eq!(
        (case["status"].as_str(), case["outcome"].as_str()),
        (Some("completed"), Some("approved"))
    );
    // The same person at another window is found, not registered twice.
    let (s, case2) = post(&app, &clerk, "/api/v1/cases", body).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(case2["case_no"], case["case_no"]);
    // 《行政许可法》第三十四条第二款: a 即办件 may be refused on the spot, in writing, with
    // reasons and the applicant's rights.
    let (s, e) = act(
        &app,
        &clerk,
        &case2,
        json!({ "action": "refuse", "reasons": "" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, refused) = act(
        &app,
        &clerk,
        &case2,
        json!({ "action": "refuse", "reasons": "申请人不符合法定条件" }),
    )
    .await;
    assert_eq!(
        (s, refused["status"].as_str(), refused["outcome"].as_str()),
        (StatusCode::OK, Some("completed"), Some("refused")),
        "{refused}"
    );
    let (_, events) = get(
        &app,
        &clerk,
        &format!(
            "/api/v1/cases/{}/events",
            refused["case_no"].as_str().unwrap()
        ),
    )
    .await;
    let last = &events.as_array().unwrap().last().unwrap()["event"];
    assert!(
        last["rights"].as_str().unwrap().contains("行政复议"),
        "{last}"
    );
    // A bad certificate number is refused.
    let (s, e) = post(&app, &clerk, "/api/v1/cases", json!({ "item": immediate.item.impl_code, "applicant": { "kind": "person", "id_number": "431302198002020031", "name": "赵六" } })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("身份证号"));
    // Staff search by case number and by applicant certificate number.
    let (_, found) = get(
        &app,
        &clerk,
        &format!("/api/v1/cases?q={}", case["case_no"].as_str().unwrap()),
    )
    .await;
    assert_eq!(found["total"], 1);
    let (_, found) = get(&app, &clerk, &format!("/api/v1/cases?q={}", id.as_str())).await;
    assert_eq!(found["total"], 2);
    let (s, _) = get(&app, &app.token("zhangsan").await, "/api/v1/cases").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}

on_each_backend!(window_intake_and_immediate_items);

async fn special_procedure_extension_and_a_loaded_calendar_year(app: App) {
    let (zs, clerk, approver) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
    );
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "k").await;
    let (_, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    let due0 = case["promised_due"].as_str().unwrap().to_string();
    let (s, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "start_special", "procedure": "检测", "reason": "样品送检", "expected_days": 10 }),
    )
    .await;
    assert_eq!(
        (s, case["status"].as_str()),
        (StatusCode::OK, Some("suspended"))
    );
    app.clock.advance(chrono::Duration::days(7));
    // Sessions last 12 hours: a week later everyone signs in again.
    let (zs, approver, head, admin) = (
        app.token("zhangsan").await,
        app.token("approver").await,
        app.token("head").await,
        app.token("admin").await,
    );
    let (s, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "end_special", "result": "检测合格" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert!(case["paused_days"].as_u64().unwrap() >= 4);
    assert!(case["promised_due"].as_str().unwrap() > due0.as_str());
    let (s, _) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "extend", "days": 5, "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = act(
        &app,
        &head,
        &case,
        json!({ "action": "extend", "days": 11, "reason": "情况复杂" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, case) = act(
        &app,
        &head,
        &case,
        json!({ "action": "extend", "days": 10, "reason": "情况复杂" }),
    )
    .await;
    assert_eq!(
        (s, case["extension_days"].as_u64()),
        (StatusCode::OK, Some(10))
    );

    // Past the published years the deadline is provisional (weekends only) until an
    // administrator loads 2027.
    let (s, e) = get(
        &app,
        &zs,
        "/api/v1/calendar/deadline?from=2026-12-28&working_days=5",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        (e["due"].as_str(), &e["provisional"]),
        (Some("2027-01-04"), &json!(true)),
        "{e}"
    );
    let year = "year 2027\nholiday 2027-01-01\n";
    let (s, e) = post(
        &app,
        &zs,
        "/api/v1/admin/calendar",
        json!({ "source": year }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, e) = post(
        &app,
        &admin,
        "/api/v1/admin/calendar",
        json!({ "source": "year 2027\nholiday 2027-13-01\n" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = post(
        &app,
        &admin,
        "/api/v1/admin/calendar",
        json!({ "source": year }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, d) = get(
        &app,
        &zs,
        "/api/v1/calendar/deadline?from=2026-12-28&working_days=5",
    )
    .await;
    // 29, 30, 31 Dec, then 1 Jan is a holiday: 4 and 5 Jan.
    assert_eq!(d["due"], "2027-01-05");
    assert_eq!(d["provisional"], false);
    let (_, d) = get(
        &app,
        &zs,
        "/api/v1/calendar/deadline?from=2026-09-30&working_days=3",
    )
    .await;
    assert_eq!(d["due"], "2026-10-10");
    app.stop().await;
}

on_each_backend!(special_procedure_extension_and_a_loaded_calendar_year);

/// Mid-December, next year's holidays not yet published: a case is still accepted, its
/// due dates are counted weekends-only and marked provisional; loading next year's table
/// recomputes them in one transaction, as a ledger event on the case (cases.md, "Working
/// days in China"; the State Council publishes between October and December).
async fn provisional_deadlines_are_recomputed_when_next_year_is_loaded(app: App) {
    // 2026-12-14, 09:00 Beijing time (the harness starts on 2026-03-02 at the same hour):
    // the item's 20-working-day legal limit reaches into 2027.
    app.clock.advance(
        chrono::NaiveDate::from_ymd_opt(2026, 12, 14)
            .unwrap()
            .signed_duration_since(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()),
    );
    let (zs, clerk, admin) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("admin").await,
    );
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "prov-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let (s, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "accepted although 2027 is not published: {case}"
    );
    let no = case["case_no"].as_str().unwrap().to_string();
    let (_, case) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    let legal_before = case["legal_due"].as_str().unwrap().to_string();
    // Weekends-only in 2027: 13 working days left in December, then 1, 4 … 11 January.
    assert_eq!(legal_before, "2027-01-11", "{case}");
    assert_eq!(case["deadlines_provisional"], true, "{case}");
    // The case page says so, and the administrators see which year is missing.
    let (browser, _) = app.sign_in("zhangsan").await;
    let html = page_text(&browser, app.url(&format!("/cases/{no}"))).await;
    assert!(
        html.contains("（暂定）") && html.contains("2027年"),
        "{html}"
    );
    let (admin_browser, _) = app.sign_in("admin").await;
    let html = page_text(&admin_browser, app.url("/admin")).await;
    assert!(html.contains("2027年节假日安排尚未载入：1件"), "{html}");

    // The table is published: 元旦 and a week of 春节 off, one Sunday worked.
    let year = "year 2027\nholiday 2027-01-01\nholiday 2027-02-05 2027-02-11\nworkday 2027-02-14\n";
    let (s, loaded) = post(
        &app,
        &admin,
        "/api/v1/admin/calendar",
        json!({ "source": year }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{loaded}");
    assert_eq!(loaded["recomputed_cases"], 1, "{loaded}");
    let (_, case) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(case["deadlines_provisional"], false, "{case}");
    // 元旦 is a holiday: one working day later.
    assert_eq!(case["legal_due"], "2027-01-12", "{case}");
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    assert!(
        events.to_string().contains("deadlines_recomputed"),
        "{events}"
    );
    let html = page_text(&admin_browser, app.url("/admin")).await;
    assert!(!html.contains("calendar-banner"), "{html}");
    app.stop().await;
}

on_each_backend!(provisional_deadlines_are_recomputed_when_next_year_is_loaded);

/// One capability table decides, and every refusal is audited: the sharing officer reads no
/// case, staff cannot hand in an applicant's 补正 materials, an applicant cannot open the
/// administration, and a clerk may record a withdrawal that the case page also offers.
async fn refusals_come_from_the_capability_table_and_are_audited(app: App) {
    let (zs, clerk, approver, sharing) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("sharing").await,
    );
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "authz-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let audited = |who: &'static str| {
        let store = app.db().store.clone();
        async move {
            store
                .audit_entries(200)
                .await
                .unwrap()
                .into_iter()
                .filter(|(_, actor, action, _)| actor == who && action == "access.refused")
                .count()
        }
    };

    // The sharing officer has no case capability (yet).
    let (s, _) = get(&app, &sharing, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(&app, &sharing, "/api/v1/cases?q=食品").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(audited("sharing").await >= 2);

    // 补正 materials come from the applicant only.
    let (s, case) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "request_correction", "items": ["营业执照副本"] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    let (_, f) = upload(&app, &clerk, PDF.to_vec()).await;
    let (s, e) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "submit_correction", "materials": [{ "name": "营业执照副本", "sha256": f["sha256"] }] }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(audited("approver").await >= 1);
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(
        now["status"], "awaiting_correction",
        "nothing stored: {now}"
    );

    // An applicant is refused the administration, and it is on record.
    let (s, _) = get(&app, &zs, "/api/v1/admin/users").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(audited("zhangsan").await >= 1);

    // A clerk may record a withdrawal at the applicant's request: offered and accepted.
    let (browser, _) = app.sign_in("clerk").await;
    let html = page_text(&browser, app.url(&format!("/cases/{no}"))).await;
    assert!(html.contains("id=\"act-withdraw\""), "{html}");
    let (s, done) = act(
        &app,
        &clerk,
        &now,
        json!({ "action": "withdraw", "reason": "申请人书面申请撤回" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "withdrawn");
    app.stop().await;
}

on_each_backend!(refusals_come_from_the_capability_table_and_are_audited);

/// Sessions last 12 hours: after moving the clock on, everyone signs in again.
fn advance_days(app: &App, days: i64) {
    app.clock.advance(chrono::Duration::days(days));
}

async fn no_notice_in_five_working_days_counts_as_accepted_on_receipt(app: App) {
    let zs = app.token("zhangsan").await;
    let (code, required) = scj_item(&app).await;
    // Received Mon 2 Mar 2026; the notice window ends Mon 9 Mar.
    let (_, case) = apply_online(&app, &zs, &code, &required, "k-deemed").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    advance_days(&app, 8); // Tue 10 Mar
    let clerk = app.token("clerk").await;
    // 《行政许可法》第三十二条第一款第四项: no notice after the window …
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "request_correction", "items": ["补充平面图"] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("即为受理"), "{e}");
    // … the page offers no such button …
    let (browser, _) = app.sign_in("clerk").await;
    let html = page_text(&browser, app.url(&format!("/cases/{no}"))).await;
    assert!(html.contains("act-accept") && !html.contains("act-request_correction"));
    // … the missed window is on record and stays there after acceptance …
    tongban_app::supervision::run_once(&app.state)
        .await
        .unwrap();
    // … and acceptance is dated from the receipt day, with the due dates.
    let (s, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    assert_eq!(s, StatusCode::OK, "{case}");
    assert_eq!(case["accepted_on"], "2026-03-02");
    assert_eq!(case["promised_due"], "2026-03-16");
    let sup = app.token("supervisor").await;
    let (_, recs) = get(
        &app,
        &sup,
        &format!("/api/v1/supervision/records?open=true&case_no={no}"),
    )
    .await;
    let rules: Vec<&str> = recs["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["late_correction_notice"]);
    app.stop().await;
}

on_each_backend!(no_notice_in_five_working_days_counts_as_accepted_on_receipt);

async fn not_accepting_names_its_category_and_refusal_is_the_decision_steps(app: App) {
    let (zs, clerk, approver, head) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("head").await,
    );
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "k-na").await;
    // 《行政许可法》第三十二条第一款第二项: the competent agency is named.
    let (s, e) = act(&app, &clerk, &case, json!({ "action": "not_accept", "category": "not_this_agency", "reasons": "由区级部门实施" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "not_accept", "category": "fly", "reasons": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, done) = act(&app, &clerk, &case, json!({ "action": "not_accept", "category": "not_this_agency", "competent_agency": "娄星区市场监督管理局", "reasons": "由区级部门实施" })).await;
    assert_eq!(
        (s, done["status"].as_str()),
        (StatusCode::OK, Some("not_accepted")),
        "{done}"
    );
    let no = case["case_no"].as_str().unwrap();
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let last = &events.as_array().unwrap().last().unwrap()["event"];
    assert_eq!(last["category"], "not_this_agency");
    assert_eq!(last["competent_agency"], "娄星区市场监督管理局");

    // 《行政许可法》第三十八条第二款: 不予许可 at the decision step only.
    let (_, case) = apply_online(&app, &zs, &code, &required, "k-refuse").await;
    let (_, case) = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
    let (s, e) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "refuse", "reasons": "不符合条件" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["message"].as_str().unwrap().contains("决定环节"), "{e}");
    let (_, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "pass", "opinion": "同意" }),
    )
    .await;
    let (_, case) = act(
        &app,
        &approver,
        &case,
        json!({ "action": "pass", "opinion": "同意" }),
    )
    .await;
    let (s, case) = act(
        &app,
        &head,
        &case,
        json!({ "action": "refuse", "reasons": "经营场所不符合食品安全要求" }),
    )
    .await;
    assert_eq!(
        (s, case["outcome"].as_str()),
        (StatusCode::OK, Some("refused")),
        "{case}"
    );
    let no = case["case_no"].as_str().unwrap();
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let last = &events.as_array().unwrap().last().unwrap()["event"];
    let rights = last["rights"].as_str().unwrap();
    assert!(
        rights.contains("六十日") && rights.contains("六个月"),
        "{last}"
    );
    app.stop().await;
}

on_each_backend!(not_accepting_names_its_category_and_refusal_is_the_decision_steps);

async fn a_missed_correction_deadline_ends_the_case_and_void_needs_reasons(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "k-lapse").await;
    // Mon 2 Mar 2026 + 3 working days: the applicant corrects by Thu 5 Mar.
    let (s, case) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "request_correction", "items": ["补充平面图"], "correction_days": 3 }),
    )
    .await;
    assert_eq!(
        (s, case["correction_due"].as_str()),
        (StatusCode::OK, Some("2026-03-05")),
        "{case}"
    );
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "expire_correction" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // The supervision worker ends it the day after the deadline.
    advance_days(&app, 4); // Fri 6 Mar
    tongban_app::supervision::run_once(&app.state)
        .await
        .unwrap();
    let zs = app.token("zhangsan").await;
    let no = case["case_no"].as_str().unwrap();
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(
        (now["status"].as_str(), now["outcome"].as_str()),
        (Some("correction_expired"), Some("correction_expired")),
        "{now}"
    );
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["event"]["kind"], "correction_expired");
    // 作废: staff, with reasons.
    let clerk = app.token("clerk").await;
    let (_, other) = apply_online(&app, &zs, &code, &required, "k-void").await;
    let (s, e) = act(
        &app,
        &zs,
        &other,
        json!({ "action": "void", "reasons": "重复申请" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, e) = act(
        &app,
        &clerk,
        &other,
        json!({ "action": "void", "reasons": " " }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, v) = act(
        &app,
        &clerk,
        &other,
        json!({ "action": "void", "reasons": "重复申请" }),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str(), v["outcome"].as_str()),
        (StatusCode::OK, Some("void"), Some("void")),
        "{v}"
    );
    app.stop().await;
}

on_each_backend!(a_missed_correction_deadline_ends_the_case_and_void_needs_reasons);

/// Issue #13 (4, 11): limits wherever input is stored; a clear 422 and nothing stored.
async fn oversized_or_invisible_text_is_refused_and_nothing_stored(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let id = tongban_core::ids::ResidentId::with_check_char("43130219900101124").unwrap();
    // Registration: NUL, a right-to-left override, a zero-width space, 51 characters.
    for (n, name) in [
        "张\u{0}三",
        "张三\u{202E}",
        "张\u{200B}三",
        &"张".repeat(51),
    ]
    .into_iter()
    .enumerate()
    {
        let (s, e) = post(&app, "", "/api/v1/applicants", json!({ "kind": "person", "name": name, "id_number": id.as_str(), "mobile": "13900000000", "username": format!("evil{n}"), "password": "evil2026ok" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name:?} {e}");
        assert!(e["message"].as_str().unwrap().contains("姓名"), "{e}");
    }
    assert!(app
        .db()
        .store
        .applicant_by_id_number(id.as_str())
        .await
        .unwrap()
        .is_none());
    // Applications: too many materials, an invisible character in a name, a long address.
    let (code, required) = scj_item(&app).await;
    let (_, f) = upload(&app, &zs, PDF.to_vec()).await;
    let many: Vec<Value> = (0..51)
        .map(|i| json!({ "name": format!("材料{i}"), "sha256": f["sha256"] }))
        .collect();
    let mut bad_name: Vec<Value> = required
        .iter()
        .map(|n| json!({ "name": n, "sha256": f["sha256"] }))
        .collect();
    bad_name
        .push(json!({ "name": "其他\u{FEFF}材料", "sha256": f["sha256"], "file_name": "a.pdf" }));
    let good: Vec<Value> = required
        .iter()
        .map(|n| json!({ "name": n, "sha256": f["sha256"] }))
        .collect();
    for (materials, address, word) in [
        (many, "娄星区长青中街1号".to_string(), "50"),
        (bad_name, "娄星区长青中街1号".to_string(), "U+FEFF"),
        (good.clone(), "路".repeat(201), "200"),
        (good.clone(), "娄星区\u{202E}中街".to_string(), "U+202E"),
    ] {
        let (s, e) = post(
            &app,
            &zs,
            "/api/v1/cases",
            json!({ "item": code, "delivery": "post", "address": address, "materials": materials }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["message"].as_str().unwrap().contains(word), "{e}");
    }
    let (_, mine) = get(&app, &zs, "/api/v1/my/cases").await;
    assert_eq!(mine["total"], 0);
    // Commands: a reason over 2,000 characters, a fee above the cap.
    let (s, case) = post(
        &app,
        &zs,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic", "materials": good }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "not_accept", "reasons": "因".repeat(2001) }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("2000"), "{e}");
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "request_correction", "items": ["身份证\u{0}"] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "charge_fee", "amount": "100000000.01" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("上限"), "{e}");
    let (_, now) = get(
        &app,
        &clerk,
        &format!("/api/v1/cases/{}", case["case_no"].as_str().unwrap()),
    )
    .await;
    assert_eq!(now["version"], case["version"], "nothing was recorded");
    app.stop().await;
}

on_each_backend!(oversized_or_invisible_text_is_refused_and_nothing_stored);

/// Issue #13 (5): uploads without a case: one may cite only one's own files, a daily quota
/// per user, and files no case cited within a day are purged with their objects.
async fn uploads_are_owned_limited_and_purged_when_unused(app: App) {
    let zs = app.token("zhangsan").await;
    let (code, required) = scj_item(&app).await;
    // lisi signs up and tries to cite zhangsan's upload.
    let (_, f) = upload(&app, &zs, PDF.to_vec()).await;
    let theirs = f["sha256"].as_str().unwrap().to_string();
    let (s, _) = post(&app, "", "/api/v1/applicants", json!({ "kind": "person", "name": "李四", "id_number": tongban_core::ids::ResidentId::with_check_char("43130219900101123").unwrap().as_str(), "mobile": "13900000000", "username": "lisi", "password": "lisi2026ok" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let lisi = app.token_with("lisi", "lisi2026ok").await;
    let materials: Vec<Value> = required
        .iter()
        .map(|n| json!({ "name": n, "sha256": theirs }))
        .collect();
    let (s, e) = post(
        &app,
        &lisi,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic", "materials": materials }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("不是您上传的"),
        "{e}"
    );
    let (_, mine) = get(&app, &lisi, "/api/v1/my/cases").await;
    assert_eq!(mine["total"], 0);
    // Her own file cited beside theirs: refused as a whole, and her own stays unclaimed
    // (the claim is part of the case's transaction).
    let mut own_pdf = PDF.to_vec();
    own_pdf.extend_from_slice(b"% lisi\n%%EOF\n");
    let (s, f) = upload(&app, &lisi, own_pdf).await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let own = f["sha256"].as_str().unwrap().to_string();
    let mut mixed: Vec<Value> = required
        .iter()
        .map(|n| json!({ "name": n, "sha256": own }))
        .collect();
    mixed.last_mut().unwrap()["sha256"] = json!(theirs);
    let (s, e) = post(
        &app,
        &lisi,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic", "materials": mixed }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("不是您上传的"),
        "{e}"
    );
    let unclaimed = app
        .db()
        .store
        .debug_execute(
            "UPDATE file_uploads SET used_at = used_at WHERE used_at IS NULL AND user_id = (SELECT id FROM users WHERE username = 'lisi') AND 1 = $1",
            1,
        )
        .await
        .unwrap();
    assert_eq!(unclaimed, 1, "lisi's own upload is still unclaimed");
    let (_, mine) = get(&app, &lisi, "/api/v1/my/cases").await;
    assert_eq!(mine["total"], 0);
    // Uploading the same bytes makes them lisi's too.
    let (_, f) = upload(&app, &lisi, PDF.to_vec()).await;
    assert_eq!(f["sha256"], theirs.as_str());
    let (s, e) = post(
        &app,
        &lisi,
        "/api/v1/cases",
        json!({ "item": code, "delivery": "electronic", "materials": materials }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");

    // The daily quota: 200 files per user (this user has one already).
    let mut first = String::new();
    for i in 1..200 {
        let mut pdf = PDF.to_vec();
        pdf.extend_from_slice(format!("% {i}\n%%EOF\n").as_bytes());
        let (s, e) = upload(&app, &zs, pdf).await;
        assert_eq!(s, StatusCode::CREATED, "{i} {e}");
        if i == 1 {
            first = e["sha256"].as_str().unwrap().to_string();
        }
    }
    let mut pdf = PDF.to_vec();
    pdf.extend_from_slice(b"% one too many\n%%EOF\n");
    let (s, e) = upload(&app, &zs, pdf.clone()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
    assert_eq!(e["code"], "quota_exceeded");

    // A day later: zhangsan's 199 uncited uploads are purged with their objects, and
    // lisi's own file the refused submission did not claim; the file lisi cited stays
    // (zhangsan's upload of it was never cited, lisi's was).
    app.clock.advance(chrono::Duration::hours(25));
    let purged = tongban_app::cases::purge_unused_uploads(&app.state)
        .await
        .unwrap();
    assert_eq!(purged, 200);
    assert!(app.state.store.file_type(&own).await.unwrap().is_none());
    assert!(app.state.store.file_type(&theirs).await.unwrap().is_some());
    assert!(app.state.objects.get(&theirs).await.is_ok());
    assert!(app.state.store.file_type(&first).await.unwrap().is_none());
    assert!(
        app.state.objects.get(&first).await.is_err(),
        "object deleted"
    );
    // The quota window has moved on: uploading works again (signed in afresh).
    let zs = app.token("zhangsan").await;
    let (s, _) = upload(&app, &zs, pdf).await;
    assert_eq!(s, StatusCode::CREATED);
    app.stop().await;
}

on_each_backend!(uploads_are_owned_limited_and_purged_when_unused);

/// The API takes the core's command as it is ({"action": …, its fields}), and still the
/// form words (amounts in yuan): both reach the same rules; bad text is refused either way.
async fn the_api_takes_the_cores_commands(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "cmd-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let (s, case) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "charge_fee", "amount_fen": 1250, "note": "工本费" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    let (s, case) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "charge_fee", "amount": "12.50", "note": "工本费" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{case}");
    let no = case["case_no"].as_str().unwrap();
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let fees: Vec<u64> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["kind"] == "fee_charged")
        .map(|e| e["event"]["amount_fen"].as_u64().unwrap())
        .collect();
    assert_eq!(fees, vec![1250, 1250]);
    let (s, e) = act(
        &app,
        &clerk,
        &case,
        json!({ "action": "charge_fee", "amount_fen": 100, "note": "a\u{202e}b" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    app.stop().await;
}

on_each_backend!(the_api_takes_the_cores_commands);

/// The upload rate limit counts per user, not per address: the windows of a hall share one
/// address behind its NAT, and one busy clerk must not stop the next.
async fn the_upload_rate_limit_counts_per_user(app: App) {
    app.state.upload_limit.set(2, 1);
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    for _ in 0..2 {
        assert_eq!(upload(&app, &zs, PDF.to_vec()).await.0, StatusCode::CREATED);
    }
    let (s, e) = upload(&app, &zs, PDF.to_vec()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
    // Same address, another user: its own bucket.
    let (s, e) = upload(&app, &clerk, PDF.to_vec()).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    app.stop().await;
}

on_each_backend!(the_upload_rate_limit_counts_per_user);
