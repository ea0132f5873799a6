//! Issue 12 part B: what a citizen finds (search by intent, pinyin and aliases), the
//! 适老化 mode, and the verify page's verdict — over HTTP; the layout and the axe-core gate
//! are in `ui_browser.rs`.

use super::{get, App};

async fn names(app: &App, q: &str) -> Vec<String> {
    let (status, v) = get(app, "", &format!("/api/v1/items?q={q}")).await;
    assert!(status.is_success(), "{q}: {status}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

async fn search_finds_what_people_mean(app: App) {
    // Intents from the synonym table lead with the item they mean.
    let v = names(&app, "开公司").await;
    assert_eq!(v.first().map(String::as_str), Some("企业设立登记"), "{v:?}");
    let v = names(&app, "办营业执照").await;
    assert_eq!(v.first().map(String::as_str), Some("企业设立登记"), "{v:?}");
    let v = names(&app, "办护照").await;
    assert_eq!(v.first().map(String::as_str), Some("普通护照签发"), "{v:?}");
    assert!(v.iter().any(|n| n == "普通护照换发"), "{v:?}");
    let v = names(&app, "生孩子").await;
    assert!(v.iter().any(|n| n.contains("出生")), "{v:?}");
    let v = names(&app, "食品许可").await;
    assert!(!v.is_empty() && v[0].contains("食品经营许可"), "{v:?}");
    // Full pinyin as well as initials.
    let v = names(&app, "shipin").await;
    assert!(v.iter().any(|n| n == "食品经营许可证核发"), "{v:?}");
    assert!(v.iter().take(5).all(|n| n.starts_with("食品")), "{v:?}");
    let v = names(&app, "spjyxkzhf").await;
    assert!(v.iter().any(|n| n == "食品经营许可证核发"), "{v:?}");
    // 营业执照: items named for it, then 企业设立登记 (alias), and only then the items that
    // merely ask for a licence among their materials.
    let v = names(&app, "营业执照").await;
    let setup = v
        .iter()
        .position(|n| n == "企业设立登记")
        .expect("企业设立登记 found");
    assert!(setup < 5, "{v:?}");
    let first_material_only = v
        .iter()
        .position(|n| !n.contains("营业执照") && !n.contains("设立登记"))
        .unwrap_or(v.len());
    assert!(first_material_only > setup, "{v:?}");
    // Nonsense still finds nothing, and the page says so.
    assert!(names(&app, "火星移民").await.is_empty());
    let html = reqwest::get(app.url("/items?q=开公司"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first = html.find("企业设立登记").expect("page lists 企业设立登记");
    assert!(
        html[..first].matches("/items/").count() <= 2,
        "企业设立登记 first on the page"
    );
    app.stop().await;
}

on_each_backend!(search_finds_what_people_mean);

/// The verdict line of the verify page (the text of `#verdict-label`).
fn verdict_label(html: &str) -> String {
    let at = html
        .find("id=\"verdict-label\">")
        .unwrap_or_else(|| panic!("no verdict on the page: {html}"));
    let rest = &html[at + "id=\"verdict-label\">".len()..];
    rest[..rest.find('<').unwrap()].to_string()
}

async fn licence_pdf(app: &App, id: &str) -> Vec<u8> {
    let (browser, _) = app.sign_in("enterprise").await;
    let r = browser
        .get(app.url(&format!("/licences/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    r.bytes().await.unwrap().to_vec()
}

/// 作废 in the PDF's content stream (glyph ids of the embedded font, in hex).
fn void_hex() -> String {
    tongban_core::licence::pdf::encoded("作废")
}

async fn cancelled_licence_is_zhuxiao_and_its_pdf_is_void(app: App) {
    let case = super::licences::approved(&app, "食品经营许可证核发", None).await;
    let l = app
        .db()
        .store
        .licence_of_case(case["case_no"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    // Valid: the verdict first, with holder, licence name and dates; the checks folded.
    let html = reqwest::get(app.url(&format!("/verify?id={}", l.number)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(verdict_label(&html), "有效");
    let verdict_at = html.find("id=\"verdict\"").unwrap();
    let details_at = html.find("<details").unwrap();
    assert!(
        verdict_at < details_at,
        "verdict before the technical checks"
    );
    for needle in ["食品经营许可证", "娄星市星辰科技有限公司", &l.issued_on] {
        assert!(
            html[verdict_at..details_at].contains(needle),
            "verdict lacks {needle}"
        );
    }
    let pdf = licence_pdf(&app, &l.licence_id).await;
    assert!(
        !String::from_utf8_lossy(&pdf).contains(&void_hex()),
        "a valid licence is not void"
    );

    // Cancelled at the holder's request: 已注销, never 已吊销 (a penalty).
    let head = app.token("head").await;
    let (s, e) = super::post(
        &app,
        &head,
        &format!("/api/v1/licences/{}/status", l.licence_id),
        serde_json::json!({ "action": "cancel", "reason": "持证人申请注销" }),
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK, "{e}");
    let html = reqwest::get(app.url(&format!("/verify?id={}", l.number)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(verdict_label(&html), "已注销", "{html}");
    assert!(!html.contains("已吊销"), "{html}");
    // Rendered after the change, the PDF carries the void mark and the status in words.
    let pdf = licence_pdf(&app, &l.licence_id).await;
    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains(&void_hex()),
        "a cancelled licence's PDF is marked 作废"
    );
    app.stop().await;
}

on_each_backend!(cancelled_licence_is_zhuxiao_and_its_pdf_is_void);

/// The 适老化 switch over HTTP: a form post sets the cookie and returns to the page; the
/// page is then rendered in the mode (no JavaScript); a foreign `next` goes home; the
/// switch needs the form's CSRF token.
async fn senior_mode_is_a_cookie_and_server_rendered(app: App) {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = super::page_text(&c, app.url("/items")).await;
    assert!(
        html.contains("<html lang=\"zh-CN\">"),
        "normal mode by default"
    );
    assert!(html.contains("class=\"skip-link\" href=\"#main\""));
    assert!(html.contains("id=\"main\""));
    assert!(html.contains("href=\"/items\" aria-current=\"page\""));
    assert!(!html.contains("href=\"/verify\" aria-current"));
    let csrf = super::csrf_of(&html);
    // Without the token: refused.
    let r = c
        .post(app.url("/senior"))
        .form(&[("mode", "on"), ("next", "/items")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/senior"))
        .form(&[("_csrf", csrf.as_str()), ("mode", "on"), ("next", "/items")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/items");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.starts_with("tb_senior=1;") && set.contains("Max-Age="),
        "{set}"
    );
    let html = super::page_text(&c, app.url("/verify")).await;
    assert!(
        html.contains("<html lang=\"zh-CN\" class=\"senior\">"),
        "senior mode kept"
    );
    assert!(html.contains("退出适老化模式"));
    // Only a local path is a place to return to.
    for evil in ["//evil.example/", "https://evil.example/", "/\\evil"] {
        let r = c
            .post(app.url("/senior"))
            .form(&[("_csrf", csrf.as_str()), ("mode", "on"), ("next", evil)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/", "{evil}");
    }
    // Off again.
    let r = c
        .post(app.url("/senior"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("mode", "off"),
            ("next", "/verify"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/verify");
    let html = super::page_text(&c, app.url("/verify")).await;
    assert!(html.contains("<html lang=\"zh-CN\">"));
    // The sign-in form puts the cursor in the user name.
    let html = super::page_text(&c, app.url("/login")).await;
    assert!(html.contains("id=\"username\"") && html.contains("autofocus"));
    app.stop().await;
}

on_each_backend!(senior_mode_is_a_cookie_and_server_rendered);

/// Finding 7: the guide in the national portal's sections, saying what the form does.
async fn guide_has_the_national_portal_sections(app: App) {
    let items = app.db().store.all_items().await.unwrap();
    let food = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发" && i.item.online)
        .unwrap();
    let html = reqwest::get(app.url(&format!("/items/{}", food.item.impl_code)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for section in [
        "id=\"materials\"",
        "id=\"process\"",
        "办理流程",
        "跑动说明",
        "结果名称与样本",
        "送达方式",
        "常见问题",
        "监督投诉电话",
        "12345",
    ] {
        assert!(html.contains(section), "guide lacks {section}");
    }
    // The delivery choices are the form's choices.
    for way in ["电子送达", "邮政寄递（免费）", "窗口领取"] {
        assert!(html.contains(way), "guide lacks {way}");
    }
    // Its licence is named as the result, with what it states.
    assert!(html.contains("食品经营许可证（电子证照"), "result name");
    // An online item does not tell people to bring everything for one trip.
    assert!(!html.contains("请带齐以下材料，只跑一次"));
    // A hall without windows is not said to accept the item at any window.
    let mut checked = 0;
    for it in items
        .iter()
        .filter(|i| i.item.in_comprehensive_hall && i.item.item_type.is_application())
    {
        let Some(hall) = it.hall_id else { continue };
        let windows = app.db().store.hall_windows(hall).await.unwrap();
        if windows
            .iter()
            .any(|w| !w.retired && w.kind == "comprehensive")
        {
            continue;
        }
        let html = reqwest::get(app.url(&format!("/items/{}", it.item.impl_code)))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("任一综合窗口"), "{}", it.item.name);
        checked += 1;
        if checked == 3 {
            break;
        }
    }
    app.stop().await;
}

on_each_backend!(guide_has_the_national_portal_sections);
