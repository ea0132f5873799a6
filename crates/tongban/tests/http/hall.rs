//! The hall (issue #18) over real HTTP on both backends: appointment slots on the
//! calendar, bookings capped by the database under concurrency (two nodes on
//! PostgreSQL), the no-show rule, queue tickets called by windows and linked to cases,
//! the calling screen, and parcel tracking with the S10 check digit.

use super::workflow::{apply_online, scj_item};
use super::{get, post, App};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// The code of 市民之家 (a comprehensive hall: every item at every comprehensive window).
pub(super) async fn civic_hall(app: &App) -> String {
    let halls: Value = reqwest::get(app.url("/api/v1/halls"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = halls
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "市民之家")
        .expect("the demo city has 市民之家");
    assert_eq!(h["kind"], "comprehensive");
    h["code"].as_str().unwrap().to_string()
}

pub(super) async fn slots(app: &App, hall: &str, item: &str, from: &str, to: &str) -> Vec<Value> {
    let (s, v) = get(
        app,
        "",
        &format!("/api/v1/halls/{hall}/slots?item={item}&from={from}&to={to}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["slots"].as_array().unwrap().clone()
}

async fn delete(app: &App, token: &str, path: &str) -> StatusCode {
    Client::new()
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn slots_follow_the_calendar_and_bookings_are_kept(app: App) {
    let hall = civic_hall(&app).await;
    let (item, _) = scj_item(&app).await;
    // Monday 2026-03-02 to Sunday 03-08: five working days, none at the weekend.
    let week = slots(&app, &hall, &item, "2026-03-02", "2026-03-08").await;
    let days: std::collections::BTreeSet<&str> =
        week.iter().map(|s| s["date"].as_str().unwrap()).collect();
    assert_eq!(
        days.into_iter().collect::<Vec<_>>(),
        vec![
            "2026-03-02",
            "2026-03-03",
            "2026-03-04",
            "2026-03-05",
            "2026-03-06"
        ]
    );
    let first = &week[0];
    for k in ["id", "date", "start", "end", "capacity", "booked"] {
        assert!(!first[k].is_null(), "slot has {k}: {first}");
    }
    assert_eq!(
        (first["start"].as_str(), first["end"].as_str()),
        (Some("09:00"), Some("09:30"))
    );
    // Asked again, the same slots (created once).
    let again = slots(&app, &hall, &item, "2026-03-02", "2026-03-08").await;
    assert_eq!(week, again);
    // 劳动节 2026 (05-01 to 05-05): no slots.
    assert!(slots(&app, &hall, &item, "2026-05-01", "2026-05-05")
        .await
        .is_empty());
    // Bad requests.
    for q in [
        format!("item={item}&from=2026-03-09&to=2026-03-02"),
        format!("item={item}&from=2026-03-01&to=2026-06-01"),
        format!("item={item}&from=yesterday"),
        "item=NO-SUCH-ITEM".to_string(),
    ] {
        let (s, e) = get(&app, "", &format!("/api/v1/halls/{hall}/slots?{q}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {e}");
        assert!(e["message"].is_string());
    }
    let (s, _) = get(&app, "", &format!("/api/v1/halls/9999/slots?item={item}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let zs = app.token("zhangsan").await;
    let tuesday: Vec<&Value> = week.iter().filter(|s| s["date"] == "2026-03-03").collect();
    let slot = tuesday[0]["id"].as_i64().unwrap();
    // Nobody anonymous; not staff outside the window.
    let (s, _) = post(
        &app,
        "",
        "/api/v1/appointments",
        json!({ "slot": slot, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let approver = app.token("approver").await;
    let (s, _) = post(
        &app,
        &approver,
        "/api/v1/appointments",
        json!({ "slot": slot, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A slot of another item, a past slot, an unknown slot.
    let (s, _) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": slot, "item": "OTHER" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let past = week[0]["id"].as_i64().unwrap();
    app.clock.advance(chrono::Duration::minutes(5));
    let (s, e) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": past, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": 987654, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    let (s, a) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": slot, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "booked");
    let id = a["id"].as_i64().unwrap();
    let booked = |v: &[Value], id: i64| {
        v.iter().find(|s| s["id"] == id).unwrap()["booked"]
            .as_i64()
            .unwrap()
    };
    let now = slots(&app, &hall, &item, "2026-03-03", "2026-03-03").await;
    assert_eq!(booked(&now, slot), 1);
    // Twice the same slot: refused.
    let (s, _) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": slot, "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Someone else cannot see or cancel it.
    let ent = app.token("enterprise").await;
    assert_eq!(
        delete(&app, &ent, &format!("/api/v1/appointments/{id}")).await,
        StatusCode::NOT_FOUND
    );
    // Rescheduled: the old place is freed, the new one taken.
    let other = tuesday[1]["id"].as_i64().unwrap();
    let (s, moved) = post(
        &app,
        &zs,
        &format!("/api/v1/appointments/{id}/reschedule"),
        json!({ "slot": other }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["start"], tuesday[1]["start"]);
    let now = slots(&app, &hall, &item, "2026-03-03", "2026-03-03").await;
    assert_eq!((booked(&now, slot), booked(&now, other)), (0, 1));
    // Cancelled once; a second time is a conflict.
    assert_eq!(
        delete(&app, &zs, &format!("/api/v1/appointments/{id}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&app, &zs, &format!("/api/v1/appointments/{id}")).await,
        StatusCode::CONFLICT
    );
    let now = slots(&app, &hall, &item, "2026-03-03", "2026-03-03").await;
    assert_eq!(booked(&now, other), 0);
    // The clerk books for an applicant's account.
    let clerk = app.token("clerk").await;
    let (s, a) = post(
        &app,
        &clerk,
        "/api/v1/appointments",
        json!({ "slot": other, "item": item, "applicant": "zhangsan" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (_, mine) = get(&app, &zs, "/api/v1/my/appointments").await;
    assert_eq!(mine["appointments"][0]["id"], a["id"]);
    app.stop().await;
}

on_each_backend!(slots_follow_the_calendar_and_bookings_are_kept);

/// Fifty clients book the one place of a capacity-1 slot at once: one 201, 49 × 409. On
/// PostgreSQL the requests are spread over two server nodes on the same database.
async fn fifty_clients_book_one_place(app: App) {
    let hall = civic_hall(&app).await;
    let (item, _) = scj_item(&app).await;
    let day = slots(&app, &hall, &item, "2026-03-04", "2026-03-04").await;
    let last = day.last().unwrap();
    assert_eq!(last["capacity"], 1, "the day's last slot takes one");
    let slot = last["id"].as_i64().unwrap();
    // A second node on PostgreSQL.
    let mut bases = vec![app.url("")];
    let mut node2_stop = None;
    if app.db().backend == tongban_store::Backend::Postgres {
        let store2 = tongban_store::Store::open(&app.db().url).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let node2 =
            tongban_web::new_state(tongban_app::App::new(store2, app.clock.clone(), dir.path()));
        let server = tongban_web::Application::build_with(
            node2,
            "127.0.0.1:0".parse().unwrap(),
            tongban_web::Timeouts::default(),
        )
        .await
        .unwrap();
        bases.push(format!("http://{}", server.local_addr()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        node2_stop = Some((tx, dir));
    }
    let tokens = [
        app.token("zhangsan").await,
        app.token("enterprise").await,
        app.token("clerk").await,
    ];
    let client = Client::new();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = format!("{}/api/v1/appointments", bases[i % bases.len()]);
        let token = tokens[i % tokens.len()].clone();
        let client = client.clone();
        let item = item.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "slot": slot, "item": item }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    let mut full = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => full += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, full), (1, 49));
    let day = slots(&app, &hall, &item, "2026-03-04", "2026-03-04").await;
    assert_eq!(day.last().unwrap()["booked"], 1);
    if let Some((tx, _dir)) = node2_stop {
        let _ = tx.send(());
    }
    app.stop().await;
}

on_each_backend!(fifty_clients_book_one_place);

/// Three missed appointments within 30 days suspend online booking; the clerk can still
/// book at the window.
async fn three_no_shows_suspend_online_booking(app: App) {
    let hall = civic_hall(&app).await;
    let (item, _) = scj_item(&app).await;
    let zs = app.token("zhangsan").await;
    let week = slots(&app, &hall, &item, "2026-03-03", "2026-03-05").await;
    for day in ["2026-03-03", "2026-03-04", "2026-03-05"] {
        let s = week.iter().find(|s| s["date"] == day).unwrap();
        let (st, a) = post(
            &app,
            &zs,
            "/api/v1/appointments",
            json!({ "slot": s["id"], "item": item }),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{a}");
    }
    // The day before the first: a reminder in the message box.
    tongban_app::hall::run_once(&app.state).await.unwrap();
    // Nobody comes; the clock runs past all three.
    app.clock.advance(chrono::Duration::days(4));
    tongban_app::hall::run_once(&app.state).await.unwrap();
    let zs = app.token("zhangsan").await;
    let (_, mine) = get(&app, &zs, "/api/v1/my/appointments").await;
    let statuses: Vec<&str> = mine["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["no_show"; 3]);
    let (_, cases) = get(&app, &zs, "/api/v1/my/cases").await;
    let texts: Vec<&str> = cases["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("预约提醒")), "{texts:?}");
    let next = slots(&app, &hall, &item, "2026-03-09", "2026-03-09").await;
    let (s, e) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": next[0]["id"], "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["message"].as_str().unwrap().contains("暂停"), "{e}");
    let clerk = app.token("clerk").await;
    let (s, _) = post(
        &app,
        &clerk,
        "/api/v1/appointments",
        json!({ "slot": next[0]["id"], "item": item, "applicant": "zhangsan" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    app.stop().await;
}

on_each_backend!(three_no_shows_suspend_online_booking);

/// The first comprehensive window of a hall.
async fn window_of(app: &App, hall: &str) -> i64 {
    let halls: Value = reqwest::get(app.url("/api/v1/halls"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = halls
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == hall)
        .unwrap();
    h["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "comprehensive")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn windows_call_tickets_in_order_and_link_cases(app: App) {
    let hall = civic_hall(&app).await;
    let (item, required) = scj_item(&app).await;
    let zs = app.token("zhangsan").await;
    // zhangsan books 09:30 today; it is 09:00.
    let today = slots(&app, &hall, &item, "2026-03-02", "2026-03-02").await;
    let s930 = today.iter().find(|s| s["start"] == "09:30").unwrap();
    let (_, appt) = post(
        &app,
        &zs,
        "/api/v1/appointments",
        json!({ "slot": s930["id"], "item": item }),
    )
    .await;
    // Two walk-ins at the entrance, anonymous.
    let (s, a1) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a1}");
    assert_eq!(
        (a1["ticket"].as_str(), a1["position"].as_i64()),
        (Some("A001"), Some(1))
    );
    let (_, a2) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "item": item }),
    )
    .await;
    assert_eq!(
        (a2["ticket"].as_str(), a2["position"].as_i64()),
        (Some("A002"), Some(2))
    );
    // Refused: no item, an unknown item, someone else's appointment, anonymous check-in.
    let (s, _) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "item": "NOPE" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "appointment": appt["id"] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let ent = app.token("enterprise").await;
    let (s, _) = post(
        &app,
        &ent,
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "appointment": appt["id"] }),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // At 09:31 zhangsan checks in: the booked ticket goes first within its slot.
    app.clock.advance(chrono::Duration::minutes(31));
    let zs = app.token("zhangsan").await;
    let clerk2 = app.token("clerk").await;
    let (s, y) = post(
        &app,
        &zs,
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "appointment": appt["id"] }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{y}");
    assert_eq!(
        (y["ticket"].as_str(), y["position"].as_i64()),
        (Some("Y001"), Some(1))
    );
    let (s, _) = post(
        &app,
        &zs,
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "appointment": appt["id"] }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "checked in once");
    let (_, a1_now) = get(&app, "", &format!("/api/v1/tickets/{}", a1["id"])).await;
    assert_eq!(a1_now["position"], 2);

    let w = window_of(&app, &hall).await;
    let approver = app.token("approver").await;
    let (s, _) = post(
        &app,
        &approver,
        &format!("/api/v1/windows/{w}/call"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, t) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w}/call"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["ticket"], "Y001");
    // Recall, then 过号 (skip).
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w}/recall"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, skipped) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/skip", t["id"]),
        json!({}),
    )
    .await;
    assert_eq!(
        (s, skipped["status"].as_str()),
        (StatusCode::OK, Some("skipped"))
    );
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/serve", t["id"]),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "a skipped ticket is not served");
    // A001 next; transferred to another window, which calls it before anything else.
    let (_, t1) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w}/call"),
        json!({}),
    )
    .await;
    assert_eq!(t1["ticket"], "A001");
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/transfer", t1["id"]),
        json!({ "window": w }),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not to the same window"
    );
    let w2 = w + 1;
    let (s, moved) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/transfer", t1["id"]),
        json!({ "window": w2 }),
    )
    .await;
    assert_eq!(
        (s, moved["status"].as_str()),
        (StatusCode::OK, Some("waiting")),
        "{moved}"
    );
    let (_, t2) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w}/call"),
        json!({}),
    )
    .await;
    assert_eq!(
        t2["ticket"], "A002",
        "the transferred ticket waits for its window"
    );
    let (_, t1b) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w2}/call"),
        json!({}),
    )
    .await;
    assert_eq!(t1b["ticket"], "A001");
    // A002 is served and becomes a case at the window.
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/serve", t2["id"]),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, case) = apply_online(&app, &zs, &item, &required, "hall-1").await;
    assert_eq!(s, StatusCode::CREATED);
    let no = case["case_no"].as_str().unwrap();
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/finish", t2["id"]),
        json!({ "case_no": "431900NOSUCHCASE0000" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, done) = post(
        &app,
        &clerk2,
        &format!("/api/v1/tickets/{}/finish", t2["id"]),
        json!({ "case_no": no }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(
        (done["status"].as_str(), done["case_no"].as_str()),
        (Some("done"), Some(no))
    );
    // Nobody left for window 1.
    let (s, _) = post(
        &app,
        &clerk2,
        &format!("/api/v1/windows/{w}/call"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // The screen shows the latest call; its event stream says the same.
    let html = reqwest::get(app.url(&format!("/halls/{hall}/screen")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("A001"), "{html}");
    assert!(html.contains("http-equiv=\"refresh\""));
    let sse = reqwest::get(app.url(&format!("/halls/{hall}/screen/events?once=1")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sse.contains("event: screen") && sse.contains("A001"),
        "{sse}"
    );
    // Figures: four tickets, waits measured, one skipped, one by appointment.
    let (s, f) = get(&app, &clerk2, &format!("/api/v1/halls/{hall}/figures")).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["total"]["tickets"], 3);
    assert_eq!(f["total"]["skipped"], 1);
    assert_eq!(f["total"]["by_appointment"], 1);
    assert!(
        f["total"]["p90_wait_minutes"].as_f64().unwrap() >= 31.0,
        "{f}"
    );
    let (s, _) = get(&app, &zs, &format!("/api/v1/halls/{hall}/figures")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}

on_each_backend!(windows_call_tickets_in_order_and_link_cases);

/// A ticket waiting longer than the limit raises a record for the hall.
async fn long_waits_raise_a_hall_record(app: App) {
    let hall = civic_hall(&app).await;
    let (item, _) = scj_item(&app).await;
    let (s, _) = post(
        &app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    tongban_app::hall::run_once(&app.state).await.unwrap();
    let sup = app.token("supervisor").await;
    let (_, f) = get(&app, &sup, &format!("/api/v1/halls/{hall}/figures")).await;
    assert_eq!(f["long_waits"], 0);
    app.clock.advance(chrono::Duration::minutes(31));
    tongban_app::hall::run_once(&app.state).await.unwrap();
    tongban_app::hall::run_once(&app.state).await.unwrap();
    let sup = app.token("supervisor").await;
    let (_, f) = get(&app, &sup, &format!("/api/v1/halls/{hall}/figures")).await;
    assert_eq!(f["long_waits"], 1, "{f}");
    app.stop().await;
}

on_each_backend!(long_waits_raise_a_hall_record);

async fn parcel_events_are_checked_and_recorded_on_the_case(app: App) {
    let (item, required) = scj_item(&app).await;
    let (zs, clerk, approver, head) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("head").await,
    );
    let (_, mut case) = apply_online(&app, &zs, &item, &required, "post-1").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    for (token, body) in [
        (&clerk, json!({ "action": "accept" })),
        (
            &approver,
            json!({ "action": "pass", "opinion": "材料齐全" }),
        ),
        (
            &approver,
            json!({ "action": "pass", "opinion": "符合条件" }),
        ),
        (&head, json!({ "action": "pass", "opinion": "准予许可" })),
        (
            &clerk,
            json!({ "action": "register_delivery", "waybill": "EA123456785CN" }),
        ),
    ] {
        let mut b = body;
        b["expected_version"] = case["version"].clone();
        let (s, c) = post(&app, token, &format!("/api/v1/cases/{no}/commands"), b).await;
        assert_eq!(s, StatusCode::OK, "{c}");
        case = c;
    }
    assert_eq!(case["status"], "dispatched");
    let path = format!("/api/v1/cases/{no}/delivery/events");
    // A wrong check digit, a malformed number, an unknown status, 异常 without a reason.
    for (body, what) in [
        (
            json!({ "waybill": "EA123456784CN", "status": "揽收", "at": "2026-03-02T10:00:00+08:00" }),
            "校验码",
        ),
        (
            json!({ "waybill": "EA12345678CN", "status": "揽收" }),
            "13位",
        ),
        (
            json!({ "waybill": "EA123456785CN", "status": "lost" }),
            "状态",
        ),
        (
            json!({ "waybill": "EA123456785CN", "status": "异常" }),
            "原因",
        ),
        (
            json!({ "waybill": "EA123456785CN", "status": "揽收", "at": "2027-01-01 10:00" }),
            "晚于",
        ),
        (
            json!({ "waybill": "AA473124829GB", "status": "揽收" }),
            "不一致",
        ),
    ] {
        let (s, e) = post(&app, &clerk, &path, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(what), "{body}: {e}");
    }
    // The applicant and another department may not enter events.
    let (s, _) = post(
        &app,
        &zs,
        &path,
        json!({ "waybill": "EA123456785CN", "status": "揽收" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let ev =
        json!({ "waybill": "EA123456785CN", "status": "揽收", "at": "2026-03-02T08:30:00+08:00" });
    let (s, r) = post(&app, &clerk, &path, ev.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    // The same event again (a carrier retry) is stored once.
    let (s, r) = post(&app, &clerk, &path, ev).await;
    assert_eq!((s, r["recorded"].as_bool()), (StatusCode::OK, Some(false)));
    // No news for six days: a supervision record (送达逾期) for the case.
    app.clock.advance(chrono::Duration::days(6));
    assert_eq!(
        tongban_app::hall::flag_stale_parcels(&app.state)
            .await
            .unwrap(),
        1
    );
    let sup = app.token("supervisor").await;
    let (_, recs) = get(
        &app,
        &sup,
        &format!("/api/v1/supervision/records?case_no={no}"),
    )
    .await;
    assert!(
        recs["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "delivery_overdue"),
        "{recs}"
    );
    // A signed carrier push; an unsigned or wrongly signed one is refused.
    let body = json!({ "waybill": "EA123456785CN", "status": "派送中", "at": "2026-03-08T09:00:00+08:00" }).to_string();
    let r = Client::new()
        .post(app.url("/api/v1/delivery/webhook"))
        .header("content-type", "application/json")
        .header("x-carrier-signature", "sha256=00")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no secret configured here"
    );
    // The CSV import (staff): 签收 sets the 送达 date.
    let clerk = app.token("clerk").await;
    let csv = "waybill,status,at,reason\nEA123456785CN,派送中,2026-03-07 09:00,\nEA123456784CN,签收,2026-03-07 15:00,\nEA123456785CN,签收,2026-03-07 15:00,\n";
    let r = Client::new()
        .post(app.url("/api/v1/delivery/import"))
        .bearer_auth(&clerk)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["recorded"], 2, "{report}");
    assert_eq!(report["refused"][0][0], 3, "{report}");
    let zs = app.token("zhangsan").await;
    let (_, c) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(c["status"], "delivered", "{c}");
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let tracked: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["kind"] == "delivery_tracked")
        .map(|e| e["event"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(tracked, vec!["collected", "out_for_delivery", "delivered"]);
    let (_, list) = get(&app, &zs, &path).await;
    assert_eq!(list["events"].as_array().unwrap().len(), 3);
    let (s, f) = get(&app, &sup, "/api/v1/delivery/figures").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(
        (f["parcels"].as_i64(), f["delivered"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(app.db().store.verify_chain().await.unwrap(), None);
    app.stop().await;
}

on_each_backend!(parcel_events_are_checked_and_recorded_on_the_case);

/// The webhook with a configured secret: a signed push is recorded, a bad signature is not.
#[tokio::test]
async fn a_signed_carrier_push_is_recorded() {
    let app = App::start_with(tongban_store::testing::TestDb::sqlite().await, |s| {
        s.app.hall.carrier_secret = Some("carrier-secret".into());
    })
    .await;
    let (item, required) = scj_item(&app).await;
    let zs = app.token("zhangsan").await;
    let clerk = app.token("clerk").await;
    let (_, case) = apply_online(&app, &zs, &item, &required, "push-1").await;
    let no = case["case_no"].as_str().unwrap();
    let (s, _) = post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{no}/delivery/events"),
        json!({ "waybill": "EA123456785CN", "status": "揽收" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let body = json!({ "waybill": "EA123456785CN", "status": "运输中", "at": "2026-03-02T09:00:00+08:00" }).to_string();
    let push = |sig: String| {
        Client::new()
            .post(app.url("/api/v1/delivery/webhook"))
            .header("content-type", "application/json")
            .header("x-carrier-signature", sig)
            .body(body.clone())
            .send()
    };
    assert_eq!(
        push("sha256=deadbeef".into()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let sig = tongban_app::hall::hmac_sha256_hex(b"carrier-secret", body.as_bytes());
    assert_eq!(
        push(format!("sha256={sig}")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        push(format!("sha256={sig}")).await.unwrap().status(),
        StatusCode::OK
    );
    let (_, list) = get(&app, &zs, &format!("/api/v1/cases/{no}/delivery/events")).await;
    assert_eq!(list["events"][1]["source"], "webhook");
    app.stop().await;
}

/// The demo hall: a queue with one ticket called, an appointment, two parcels on their way
/// that the simulated carrier moves to 签收.
async fn the_demo_hall_and_its_simulated_carrier(app: App) {
    assert_eq!(tongban_app::hall::seed_demo(&app.state).await.unwrap(), 4);
    assert_eq!(
        tongban_app::hall::seed_demo(&app.state).await.unwrap(),
        0,
        "seeded once"
    );
    let hall = civic_hall(&app).await;
    let html = reqwest::get(app.url(&format!("/halls/{hall}/screen")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("A001"), "{html}");
    let mut moved = Vec::new();
    for _ in 0..4 {
        app.clock.advance(chrono::Duration::hours(3));
        moved.push(
            tongban_app::hall::simulate_carrier(&app.state)
                .await
                .unwrap(),
        );
    }
    // 揽收 → 运输中 → 派送中 → 签收 and 运输中 → 派送中 → 签收.
    assert_eq!(moved, vec![2, 2, 1, 0]);
    let sup = app.token("supervisor").await;
    let (_, f) = get(&app, &sup, "/api/v1/delivery/figures").await;
    assert_eq!(
        (f["parcels"].as_i64(), f["delivered"].as_i64()),
        (Some(2), Some(2)),
        "{f}"
    );
    assert_eq!(app.db().store.verify_chain().await.unwrap(), None);
    app.stop().await;
}

on_each_backend!(the_demo_hall_and_its_simulated_carrier);
