//! Object storage for uploaded materials, addressed by SHA-256 (`aa/aabb…`), behind the
//! `object_store` crate: a local directory by default (each object written, synced and
//! renamed into place), or an S3-compatible bucket by configuration, so several
//! `tongban serve` nodes can share the materials without a shared filesystem.

use object_store::path::Path as ObjectPath;
use object_store::ObjectStore as _;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the objects live (configuration).
#[derive(Clone, PartialEq, Eq)]
pub enum ObjectsConfig {
    /// A directory on this node (the default: `<data_dir>/objects`).
    Local(PathBuf),
    /// An S3-compatible bucket. The keys are never printed (see the `Debug` impl).
    S3(S3Config),
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `http(s)://host:port` of the S3-compatible service.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for ObjectsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectsConfig::Local(p) => write!(f, "Local({})", p.display()),
            ObjectsConfig::S3(s) => write!(
                f,
                "S3(endpoint {}, bucket {}, region {}, keys redacted)",
                s.endpoint, s.bucket, s.region
            ),
        }
    }
}

#[derive(Clone)]
pub struct ObjectStore {
    inner: Arc<dyn object_store::ObjectStore>,
    /// The directory of a local store (objects are synced there after writing).
    root: Option<PathBuf>,
    describe: String,
}

impl std::fmt::Debug for ObjectStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

fn bad_id() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "bad object id")
}

fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

/// The name of an object: the SHA-256 of its bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_sha(sha: &str) -> bool {
    sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

impl ObjectStore {
    /// A store in a local directory (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root = std::path::absolute(&root).unwrap_or(root);
        ObjectStore {
            inner: Arc::new(object_store::local::LocalFileSystem::new()),
            describe: format!("local directory {}", root.display()),
            root: Some(root),
        }
    }

    /// The store a configuration names; refuses a configuration that cannot work (an
    /// endpoint that is not an http(s) URL, an empty bucket or key) with a clear message.
    pub fn open(config: &ObjectsConfig) -> Result<Self, String> {
        match config {
            ObjectsConfig::Local(p) => Ok(Self::new(p)),
            ObjectsConfig::S3(s) => {
                let url = url::Url::parse(&s.endpoint)
                    .map_err(|e| format!("s3_endpoint {:?} is not a URL: {e}", s.endpoint))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(format!(
                        "s3_endpoint {:?} must be an http:// or https:// URL with a host",
                        s.endpoint
                    ));
                }
                if s.bucket.is_empty()
                    || s.bucket.len() > 63
                    || !s
                        .bucket
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
                {
                    return Err(format!(
                        "s3_bucket {:?} is not a bucket name (1-63 of a-z, 0-9, '-', '.')",
                        s.bucket
                    ));
                }
                if s.region.trim().is_empty() {
                    return Err("s3_region must not be empty".into());
                }
                if s.access_key.is_empty() || s.secret_key.is_empty() {
                    return Err(
                        "object_store = \"s3\" needs TONGBAN_S3_ACCESS_KEY and TONGBAN_S3_SECRET_KEY"
                            .into(),
                    );
                }
                let store = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(s.endpoint.trim_end_matches('/'))
                    .with_virtual_hosted_style_request(false)
                    .with_bucket_name(&s.bucket)
                    .with_region(&s.region)
                    .with_access_key_id(&s.access_key)
                    .with_secret_access_key(&s.secret_key)
                    // A dead endpoint fails within seconds, not after minutes of retries.
                    .with_retry(object_store::RetryConfig {
                        max_retries: 3,
                        retry_timeout: std::time::Duration::from_secs(10),
                        ..Default::default()
                    })
                    // (These options replace the builder's: allow_http is set in them.)
                    .with_client_options(
                        object_store::ClientOptions::new()
                            .with_allow_http(url.scheme() == "http")
                            .with_connect_timeout(std::time::Duration::from_secs(5)),
                    )
                    .build()
                    .map_err(|e| format!("S3 object store: {e}"))?;
                Ok(ObjectStore {
                    inner: Arc::new(store),
                    root: None,
                    describe: format!("S3 bucket {} at {}", s.bucket, s.endpoint),
                })
            }
        }
    }

    /// The directory the objects live under, for a local store.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Where the objects are, for messages (no secrets).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn key(&self, sha: &str) -> io::Result<ObjectPath> {
        match &self.root {
            Some(root) => ObjectPath::from_absolute_path(root.join(&sha[..2]).join(sha))
                .map_err(io::Error::other),
            None => Ok(ObjectPath::from(format!("{}/{sha}", &sha[..2]))),
        }
    }

    /// Stores bytes durably (a local object is written, synced and renamed into place; S3
    /// acknowledges a PUT once stored); returns the SHA-256 hex.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = sha256_hex(bytes);
        let key = self.key(&sha)?;
        if self.inner.head(&key).await.is_ok() {
            return Ok(sha);
        }
        self.inner
            .put(&key, bytes::Bytes::copy_from_slice(bytes).into())
            .await
            .map_err(io_error)?;
        if let Some(root) = &self.root {
            // `object_store` renames into place but does not sync: make the file and its
            // directory entry durable before the database records the upload.
            let dir = root.join(&sha[..2]);
            let file = dir.join(&sha);
            tokio::task::spawn_blocking(move || {
                std::fs::File::open(&file)?.sync_all()?;
                std::fs::File::open(&dir)?.sync_all()
            })
            .await
            .map_err(io::Error::other)??;
        }
        Ok(sha)
    }

    /// Removes an object (an upload no case cited). Absent is fine.
    pub async fn delete(&self, sha: &str) -> io::Result<()> {
        if !is_sha(sha) {
            return Err(bad_id());
        }
        match self.inner.delete(&self.key(sha)?).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Whether the object is present with the bytes its name promises.
    pub async fn verify(&self, sha: &str) -> io::Result<bool> {
        let bytes = self.get(sha).await?;
        Ok(hex::encode(Sha256::digest(&bytes)) == sha)
    }

    pub async fn get(&self, sha: &str) -> io::Result<Vec<u8>> {
        if !is_sha(sha) {
            return Err(bad_id());
        }
        let r = self.inner.get(&self.key(sha)?).await.map_err(io_error)?;
        Ok(r.bytes().await.map_err(io_error)?.to_vec())
    }

    /// Whether the store holds no object at all (restore refuses to mix otherwise).
    pub async fn is_empty(&self) -> io::Result<bool> {
        if let Some(root) = &self.root {
            return Ok(std::fs::read_dir(root).map_or(true, |mut d| d.next().is_none()));
        }
        use futures_util::StreamExt;
        let mut list = self.inner.list(None);
        match list.next().await {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(io_error(e)),
        }
    }

    /// Start-up check: the store answers and the bucket exists (a listing of one prefix),
    /// so a wrong endpoint, bucket or key stops `tongban serve` with a clear message.
    pub async fn check(&self) -> Result<(), String> {
        if self.root.is_some() {
            return Ok(());
        }
        self.inner
            .list_with_delimiter(Some(&ObjectPath::from("00")))
            .await
            .map(|_| ())
            .map_err(|e| format!("{} is not usable: {e}", self.describe))
    }
}

/// File types accepted as application materials, recognised by content, never by name,
/// and checked beyond the magic bytes: a PDF must have a PDF's structure (header, objects,
/// an `%%EOF` trailer) and no HTML near its start; a PNG or JPEG must declare sane
/// dimensions; an OFD must be a ZIP whose central directory is bounded (≤ 1,000 entries,
/// ≤ 50 MB expanded) and holds `OFD.xml`.
pub fn sniff_material(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        is_pdf(bytes).then_some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        is_jpeg(bytes).then_some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        is_png(bytes).then_some("image/png")
    } else if bytes.starts_with(b"PK\x03\x04") && is_ofd(bytes) {
        Some("application/ofd")
    } else {
        None
    }
}

/// Images wider or taller than this are not scans of a document.
const MAX_DIMENSION: u64 = 20_000;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn is_pdf(bytes: &[u8]) -> bool {
    // %PDF-1.x or %PDF-2.x
    let version_ok = matches!(bytes.get(5..8), Some([b'1' | b'2', b'.', d]) if d.is_ascii_digit());
    // A browser sniffs HTML in the first bytes: "%PDF-" then a page is a polyglot.
    let head: Vec<u8> = bytes[..bytes.len().min(1024)].to_ascii_lowercase();
    let html = [
        &b"<html"[..],
        b"<!doctype",
        b"<script",
        b"<body",
        b"<head",
        b"<iframe",
        b"<svg",
    ]
    .iter()
    .any(|t| contains(&head, t));
    // The trailer: %%EOF within the last 1 KiB (writers may append a line break or padding).
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    version_ok && !html && contains(tail, b"%%EOF") && contains(bytes, b"obj")
}

fn be32(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

fn be16(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
}

/// PNG: the first chunk is a 13-byte IHDR with sane dimensions, bit depth and colour type,
/// and the file ends with IEND.
fn is_png(b: &[u8]) -> bool {
    let ihdr = be32(b, 8) == Some(13) && b.get(12..16) == Some(b"IHDR");
    let (Some(w), Some(h)) = (be32(b, 16), be32(b, 20)) else {
        return false;
    };
    let depth = b.get(24).copied().unwrap_or(0);
    let colour = b.get(25).copied().unwrap_or(9);
    let sane = (1..=MAX_DIMENSION).contains(&w) && (1..=MAX_DIMENSION).contains(&h);
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    let tail = &b[b.len().saturating_sub(64)..];
    ihdr && sane && depth_ok && contains(tail, b"IEND")
}

/// JPEG: walks the marker segments to a start-of-frame with sane dimensions and 1–4
/// components; an end-of-image marker must follow.
fn is_jpeg(b: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= b.len() {
        if b[at] != 0xFF {
            return false;
        }
        let marker = b[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        if matches!(marker, 0xD0..=0xD7 | 0x01) {
            at += 2;
            continue;
        }
        let Some(len) = be16(b, at + 2) else {
            return false;
        };
        if len < 2 {
            return false;
        }
        let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let (Some(h), Some(w)) = (be16(b, at + 5), be16(b, at + 7)) else {
                return false;
            };
            let comps = b.get(at + 9).copied().unwrap_or(0);
            let sane = (1..=MAX_DIMENSION).contains(&w)
                && (1..=MAX_DIMENSION).contains(&h)
                && (1..=4).contains(&comps);
            return sane && contains(&b[at..], &[0xFF, 0xD9]);
        }
        if marker == 0xDA || marker == 0xD9 {
            return false; // scan data or the end before any frame header
        }
        at += 2 + len as usize;
    }
    false
}

/// OFD (GB/T 33190) is a ZIP package whose root document is `OFD.xml`; the package must
/// stay within [`tongban_core::archive::DEFAULT_BOUNDS`] when expanded.
fn is_ofd(bytes: &[u8]) -> bool {
    tongban_core::archive::inventory(bytes, tongban_core::archive::DEFAULT_BOUNDS)
        .is_ok_and(|inv| inv.names.iter().any(|n| n == "OFD.xml"))
}

/// A minimal well-formed PNG of `w`×`h` (header and end only), for tests.
pub fn sample_png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]); // depth, colour, …, CRC
    v.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    v
}

/// A minimal well-formed JPEG of `w`×`h` (frame header and end only), for tests.
pub fn sample_jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8];
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&[1, 1, 0x11, 0, 0xFF, 0xD9]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_recognised_by_content() {
        let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
        assert_eq!(sniff_material(pdf), Some("application/pdf"));
        assert_eq!(sniff_material(&sample_jpeg(800, 600)), Some("image/jpeg"));
        assert_eq!(sniff_material(&sample_png(800, 600)), Some("image/png"));
        let ofd = tongban_core::archive::build_stored_zip(&[("OFD.xml", b"<ofd:OFD/>")], None);
        assert_eq!(sniff_material(&ofd), Some("application/ofd"));
        let docx = tongban_core::archive::build_stored_zip(&[("word/document.xml", b"<w/>")], None);
        assert_eq!(sniff_material(&docx), None);
        assert_eq!(sniff_material(b"MZ\x90\x00 an exe named scan.pdf"), None);
        assert_eq!(sniff_material(b""), None);
    }

    /// Issue #13 (10): magic bytes alone are not enough.
    #[test]
    fn disguised_and_malformed_files_are_refused() {
        // "%PDF-" followed by a web page, with or without PDF-looking parts.
        assert_eq!(
            sniff_material(b"%PDF-1.4\n<html><script>alert(1)</script></html>"),
            None
        );
        assert_eq!(
            sniff_material(b"%PDF-1.4\n<!DOCTYPE html><p>1 0 obj</p>\n%%EOF"),
            None
        );
        // No trailer, no objects, no version.
        assert_eq!(sniff_material(b"%PDF-1.4\n1 0 obj << >> endobj\n"), None);
        assert_eq!(sniff_material(b"%PDF-1.4\n%%EOF"), None);
        assert_eq!(sniff_material(b"%PDF-x obj %%EOF"), None);
        // Images: a bare header, absurd or zero dimensions.
        assert_eq!(sniff_material(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), None);
        assert_eq!(sniff_material(&sample_png(0, 10)), None);
        assert_eq!(sniff_material(&sample_png(1_000_000, 10)), None);
        assert_eq!(sniff_material(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), None);
        assert_eq!(sniff_material(&sample_jpeg(0, 600)), None);
        // OFD: a name in the content is not a package; a bomb is refused unread.
        assert_eq!(sniff_material(b"PK\x03\x04....OFD.xml...."), None);
        let bomb = tongban_core::archive::build_stored_zip(
            &[("OFD.xml", b"<x/>"), ("Doc_0/big.bin", b"0")],
            Some(&[4, 51 << 20]),
        );
        assert_eq!(sniff_material(&bomb), None);
    }

    #[tokio::test]
    async fn objects_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path().join("objects"));
        assert!(s.is_empty().await.unwrap());
        let a = s.put(b"%PDF-1.4 hello").await.unwrap();
        assert_eq!(a, s.put(b"%PDF-1.4 hello").await.unwrap());
        assert_eq!(s.get(&a).await.unwrap(), b"%PDF-1.4 hello");
        assert!(dir.path().join("objects").join(&a[..2]).join(&a).is_file());
        assert!(!s.is_empty().await.unwrap());
        assert!(s.verify(&a).await.unwrap());
        assert!(s.get("../../etc/passwd").await.is_err());
        let missing = "0".repeat(64);
        assert_eq!(
            s.get(&missing).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        s.delete(&a).await.unwrap();
        s.delete(&a).await.unwrap();
        assert!(s.get(&a).await.is_err());
    }

    #[test]
    fn bad_s3_configurations_are_refused_and_keys_never_printed() {
        let good = S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "tongban".into(),
            region: "us-east-1".into(),
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "very-secret-key".into(),
        };
        assert!(ObjectStore::open(&ObjectsConfig::S3(good.clone())).is_ok());
        let shown = format!(
            "{:?} {:?}",
            ObjectsConfig::S3(good.clone()),
            ObjectStore::open(&ObjectsConfig::S3(good.clone())).unwrap()
        );
        assert!(!shown.contains("very-secret-key") && !shown.contains("AKIDEXAMPLE"));
        for (bad, says) in [
            (
                S3Config {
                    endpoint: "ftp://x".into(),
                    ..good.clone()
                },
                "s3_endpoint",
            ),
            (
                S3Config {
                    endpoint: "not a url".into(),
                    ..good.clone()
                },
                "s3_endpoint",
            ),
            (
                S3Config {
                    bucket: "".into(),
                    ..good.clone()
                },
                "s3_bucket",
            ),
            (
                S3Config {
                    bucket: "Bad_Bucket".into(),
                    ..good.clone()
                },
                "s3_bucket",
            ),
            (
                S3Config {
                    region: " ".into(),
                    ..good.clone()
                },
                "s3_region",
            ),
            (
                S3Config {
                    secret_key: "".into(),
                    ..good.clone()
                },
                "TONGBAN_S3_SECRET_KEY",
            ),
        ] {
            let e = ObjectStore::open(&ObjectsConfig::S3(bad)).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
