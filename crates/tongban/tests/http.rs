//! End-to-end tests over real HTTP against a real server on a random port, on SQLite and
//! on PostgreSQL, seeded with the demo city.

use chrono::{TimeZone, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tongban_app::clock::ManualClock;
use tongban_store::testing::TestDb;
use tongban_web::Application;

/// Runs a test once per backend, each as its own named test (`name::sqlite`,
/// `name::postgres`), so a SQLite failure does not hide the PostgreSQL result.
macro_rules! on_each_backend {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(
                    crate::App::start(tongban_store::testing::TestDb::sqlite().await).await,
                )
                .await
            }

            #[tokio::test]
            async fn postgres() {
                match tongban_store::testing::TestDb::postgres().await {
                    Some(db) => super::$name(crate::App::start(db).await).await,
                    None => eprintln!("PostgreSQL not reachable; skipped"),
                }
            }
        }
    };
}

#[path = "http/authz.rs"]
mod authz;
#[path = "http/backup.rs"]
mod backup;
#[path = "http/browser.rs"]
mod browser;
#[path = "http/bundles.rs"]
mod bundles;
#[path = "http/exchange.rs"]
mod exchange;
#[path = "http/federation.rs"]
mod federation;
#[path = "http/hall.rs"]
mod hall;
#[path = "http/ledger.rs"]
mod ledger;
#[path = "http/licences.rs"]
mod licences;
#[path = "http/notices.rs"]
mod notices;
#[path = "http/objects.rs"]
mod objects;
#[path = "http/openapi.rs"]
mod openapi;
#[path = "http/outbox.rs"]
mod outbox;
#[path = "http/pages.rs"]
mod pages;
#[path = "http/partitions.rs"]
mod partitions;
#[path = "http/public_ui.rs"]
mod public_ui;
#[path = "http/ratings.rs"]
mod ratings;
#[path = "http/security.rs"]
mod security;
#[path = "http/stats.rs"]
mod stats;
#[path = "http/supervision.rs"]
mod supervision;
#[path = "http/ui_browser.rs"]
mod ui_browser;
#[path = "http/workflow.rs"]
mod workflow;

pub struct App {
    _data: tempfile::TempDir,
    pub state: tongban_web::AppState,
    base: String,
    db: Option<TestDb>,
    pub clock: Arc<ManualClock>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What a test may change before its server starts.
pub struct Setup<'a> {
    pub app: &'a mut tongban_app::App,
    pub ops: &'a mut tongban_web::state::Operations,
    pub timeouts: &'a mut tongban_web::Timeouts,
}

impl App {
    async fn start(db: TestDb) -> App {
        Self::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: TestDb, setup: impl FnOnce(Setup<'_>)) -> App {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap(),
        ));
        tongban::demo::seed(&db.store, clock.now_for_seed())
            .await
            .expect("seed demo");
        tongban::demo::seed_licence_types(&db.store, clock.now_for_seed())
            .await
            .expect("seed licence types");
        let data = tempfile::tempdir().unwrap();
        let mut application = tongban_app::App::new(db.store.clone(), clock.clone(), data.path());
        // Tests sign the same demo user in again and again through `token()`; the limit of
        // sessions per user is tested on its own (security.rs), with the production value.
        application.security.max_sessions_per_user = 1000;
        let mut ops = tongban_web::state::Operations {
            metrics_token: None,
            data_dir: data.path().to_path_buf(),
            min_free_bytes: tongban_web::state::DEFAULT_MIN_FREE_BYTES,
        };
        let mut timeouts = tongban_web::Timeouts::default();
        setup(Setup {
            app: &mut application,
            ops: &mut ops,
            timeouts: &mut timeouts,
        });
        let state = tongban_web::new_state(application).with_operations(ops);
        let app = Application::build_with(state.clone(), "127.0.0.1:0".parse().unwrap(), timeouts)
            .await
            .unwrap();
        let base = format!("http://{}", app.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        App {
            _data: data,
            state,
            base,
            db: Some(db),
            clock,
            stop: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn db(&self) -> &TestDb {
        self.db.as_ref().unwrap()
    }

    fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn token(&self, user: &str) -> String {
        let r = Client::new()
            .post(self.url("/api/v1/session"))
            .json(&json!({ "username": user, "password": tongban::demo::DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn token_with(&self, user: &str, password: &str) -> String {
        let r = Client::new()
            .post(self.url("/api/v1/session"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Signs a browser in through the login form; returns the client and its CSRF token.
    pub async fn sign_in(&self, user: &str) -> (Client, String) {
        let c = self.browser();
        let csrf = csrf_of(
            &c.get(self.url("/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", user),
                ("password", tongban::demo::DEMO_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "form login {user}");
        // Signed in, forms carry the token bound to this session.
        let csrf = csrf_of(
            &c.get(self.url("/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        (c, csrf)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

trait SeedTime {
    fn now_for_seed(&self) -> chrono::DateTime<Utc>;
}
impl SeedTime for ManualClock {
    fn now_for_seed(&self) -> chrono::DateTime<Utc> {
        use tongban_app::clock::Clock;
        self.now()
    }
}

/// GETs a page with a (signed-in) browser client and returns its text.
pub async fn page_text(client: &Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("page has a CSRF field");
    let rest = &html[at + 20..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The item's required materials as received on paper at the window (`materials` of a
/// window application): 受理 checks the checklist (issue #12).
pub fn received_on_paper(item: &tongban_store::catalog::StoredItem) -> Value {
    item.materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
        .map(|m| json!({ "name": m.name }))
        .collect()
}

/// A small PDF, recognised as PDF by its content.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// POSTs JSON with a bearer token: (status, JSON body or null).
pub async fn post(app: &App, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GETs with a bearer token: (status, JSON body or null).
pub async fn get(app: &App, token: &str, path: &str) -> (StatusCode, Value) {
    let r = Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn apps() -> Vec<App> {
    let mut v = Vec::new();
    for db in TestDb::all().await {
        v.push(App::start(db).await);
    }
    v
}

async fn public_search_finds_two_character_chinese_words(app: App) {
    let html = reqwest::get(app.url("/items?q=食品"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("食品经营许可"), "page lists 食品经营许可");
    let v: Value = reqwest::get(app.url("/api/v1/items?q=食品"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty());
    // Names containing the word come first; items that only mention it in their
    // materials may follow.
    let first_other = names
        .iter()
        .position(|n| !n.contains("食品"))
        .unwrap_or(names.len());
    assert!(first_other >= 5, "{names:?}");
    assert!(
        names[first_other..].iter().all(|n| !n.contains("食品")),
        "{names:?}"
    );
    // Ranked: names starting with the word come first.
    assert!(names[0].starts_with("食品"), "{names:?}");
    let v: Value = reqwest::get(app.url("/api/v1/items?q=不动产"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["total"].as_u64().unwrap() >= 5);
    let v: Value = reqwest::get(app.url("/api/v1/items?q=火星移民"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 0);
    // Pinyin initials find items too (spjyxkzhf = 食品经营许可证核发).
    let v: Value = reqwest::get(app.url("/api/v1/items?q=spjyxkzhf"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "食品经营许可证核发"),
        "{v}"
    );
    let html = reqwest::get(app.url("/items?q=火星移民"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("没有找到"));
    // Browse by theme and by department.
    let v: Value = reqwest::get(app.url("/api/v1/items?theme=kaiban"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["total"].as_u64().unwrap() > 0);
    let depts: Value = reqwest::get(app.url("/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scj = depts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "市市场监督管理局")
        .unwrap();
    let v: Value = reqwest::get(app.url(&format!("/api/v1/items?dept={}", scj["id"])))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["total"],
        scj["items"].as_u64().unwrap() - non_application(&app, scj["id"].as_i64().unwrap()).await
    );
    app.stop().await;
}

on_each_backend!(public_search_finds_two_character_chinese_words);

async fn non_application(app: &App, dept: i64) -> u64 {
    app.db()
        .store
        .all_items()
        .await
        .unwrap()
        .iter()
        .filter(|i| i.department_id == dept && !i.item.item_type.is_application())
        .count() as u64
}

async fn item_guide_tells_what_to_bring(app: App) {
    let v: Value = reqwest::get(app.url("/api/v1/items?q=食品经营许可"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = v["items"][0]["impl_code"].as_str().unwrap().to_string();
    let r = reqwest::get(app.url(&format!("/items/{code}")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for needle in [
        "申请材料",
        "法定办结时限",
        "承诺办结时限",
        "到办事现场次数",
        "设定依据",
        "咨询电话",
    ] {
        assert!(html.contains(needle), "guide lacks {needle}");
    }
    let item: Value = reqwest::get(app.url(&format!("/api/v1/items/{code}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first_material = item["materials"][0]["材料名称"].as_str().unwrap();
    assert!(html.contains(first_material));
    assert!(html.contains(item["columns"]["办理地点"].as_str().unwrap()));
    assert_eq!(
        reqwest::get(app.url("/items/NO-SUCH-CODE"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let r = reqwest::get(app.url("/api/v1/items/NO-SUCH-CODE"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
    app.stop().await;
}

on_each_backend!(item_guide_tells_what_to_bring);

async fn catalog_stats_follow_the_contract_and_the_data(app: App) {
    let s: Value = reqwest::get(app.url("/api/v1/catalog/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = app.db().store.all_items().await.unwrap();
    let application = items
        .iter()
        .filter(|i| i.item.item_type.is_application())
        .count() as u64;
    assert_eq!(s["total"].as_u64().unwrap(), application);
    let levels: u64 = ["1", "2", "3", "4"]
        .iter()
        .map(|l| s["by_depth_level"][l].as_u64().unwrap())
        .sum();
    assert_eq!(levels, application);
    for key in [
        "online_capable",
        "fully_online",
        "in_comprehensive_hall",
        "immediate",
        "at_most_one_trip",
        "zero_trip",
        "high_frequency_online",
    ] {
        let r = &s[key];
        let (count, of) = (r["count"].as_f64().unwrap(), r["of"].as_f64().unwrap());
        assert!(of > 0.0 && count <= of, "{key}");
        assert!(
            (r["rate"].as_f64().unwrap() - count / of).abs() < 0.0001,
            "{key}"
        );
    }
    assert_eq!(
        s["online_capable"]["count"].as_u64().unwrap(),
        levels - s["by_depth_level"]["1"].as_u64().unwrap()
    );
    assert!(s["hall_departments"].as_u64().unwrap() >= 25);
    let by: Value = reqwest::get(app.url("/api/v1/catalog/stats?by=department"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sum: u64 = by["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["stats"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, application);
    let r = reqwest::get(app.url("/api/v1/catalog/stats?by=planet"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Retiring an item changes the figures at once (the cached view follows the revision).
    let token = app.token("admin").await;
    let code = items
        .iter()
        .find(|i| i.item.item_type.is_application())
        .unwrap()
        .item
        .impl_code
        .clone();
    let r = Client::new()
        .post(app.url(&format!("/api/v1/admin/items/{code}/retire")))
        .bearer_auth(&token)
        .json(&json!({"reason": "事项取消"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let s2: Value = reqwest::get(app.url("/api/v1/catalog/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s2["total"].as_u64().unwrap(), application - 1);
    let html = reqwest::get(app.url("/stats"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<svg") && html.contains("网上可办率"));
    app.stop().await;
}

on_each_backend!(catalog_stats_follow_the_contract_and_the_data);

/// Every admin page and API route, with the method to call it.
const ADMIN_PAGES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/items"),
    ("GET", "/admin/items/new"),
    ("POST", "/admin/items/new"),
    ("GET", "/admin/items/CODE/edit"),
    ("POST", "/admin/items/CODE/edit"),
    ("POST", "/admin/items/CODE/retire"),
    ("POST", "/admin/items/CODE/restore"),
    ("GET", "/admin/items/CODE/history"),
    ("GET", "/admin/import"),
    ("GET", "/admin/export?format=csv"),
    ("GET", "/admin/departments"),
    ("POST", "/admin/departments"),
    ("POST", "/admin/departments/1"),
    ("GET", "/admin/halls"),
    ("POST", "/admin/halls"),
    ("POST", "/admin/halls/1"),
    ("POST", "/admin/halls/1/windows"),
    ("POST", "/admin/windows/1"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/1"),
    ("POST", "/admin/users/1/unlock"),
    ("GET", "/admin/four-same"),
    ("GET", "/admin/audit"),
];

const ADMIN_API: &[(&str, &str)] = &[
    ("POST", "/api/v1/admin/items"),
    ("PUT", "/api/v1/admin/items/CODE"),
    ("PUT", "/api/v1/admin/items/CODE/workflow"),
    ("POST", "/api/v1/admin/items/CODE/retire"),
    ("POST", "/api/v1/admin/items/CODE/restore"),
    ("GET", "/api/v1/admin/items/CODE/versions"),
    ("GET", "/api/v1/admin/catalog/export"),
    ("GET", "/api/v1/admin/catalog/four-same"),
    ("POST", "/api/v1/admin/departments"),
    ("POST", "/api/v1/admin/halls"),
    ("GET", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/users/1/unlock"),
];

async fn applicants_are_refused_on_every_admin_page_and_api(app: App) {
    let code = app.db().store.all_items().await.unwrap()[0]
        .item
        .impl_code
        .clone();
    let before = app.db().store.all_items().await.unwrap();
    for user in ["zhangsan", "enterprise", "clerk"] {
        let (browser, csrf) = app.sign_in(user).await;
        for (method, path) in ADMIN_PAGES {
            let path = path.replace("CODE", &code);
            let req = match *method {
                "GET" => browser.get(app.url(&path)),
                _ => browser.post(app.url(&path)).form(&[
                    ("_csrf", csrf.as_str()),
                    ("name", "x"),
                    ("reason", "x"),
                    ("role", "admin"),
                ]),
            };
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} {method} {path}");
        }
        let token = app.token(user).await;
        for (method, path) in ADMIN_API {
            let path = path.replace("CODE", &code);
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let r = Client::new()
                .request(m, app.url(&path))
                .bearer_auth(&token)
                .json(&json!({"reason": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user} {method} {path}");
            assert_eq!(r.json::<Value>().await.unwrap()["code"], "forbidden");
        }
    }
    // Anonymous: pages redirect to the login form, the API answers 401.
    let anon = app.browser();
    let r = anon.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=/admin/users"));
    let r = Client::new()
        .get(app.url("/api/v1/admin/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Nothing changed.
    let after = app.db().store.all_items().await.unwrap();
    assert_eq!(
        before.iter().map(|i| i.version).collect::<Vec<_>>(),
        after.iter().map(|i| i.version).collect::<Vec<_>>()
    );
    // The administrator gets in.
    let (admin, _) = app.sign_in("admin").await;
    for (method, path) in ADMIN_PAGES.iter().filter(|(m, _)| *m == "GET") {
        let path = path.replace("CODE", &code);
        let r = admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "admin {method} {path}");
    }
    app.stop().await;
}

on_each_backend!(applicants_are_refused_on_every_admin_page_and_api);

async fn forms_without_the_csrf_token_are_refused(app: App) {
    let (admin, csrf) = app.sign_in("admin").await;
    let before = app.db().store.departments().await.unwrap().len();
    let form = [("code", "91350100M000100Y43"), ("name", "市测试局")];
    let r = admin
        .post(app.url("/admin/departments"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .post(app.url("/admin/departments"))
        .form(&[form[0], form[1], ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db().store.departments().await.unwrap().len(), before);
    // API writes with only the session cookie must be JSON.
    let r = admin
        .post(app.url("/api/v1/admin/departments"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the token it works; a bad code is refused with a clear message.
    let r = admin
        .post(app.url("/admin/departments"))
        .form(&[
            ("code", "91350100M000100Y44"),
            ("name", "市测试局"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("校验位"));
    let r = admin
        .post(app.url("/admin/departments"))
        .form(&[form[0], form[1], ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.db().store.departments().await.unwrap().len(),
        before + 1
    );
    app.stop().await;
}

on_each_backend!(forms_without_the_csrf_token_are_refused);

async fn import_over_http_is_all_or_nothing(app: App) {
    let token = app.token("admin").await;
    let count = || async { app.db().store.all_items().await.unwrap().len() };
    let before = count().await;
    let header = "事项名称,基本编码,实施编码,事项类型,行使层级,实施主体,实施主体编码,办件类型,法定办结时限,承诺办结时限,是否网办,网上办理深度,到办事现场次数";
    let good =
        "新办事项甲,X00000000001,NEW-1,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,1";
    let bad =
        "新办事项乙,X00000000002,NEW-2,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,两次";
    let upload = |csv: String| {
        let form = reqwest::multipart::Form::new().part(
            "items",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("new.csv"),
        );
        Client::new()
            .post(app.url("/api/v1/admin/catalog/import"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let r = upload(format!("{header}\n{good}\n{bad}\n")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "import_refused");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("new.csv") && msg.contains("第3行") && msg.contains("到办事现场次数"),
        "{msg}"
    );
    assert_eq!(count().await, before);
    assert!(app
        .db()
        .store
        .departments()
        .await
        .unwrap()
        .iter()
        .all(|d| d.name != "市测试局"));
    let r = upload(format!("{header},不存在的列\n{good},x\n"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("不存在的列"));
    let r = upload(format!("{header}\n{good}\n")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let rep: Value = r.json().await.unwrap();
    assert_eq!(rep["created"], 1);
    assert_eq!(rep["created_departments"], json!(["市测试局"]));
    assert_eq!(count().await, before + 1);
    // The admin page form refuses a bad file the same way.
    let (admin, csrf) = app.sign_in("admin").await;
    let form = reqwest::multipart::Form::new().part(
        "items",
        reqwest::multipart::Part::bytes(format!("{header}\n{bad}\n").into_bytes())
            .file_name("p.csv"),
    );
    let r = admin
        .post(app.url(&format!("/admin/import?_csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("p.csv 第2行"));
    app.stop().await;
}

on_each_backend!(import_over_http_is_all_or_nothing);

async fn admin_edits_make_versions_and_bad_edits_store_nothing(app: App) {
    let token = app.token("admin").await;
    let c = Client::new();
    let v: Value = c
        .get(app.url("/api/v1/items?q=食品经营许可"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = &v["items"][0];
    let code = item["impl_code"].as_str().unwrap();
    let mut columns = item["columns"].clone();
    columns["承诺办结时限"] = json!("2");
    let r = c
        .put(app.url(&format!("/api/v1/admin/items/{code}")))
        .bearer_auth(&token)
        .json(&json!({"columns": columns, "materials": item["materials"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["version"], item["version"].as_i64().unwrap() + 1);
    assert_eq!(changed["outcome"], "updated");
    // Promised above legal: refused, nothing stored.
    columns["承诺办结时限"] = json!("999");
    let r = c
        .put(app.url(&format!("/api/v1/admin/items/{code}")))
        .bearer_auth(&token)
        .json(&json!({"columns": columns}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("不能超过法定办结时限"));
    let versions: Value = c
        .get(app.url(&format!("/api/v1/admin/items/{code}/versions")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["changes"][0]["field"], "承诺办结时限");
    assert_eq!(versions[0]["actor"], "admin");
    // Creating an item with a used 实施编码 is a conflict.
    let r = c
        .post(app.url("/api/v1/admin/items"))
        .bearer_auth(&token)
        .json(&json!({"columns": item["columns"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The history page shows the change.
    let (admin, _) = app.sign_in("admin").await;
    let html = page_text(&admin, app.url(&format!("/admin/items/{code}/history"))).await;
    assert!(html.contains("承诺办结时限") && html.contains("版本 2"));
    app.stop().await;
}

on_each_backend!(admin_edits_make_versions_and_bad_edits_store_nothing);

async fn operations_endpoints_and_bad_input_never_500(app: App) {
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let admin = app.token("admin").await;
    let m = Client::new()
        .get(app.url("/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("tongban_http_requests_total{class=\"2xx\"}"));
    if app.state.store.backend() == tongban_store::Backend::Sqlite {
        // The demo seeding wrote through the group commit: batches ≤ transactions,
        // and every acknowledged write was covered by a sync.
        let counter = |name: &str| -> u64 {
            m.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing from /metrics"))
                .parse()
                .unwrap()
        };
        let (tx, batches) = (
            counter("tongban_store_transactions_total"),
            counter("tongban_store_batches_total"),
        );
        assert!(tx > 0 && batches > 0 && batches <= tx, "{tx} {batches}");
        assert!(counter("tongban_store_wal_syncs_total") > 0);
        assert!(counter("tongban_store_acknowledged_writes_total") > 0);
    } else {
        assert!(!m.contains("tongban_store_batches_total"));
    }
    let r = reqwest::get(app.url("/")).await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/catalog/stats"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/admin/catalog/import"]["post"].is_object());
    // Bad input: a clear {code, message}, never a 500.
    for path in [
        "/api/v1/items?page=abc",
        "/api/v1/calendar/deadline?from=2026-13-01&working_days=3",
        "/api/v1/calendar/deadline?from=1999-12-31&working_days=3",
        "/api/v1/calendar/deadline?from=2026-12-20&working_days=4000",
        "/api/v1/calendar/deadline",
    ] {
        let r = reqwest::get(app.url(path)).await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let e: Value = r.json().await.unwrap();
        assert!(e["code"].is_string() && e["message"].is_string(), "{path}");
    }
    let e: Value =
        reqwest::get(app.url("/api/v1/calendar/deadline?from=2026-12-20&working_days=30"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        (&e["due"], &e["provisional"]),
        (&json!("2027-01-29"), &json!(true)),
        "{e}"
    );
    let d: Value =
        reqwest::get(app.url("/api/v1/calendar/deadline?from=2026-02-13&working_days=5"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(d["due"], "2026-02-27");
    let r = Client::new()
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bad_request");
    app.stop().await;
}

on_each_backend!(operations_endpoints_and_bad_input_never_500);
