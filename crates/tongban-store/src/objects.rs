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

    /// Removes an object (an upload no case cited). Absent is fine.
    pub fn delete(&self, sha: &str) -> std::io::Result<()> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad object id",
            ));
        }
        match std::fs::remove_file(self.path_of(sha)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether the object is present with the bytes its name promises.
    pub fn verify(&self, sha: &str) -> std::io::Result<bool> {
        let bytes = self.get(sha)?;
        Ok(hex::encode(Sha256::digest(&bytes)) == sha)
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
