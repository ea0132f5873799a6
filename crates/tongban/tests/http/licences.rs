//! Electronic licences end to end on both backends: issued on approval, verified online
//! and offline, a tamper matrix with the failing check named, revocation, and reuse
//! instead of paper with every use logged.

use super::{get, page_text, post, App, PDF};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

fn item(
    app_items: &[tongban_store::catalog::StoredItem],
    name: &str,
) -> tongban_store::catalog::StoredItem {
    app_items
        .iter()
        .find(|i| i.item.name == name && i.item.department == "市市场监督管理局")
        .cloned()
        .unwrap()
}

/// The enterprise applies online (uploads for every required material, or the given
/// licence for the material that accepts it) and the case is approved.
pub(crate) async fn approved(app: &App, name: &str, use_licence: Option<&str>) -> Value {
    let ent = app.token("enterprise").await;
    let items = app.db().store.all_items().await.unwrap();
    let it = item(&items, name);
    let mut materials = vec![];
    for m in it
        .materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
    {
        match use_licence {
            Some(id) if !m.licence_type.is_empty() => {
                materials.push(json!({ "name": m.name, "licence_id": id }))
            }
            _ => {
                let r: Value = Client::new()
                    .post(app.url("/api/v1/files"))
                    .bearer_auth(&ent)
                    .body(PDF.to_vec())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                materials.push(json!({ "name": m.name, "sha256": r["sha256"] }));
            }
        }
    }
    let (s, case) = post(
        app,
        &ent,
        "/api/v1/cases",
        json!({ "item": it.item.impl_code, "delivery": "electronic", "materials": materials, "details": { "经营项目": "预包装食品销售（含冷藏冷冻食品）" } }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let mut v = case["version"].clone();
    for (who, action) in [
        ("clerk", "accept"),
        ("approver", "pass"),
        ("approver", "pass"),
        ("head", "pass"),
    ] {
        let t = app.token(who).await;
        let (s, c) = post(
            app,
            &t,
            &format!("/api/v1/cases/{no}/commands"),
            json!({ "expected_version": v, "action": action, "opinion": "同意" }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{who} {action}: {c}");
        v = c["version"].clone();
    }
    get(app, &ent, &format!("/api/v1/cases/{no}")).await.1
}

async fn my_licences(app: &App) -> Vec<Value> {
    let ent = app.token("enterprise").await;
    get(app, &ent, "/api/v1/licences").await.1["licences"]
        .as_array()
        .unwrap()
        .clone()
}

async fn verify(app: &App, credential: &Value) -> Value {
    post(
        app,
        "",
        "/api/v1/licences/verify",
        json!({ "credential": credential }),
    )
    .await
    .1
}

fn failed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

async fn issued_on_approval_verified_and_reused_instead_of_paper(app: App) {
    let case = approved(&app, "食品经营许可证核发", None).await;
    let licences = my_licences(&app).await;
    assert_eq!(licences.len(), 1);
    let l = &licences[0];
    assert_eq!(
        (
            l["name"].as_str(),
            l["status"].as_str(),
            l["version"].as_i64()
        ),
        (Some("食品经营许可证"), Some("valid"), Some(1))
    );
    assert_eq!(l["case_no"], case["case_no"]);
    let id = l["licence_id"].as_str().unwrap().to_string();
    assert!(tongban_core::licence::id::LicenceId::parse(&id).is_ok());
    // The licence carries its type's fields as the applicant filled them in.
    let ent0 = app.token("enterprise").await;
    let (_, full) = get(&app, &ent0, &format!("/api/v1/licences/{id}")).await;
    assert_eq!(
        full["vc"]["credentialSubject"]["fields"]["经营项目"],
        "预包装食品销售（含冷藏冷冻食品）"
    );
    // Verified online, every check passing, issuance on the ledger.
    let report = post(&app, "", "/api/v1/licences/verify", json!({ "id": id }))
        .await
        .1;
    assert_eq!(report["valid"], true, "{report}");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "identifier",
            "signature_eddsa",
            "signature_sm2",
            "validity",
            "key_valid_at_issuance",
            "status",
            "ledger"
        ]
    );
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    // The issuance is an event of the case.
    let ent = app.token("enterprise").await;
    let (_, events) = get(
        &app,
        &ent,
        &format!("/api/v1/cases/{}/events", case["case_no"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        events.as_array().unwrap().last().unwrap()["event"]["kind"],
        "licence_issued"
    );

    // Reuse in a second application instead of paper: the 变更 item asks for the licence.
    let second = approved(&app, "食品经营许可证变更", Some(&id)).await;
    let used = second["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["licence_id"] == id.as_str())
        .expect("licence attached");
    assert_eq!(used["trust"], "A");
    let (_, detail) = get(&app, &ent, &format!("/api/v1/licences/{id}")).await;
    let uses = detail["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0]["case_no"], second["case_no"]);
    assert!(uses[0]["purpose"].as_str().unwrap().starts_with("免提交"));
    // Re-issue: version 2 supersedes version 1.
    let licences = my_licences(&app).await;
    let v2 = licences
        .iter()
        .find(|l| l["version"] == 2)
        .expect("re-issued");
    assert_eq!(v2["status"], "valid");
    assert_eq!(
        licences
            .iter()
            .find(|l| l["licence_id"] == id.as_str())
            .unwrap()["status"],
        "superseded"
    );
    let v2_id = v2["licence_id"].as_str().unwrap().to_string();
    // A superseded licence is no longer accepted as evidence.
    let items = app.db().store.all_items().await.unwrap();
    let renew = item(&items, "食品经营许可证延续");
    let m = renew
        .materials
        .iter()
        .find(|m| !m.licence_type.is_empty())
        .unwrap();
    let (s, e) = post(&app, &ent, "/api/v1/cases", json!({ "item": renew.item.impl_code, "materials": [{ "name": m.name, "licence_id": id }] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // A department looks the holder's licences up only for its case, with a purpose.
    let approver = app.token("approver").await;
    let no = second["case_no"].as_str().unwrap();
    let (s, _) = post(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/holder-licences"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A GET reads and writes nothing: the look-up is a POST.
    let (s, _) = get(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/holder-licences?purpose=核对经营资格"),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, found) = post(
        &app,
        &approver,
        &format!("/api/v1/cases/{no}/holder-licences"),
        json!({ "purpose": "核对经营资格" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(found["licences"].as_array().unwrap().len(), 2);
    let (_, detail) = get(&app, &ent, &format!("/api/v1/licences/{v2_id}")).await;
    assert!(detail["uses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["purpose"] == "查询：核对经营资格" && u["by"] == "approver"));

    // Revoked: reported invalid, and no longer offered for reuse.
    let head = app.token("head").await;
    let (s, _) = post(
        &app,
        &head,
        &format!("/api/v1/licences/{v2_id}/status"),
        json!({ "action": "revoke", "reason": "" }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let (s, _) = post(
        &app,
        &app.token("approver").await,
        &format!("/api/v1/licences/{v2_id}/status"),
        json!({ "action": "revoke", "reason": "x" }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(
        &app,
        &head,
        &format!("/api/v1/licences/{v2_id}/status"),
        json!({ "action": "revoke", "reason": "被依法吊销" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let report = post(&app, "", "/api/v1/licences/verify", json!({ "id": v2_id }))
        .await
        .1;
    assert_eq!(
        (report["valid"].as_bool(), failed(&report)),
        (Some(false), vec!["status".to_string()])
    );
    let (browser, _) = app.sign_in("enterprise").await;
    let page = page_text(
        &browser,
        app.url(&format!("/apply/{}", renew.item.impl_code)),
    )
    .await;
    assert!(
        !page.contains("使用我的电子证照"),
        "a revoked licence is not offered"
    );
    let (s, _) = post(&app, &ent, "/api/v1/cases", json!({ "item": renew.item.impl_code, "materials": [{ "name": m.name, "licence_id": v2_id }] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

on_each_backend!(issued_on_approval_verified_and_reused_instead_of_paper);

async fn tamper_matrix_names_the_failing_check(app: App) {
    approved(&app, "食品经营许可证核发", None).await;
    let id = my_licences(&app).await[0]["licence_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ent = app.token("enterprise").await;
    let vc = get(&app, &ent, &format!("/api/v1/licences/{id}")).await.1["vc"].clone();
    assert_eq!(verify(&app, &vc).await["valid"], true);

    // One changed field.
    let mut t = vc.clone();
    t["credentialSubject"]["holderName"] = "别的公司".into();
    assert_eq!(
        failed(&verify(&app, &t).await),
        vec!["signature_eddsa", "signature_sm2", "ledger"]
    );
    // A changed proof.
    let mut t = vc.clone();
    t["proof"][0]["created"] = "2020-01-01T00:00:00Z".into();
    let f = failed(&verify(&app, &t).await);
    assert!(
        f.contains(&"signature_eddsa".to_string())
            && f.contains(&"key_valid_at_issuance".to_string()),
        "{f:?}"
    );
    // A wrong key: signed by someone else's Ed25519 key under the platform's key id.
    let store = &app.db().store;
    let keys = store.issuer_keys(chrono::Utc::now()).await.unwrap();
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let mut unsigned = vc.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let method = vc["proof"][0]["verificationMethod"].as_str().unwrap();
    let created = vc["proof"][0]["created"].as_str().unwrap();
    let p = tongban_core::licence::proof::sign_eddsa(
        &unsigned,
        &tongban_core::licence::vc::proof_options("eddsa-jcs-2022", method, created),
        &stranger,
    )
    .unwrap();
    let mut t = vc.clone();
    t["proof"][0] = p;
    assert_eq!(
        failed(&verify(&app, &t).await),
        vec!["signature_eddsa", "ledger"]
    );
    // A bad identifier check character, re-signed with the real keys: only the
    // identifier and the ledger disagree.
    let mut forged = unsigned.clone();
    let bad_id = format!(
        "{}{}",
        &id[..id.len() - 1],
        if id.ends_with('0') { '1' } else { '0' }
    );
    forged["id"] = format!("urn:oid:{bad_id}").into();
    let sm2_method = vc["proof"][1]["verificationMethod"].as_str().unwrap();
    let resigned = tongban_core::licence::vc::sign(
        &forged,
        (&keys.ed25519.1, method),
        (&keys.sm2.1, sm2_method),
        created,
    )
    .unwrap();
    assert_eq!(
        failed(&verify(&app, &resigned).await),
        vec!["identifier", "ledger"]
    );
    // Issued off the books with the real keys (a stolen key): the ledger says no.
    let mut off_books = unsigned.clone();
    off_books["credentialSubject"]["fields"]["事项"] = "未经审批".into();
    let stolen = tongban_core::licence::vc::sign(
        &off_books,
        (&keys.ed25519.1, method),
        (&keys.sm2.1, sm2_method),
        created,
    )
    .unwrap();
    assert_eq!(failed(&verify(&app, &stolen).await), vec!["ledger"]);
    // A key used outside its validity: rotate, then sign "today" with the retired key.
    store.rotate_issuer_keys(chrono::Utc::now()).await.unwrap();
    let later = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let late = tongban_core::licence::vc::sign(
        &unsigned,
        (&keys.ed25519.1, method),
        (&keys.sm2.1, sm2_method),
        &later,
    )
    .unwrap();
    assert_eq!(
        failed(&verify(&app, &late).await),
        vec!["key_valid_at_issuance", "ledger"]
    );
    // What the rotated-out key signed while valid still verifies.
    assert_eq!(verify(&app, &vc).await["valid"], true);
    let (_, published) = get(&app, "", "/api/v1/licences/keys").await;
    assert_eq!(published["keys"].as_array().unwrap().len(), 4);
    // Suspended, then revoked.
    let head = app.token("head").await;
    post(
        &app,
        &head,
        &format!("/api/v1/licences/{id}/status"),
        json!({ "action": "suspend", "reason": "停业整顿检查" }),
    )
    .await;
    let r = verify(&app, &vc).await;
    assert_eq!(failed(&r), vec!["status"]);
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["detail"] == "已暂停"));
    post(
        &app,
        &head,
        &format!("/api/v1/licences/{id}/status"),
        json!({ "action": "revoke", "reason": "吊销" }),
    )
    .await;
    let r = verify(&app, &vc).await;
    assert!(r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["detail"] == tongban_core::licence::vc::REVOCATION_LIST_DETAIL));
    // The status list is large, compressed and signed.
    let (_, list) = get(&app, "", "/api/v1/licences/status/revocation").await;
    let keys: Vec<tongban_core::licence::vc::PublishedKey> =
        serde_json::from_value(published["keys"].clone()).unwrap();
    let bits = tongban_core::licence::vc::read_status_list(&list, &keys).unwrap();
    assert!(bits.len_bits() >= 131_072);
    let index: usize = vc["credentialStatus"][0]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(bits.get(index), Some(true));
    app.stop().await;
}

on_each_backend!(tamper_matrix_names_the_failing_check);

async fn offline_verification_and_the_printed_form(app: App) {
    approved(&app, "食品经营许可证核发", None).await;
    let id = my_licences(&app).await[0]["licence_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ent = app.token("enterprise").await;
    let vc = get(&app, &ent, &format!("/api/v1/licences/{id}")).await.1["vc"].clone();
    let (_, keys) = get(&app, "", "/api/v1/licences/keys").await;
    let (_, status) = get(&app, "", "/api/v1/licences/status/revocation").await;
    // The server is not needed: the command verifies from files alone.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        p.display().to_string()
    };
    let (vc_file, keys_file, status_file) = (
        write("vc.json", &vc),
        write("keys.json", &keys),
        write("status.json", &status),
    );
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[
        "licence",
        "verify",
        &vc_file,
        "--keys",
        &keys_file,
        "--status",
        &status_file,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PASS  signature_sm2") && text.contains("SKIP  ledger"),
        "{text}"
    );
    let mut tampered = vc.clone();
    tampered["validFrom"] = "2000-01-01T00:00:00Z".into();
    let bad = write("bad.json", &tampered);
    let out = run(&["licence", "verify", &bad, "--keys", &keys_file]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL  signature_eddsa"));

    // The PDF: Chinese text that extracts, a QR with signed key fields.
    let (browser, _) = app.sign_in("enterprise").await;
    let pdf = browser
        .get(app.url(&format!("/licences/{id}/pdf")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    super::notices::assert_font_embedded(dir.path(), "fonts.pdf", &pdf);
    let have_poppler = std::path::Path::new("/usr/bin/pdftotext").exists();
    if std::env::var("TONGBAN_REQUIRE_POPPLER").is_ok_and(|v| v == "1") {
        assert!(
            have_poppler,
            "TONGBAN_REQUIRE_POPPLER=1 but pdftotext is missing"
        );
    }
    if have_poppler {
        let f = dir.path().join("l.pdf");
        std::fs::write(&f, &pdf).unwrap();
        let out = std::process::Command::new("/usr/bin/pdftotext")
            .arg(&f)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "食品经营许可证",
            "娄星市星辰科技有限公司",
            "市市场监督管理局",
            "经营项目",
            "预包装食品销售",
            &id[..30],
        ] {
            assert!(text.contains(needle), "pdftotext lacks {needle}: {text}");
        }
    }
    // The verify page shows the checks; the QR link's signed fields verify.
    let html = reqwest::get(app.url(&format!("/verify?id={id}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("核验通过") && html.contains("SM2/SM3 国密签名"));
    let html = reqwest::get(app.url("/verify?id=1.2.156.3005.2.x"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("格式错误"));
    app.stop().await;
}

on_each_backend!(offline_verification_and_the_printed_form);

/// The page's verdict line: the text of the element with id `verdict-label`.
fn verdict_label(html: &str) -> String {
    let at = html
        .find("id=\"verdict-label\">")
        .unwrap_or_else(|| panic!("no verdict on the page: {html}"));
    let rest = &html[at + "id=\"verdict-label\">".len()..];
    rest[..rest.find('<').unwrap()].to_string()
}

async fn page(app: &App, path_and_query: &str) -> String {
    reqwest::get(app.url(path_and_query))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A signed QR binds only the licence it names and never speaks for its status: a
/// superseded or revoked licence's genuine QR cannot be shown as valid, alone or paired
/// with another licence's identifier (security review finding 1, High).
async fn qr_codes_bind_their_licence_and_show_the_live_status(app: App) {
    let first = approved(&app, "食品经营许可证核发", None).await;
    let store = &app.db().store;
    let la = store
        .licence_of_case(first["case_no"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let qr_a = tongban_app::licences::qr_url(&app.state, &la)
        .await
        .unwrap();
    let query_a = &qr_a[qr_a.find("/verify?").unwrap()..];
    assert_eq!(verdict_label(&page(&app, query_a).await), "有效");

    // A second licence of the same type supersedes the first.
    let second = approved(&app, "食品经营许可证核发", None).await;
    let lb = store
        .licence_of_case(second["case_no"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let la_now = store.licence(&la.licence_id).await.unwrap();
    let expected_a = if la_now.status == "superseded" {
        "已被新版本替代"
    } else {
        "有效"
    };
    assert_eq!(verdict_label(&page(&app, query_a).await), expected_a);

    // The old QR presented with the valid licence's identifier: refused, not 有效.
    let spoof = query_a.replace(
        &format!("id={}", la.licence_id),
        &format!("id={}", lb.licence_id),
    );
    let html = page(&app, &spoof).await;
    assert_eq!(verdict_label(&html), "无效", "{html}");
    assert!(html.contains("二维码与所核验的证照不符"), "{html}");
    assert!(!html.contains("核验通过"), "{html}");
    // Without an identifier the QR's own licence is looked up and its status shown.
    let bare = query_a.replace(&format!("id={}&", la.licence_id), "");
    assert_eq!(verdict_label(&page(&app, &bare).await), expected_a);
    // A tampered payload (one byte of the signature changed) is 无效.
    let tampered = {
        let at = query_a.find("&s=").unwrap() + 4;
        let mut s = query_a.to_string();
        let c = if &s[at..at + 1] == "A" { "B" } else { "A" };
        s.replace_range(at..at + 1, c);
        s
    };
    assert_eq!(verdict_label(&page(&app, &tampered).await), "无效");

    // Revoked: the licence's own genuine QR says 已吊销.
    let head = app.token("head").await;
    let (s, e) = post(
        &app,
        &head,
        &format!("/api/v1/licences/{}/status", lb.licence_id),
        json!({ "action": "revoke", "reason": "以欺骗手段取得许可" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let qr_b = tongban_app::licences::qr_url(&app.state, &lb)
        .await
        .unwrap();
    let html = page(&app, &qr_b[qr_b.find("/verify?").unwrap()..]).await;
    assert_eq!(verdict_label(&html), "已吊销", "{html}");
    assert!(html.contains("以欺骗手段取得许可"), "{html}");
    // The printed number (证照编号) is accepted as well as the identifier.
    let html = page(&app, &format!("/verify?id={}", lb.number)).await;
    assert_eq!(verdict_label(&html), "已吊销", "{html}");
    assert!(html.contains(&lb.number));
    app.stop().await;
}

on_each_backend!(qr_codes_bind_their_licence_and_show_the_live_status);
