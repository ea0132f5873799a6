//! Identifiers parsed at the edge into types that cannot be wrong.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("统一社会信用代码应为18位")]
    UsccLength,
    #[error("统一社会信用代码含非法字符")]
    UsccCharset,
    #[error("统一社会信用代码校验位错误")]
    UsccCheck,
    #[error("身份证号应为18位")]
    ResidentIdLength,
    #[error("身份证号格式错误")]
    ResidentIdFormat,
    #[error("身份证号校验位错误")]
    ResidentIdCheck,
}

/// GB 32100 charset: digits and capital letters without I, O, Z, S, V.
const USCC_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// 统一社会信用代码 (unified social credit code, GB 32100-2015), 18 characters with a
/// MOD 31 check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

impl Uscc {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(IdError::UsccLength);
        }
        let bytes = s.as_bytes();
        let mut values = [0u32; 18];
        for (i, b) in bytes.iter().enumerate() {
            values[i] = USCC_CHARSET
                .iter()
                .position(|c| c == b)
                .ok_or(IdError::UsccCharset)? as u32;
        }
        if values[17] != Self::check_value(&values[..17]) {
            return Err(IdError::UsccCheck);
        }
        Ok(Uscc(s))
    }

    fn check_value(first17: &[u32]) -> u32 {
        let sum: u32 = first17.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        (31 - sum % 31) % 31
    }

    /// Completes 17 characters with their check character (used to build demo and test data).
    pub fn with_check_char(first17: &str) -> Result<Self, IdError> {
        if first17.len() != 17 {
            return Err(IdError::UsccLength);
        }
        let mut values = [0u32; 17];
        for (i, b) in first17.as_bytes().iter().enumerate() {
            values[i] = USCC_CHARSET
                .iter()
                .position(|c| c == b)
                .ok_or(IdError::UsccCharset)? as u32;
        }
        let check = USCC_CHARSET[Self::check_value(&values) as usize] as char;
        Ok(Uscc(format!("{first17}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Uscc {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Uscc::parse(&s)
    }
}
impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}

/// 公民身份号码 (GB 11643), 18 characters, ISO 7064 MOD 11-2 check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

impl ResidentId {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(IdError::ResidentIdLength);
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdError::ResidentIdFormat);
        }
        // Birth date must be a real date.
        let (y, m, d) = (&s[6..10], &s[10..12], &s[12..14]);
        let date = chrono::NaiveDate::from_ymd_opt(
            y.parse().unwrap_or(0),
            m.parse().unwrap_or(0),
            d.parse().unwrap_or(0),
        );
        if date.is_none() || y < "1900" {
            return Err(IdError::ResidentIdFormat);
        }
        if b[17] != Self::check_char(&b[..17]) {
            return Err(IdError::ResidentIdCheck);
        }
        Ok(ResidentId(s))
    }

    fn check_char(first17: &[u8]) -> u8 {
        // ISO 7064 MOD 11-2: weights are 2^(17-i) mod 11.
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17
            .iter()
            .zip(W)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        b"10X98765432"[(sum % 11) as usize]
    }

    /// Completes 17 digits with their check character (test and demo data).
    pub fn with_check_char(first17: &str) -> Result<Self, IdError> {
        if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::ResidentIdFormat);
        }
        let c = Self::check_char(first17.as_bytes()) as char;
        ResidentId::parse(&format!("{first17}{c}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown on screens: the first 6 and last 4 characters only.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
impl TryFrom<String> for ResidentId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        ResidentId::parse(&s)
    }
}
impl From<ResidentId> for String {
    fn from(u: ResidentId) -> String {
        u.0
    }
}

/// Masks a mobile number for display: 138****5678.
pub fn mask_mobile(mobile: &str) -> String {
    if mobile.len() == 11 && mobile.is_ascii() {
        format!("{}****{}", &mobile[..3], &mobile[7..])
    } else {
        "****".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_accepts_valid_codes() {
        // A well-known public code (State Administration for Market Regulation).
        assert!(Uscc::parse("11100000000013338W").is_ok());
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        let built = Uscc::with_check_char("11431300006785332").unwrap();
        assert_eq!(Uscc::parse(built.as_str()).unwrap(), built);
    }

    #[test]
    fn uscc_refuses_bad_codes() {
        assert_eq!(Uscc::parse("11100000000013338"), Err(IdError::UsccLength));
        assert_eq!(Uscc::parse("11100000000013338X"), Err(IdError::UsccCheck));
        assert_eq!(Uscc::parse("1110000000001333IW"), Err(IdError::UsccCharset));
        assert_eq!(Uscc::parse("11100000000013339W"), Err(IdError::UsccCheck));
    }

    #[test]
    fn resident_id_check_digit() {
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert_eq!(
            ResidentId::parse("110105194912310021"),
            Err(IdError::ResidentIdCheck)
        );
        assert_eq!(
            ResidentId::parse("1101051949123100"),
            Err(IdError::ResidentIdLength)
        );
        assert_eq!(
            ResidentId::parse("11010519491331002X"),
            Err(IdError::ResidentIdFormat)
        );
        assert_eq!(
            ResidentId::parse("1101051949A231002X"),
            Err(IdError::ResidentIdFormat)
        );
    }

    #[test]
    fn resident_id_is_masked_on_display() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        assert_eq!(id.to_string(), "110105********002X");
        assert!(!format!("{id}").contains("19491231"));
        assert_eq!(mask_mobile("13812345678"), "138****5678");
    }
}
