//! W3C Bitstring Status List: a GZIP-compressed bitstring (≥ 131,072 entries, so one
//! licence cannot be told apart from the crowd), multibase base64url-encoded.

use base64::Engine;
use std::io::{Read, Write};

/// Minimum length in bits required by the specification for herd privacy.
pub const MIN_BITS: usize = 131_072;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstring(Vec<u8>);

impl Default for Bitstring {
    fn default() -> Self {
        Bitstring(vec![0u8; MIN_BITS / 8])
    }
}

impl Bitstring {
    pub fn len_bits(&self) -> usize {
        self.0.len() * 8
    }
    /// Bit 0 is the left-most (most significant) bit of the first byte, as the spec says.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.0.get(index / 8)?;
        Some(byte & (0x80 >> (index % 8)) != 0)
    }
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some(byte) = self.0.get_mut(index / 8) else {
            return false;
        };
        if value {
            *byte |= 0x80 >> (index % 8);
        } else {
            *byte &= !(0x80 >> (index % 8));
        }
        true
    }
    /// `u` + base64url (no padding) of the GZIP-compressed bytes.
    pub fn encode(&self) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&self.0).expect("write to memory");
        let bytes = gz.finish().expect("finish in memory");
        format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    }
    pub fn decode(s: &str) -> Result<Bitstring, String> {
        let body = s
            .strip_prefix('u')
            .ok_or("encodedList must be multibase base64url (u…)")?;
        let gz = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| e.to_string())?;
        if out.len() * 8 < MIN_BITS {
            return Err(format!(
                "status list has {} bits, fewer than {MIN_BITS}",
                out.len() * 8
            ));
        }
        Ok(Bitstring(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_through_the_encoding() {
        let mut b = Bitstring::default();
        assert_eq!(b.len_bits(), 131_072);
        assert!(b.set(0, true) && b.set(7, true) && b.set(131_071, true));
        assert!(!b.set(131_072, true));
        let enc = b.encode();
        assert!(
            enc.starts_with('u') && enc.len() < 2000,
            "compressed: {}",
            enc.len()
        );
        let d = Bitstring::decode(&enc).unwrap();
        assert_eq!(d, b);
        assert_eq!(
            (d.get(0), d.get(1), d.get(7), d.get(131_071)),
            (Some(true), Some(false), Some(true), Some(true))
        );
        assert!(Bitstring::decode("xabc").is_err());
    }
}
