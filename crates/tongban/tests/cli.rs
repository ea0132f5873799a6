//! The `tongban` command as operators use it (the real binary, a SQLite file in a temp dir).

use std::process::Command;

fn tongban(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(args)
        .current_dir(dir)
        .env_remove("TONGBAN_DATABASE_URL")
        .env_remove("TONGBAN_CONFIG")
        .output()
        .expect("run tongban");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn calendar_deadline_answers_when_is_day_n() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = tongban(
        dir.path(),
        &[
            "calendar",
            "deadline",
            "--from",
            "2026-02-13",
            "--working-days",
            "5",
        ],
    );
    assert!(ok);
    assert_eq!(out.trim(), "2026-02-27");
    let (_, out, _) = tongban(
        dir.path(),
        &[
            "calendar",
            "deadline",
            "--from",
            "2026-09-30",
            "--working-days",
            "3",
        ],
    );
    assert_eq!(out.trim(), "2026-10-10");
    let (ok, out, err) = tongban(
        dir.path(),
        &[
            "calendar",
            "deadline",
            "--from",
            "2026-12-20",
            "--working-days",
            "30",
        ],
    );
    // Not yet published: computed weekends-only and said to be provisional, never refused.
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "2027-01-29");
    assert!(err.contains("暂定") && err.contains("2027"), "{err}");
    // An operator loads next year's table from a file; then the deadline is known.
    std::fs::write(
        dir.path().join("2027.txt"),
        "year 2027\nholiday 2027-01-01\n",
    )
    .unwrap();
    let (ok, _, err) = tongban(dir.path(), &["calendar", "load", "2027.txt"]);
    assert!(ok, "{err}");
    let (ok, out, _) = tongban(
        dir.path(),
        &[
            "calendar",
            "deadline",
            "--from",
            "2026-12-20",
            "--working-days",
            "30",
        ],
    );
    assert!(ok);
    assert_eq!(out.trim(), "2027-02-01");
    std::fs::write(
        dir.path().join("bad.txt"),
        "year 2027\nholiday 2027-02-30\n",
    )
    .unwrap();
    let (ok, _, err) = tongban(dir.path(), &["calendar", "load", "bad.txt"]);
    assert!(!ok && err.contains("bad.txt"), "{err}");
}

#[test]
fn catalog_import_export_and_stats_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../tongban-app/demo");
    let (ok, out, err) = tongban(
        dir.path(),
        &[
            "catalog",
            "import",
            &format!("{demo}/items.csv"),
            &format!("{demo}/materials.csv"),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("created"), "{out}");
    let (ok, out, _) = tongban(dir.path(), &["catalog", "stats", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["total"].as_u64().unwrap() >= 300);
    assert!(v["online_capable"]["rate"].as_f64().unwrap() > 0.9);
    let (ok, _, err) = tongban(dir.path(), &["catalog", "export", "--out", "exported"]);
    assert!(ok, "{err}");
    // A broken file is refused with its row and column, and nothing changes.
    let bad = std::fs::read_to_string(dir.path().join("exported/items.csv"))
        .unwrap()
        .replacen(",承诺件,", ",加急件,", 1);
    std::fs::write(dir.path().join("bad.csv"), bad).unwrap();
    let (ok, _, err) = tongban(dir.path(), &["catalog", "import", "bad.csv"]);
    assert!(!ok);
    assert!(
        err.contains("bad.csv") && err.contains("办件类型") && err.contains("第"),
        "{err}"
    );
    let (_, again, _) = tongban(dir.path(), &["catalog", "stats", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&again).unwrap(),
        v
    );
}

#[test]
fn user_unlock_and_audit_verify_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = tongban(dir.path(), &["demo", "--no-serve"]);
    assert!(ok, "{err}");
    let (ok, out, err) = tongban(dir.path(), &["user", "unlock", "clerk"]);
    assert!(ok, "{err}");
    assert!(out.contains("clerk"), "{out}");
    let (ok, _, err) = tongban(dir.path(), &["user", "unlock", "no-such-user"]);
    assert!(!ok);
    assert!(err.contains("no-such-user"), "{err}");
    let (ok, out, err) = tongban(dir.path(), &["audit", "verify"]);
    assert!(ok, "{err}");
    assert!(out.contains("audit log OK"), "{out}");
}

#[test]
fn serve_refuses_a_bad_public_url_and_an_unusable_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = tongban(dir.path(), &["serve", "--public-url", "not a url"]);
    assert!(!ok);
    assert!(err.contains("public_url"), "{err}");
    std::fs::write(dir.path().join("a-file"), b"x").unwrap();
    let db = format!("sqlite://{}", dir.path().join("db/tongban.db").display());
    let (ok, _, err) = tongban(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db,
            "--data-dir",
            "a-file/data",
        ],
    );
    assert!(!ok);
    assert!(err.contains("data dir is not usable"), "{err}");
}

/// Issue #13 (16): `tongban backup`, `restore` (refusing a non-empty target without
/// --force) and `ledger verify --checkpoint` as an operator runs them.
#[test]
fn backup_restore_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = tongban(dir.path(), &["demo", "--no-serve", "--data-dir", "a"]);
    assert!(ok, "{err}");
    let (ok, cp, err) = tongban(dir.path(), &["ledger", "checkpoint", "--data-dir", "a"]);
    assert!(ok, "{err}");
    std::fs::write(dir.path().join("cp.json"), cp).unwrap();
    let (ok, out, err) = tongban(dir.path(), &["backup", "b", "--data-dir", "a"]);
    assert!(ok, "{err}");
    assert!(out.contains("backup written"), "{out}");
    assert!(dir.path().join("b/manifest.json").exists());
    let (ok, out, err) = tongban(dir.path(), &["restore", "b", "--data-dir", "c"]);
    assert!(ok, "{err}");
    assert!(out.contains("restored sqlite"), "{out}");
    let (ok, _, err) = tongban(dir.path(), &["restore", "b", "--data-dir", "c"]);
    assert!(!ok);
    assert!(err.contains("--force"), "{err}");
    let (ok, _, err) = tongban(dir.path(), &["restore", "b", "--data-dir", "c", "--force"]);
    assert!(ok, "{err}");
    let (ok, out, err) = tongban(
        dir.path(),
        &[
            "ledger",
            "verify",
            "--checkpoint",
            "cp.json",
            "--data-dir",
            "c",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("ledger OK"), "{out}");
}

/// Issue #20: an S3 object store that cannot work stops `tongban serve` at start-up with
/// a clear message (bad configuration, or a service that does not answer), and the secret
/// key is never printed.
#[test]
fn serve_refuses_an_unusable_s3_object_store() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tongban"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "d"])
            .current_dir(dir.path())
            .env_remove("TONGBAN_DATABASE_URL")
            .env_remove("TONGBAN_CONFIG");
        for k in [
            "TONGBAN_OBJECT_STORE",
            "TONGBAN_S3_ENDPOINT",
            "TONGBAN_S3_BUCKET",
            "TONGBAN_S3_REGION",
            "TONGBAN_S3_ACCESS_KEY",
            "TONGBAN_S3_SECRET_KEY",
        ] {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied());
        let out = cmd.output().expect("run tongban");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let secret = "s3cr3t-never-printed";
    let s3 = [
        ("TONGBAN_OBJECT_STORE", "s3"),
        ("TONGBAN_S3_ENDPOINT", "http://127.0.0.1:1"),
        ("TONGBAN_S3_BUCKET", "tongban"),
        ("TONGBAN_S3_ACCESS_KEY", "AKEXAMPLE"),
        ("TONGBAN_S3_SECRET_KEY", secret),
    ];
    // Nobody answers at the endpoint.
    let (ok, out) = run(&s3);
    assert!(!ok);
    assert!(out.contains("object store is not usable"), "{out}");
    assert!(!out.contains(secret), "{out}");
    // No keys in the environment.
    let (ok, out) = run(&s3[..3]);
    assert!(!ok);
    assert!(out.contains("TONGBAN_S3_ACCESS_KEY"), "{out}");
    // An unknown kind of store.
    let (ok, out) = run(&[("TONGBAN_OBJECT_STORE", "ftp")]);
    assert!(!ok);
    assert!(out.contains("object_store"), "{out}");
}

#[test]
fn bundle_definitions_import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../tongban-app/demo");
    let qykb = format!("{demo}/bundles/qykb.json");
    // Members must be items in service: refused before the catalog is there.
    let (ok, _, err) = tongban(dir.path(), &["bundle", "import", &qykb]);
    assert!(!ok);
    assert!(err.contains("不在服务中"), "{err}");
    let (ok, _, err) = tongban(
        dir.path(),
        &[
            "catalog",
            "import",
            &format!("{demo}/items.csv"),
            &format!("{demo}/materials.csv"),
        ],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = tongban(dir.path(), &["bundle", "import", &qykb]);
    assert!(ok, "{err}");
    assert!(out.contains("qykb") && out.contains("version 1"), "{out}");
    let (ok, out, _) = tongban(dir.path(), &["bundle", "export", "qykb"]);
    assert!(ok);
    let mut def: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(def["name"], "企业开办");
    // The same file again adds no version; a changed one adds the next.
    std::fs::write(dir.path().join("same.json"), &out).unwrap();
    let (_, out, _) = tongban(dir.path(), &["bundle", "import", "same.json"]);
    assert!(out.contains("version 1"), "{out}");
    def["promised_days"] = serde_json::json!(2);
    std::fs::write(dir.path().join("two.json"), def.to_string()).unwrap();
    let (_, out, _) = tongban(dir.path(), &["bundle", "import", "two.json"]);
    assert!(out.contains("version 2"), "{out}");
    let (ok, out, _) = tongban(dir.path(), &["bundle", "list"]);
    assert!(ok && out.contains("企业开办"), "{out}");
}
