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
