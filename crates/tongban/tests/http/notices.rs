//! Written notices (文书) over HTTP on both backends: a case through 补正告知, 受理, 延期 and
//! 不予批准 has one notice each, whose PDF extracts the exact Chinese text and whose
//! detached signature verifies offline with `tongban document verify`.

use super::workflow::{apply_online, scj_item};
use super::{apps, get, page_text, post, App};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn act(app: &App, token: &str, case: &Value, body: Value) -> Value {
    let mut b = body;
    b["expected_version"] = case["version"].clone();
    let no = case["case_no"].as_str().unwrap();
    let (s, v) = post(app, token, &format!("/api/v1/cases/{no}/commands"), b).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn download(app: &App, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let r = Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

/// pdftotext's text of a PDF with all white space removed (lines wrap anywhere), or None
/// without poppler (a failure when TONGBAN_REQUIRE_POPPLER=1).
pub fn pdf_text(dir: &std::path::Path, name: &str, pdf: &[u8]) -> Option<String> {
    let have_poppler = std::path::Path::new("/usr/bin/pdftotext").exists();
    if std::env::var("TONGBAN_REQUIRE_POPPLER").is_ok_and(|v| v == "1") {
        assert!(
            have_poppler,
            "TONGBAN_REQUIRE_POPPLER=1 but pdftotext is missing"
        );
    }
    if !have_poppler {
        return None;
    }
    let f = dir.join(name);
    std::fs::write(&f, pdf).unwrap();
    let out = std::process::Command::new("/usr/bin/pdftotext")
        .arg(&f)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    Some(
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    )
}

/// Asserts with poppler's pdffonts that the PDF's only font is the embedded subset of Tongban
/// Sans SC (an OFL font), so no viewer substitutes one. Skipped without poppler, like
/// [`pdf_text`].
pub fn assert_font_embedded(dir: &std::path::Path, name: &str, pdf: &[u8]) {
    if !std::path::Path::new("/usr/bin/pdffonts").exists() {
        assert!(
            !std::env::var("TONGBAN_REQUIRE_POPPLER").is_ok_and(|v| v == "1"),
            "TONGBAN_REQUIRE_POPPLER=1 but pdffonts is missing"
        );
        return;
    }
    let f = dir.join(name);
    std::fs::write(&f, pdf).unwrap();
    let out = std::process::Command::new("/usr/bin/pdffonts")
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    // name, type, encoding, emb, sub, uni, object id, generation.
    let fonts: Vec<Vec<&str>> = table
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(fonts.len(), 1, "{table}");
    let f = &fonts[0];
    assert!(
        f[0].len() == 28 && f[0].ends_with("+TongbanSansSC-Regular"),
        "{table}"
    );
    assert_eq!(f[1..5], ["CID", "TrueType", "Identity-H", "yes"], "{table}");
    assert_eq!(
        f[5..7],
        ["yes", "yes"],
        "subset, with a ToUnicode map: {table}"
    );
}

#[tokio::test]
async fn a_case_has_its_written_notices_signed_and_verifiable_offline() {
    for app in apps().await {
        let (zs, clerk, approver, head) = (
            app.token("zhangsan").await,
            app.token("clerk").await,
            app.token("approver").await,
            app.token("head").await,
        );
        let (code, required) = scj_item(&app).await;
        let (s, case) = apply_online(&app, &zs, &code, &required, "notice-1").await;
        assert_eq!(s, StatusCode::CREATED, "{case}");
        let no = case["case_no"].as_str().unwrap().to_string();
        // No notice before anything is decided.
        let (s, list) = get(&app, &zs, &format!("/api/v1/cases/{no}/notices")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["notices"], json!([]));

        let case = act(&app, &clerk, &case, json!({ "action": "request_correction", "items": ["营业执照副本不清晰，请重新上传", "补充经营场所平面图"] })).await;
        let (s, f) = {
            let r = Client::new()
                .post(app.url("/api/v1/files"))
                .bearer_auth(&zs)
                .header("content-type", "application/octet-stream")
                .body(super::PDF.to_vec())
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        };
        assert_eq!(s, StatusCode::CREATED);
        let case = act(&app, &zs, &case, json!({ "action": "submit_correction", "materials": [{ "name": "营业执照副本不清晰，请重新上传", "sha256": f["sha256"] }, { "name": "补充经营场所平面图", "sha256": f["sha256"] }] })).await;
        let case = act(&app, &clerk, &case, json!({ "action": "accept" })).await;
        let case = act(
            &app,
            &head,
            &case,
            json!({ "action": "extend", "days": 5, "reason": "需现场核查经营场所" }),
        )
        .await;
        let case = act(
            &app,
            &approver,
            &case,
            json!({ "action": "pass", "opinion": "材料齐全" }),
        )
        .await;
        let case = act(
            &app,
            &approver,
            &case,
            json!({ "action": "pass", "opinion": "不符合条件" }),
        )
        .await;
        let case = act(
            &app,
            &head,
            &case,
            json!({ "action": "refuse", "reasons": "经营场所与食品加工区域未有效分隔" }),
        )
        .await;
        assert_eq!(case["outcome"], "refused", "{case}");

        // The list, in ledger order, for the applicant and the department.
        let (s, list) = get(&app, &zs, &format!("/api/v1/cases/{no}/notices")).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let notices = list["notices"].as_array().unwrap().clone();
        let titles: Vec<&str> = notices
            .iter()
            .map(|n| n["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            vec![
                "补正材料通知书",
                "受理通知书",
                "延期通知书",
                "不予行政许可决定书"
            ]
        );
        let (s, staff_list) = get(&app, &clerk, &format!("/api/v1/cases/{no}/notices")).await;
        assert_eq!(
            (s, &staff_list["notices"]),
            (StatusCode::OK, &list["notices"])
        );
        // Someone else's case does not exist for another applicant.
        let other = app.token("enterprise").await;
        let (s, _) = get(&app, &other, &format!("/api/v1/cases/{no}/notices")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = download(&app, &other, &format!("/cases/{no}/notices/1.pdf")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = download(&app, &zs, &format!("/cases/{no}/notices/9.pdf")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // The case page lists them with their links.
        let (browser, _) = app.sign_in("zhangsan").await;
        let html = page_text(&browser, app.url(&format!("/cases/{no}"))).await;
        assert!(html.contains("<h2>文书</h2>"), "{html}");
        for n in 1..=4 {
            assert!(html.contains(&format!("/cases/{no}/notices/{n}.pdf")));
            assert!(html.contains(&format!("/cases/{no}/notices/{n}.sig.json")));
        }

        let dir = tempfile::tempdir().unwrap();
        let (_, keys) = get(&app, "", "/api/v1/licences/keys").await;
        let keys_file = dir.path().join("keys.json");
        std::fs::write(&keys_file, serde_json::to_vec_pretty(&keys).unwrap()).unwrap();
        let rights: String = tongban_core::messages::remedy_rights()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for (i, n) in notices.iter().enumerate() {
            let k = i + 1;
            let number = n["number"].as_str().unwrap();
            assert_eq!(n["agency"], "市市场监督管理局");
            assert_eq!(n["case_no"], no.as_str());
            let (s, pdf) = download(&app, &zs, n["pdf"].as_str().unwrap()).await;
            assert_eq!(s, StatusCode::OK);
            assert!(pdf.starts_with(b"%PDF-"));
            // The same notice renders to the same bytes on every download.
            assert_eq!(
                download(&app, &clerk, n["pdf"].as_str().unwrap()).await.1,
                pdf
            );
            let (s, sig) = download(&app, &zs, n["signature"].as_str().unwrap()).await;
            assert_eq!(s, StatusCode::OK);
            let sig_json: Value = serde_json::from_slice(&sig).unwrap();
            assert_eq!(sig_json["notice"]["number"], number);
            assert_eq!(sig_json["proofs"].as_array().unwrap().len(), 2);
            let pdf_file = dir.path().join(format!("{k}.pdf"));
            std::fs::write(&pdf_file, &pdf).unwrap();
            std::fs::write(dir.path().join(format!("{k}.sig.json")), &sig).unwrap();

            assert_font_embedded(dir.path(), &format!("fonts-{k}.pdf"), &pdf);
            if let Some(text) = pdf_text(dir.path(), &format!("text-{k}.pdf"), &pdf) {
                for needle in [
                    n["title"].as_str().unwrap(),
                    n["item"].as_str().unwrap(),
                    number,
                    "市市场监督管理局",
                    "张三：",
                    no.as_str(),
                ] {
                    assert!(text.contains(needle), "notice {k} lacks {needle}: {text}");
                }
                let refusal = n["kind"] == "refusal";
                assert_eq!(text.contains(&rights), refusal, "notice {k}: {text}");
                match n["kind"].as_str().unwrap() {
                    "correction" => assert!(
                        text.contains("1.营业执照副本不清晰，请重新上传")
                            && text.contains("2.补充经营场所平面图"),
                        "{text}"
                    ),
                    "extension" => assert!(
                        text.contains("因需现场核查经营场所")
                            && text.contains("审查期限延长5个工作日"),
                        "{text}"
                    ),
                    "refusal" => assert!(
                        text.contains("理由：经营场所与食品加工区域未有效分隔")
                            && text.contains("第三十八条"),
                        "{text}"
                    ),
                    _ => {}
                }
            }

            // Offline: the command needs the files only.
            let run = |args: &[&std::ffi::OsStr]| {
                std::process::Command::new(env!("CARGO_BIN_EXE_tongban"))
                    .args(args)
                    .current_dir(dir.path())
                    .output()
                    .unwrap()
            };
            let out = run(&[
                "document".as_ref(),
                "verify".as_ref(),
                pdf_file.as_os_str(),
                "--keys".as_ref(),
                keys_file.as_os_str(),
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{text}");
            for check in ["document_sha256", "signature_eddsa", "signature_sm2"] {
                assert!(text.contains(&format!("PASS  {check}")), "{text}");
            }
            // One byte changed: the digest check fails and so does the command.
            let mut bad = pdf.clone();
            let at = bad.len() / 2;
            bad[at] ^= 0x01;
            let bad_file = dir.path().join(format!("bad-{k}.pdf"));
            std::fs::write(&bad_file, &bad).unwrap();
            let out = run(&[
                "document".as_ref(),
                "verify".as_ref(),
                bad_file.as_os_str(),
                "--keys".as_ref(),
                keys_file.as_os_str(),
                "--sig".as_ref(),
                dir.path().join(format!("{k}.sig.json")).as_os_str(),
            ]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success(), "{text}");
            assert!(text.contains("FAIL  document_sha256"), "{text}");
        }
        app.stop().await;
    }
}
