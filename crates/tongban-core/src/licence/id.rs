//! 电子证照标识: `1.2.156.3005.2.{类型代码}.{颁发机构代码}.{流水号}.{版本号}.{校验位}`.

use crate::ids::Uscc;
use std::fmt;

pub const PREFIX: &str = "1.2.156.3005.2";
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LicenceId {
    pub type_code: String,
    pub issuer: String,
    pub serial: String,
    pub version: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceIdError {
    #[error("电子证照标识格式错误：{0}")]
    Format(String),
    #[error("电子证照标识校验位错误")]
    Check,
}

/// ISO 7064 MOD 37,36 (hybrid system) over 0-9A-Z.
pub fn check_char(data: &str) -> Option<char> {
    let mut p: u32 = 36;
    for c in data.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        let mut s = (p + v) % 36;
        if s == 0 {
            s = 36;
        }
        p = (2 * s) % 37;
    }
    Some(ALPHABET[((37 - p) % 36) as usize] as char)
}

impl LicenceId {
    pub fn new(
        type_code: &str,
        issuer: &Uscc,
        serial: &str,
        version: u16,
    ) -> Result<Self, LicenceIdError> {
        crate::catalog::validate_licence_type_code(type_code).map_err(LicenceIdError::Format)?;
        if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LicenceIdError::Format("流水号应为数字".into()));
        }
        if version == 0 || version > 999 {
            return Err(LicenceIdError::Format("版本号应为001-999".into()));
        }
        Ok(LicenceId {
            type_code: type_code.into(),
            issuer: issuer.to_string(),
            serial: serial.into(),
            version,
        })
    }

    fn body(&self) -> String {
        format!(
            "{}{}{}{:03}",
            self.type_code, self.issuer, self.serial, self.version
        )
    }

    pub fn parse(s: &str) -> Result<Self, LicenceIdError> {
        let rest = s
            .trim()
            .strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or_else(|| LicenceIdError::Format(format!("应以 {PREFIX}. 开头")))?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, issuer, serial, version, check] = parts[..] else {
            return Err(LicenceIdError::Format(
                "应有 类型代码.颁发机构代码.流水号.版本号.校验位 五段".into(),
            ));
        };
        if version.len() != 3 || check.len() != 1 {
            return Err(LicenceIdError::Format(
                "版本号应为3位、校验位应为1位".into(),
            ));
        }
        let issuer = Uscc::parse(issuer)
            .map_err(|e| LicenceIdError::Format(format!("颁发机构代码：{e}")))?;
        let version: u16 = version
            .parse()
            .map_err(|_| LicenceIdError::Format("版本号应为数字".into()))?;
        let id = LicenceId::new(type_code, &issuer, serial, version)?;
        let expected =
            check_char(&id.body()).ok_or_else(|| LicenceIdError::Format("含非法字符".into()))?;
        if !check.eq_ignore_ascii_case(&expected.to_string()) {
            return Err(LicenceIdError::Check);
        }
        Ok(id)
    }

    pub fn next_version(&self) -> LicenceId {
        LicenceId {
            version: self.version + 1,
            ..self.clone()
        }
    }
}

impl fmt::Display for LicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = check_char(&self.body()).unwrap_or('?');
        write!(
            f,
            "{PREFIX}.{}.{}.{}.{:03}.{c}",
            self.type_code, self.issuer, self.serial, self.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso7064_mod_37_36_known_values() {
        // A check character makes the whole string pass: (p + check) ≡ 1 (mod 36).
        for data in ["0", "A", "12345", "11100000000013338W001"] {
            let c = check_char(data).unwrap();
            let full = format!("{data}{c}");
            let mut p: u32 = 36;
            for ch in full.bytes() {
                let v = ALPHABET.iter().position(|a| *a == ch).unwrap() as u32;
                let mut s = (p + v) % 36;
                if s == 0 {
                    s = 36;
                }
                p = (2 * s) % 37;
            }
            // After the check character the running value is 2·1 mod 37 … i.e. s was 1.
            assert_eq!(p, 2, "{full}");
        }
        assert_eq!(check_char("a-b"), None);
    }

    #[test]
    fn identifiers_round_trip_and_bad_check_characters_are_refused() {
        let issuer = Uscc::parse("11100000000013338W").unwrap();
        let id = LicenceId::new("11100000000013338W001", &issuer, "2026000001", 1).unwrap();
        let text = id.to_string();
        assert!(text.starts_with(
            "1.2.156.3005.2.11100000000013338W001.11100000000013338W.2026000001.001."
        ));
        assert_eq!(LicenceId::parse(&text).unwrap(), id);
        let last = text.chars().last().unwrap();
        let wrong = if last == '0' { '1' } else { '0' };
        let tampered = format!("{}{wrong}", &text[..text.len() - 1]);
        assert_eq!(LicenceId::parse(&tampered), Err(LicenceIdError::Check));
        assert!(matches!(
            LicenceId::parse("1.2.156.3005.2.x"),
            Err(LicenceIdError::Format(_))
        ));
        assert_eq!(id.next_version().version, 2);
        assert_ne!(id.next_version().to_string(), text);
    }
}
