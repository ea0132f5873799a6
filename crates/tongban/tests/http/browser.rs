//! Browser flows: a real headless Chromium, driven over the W3C WebDriver protocol by
//! chromedriver, against a real server — on SQLite and on PostgreSQL.
//!
//! Skipped when Chromium or chromedriver is missing, unless TONGBAN_REQUIRE_BROWSER=1
//! (CI installs Debian's chromium and chromium-driver and sets it).

use super::{App, PDF};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn browser_available() -> bool {
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
    async fn start() -> Driver {
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

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
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

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
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

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits until the element's text contains `want`.
    async fn wait_text(&self, css: &str, want: &str) {
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

    async fn sign_in(&self, app: &App, user: &str) {
        self.call(reqwest::Method::DELETE, "/cookie", None).await;
        self.goto(&app.url("/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", tongban::demo::DEMO_PASSWORD)
            .await;
        self.click("form.stack button[type=submit]").await;
        self.wait_text("header.site .user", "退出").await;
    }

    async fn quit(mut self) {
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
    let id = d.find("#corr").await;
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
    let id = d.find("#scan").await;
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
