//! Hardening (issue #13): redirects, sign-in throttling, timeouts, the audit log, passwords
//! and sessions, response headers, CSRF bound to the session, what sign-up and /metrics
//! reveal, methods and errors on the API, health and readiness, storage outages.

use super::{apps, csrf_of, get, page_text, post, App};
use chrono::Duration;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tongban_store::testing::TestDb;

/// Every backend, each app started with `setup`.
async fn apps_with(setup: impl Fn(super::Setup<'_>) + Copy) -> Vec<App> {
    let mut v = Vec::new();
    for db in TestDb::all().await {
        v.push(App::start_with(db, setup).await);
    }
    v
}

async fn login_status(app: &App, client: &Client, user: &str, pw: &str) -> (StatusCode, Value) {
    let r = client
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": user, "password": pw }))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A client whose connections come from another loopback address (another client IP).
fn client_from(ip: &str) -> Client {
    Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// An online application by `token`'s applicant; its 办件编号.
async fn a_case(app: &App, token: &str) -> String {
    let (code, required) = super::workflow::scj_item(app).await;
    let (s, case) = super::workflow::apply_online(app, token, &code, &required, "sec-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    case["case_no"].as_str().unwrap().to_string()
}

async fn audit_actions(app: &App) -> Vec<(String, String, String)> {
    app.db()
        .store
        .audit_log(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

// (2) Open redirect after login.
#[tokio::test]
async fn login_redirects_only_to_same_site_paths_and_never_500s() {
    for app in apps().await {
        for (next, want) in [
            ("/my/cases", "/my/cases"),
            ("/%09/evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example/", "/"),
            ("/ok\r\nSet-Cookie: x=1", "/"),
            ("/a\nb", "/"),
            ("/%0d%0aX: y", "/"),
            ("/%2F/evil.example", "/"),
        ] {
            let c = app.browser();
            let csrf = csrf_of(
                &c.get(app.url("/login"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
            let r = c
                .post(app.url("/login"))
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("username", "zhangsan"),
                    ("password", tongban::demo::DEMO_PASSWORD),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(r.headers()["location"], want, "{next:?}");
            // The login page itself never echoes a bad target either.
            let r = c
                .get(app.url("/login"))
                .query(&[("next", next)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{next:?}");
        }
        app.stop().await;
    }
}

// (6) Throttling per (account, client), growing delay, one answer for every failure.
#[tokio::test]
async fn failed_logins_slow_down_one_client_not_the_account() {
    for app in apps().await {
        let here = Client::new();
        let elsewhere = client_from("127.0.0.2");
        let (_, first) = login_status(&app, &here, "clerk", "wrong-password-1").await;
        for _ in 0..5 {
            let (s, body) = login_status(&app, &here, "clerk", "wrong-password-1").await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
            assert_eq!(body, first, "every failure answers the same");
        }
        // This client now waits, even with the right password — and is told the same thing.
        let (s, body) = login_status(&app, &here, "clerk", tongban::demo::DEMO_PASSWORD).await;
        assert_eq!((s, &body), (StatusCode::UNAUTHORIZED, &first));
        // Another client is not affected: nobody can lock the account from elsewhere.
        let (s, _) = login_status(&app, &elsewhere, "clerk", tongban::demo::DEMO_PASSWORD).await;
        assert_eq!(s, StatusCode::OK);
        // An unknown username gets exactly the same answer, throttled the same way.
        for _ in 0..6 {
            let (s, body) = login_status(&app, &here, "nobody-here", "x").await;
            assert_eq!((s, &body), (StatusCode::UNAUTHORIZED, &first));
        }
        // The wait grows: 30 s after the 5th failure, then doubling with each further one.
        app.clock.advance(Duration::seconds(31));
        let (s, _) = login_status(&app, &here, "clerk", "wrong-password-1").await; // 7th
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        app.clock.advance(Duration::seconds(31));
        let (s, _) = login_status(&app, &here, "clerk", tongban::demo::DEMO_PASSWORD).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "the 7th failure asks for 60 s");
        app.clock.advance(Duration::seconds(30));
        let (s, _) = login_status(&app, &here, "clerk", tongban::demo::DEMO_PASSWORD).await;
        assert_eq!(s, StatusCode::OK);
        // Success forgets the failures of this client.
        assert_eq!(
            app.db()
                .store
                .login_failures("clerk", "127.0.0.1")
                .await
                .unwrap(),
            0
        );
        // An administrator (or `tongban user unlock`) lifts the wait at once.
        for _ in 0..6 {
            login_status(&app, &here, "clerk", "wrong-password-1").await;
        }
        assert_eq!(
            login_status(&app, &here, "clerk", tongban::demo::DEMO_PASSWORD)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        tongban_app::security::unlock(&app.state, "cli", "clerk")
            .await
            .unwrap();
        assert_eq!(
            login_status(&app, &here, "clerk", tongban::demo::DEMO_PASSWORD)
                .await
                .0,
            StatusCode::OK
        );
        // The form answers 401 with the same message, never 423.
        let b = app.browser();
        for _ in 0..6 {
            let csrf = csrf_of(
                &b.get(app.url("/login"))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
            let r = b
                .post(app.url("/login"))
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("username", "head"),
                    ("password", "nope"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            assert!(r
                .text()
                .await
                .unwrap()
                .contains(tongban_store::accounts::LOGIN_FAILED));
        }
        let actions = audit_actions(&app).await;
        assert!(actions
            .iter()
            .any(|(a, k, _)| a == "nobody-here" && k == "login.failed"));
        assert!(actions
            .iter()
            .any(|(a, k, _)| a == "clerk" && k == "login.throttled"));
        assert!(actions
            .iter()
            .any(|(_, k, d)| k == "user.unlock" && !d.is_empty()));
        app.stop().await;
    }
}

// (7) Slow or idle connections are closed.
#[tokio::test]
async fn idle_and_slow_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for app in apps_with(|s| {
        s.timeouts.header = std::time::Duration::from_millis(500);
        s.timeouts.body = std::time::Duration::from_millis(500);
    })
    .await
    {
        let addr = app.url("").trim_start_matches("http://").to_string();
        // Sends nothing at all.
        let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), idle.read(&mut buf))
            .await
            .expect("an idle connection is closed within the limit")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        // Starts a request and never finishes its headers.
        let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let mut all = Vec::new();
            slow.read_to_end(&mut all).await.map(|_| all)
        })
        .await
        .expect("slow headers are cut off");
        let text = String::from_utf8_lossy(&closed.unwrap_or_default()).to_string();
        assert!(!text.contains("200 OK"), "{text}");
        // A keep-alive connection idle after an answer is closed too.
        let mut keep = tokio::net::TcpStream::connect(&addr).await.unwrap();
        keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let n = keep.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        let rest = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let mut all = Vec::new();
            keep.read_to_end(&mut all).await.map(|_| all)
        })
        .await
        .expect("an idle keep-alive connection is closed");
        assert!(rest.is_ok());
        // A body that never arrives: the request is answered with an error, not held.
        let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
        body.write_all(
            b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
        )
        .await
        .unwrap();
        let answered = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let mut all = Vec::new();
            let _ = body.read_to_end(&mut all).await;
            all
        })
        .await
        .expect("a slow body is cut off");
        let text = String::from_utf8_lossy(&answered).to_string();
        assert!(!text.contains("200 OK"), "{text}");
        app.stop().await;
    }
}

// (8) The audit trail.
#[tokio::test]
async fn the_audit_log_records_sign_ins_refusals_and_reads_of_personal_data() {
    for app in apps().await {
        login_status(&app, &Client::new(), "approver", "wrong-password-1").await;
        let clerk = app.token("clerk").await;
        let me = app.token("zhangsan").await;
        let no = a_case(&app, &me).await;
        assert_eq!(
            get(&app, &clerk, &format!("/api/v1/cases/{no}")).await.0,
            StatusCode::OK
        );
        // The applicant reading their own case is not a staff read.
        assert_eq!(
            get(&app, &me, &format!("/api/v1/cases/{no}")).await.0,
            StatusCode::OK
        );
        // A refusal.
        assert_eq!(
            get(&app, &me, "/api/v1/supervision/records").await.0,
            StatusCode::FORBIDDEN
        );
        let r = Client::new()
            .delete(app.url("/api/v1/session"))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let actions = audit_actions(&app).await;
        let has =
            |actor: &str, action: &str| actions.iter().any(|(a, k, _)| a == actor && k == action);
        assert!(has("approver", "login.failed"));
        assert!(has("clerk", "login"));
        assert!(has("clerk", "logout"));
        assert!(has("zhangsan", "access.refused"));
        assert!(actions
            .iter()
            .any(|(a, k, d)| a == "clerk" && k == "personal.read" && d == &format!("case {no}")));
        assert!(!actions
            .iter()
            .any(|(a, k, _)| a == "zhangsan" && k == "personal.read"));
        app.stop().await;
    }
}

#[tokio::test]
async fn auditors_read_and_export_the_audit_log_which_nobody_can_change() {
    for app in apps().await {
        let auditor = app.token("auditor").await;
        let admin = app.token("admin").await;
        let zhangsan = app.token("zhangsan").await;
        let (s, log) = get(&app, &auditor, "/api/v1/audit?limit=50").await;
        assert_eq!(s, StatusCode::OK);
        assert!(log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "login"));
        assert_eq!(log["chain"]["valid"], true, "{}", log["chain"]);
        assert_eq!(get(&app, &admin, "/api/v1/audit").await.0, StatusCode::OK);
        assert_eq!(
            get(&app, &zhangsan, "/api/v1/audit").await.0,
            StatusCode::FORBIDDEN
        );
        let r = Client::new()
            .get(app.url("/api/v1/audit/export"))
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        assert!(csv
            .trim_start_matches('\u{feff}')
            .starts_with("id,at,actor,action,detail,prev_hash,hash"));
        assert!(csv.contains(",auditor,login,"));
        // The page, for the auditor (not only administrators).
        let (browser, _) = app.sign_in("auditor").await;
        let html = browser.get(app.url("/admin/audit")).send().await.unwrap();
        assert_eq!(html.status(), StatusCode::OK);
        assert!(html.text().await.unwrap().contains("校验通过"));
        let r = browser
            .get(app.url("/admin/audit.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // No route edits or deletes it …
        for method in [
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
        ] {
            let r = Client::new()
                .request(method.clone(), app.url("/api/v1/audit"))
                .bearer_auth(&admin)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        }
        // … and the database refuses it too.
        let store = &app.db().store;
        let id = store.audit_log(1).await.unwrap()[0].id;
        assert!(store
            .debug_execute("UPDATE audit_log SET detail = 'x' WHERE id = $1", id)
            .await
            .is_err());
        assert!(store
            .debug_execute("DELETE FROM audit_log WHERE id = $1", id)
            .await
            .is_err());
        assert_eq!(store.audit_log(1).await.unwrap()[0].id, id);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_audit_chain_detects_tampering_and_retention_keeps_six_months() {
    for app in apps().await {
        let store = &app.db().store;
        let now = {
            use tongban_app::clock::Clock;
            app.clock.now()
        };
        store
            .record_audit(now, "mid", "test.mid", "x")
            .await
            .unwrap();
        // Two hundred days on: everything so far is past the six months' retention.
        app.clock.advance(Duration::days(200));
        let now = now + Duration::days(200);
        store
            .record_audit(now - Duration::days(10), "recent", "test.recent", "y")
            .await
            .unwrap();
        // A row stamped in the past but written after a row that is kept stays: the purge
        // removes only the chain's beginning, never a row younger than the retention.
        store
            .record_audit(now - Duration::days(400), "late", "test.backdated", "z")
            .await
            .unwrap();
        let v = store.verify_audit_log().await.unwrap();
        assert!(v.first_problem.is_none(), "{v:?}");
        let before = store.audit_log(100_000).await.unwrap().len() as u64;
        let purged = tongban_app::security::purge_audit_log(&app.state)
            .await
            .unwrap();
        assert_eq!(
            purged,
            before - 2,
            "all but the last two rows were older than 183 days"
        );
        let left = audit_actions(&app).await;
        assert!(left.iter().all(|(_, k, _)| k != "test.mid"));
        assert!(left.iter().any(|(_, k, _)| k == "test.recent"));
        assert!(left.iter().any(|(_, k, _)| k == "test.backdated"));
        assert!(left.iter().any(|(_, k, _)| k == "audit.purge"));
        let v = store.verify_audit_log().await.unwrap();
        assert!(v.first_problem.is_none(), "after the purge: {v:?}");
        // Nothing is ever purged younger than six months, whatever the configuration says.
        assert_eq!(
            tongban_app::security::purge_audit_log(&app.state)
                .await
                .unwrap(),
            0
        );
        // Tampering (by someone who got past the triggers) is found, row named.
        let target = store
            .audit_log(1000)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "test.recent")
            .unwrap();
        store
            .debug_tamper_audit(target.id, "changed")
            .await
            .unwrap();
        let v = store.verify_audit_log().await.unwrap();
        assert_eq!(v.first_problem.map(|p| p.0), Some(target.id));
        app.stop().await;
    }
}

// (8) Passwords and sessions.
#[tokio::test]
async fn passwords_follow_the_policy_and_a_reset_forces_a_change() {
    for app in apps().await {
        let admin = app.token("admin").await;
        // Staff: 12 characters of three classes.
        let (s, e) = post(&app, &admin, "/api/v1/admin/users", json!({ "username": "weak_staff", "display_name": "弱", "password": "abcdefgh1234", "role": "auditor" })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["message"].as_str().unwrap().contains("三类"));
        let (s, _) = post(&app, &admin, "/api/v1/admin/users", json!({ "username": "strong_staff", "display_name": "强", "password": "Abcdefgh-1234", "role": "auditor" })).await;
        assert_eq!(s, StatusCode::CREATED);
        // Changing one's own password: current one needed, policy applied, other sessions end.
        let other = app.token_with("strong_staff", "Abcdefgh-1234").await;
        let t = app.token_with("strong_staff", "Abcdefgh-1234").await;
        let (s, _) = post(
            &app,
            &t,
            "/api/v1/me/password",
            json!({ "current_password": "wrong", "new_password": "Zyxwvuts-9876" }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = post(
            &app,
            &t,
            "/api/v1/me/password",
            json!({ "current_password": "Abcdefgh-1234", "new_password": "short" }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = post(
            &app,
            &t,
            "/api/v1/me/password",
            json!({ "current_password": "Abcdefgh-1234", "new_password": "Zyxwvuts-9876" }),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(get(&app, &t, "/api/v1/me").await.0, StatusCode::OK);
        assert_eq!(
            get(&app, &other, "/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED
        );
        let t = app.token_with("strong_staff", "Zyxwvuts-9876").await;
        // An administrator resets it: every session ends, and the next sign-in must change it.
        let users: Value = get(&app, &admin, "/api/v1/admin/users").await.1;
        let id = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "strong_staff")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (s, _) = post(
            &app,
            &admin,
            &format!("/api/v1/admin/users/{id}/password"),
            json!({ "password": "short" }),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let clerk = app.token("clerk").await;
        let (s, _) = post(
            &app,
            &clerk,
            &format!("/api/v1/admin/users/{id}/password"),
            json!({ "password": "Temporary-2026" }),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = post(
            &app,
            &admin,
            &format!("/api/v1/admin/users/{id}/password"),
            json!({ "password": "Temporary-2026" }),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(
            get(&app, &t, "/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED
        );
        let (s, body) = login_status(&app, &Client::new(), "strong_staff", "Temporary-2026").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body["must_change_password"], true);
        let t = body["token"].as_str().unwrap().to_string();
        let (s, e) = get(&app, &t, "/api/v1/audit").await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("password_change_required"))
        );
        let (s, _) = post(
            &app,
            &t,
            "/api/v1/me/password",
            json!({ "current_password": "Temporary-2026", "new_password": "Final-Pass-2026" }),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(get(&app, &t, "/api/v1/audit").await.0, StatusCode::OK);
        // The browser is sent to the change page after signing in with a reset password.
        post(
            &app,
            &admin,
            &format!("/api/v1/admin/users/{id}/password"),
            json!({ "password": "Temporary-2027" }),
        )
        .await;
        let b = app.browser();
        let csrf = csrf_of(
            &b.get(app.url("/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let r = b
            .post(app.url("/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", "strong_staff"),
                ("password", "Temporary-2027"),
                ("next", "/cases"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/account/password");
        let r = b.get(app.url("/cases")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/account/password");
        let page = page_text(&b, app.url("/account/password")).await;
        let csrf = csrf_of(&page);
        let r = b
            .post(app.url("/account/password"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("current", "Temporary-2027"),
                ("new", "Browser-Pass-2027"),
                ("confirm", "Browser-Pass-2027"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            b.get(app.url("/cases")).send().await.unwrap().status(),
            StatusCode::OK
        );
        // Applicants keep 8 characters with letters and digits.
        let (s, e) = post(
            &app,
            &app.token("zhangsan").await,
            "/api/v1/me/password",
            json!({ "current_password": tongban::demo::DEMO_PASSWORD, "new_password": "abcd1234" }),
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
        let actions = audit_actions(&app).await;
        assert!(actions
            .iter()
            .any(|(a, k, _)| a == "admin" && k == "password.reset"));
        assert!(actions
            .iter()
            .any(|(a, k, _)| a == "strong_staff" && k == "password.change"));
        app.stop().await;
    }
}

#[tokio::test]
async fn staff_sessions_end_when_idle_and_each_user_holds_at_most_three() {
    let production = tongban_app::SecurityPolicy::default().max_sessions_per_user;
    assert_eq!(production, 3);
    for app in apps_with(|s| s.app.security.max_sessions_per_user = production).await {
        let clerk = app.token("clerk").await;
        let me = app.token("zhangsan").await;
        app.clock.advance(Duration::minutes(20));
        assert_eq!(
            get(&app, &clerk, "/api/v1/me").await.0,
            StatusCode::OK,
            "used within 30 min"
        );
        app.clock.advance(Duration::minutes(29));
        assert_eq!(
            get(&app, &clerk, "/api/v1/me").await.0,
            StatusCode::OK,
            "the idle clock restarted"
        );
        app.clock.advance(Duration::minutes(31));
        assert_eq!(
            get(&app, &clerk, "/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED,
            "idle 31 min"
        );
        // Applicants keep the 12-hour absolute lifetime.
        assert_eq!(get(&app, &me, "/api/v1/me").await.0, StatusCode::OK);
        // A fourth sign-in ends the oldest session.
        let mut tokens = vec![];
        for _ in 0..4 {
            tokens.push(app.token("head").await);
            app.clock.advance(Duration::seconds(5));
        }
        assert_eq!(
            get(&app, &tokens[0], "/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED
        );
        for t in &tokens[1..] {
            assert_eq!(get(&app, t, "/api/v1/me").await.0, StatusCode::OK);
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn the_session_limit_is_configuration() {
    for app in apps_with(|s| s.app.security.max_sessions_per_user = 1).await {
        let a = app.token("head").await;
        app.clock.advance(Duration::seconds(1));
        let b = app.token("head").await;
        assert_eq!(
            get(&app, &a, "/api/v1/me").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(get(&app, &b, "/api/v1/me").await.0, StatusCode::OK);
        app.stop().await;
    }
}

// (9) Response headers, cookies, CSRF bound to the session.
#[tokio::test]
async fn every_answer_carries_security_headers_and_personal_ones_are_not_cached() {
    for app in apps().await {
        for path in [
            "/",
            "/items",
            "/api/v1/items",
            "/nowhere",
            "/api/v1/nowhere",
            "/static/app.css",
        ] {
            let r = reqwest::get(app.url(path)).await.unwrap();
            let h = r.headers();
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(
                csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
                "{path}"
            );
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
            assert!(
                !h.contains_key("strict-transport-security"),
                "plain http: {path}"
            );
        }
        // No template needs inline style or script (the CSP forbids them).
        let html = reqwest::get(app.url("/login"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("style=\"") && !html.contains("<script"));
        let token = app.token("zhangsan").await;
        for path in ["/api/v1/me", "/api/v1/my/cases", "/api/v1/cases/431900-0-0"] {
            let r = Client::new()
                .get(app.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        }
        let (browser, _) = app.sign_in("clerk").await;
        let r = browser.get(app.url("/desk")).send().await.unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        // Cookies: Secure behind a TLS proxy.
        let c = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = c
            .get(app.url("/login"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        for v in r.headers().get_all("set-cookie") {
            assert!(v.to_str().unwrap().contains("; Secure"), "{v:?}");
        }
        let r = c.get(app.url("/login")).send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            assert!(!v.to_str().unwrap().contains("Secure"), "{v:?}");
        }
        app.stop().await;
    }
    for app in apps_with(|s| s.app.base_url = "https://zwfw.example.gov.cn".into()).await {
        let r = reqwest::get(app.url("/")).await.unwrap();
        assert!(r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age="));
        let c = app.browser();
        let csrf = csrf_of(
            &c.get(app.url("/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", "clerk"),
                ("password", tongban::demo::DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        let session = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("tb_session="))
            .unwrap();
        assert!(
            session.contains("; Secure") && session.contains("HttpOnly"),
            "{session}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_csrf_token_from_another_session_is_refused() {
    for app in apps().await {
        let (a, csrf_a) = app.sign_in("admin").await;
        let (_b, csrf_b) = app.sign_in("admin").await;
        assert_ne!(csrf_a, csrf_b);
        let before = app.db().store.departments().await.unwrap().len();
        let form = [("code", "91350100M000100Y43"), ("name", "市测试局")];
        let r = a
            .post(app.url("/admin/departments"))
            .form(&[form[0], form[1], ("_csrf", csrf_b.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.db().store.departments().await.unwrap().len(), before);
        // The cookie's value is no longer enough once signed in (it is not the session's).
        let anon = page_text(&a, app.url("/login")).await;
        assert_eq!(
            csrf_of(&anon),
            csrf_a,
            "signed-in pages carry the session's token"
        );
        let r = a
            .post(app.url("/admin/departments"))
            .form(&[form[0], form[1], ("_csrf", csrf_a.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    }
}

// (12) What sign-up, /metrics and staff search reveal.
#[tokio::test]
async fn sign_up_does_not_tell_whether_an_id_number_is_registered() {
    for app in apps().await {
        let body = |username: &str, id: &str| json!({ "kind": "person", "name": "王五", "id_number": id, "mobile": "13800138000", "username": username, "password": "wangwu2026" });
        let c = Client::new();
        let r = c
            .post(app.url("/api/v1/applicants"))
            .json(&body("wangwu", "11010519491231002X"))
            .send()
            .await
            .unwrap();
        let first_status = r.status();
        // zhangsan's ID number (registered) vs. a taken username.
        let zhang = app
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
        let r1 = c
            .post(app.url("/api/v1/applicants"))
            .json(&body("wangwu_new", &zhang.id_number))
            .send()
            .await
            .unwrap();
        let (s1, b1): (StatusCode, Value) = (r1.status(), r1.json().await.unwrap());
        let r2 = c
            .post(app.url("/api/v1/applicants"))
            .json(&body("zhangsan", "11010519491231002X"))
            .send()
            .await
            .unwrap();
        let (s2, b2): (StatusCode, Value) = (r2.status(), r2.json().await.unwrap());
        assert!(first_status.is_success() || first_status == StatusCode::CONFLICT);
        assert_eq!((s1, &b1), (s2, &b2), "the same answer");
        assert!(!b1["message"].as_str().unwrap().contains("证件号码已登记"));
        app.stop().await;
    }
}

#[tokio::test]
async fn metrics_need_the_token_or_an_administrator() {
    for app in apps_with(|s| s.ops.metrics_token = Some("scrape-secret".into())).await {
        assert_eq!(
            reqwest::get(app.url("/metrics")).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        let c = Client::new();
        let get_with = |t: &str| c.get(app.url("/metrics")).bearer_auth(t.to_string()).send();
        assert_eq!(
            get_with("wrong").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        let r = get_with("scrape-secret").await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("tongban_http_requests_total"));
        assert_eq!(
            get_with(&app.token("admin").await).await.unwrap().status(),
            StatusCode::OK
        );
        // A signed-in non-administrator is refused, not asked to sign in.
        assert_eq!(
            get_with(&app.token("clerk").await).await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn staff_search_takes_like_wildcards_literally() {
    for app in apps().await {
        let me = app.token("zhangsan").await;
        a_case(&app, &me).await;
        let clerk = app.token("clerk").await;
        let (_, all) = get(&app, &clerk, "/api/v1/cases").await;
        assert!(!all["cases"].as_array().unwrap().is_empty());
        for q in ["%", "_", "%25", "__"] {
            let (s, found) = get(&app, &clerk, &format!("/api/v1/cases?q={q}")).await;
            assert_eq!(s, StatusCode::OK, "{q}");
            assert_eq!(
                found["cases"].as_array().map_or(0, Vec::len),
                0,
                "{q} matched {found}"
            );
        }
        app.stop().await;
    }
}

// (13) Methods and errors on the API.
#[tokio::test]
async fn the_api_answers_unsupported_methods_and_unknown_paths_in_json() {
    for app in apps().await {
        let c = Client::new();
        for (method, path, status) in [
            ("TRACE", "/api/v1/cases", StatusCode::METHOD_NOT_ALLOWED),
            ("TRACE", "/api/v1/items", StatusCode::METHOD_NOT_ALLOWED),
            ("TRACE", "/api/v1/session", StatusCode::METHOD_NOT_ALLOWED),
            ("PROPFIND", "/api/v1/items", StatusCode::METHOD_NOT_ALLOWED),
            ("PATCH", "/api/v1/items", StatusCode::METHOD_NOT_ALLOWED),
            ("DELETE", "/api/v1/items", StatusCode::METHOD_NOT_ALLOWED),
            ("PUT", "/api/v1/me", StatusCode::METHOD_NOT_ALLOWED),
            ("GET", "/api/v1/no-such-thing", StatusCode::NOT_FOUND),
            ("POST", "/api/v1/no-such-thing", StatusCode::NOT_FOUND),
        ] {
            let r = c
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(path),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), status, "{method} {path}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{method} {path}"
            );
            let e: Value = r.json().await.unwrap();
            assert!(
                e["code"].is_string() && e["message"].is_string(),
                "{method} {path}: {e}"
            );
            assert_ne!(e["code"], "csrf", "{method} {path}");
        }
        // A page answers TRACE with 405 too.
        let r = c
            .request(reqwest::Method::TRACE, app.url("/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        app.stop().await;
    }
}

// (14) Health and readiness.
#[tokio::test]
async fn readiness_checks_a_database_write_and_free_disk() {
    for app in apps().await {
        let r = reqwest::get(app.url("/readyz")).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (body["database"].as_str(), body["disk"].as_str()),
            (Some("ok"), Some("ok"))
        );
        app.stop().await;
    }
    for app in apps_with(|s| s.ops.min_free_bytes = u64::MAX).await {
        let r = reqwest::get(app.url("/readyz")).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers().contains_key("retry-after"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["disk"], "low");
        // Liveness does not depend on it.
        assert_eq!(
            reqwest::get(app.url("/healthz")).await.unwrap().status(),
            StatusCode::OK
        );
        app.stop().await;
    }
}

// (15) Storage outages answer 503 with Retry-After, as JSON on the API.
#[tokio::test]
async fn an_unreachable_database_answers_503_with_retry_after() {
    for app in apps().await {
        let token = app.token("zhangsan").await;
        if app.state.store.backend() != tongban_store::Backend::Postgres {
            // SQLite has no connection to lose: its storage failures are mapped by error code
            // (tongban-store's unit tests); the HTTP answer is the same code path.
            app.stop().await;
            continue;
        }
        app.state.store.close().await;
        for path in ["/api/v1/me", "/api/v1/items", "/api/v1/my/cases"] {
            let r = Client::new()
                .get(app.url(path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
            assert!(r.headers().contains_key("retry-after"), "{path}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["code"], "unavailable", "{path}");
        }
        let r = reqwest::get(app.url("/readyz")).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        app.stop().await;
    }
}
