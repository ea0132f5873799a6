//! The 政务信息共享交换 exchange: purpose-bound signed calls, the catalog, conditional
//! requests on the working-day clock, the applicant's list of accesses — on both backends —
//! and two real `tongban` processes exchanging over loopback, each with its own database.

use super::workflow::{apply_online, scj_item};
use super::{get, post, App};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn member_code(base: &str) -> String {
    let v: Value = reqwest::get(format!("{base}/api/v1/federation/member"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["code"].as_str().unwrap().to_string()
}

async fn department_code(base: &str, name: &str) -> String {
    let v: Value = reqwest::get(format!("{base}/api/v1/departments"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string()
}

fn resource(code: &str, name: &str, class: &str, basis: &str) -> Value {
    json!({
        "code": code, "name": name, "provider": "市市场监督管理局", "provider_code": "scjgj",
        "summary": "市场主体登记及许可信息", "fields": ["名称", {"name": "统一社会信用代码", "kind": "string"}],
        "format": "JSON", "update_cycle": "实时", "sharing_class": class, "basis": basis,
    })
}

/// The log entries of one request, oldest first, as (direction, kind, outcome).
async fn log_of(app: &App, sharing: &str, request_id: &str) -> Vec<(String, String, String)> {
    let (s, v) = get(
        app,
        sharing,
        &format!("/api/v1/exchange/log?request_id={request_id}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut out: Vec<(String, String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["direction"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.reverse();
    out
}

async fn outcomes(app: &App, sharing: &str) -> Vec<String> {
    let (_, v) = get(app, sharing, "/api/v1/exchange/log").await;
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect()
}

async fn a_call_is_purpose_bound_signed_and_logged(app: App) {
    let base = app.url("");
    let me = member_code(&base).await;
    let dept = department_code(&base, "市市场监督管理局").await;
    let sharing = app.token("sharing").await;
    let approver = app.token("approver").await;
    let zs = app.token("zhangsan").await;
    for body in [
        resource("SCJG-ZT-001", "市场主体登记信息", "无条件", ""),
        resource(
            "SCJG-XK-002",
            "食品经营许可信息",
            "有条件",
            "《食品安全法》第35条",
        ),
    ] {
        let (s, v) = post(&app, &sharing, "/api/v1/exchange/resources", body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    // A conditional class without its legal basis is refused and nothing is stored.
    let (s, _) = post(
        &app,
        &sharing,
        "/api/v1/exchange/resources",
        resource("SCJG-X-003", "无依据", "不予", ""),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "exchange-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let (s, v) = post(
        &app,
        &sharing,
        "/api/v1/exchange/evidence",
        json!({"impl_code": code, "resource": "SCJG-ZT-001", "provider_member": me}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let call = |body: Value| {
        let app = &app;
        let approver = approver.clone();
        async move { post(app, &approver, "/api/v1/exchange/calls", body).await }
    };
    // Without a case.
    let (s, v) = call(json!({"service": "SCJG-ZT-001", "case_no": ""})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_case")),
        "{v}"
    );
    let (s, v) = call(json!({"service": "SCJG-ZT-001", "case_no": "NO-SUCH-CASE"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_case")),
        "{v}"
    );
    // Before the applicant confirmed.
    let (s, v) = call(json!({"service": "SCJG-ZT-001", "case_no": no})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_consent")),
        "{v}"
    );
    // Someone else cannot confirm for the applicant.
    let (s, _) = post(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/exchange-consent"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(
        &app,
        &zs,
        &format!("/api/v1/cases/{no}/exchange-consent"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["resources"], json!(["SCJG-ZT-001"]));
    // A resource the item does not declare.
    let (s, v) = call(json!({"service": "SCJG-XK-002", "case_no": no})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_declared")),
        "{v}"
    );
    // Publishing grants nothing: deny by default.
    let (s, v) = call(json!({"service": "SCJG-ZT-001", "case_no": no})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_grant")),
        "{v}"
    );
    let (s, v) = post(
        &app,
        &sharing,
        "/api/v1/exchange/grants",
        json!({"resource": "SCJG-ZT-001", "client_member": me, "client_subsystem": dept}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A case of another department is not in this officer's hands.
    let clerk = app.token("clerk").await;
    let other = app
        .db()
        .store
        .all_items()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.item.department == "市公安局")
        .unwrap();
    let id = tongban_core::ids::ResidentId::with_check_char("43010219900101123").unwrap();
    let (s, other_case) = post(&app, &clerk, "/api/v1/cases", json!({ "item": other.item.impl_code, "applicant": { "kind": "person", "id_number": id.as_str(), "name": "他人" } })).await;
    assert_eq!(s, StatusCode::CREATED, "{other_case}");
    let (s, v) = call(json!({"service": "SCJG-ZT-001", "case_no": other_case["case_no"]})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_handling")),
        "{v}"
    );
    // Granted, for a live case in hand, confirmed: the signed answer comes back.
    let (s, out) =
        call(json!({"service": "SCJG-ZT-001", "case_no": no, "purpose": "核验申请人身份"})).await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["trust"], "A");
    assert_eq!(out["data"]["found"], true);
    assert_eq!(out["data"]["name"], "张三");
    let id = out["request_id"].as_str().unwrap().to_string();
    // Both sides (here one member) logged the signed request and the signed response.
    assert_eq!(
        log_of(&app, &sharing, &id).await,
        vec![
            ("out".into(), "request".into(), "sent".into()),
            ("in".into(), "request".into(), "accepted".into()),
            ("out".into(), "response".into(), "ok".into()),
            ("in".into(), "response".into(), "ok".into()),
        ]
    );
    let refusals = outcomes(&app, &sharing).await;
    for code in [
        "no_case",
        "no_consent",
        "not_declared",
        "no_grant",
        "not_handling",
    ] {
        assert!(
            refusals.iter().any(|o| o == code),
            "{code} not logged: {refusals:?}"
        );
    }
    // The case ledger holds the fetch, and the evidence attached with trust level A.
    let (_, events) = get(&app, &zs, &format!("/api/v1/cases/{no}/events")).await;
    let text = events.to_string();
    assert!(
        text.contains("evidence_consented") && text.contains("evidence_fetched"),
        "{text}"
    );
    assert!(text.contains(&id), "{text}");
    // The signed request, sent again, is a replay; changed, its signature fails.
    let (_, v) = get(
        &app,
        &sharing,
        &format!("/api/v1/exchange/log?request_id={id}"),
    )
    .await;
    let signed = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["direction"] == "out" && e["kind"] == "request")
        .unwrap()["message"]
        .clone();
    let send = |msg: Value| {
        let url = app.url("/api/v1/federation/exchange");
        async move {
            let r = Client::new().post(url).json(&msg).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = send(signed.clone()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("replay")),
        "{v}"
    );
    let mut forged = signed.clone();
    forged["request_id"] = json!("forged-0001");
    forged["case_no"] = json!("SOMEONE-ELSE");
    let (s, v) = send(forged).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_signature")),
        "{v}"
    );
    let refusals = outcomes(&app, &sharing).await;
    assert!(
        refusals.iter().any(|o| o == "replay") && refusals.iter().any(|o| o == "bad_signature")
    );
    // The applicant sees the access: who, for which case, what, why.
    let (s, v) = get(&app, &zs, "/api/v1/my/data-access").await;
    assert_eq!(s, StatusCode::OK);
    let list = v["accesses"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["case_no"], no);
    assert_eq!(list[0]["resource"], "市场主体登记信息");
    assert_eq!(list[0]["purpose"], "核验申请人身份");
    assert!(list[0]["who"].as_str().unwrap().contains("王审批"), "{v}");
    assert!(list[0]["at"].as_str().is_some() && list[0]["department"].as_str().is_some());
    // Another applicant sees none of it; the sharing officer reads no case.
    let (_, v) = get(
        &app,
        &app.token("enterprise").await,
        "/api/v1/my/data-access",
    )
    .await;
    assert_eq!(v["accesses"], json!([]));
    let (s, _) = get(&app, &sharing, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
on_each_backend!(a_call_is_purpose_bound_signed_and_logged);

async fn light_of(app: &App, id: &Value) -> String {
    let sup = app.token("supervisor").await;
    let (s, v) = get(app, &sup, "/api/v1/exchange/requests").await;
    assert_eq!(s, StatusCode::OK);
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == *id)
        .unwrap()["light"]
        .as_str()
        .unwrap()
        .to_string()
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

async fn the_catalog_and_a_conditional_request_answered_late(app: App) {
    let sharing = app.token("sharing").await;
    let approver = app.token("approver").await;
    for body in [
        resource("SCJG-ZT-001", "市场主体登记信息", "无条件", ""),
        resource(
            "SCJG-XK-002",
            "食品经营许可信息",
            "有条件",
            "《食品安全法》第35条",
        ),
        resource("SCJG-AJ-003", "案件线索信息", "不予", "《行政处罚法》"),
    ] {
        let (s, v) = post(&app, &sharing, "/api/v1/exchange/resources", body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = get(&app, &approver, "/api/v1/exchange/catalog").await;
    assert_eq!(s, StatusCode::OK);
    let list = v["resources"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    let xk = list.iter().find(|r| r["code"] == "SCJG-XK-002").unwrap();
    assert_eq!(xk["sharing_class"], "有条件");
    assert_eq!(xk["basis"], "《食品安全法》第35条");
    assert_eq!(xk["provider"], "市市场监督管理局");
    assert_eq!(xk["fields"], json!(["名称", "统一社会信用代码"]));
    let (_, v) = get(&app, &approver, "/api/v1/exchange/catalog?q=食品").await;
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
    let (s, _) = get(
        &app,
        &app.token("zhangsan").await,
        "/api/v1/exchange/catalog",
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let r = Client::new()
        .get(app.url("/api/v1/exchange/catalog.xlsx"))
        .bearer_auth(&approver)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // 不予共享 cannot be granted; an unconditional one needs no request.
    let (s, v) = post(
        &app,
        &sharing,
        "/api/v1/exchange/grants",
        json!({"resource": "SCJG-AJ-003", "client_member": "431300", "client_subsystem": "gaj"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = post(
        &app,
        &approver,
        "/api/v1/exchange/requests",
        json!({"resource": "SCJG-ZT-001", "purpose": "审批", "legal_basis": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A conditional request: due in 10 working days (2026-03-02 → 03-16).
    let (s, late) = post(&app, &approver, "/api/v1/exchange/requests", json!({"resource": "SCJG-XK-002", "purpose": "食品经营许可审查", "legal_basis": "《食品经营许可和备案管理办法》"})).await;
    assert_eq!(s, StatusCode::CREATED, "{late}");
    assert_eq!(late["due_on"], "2026-03-16");
    assert_eq!(late["light"], "green");
    let (_, on_time) = post(
        &app,
        &approver,
        "/api/v1/exchange/requests",
        json!({"resource": "SCJG-XK-002", "purpose": "复核", "legal_basis": "同上"}),
    )
    .await;
    // The provider answers one in time; the approver may not answer.
    let path = |v: &Value| format!("/api/v1/exchange/requests/{}/answer", v["id"]);
    let (s, _) = post(
        &app,
        &approver,
        &path(&on_time),
        json!({"decision": "grant"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = post(
        &app,
        &sharing,
        &path(&on_time),
        json!({"decision": "grant"}),
    )
    .await;
    assert_eq!(
        (s, v["light"].as_str()),
        (StatusCode::OK, Some("green")),
        "{v}"
    );
    advance_to(&app, "2026-03-11");
    assert_eq!(light_of(&app, &late["id"]).await, "green");
    advance_to(&app, "2026-03-12");
    assert_eq!(light_of(&app, &late["id"]).await, "yellow");
    advance_to(&app, "2026-03-16");
    assert_eq!(light_of(&app, &late["id"]).await, "yellow");
    advance_to(&app, "2026-03-17");
    assert_eq!(light_of(&app, &late["id"]).await, "red");
    // A refusal needs reasons; answered late, it stays red. (Sessions expired meanwhile.)
    let sharing = app.token("sharing").await;
    let (s, _) = post(
        &app,
        &sharing,
        &path(&late),
        json!({"decision": "refuse", "reasons": " "}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = post(
        &app,
        &sharing,
        &path(&late),
        json!({"decision": "refuse", "reasons": "用途超出授权范围"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["light"].as_str()),
        (Some("refused"), Some("red"))
    );
    let (s, _) = post(&app, &sharing, &path(&late), json!({"decision": "grant"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The board page shows the light.
    let (c, _) = app.sign_in("supervisor").await;
    let page = super::page_text(&c, app.url("/exchange")).await;
    assert!(
        page.contains("红牌超期") && page.contains("食品经营许可信息"),
        "{page}"
    );
}
on_each_backend!(the_catalog_and_a_conditional_request_answered_late);

// ---- two members, two processes -------------------------------------------------------------

pub(super) struct Node {
    pub(super) dir: tempfile::TempDir,
    pub(super) base: String,
    child: Option<std::process::Child>,
    /// Extra environment for `serve` and the commands (the province link's settings, the
    /// ledger's partitions when the database is created).
    pub(super) env: Vec<(String, String)>,
}

impl Node {
    pub(super) fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path())
            .current_dir(self.dir.path())
            .env_remove("TONGBAN_DATABASE_URL")
            .env_remove("TONGBAN_CONFIG")
            .env("TONGBAN_PUBLIC_URL", &self.base)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run tongban");
        assert!(
            out.status.success(),
            "tongban {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(super) fn new() -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Node {
            dir: tempfile::tempdir().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            child: None,
            env: vec![],
        }
    }

    pub(super) async fn serve(&mut self) {
        let listen = self.base.trim_start_matches("http://").to_string();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(self.dir.path())
            .current_dir(self.dir.path())
            .env_remove("TONGBAN_DATABASE_URL")
            .env_remove("TONGBAN_CONFIG")
            .env("TONGBAN_PUBLIC_URL", &self.base)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn tongban serve");
        self.child = Some(child);
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", self.base))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{} did not start", self.base);
    }

    pub(super) async fn token(&self, user: &str) -> String {
        let r = Client::new()
            .post(format!("{}/api/v1/session", self.base))
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

    pub(super) async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    pub(super) async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

impl Node {
    /// Stops the server with SIGKILL (`kill -9`): no shutdown, no flush.
    pub(super) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[tokio::test]
async fn two_members_exchange_signed_messages_over_loopback() {
    let mut provider = Node::new();
    let mut client = Node::new();
    for (node, code, name) in [
        (&provider, "430000", "湖南省政务服务平台"),
        (&client, "431300", "娄星市政务服务平台"),
    ] {
        node.run(&["demo", "--no-serve"]);
        node.run(&[
            "member",
            "init",
            "--code",
            code,
            "--name",
            name,
            "--endpoint",
            &node.base,
        ]);
    }
    // Each trusts the other's exported member document.
    for (from, to) in [(&provider, &client), (&client, &provider)] {
        let doc = from.run(&["member", "export"]);
        let v: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["keys"].as_array().unwrap().len(), 2, "{doc}");
        let file = to.dir.path().join("peer.json");
        std::fs::write(&file, doc).unwrap();
        to.run(&["member", "trust", file.to_str().unwrap()]);
    }
    provider.serve().await;
    client.serve().await;
    let v: Value = reqwest::get(format!("{}/api/v1/federation/member", provider.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], "430000");

    let p_sharing = provider.token("sharing").await;
    for body in [
        resource("HN-SCJG-001", "市场主体登记信息", "无条件", ""),
        resource("HN-SCJG-002", "企业年报信息", "无条件", ""),
    ] {
        let (s, v) = provider
            .post(&p_sharing, "/api/v1/exchange/resources", body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    // The client's live case: 企业设立登记 in approval at 市场监管局, for the demo enterprise.
    let approver = client.token("approver").await;
    let (_, cases) = client.get(&approver, "/api/v1/cases").await;
    let case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["item_name"] == "企业设立登记")
        .unwrap_or_else(|| panic!("{cases}"))
        .clone();
    let no = case["case_no"].as_str().unwrap().to_string();
    let impl_code = case["impl_code"].as_str().unwrap().to_string();
    let dept = department_code(&client.base, "市市场监督管理局").await;
    let (s, v) = provider
        .post(
            &p_sharing,
            "/api/v1/exchange/grants",
            json!({"resource": "HN-SCJG-001", "client_member": "431300", "client_subsystem": dept}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let c_sharing = client.token("sharing").await;
    for res in ["HN-SCJG-001", "HN-SCJG-002"] {
        let (s, v) = client
            .post(
                &c_sharing,
                "/api/v1/exchange/evidence",
                json!({"impl_code": impl_code, "resource": res, "provider_member": "430000"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let ent = client.token("enterprise").await;
    let (s, v) = client
        .post(
            &ent,
            &format!("/api/v1/cases/{no}/exchange-consent"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Granted, live case, in hand: succeeds.
    let (s, out) = client
        .post(&approver, "/api/v1/exchange/calls", json!({"provider": "430000", "service": "HN-SCJG-001", "case_no": no, "purpose": "核验企业登记信息"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    assert_eq!(out["trust"], "A");
    let id = out["request_id"].as_str().unwrap().to_string();
    // Both ledgers hold the signed request and the signed response.
    let (_, c_log) = client
        .get(&c_sharing, &format!("/api/v1/exchange/log?request_id={id}"))
        .await;
    let (_, p_log) = provider
        .get(&p_sharing, &format!("/api/v1/exchange/log?request_id={id}"))
        .await;
    let kinds = |v: &Value| {
        let mut k: Vec<String> = v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["direction"].as_str().unwrap(),
                    e["kind"].as_str().unwrap()
                )
            })
            .collect();
        k.sort();
        k
    };
    assert_eq!(kinds(&c_log), vec!["in response", "out request"], "{c_log}");
    assert_eq!(kinds(&p_log), vec!["in request", "out response"], "{p_log}");
    let msg = |v: &Value, dir: &str| {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["direction"] == dir)
            .unwrap()["message"]
            .clone()
    };
    let request = msg(&c_log, "out");
    let response = msg(&p_log, "out");
    assert_eq!(
        request,
        msg(&p_log, "in"),
        "the provider logged the request as signed"
    );
    assert_eq!(
        response,
        msg(&c_log, "in"),
        "the client logged the response as signed"
    );
    assert_eq!(request["proofs"].as_array().unwrap().len(), 2);
    assert_eq!(
        response["request_hash"].as_str().unwrap(),
        tongban_core::exchange::message_hash(&request)
    );
    // Signatures verify against the members' published documents.
    let doc = |base: String| async move {
        let v: Value = reqwest::get(format!("{base}/api/v1/federation/member"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value::<tongban_core::exchange::MemberDocument>(v).unwrap()
    };
    tongban_core::exchange::verify_message(&request, &doc(client.base.clone()).await).unwrap();
    tongban_core::exchange::verify_message(&response, &doc(provider.base.clone()).await).unwrap();

    // Refused and logged: no grant, no case, replay, bad signature.
    let (s, v) = client
        .post(
            &approver,
            "/api/v1/exchange/calls",
            json!({"provider": "430000", "service": "HN-SCJG-002", "case_no": no}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_grant")),
        "{v}"
    );
    let (s, v) = client
        .post(
            &approver,
            "/api/v1/exchange/calls",
            json!({"provider": "430000", "service": "HN-SCJG-001", "case_no": ""}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("no_case")),
        "{v}"
    );
    let exchange = format!("{}/api/v1/federation/exchange", provider.base);
    let r = Client::new()
        .post(&exchange)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let mut forged = request.clone();
    forged["request_id"] = json!("forged-0002");
    forged["service"] = json!("HN-SCJG-002");
    let r = Client::new()
        .post(&exchange)
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (_, p_all) = provider.get(&p_sharing, "/api/v1/exchange/log").await;
    let p_out: Vec<&str> = p_all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    for code in ["no_grant", "replay", "bad_signature"] {
        assert!(
            p_out.contains(&code),
            "provider did not log {code}: {p_out:?}"
        );
    }
    let (_, c_all) = client.get(&c_sharing, "/api/v1/exchange/log").await;
    let c_out: Vec<&str> = c_all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    for code in ["no_grant", "no_case"] {
        assert!(
            c_out.contains(&code),
            "client did not log {code}: {c_out:?}"
        );
    }
    // The applicant sees the access on their platform.
    let (s, v) = client.get(&ent, "/api/v1/my/data-access").await;
    assert_eq!(s, StatusCode::OK);
    // (The demo city's own call for the case is listed too.)
    let list: Vec<&Value> = v["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["resource"] == "市场主体登记信息"
                && a["who"].as_str().unwrap().contains("王审批")
                && a["purpose"] == "核验企业登记信息"
        })
        .collect();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["case_no"], no);
    assert_eq!(list[0]["resource"], "市场主体登记信息");
    assert_eq!(list[0]["purpose"], "核验企业登记信息");
}
