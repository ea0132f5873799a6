//! UPU S10 item identifiers (the numbers on EMS and registered-post waybills): two service
//! letters, eight serial digits, a check digit and the two-letter country code, e.g.
//! `EA123456785CN`. The check digit is computed over the serial with the weights
//! 8 6 4 2 3 5 9 7: check = 11 − (sum mod 11), where 10 becomes 0 and 11 becomes 5.

use serde::{Deserialize, Serialize};
use std::fmt;

const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];

/// A waybill number whose form and check digit are right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Waybill(String);

/// Why a text is not an S10 waybill number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaybillError {
    /// Not 13 characters of the form AA99999999 9 AA.
    Form,
    /// The form is right but the check digit is not the one the serial gives.
    CheckDigit { expected: u8, found: u8 },
}

impl fmt::Display for WaybillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaybillError::Form => write!(
                f,
                "邮件号应为13位：2位字母、8位数字、1位校验码、2位国家代码（如 EA123456785CN）"
            ),
            WaybillError::CheckDigit { expected, found } => write!(
                f,
                "邮件号校验码有误（应为 {expected}，实为 {found}），请核对后重新输入"
            ),
        }
    }
}

impl std::error::Error for WaybillError {}

/// The check digit of an eight-digit serial.
pub fn check_digit(serial: &[u8; 8]) -> u8 {
    let sum: u32 = serial
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c as u8,
    }
}

impl Waybill {
    /// Parses a waybill number; spaces are ignored and letters upper-cased.
    pub fn parse(text: &str) -> Result<Waybill, WaybillError> {
        let s: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = s.as_bytes();
        if b.len() != 13
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..11].iter().all(u8::is_ascii_digit)
            || !b[11..].iter().all(u8::is_ascii_uppercase)
        {
            return Err(WaybillError::Form);
        }
        let mut serial = [0u8; 8];
        for (i, d) in b[2..10].iter().enumerate() {
            serial[i] = d - b'0';
        }
        let expected = check_digit(&serial);
        let found = b[10] - b'0';
        if expected != found {
            return Err(WaybillError::CheckDigit { expected, found });
        }
        Ok(Waybill(s))
    }

    /// Builds the waybill number of a serial (the demo's simulated carrier numbers its
    /// parcels this way).
    pub fn from_serial(service: &str, serial: u32, country: &str) -> Option<Waybill> {
        if serial > 99_999_999 {
            return None;
        }
        let digits = format!("{serial:08}");
        let mut arr = [0u8; 8];
        for (i, d) in digits.bytes().enumerate() {
            arr[i] = d - b'0';
        }
        Waybill::parse(&format!("{service}{digits}{}{country}", check_digit(&arr))).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Waybill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Waybill {
    type Error = WaybillError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Waybill::parse(&s)
    }
}

impl From<Waybill> for String {
    fn from(w: Waybill) -> String {
        w.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples_pass() {
        // The example in the issue (China Post EMS) and the S10 standard's own example.
        for ok in ["EA123456785CN", "RR473124829GB", "AA473124829GB"] {
            assert!(Waybill::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Waybill::parse(" ea 123456785 cn").unwrap().as_str(),
            "EA123456785CN"
        );
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_the_right_one() {
        assert_eq!(
            Waybill::parse("EA123456784CN"),
            Err(WaybillError::CheckDigit {
                expected: 5,
                found: 4
            })
        );
        // One transposition of two serial digits changes the check digit.
        assert!(Waybill::parse("EA213456785CN").is_err());
    }

    #[test]
    fn ten_becomes_zero_and_eleven_becomes_five() {
        // sum 1×8 = 8 → 11 − 8 = 3 (plain case)
        assert_eq!(check_digit(&[1, 0, 0, 0, 0, 0, 0, 0]), 3);
        // sum 0 → 11 − 0 = 11 → 5
        assert_eq!(check_digit(&[0; 8]), 5);
        // sum 1 → need sum mod 11 = 1: digits 0…0 with 3 at weight 4 (12) → 12 mod 11 = 1 → 10 → 0
        assert_eq!(check_digit(&[0, 0, 3, 0, 0, 0, 0, 0]), 0);
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "EA12345678CN",
            "EA1234567850CN",
            "1A123456785CN",
            "EA12345678XCN",
            "EA123456785C1",
        ] {
            assert_eq!(Waybill::parse(bad), Err(WaybillError::Form), "{bad}");
        }
    }

    #[test]
    fn from_serial_builds_valid_numbers() {
        let w = Waybill::from_serial("EA", 12_345_678, "CN").unwrap();
        assert_eq!(w.as_str(), "EA123456785CN");
        assert!(Waybill::from_serial("EA", 100_000_000, "CN").is_none());
    }
}
