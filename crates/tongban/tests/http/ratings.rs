//! 政务服务"好差评" over real HTTP on both backends: one rating per case, channel and stage;
//! nobody rates for the applicant; a 差评's 回访 due the next working day across a holiday;
//! appeals decided only by a supervisor outside the department; excluded ratings kept but
//! not counted; the pad and the one-time links.

use super::{csrf_of, get, page_text, post, App};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const ZHANGSAN_ID: &str = "431302198503150024";

/// A window case of zhangsan for 食品经营许可证核发 (市市场监督管理局), accepted by the clerk.
pub async fn accepted_case(app: &App) -> String {
    let clerk = app.token("clerk").await;
    let items = app.db().store.all_items().await.unwrap();
    let item = items
        .iter()
        .find(|i| i.item.department == "市市场监督管理局" && i.item.name == "食品经营许可证核发")
        .unwrap();
    let (s, case) = post(
        app,
        &clerk,
        "/api/v1/cases",
        json!({ "item": item.item.impl_code, "materials": super::received_on_paper(item), "applicant": { "kind": "person", "id_number": ZHANGSAN_ID, "name": "张三" } }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    act(app, &clerk, &no, json!({ "action": "accept" })).await;
    no
}

async fn act(app: &App, token: &str, no: &str, mut body: Value) {
    let (_, c) = get(app, token, &format!("/api/v1/cases/{no}")).await;
    body["expected_version"] = c["version"].clone();
    let (s, v) = post(app, token, &format!("/api/v1/cases/{no}/commands"), body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn complete(app: &App, no: &str) {
    let approver = app.token("approver").await;
    let head = app.token("head").await;
    for t in [&approver, &approver, &head] {
        act(app, t, no, json!({ "action": "pass", "opinion": "同意" })).await;
    }
}

async fn rate(app: &App, token: &str, no: &str, body: Value) -> (StatusCode, Value) {
    post(app, token, &format!("/api/v1/cases/{no}/ratings"), body).await
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

async fn stats(app: &App, query: &str) -> Value {
    let r = reqwest::get(app.url(&format!("/api/v1/ratings/stats?{query}")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// A second department's users: an approver and a supervisor placed in 市市场监督管理局.
async fn make_user(app: &App, username: &str, role: &str, department: &str) {
    let depts: Value = reqwest::get(app.url("/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == department)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let admin = app.token("admin").await;
    let (s, e) = post(
        app,
        &admin,
        "/api/v1/admin/users",
        json!({ "username": username, "display_name": username, "password": "Rating-test-2026", "role": role, "department_id": id }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
}

async fn one_rating_per_case_channel_and_stage(app: App) {
    let no = accepted_case(&app).await;
    let zs = app.token("zhangsan").await;
    let body = json!({ "level": 4, "channel": "web", "stage": "acceptance", "indicators": { "服务效率": 5, "服务态度": 4 }, "comment": "很快" });
    // Bad input first: nothing is stored.
    for bad in [
        json!({ "level": 6, "channel": "web", "stage": "acceptance" }),
        json!({ "level": 0, "channel": "web", "stage": "acceptance" }),
        json!({ "level": 4, "channel": "fax", "stage": "acceptance" }),
        json!({ "level": 4, "channel": "web", "stage": "whenever" }),
        json!({ "level": 4, "channel": "web", "stage": "acceptance", "indicators": { "平台操作性": 9 } }),
        json!({ "level": 4, "channel": "web", "stage": "acceptance", "indicators": { "颜值": 5 } }),
        json!({ "level": 4, "channel": "web", "stage": "acceptance", "comment": "长".repeat(501) }),
    ] {
        let (s, e) = rate(&app, &zs, &no, bad.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
        assert!(e["message"].is_string());
    }
    // Not yet 办结: the completion stage cannot be rated.
    let (s, e) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 5, "channel": "web", "stage": "completion" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // Nobody else rates: another applicant is told it does not exist, staff are refused.
    let (s, _) = rate(&app, "", &no, body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = rate(&app, &app.token("enterprise").await, &no, body.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for staff in ["clerk", "approver", "head", "supervisor", "admin"] {
        let (s, e) = rate(&app, &app.token(staff).await, &no, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{staff}: {e}");
    }
    assert_eq!(
        stats(&app, "from=2026-03-01&to=2026-03-31").await["total"],
        0
    );

    let (s, r) = rate(&app, &zs, &no, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        (
            r["level"].as_i64(),
            r["stage"].as_str(),
            r["channel"].as_str()
        ),
        (Some(4), Some("acceptance"), Some("web"))
    );
    assert_eq!(r["indicators"]["服务效率"], 5);
    // The window visit is rated against the in-person set; 整体满意度 defaults to the level.
    assert_eq!(r["indicators"]["整体满意度"], 4);
    assert!(r["department_id"].as_i64().is_some());
    // A second for the same case, channel and stage: 409; another channel is another rating.
    let (s, e) = rate(&app, &zs, &no, body.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, _) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 5, "channel": "mobile", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // The rating is an event on the case ledger.
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let kinds: Vec<String> = events
        .as_array()
        .or_else(|| events["events"].as_array())
        .unwrap()
        .iter()
        .filter_map(|e| {
            e["event"]["kind"]
                .as_str()
                .or(e["kind"].as_str())
                .map(str::to_string)
        })
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "rated").count(),
        2,
        "{events}"
    );
    // After 办结 the completion stage opens.
    complete(&app, &no).await;
    let (s, r) = rate(&app, &zs, &no, json!({ "level": 3, "channel": "web", "stage": "completion", "indicators": { "办事便捷度": 3 } })).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, _) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 3, "channel": "web", "stage": "completion" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let st = stats(&app, "from=2026-03-01&to=2026-03-31").await;
    assert_eq!(st["total"], 3, "{st}");
    assert_eq!(
        st["by_level"],
        json!({ "1": 0, "2": 0, "3": 1, "4": 1, "5": 1 })
    );
    assert_eq!(st["good"], json!({ "count": 2, "of": 3, "rate": 0.6667 }));
    assert_eq!(st["bad"], json!({ "count": 0, "of": 3, "rate": 0.0 }));
    app.stop().await;
}

on_each_backend!(one_rating_per_case_channel_and_stage);

async fn bad_rating_is_called_back_the_next_working_day_across_a_holiday(app: App) {
    // Thursday 30 April 2026; 1–5 May is the 劳动节 break, 9 May a make-up working day.
    advance_to(&app, "2026-04-30");
    let no = accepted_case(&app).await;
    let zs = app.token("zhangsan").await;
    let (s, r) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 1, "channel": "web", "stage": "acceptance", "comment": "窗口态度差" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let approver = app.token("approver").await;
    let (s, list) = get(
        &app,
        &approver,
        "/api/v1/ratings/rectifications?status=open",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let x = list["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rating_id"] == id)
        .unwrap_or_else(|| panic!("a rectification for {id}: {list}"))
        .clone();
    assert_eq!(x["callback_due"], "2026-05-06", "{x}");
    // 5 working days: 6, 7, 8, 9 (make-up Saturday), 11 May.
    assert_eq!(x["rectify_due"], "2026-05-11", "{x}");
    assert_eq!(x["status"], "open");
    // Another department sees none of it and may not act on it.
    make_user(&app, "gaj_rate", "approver", "市公安局").await;
    let other = app.token_with("gaj_rate", "Rating-test-2026").await;
    let (_, theirs) = get(&app, &other, "/api/v1/ratings/rectifications").await;
    assert!(theirs["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["rating_id"] != id));
    let (s, _) = post(
        &app,
        &other,
        &format!("/api/v1/ratings/{id}/callback"),
        json!({ "note": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(&app, &zs, "/api/v1/ratings/rectifications").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // On 6 May the call-back is due today (yellow); on 7 May it is late (red).
    advance_to(&app, "2026-05-06");
    // (sessions expire over the days: sign in again)
    let approver = app.token("approver").await;
    let (_, list) = get(
        &app,
        &approver,
        "/api/v1/ratings/rectifications?status=open",
    )
    .await;
    assert_eq!(
        list["rectifications"][0]["callback_light"], "yellow",
        "{list}"
    );
    advance_to(&app, "2026-05-07");
    let approver = app.token("approver").await;
    let zs = app.token("zhangsan").await;
    let (_, list) = get(
        &app,
        &approver,
        "/api/v1/ratings/rectifications?status=open",
    )
    .await;
    assert_eq!(list["rectifications"][0]["callback_light"], "red", "{list}");
    // 整改 before 回访 is refused; then both, in order.
    let (s, _) = post(
        &app,
        &approver,
        &format!("/api/v1/ratings/{id}/rectify"),
        json!({ "note": "已整改" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = post(
        &app,
        &approver,
        &format!("/api/v1/ratings/{id}/callback"),
        json!({ "note": "电话回访，致歉" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = post(
        &app,
        &approver,
        &format!("/api/v1/ratings/{id}/callback"),
        json!({ "note": "again" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The applicant may not rate again until it is rectified.
    let (s, _) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 4, "channel": "web", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = post(
        &app,
        &approver,
        &format!("/api/v1/ratings/{id}/rectify"),
        json!({ "note": "窗口服务规范培训" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "done");
    let (_, done) = get(
        &app,
        &approver,
        "/api/v1/ratings/rectifications?status=done",
    )
    .await;
    assert!(done["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["rating_id"] == id));
    let (s, _) = get(
        &app,
        &approver,
        "/api/v1/ratings/rectifications?status=maybe",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let st = stats(&app, "from=2026-04-01&to=2026-05-31").await;
    assert_eq!(
        st["rectified"],
        json!({ "count": 1, "of": 1, "rate": 1.0 }),
        "{st}"
    );
    assert_eq!(
        st["rectified_on_time"],
        json!({ "count": 1, "of": 1, "rate": 1.0 })
    );
    assert_eq!(
        st["called_back"],
        json!({ "count": 1, "of": 1, "rate": 1.0 })
    );
    // Rectified: the applicant may rate again.
    let (s, r2) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 4, "channel": "web", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r2}");
    assert_eq!(r2["round"], 1);
    app.stop().await;
}

on_each_backend!(bad_rating_is_called_back_the_next_working_day_across_a_holiday);

async fn appeals_are_decided_by_a_supervisor_of_another_department_only(app: App) {
    let no = accepted_case(&app).await;
    let zs = app.token("zhangsan").await;
    let (_, good) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 5, "channel": "web", "stage": "acceptance" }),
    )
    .await;
    let (s, r) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 1, "channel": "mobile", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().unwrap();
    let range = "from=2026-03-01&to=2026-03-31";
    assert_eq!(stats(&app, range).await["bad"]["count"], 1);
    let head = app.token("head").await;
    let sup = app.token("supervisor").await;
    let path = format!("/api/v1/ratings/{id}/appeal");
    // No evidence, no appeal; the applicant and the supervisor may not appeal.
    let (s, _) = post(&app, &head, &path, json!({ "reason": "误触" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for t in [&zs, &sup] {
        let (s, _) = post(
            &app,
            t,
            &path,
            json!({ "reason": "误触", "evidence": "录像" }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, a) = post(
        &app,
        &head,
        &path,
        json!({ "reason": "申请人误触", "evidence": "大厅录像 2026-03-02 09:12" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["decision"], "pending");
    let (s, _) = post(
        &app,
        &head,
        &path,
        json!({ "reason": "again", "evidence": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The department itself may not decide, nor a supervisor placed in that department.
    let decide = format!("/api/v1/ratings/{id}/appeal/decision");
    let (s, _) = post(
        &app,
        &head,
        &decide,
        json!({ "upheld": true, "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    make_user(&app, "sup_scj", "supervisor", "市市场监督管理局").await;
    let inside = app.token_with("sup_scj", "Rating-test-2026").await;
    let (s, e) = post(
        &app,
        &inside,
        &decide,
        json!({ "upheld": true, "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(stats(&app, range).await["bad"]["count"], 1);
    // A supervisor outside the department upholds it.
    let (s, d) = post(
        &app,
        &sup,
        &decide,
        json!({ "upheld": true, "reason": "经核实为误触" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["decision"], "upheld");
    let (s, _) = post(
        &app,
        &sup,
        &decide,
        json!({ "upheld": false, "reason": "again" }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Excluded from the figures, kept and marked with the reason.
    let st = stats(&app, range).await;
    assert_eq!(st["total"], 1, "{st}");
    assert_eq!(st["bad"], json!({ "count": 0, "of": 1, "rate": 0.0 }));
    assert_eq!(st["by_level"]["1"], 0);
    let (_, list) = get(&app, &sup, "/api/v1/ratings/rectifications").await;
    let x = list["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rating_id"] == id)
        .unwrap()
        .clone();
    assert_eq!(x["rating"]["excluded"], true);
    assert_eq!(x["rating"]["excluded_reason"], "经核实为误触");
    let page = page_text(
        &Client::new(),
        app.url("/ratings?from=2026-03-01&to=2026-03-31"),
    )
    .await;
    assert!(
        page.contains("经核实为误触") && page.contains(&no),
        "the public page marks it"
    );
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    assert!(events.to_string().contains("rating_excluded"), "{events}");
    // Appealing a 5-star rating is possible, but a 5-star rating has no follow-up.
    let (s, _) = post(
        &app,
        &head,
        &format!("/api/v1/ratings/{}/callback", good["id"]),
        json!({ "note": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

on_each_backend!(appeals_are_decided_by_a_supervisor_of_another_department_only);

async fn the_window_pad_and_one_time_links_take_no_staff_ratings(app: App) {
    let no = accepted_case(&app).await;
    let store = &app.db().store;
    let hall = store.halls().await.unwrap()[0].id;
    let window = store.hall_windows(hall).await.unwrap()[0].id;
    // The clerk shows the case on the window's pad from the case page.
    let (clerk, csrf) = app.sign_in("clerk").await;
    let case_page = page_text(&clerk, app.url(&format!("/cases/{no}"))).await;
    assert!(case_page.contains("推送至窗口评价器"));
    let r = clerk
        .post(app.url(&format!("/rate/window/{window}/case")))
        .form(&[("_csrf", csrf.as_str()), ("case_no", no.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    // The clerk's own session cannot touch the pad.
    let pad_path = format!("/rate/window/{window}");
    let r = clerk
        .post(app.url(&pad_path))
        .form(&[("_csrf", csrf.as_str()), ("level", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The pad: no sign-in, the case with the applicant's name masked, one touch.
    let pad = Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .user_agent("hall-pad-test")
        .build()
        .unwrap();
    let html = page_text(&pad, app.url(&pad_path)).await;
    assert!(
        html.contains(&no) && html.contains("张*") && !html.contains("张三"),
        "{html}"
    );
    let token = csrf_of(&html);
    let r = pad
        .post(app.url(&pad_path))
        .form(&[("_csrf", token.as_str()), ("level", "9")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = pad
        .post(app.url(&pad_path))
        .form(&[("_csrf", token.as_str()), ("level", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("感谢您的评价"));
    let again = pad
        .post(app.url(&pad_path))
        .form(&[("_csrf", token.as_str()), ("level", "5")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("本次服务已评价"));
    let rec = store.case_by_no(&no).await.unwrap();
    let ratings = store.ratings_of_case(rec.id).await.unwrap();
    assert_eq!(ratings.len(), 1);
    let r = &ratings[0];
    assert_eq!(
        (r.channel.as_str(), r.level, r.window_id),
        ("pad", 2, Some(window))
    );
    assert!(
        r.device.starts_with("pad:"),
        "the device is recorded: {}",
        r.device
    );
    assert_eq!(r.clerk, "clerk");
    // A 2 is a 差评: a rectification is open for the department.
    let (_, list) = get(
        &app,
        &app.token("head").await,
        "/api/v1/ratings/rectifications?status=open",
    )
    .await;
    assert!(list["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["rating_id"] == r.id));

    // A one-time link (as sent by SMS after 办结): used once, refused to staff.
    complete(&app, &no).await;
    let link = tongban_app::ratings::new_link(
        &app.state,
        &store.case_by_no(&no).await.unwrap(),
        tongban_core::rating::Stage::Completion,
        tongban_core::rating::RatingChannel::Sms,
    )
    .await
    .unwrap();
    let (approver, acsrf) = app.sign_in("approver").await;
    let r = approver
        .post(app.url(&link))
        .form(&[("_csrf", acsrf.as_str()), ("level", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let phone = Client::builder().cookie_store(true).build().unwrap();
    let html = page_text(&phone, app.url(&link)).await;
    assert!(html.contains(&no));
    let t = csrf_of(&html);
    let r = phone
        .post(app.url(&link))
        .form(&[
            ("_csrf", t.as_str()),
            ("level", "5"),
            ("comment", "办结很快"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = phone
        .post(app.url(&link))
        .form(&[("_csrf", t.as_str()), ("level", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a used link is gone");
    let ratings = store.ratings_of_case(rec.id).await.unwrap();
    assert!(ratings
        .iter()
        .any(|r| r.channel == "sms" && r.stage == "completion" && r.comment == "办结很快"));
    // The receipt carries a QR to rate the window visit.
    let receipt = page_text(&clerk, app.url(&format!("/cases/{no}/receipt"))).await;
    assert!(receipt.contains("id=\"rate-qr\"") && receipt.contains("<svg"));
    app.stop().await;
}

on_each_backend!(the_window_pad_and_one_time_links_take_no_staff_ratings);

async fn export_and_public_page(app: App) {
    let no = accepted_case(&app).await;
    let zs = app.token("zhangsan").await;
    let (s, _) = rate(
        &app,
        &zs,
        &no,
        json!({ "level": 2, "channel": "web", "stage": "acceptance" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // The applicant's message after 受理 invites a rating.
    let rec = app.db().store.case_by_no(&no).await.unwrap();
    let msgs = app.db().store.messages(rec.applicant_id, 20).await.unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.case_no == no && m.text.contains("评价")),
        "{msgs:?}"
    );
    let sup = app.token("supervisor").await;
    let r = Client::new()
        .get(app.url("/api/v1/ratings/export?month=2026-03"))
        .bearer_auth(&sup)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "case_no,item_code,department_code,applicant_id,level,channel,time,excluded"
    );
    let row = lines
        .find(|l| l.starts_with(&no))
        .expect("the rating is exported");
    assert!(
        row.contains(ZHANGSAN_ID) && row.contains(",2,web,"),
        "{row}"
    );
    let (s, _) = get(&app, &zs, "/api/v1/ratings/export?month=2026-03").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = get(&app, &sup, "/api/v1/ratings/export?month=march").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The department filter and bad input on the public figures.
    for bad in [
        "from=2026-13-01",
        "from=2026-03-31&to=2026-03-01",
        "department=NOPE",
    ] {
        let r = reqwest::get(app.url(&format!("/api/v1/ratings/stats?{bad}")))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let page = page_text(
        &Client::new(),
        app.url("/ratings?from=2026-03-01&to=2026-03-31"),
    )
    .await;
    assert!(page.contains("好评率") && page.contains("<svg") && page.contains("市市场监督管理局"));
    app.stop().await;
}

on_each_backend!(export_and_public_page);

async fn the_demo_city_has_ratings_of_every_level_and_their_follow_up(app: App) {
    tongban::demo::seed_cases(&app.state).await.unwrap();
    let today = {
        use tongban_app::clock::Clock;
        app.clock.now().format("%Y-%m-%d").to_string()
    };
    let st = stats(&app, &format!("from=2026-01-01&to={today}")).await;
    for level in ["1", "2", "3", "4", "5"] {
        assert!(
            st["by_level"][level].as_i64().unwrap() >= 1,
            "level {level}: {st}"
        );
    }
    let sup = app.token("supervisor").await;
    let (_, open) = get(&app, &sup, "/api/v1/ratings/rectifications?status=open").await;
    let (_, done) = get(&app, &sup, "/api/v1/ratings/rectifications?status=done").await;
    assert!(
        !open["rectifications"].as_array().unwrap().is_empty(),
        "{open}"
    );
    assert!(
        !done["rectifications"].as_array().unwrap().is_empty(),
        "{done}"
    );
    let all = open["rectifications"].as_array().unwrap();
    assert!(
        all.iter().any(|x| x["rating"]["excluded"] == true),
        "an upheld appeal: {open}"
    );
    app.stop().await;
}

on_each_backend!(the_demo_city_has_ratings_of_every_level_and_their_follow_up);
