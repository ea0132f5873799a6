//! 大数据分析 (issue 19): case figures computed for a hand-built set of cases — across the
//! 清明 holiday, with 补正 and 特别程序 — compared with their definitions, on both backends;
//! the projection checked against the ledger; level filters; drill-down authorization.

use super::workflow::{apply_online, scj_item};
use super::{get, page_text, post, received_on_paper, App, SeedTime};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tongban_core::case::{Event, Outcome};
use tongban_store::supervision::SupervisionWrite;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Appends hand-dated events to a case, as the workflow would have written them.
async fn write(app: &App, case_no: &str, events: Vec<Event>) {
    let store = &app.db().store;
    let rec = store.case_by_no(case_no).await.unwrap();
    store
        .append_case_events(
            &rec,
            &events,
            "test",
            app.clock.now_for_seed(),
            &SupervisionWrite::default(),
            &[],
        )
        .await
        .unwrap();
}

fn accepted(on: &str, due: &str) -> Event {
    Event::Accepted {
        on: d(on),
        promised_due: d(due),
        legal_due: d("2026-05-29"),
        deemed: false,
    }
}

fn completed(outcome: Outcome, on: &str) -> Event {
    Event::Completed {
        outcome,
        reasons: "审批完成".into(),
        on: d(on),
        rights: String::new(),
    }
}

/// Five cases of one 市场监管 item, all submitted online on 2 March 2026 (results by post):
/// - A: accepted 2 Apr (due 10 Apr), approved 8 Apr: 3 working days over 清明 (4–6 Apr),
///   early, one pass;
/// - B: a 补正 first, accepted 2 Apr (due 8 Apr), 特别程序 3–9 Apr (2 working days, due moved
///   to 10 Apr), approved 10 Apr: 5 working days less 2 = 3, on time on the day, not one pass;
/// - C: accepted 1 Apr (due 3 Apr), refused 9 Apr: 5 working days, late;
/// - D: accepted 1 Apr (due 3 Apr), still open: overdue at the end of April;
/// - E: never accepted.
pub async fn hand_built_cases(app: &App) -> (String, Vec<String>) {
    let zs = app.token("zhangsan").await;
    let (code, required) = scj_item(app).await;
    let mut nos = vec![];
    for k in ["a", "b", "c", "d", "e"] {
        let (s, case) = apply_online(app, &zs, &code, &required, k).await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        nos.push(case["case_no"].as_str().unwrap().to_string());
    }
    write(app, &nos[0], vec![accepted("2026-04-02", "2026-04-10")]).await;
    write(
        app,
        &nos[0],
        vec![completed(Outcome::Approved, "2026-04-08")],
    )
    .await;
    write(
        app,
        &nos[1],
        vec![
            Event::CorrectionRequested {
                items: vec!["补充平面图".into()],
                notice_due: d("2026-03-09"),
                correction_due: None,
            },
            Event::CorrectionSubmitted {
                materials: vec![],
                received_on: d("2026-03-03"),
                outstanding: vec![],
            },
            accepted("2026-04-02", "2026-04-08"),
            Event::SpecialStarted {
                procedure: "检测".into(),
                reason: "样品送检".into(),
                on: d("2026-04-03"),
                expected_days: Some(2),
                expected_end: None,
            },
        ],
    )
    .await;
    write(
        app,
        &nos[1],
        vec![
            Event::SpecialEnded {
                result: "合格".into(),
                on: d("2026-04-08"),
                paused_days: 2,
                promised_due: d("2026-04-10"),
                legal_due: d("2026-06-02"),
            },
            completed(Outcome::Approved, "2026-04-10"),
        ],
    )
    .await;
    write(
        app,
        &nos[2],
        vec![
            accepted("2026-04-01", "2026-04-03"),
            completed(Outcome::Refused, "2026-04-09"),
        ],
    )
    .await;
    write(app, &nos[3], vec![accepted("2026-04-01", "2026-04-03")]).await;
    (code, nos)
}

/// GETs JSON without any credentials.
async fn anon(app: &App, path: &str) -> (StatusCode, Value) {
    let r = reqwest::get(app.url(path)).await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ratio(v: &Value) -> (u64, u64, f64) {
    (
        v["count"].as_u64().unwrap(),
        v["of"].as_u64().unwrap(),
        v["rate"].as_f64().unwrap(),
    )
}

async fn case_figures_follow_their_definitions(app: App) {
    let (code, _) = hand_built_cases(&app).await;
    let (s, v) = anon(
        &app,
        &format!("/api/v1/analytics/cases?from=2026-03-01&to=2026-04-30&group_by=item&item={code}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["group_by"], "item");
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2026-03-01"), Some("2026-04-30"))
    );
    let t = &v["total"];
    assert_eq!(t["received"], 5);
    assert_eq!(t["accepted"], 4);
    assert_eq!(t["decided"], 3);
    assert_eq!(t["online"], 5);
    assert_eq!(ratio(&t["on_time"]), (2, 3, 0.6667));
    assert_eq!(ratio(&t["early"]), (1, 3, 0.3333));
    assert_eq!(ratio(&t["one_pass"]), (2, 3, 0.6667));
    assert_eq!(ratio(&t["post_delivery"]), (3, 3, 1.0));
    // D open past its due date on the 30th, C decided after its due date.
    assert_eq!(
        (t["overdue"].as_u64(), t["overdue_open"].as_u64()),
        (Some(2), Some(1))
    );
    // Durations 3 (across 清明), 3 (special days excluded), 5.
    assert_eq!(t["duration_wd"]["median"], 3.0);
    assert_eq!(t["duration_wd"]["mean"], 3.67);
    assert_eq!(
        (
            t["special"]["cases"].as_u64(),
            t["special"]["days"].as_u64()
        ),
        (Some(1), Some(2))
    );
    // No ratings yet: 0 of 0.
    assert_eq!(ratio(&t["satisfaction"]), (0, 0, 0.0));
    assert_eq!(ratio(&t["dissatisfaction"]), (0, 0, 0.0));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["key"], code.as_str());
    assert_eq!(rows[0]["decided"], 3);

    // By month: received in March, accepted and decided in April.
    let (_, v) = anon(
        &app,
        &format!(
            "/api/v1/analytics/cases?from=2026-03-01&to=2026-04-30&group_by=month&item={code}"
        ),
    )
    .await;
    let rows = v["rows"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["2026-03", "2026-04"]);
    assert_eq!(
        (rows[0]["received"].as_u64(), rows[0]["decided"].as_u64()),
        (Some(5), Some(0))
    );
    assert_eq!(
        (rows[1]["accepted"].as_u64(), rows[1]["decided"].as_u64()),
        (Some(4), Some(3))
    );

    // Only April: nothing received; on 3 April nothing is overdue yet.
    let (_, v) = anon(
        &app,
        &format!(
            "/api/v1/analytics/cases?from=2026-04-01&to=2026-04-03&group_by=channel&item={code}"
        ),
    )
    .await;
    assert_eq!(v["total"]["received"], 0);
    assert_eq!(v["total"]["overdue"], 0);
    assert_eq!(v["total"]["on_time"]["rate"], 0.0);

    // The live projection agrees with the ledger.
    let r = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert!(r.differences.is_empty(), "{:?}", r.differences);
    assert_eq!(r.counter_differences, 0, "{:?}", r.counter_examples);
    assert_eq!(r.cases, 5);
}
on_each_backend!(case_figures_follow_their_definitions);

async fn before_after_level_filters_and_bad_input(app: App) {
    let (code, _) = hand_built_cases(&app).await;
    let (s, v) = anon(
        &app,
        &format!(
            "/api/v1/analytics/compare?before_from=2026-04-01&before_to=2026-04-08&from=2026-04-09&to=2026-04-30&group_by=item&item={code}"
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Before: A decided (3 days). After: B (3) and C (5) decided.
    assert_eq!(v["before"]["total"]["decided"], 1);
    assert_eq!(v["before"]["total"]["duration_wd"]["median"], 3.0);
    assert_eq!(v["after"]["total"]["decided"], 2);
    assert_eq!(v["after"]["total"]["duration_wd"]["median"], 4.0);

    // The item is 市级: a county filter leaves nothing, a city filter keeps all.
    let q = "/api/v1/analytics/cases?from=2026-03-01&to=2026-04-30&group_by=level";
    let (_, v) = anon(&app, &format!("{q}&level=county&item={code}")).await;
    assert_eq!(v["total"]["received"], 0);
    let (_, v) = anon(&app, &format!("{q}&level=city&item={code}")).await;
    assert_eq!(v["total"]["received"], 5);
    assert_eq!(v["rows"][0]["key"], "city");
    assert_eq!(v["rows"][0]["label"], "市本级");
    // A level names hundreds of items (more than one statement binds): still answered.
    let (s, v) = anon(&app, &format!("{q}&level=city")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["total"]["received"].as_u64().unwrap() >= 5);
    // Catalog indicators by level: the levels add up to the whole catalog, and the page says
    // which level it counts.
    let total = anon(&app, "/api/v1/catalog/stats").await.1["total"]
        .as_u64()
        .unwrap();
    let mut sum = 0;
    for l in ["city", "county", "township", "above"] {
        sum += anon(&app, &format!("/api/v1/catalog/stats?level={l}"))
            .await
            .1["total"]
            .as_u64()
            .unwrap();
    }
    assert_eq!(sum, total);
    let city = anon(&app, "/api/v1/catalog/stats?level=city").await.1["total"]
        .as_u64()
        .unwrap();
    assert!(city > 0 && city < total, "{city} of {total}");
    let html = page_text(&Client::new(), app.url("/stats?level=county")).await;
    assert!(html.contains("层级：县区"), "{html}");
    let (s, _) = anon(&app, "/api/v1/catalog/stats?level=galaxy").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Bad input: refused as invalid (422, as everywhere in the API) with a message, never a 500.
    for bad in [
        "/api/v1/analytics/cases?from=2026-13-01&to=2026-04-30",
        "/api/v1/analytics/cases?from=2026-04-30&to=2026-04-01",
        "/api/v1/analytics/cases?from=2020-01-01&to=2026-04-01",
        "/api/v1/analytics/cases?group_by=colour",
        "/api/v1/analytics/cases?level=galaxy",
        "/api/v1/analytics/compare?from=2026-04-01&to=2026-04-30",
    ] {
        let (s, v) = anon(&app, bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    let (s, _) = anon(&app, "/api/v1/analytics/cases?department=NOSUCH").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
on_each_backend!(before_after_level_filters_and_bad_input);

async fn drill_down_shows_cases_to_staff_only(app: App) {
    let (code, nos) = hand_built_cases(&app).await;
    let page = format!("/stats?from=2026-03-01&to=2026-04-30&item={code}");
    // The public sees the figures, not the cases.
    let html = page_text(&Client::new(), app.url(&page)).await;
    assert!(html.contains("办件清单仅对工作人员开放"));
    assert!(!html.contains(&nos[0]));
    assert!(html.contains("按时办结率"));
    // An applicant neither.
    let (zs, _) = app.sign_in("zhangsan").await;
    let html = page_text(&zs, app.url(&page)).await;
    assert!(!html.contains(&nos[0]));
    // The department's approver and the clerk see the list.
    for who in ["approver", "clerk"] {
        let (c, _) = app.sign_in(who).await;
        let html = page_text(&c, app.url(&page)).await;
        for no in &nos {
            assert!(html.contains(no.as_str()), "{who} sees {no}");
        }
    }
    // Another department's approver: nothing of this department.
    let api = format!("/api/v1/analytics/cases/list?from=2026-03-01&to=2026-04-30&item={code}");
    let (s, v) = get(&app, &app.token("approver").await, &api).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["cases"].as_array().unwrap().len(), 5);
    let (s, _) = get(&app, &app.token("zhangsan").await, &api).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Department staff asking for another department's cases are refused.
    let (_, deps) = anon(&app, "/api/v1/departments").await;
    let other = deps
        .as_array()
        .or_else(|| deps["departments"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市公安局")
        .expect("市公安局")["code"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = get(
        &app,
        &app.token("approver").await,
        &format!("/api/v1/analytics/cases/list?department={other}"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = anon(&app, &api).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Exports: the figures for anyone (CSV with the numbers, XLSX a zip), the cases for staff.
    let r = reqwest::get(app.url(&format!(
        "/stats/export?table=figures&format=csv&from=2026-03-01&to=2026-04-30&group_by=item&item={code}"
    )))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("按时办结率") && csv.contains("66.7%"), "{csv}");
    let r = reqwest::get(app.url("/stats/export?table=catalog&format=xlsx&level=city"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let cases =
        format!("/stats/export?table=cases&format=csv&from=2026-03-01&to=2026-04-30&item={code}");
    let r = reqwest::get(app.url(&cases)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (c, _) = app.sign_in("clerk").await;
    let text = page_text(&c, app.url(&cases)).await;
    assert!(text.contains(nos[0].as_str()));
    let r = reqwest::get(app.url("/stats/export?table=secrets"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
on_each_backend!(drill_down_shows_cases_to_staff_only);

/// The figures of a query, from the counters and row by row, as JSON.
async fn both_ways(
    app: &App,
    from: &str,
    to: &str,
    group_by: &str,
    item: Option<&str>,
) -> (Value, Value) {
    let q = tongban_app::analytics::FigureQuery::parse(from, to, group_by, None, item, None, None)
        .unwrap();
    let counted = tongban_app::analytics::case_figures(&app.state.app, &q)
        .await
        .unwrap();
    let rows = tongban_app::analytics::case_figures_by_rows(&app.state.app, &q)
        .await
        .unwrap();
    // The row-by-row computation does not read ratings: compare everything else.
    let strip = |mut v: Value| {
        for r in v["rows"].as_array_mut().unwrap().iter_mut() {
            r.as_object_mut().unwrap().remove("satisfaction");
            r.as_object_mut().unwrap().remove("dissatisfaction");
        }
        v["total"].as_object_mut().unwrap().remove("satisfaction");
        v["total"]
            .as_object_mut()
            .unwrap()
            .remove("dissatisfaction");
        v
    };
    (
        strip(serde_json::to_value(counted).unwrap()),
        strip(serde_json::to_value(rows).unwrap()),
    )
}

/// The pre-aggregated counters give exactly the figures computed case by case, for every
/// grouping and ranges that cut the hand-built cases (清明, 补正, 特别程序) in different places,
/// with and without the item filter (the demo's cases count too).
async fn counters_agree_with_the_cases_row_by_row(app: App) {
    let (code, _) = hand_built_cases(&app).await;
    let groupings = [
        "department",
        "item",
        "hall",
        "channel",
        "district",
        "level",
        "day",
        "week",
        "month",
        "year",
    ];
    let ranges = [
        ("2026-03-01", "2026-04-30"),
        ("2026-04-01", "2026-04-10"),
        ("2026-04-03", "2026-04-08"),
        ("2026-03-02", "2026-03-02"),
        ("2026-04-04", "2026-04-06"),
        ("2025-12-15", "2026-12-31"),
        ("2024-01-01", "2026-11-30"),
    ];
    for g in groupings {
        for (from, to) in ranges {
            for item in [Some(code.as_str()), None] {
                let (counted, rows) = both_ways(&app, from, to, g, item).await;
                assert_eq!(counted, rows, "{g} {from}..{to} {item:?}");
            }
        }
    }
    // A decided case's median: an even count (3 and 5 → 4) from the duration histogram.
    let (counted, _) = both_ways(&app, "2026-04-09", "2026-04-30", "item", Some(&code)).await;
    assert_eq!(counted["total"]["duration_wd"]["median"], 4.0);
}
on_each_backend!(counters_agree_with_the_cases_row_by_row);

/// `analytics rebuild` finds a corrupted counter, a corrupted duration bucket and a
/// corrupted case figure, reports them, repairs them, and then agrees with the live figures.
async fn rebuild_detects_and_repairs_corrupted_counters(app: App) {
    let (code, _) = hand_built_cases(&app).await;
    let store = &app.db().store;
    let url =
        format!("/api/v1/analytics/cases?from=2026-03-01&to=2026-04-30&group_by=item&item={code}");
    let (_, good) = anon(&app, &url).await;
    assert_eq!(good["total"]["decided"], 3);
    let n = store
        .debug_execute(
            "UPDATE figure_counters SET decided = decided + 7 WHERE grain = 'm' AND period = '2026-04' AND department_id <> 0 AND decided > 0 AND 1 = $1 \
             AND stripe = (SELECT MIN(stripe) FROM figure_counters WHERE grain = 'm' AND period = '2026-04' AND department_id <> 0 AND decided > 0)",
            1,
        )
        .await
        .unwrap();
    assert!(n >= 1);
    store
        .debug_execute(
            "UPDATE figure_durations SET n = n + 2 WHERE grain = 'd' AND period = '2026-04-09' AND department_id = 0 AND wd = $1 \
             AND stripe = (SELECT MIN(stripe) FROM figure_durations WHERE grain = 'd' AND period = '2026-04-09' AND department_id = 0 AND wd = 5)",
            5,
        )
        .await
        .unwrap();
    store
        .debug_execute(
            "INSERT INTO figure_counters (grain, period, department_id, impl_code, online, window_id, received, online_received, accepted, decided, on_time, early, one_pass, post, overdue_closed, dur_sum, special_cases, special_days, od_start, od_end, rated, good, bad) \
             VALUES ('d', '1999-01-01', 0, '*', 0, 0, $1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
            4,
        )
        .await
        .unwrap();
    let (_, bad) = anon(&app, &url).await;
    assert_eq!(bad["total"]["decided"], 10, "the corruption shows");

    let r = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert_eq!(r.figure_differences, 0);
    // The month row, the day row's duration bucket (day, and the city-wide row), the stray row.
    assert!(r.counter_differences >= 3, "{:?}", r.counter_examples);
    assert!(
        r.counter_examples.iter().any(|e| e.contains("2026-04")),
        "{:?}",
        r.counter_examples
    );
    assert!(r.counter_examples.iter().any(|e| e.contains("1999-01-01")));
    // A dry run repairs nothing.
    assert_eq!(anon(&app, &url).await.1["total"]["decided"], 10);

    let r = tongban_app::analytics::rebuild(&app.state.app, false)
        .await
        .unwrap();
    assert!(r.counter_differences >= 3);
    let (_, repaired) = anon(&app, &url).await;
    assert_eq!(repaired, good);
    let r = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert_eq!(
        (r.figure_differences, r.counter_differences),
        (0, 0),
        "{:?}",
        r.counter_examples
    );

    // A case figure whose duration was tampered with: the figure and its counters.
    store
        .debug_execute(
            "UPDATE case_figures SET duration_wd = 99 WHERE duration_wd IS NOT NULL AND case_id = (SELECT MAX(case_id) FROM case_figures WHERE duration_wd IS NOT NULL) AND $1 = 1",
            1,
        )
        .await
        .unwrap();
    let r = tongban_app::analytics::rebuild(&app.state.app, false)
        .await
        .unwrap();
    assert_eq!(r.figure_differences, 1, "{:?}", r.differences);
    let r = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert_eq!((r.figure_differences, r.counter_differences), (0, 0));
    assert_eq!(anon(&app, &url).await.1, good);
}
on_each_backend!(rebuild_detects_and_repairs_corrupted_counters);

/// The id of a comprehensive window of 市民之家 and the hall's code.
async fn civic_window(app: &App) -> (String, i64) {
    let (_, halls) = anon(app, "/api/v1/halls").await;
    let h = halls
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "市民之家")
        .expect("市民之家")
        .clone();
    let w = h["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "comprehensive")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (h["code"].as_str().unwrap().to_string(), w)
}

async fn command(app: &App, token: &str, no: &str, mut body: Value) {
    let (_, c) = get(app, token, &format!("/api/v1/cases/{no}")).await;
    body["expected_version"] = c["version"].clone();
    let (s, v) = post(app, token, &format!("/api/v1/cases/{no}/commands"), body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// A walk-in served at the window becomes a case there (received on paper).
async fn served_at_window(app: &App, hall: &str, w: i64, item: &str) -> (i64, String) {
    let clerk = app.token("clerk").await;
    let (s, t) = post(
        app,
        "",
        &format!("/api/v1/halls/{hall}/tickets"),
        json!({ "item": item }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (s, t) = post(app, &clerk, &format!("/api/v1/windows/{w}/call"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let id = t["id"].as_i64().unwrap();
    let (s, _) = post(
        app,
        &clerk,
        &format!("/api/v1/tickets/{id}/serve"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let items = app.db().store.all_items().await.unwrap();
    let it = items.iter().find(|i| i.item.impl_code == item).unwrap();
    let (s, case) = post(
        app,
        &clerk,
        "/api/v1/cases",
        json!({ "item": item, "materials": received_on_paper(it), "applicant": { "kind": "person", "id_number": "431302198503150024", "name": "张三" } }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    (id, case["case_no"].as_str().unwrap().to_string())
}

/// 受理 at a window records the window (whether the ticket is linked before or after the
/// acceptance); `group_by=window` counts by it and names it; 好评率 / 差评率 come from the
/// ratings, an upheld appeal taking its rating out; counters agree with the cases and with
/// the ledger's rebuild.
async fn window_grouping_and_ratings_in_the_figures(app: App) {
    let (hall, w) = civic_window(&app).await;
    let (item, _) = scj_item(&app).await;
    let clerk = app.token("clerk").await;
    // A: the ticket is finished with the case, then the case is accepted.
    let (ta, a) = served_at_window(&app, &hall, w, &item).await;
    let (s, v) = post(
        &app,
        &clerk,
        &format!("/api/v1/tickets/{ta}/finish"),
        json!({ "case_no": a }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    command(&app, &clerk, &a, json!({ "action": "accept" })).await;
    // B: accepted first, the ticket linked afterwards.
    let (tb, b) = served_at_window(&app, &hall, w, &item).await;
    command(&app, &clerk, &b, json!({ "action": "accept" })).await;
    let (s, v) = post(
        &app,
        &clerk,
        &format!("/api/v1/tickets/{tb}/finish"),
        json!({ "case_no": b }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // C: online, accepted without a window.
    let zs = app.token("zhangsan").await;
    let (_, required) = scj_item(&app).await;
    let (s, c) = apply_online(&app, &zs, &item, &required, "win-c").await;
    assert_eq!(s, StatusCode::CREATED);
    let c = c["case_no"].as_str().unwrap().to_string();
    command(&app, &clerk, &c, json!({ "action": "accept" })).await;

    let url = format!(
        "/api/v1/analytics/cases?from=2026-03-01&to=2026-03-31&group_by=window&item={item}"
    );
    let (s, v) = anon(&app, &url).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["group_by"], "window");
    let rows = v["rows"].as_array().unwrap();
    let at = rows
        .iter()
        .find(|r| r["key"] == w.to_string().as_str())
        .expect("the window's row");
    assert_eq!(at["accepted"], 2, "{v}");
    assert!(at["label"].as_str().unwrap().contains("市民之家"), "{at}");
    let none = rows
        .iter()
        .find(|r| r["key"] == "0")
        .expect("not at a window");
    assert_eq!(none["accepted"], 1);
    assert_eq!(none["label"], "未经窗口受理");
    let (counted, by_rows) =
        both_ways(&app, "2026-03-01", "2026-03-31", "window", Some(&item)).await;
    assert_eq!(counted, by_rows);
    let html = page_text(
        &Client::new(),
        app.url(&format!(
            "/stats?from=2026-03-01&to=2026-03-31&group_by=window&item={item}"
        )),
    )
    .await;
    assert!(
        html.contains("按受理窗口") && html.contains("市民之家"),
        "{html}"
    );

    // Ratings: A 非常满意, B 非常不满意 (appealed and upheld), C 基本满意.
    let rate = |no: String, level: u8| {
        let app = &app;
        let zs = zs.clone();
        async move {
            let (s, r) = post(
                app,
                &zs,
                &format!("/api/v1/cases/{no}/ratings"),
                json!({ "level": level, "channel": "web", "stage": "acceptance" }),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            r["id"].as_i64().unwrap()
        }
    };
    rate(a.clone(), 5).await;
    let bad = rate(b.clone(), 1).await;
    rate(c.clone(), 3).await;
    let (_, v) = anon(&app, &url).await;
    assert_eq!(ratio(&v["total"]["satisfaction"]), (1, 3, 0.3333));
    assert_eq!(ratio(&v["total"]["dissatisfaction"]), (1, 3, 0.3333));
    let at = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == w.to_string().as_str())
        .unwrap()
        .clone();
    assert_eq!(ratio(&at["satisfaction"]), (1, 2, 0.5));
    let head = app.token("head").await;
    let (s, e) = post(
        &app,
        &head,
        &format!("/api/v1/ratings/{bad}/appeal"),
        json!({ "reason": "申请人误触", "evidence": "大厅录像" }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let sup = app.token("supervisor").await;
    let (s, e) = post(
        &app,
        &sup,
        &format!("/api/v1/ratings/{bad}/appeal/decision"),
        json!({ "upheld": true, "reason": "经核实为误触" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, v) = anon(&app, &url).await;
    assert_eq!(ratio(&v["total"]["satisfaction"]), (1, 2, 0.5));
    assert_eq!(ratio(&v["total"]["dissatisfaction"]), (0, 2, 0.0));
    // The dashboard shows the tile.
    let html = page_text(
        &Client::new(),
        app.url(&format!("/stats?from=2026-03-01&to=2026-03-31&item={item}")),
    )
    .await;
    assert!(html.contains("好评率") && html.contains("差评率"), "{html}");
    // The rebuild from the ledger agrees with all of it.
    let r = tongban_app::analytics::rebuild(&app.state.app, true)
        .await
        .unwrap();
    assert_eq!(
        (r.figure_differences, r.counter_differences),
        (0, 0),
        "{:?} {:?}",
        r.differences,
        r.counter_examples
    );
    // Refused: an unknown grouping names the window among the choices.
    let (s, v) = anon(&app, "/api/v1/analytics/cases?group_by=counter").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["message"].as_str().unwrap().contains("window"));
}
on_each_backend!(window_grouping_and_ratings_in_the_figures);
