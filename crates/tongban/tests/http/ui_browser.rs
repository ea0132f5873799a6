//! Issue 12 part B in a real browser (headless Chromium over chromedriver): layout at the
//! desktop (1366×900) and phone (390×844) viewports, keyboard access, the 适老化 mode, and
//! the axe-core gate — zero serious or critical violations on the pages people use, in the
//! normal and the 适老化 mode.
//!
//! axe-core is the npm package, installed at test time into `target/axe` when it is not
//! there yet (or taken from `TONGBAN_AXE_JS`); the product never fetches it.

use super::browser::{browser_available, Driver};
use super::{post, App, PDF};
use reqwest::Client;
use serde_json::{json, Value};
use std::path::PathBuf;

const AXE_VERSION: &str = "4.14.1";

/// The axe-core script: `TONGBAN_AXE_JS`, or `target/axe/node_modules/axe-core/axe.min.js`,
/// installed with npm on first use.
fn axe_source() -> String {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Ok(p) = std::env::var("TONGBAN_AXE_JS") {
        return std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("TONGBAN_AXE_JS {p}: {e}"));
    }
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/axe"));
    let js = dir.join("node_modules/axe-core/axe.min.js");
    if !js.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(&dir)
            .arg(format!("axe-core@{AXE_VERSION}"))
            .output()
            .expect("npm is needed to install axe-core for the accessibility gate");
        assert!(
            out.status.success() && js.exists(),
            "npm install axe-core failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::read_to_string(&js).unwrap()
}

impl Driver {
    async fn script(&self, body: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": body, "args": [] })),
        )
        .await
    }

    async fn viewport(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
        // The window includes the browser's frame: adjust to the wanted inner width.
        let inner = self
            .script("return window.innerWidth")
            .await
            .as_u64()
            .unwrap() as u32;
        if inner != width {
            self.call(
                reqwest::Method::POST,
                "/window/rect",
                Some(json!({ "width": width + (width - inner.min(width)), "height": height })),
            )
            .await;
        }
    }

    async fn senior(&self, app: &App, on: bool) {
        self.goto(&app.url("/verify")).await;
        self.call(reqwest::Method::DELETE, "/cookie/tb_senior", None)
            .await;
        if on {
            self.call(
                reqwest::Method::POST,
                "/cookie",
                Some(json!({ "cookie": { "name": "tb_senior", "value": "1", "path": "/" } })),
            )
            .await;
        }
    }

    async fn press_tab(&self) {
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
                { "type": "keyDown", "value": "\u{E004}" }, { "type": "keyUp", "value": "\u{E004}" }
            ]}]})),
        )
        .await;
    }

    /// Runs axe-core on the page: the serious and critical violations, described.
    async fn axe(&self, axe: &str) -> Vec<String> {
        self.call(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({ "script": 60000 })),
        )
        .await;
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }} }})\
             .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
               .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let v = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({ "script": script, "args": [] })),
            )
            .await;
        v.as_array()
            .unwrap_or_else(|| panic!("axe did not answer: {v}"))
            .iter()
            .map(|s| s.as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Whether the page scrolls sideways (wider than the viewport).
    async fn overflow(&self) -> (u64, u64) {
        let v = self
            .script("return [document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
    }
}

/// A case of the enterprise applicant, submitted (and accepted when `accept`).
async fn submitted(app: &App, accept: bool) -> String {
    let ent = app.token("enterprise").await;
    let items = app.db().store.all_items().await.unwrap();
    let it = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发" && i.item.department == "市市场监督管理局")
        .unwrap();
    let mut materials = vec![];
    for m in it
        .materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
    {
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
    let (s, case) = post(
        app,
        &ent,
        "/api/v1/cases",
        json!({ "item": it.item.impl_code, "delivery": "electronic", "materials": materials,
                "details": { "经营项目": "预包装食品销售" } }),
    )
    .await;
    assert!(s.is_success(), "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    if accept {
        let t = app.token("clerk").await;
        let (s, c) = post(
            app,
            &t,
            &format!("/api/v1/cases/{no}/commands"),
            json!({ "expected_version": case["version"], "action": "accept" }),
        )
        .await;
        assert!(s.is_success(), "{c}");
    }
    no
}

/// The pages of the gate: (who signs in, path).
async fn gate_pages(app: &App) -> Vec<(Option<&'static str>, String)> {
    let items = app.db().store.all_items().await.unwrap();
    let code = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发")
        .unwrap()
        .item
        .impl_code
        .clone();
    let no = submitted(app, true).await;
    let done = super::licences::approved(app, "食品经营许可证核发", None).await;
    let licence = app
        .db()
        .store
        .licence_of_case(done["case_no"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    vec![
        (None, "/".to_string()),
        (None, format!("/items/{code}")),
        (None, "/items?q=食品".to_string()),
        (None, format!("/verify?id={}", licence.number)),
        (None, "/login".to_string()),
        (None, "/stats".to_string()),
        (None, "/ratings".to_string()),
        (Some("enterprise"), format!("/apply/{code}")),
        (Some("enterprise"), "/my/cases".to_string()),
        (Some("enterprise"), "/my/messages".to_string()),
        (Some("enterprise"), format!("/my/messages/{no}")),
        (Some("enterprise"), format!("/cases/{no}")),
        (Some("approver"), format!("/cases/{no}")),
        (Some("clerk"), format!("/window?item={code}")),
        (Some("approver"), "/inbox".to_string()),
    ]
}

async fn axe_finds_no_serious_violations_in_either_mode(app: App) {
    if !browser_available() {
        return;
    }
    let axe = axe_source();
    let pages = gate_pages(&app).await;
    let d = Driver::start().await;
    d.viewport(1366, 900).await;
    let mut failures = vec![];
    let mut who_now: Option<&str> = Some("-");
    for senior in [false, true] {
        for (who, path) in &pages {
            if *who != who_now {
                match who {
                    Some(u) => d.sign_in(&app, u).await,
                    None => {
                        d.call(reqwest::Method::DELETE, "/cookie", None).await;
                    }
                }
                who_now = *who;
            }
            d.senior(&app, senior).await;
            d.goto(&app.url(path)).await;
            let class = d.script("return document.documentElement.className").await;
            assert_eq!(class == "senior", senior, "{path}: mode");
            for v in d.axe(&axe).await {
                failures.push(format!(
                    "{}{path} ({}): {v}",
                    if senior { "[适老化] " } else { "" },
                    who.unwrap_or("anonymous")
                ));
            }
        }
    }
    d.quit().await;
    assert!(
        failures.is_empty(),
        "axe-core: serious or critical violations:\n{}",
        failures.join("\n")
    );
    app.stop().await;
}

on_each_backend!(axe_finds_no_serious_violations_in_either_mode);

/// Finding 10 (and 5): no page scrolls sideways at 390 px, the menu keeps 证照核验 on
/// screen, result tables collapse into labelled rows, long identifiers wrap.
async fn phone_and_desktop_layouts_fit_the_screen(app: App) {
    if !browser_available() {
        return;
    }
    let pages = gate_pages(&app).await;
    let d = Driver::start().await;
    let mut who_now: Option<&str> = Some("-");
    let mut problems = vec![];
    for (w, h) in [(390, 844), (1366, 900)] {
        d.viewport(w, h).await;
        for senior in [false, true] {
            for (who, path) in &pages {
                if *who != who_now {
                    match who {
                        Some(u) => d.sign_in(&app, u).await,
                        None => {
                            d.call(reqwest::Method::DELETE, "/cookie", None).await;
                        }
                    }
                    who_now = *who;
                }
                d.senior(&app, senior).await;
                d.goto(&app.url(path)).await;
                let (scroll, inner) = d.overflow().await;
                if scroll > inner {
                    problems.push(format!(
                        "{w}px{} {path}: page is {scroll}px wide",
                        if senior { " 适老化" } else { "" }
                    ));
                }
                // Every menu entry, 证照核验 included, is within the screen.
                let off = d
                    .script(
                        "return [...document.querySelectorAll('header.site nav a')]\
                         .filter(a => { const r = a.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < 0; })\
                         .map(a => a.textContent)",
                    )
                    .await;
                if off.as_array().is_some_and(|a| !a.is_empty()) {
                    problems.push(format!("{w}px {path}: menu entries off screen: {off}"));
                }
                // No form control sticks out of its card or the screen (cut off inside a
                // scrolling table or a fieldset).
                let cut = d
                    .script(
                        "return [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button')]\
                         .filter(e => { const r = e.getBoundingClientRect(); if (r.width === 0) return false;\
                           const card = (e.closest('.card') || document.body).getBoundingClientRect();\
                           let right = Math.min(window.innerWidth, card.right), left = Math.max(0, card.left);\
                           for (let p = e.parentElement; p; p = p.parentElement) {\
                             if (getComputedStyle(p).overflowX !== 'visible') { const c = p.getBoundingClientRect(); right = Math.min(right, c.right); left = Math.max(left, c.left); } }\
                           return r.right > right + 1 || r.left < left - 1; })\
                         .map(e => e.name || e.id || e.textContent)",
                    )
                    .await;
                if cut.as_array().is_some_and(|a| !a.is_empty()) {
                    problems.push(format!(
                        "{w}px{} {path}: controls cut off: {cut}",
                        if senior { " 适老化" } else { "" }
                    ));
                }
            }
        }
    }
    // On the phone, search results are one labelled block per item, not a wide table.
    d.viewport(390, 844).await;
    d.senior(&app, false).await;
    d.goto(&app.url("/items?q=食品")).await;
    let display = d
        .script("return getComputedStyle(document.querySelector('table.data.collapse tbody tr')).display")
        .await;
    assert_eq!(display, "block", "result rows collapse on the phone");
    let label = d
        .script("return getComputedStyle(document.querySelector('table.data.collapse td[data-label]'), '::before').content")
        .await;
    assert!(label.as_str().unwrap_or("").contains("事项名称"), "{label}");
    d.viewport(1366, 900).await;
    let display = d
        .script("return getComputedStyle(document.querySelector('table.data.collapse tbody tr')).display")
        .await;
    assert_eq!(display, "table-row", "a table on the desktop");
    d.quit().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    app.stop().await;
}

on_each_backend!(phone_and_desktop_layouts_fit_the_screen);

/// Findings 8 and 11: radio buttons sit left of their text; a skip link is the first tab
/// stop; the header's focus ring is visible; sign-in puts the cursor in the user name; the
/// menu marks the current page.
async fn keyboard_focus_and_choices_are_usable(app: App) {
    if !browser_available() {
        return;
    }
    let items = app.db().store.all_items().await.unwrap();
    let code = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发")
        .unwrap()
        .item
        .impl_code
        .clone();
    let d = Driver::start().await;
    for (w, h) in [(1366, 900), (390, 844)] {
        d.viewport(w, h).await;
        // Login: the cursor is in the user name field.
        d.call(reqwest::Method::DELETE, "/cookie", None).await;
        d.goto(&app.url("/login")).await;
        assert_eq!(
            d.script("return document.activeElement.id").await,
            "username"
        );
        // The skip link is the first stop, visible when focused, and leads to the content.
        d.goto(&app.url("/items")).await;
        d.press_tab().await;
        let v = d
            .script(
                "const a = document.activeElement; const r = a.getBoundingClientRect();\
                 return [a.className, r.top >= 0 && r.height > 0, getComputedStyle(a).outlineStyle]",
            )
            .await;
        assert_eq!(v[0], "skip-link", "{w}px: first tab stop");
        assert_eq!(v[1], true, "{w}px: skip link visible when focused");
        // The header's focus ring: solid, yellow, 3px — visible on red and blue.
        d.press_tab().await;
        let v = d
            .script(
                "const a = document.activeElement; const s = getComputedStyle(a);\
                 return [a.closest('header') !== null, s.outlineStyle, s.outlineColor, s.outlineWidth]",
            )
            .await;
        assert_eq!(v[0], true, "{v}");
        assert_eq!(v[1], "solid", "{v}");
        assert_eq!(v[2], "rgb(255, 216, 77)", "{v}");
        assert_eq!(v[3], "3px", "{v}");
        // The menu marks the page shown.
        let current = d
            .script("return [...document.querySelectorAll('nav a[aria-current=page]')].map(a => a.getAttribute('href'))")
            .await;
        assert_eq!(current, json!(["/items"]));

        // Radio buttons: left of their text, on the same line.
        d.sign_in(&app, "enterprise").await;
        d.goto(&app.url(&format!("/apply/{code}"))).await;
        let v = d
            .script(
                "return [...document.querySelectorAll('input[type=radio][name=delivery]')].map(i => {\
                   const l = i.closest('label'); const ir = i.getBoundingClientRect(); const lr = l.getBoundingClientRect();\
                   const lh = parseFloat(getComputedStyle(l).lineHeight);\
                   return [ir.left - lr.left, lr.height <= lh * 1.6, ir.right <= lr.left + lr.width / 2, ir.top - lr.top]; })",
            )
            .await;
        let rows = v.as_array().unwrap();
        assert!(rows.len() >= 2, "{v}");
        for r in rows {
            assert!(
                r[0].as_f64().unwrap() < 4.0,
                "{w}px: radio at the left edge: {v}"
            );
            assert_eq!(r[1], true, "{w}px: radio and text on one line: {v}");
            assert_eq!(r[2], true, "{w}px: radio before its text: {v}");
        }
    }
    d.quit().await;
    app.stop().await;
}

on_each_backend!(keyboard_focus_and_choices_are_usable);

/// The 适老化 switch: a plain form (no JavaScript), kept in a cookie: large type, line
/// spacing ≥ 1.3, no gradient; reachable from the keyboard; switched off the same way.
async fn senior_mode_switch_in_the_browser(app: App) {
    if !browser_available() {
        return;
    }
    let d = Driver::start().await;
    d.viewport(1366, 900).await;
    d.call(reqwest::Method::DELETE, "/cookie", None).await;
    d.goto(&app.url("/items?q=食品")).await;
    let normal = d
        .script("return parseFloat(getComputedStyle(document.body).fontSize)")
        .await
        .as_f64()
        .unwrap();
    d.click("#senior-toggle").await;
    d.wait_text("#senior-toggle", "退出适老化").await;
    // Back on the same page, large and high-contrast.
    let v = d
        .script(
            "const b = getComputedStyle(document.body); const h = getComputedStyle(document.querySelector('header.site'));\
             return [location.pathname, document.documentElement.className, parseFloat(b.fontSize), parseFloat(b.lineHeight) / parseFloat(b.fontSize), h.backgroundImage]",
        )
        .await;
    assert_eq!(v[0], "/items", "{v}");
    assert_eq!(v[1], "senior", "{v}");
    let size = v[2].as_f64().unwrap();
    assert!(size >= 20.0 && size > normal, "{v}");
    assert!(v[3].as_f64().unwrap() >= 1.3, "{v}");
    assert_eq!(v[4], "none", "no decorative gradient: {v}");
    // Kept across pages.
    d.goto(&app.url("/verify")).await;
    assert_eq!(
        d.script("return document.documentElement.className").await,
        "senior"
    );
    // Switched off with the keyboard: the switch is a button in the tab order.
    let tabbable = d
        .script("const b = document.getElementById('senior-toggle'); return b.tabIndex >= 0 && !b.disabled")
        .await;
    assert_eq!(tabbable, true);
    d.click("#senior-toggle").await;
    d.wait_text("#senior-toggle", "（大字）").await;
    assert_eq!(
        d.script("return document.documentElement.className").await,
        ""
    );
    d.quit().await;
    app.stop().await;
}

on_each_backend!(senior_mode_switch_in_the_browser);

/// Finding 7/12: the guide prints from its first page (no blank page first); its sections
/// are there on paper too.
async fn guide_prints_without_a_blank_first_page(app: App) {
    if !browser_available() {
        return;
    }
    if !std::path::Path::new("/usr/bin/pdftotext").exists() {
        assert!(
            !std::env::var("TONGBAN_REQUIRE_POPPLER").is_ok_and(|v| v == "1"),
            "TONGBAN_REQUIRE_POPPLER=1 but pdftotext is missing"
        );
        return;
    }
    use base64::Engine;
    let items = app.db().store.all_items().await.unwrap();
    let food = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发")
        .unwrap();
    let d = Driver::start().await;
    d.viewport(1366, 900).await;
    d.goto(&app.url(&format!("/items/{}", food.item.impl_code)))
        .await;
    let pdf = d
        .call(
            reqwest::Method::POST,
            "/print",
            Some(json!({ "pageRanges": [] })),
        )
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(pdf.as_str().expect("a printed PDF"))
        .unwrap();
    d.quit().await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("guide.pdf");
    std::fs::write(&f, &bytes).unwrap();
    let page = |n: u32| {
        let out = std::process::Command::new("/usr/bin/pdftotext")
            .args(["-f", &n.to_string(), "-l", &n.to_string()])
            .arg(&f)
            .arg("-")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let first = page(1);
    assert!(
        first.contains("实施主体") && first.contains("承诺办结时限"),
        "the first printed page carries the guide: {first:?}"
    );
    let all = (1..=6).map(page).collect::<String>();
    for s in ["办理流程", "送达方式", "常见问题", "监督投诉电话"] {
        assert!(all.contains(s), "printed guide lacks {s}");
    }
    app.stop().await;
}

on_each_backend!(guide_prints_without_a_blank_first_page);

/// Finding 3 on the online form, at the desktop and the phone viewport: a refused
/// application comes back with the uploaded file shown as attached, the delivery choice and
/// the address kept, and the error beside the missing material's field (described by it);
/// the page still fits and passes axe-core; the second attempt needs no re-upload.
async fn apply_form_keeps_values_after_an_error_in_the_browser(app: App) {
    if !browser_available() {
        return;
    }
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("营业执照.pdf");
    std::fs::write(&pdf, PDF).unwrap();
    let pdf = pdf.display().to_string();
    let items = app.db().store.all_items().await.unwrap();
    let it = items
        .iter()
        .find(|i| {
            i.item.name == "食品经营许可证核发"
                && i.item.department == "市市场监督管理局"
                && i.item.kind == tongban_core::catalog::CaseKind::Promised
        })
        .unwrap();
    let required: Vec<usize> = it
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| m.necessity == tongban_core::catalog::Necessity::Required)
        .map(|(i, _)| i)
        .collect();
    assert!(required.len() >= 2);
    let (first, missing) = (required[0], required[1]);
    let d = Driver::start().await;
    d.sign_in(&app, "zhangsan").await;
    for (w, h) in [(1366, 900), (390, 844)] {
        d.viewport(w, h).await;
        d.goto(&app.url(&format!("/apply/{}", it.item.impl_code)))
            .await;
        let id = d.find(&format!("#file{first}")).await;
        d.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": pdf })),
        )
        .await;
        d.click("input[name=delivery][value=post]").await;
        d.type_into("#address", "娄星区长青中街1号 张三 13807381234")
            .await;
        d.click("#submit-application").await;
        d.wait_text("#error", "缺少必要材料").await;
        let v = d
            .script(&format!(
                "const f = document.getElementById('file{missing}');\
                 const e = document.getElementById(f.getAttribute('aria-describedby'));\
                 const fr = f.getBoundingClientRect(); const er = e.getBoundingClientRect();\
                 return [e.textContent, f.getAttribute('aria-invalid'), Math.abs(er.top - fr.bottom) < 80,\
                   document.getElementById('kept-label{first}').textContent,\
                   document.querySelector('input[name=delivery][value=post]').checked,\
                   document.getElementById('address').value, location.search]"
            ))
            .await;
        assert!(v[0].as_str().unwrap().contains("必要材料"), "{w}px: {v}");
        assert_eq!(v[1], "true", "{w}px: {v}");
        assert_eq!(v[2], true, "{w}px: the error stands beside its field: {v}");
        assert!(
            v[3].as_str().unwrap().contains("营业执照.pdf"),
            "{w}px: {v}"
        );
        assert_eq!(v[4], true, "{w}px: delivery kept: {v}");
        assert_eq!(v[5], "娄星区长青中街1号 张三 13807381234", "{w}px: {v}");
        assert_eq!(v[6], "", "{w}px: nothing in the address bar: {v}");
        let (scroll, inner) = d.overflow().await;
        assert!(scroll <= inner, "{w}px: {scroll} > {inner}");
        let bad = d.axe(&axe).await;
        assert!(bad.is_empty(), "{w}px: {bad:?}");
    }
    // The second attempt uploads only what was missing.
    for i in required.iter().skip(1) {
        let id = d.find(&format!("#file{i}")).await;
        d.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": pdf })),
        )
        .await;
    }
    d.click("#submit-application").await;
    d.wait_text("h1", "申请回执").await;

    // Finding 12: the receipt (phone, then desktop) says where the case stands, who handles
    // it and how to call them, carries a QR of the case page, and promises free postage only
    // when the result goes by post.
    let ent = submitted(&app, false).await;
    let own = d.text("#receipt-no").await;
    for (w, h, no, postal) in [(390, 844, own.clone(), true), (1366, 900, ent, false)] {
        d.viewport(w, h).await;
        if !postal {
            d.sign_in(&app, "enterprise").await;
        }
        d.goto(&app.url(&format!("/cases/{no}/receipt"))).await;
        let v = d
            .script(
                "const t = id => document.getElementById(id).textContent.trim();                 return [t('receipt-status'), t('receipt-next'), t('receipt-department'), t('receipt-phone'),                   document.querySelector('#case-qr svg') !== null, document.body.innerText.includes('免费寄递')]",
            )
            .await;
        assert_eq!(v[0], "待预审", "{w}px: {v}");
        assert!(v[1].as_str().unwrap().contains("预审"), "{w}px: {v}");
        assert_eq!(v[2], "市市场监督管理局", "{w}px: {v}");
        assert!(!v[3].as_str().unwrap().is_empty(), "{w}px: {v}");
        assert_eq!(v[4], true, "{w}px: QR drawn: {v}");
        assert_eq!(v[5], postal, "{w}px: free postage only by post: {v}");
        let (scroll, inner) = d.overflow().await;
        assert!(scroll <= inner, "{w}px: {scroll} > {inner}");
        let bad = d.axe(&axe).await;
        assert!(bad.is_empty(), "{w}px: {bad:?}");
    }
    d.quit().await;
    app.stop().await;
}

on_each_backend!(apply_form_keeps_values_after_an_error_in_the_browser);

/// Finding 9 in the browser, desktop and phone: the approver's forms stand in their own
/// labelled sections and 承办 offers 提交审核（拟同意）, not 审批通过; withdrawal does
/// not happen on one click (the confirmation box is required, no JavaScript involved) and
/// a notice says it was done.
async fn approval_forms_confirm_and_report_in_the_browser(app: App) {
    if !browser_available() {
        return;
    }
    let axe = axe_source();
    let d = Driver::start().await;
    for (w, h) in [(1366, 900), (390, 844)] {
        d.viewport(w, h).await;
        let no = submitted(&app, true).await;
        d.sign_in(&app, "approver").await;
        d.goto(&app.url(&format!("/cases/{no}"))).await;
        let v = d
            .script(
                "const forms = [...document.querySelectorAll('#actions form')];\
                 return [forms.length, forms.every(f => { const s = f.closest('section.action-form');\
                   return s && s.querySelectorAll('form').length === 1 && s.querySelector('h3') &&\
                     s.getAttribute('aria-labelledby') === s.querySelector('h3').id; }),\
                   document.querySelector('#act-pass').textContent.trim(),\
                   document.querySelector('label[for=pass-opinion]').textContent.trim(),\
                   document.body.innerText.includes('审批通过')]",
            )
            .await;
        assert!(v[0].as_u64().unwrap() >= 2, "{w}px: {v}");
        assert_eq!(v[1], true, "{w}px: each form in its own section: {v}");
        assert_eq!(v[2], "提交审核（拟同意）", "{w}px: {v}");
        assert!(v[3].as_str().unwrap().starts_with("承办意见"), "{w}px: {v}");
        assert_eq!(v[4], false, "{w}px: 承办 does not approve: {v}");
        let (scroll, inner) = d.overflow().await;
        assert!(scroll <= inner, "{w}px: {scroll} > {inner}");
        let bad = d.axe(&axe).await;
        assert!(bad.is_empty(), "{w}px: {bad:?}");

        // The applicant withdraws: one click is not enough.
        d.sign_in(&app, "enterprise").await;
        d.goto(&app.url(&format!("/cases/{no}"))).await;
        d.type_into("#withdraw-reason", "不再需要").await;
        d.click("#act-withdraw").await;
        let v = d
            .script("return [location.search, document.getElementById('status').textContent, document.getElementById('withdraw-confirm').validity.valueMissing]")
            .await;
        assert_eq!(v[0], "", "{w}px: not sent: {v}");
        assert_eq!(v[2], true, "{w}px: the box is required: {v}");
        d.click("#withdraw-confirm").await;
        d.click("#act-withdraw").await;
        d.wait_text("#flash", "申请已撤回").await;
        assert_eq!(
            d.script("return document.getElementById('flash').getAttribute('role')")
                .await,
            "status"
        );
        d.wait_text("#status", "已撤件").await;
        let bad = d.axe(&axe).await;
        assert!(bad.is_empty(), "{w}px: {bad:?}");
    }
    d.quit().await;
    app.stop().await;
}

on_each_backend!(approval_forms_confirm_and_report_in_the_browser);

/// Finding 10: chart labels on /stats and /ratings are readable on a phone — every label of
/// the drawing shown renders at ≥ 11 CSS px (measured in the page: its font size times the
/// drawing's scale, and its box), no two labels overlap and the page does not scroll
/// sideways; at the desktop and the phone size, in both modes.
async fn chart_labels_are_readable_on_a_phone(app: App) {
    if !browser_available() {
        return;
    }
    // Some figures to draw: cases filed and decided.
    submitted(&app, true).await;
    super::licences::approved(&app, "食品经营许可证核发", None).await;
    let d = Driver::start().await;
    let mut problems = vec![];
    for (w, h) in [(390, 844), (1366, 900)] {
        d.viewport(w, h).await;
        for senior in [false, true] {
            for path in ["/stats", "/ratings"] {
                d.senior(&app, senior).await;
                d.goto(&app.url(path)).await;
                let v = d
                    .script(
                        "const out = { labels: 0, small: [], overlaps: [], charts: 0 };\
                         for (const svg of document.querySelectorAll('.chart svg')) {\
                           const box = svg.getBoundingClientRect();\
                           if (box.width === 0) continue;\
                           out.charts++;\
                           const scale = box.width / svg.viewBox.baseVal.width;\
                           const rects = [];\
                           for (const t of svg.querySelectorAll('text')) {\
                             const r = t.getBoundingClientRect();\
                             if (r.width === 0) continue;\
                             out.labels++;\
                             const px = parseFloat(getComputedStyle(t).fontSize) * scale;\
                             if (px < 11 || r.height < 11) out.small.push(t.textContent + ' ' + px.toFixed(1) + 'px/' + r.height.toFixed(1));\
                             if (r.right > box.right + 1 || r.left < box.left - 1) out.small.push(t.textContent + ' outside the chart');\
                             for (const [q, s] of rects) {\
                               if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1)\
                                 out.overlaps.push(s + ' × ' + t.textContent);\
                             }\
                             rects.push([r, t.textContent]);\
                           }\
                         }\
                         out.scroll = document.documentElement.scrollWidth - window.innerWidth;\
                         return out;",
                    )
                    .await;
                let at = format!("{w}px{} {path}", if senior { " 适老化" } else { "" });
                if v["charts"].as_u64().unwrap_or(0) == 0 || v["labels"].as_u64().unwrap_or(0) == 0
                {
                    problems.push(format!("{at}: no chart labels shown: {v}"));
                }
                if v["small"].as_array().is_some_and(|a| !a.is_empty()) {
                    problems.push(format!("{at}: labels below 11 px: {}", v["small"]));
                }
                if v["overlaps"].as_array().is_some_and(|a| !a.is_empty()) {
                    problems.push(format!("{at}: labels overlap: {}", v["overlaps"]));
                }
                if v["scroll"].as_i64().unwrap_or(0) > 0 {
                    problems.push(format!("{at}: page scrolls sideways by {}px", v["scroll"]));
                }
            }
        }
    }
    d.quit().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    app.stop().await;
}

on_each_backend!(chart_labels_are_readable_on_a_phone);

/// Finding 12 in the browser: the admin item form offers choices (checkboxes beside their
/// text), keeps them after a refusal and shows the error right under its field; the import
/// report lists every bad row. At the desktop and the phone size, in both modes, under the
/// axe-core gate and without sideways scrolling.
async fn admin_item_form_and_import_report_in_the_browser(app: App) {
    if !browser_available() {
        return;
    }
    let axe = axe_source();
    let items = app.db().store.all_items().await.unwrap();
    let code = items
        .iter()
        .find(|i| i.item.name == "食品经营许可证核发")
        .unwrap()
        .item
        .impl_code
        .clone();
    let trips = tongban_core::catalog::ITEM_COLUMNS
        .iter()
        .position(|c| *c == "到办事现场次数")
        .unwrap()
        + 1;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("rows.csv");
    let header = "事项名称,基本编码,实施编码,事项类型,行使层级,实施主体,实施主体编码,办件类型,法定办结时限,承诺办结时限,是否网办,网上办理深度,到办事现场次数";
    std::fs::write(
        &csv,
        format!(
            "{header}\n\
             新办事项甲,X00000000001,NEW-1,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,1\n\
             新办事项乙,X00000000002,NEW-2,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,两次\n\
             新办事项丙,X00000000003,NEW-1,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,1\n\
             新办事项丁,X00000000004,NEW-4,01,3,市测试局,91350100M000100Y43,承诺件,20,5,是,1^2,很多\n"
        ),
    )
    .unwrap();
    let before = items.len();
    let d = Driver::start().await;
    d.sign_in(&app, "admin").await;
    let mut problems = vec![];
    for (w, h) in [(1366, 900), (390, 844)] {
        d.viewport(w, h).await;
        for senior in [false, true] {
            let at = format!("{w}px{}", if senior { " 适老化" } else { "" });
            d.senior(&app, senior).await;
            // The item form: choices, not raw codes.
            d.goto(&app.url(&format!("/admin/items/{code}/edit"))).await;
            let boxes = d
                .script(
                    "return [...document.querySelectorAll('fieldset input[type=checkbox]')].map(i => {\
                       const l = i.closest('label'); const ir = i.getBoundingClientRect(); const lr = l.getBoundingClientRect();\
                       return [ir.left - lr.left < 4, ir.right <= lr.left + lr.width / 2, lr.height <= parseFloat(getComputedStyle(l).lineHeight) * 2.2]; })",
                )
                .await;
            let boxes = boxes.as_array().unwrap();
            assert!(boxes.len() >= 8, "{at}: {boxes:?}");
            for b in boxes {
                if b != &json!([true, true, true]) {
                    problems.push(format!("{at}: a checkbox is not left of its text: {b}"));
                }
            }
            for v in d.axe(&axe).await {
                problems.push(format!("{at} item form: {v}"));
            }
            // A bad count of trips, one choice changed: refused, the error under the field.
            let toggle = "input[name='网上办理深度__3']";
            let was = d
                .script(&format!(
                    "return document.querySelector(\"{toggle}\").checked"
                ))
                .await;
            d.click(toggle).await;
            d.type_into(&format!("#f{trips}"), "两次").await;
            d.click("form.stack button.primary[type=submit]").await;
            d.find(&format!("#f{trips}-error")).await;
            // (the page may still be loading when the error first appears)
            let mut v = Value::Null;
            for _ in 0..50 {
                v = d
                .script(&format!(
                    "const i = document.getElementById('f{trips}'); const e = document.getElementById('f{trips}-error');\
                     const ir = i.getBoundingClientRect(); const er = e.getBoundingClientRect();\
                     return [i.value, i.getAttribute('aria-invalid'), er.top - ir.bottom, er.height > 0, e.textContent,\
                             document.querySelector(\"{toggle}\").checked]"
                ))
                .await;
                if v.is_array() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(v[0], "两次", "{at}: the typed value is kept: {v}");
            assert_eq!(v[1], "true", "{at}: {v}");
            let gap = v[2].as_f64().unwrap();
            if !(v[3] == true && (-1.0..=24.0).contains(&gap)) {
                problems.push(format!("{at}: the error is not right under its field: {v}"));
            }
            assert_eq!(
                v[5],
                json!(!was.as_bool().unwrap()),
                "{at}: choice kept: {v}"
            );
            let (scroll, inner) = d.overflow().await;
            if scroll > inner {
                problems.push(format!("{at}: the item form is {scroll}px wide"));
            }
            for v in d.axe(&axe).await {
                problems.push(format!("{at} item form with an error: {v}"));
            }
            // The import report: every bad row, one per line.
            d.goto(&app.url("/admin/import")).await;
            let input = d.find("#items").await;
            d.call(
                reqwest::Method::POST,
                &format!("/element/{input}/value"),
                Some(json!({ "text": csv.to_str().unwrap() })),
            )
            .await;
            d.click("form.stack button.primary[type=submit]").await;
            d.wait_text("#import-error", "导入被拒绝").await;
            let rows = d
                .script("return [...document.querySelectorAll('#import-errors li')].map(l => l.textContent)")
                .await;
            let rows: Vec<&str> = rows
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            assert_eq!(rows.len(), 3, "{at}: {rows:?}");
            for (r, want) in rows
                .iter()
                .zip(["rows.csv 第3行", "rows.csv 第4行", "rows.csv 第5行"])
            {
                assert!(r.starts_with(want), "{at}: {r} ({want})");
            }
            assert!(rows[1].contains("与第2行重复"), "{rows:?}");
            let (scroll, inner) = d.overflow().await;
            if scroll > inner {
                problems.push(format!("{at}: the import report is {scroll}px wide"));
            }
            for v in d.axe(&axe).await {
                problems.push(format!("{at} import report: {v}"));
            }
        }
    }
    d.quit().await;
    assert_eq!(app.db().store.all_items().await.unwrap().len(), before);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    app.stop().await;
}

on_each_backend!(admin_item_form_and_import_report_in_the_browser);

/// Finding 12 in the browser: the 消息 menu entry carries the unread count, on screen at the
/// phone size too; the messages page groups them per case; opening a thread clears its count.
async fn message_badge_and_threads_in_the_browser(app: App) {
    if !browser_available() {
        return;
    }
    let no = submitted(&app, false).await;
    let d = Driver::start().await;
    d.sign_in(&app, "enterprise").await;
    for (w, h) in [(390, 844), (1366, 900)] {
        d.viewport(w, h).await;
        for senior in [false, true] {
            let at = format!("{w}px{}", if senior { " 适老化" } else { "" });
            d.senior(&app, senior).await;
            d.goto(&app.url("/my/cases")).await;
            let v = d
                .script(
                    "const b = document.getElementById('unread-badge'); if (!b) return null;\
                     const r = b.getBoundingClientRect(); const a = b.closest('a');\
                     return [a.textContent, r.left >= 0 && r.right <= window.innerWidth, r.height > 0, a.getAttribute('href')]",
                )
                .await;
            if w == 390 && !senior {
                // First pass: the case's receipt message is unread.
                assert_eq!(v[0], "消息1条未读", "{at}: {v}");
                assert_eq!(v[1], true, "{at}: badge on screen: {v}");
                assert_eq!(v[2], true, "{at}: {v}");
                assert_eq!(v[3], "/my/messages", "{at}: {v}");
                d.click("#nav-messages").await;
                d.wait_text("main h1", "消息").await;
                d.click(&format!("#thread-{no} a")).await;
                d.wait_text("main h1", &no).await;
                let new = d
                    .script("return document.querySelectorAll('#thread li.new').length")
                    .await;
                assert_eq!(new, 1, "{at}");
            } else {
                assert_eq!(v, Value::Null, "{at}: no badge once read");
            }
            let (scroll, inner) = d.overflow().await;
            assert!(scroll <= inner, "{at}: {scroll}px wide");
        }
    }
    d.quit().await;
    app.stop().await;
}

on_each_backend!(message_badge_and_threads_in_the_browser);
