//! Browser flows: a real headless Chromium, driven over the W3C WebDriver protocol by
//! chromedriver, against a real server — on SQLite and on PostgreSQL.
//!
//! Skipped when Chromium or chromedriver is missing, unless TONGBAN_REQUIRE_BROWSER=1
//! (CI installs Debian's chromium and chromium-driver and sets it).

use super::{App, PDF};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

pub(crate) fn browser_available() -> bool {
    let found = std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new("/usr/bin/chromedriver").exists();
    if !found {
        if std::env::var("TONGBAN_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("TONGBAN_REQUIRE_BROWSER=1 but /usr/bin/chromium or /usr/bin/chromedriver is missing");
        }
        eprintln!("chromium/chromedriver not installed; skipping the browser flows");
    }
    found
}

impl Driver {
    pub(crate) async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.path().display()), "--window-size=1280,1600"]
            }
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Driver {
            child,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        for _ in 0..50 {
            let v = self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await;
            if let Some(id) = v
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
            {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.call(reqwest::Method::GET, "/url", None).await;
        panic!("no element {css} on {url}");
    }

    pub(crate) async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits until the element's text contains `want`.
    pub(crate) async fn wait_text(&self, css: &str, want: &str) {
        let mut last = String::new();
        for _ in 0..50 {
            last = self.text(css).await;
            if last.contains(want) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} shows {last:?}, expected {want:?}");
    }

    pub(crate) async fn sign_in(&self, app: &App, user: &str) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
        self.goto(&app.url("/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", tongban::demo::DEMO_PASSWORD)
            .await;
        self.click("form.stack button[type=submit]").await;
        self.wait_text("header.site .user", "退出").await;
    }

    pub(crate) async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Acts on the case page with one of its action forms, after filling the given fields.
async fn act(d: &Driver, app: &App, no: &str, action: &str, fields: &[(&str, &str)]) {
    d.goto(&app.url(&format!("/cases/{no}"))).await;
    for (name, value) in fields {
        d.type_into(&format!("form:has(#act-{action}) [name={name}]"), value)
            .await;
    }
    d.click(&format!("#act-{action}")).await;
}

/// Ticks 已收取 and 原件已核验 for every required material of the window checklist.
async fn tick_required(d: &Driver, item: &tongban_store::catalog::StoredItem) {
    for (i, m) in item.materials.iter().enumerate() {
        if m.necessity == tongban_core::catalog::Necessity::Required {
            d.click(&format!("#recv-{i}")).await;
            d.click(&format!("#orig-{i}")).await;
        }
    }
}

async fn browser_flows_online_window_and_immediate(app: App) {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("营业执照.pdf");
    std::fs::write(&pdf, PDF).unwrap();
    let pdf = pdf.display().to_string();
    let d = Driver::start().await;
    let items = app.db().store.all_items().await.unwrap();
    let promised = items
        .iter()
        .find(|i| {
            i.item.department == "市市场监督管理局"
                && i.item.name.contains("食品经营许可证核发")
                && i.item.kind == tongban_core::catalog::CaseKind::Promised
        })
        .unwrap();

    // 1. The applicant applies online with uploads and post delivery.
    d.sign_in(&app, "zhangsan").await;
    d.goto(&app.url(&format!("/apply/{}", promised.item.impl_code)))
        .await;
    for i in 0..promised.materials.len() {
        let id = d.find(&format!("#file{i}")).await;
        d.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": pdf })),
        )
        .await;
    }
    d.click("input[name=delivery][value=post]").await;
    d.type_into("#address", "娄星区长青中街1号 张三 13807381234")
        .await;
    d.click("#submit-application").await;
    d.wait_text("h1", "申请回执").await;
    let no = d.text("#receipt-no").await;
    assert_eq!(no.len(), 20, "receipt shows the case number");

    // 2. The clerk sends one complete correction notice.
    d.sign_in(&app, "clerk").await;
    act(
        &d,
        &app,
        &no,
        "request_correction",
        &[("items", "营业执照副本不清晰，请重新上传")],
    )
    .await;
    d.wait_text("#status", "待补正").await;

    // 3. The applicant sees it and corrects online.
    d.sign_in(&app, "zhangsan").await;
    d.goto(&app.url(&format!("/cases/{no}"))).await;
    d.wait_text("#correction-items", "营业执照副本不清晰").await;
    let id = d.find("#item-0").await;
    d.call(
        reqwest::Method::POST,
        &format!("/element/{id}/value"),
        Some(json!({ "text": pdf })),
    )
    .await;
    d.click("#act-submit_correction").await;
    d.wait_text("#status", "待预审").await;

    // 4. The clerk accepts; 承办 and 审核 by the approver, 批准 by the head.
    d.sign_in(&app, "clerk").await;
    act(&d, &app, &no, "accept", &[]).await;
    d.wait_text("#status", "审批中").await;
    d.sign_in(&app, "approver").await;
    act(&d, &app, &no, "pass", &[("opinion", "材料齐全")]).await;
    d.wait_text("#step", "审核").await;
    act(&d, &app, &no, "pass", &[("opinion", "符合条件")]).await;
    d.wait_text("#step", "批准").await;
    d.sign_in(&app, "head").await;
    act(&d, &app, &no, "pass", &[("opinion", "准予许可")]).await;
    d.wait_text("#status", "已办结").await;

    // 5. Delivered by post; the applicant confirms receipt.
    d.sign_in(&app, "clerk").await;
    act(
        &d,
        &app,
        &no,
        "register_delivery",
        &[("waybill", "EA123456789CN")],
    )
    .await;
    d.wait_text("#status", "已寄出").await;
    d.sign_in(&app, "zhangsan").await;
    act(&d, &app, &no, "confirm_receipt", &[]).await;
    d.wait_text("#status", "已送达").await;
    let timeline = d.text("#timeline").await;
    for step in [
        "申办",
        "补正告知",
        "补正提交",
        "受理",
        "审批通过",
        "办结",
        "送达登记",
        "确认收到",
    ] {
        assert!(timeline.contains(step), "timeline lacks {step}: {timeline}");
    }

    // 6. Window intake for a walk-in applicant, then acceptance.
    let walk_in = tongban_core::ids::ResidentId::with_check_char("43130219920808004").unwrap();
    d.sign_in(&app, "clerk").await;
    d.goto(&app.url(&format!("/window?item={}", promised.item.impl_code)))
        .await;
    d.type_into("#id_number", walk_in.as_str()).await;
    d.type_into("#name", "窗口办事人").await;
    d.type_into("#mobile", "13600000000").await;
    tick_required(&d, promised).await;
    let id = d.find("#file-0").await;
    d.call(
        reqwest::Method::POST,
        &format!("/element/{id}/value"),
        Some(json!({ "text": pdf })),
    )
    .await;
    d.click("#window-submit").await;
    d.wait_text("#status", "待预审").await;
    let window_no = d.text("#case-no").await;
    act(&d, &app, &window_no, "accept", &[]).await;
    d.wait_text("#status", "审批中").await;

    // 7. An immediate item (即办件) is accepted and completed in one step.
    let immediate = items
        .iter()
        .find(|i| {
            i.item.kind == tongban_core::catalog::CaseKind::Immediate
                && i.item.item_type.is_application()
        })
        .unwrap();
    d.goto(&app.url(&format!("/window?item={}", immediate.item.impl_code)))
        .await;
    d.type_into("#id_number", walk_in.as_str()).await;
    tick_required(&d, immediate).await;
    d.click("#window-submit").await;
    d.wait_text("#status", "待预审").await;
    let imm_no = d.text("#case-no").await;
    act(&d, &app, &imm_no, "accept", &[]).await;
    d.wait_text("#status", "已办结").await;
    act(&d, &app, &imm_no, "register_delivery", &[]).await;
    d.wait_text("#status", "已送达").await;

    d.quit().await;
    app.stop().await;
}

on_each_backend!(browser_flows_online_window_and_immediate);

/// 好差评 in a real browser: the applicant's prompt on the case page after 受理, and the
/// window's pad (no sign-in, one touch) after the clerk shows the case on it.
async fn browser_rating_prompt_and_window_pad(app: App) {
    if !browser_available() {
        return;
    }
    let no = crate::ratings::accepted_case(&app).await;
    let store = &app.db().store;
    let hall = store.halls().await.unwrap()[0].id;
    let window = store.hall_windows(hall).await.unwrap()[0].id;
    let d = Driver::start().await;
    d.sign_in(&app, "zhangsan").await;
    d.goto(&app.url(&format!("/cases/{no}"))).await;
    let prompt = "form.rate-prompt[data-stage=acceptance]";
    d.click(&format!("{prompt} input[name=level][value='4']"))
        .await;
    d.type_into(&format!("{prompt} textarea[name=comment]"), "窗口办理很快")
        .await;
    d.click(&format!("{prompt} button[type=submit]")).await;
    d.wait_text("#ratings-given", "满意（4）").await;
    // The clerk shows the case on the window's pad.
    d.sign_in(&app, "clerk").await;
    d.goto(&app.url(&format!("/cases/{no}"))).await;
    d.click("#pad-show summary").await;
    d.click(&format!("#pad-{window}")).await;
    d.wait_text("#rate", "好差评").await;
    // The pad: nobody signed in, one touch.
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.goto(&app.url(&format!("/rate/window/{window}"))).await;
    d.wait_text("#pad-case", &no).await;
    d.click("#level-5").await;
    d.wait_text("#pad-message", "感谢您的评价").await;
    let rec = store.case_by_no(&no).await.unwrap();
    let ratings = store.ratings_of_case(rec.id).await.unwrap();
    assert_eq!(ratings.len(), 2);
    assert!(ratings
        .iter()
        .any(|r| r.channel == "web" && r.level == 4 && r.comment == "窗口办理很快"));
    assert!(ratings
        .iter()
        .any(|r| r.channel == "pad" && r.level == 5 && r.device.starts_with("pad:")));
    d.quit().await;
}

on_each_backend!(browser_rating_prompt_and_window_pad);

/// The case dashboard: the public clicks from the department to the item and sees figures
/// but no case list; the department's approver following the same links sees the cases.
async fn browser_stats_drill_down(app: App) {
    if !browser_available() {
        return;
    }
    let (_, nos) = super::stats::hand_built_cases(&app).await;
    let d = Driver::start().await;
    d.goto(&app.url("/stats?from=2026-03-01&to=2026-04-30"))
        .await;
    d.wait_text("#case-figures", "按时办结率").await;
    // The trend line is there (find waits for it and fails without it).
    d.find("svg.line-chart polyline").await;
    d.click("#figure-table a.drill").await;
    d.wait_text("#drill", "市市场监督管理局").await;
    d.click("#figure-table a.drill").await;
    d.wait_text("#case-list", "办件清单仅对工作人员开放").await;
    let item_url = d.call(reqwest::Method::GET, "/url", None).await;
    let item_url = item_url.as_str().unwrap().to_string();
    assert!(item_url.contains("item="), "{item_url}");
    d.sign_in(&app, "approver").await;
    d.goto(&item_url).await;
    d.wait_text("#case-list", &nos[0]).await;
    assert!(d.text("#figure-table").await.contains("66.7%"));
    d.quit().await;
}
on_each_backend!(browser_stats_drill_down);

/// The calling screen updates without a reload when a window calls (server-sent events);
/// a clerk at the window console calls the next ticket, serves it and links it to the case
/// it became.
async fn browser_calling_screen_and_window(app: App) {
    if !browser_available() {
        return;
    }
    use super::post;
    use super::workflow::{apply_online, scj_item};
    let halls: Value = reqwest::get(app.url("/api/v1/halls"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hall = halls
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "市民之家")
        .unwrap();
    let code = hall["code"].as_str().unwrap().to_string();
    let window = hall["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "comprehensive")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (item, required) = scj_item(&app).await;
    let clerk = app.token("clerk").await;
    let tickets = format!("/api/v1/halls/{code}/tickets");
    let d = Driver::start().await;
    d.goto(&app.url(&format!("/halls/{code}/screen"))).await;
    d.wait_text("#screen", "暂无叫号").await;
    // A walk-in takes a ticket; a window calls it: the open screen shows it by itself.
    let (_, a1) = post(&app, "", &tickets, json!({ "item": item })).await;
    assert_eq!(a1["ticket"], "A001");
    d.wait_text("#waiting", "1").await;
    let (_, called) = post(
        &app,
        &clerk,
        &format!("/api/v1/windows/{window}/call"),
        json!({}),
    )
    .await;
    assert_eq!(called["ticket"], "A001");
    d.wait_text("#calls", "A001").await;
    // The window console: call, serve, finish linking the case.
    let (_, a2) = post(&app, "", &tickets, json!({ "item": item })).await;
    assert_eq!(a2["ticket"], "A002");
    let zs = app.token("zhangsan").await;
    let (_, case) = apply_online(&app, &zs, &item, &required, "browser-hall").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    d.sign_in(&app, "clerk").await;
    d.goto(&app.url(&format!("/windows/{window}"))).await;
    d.click("#call").await;
    d.wait_text("#message", "A002").await;
    d.click("button[value=serve]").await;
    d.wait_text("#message", "开始办理").await;
    d.type_into("#case_no", &no).await;
    d.click("button[value=finish]").await;
    d.wait_text("#message", &format!("关联办件 {no}")).await;
    let (_, t) = super::get(&app, "", &format!("/api/v1/tickets/{}", a2["id"])).await;
    assert_eq!(
        (t["status"].as_str(), t["case_no"].as_str()),
        (Some("done"), Some(no.as_str()))
    );
    // Back on the screen: A001 was closed by the next call, A002 is done.
    d.goto(&app.url(&format!("/halls/{code}/screen"))).await;
    d.wait_text("#screen", "暂无叫号").await;
    d.quit().await;
    app.stop().await;
}

on_each_backend!(browser_calling_screen_and_window);

/// Issue #12 (part A), in a desktop and a phone viewport: the clerk finds the item by name
/// at the window, receives part of the checklist, is held at 受理 until 容缺 is recorded,
/// and opens the scanned material from the case page; the applicant answers a two-item
/// 补正 notice one slot at a time and sees who opened their material.
async fn browser_issue12_work_flows(app: App) {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("身份证.pdf");
    std::fs::write(&pdf, PDF).unwrap();
    let pdf = pdf.display().to_string();
    let d = Driver::start().await;
    let upload = |css: String| {
        let (d, pdf) = (&d, pdf.clone());
        async move {
            let id = d.find(&css).await;
            d.call(
                reqwest::Method::POST,
                &format!("/element/{id}/value"),
                Some(json!({ "text": pdf })),
            )
            .await;
        }
    };
    for (n, (w, h)) in [(1366, 900), (390, 844)].into_iter().enumerate() {
        d.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": w, "height": h })),
        )
        .await;
        // Window intake by name, with part of the checklist.
        d.sign_in(&app, "clerk").await;
        d.goto(&app.url("/window?q=食品经营许可证核发")).await;
        d.click("#item-hits li a").await;
        d.wait_text("#item-name", "食品经营许可证").await;
        let walk_in =
            tongban_core::ids::ResidentId::with_check_char(&format!("4313021992080800{n}"))
                .unwrap();
        d.type_into("#id_number", walk_in.as_str()).await;
        d.type_into("#name", "窗口办事人").await;
        d.click("#recv-0").await;
        d.click("#orig-0").await;
        upload("#file-0".into()).await;
        d.click("#window-submit").await;
        d.wait_text("#status", "待预审").await;
        let no = d.text("#case-no").await;
        // 受理 is held: the missing materials are named and 容缺 needs reason and deadline.
        d.wait_text("#missing-required", "必要材料未收齐").await;
        act(
            &d,
            &app,
            &no,
            "accept",
            &[
                ("shortfall_reason", "申请人承诺三日内补交"),
                ("shortfall_days", "3"),
            ],
        )
        .await;
        d.wait_text("#status", "审批中").await;
        d.wait_text("#timeline", "容缺受理").await;
        // The scan opens from the case page.
        d.goto(&app.url(&format!("/cases/{no}"))).await;
        d.find("#material-1").await;
        d.goto(&app.url(&format!("/cases/{no}/materials/1"))).await;
        let url = d.call(reqwest::Method::GET, "/url", None).await;
        assert!(url.as_str().unwrap().ends_with("/materials/1"), "{url}");
    }

    // 补正 item by item, on a phone.
    let zs = app.token("zhangsan").await;
    let clerk = app.token("clerk").await;
    let (code, required) = super::workflow::scj_item(&app).await;
    let (s, case) = super::workflow::apply_online(&app, &zs, &code, &required, "browser-12").await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let (s, v) = super::post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{no}/commands"),
        json!({ "action": "request_correction", "items": ["营业执照副本不清晰", "补充经营场所平面图"], "expected_version": case["version"] }),
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    let r = reqwest::Client::new()
        .get(app.url(&format!("/cases/{no}/materials/1")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    d.sign_in(&app, "zhangsan").await;
    d.goto(&app.url(&format!("/cases/{no}"))).await;
    d.wait_text("#correction-items", "补充经营场所平面图").await;
    upload("#item-1".into()).await;
    d.click("#act-submit_correction").await;
    d.wait_text("#status", "待补正").await;
    d.wait_text("#slot-1", "已上传").await;
    let url = d.call(reqwest::Method::GET, "/url", None).await;
    assert!(!url.as_str().unwrap().contains("_csrf"), "{url}");
    upload("#item-0".into()).await;
    d.click("#act-submit_correction").await;
    d.wait_text("#status", "待预审").await;
    d.wait_text("#material-views", "综合窗口人员").await;
    d.quit().await;
    app.stop().await;
}

on_each_backend!(browser_issue12_work_flows);

/// The exchange's catalog page (browse, search) and the applicant's "who read my data".
async fn browser_exchange_catalog_and_my_data_access(app: App) {
    if !browser_available() {
        return;
    }
    let sharing = app.token("sharing").await;
    for (code, name, class, basis) in [
        ("SCJG-ZT-001", "市场主体登记信息", "无条件", ""),
        ("GA-HJ-002", "户籍人口信息", "有条件", "《居民身份证法》"),
    ] {
        let (s, v) = super::post(&app, &sharing, "/api/v1/exchange/resources", json!({
            "code": code, "name": name, "provider": "市市场监督管理局", "provider_code": "scjgj",
            "fields": ["名称"], "sharing_class": class, "basis": basis,
        }))
        .await;
        assert_eq!(s, reqwest::StatusCode::CREATED, "{v}");
    }
    let users = app.db().store.users().await.unwrap();
    let u = users.iter().find(|u| u.username == "zhangsan").unwrap();
    let subject = app
        .db()
        .store
        .applicant_of_user(u.id)
        .await
        .unwrap()
        .unwrap()
        .id_number;
    app.db()
        .store
        .record_data_access(
            &subject,
            &tongban_store::exchange::DataAccess {
                at: "2026-03-02T02:00:00Z".into(),
                who: "市场监管局 王审批（市市场监督管理局）".into(),
                department: "市市场监督管理局".into(),
                member: "娄星市".into(),
                case_no: "11431300MB0000001X-TEST-0001".into(),
                resource: "市场主体登记信息".into(),
                purpose: "核验申请人身份".into(),
            },
        )
        .await
        .unwrap();
    let d = Driver::start().await;
    d.sign_in(&app, "approver").await;
    d.goto(&app.url("/exchange")).await;
    d.wait_text("#resources", "户籍人口信息").await;
    d.wait_text("#resources", "有条件共享").await;
    d.type_into("input[name=q]", "市场主体").await;
    d.click("form[role=search] button[type=submit]").await;
    d.wait_text("#resources", "市场主体登记信息").await;
    assert!(!d.text("#resources").await.contains("户籍人口信息"));
    d.sign_in(&app, "zhangsan").await;
    d.click("a[href='/my/data-access']").await;
    d.wait_text("h1", "谁因哪个办件查询了我的数据").await;
    let text = d.text("#accesses").await;
    assert!(
        text.contains("王审批")
            && text.contains("11431300MB0000001X-TEST-0001")
            && text.contains("核验申请人身份"),
        "{text}"
    );
    d.quit().await;
}
on_each_backend!(browser_exchange_catalog_and_my_data_access);
