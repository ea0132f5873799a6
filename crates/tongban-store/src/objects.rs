//! Object storage for uploaded materials: a local directory addressed by SHA-256 (an
//! S3-compatible store can sit behind the same two calls later).

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ObjectStore {
    root: PathBuf,
}

impl ObjectStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ObjectStore { root: root.into() }
    }

    /// The directory the objects live under.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    fn path_of(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[..2]).join(sha)
    }

    /// Stores bytes durably (written, synced, renamed into place); returns the SHA-256 hex.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha);
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        // Unique per write: the same file may be uploaded by several requests at once.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{sha}.{}.{n}", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        Ok(sha)
    }

    pub fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad object id",
            ));
        }
        std::fs::read(self.path_of(sha))
    }
}

/// File types accepted as application materials, recognised by content, never by name.
pub fn sniff_material(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"PK\x03\x04") && is_ofd(bytes) {
        Some("application/ofd")
    } else {
        None
    }
}

/// OFD (GB/T 33190) is a ZIP package whose root document is `OFD.xml`.
fn is_ofd(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    head.windows(7).any(|w| w == b"OFD.xml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_recognised_by_content() {
        assert_eq!(sniff_material(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(
            sniff_material(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_material(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(
            sniff_material(b"PK\x03\x04....OFD.xml...."),
            Some("application/ofd")
        );
        assert_eq!(sniff_material(b"PK\x03\x04....word/document.xml"), None);
        assert_eq!(sniff_material(b"MZ\x90\x00 an exe named scan.pdf"), None);
        assert_eq!(sniff_material(b""), None);
    }

    #[test]
    fn objects_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let s = ObjectStore::new(dir.path());
        let a = s.put(b"%PDF-1.4 hello").unwrap();
        assert_eq!(a, s.put(b"%PDF-1.4 hello").unwrap());
        assert_eq!(s.get(&a).unwrap(), b"%PDF-1.4 hello");
        assert!(s.get("../../etc/passwd").is_err());
    }
}
