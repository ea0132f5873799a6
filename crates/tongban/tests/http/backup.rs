//! Issue #13 (16): backup of a running SQLite platform, restore, verify; a missing object
//! and a truncated ledger are caught by verification.

use super::{apps, post, App, PDF};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tongban_store::ledger::LedgerProblem;
use tongban_store::Backend;

async fn sql(url: &str, statement: &str) {
    use tongban_store::sqlx::Connection;
    tongban_store::sqlx::any::install_default_drivers();
    let mut conn = tongban_store::sqlx::AnyConnection::connect(&format!("{url}?mode=rw"))
        .await
        .unwrap();
    tongban_store::sqlx::query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// zhangsan applies for an item with every required material uploaded.
async fn apply_with_uploads(app: &App, token: &str, n: usize) -> Value {
    let items = app.db().store.all_items().await.unwrap();
    let item = items
        .iter()
        .find(|i| {
            i.item.item_type.is_application()
                && i.materials
                    .iter()
                    .any(|m| m.necessity == tongban_core::catalog::Necessity::Required)
        })
        .unwrap();
    let mut materials = vec![];
    for (k, m) in item.materials.iter().enumerate() {
        let mut pdf = PDF.to_vec();
        pdf.extend_from_slice(format!("% case {n} material {k}\n%%EOF\n").as_bytes());
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/files"))
            .bearer_auth(token)
            .body(pdf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let f: Value = r.json().await.unwrap();
        materials.push(json!({ "name": m.name, "sha256": f["sha256"] }));
    }
    let (s, case) = post(
        app,
        token,
        "/api/v1/cases",
        json!({ "item": item.item.impl_code, "delivery": "electronic", "materials": materials }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    case
}

#[tokio::test]
async fn a_running_platform_is_backed_up_restored_and_verified() {
    for app in apps().await {
        if app.db().backend != Backend::Sqlite {
            app.stop().await;
            continue;
        }
        let zs = app.token("zhangsan").await;
        for n in 0..3 {
            apply_with_uploads(&app, &zs, n).await;
        }
        let store = &app.state.store;
        let refs = store.case_file_refs().await.unwrap();
        assert!(refs.len() >= 3, "{refs:?}");
        // Backed up while the server keeps taking applications.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("backup");
        let busy = {
            let zs = zs.clone();
            let url = app.url("/api/v1/cases");
            tokio::spawn(async move {
                for _ in 0..5 {
                    let _ = reqwest::Client::new()
                        .post(&url)
                        .bearer_auth(&zs)
                        .json(&json!({}))
                        .send()
                        .await;
                }
            })
        };
        let m = tongban_app::backup::backup(store, &app.db().url, &app.state.objects, &dest)
            .await
            .unwrap();
        busy.await.unwrap();
        assert_eq!(m.backend, "sqlite");
        assert!(m.objects.len() >= refs.len());
        // A second backup into the same directory is refused.
        assert!(
            tongban_app::backup::backup(store, &app.db().url, &app.state.objects, &dest)
                .await
                .is_err()
        );

        // Restore into a new data directory, start on it, verify.
        let target = dir.path().join("restored");
        let url = format!("sqlite://{}/tongban.db", target.display());
        let objects = tongban_store::objects::ObjectStore::new(target.join("objects"));
        tongban_app::backup::restore(&dest, &target, &url, &objects, false)
            .await
            .unwrap();
        let e = tongban_app::backup::restore(&dest, &target, &url, &objects, false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        let restored = tongban_store::Store::open(&url).await.unwrap();
        assert_eq!(restored.verify_ledger().await.unwrap().problem, None);
        assert!(tongban_app::backup::verify_objects(&restored, &objects)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(restored.case_file_refs().await.unwrap(), refs);
        assert_eq!(
            restored.ledger_size().await.unwrap(),
            store.ledger_size().await.unwrap()
        );

        // A deleted object: verification names it and its case.
        let (case_no, sha) = refs[0].clone();
        std::fs::remove_file(target.join("objects").join(&sha[..2]).join(&sha)).unwrap();
        let problems = tongban_app::backup::verify_objects(&restored, &objects)
            .await
            .unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(&sha) && problems[0].contains(&case_no));
        // A tampered backup is refused before anything is restored.
        let copy = dir.path().join("objects-bad");
        std::fs::write(dest.join("objects").join(&sha[..2]).join(&sha), b"changed").unwrap();
        let copy_objects = tongban_store::objects::ObjectStore::new(copy.join("objects"));
        let e = tongban_app::backup::restore(&dest, &copy, "sqlite://unused", &copy_objects, true)
            .await
            .unwrap_err();
        assert!(e.to_string().contains(&sha), "{e}");
        assert!(!copy.join("objects").exists());

        // The tail cut off after a checkpoint exported earlier, the stored checkpoints
        // removed too: only the exported copy still shows it.
        let cp = restored.checkpoint(chrono::Utc::now()).await.unwrap();
        let size = cp.size;
        restored.close().await;
        sql(
            &url,
            &format!("DELETE FROM ledger_events WHERE seq > {}", size - 3),
        )
        .await;
        sql(
            &url,
            &format!("UPDATE ledger_head SET seq = {}, frontier = ''", size - 3),
        )
        .await;
        sql(&url, "DELETE FROM ledger_checkpoints").await;
        let restored = tongban_store::Store::open(&url).await.unwrap();
        assert_eq!(restored.verify_ledger().await.unwrap().problem, None);
        let r = restored.verify_ledger_with(&[cp]).await.unwrap();
        assert_eq!(
            r.problem,
            Some(LedgerProblem::Truncated {
                size,
                have: size - 3
            })
        );
        restored.close().await;
        app.stop().await;
    }
}
