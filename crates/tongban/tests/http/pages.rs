//! Issue #12 (pages, part A), the server rules behind the work flows, on both backends: the
//! material viewer (who may open a file, how it is served, every view recorded for the
//! applicant).

use super::workflow::{apply_online, scj_item};
use super::{get, page_text, App, PDF};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use reqwest::{Client, StatusCode};

async fn open(app: &App, token: &str, path: &str) -> reqwest::Response {
    Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn material_viewer_serves_handlers_and_records_each_view(app: App) {
    let (zs, clerk, approver, supervisor, admin) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("supervisor").await,
        app.token("admin").await,
    );
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "viewer-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let path = format!("/cases/{no}/materials/1");

    // The clerk (pre-review) and the handling department open the file in place.
    for t in [&clerk, &approver] {
        let r = open(&app, t, &path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(r.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        let disp = r.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(disp.starts_with("inline;"), "{disp}");
        assert!(disp.contains(&format!("{no}-1.pdf")), "{disp}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    }
    // The applicant opens their own; their reading is not a view of someone else's data.
    let r = open(&app, &zs, &path).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Others: another applicant is told it does not exist; staff without the capability
    // are refused, and so is a material that is not there.
    let lisi = {
        let (s, e) = super::post(
            &app,
            "",
            "/api/v1/applicants",
            serde_json::json!({ "kind": "person", "name": "李四", "id_number": tongban_core::ids::ResidentId::with_check_char("43130219900101123").unwrap().as_str(), "mobile": "13900000000", "username": "lisi", "password": "lisi2026ok" }),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        app.token_with("lisi", "lisi2026ok").await
    };
    assert_eq!(
        open(&app, &lisi, &path).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        open(&app, &supervisor, &path).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        open(&app, &admin, &path).await.status(),
        StatusCode::FORBIDDEN
    );
    for bad in ["0", "99", "abc"] {
        let r = open(&app, &clerk, &format!("/cases/{no}/materials/{bad}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "material {bad}");
    }

    // The applicant sees who opened their materials: the clerk and the approver, once each.
    let (c, _) = app.sign_in("zhangsan").await;
    let page = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    assert!(page.contains("材料查阅记录"), "{page}");
    let table = &page[page.find("id=\"material-views\"").expect("views table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr>").count(),
        3,
        "header + two views: {table}"
    );
    assert!(table.contains("综合窗口人员"), "{table}");
    assert!(table.contains("市市场监督管理局"), "{table}");
    assert!(page.contains(&format!("href=\"/cases/{no}/materials/1\"")));
    // The supervisor reads the case but gets no link to the file.
    let (c, _) = app.sign_in("supervisor").await;
    let page = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    assert!(
        !page.contains(&format!("/cases/{no}/materials/1")),
        "{page}"
    );

    // And every view is in the chained audit log.
    let (s, log) = get(&app, &admin, "/api/v1/audit?limit=200").await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let reads = log.to_string().matches("material.read").count();
    assert_eq!(reads, 2, "{log}");
    app.stop().await;
}
on_each_backend!(material_viewer_serves_handlers_and_records_each_view);

/// Posts one 补正 file for slot `slot` through the case page; returns the status.
async fn correct_on_page(app: &App, c: &Client, no: &str, slot: &str) -> StatusCode {
    let html = page_text(c, app.url(&format!("/cases/{no}"))).await;
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
            slot.to_string(),
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name(format!("{slot}.pdf")),
        );
    c.post(app.url(&format!("/cases/{no}/correction?_csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
}

async fn correction_is_answered_item_by_item(app: App) {
    let (zs, clerk) = (app.token("zhangsan").await, app.token("clerk").await);
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "slots-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let items = ["营业执照副本不清晰，请重新上传", "补充经营场所平面图"];
    let (s, v) = super::post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{no}/commands"),
        serde_json::json!({ "action": "request_correction", "items": items, "expected_version": case["version"] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The applicant's message carries the whole notice; the page has one slot per item.
    let (c, _) = app.sign_in("zhangsan").await;
    let mine = page_text(&c, app.url("/my/cases")).await;
    assert!(
        mine.contains("1. 营业执照副本不清晰，请重新上传；2. 补充经营场所平面图"),
        "{mine}"
    );
    let page = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    assert!(page.contains("name=\"item-0\"") && page.contains("name=\"item-1\""));

    // A file that answers no item is refused and nothing is stored.
    assert_eq!(
        correct_on_page(&app, &c, &no, "correction").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The second item first: kept, and the case still waits for the first.
    assert_eq!(
        correct_on_page(&app, &c, &no, "item-1").await,
        StatusCode::SEE_OTHER
    );
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(now["status"], "awaiting_correction", "{now}");
    assert_eq!(now["correction_outstanding"], serde_json::json!([items[0]]));
    let page = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    assert!(page.contains("name=\"item-0\"") && !page.contains("name=\"item-1\""));
    assert!(page.contains("id=\"slot-1\""), "answered slot shown");
    // The material is labelled by its item, not by the notice.
    assert!(page.contains("补充经营场所平面图（item-1.pdf）"), "{page}");
    assert!(!page.contains("补正材料："), "{page}");
    let mine = page_text(&c, app.url("/my/cases")).await;
    assert!(mine.contains("尚缺：1. 营业执照副本不清晰"), "{mine}");

    // The last item completes the correction: back to pre-review.
    assert_eq!(
        correct_on_page(&app, &c, &no, "item-0").await,
        StatusCode::SEE_OTHER
    );
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(now["status"], "submitted", "{now}");
    assert_eq!(now["correction_outstanding"], serde_json::json!([]));
    app.stop().await;
}
on_each_backend!(correction_is_answered_item_by_item);

/// The value of a hidden or text input named `name` in a page, if present.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

async fn window_intake_searches_checks_and_refuses_what_is_wrong(app: App) {
    let (clerk_api, admin) = (app.token("clerk").await, app.token("admin").await);
    let (code, required) = scj_item(&app).await;
    assert!(required.len() >= 2, "{required:?}");
    let (c, csrf) = app.sign_in("clerk").await;

    // The item is found by its name, not its 33-character code.
    let page = page_text(&c, app.url("/window?q=食品经营许可证核发")).await;
    assert!(
        page.contains(&format!("href=\"/window?item={code}\"")),
        "{page}"
    );
    let page = page_text(&c, app.url("/window?q=不存在的事项名称")).await;
    assert!(page.contains("id=\"item-hits-empty\""), "{page}");
    // The chosen item shows its material checklist.
    let page = page_text(&c, app.url(&format!("/window?item={code}"))).await;
    assert!(page.contains("name=\"recv-0\"") && page.contains("name=\"orig-0\""));
    assert!(page.contains("name=\"copies-0\"") && page.contains(&required[0]));

    let cases_before = {
        let (_, v) = get(&app, &admin, "/api/v1/cases?limit=200").await;
        v.to_string().matches("\"case_no\"").count()
    };
    let form = |name: &str, with_file: bool, kept: Option<String>| {
        let mut f = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("idempotency_key", format!("win-{name}-{with_file}"))
            .text("item", code.clone())
            .text("kind", "person")
            .text("id_number", "431302198503150024")
            .text("name", name.to_string())
            .text("mobile", "13800000000")
            .text("delivery", "post")
            .text("address", "娄星区长青中街1号")
            .text("recv-0", "on")
            .text("orig-0", "on")
            .text("copies-0", "2");
        if with_file {
            f = f.part(
                "file-0",
                reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("身份证.pdf"),
            );
        }
        if let Some(k) = kept {
            f = f.text("kept-0", k);
        }
        f
    };
    // An existing ID with another name is refused beside the name field; everything typed
    // and the uploaded scan are kept; no token in the address (the form posts it).
    let r = c
        .post(app.url("/window"))
        .multipart(form("张三丰", true, None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"name-error\""), "{page}");
    assert!(page.contains("姓名/名称与登记信息不一致"), "{page}");
    assert_eq!(
        input_value(&page, "id_number").as_deref(),
        Some("431302198503150024")
    );
    assert_eq!(input_value(&page, "name").as_deref(), Some("张三丰"));
    assert_eq!(
        input_value(&page, "address").as_deref(),
        Some("娄星区长青中街1号")
    );
    assert!(page.contains("value=\"post\" selected"), "delivery kept");
    assert!(page.contains("name=\"recv-0\" value=\"on\" aria-label") && page.contains("checked"));
    let kept = input_value(&page, "kept-0").expect("the scan is kept");
    assert!(kept.ends_with(":身份证.pdf"), "{kept}");
    assert!(page.contains("已上传：身份证.pdf"));
    let (_, v) = get(&app, &admin, "/api/v1/cases?limit=200").await;
    assert_eq!(v.to_string().matches("\"case_no\"").count(), cases_before);

    // Corrected, with the kept scan: received, one case.
    let r = c
        .post(app.url("/window"))
        .multipart(form("张三", false, Some(kept)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let no = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/cases/")
        .to_string();
    let (_, case) = get(&app, &clerk_api, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(case["status"], "submitted", "{case}");

    // 受理 with required materials missing is refused, naming them …
    let cmd = format!("/api/v1/cases/{no}/commands");
    let (s, e) = super::post(
        &app,
        &clerk_api,
        &cmd,
        serde_json::json!({ "action": "accept", "expected_version": case["version"] }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("缺少必要材料") && msg.contains(&required[1]),
        "{msg}"
    );
    assert!(
        !msg.contains(&required[0]),
        "the received one is not missing: {msg}"
    );
    // … and the case page says so and asks for 容缺 reason and deadline.
    let page = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    assert!(page.contains("id=\"missing-required\"") && page.contains("name=\"shortfall_reason\""));
    // 容缺受理 needs a reason and a deadline.
    let (s, e) = super::post(&app, &clerk_api, &cmd, serde_json::json!({ "action": "accept_with_shortfall", "reason": " ", "due_days": 5, "expected_version": case["version"] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = super::post(&app, &clerk_api, &cmd, serde_json::json!({ "action": "accept_with_shortfall", "reason": "申请人承诺补交", "due_days": 0, "expected_version": case["version"] })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // Through the page form: recorded, then accepted.
    let html = page_text(&c, app.url(&format!("/cases/{no}"))).await;
    let r = c
        .post(app.url(&format!("/cases/{no}/act")))
        .form(&[
            ("_csrf", super::csrf_of(&html).as_str()),
            ("version", case["version"].to_string().as_str()),
            ("action", "accept"),
            ("shortfall_reason", "申请人承诺三日内补交"),
            ("shortfall_days", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, case) = get(&app, &clerk_api, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(case["status"], "in_approval", "{case}");
    let (_, events) = get(&app, &clerk_api, &format!("/api/v1/cases/{no}/events")).await;
    let tolerated = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["kind"] == "shortfall_tolerated")
        .expect("容缺 recorded");
    assert_eq!(tolerated["event"]["missing"][0], required[1].as_str());
    assert_eq!(tolerated["event"]["reason"], "申请人承诺三日内补交");
    // 2026-03-02 (Mon) + 3 working days.
    assert_eq!(tolerated["event"]["due"], "2026-03-05");
    app.stop().await;
}
on_each_backend!(window_intake_searches_checks_and_refuses_what_is_wrong);

/// The index of the upload slot of material `name` on the apply page.
fn slot_of(html: &str, name: &str) -> usize {
    let at = html
        .find(&format!("\">{name} <span class=\"badge"))
        .unwrap_or_else(|| panic!("no slot for {name}"));
    let head = &html[..at];
    let from = head.rfind("<label for=\"file").unwrap() + "<label for=\"file".len();
    head[from..].parse().unwrap()
}

/// Finding 3 on the online form: after a refusal every value comes back (typed fields,
/// delivery choice, uploads kept server-side and shown as attached) and each error stands
/// beside its field; a kept file is the uploader's own only.
async fn apply_form_keeps_everything_and_marks_each_field(app: App) {
    let admin = app.token("admin").await;
    let (code, required) = scj_item(&app).await;
    assert!(required.len() >= 2, "{required:?}");
    let (c, csrf) = app.sign_in("zhangsan").await;
    let page = page_text(&c, app.url(&format!("/apply/{code}"))).await;
    let (a, b) = (slot_of(&page, &required[0]), slot_of(&page, &required[1]));
    let cases = || async {
        let (_, v) = get(&app, &admin, "/api/v1/cases?limit=200").await;
        v.to_string().matches("\"case_no\"").count()
    };
    let before = cases().await;
    let form =
        |address: &str, files: Vec<(usize, &'static [u8], &str)>, kept: Vec<(usize, String)>| {
            let mut f = reqwest::multipart::Form::new()
                .text("_csrf", csrf.clone())
                .text("idempotency_key", "apply-keeps-1")
                .text("delivery", "post")
                .text("address", address.to_string());
            for (i, bytes, name) in files {
                f = f.part(
                    format!("file{i}"),
                    reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
                );
            }
            for (i, k) in kept {
                f = f.text(format!("kept{i}"), k);
            }
            f
        };
    let send = |f: reqwest::multipart::Form| {
        c.post(app.url(&format!("/apply/{code}")))
            .multipart(f)
            .send()
    };

    // One good file, one that is not a PDF: the good one is kept, the bad one is marked.
    let r = send(form(
        "娄星区长青中街1号 张三 13800000000",
        vec![
            (a, PDF, "营业执照.pdf"),
            (b, b"not a pdf at all", "平面图.pdf"),
        ],
        vec![],
    ))
    .await
    .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let page = r.text().await.unwrap();
    let kept = input_value(&page, &format!("kept{a}")).expect("the good file is kept");
    assert!(kept.ends_with(":营业执照.pdf"), "{kept}");
    assert!(page.contains("已上传：营业执照.pdf"), "{page}");
    assert!(input_value(&page, &format!("kept{b}")).is_none());
    assert!(
        page.contains(&format!("aria-describedby=\"file{b}-error\""))
            && page.contains(&format!("id=\"file{b}-error\"")),
        "{page}"
    );
    assert!(page.contains("不是 PDF、JPG、PNG 或 OFD"), "{page}");
    assert!(
        page.contains("value=\"post\" checked"),
        "delivery kept: {page}"
    );
    assert_eq!(
        input_value(&page, "address").as_deref(),
        Some("娄星区长青中街1号 张三 13800000000")
    );
    assert_eq!(cases().await, before);

    // The missing material is marked beside its slot, the attached one is not.
    let r = send(form(
        "娄星区长青中街1号 张三 13800000000",
        vec![],
        vec![(a, kept.clone())],
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("缺少必要材料"), "{page}");
    assert!(page.contains(&format!("id=\"file{b}-error\"")), "{page}");
    assert!(!page.contains(&format!("id=\"file{a}-error\"")), "{page}");
    assert_eq!(input_value(&page, &format!("kept{a}")), Some(kept.clone()));

    // An incomplete address is marked beside the address field; both files kept.
    let mut files: Vec<(usize, &'static [u8], &str)> = vec![(b, PDF, "平面图.pdf")];
    for name in required.iter().skip(2) {
        files.push((slot_of(&page, name), PDF, "其他.pdf"));
    }
    let r = send(form("短", files, vec![(a, kept.clone())]))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"address-error\""), "{page}");
    assert!(
        page.contains("aria-describedby=\"address-error\""),
        "{page}"
    );
    assert!(page.contains("收件地址"), "{page}");
    let kept_b = input_value(&page, &format!("kept{b}")).expect("second file kept");
    assert_eq!(cases().await, before);

    // Another user cannot cite this user's kept file.
    let (other, other_csrf) = app.sign_in("enterprise").await;
    let mut f = reqwest::multipart::Form::new()
        .text("_csrf", other_csrf)
        .text("idempotency_key", "apply-keeps-other")
        .text("delivery", "electronic");
    f = f.text(format!("kept{a}"), kept.clone());
    f = f.text(format!("kept{b}"), kept_b.clone());
    let r = other
        .post(app.url(&format!("/apply/{code}")))
        .multipart(f)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(cases().await, before);

    // Corrected: the kept files make the application.
    let mut kept_all = vec![(a, kept), (b, kept_b)];
    let page_now = page;
    for name in required.iter().skip(2) {
        let i = slot_of(&page_now, name);
        kept_all.push((i, input_value(&page_now, &format!("kept{i}")).unwrap()));
    }
    let r = send(form("娄星区长青中街1号 张三 13800000000", vec![], kept_all))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/receipt"));
    // The receipt (finding 12): status, next step, department, phone, a QR of the case
    // page; free postage promised because the result goes by post.
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let receipt = page_text(&c, app.url(&to)).await;
    let no = to
        .trim_start_matches("/cases/")
        .trim_end_matches("/receipt");
    assert!(
        receipt.contains("id=\"receipt-status\">待预审"),
        "{receipt}"
    );
    assert!(
        receipt.contains("id=\"receipt-department\">市市场监督管理局"),
        "{receipt}"
    );
    assert!(
        receipt.contains("id=\"receipt-next\">等待预审"),
        "{receipt}"
    );
    assert!(receipt.contains("id=\"receipt-phone\">"), "{receipt}");
    assert!(
        receipt.contains("aria-label=\"办件查询二维码\""),
        "{receipt}"
    );
    assert!(receipt.contains("办理结果免费寄递"), "{receipt}");
    // Electronic delivery: no postage promised.
    let zs = app.token("zhangsan").await;
    let mut materials = vec![];
    for name in &required {
        let (_, f) = super::workflow::upload(&app, &zs, PDF.to_vec()).await;
        materials.push(serde_json::json!({ "name": name, "sha256": f["sha256"] }));
    }
    let (s, e) = super::post(
        &app,
        &zs,
        "/api/v1/cases",
        serde_json::json!({ "item": code, "delivery": "electronic", "materials": materials }),
    )
    .await;
    assert!(s.is_success(), "{e}");
    let receipt = page_text(
        &c,
        app.url(&format!(
            "/cases/{}/receipt",
            e["case_no"].as_str().unwrap()
        )),
    )
    .await;
    assert!(!receipt.contains("免费寄递"), "{receipt}");
    assert!(receipt.contains("电子送达"), "{receipt}");
    assert_ne!(e["case_no"].as_str(), Some(no));
    assert_eq!(cases().await, before + 2);
    app.stop().await;
}
on_each_backend!(apply_form_keeps_everything_and_marks_each_field);

/// Posts one action form of the case page as `c` (a signed-in browser session).
async fn act_on_page(
    app: &App,
    c: &Client,
    no: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = page_text(c, app.url(&format!("/cases/{no}"))).await;
    let csrf = super::csrf_of(&html);
    let mut form = vec![("_csrf", csrf.as_str()), ("version", version)];
    form.extend_from_slice(fields);
    c.post(app.url(&format!("/cases/{no}/act")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Finding 9: labelled, separated action forms; 承办 proposes and does not approve; an
/// irreversible action needs its confirmation (refused without it, nothing recorded); a
/// success notice after the redirect; a stale tab keeps the typed opinion and says what
/// changed; the licence of a finished case is a link.
async fn approval_pages_label_confirm_and_report(app: App) {
    let (zs, clerk_api, approver_api) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
    );
    let (code, required) = scj_item(&app).await;
    let (_, case) = apply_online(&app, &zs, &code, &required, "approval-pages-1").await;
    let no = case["case_no"].as_str().unwrap().to_string();
    let version = |v: &serde_json::Value| v["version"].to_string();

    // 受理 through the page: a success notice after the redirect.
    let (clerk, _) = app.sign_in("clerk").await;
    let r = act_on_page(&app, &clerk, &no, &version(&case), &[("action", "accept")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/cases/{no}?done=accept"));
    let page = page_text(&clerk, app.url(&to)).await;
    assert!(
        page.contains("role=\"status\" id=\"flash\">已受理"),
        "{page}"
    );
    // Without the flag, no notice.
    let page = page_text(&clerk, app.url(&format!("/cases/{no}"))).await;
    assert!(!page.contains("id=\"flash\""));

    // 承办: its own labelled section; it proposes, it does not approve.
    let (approver, _) = app.sign_in("approver").await;
    let page = page_text(&approver, app.url(&format!("/cases/{no}"))).await;
    assert!(
        page.contains("<h3 id=\"action-pass-h\">承办</h3>"),
        "{page}"
    );
    assert!(page.contains("for=\"pass-opinion\">承办意见"), "{page}");
    assert!(page.contains("提交审核（拟同意）"), "{page}");
    assert!(!page.contains(">审批通过<"), "{page}");

    // A stale tab: someone else moved the case on; the typed opinion comes back with what
    // changed.
    let (_, now) = get(&app, &approver_api, &format!("/api/v1/cases/{no}")).await;
    let stale = version(&now);
    let (s, _) = super::post(
        &app,
        &approver_api,
        &format!("/api/v1/cases/{no}/commands"),
        serde_json::json!({ "action": "pass", "opinion": "材料齐全", "expected_version": now["version"] }),
    )
    .await;
    assert!(s.is_success());
    let r = act_on_page(
        &app,
        &approver,
        &no,
        &stale,
        &[("action", "pass"), ("opinion", "经审查符合条件，拟同意")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("您打开页面后，此办件已有新的办理"), "{page}");
    assert!(
        page.contains("经审查符合条件，拟同意"),
        "typed opinion kept: {page}"
    );
    // The next step is 审核: its own wording.
    assert!(page.contains("for=\"pass-opinion\">审核意见"), "{page}");
    assert!(page.contains("for=\"return-opinion\">退回理由"), "{page}");

    // Withdrawal is irreversible: refused without the confirmation, nothing recorded …
    let (applicant, _) = app.sign_in("zhangsan").await;
    let (_, now) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    let r = act_on_page(
        &app,
        &applicant,
        &no,
        &version(&now),
        &[("action", "withdraw"), ("reason", "不再需要")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("不可撤销，请勾选确认"), "{page}");
    assert!(
        page.contains("value=\"不再需要\""),
        "the reason is kept: {page}"
    );
    let (_, after) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(after["version"], now["version"]);
    // … and done with it, with a notice.
    let r = act_on_page(
        &app,
        &applicant,
        &no,
        &version(&now),
        &[
            ("action", "withdraw"),
            ("reason", "不再需要"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let page = page_text(&applicant, app.url(&to)).await;
    assert!(page.contains("申请已撤回"), "{page}");
    let (_, after) = get(&app, &zs, &format!("/api/v1/cases/{no}")).await;
    assert_eq!(after["status"], "withdrawn", "{after}");
    // Someone who may not withdraw is refused as before (not asked to confirm).
    let (_, other) = apply_online(&app, &zs, &code, &required, "approval-pages-2").await;
    let other_no = other["case_no"].as_str().unwrap();
    let r = act_on_page(
        &app,
        &approver,
        other_no,
        &version(&other),
        &[("action", "withdraw"), ("reason", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // 不予受理 asks for a confirmation box, and is refused without it.
    let page = page_text(&clerk, app.url(&format!("/cases/{other_no}"))).await;
    assert!(
        page.contains("<h3 id=\"action-not_accept-h\">不予受理</h3>"),
        "{page}"
    );
    assert!(
        page.contains("id=\"not_accept-confirm\" name=\"confirm\" value=\"yes\" required"),
        "{page}"
    );
    let r = act_on_page(
        &app,
        &clerk,
        other_no,
        &version(&other),
        &[
            ("action", "not_accept"),
            ("category", "not_this_agency"),
            ("competent_agency", "娄星区市场监督管理局"),
            ("reasons", "由区级部门实施"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, still) = get(&app, &clerk_api, &format!("/api/v1/cases/{other_no}")).await;
    assert_eq!(still["status"], "submitted", "{still}");

    // A finished case links its licence.
    let done = super::licences::approved(&app, "食品经营许可证核发", None).await;
    let done_no = done["case_no"].as_str().unwrap();
    let licence = app
        .db()
        .store
        .licence_of_case(done_no)
        .await
        .unwrap()
        .unwrap();
    let (ent, _) = app.sign_in("enterprise").await;
    let page = page_text(&ent, app.url(&format!("/cases/{done_no}"))).await;
    assert!(
        page.contains(&format!(
            "<a href=\"/licences/{}\" id=\"licence-link\">",
            licence.licence_id
        )),
        "{page}"
    );
    app.stop().await;
}
on_each_backend!(approval_pages_label_confirm_and_report);

/// Finding 9, the inbox: only the cases the user can act on now, 督办 cases marked.
async fn inbox_lists_actionable_cases_and_marks_supervised(app: App) {
    let (zs, clerk, approver, sup) = (
        app.token("zhangsan").await,
        app.token("clerk").await,
        app.token("approver").await,
        app.token("supervisor").await,
    );
    let (code, required) = scj_item(&app).await;
    let mut nos = vec![];
    for key in ["inbox-1", "inbox-2"] {
        let (_, case) = apply_online(&app, &zs, &code, &required, key).await;
        let no = case["case_no"].as_str().unwrap().to_string();
        let (s, c) = super::post(
            &app,
            &clerk,
            &format!("/api/v1/cases/{no}/commands"),
            serde_json::json!({ "action": "accept", "expected_version": case["version"] }),
        )
        .await;
        assert!(s.is_success(), "{c}");
        nos.push((no, c));
    }
    // The second case moves on to 批准, the head's step: not the approver's work now.
    let (no2, mut c2) = nos[1].clone();
    for _ in 0..2 {
        let (s, c) = super::post(&app, &approver, &format!("/api/v1/cases/{no2}/commands"), serde_json::json!({ "action": "pass", "opinion": "同意", "expected_version": c2["version"] })).await;
        assert!(s.is_success(), "{c}");
        c2 = c;
    }
    // A fee on a free item is flagged; the supervisor orders it (督办).
    let (no1, c1) = nos[0].clone();
    let (s, c) = super::post(&app, &approver, &format!("/api/v1/cases/{no1}/commands"), serde_json::json!({ "action": "charge_fee", "amount": "50", "expected_version": c1["version"] })).await;
    assert!(s.is_success(), "{c}");
    let (_, recs) = get(
        &app,
        &sup,
        &format!("/api/v1/supervision/records?case_no={no1}"),
    )
    .await;
    let record_no = recs["records"][0]["record_no"]
        .as_str()
        .expect("a record")
        .to_string();
    let (s, order) = super::post(&app, &sup, "/api/v1/supervision/orders", serde_json::json!({ "record_no": record_no, "instruction": "退还多收费用并说明原因", "due": "2026-03-06" })).await;
    assert_eq!(s, StatusCode::CREATED, "{order}");

    let (c, _) = app.sign_in("approver").await;
    let page = page_text(&c, app.url("/inbox")).await;
    assert!(page.contains(&format!("href=\"/cases/{no1}\"")), "{page}");
    assert!(
        page.contains(&format!("id=\"supervised-{no1}\"")),
        "督办 marked: {page}"
    );
    assert!(
        !page.contains(&format!("href=\"/cases/{no2}\"")),
        "not the approver's step: {page}"
    );
    let (h, _) = app.sign_in("head").await;
    let page = page_text(&h, app.url("/inbox")).await;
    assert!(page.contains(&format!("href=\"/cases/{no2}\"")), "{page}");
    assert!(
        !page.contains(&format!("id=\"supervised-{no2}\"")),
        "{page}"
    );
    app.stop().await;
}
on_each_backend!(inbox_lists_actionable_cases_and_marks_supervised);

/// Finding 12: a catalog import reports every bad row, not only the first (API and page);
/// nothing is stored.
async fn catalog_import_reports_every_bad_row(app: App) {
    let token = app.token("admin").await;
    let count = || async { app.db().store.all_items().await.unwrap().len() };
    let before = count().await;
    let header = "事项名称,基本编码,实施编码,事项类型,行使层级,实施主体,实施主体编码,办件类型,法定办结时限,承诺办结时限,是否网办,网上办理深度,到办事现场次数";
    let good =
        "新办事项甲,X00000000001,NEW-1,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,1";
    let bad_visits =
        "新办事项乙,X00000000002,NEW-2,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,两次";
    let duplicate =
        "新办事项丙,X00000000003,NEW-1,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,1";
    let bad_visits_again =
        "新办事项丁,X00000000004,NEW-4,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,很多";
    let csv = format!("{header}\n{good}\n{bad_visits}\n{duplicate}\n{bad_visits_again}\n");
    let form = || {
        reqwest::multipart::Form::new().part(
            "items",
            reqwest::multipart::Part::bytes(csv.clone().into_bytes()).file_name("rows.csv"),
        )
    };
    let r = Client::new()
        .post(app.url("/api/v1/admin/catalog/import"))
        .bearer_auth(&token)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    let msg = e["message"].as_str().unwrap();
    for want in [
        "rows.csv 第3行",
        "rows.csv 第4行",
        "与第2行重复",
        "rows.csv 第5行",
    ] {
        assert!(msg.contains(want), "{want}: {msg}");
    }
    assert!(
        !msg.contains("第2行 「"),
        "the good row is not reported: {msg}"
    );
    let (admin, csrf) = app.sign_in("admin").await;
    let r = admin
        .post(app.url(&format!("/admin/import?_csrf={csrf}")))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    for want in ["rows.csv 第3行", "rows.csv 第4行", "rows.csv 第5行"] {
        assert!(page.contains(want), "{want}: {page}");
    }
    assert_eq!(count().await, before);
    app.stop().await;
}
on_each_backend!(catalog_import_reports_every_bad_row);

/// Finding 12: the admin item form offers coded fields as selects and checkboxes (no raw
/// "01" or "1^2^3"), keeps what was chosen after a refusal and puts the error beside the
/// field; a valid form saves the chosen codes.
async fn admin_item_form_uses_choices_and_marks_errors(app: App) {
    let (code, _) = scj_item(&app).await;
    let (c, csrf) = app.sign_in("admin").await;
    let page = page_text(&c, app.url(&format!("/admin/items/{code}/edit"))).await;
    assert!(
        page.contains("<option value=\"01\" selected>行政许可</option>"),
        "{page}"
    );
    assert!(page.contains("name=\"网上办理深度__1\""), "{page}");
    assert!(page.contains("<legend>网上办理深度"), "{page}");
    assert!(
        !page.contains("name=\"事项类型\" value=\""),
        "no raw code box: {page}"
    );
    let stored = app.db().store.item(&code).await.unwrap();
    let cols = stored.item.to_columns();
    let mut form: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone())];
    for (i, col) in tongban_core::catalog::ITEM_COLUMNS.iter().enumerate() {
        if *col != "网上办理深度" && *col != "服务对象" {
            form.push((col.to_string(), cols[i].clone()));
        }
    }
    form.push(("网上办理深度__present".into(), "1".into()));
    form.push(("服务对象__present".into(), "1".into()));
    for d in ["1", "2", "4"] {
        form.push((format!("网上办理深度__{d}"), "1".into()));
    }
    form.push(("服务对象__2".into(), "1".into()));
    let materials = {
        let at = page.find("name=\"materials\"").unwrap();
        let rest = &page[at..];
        let start = rest.find('>').unwrap() + 1;
        let end = rest.find("</textarea>").unwrap();
        rest[start..end]
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&amp;", "&")
    };
    form.push(("materials".into(), materials));
    // A bad count of trips: refused beside its field, choices kept.
    let mut bad = form.clone();
    for (k, v) in bad.iter_mut() {
        if k == "到办事现场次数" {
            *v = "两次".into();
        }
    }
    let r = c
        .post(app.url(&format!("/admin/items/{code}/edit")))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    let n = tongban_core::catalog::ITEM_COLUMNS
        .iter()
        .position(|c| *c == "到办事现场次数")
        .unwrap()
        + 1;
    assert!(
        page.contains(&format!("aria-describedby=\"f{n}-error\""))
            && page.contains(&format!("id=\"f{n}-error\"")),
        "{page}"
    );
    assert!(
        page.contains("name=\"网上办理深度__4\" value=\"1\" checked"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"网上办理深度__3\" value=\"1\" checked"),
        "{page}"
    );
    // Valid: saved as codes.
    let r = c
        .post(app.url(&format!("/admin/items/{code}/edit")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let now = app.db().store.item(&code).await.unwrap().item.to_columns();
    let depth = tongban_core::catalog::ITEM_COLUMNS
        .iter()
        .position(|c| *c == "网上办理深度")
        .unwrap();
    assert_eq!(now[depth], "1^2^4");
    app.stop().await;
}
on_each_backend!(admin_item_form_uses_choices_and_marks_errors);

/// Finding 12: messages are grouped per case with an unread count, the header shows the
/// total as a badge, opening a case's thread marks it read, and messages tied to no case (the
/// hall's appointment reminder) have a group of their own. Nobody else opens a thread.
async fn messages_grouped_per_case_with_unread_counts(app: App) {
    let zs = app.token("zhangsan").await;
    let clerk = app.token("clerk").await;
    let (code, required) = scj_item(&app).await;
    let (_, a) = apply_online(&app, &zs, &code, &required, "messages-a").await;
    let (_, b) = apply_online(&app, &zs, &code, &required, "messages-b").await;
    let (a_no, b_no) = (
        a["case_no"].as_str().unwrap().to_string(),
        b["case_no"].as_str().unwrap().to_string(),
    );
    // A second message on case A: the clerk asks for a correction.
    let (s, v) = super::post(
        &app,
        &clerk,
        &format!("/api/v1/cases/{a_no}/commands"),
        serde_json::json!({ "action": "request_correction", "items": ["补充经营场所平面图"], "expected_version": a["version"] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A message tied to no case: tomorrow's appointment reminder.
    let hall = super::hall::civic_hall(&app).await;
    let day = super::hall::slots(&app, &hall, &code, "2026-03-03", "2026-03-03").await;
    let (s, v) = super::post(
        &app,
        &zs,
        "/api/v1/appointments",
        serde_json::json!({ "slot": day[0]["id"], "item": code }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    tongban_app::hall::run_once(&app.state).await.unwrap();

    let (browser, _) = app.sign_in("zhangsan").await;
    let html = page_text(&browser, app.url("/my/messages")).await;
    let badge = |html: &str| -> Option<String> {
        let at = html.find("id=\"unread-badge\">")? + "id=\"unread-badge\">".len();
        Some(html[at..].split('<').next().unwrap().to_string())
    };
    assert_eq!(badge(&html).as_deref(), Some("4"), "{html}");
    // Three groups, the newest first: the reminder, then A (corrected after B was filed), B.
    let order: Vec<usize> = [
        "id=\"thread-other\"".to_string(),
        format!("id=\"thread-{a_no}\""),
        format!("id=\"thread-{b_no}\""),
    ]
    .iter()
    .map(|k| {
        html.find(k.as_str())
            .unwrap_or_else(|| panic!("{k}: {html}"))
    })
    .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "{html}");
    assert!(
        html.contains(&format!("id=\"unread-{a_no}\">2 条未读")),
        "{html}"
    );
    assert!(
        html.contains(&format!("id=\"unread-{b_no}\">1 条未读")),
        "{html}"
    );
    assert!(html.contains("id=\"unread-other\">1 条未读"), "{html}");
    assert!(html.contains("其他消息（与办件无关）") && html.contains("预约提醒"));
    assert!(html.contains(&format!("（办件 {a_no}）")), "{html}");
    // 我的办件 shows the same groups.
    let mine = page_text(&browser, app.url("/my/cases")).await;
    assert!(
        mine.contains(&format!("id=\"unread-{a_no}\">2 条未读")),
        "{mine}"
    );

    // Opening A's thread: both messages, oldest first, marked new this once; then read.
    let thread = page_text(&browser, app.url(&format!("/my/messages/{a_no}"))).await;
    let received = thread.find("申请已收到").expect("the receipt message");
    let correction = thread.find("补正").expect("the correction message");
    assert!(received < correction, "{thread}");
    assert_eq!(thread.matches("class=\"new\"").count(), 2, "{thread}");
    assert!(thread.contains(&format!("href=\"/cases/{a_no}\"")));
    assert_eq!(
        badge(&thread).as_deref(),
        Some("2"),
        "the badge counts what is left"
    );
    let again = page_text(&browser, app.url(&format!("/my/messages/{a_no}"))).await;
    assert_eq!(again.matches("class=\"new\"").count(), 0, "{again}");
    let html = page_text(&browser, app.url("/my/messages")).await;
    assert!(!html.contains(&format!("id=\"unread-{a_no}\"")), "{html}");
    assert!(
        html.contains(&format!("id=\"unread-{b_no}\">1 条未读")),
        "{html}"
    );
    // The group without a case.
    let other = page_text(&browser, app.url("/my/messages/other")).await;
    assert!(
        other.contains("预约提醒") && !other.contains("查看办件"),
        "{other}"
    );
    let html = page_text(&browser, app.url("/my/messages")).await;
    assert_eq!(badge(&html).as_deref(), Some("1"), "{html}");
    let users = app.db().store.users().await.unwrap();
    let zs_user = users.iter().find(|u| u.username == "zhangsan").unwrap();
    let stored = app.db().store.unread_messages_of_user(zs_user.id).await;
    assert_eq!(stored.unwrap(), 1);

    // Refusals: another applicant finds no such thread, and reading it changes nothing for
    // its owner; staff have no message box; an unknown thread is not found; anonymous
    // visitors sign in first.
    let other_applicant = app.token("enterprise").await;
    let r = open(&app, &other_applicant, &format!("/my/messages/{b_no}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = page_text(&browser, app.url("/my/messages")).await;
    assert!(
        html.contains(&format!("id=\"unread-{b_no}\">1 条未读")),
        "{html}"
    );
    let r = open(&app, &clerk, "/my/messages").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for bad in [
        "/my/messages/NOPE-1",
        "/my/messages/%E2%80%AE",
        "/my/messages/other%00",
    ] {
        let r = open(&app, &zs, bad).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    let r = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/my/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    // Staff and the API see no badge.
    let (staff, _) = app.sign_in("clerk").await;
    let html = page_text(&staff, app.url("/")).await;
    assert!(!html.contains("nav-messages"));
    app.stop().await;
}
on_each_backend!(messages_grouped_per_case_with_unread_counts);

/// Finding 7: the guide offers the item's application form blank and as a sample (样表):
/// PDFs generated from the item's form fields, with the embedded font; an item without an
/// application form offers none.
async fn guide_offers_blank_and_sample_forms(app: App) {
    let (code, _) = scj_item(&app).await;
    let html = reqwest::get(app.url(&format!("/items/{code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for id in ["id=\"forms\"", "id=\"form-blank\"", "id=\"form-sample\""] {
        assert!(html.contains(id), "{id}: {html}");
    }
    assert!(html.contains(&format!("/items/{code}/forms/blank.pdf")));
    let dir = tempfile::tempdir().unwrap();
    let mut texts = vec![];
    for file in ["blank.pdf", "sample.pdf"] {
        let r = reqwest::get(app.url(&format!("/items/{code}/forms/{file}")))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/pdf");
        assert_eq!(r.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(r.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("inline"));
        let pdf = r.bytes().await.unwrap().to_vec();
        assert!(pdf.starts_with(b"%PDF-"));
        super::notices::assert_font_embedded(dir.path(), &format!("f-{file}"), &pdf);
        texts.push(super::notices::pdf_text(dir.path(), file, &pdf));
    }
    if let [Some(blank), Some(sample)] = &texts[..] {
        for t in [blank, sample] {
            for needle in [
                "食品经营许可证核发申请表",
                "申请事项：食品经营许可证核发",
                "实施机关：市市场监督管理局",
                "申请人（单位）名称",
                "经营项目",
                "电子送达",
                "邮政寄递（免费）",
                "窗口领取",
                "营业执照",
                "申请人声明",
            ] {
                assert!(t.contains(needle), "lacks {needle}: {t}");
            }
        }
        assert!(
            sample.contains("样表") && sample.contains("预包装食品销售"),
            "{sample}"
        );
        assert!(sample.contains("娄星市星辰科技有限公司"), "{sample}");
        assert!(
            !blank.contains("样表") && !blank.contains("预包装食品销售"),
            "{blank}"
        );
    }
    // Refusals: another file name, an unknown item, an item without an application form.
    let app_ref = &app;
    let status =
        |path: String| async move { reqwest::get(app_ref.url(&path)).await.unwrap().status() };
    assert_eq!(
        status(format!("/items/{code}/forms/other.pdf")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/items/{code}/forms/%00")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status("/items/11431900064277754A019999999999999/forms/blank.pdf".into()).await,
        StatusCode::NOT_FOUND
    );
    let items = app.db().store.all_items().await.unwrap();
    let formless = items
        .iter()
        .find(|i| tongban_core::guide::form_material(&i.materials).is_none())
        .expect("an item without an application form");
    let formless_code = formless.item.impl_code.clone();
    assert_eq!(
        status(format!("/items/{formless_code}/forms/sample.pdf")).await,
        StatusCode::NOT_FOUND
    );
    let html = reqwest::get(app.url(&format!("/items/{formless_code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("id=\"forms\""));
    app.stop().await;
}
on_each_backend!(guide_offers_blank_and_sample_forms);
