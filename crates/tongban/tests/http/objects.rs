//! Issue #20 (objects): uploaded materials in an S3-compatible bucket, against a real S3
//! server (`s3s-fs`, installed by `.ci/run`) started here on a free port with a temp
//! directory: upload over HTTP, view it back, find it in the server's directory, back it
//! up and restore it; bad credentials and a missing bucket are refused at start-up.

use super::workflow::{apply_online, scj_item};
use super::App;
use super::PDF;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use tongban_store::objects::{ObjectStore, ObjectsConfig, S3Config};
use tongban_store::testing::TestDb;
use tongban_store::Backend;

const BUCKET: &str = "tongban-materials";
const ACCESS: &str = "AKTONGBANTEST";
const SECRET: &str = "SKtongban-test-secret";

/// A real S3-compatible server (`s3s-fs`) serving a temp directory.
pub struct S3Server {
    child: std::process::Child,
    pub dir: tempfile::TempDir,
    pub endpoint: String,
}

impl S3Server {
    /// The `s3s-fs` binary: `TONGBAN_S3S_BIN`, else where `.ci/run` installs it.
    fn binary() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("TONGBAN_S3S_BIN") {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/s3s/bin/s3s-fs");
        p.is_file().then_some(p)
    }

    /// Starts the server, or says why not: `None` (skipped, with a message) when the binary
    /// is absent, unless `TONGBAN_REQUIRE_S3` is set (CI), when that fails the test.
    pub async fn start() -> Option<S3Server> {
        let Some(bin) = Self::binary() else {
            if std::env::var_os("TONGBAN_REQUIRE_S3").is_some() {
                panic!("TONGBAN_REQUIRE_S3 is set but s3s-fs is missing: install it (.ci/run) or set TONGBAN_S3S_BIN");
            }
            eprintln!(
                "s3s-fs not found (set TONGBAN_S3S_BIN); the S3 object store test is SKIPPED"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS, "--secret-key", SECRET])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let server = S3Server {
            child,
            dir,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("s3s-fs did not start listening on {port}");
    }

    pub fn config(&self) -> S3Config {
        S3Config {
            endpoint: self.endpoint.clone(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key: ACCESS.into(),
            secret_key: SECRET.into(),
        }
    }

    pub fn store(&self) -> ObjectStore {
        ObjectStore::open(&ObjectsConfig::S3(self.config())).unwrap()
    }

    /// The files under the bucket's directory named `sha` (the server's own storage).
    pub fn files_named(&self, sha: &str) -> Vec<PathBuf> {
        fn walk(p: &Path, name: &str, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, name, out);
                } else if e.file_name() == name {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.path().join(BUCKET), sha, &mut out);
        out
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn materials_live_in_s3_and_are_backed_up_and_restored(db: TestDb) {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    // Refusals before anything is served: a wrong secret, a bucket that does not exist.
    let wrong = S3Config {
        secret_key: "not-the-secret".into(),
        ..s3.config()
    };
    let e = ObjectStore::open(&ObjectsConfig::S3(wrong))
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(!e.contains("not-the-secret"), "{e}");
    let missing = S3Config {
        bucket: "no-such-bucket".into(),
        ..s3.config()
    };
    assert!(ObjectStore::open(&ObjectsConfig::S3(missing))
        .unwrap()
        .check()
        .await
        .is_err());
    s3.store().check().await.unwrap();

    let backend = db.backend;
    let objects = s3.store();
    let app = App::start_with(db, |s| s.app.objects = objects.clone()).await;
    let zs = app.token("zhangsan").await;
    let clerk = app.token("clerk").await;
    let (code, required) = scj_item(&app).await;
    let (s, case) = apply_online(&app, &zs, &code, &required, "s3-1").await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let no = case["case_no"].as_str().unwrap().to_string();
    let sha = tongban_store::objects::sha256_hex(PDF);

    // The object is in the S3 server's directory, with the uploaded bytes.
    let files = s3.files_named(&sha);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), PDF);
    // Viewed back over HTTP, from the bucket.
    let r = reqwest::Client::new()
        .get(app.url(&format!("/cases/{no}/materials/1")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

    if backend == Backend::Sqlite {
        // Backed up from the bucket while serving.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("backup");
        let m = tongban_app::backup::backup(&app.state.store, &app.db().url, &objects, &dest)
            .await
            .unwrap();
        assert!(m.objects.iter().any(|o| o.sha256 == sha), "{m:?}");
        assert_eq!(
            std::fs::read(dest.join("objects").join(&sha[..2]).join(&sha)).unwrap(),
            PDF
        );
        // Restoring into a bucket that holds objects needs --force.
        let target = dir.path().join("restored");
        let url = format!("sqlite://{}/tongban.db", target.display());
        let e = tongban_app::backup::restore(&dest, &target, &url, &objects, false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        assert!(!target.join("tongban.db").exists());
        // The object lost from the bucket; restore brings it back.
        objects.delete(&sha).await.unwrap();
        assert!(s3.files_named(&sha).is_empty());
        tongban_app::backup::restore(&dest, &target, &url, &objects, true)
            .await
            .unwrap();
        assert_eq!(s3.files_named(&sha).len(), 1);
        assert_eq!(objects.get(&sha).await.unwrap(), PDF);
        let restored = tongban_store::Store::open(&url).await.unwrap();
        assert!(tongban_app::backup::verify_objects(&restored, &objects)
            .await
            .unwrap()
            .is_empty());
        restored.close().await;
    }
    app.stop().await;
}

mod materials_live_in_s3_and_are_backed_up_and_restored {
    #[tokio::test]
    async fn sqlite() {
        super::materials_live_in_s3_and_are_backed_up_and_restored(
            tongban_store::testing::TestDb::sqlite().await,
        )
        .await
    }

    #[tokio::test]
    async fn postgres() {
        match tongban_store::testing::TestDb::postgres().await {
            Some(db) => super::materials_live_in_s3_and_are_backed_up_and_restored(db).await,
            None => eprintln!("PostgreSQL not reachable; skipped"),
        }
    }
}
