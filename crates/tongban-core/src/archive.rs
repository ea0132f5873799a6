//! What a ZIP archive (OFD, XLSX) holds, read from its central directory alone, so an
//! archive that would expand to gigabytes ("zip bomb") is refused before any entry is
//! decompressed.

/// The entries of an archive as its central directory declares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub names: Vec<String>,
    /// Sum of the declared uncompressed sizes.
    pub uncompressed: u64,
}

/// Bounds an archive must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_entries: usize,
    pub max_uncompressed: u64,
}

/// OFD packages and XLSX workbooks: 1,000 entries, 50 MB expanded.
pub const DEFAULT_BOUNDS: Bounds = Bounds {
    max_entries: 1000,
    max_uncompressed: 50 * 1024 * 1024,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("不是有效的ZIP文件：{0}")]
    Malformed(&'static str),
    #[error("压缩包条目过多（超过{0}个）")]
    TooManyEntries(usize),
    #[error("压缩包解压后过大（超过{0}MB）")]
    TooLarge(u64),
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
}
fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

/// Reads the central directory (end record within the last 64 KiB + 22 bytes), checking
/// the declared entry count and expanded size against `bounds`. ZIP64 archives are refused:
/// nothing legitimate here needs them.
pub fn inventory(bytes: &[u8], bounds: Bounds) -> Result<Inventory, ArchiveError> {
    use ArchiveError::Malformed;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(Malformed("缺少文件头"));
    }
    let tail_start = bytes.len().saturating_sub(22 + 65535);
    let eocd = (tail_start..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06"))
        .ok_or(Malformed("缺少中央目录结束记录"))?;
    let total = u16_at(bytes, eocd + 10).ok_or(Malformed("结束记录不完整"))?;
    let cd_size = u32_at(bytes, eocd + 12).ok_or(Malformed("结束记录不完整"))?;
    let cd_offset = u32_at(bytes, eocd + 16).ok_or(Malformed("结束记录不完整"))?;
    if total == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return Err(Malformed("不支持ZIP64"));
    }
    if total as usize > bounds.max_entries {
        return Err(ArchiveError::TooManyEntries(bounds.max_entries));
    }
    if cd_offset + cd_size > eocd as u64 {
        return Err(Malformed("中央目录越界"));
    }
    let mut at = cd_offset as usize;
    let mut names = Vec::with_capacity(total as usize);
    let mut uncompressed = 0u64;
    for _ in 0..total {
        if !bytes
            .get(at..)
            .is_some_and(|b| b.starts_with(b"PK\x01\x02"))
        {
            return Err(Malformed("中央目录条目损坏"));
        }
        let size = u32_at(bytes, at + 24).ok_or(Malformed("中央目录条目不完整"))?;
        let name_len = u16_at(bytes, at + 28).ok_or(Malformed("中央目录条目不完整"))? as usize;
        let extra_len = u16_at(bytes, at + 30).ok_or(Malformed("中央目录条目不完整"))? as usize;
        let comment_len = u16_at(bytes, at + 32).ok_or(Malformed("中央目录条目不完整"))? as usize;
        if size == 0xFFFF_FFFF {
            return Err(Malformed("不支持ZIP64"));
        }
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .ok_or(Malformed("中央目录条目不完整"))?;
        names.push(String::from_utf8_lossy(name).into_owned());
        uncompressed += size;
        if uncompressed > bounds.max_uncompressed {
            return Err(ArchiveError::TooLarge(
                bounds.max_uncompressed / 1024 / 1024,
            ));
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(Inventory {
        names,
        uncompressed,
    })
}

/// Builds a stored (uncompressed) ZIP archive, optionally declaring other uncompressed
/// sizes than the real ones (to stand in for a zip bomb). For tests in every crate.
pub fn build_stored_zip(entries: &[(&str, &[u8])], declared_sizes: Option<&[u32]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (i, (name, data)) in entries.iter().enumerate() {
        let offset = out.len() as u32;
        let size = declared_sizes.map_or(data.len() as u32, |d| d[i]);
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0u32.to_le_bytes()); // time, date
            h.extend_from_slice(&0u32.to_le_bytes()); // crc (not checked here)
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
                h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(b"PK\x03\x04", false));
        out.extend_from_slice(data);
        central.extend(header(b"PK\x01\x02", true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_sizes_from_the_central_directory() {
        let z = build_stored_zip(
            &[("OFD.xml", b"<ofd/>"), ("Doc_0/Document.xml", b"<d/>")],
            None,
        );
        let inv = inventory(&z, DEFAULT_BOUNDS).unwrap();
        assert_eq!(inv.names, ["OFD.xml", "Doc_0/Document.xml"]);
        assert_eq!(inv.uncompressed, 10);
    }

    #[test]
    fn bombs_and_junk_are_refused_before_expanding() {
        let bomb = build_stored_zip(&[("OFD.xml", b"x"), ("big", b"y")], Some(&[1, 60 << 20]));
        assert_eq!(
            inventory(&bomb, DEFAULT_BOUNDS),
            Err(ArchiveError::TooLarge(50))
        );
        let names: Vec<String> = (0..1001).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        assert_eq!(
            inventory(&build_stored_zip(&entries, None), DEFAULT_BOUNDS),
            Err(ArchiveError::TooManyEntries(1000))
        );
        assert!(inventory(b"PK\x03\x04 OFD.xml but no directory", DEFAULT_BOUNDS).is_err());
        assert!(inventory(b"", DEFAULT_BOUNDS).is_err());
        let mut cut = build_stored_zip(&[("OFD.xml", b"x")], None);
        let n = cut.len();
        cut[n - 6] = 0xF0; // central directory offset beyond the end
        assert!(inventory(&cut, DEFAULT_BOUNDS).is_err());
    }
}
