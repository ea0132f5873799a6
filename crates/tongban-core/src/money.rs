//! Money as whole fen (分), parsed from the yuan people type; no floating point anywhere, so
//! fees add up to the fen.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in fen; an integer so sums are exact (serialised as the integer number of fen).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub u64);

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额不能为空")]
    Empty,
    #[error("金额不能为负数")]
    Negative,
    #[error("金额最多两位小数（精确到分）")]
    TooManyDecimals,
    #[error("金额格式有误：{0}")]
    Malformed(String),
    #[error("金额超出上限")]
    OverCap,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);
    /// The most a typed amount may be: 10,000,000 yuan. Guards against slips of the finger.
    pub const CAP: Fen = Fen(1_000_000_000);

    pub const fn fen(self) -> u64 {
        self.0
    }

    /// Parses yuan as typed: "12", "12.5", "12.50", "12.", "12元", "￥12.00" or "¥12".
    /// Refuses negatives, more than two decimals, anything but ASCII digits and one '.',
    /// and amounts above [`Fen::CAP`].
    pub fn parse_yuan(input: &str) -> Result<Fen, MoneyError> {
        let trimmed = input.trim();
        let s = trimmed
            .strip_prefix('￥')
            .or_else(|| trimmed.strip_prefix('¥'))
            .unwrap_or(trimmed)
            .trim_start();
        let s = s.strip_suffix('元').unwrap_or(s).trim_end();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) {
            return Err(MoneyError::Malformed(trimmed.to_string()));
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals);
        }
        // At most 8 significant digits of yuan can be under the cap; more would overflow
        // sooner or later, so they are refused before any arithmetic.
        let int = int.trim_start_matches('0');
        if int.len() > 8 {
            return Err(MoneyError::OverCap);
        }
        let yuan: u64 = if int.is_empty() {
            0
        } else {
            int.parse()
                .map_err(|_| MoneyError::Malformed(trimmed.to_string()))?
        };
        let fen: u64 = match frac.as_bytes() {
            [] => 0,
            [t] => u64::from(t - b'0') * 10,
            [t, h] => u64::from(t - b'0') * 10 + u64::from(h - b'0'),
            _ => return Err(MoneyError::TooManyDecimals),
        };
        let total = Fen(yuan * 100 + fen);
        if total > Fen::CAP {
            return Err(MoneyError::OverCap);
        }
        Ok(total)
    }

    /// The amount in yuan with two decimals and no unit: "12.50".
    pub fn yuan_text(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// The sum, or `None` if it would overflow.
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }
}

impl fmt::Display for Fen {
    /// "12.50元".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}元", self.yuan_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(s: &str) -> u64 {
        Fen::parse_yuan(s).unwrap().0
    }

    #[test]
    fn parses_what_the_case_form_accepted() {
        // The inputs the float-free parse_yuan of the case form accepted.
        assert_eq!(fen("12"), 1200);
        assert_eq!(fen("12.5"), 1250);
        assert_eq!(fen("12.50"), 1250);
        assert_eq!(fen("12.05"), 1205);
        assert_eq!(fen("12."), 1200);
        assert_eq!(fen("012.3"), 1230);
        assert_eq!(fen("0"), 0);
        assert_eq!(fen("0.01"), 1);
        assert_eq!(fen("  12.50  "), 1250);
        assert_eq!(fen("12元"), 1200);
        assert_eq!(fen("12.5元"), 1250);
    }

    #[test]
    fn parses_currency_signs_and_units() {
        assert_eq!(fen("￥12.00"), 1200);
        assert_eq!(fen("¥12"), 1200);
        assert_eq!(fen("￥ 12.5 元"), 1250);
        assert_eq!(fen("12 元"), 1200);
    }

    #[test]
    fn no_float_rounding() {
        // 0.1 + 0.2 is exactly 0.3 yuan.
        let sum = Fen::parse_yuan("0.1")
            .unwrap()
            .checked_add(Fen::parse_yuan("0.2").unwrap())
            .unwrap();
        assert_eq!(sum, Fen::parse_yuan("0.3").unwrap());
        assert_eq!(fen("19.99"), 1999);
        assert_eq!(fen("1.10"), 110);
    }

    #[test]
    fn accepts_the_cap_itself() {
        assert_eq!(Fen::parse_yuan("10000000").unwrap(), Fen::CAP);
        assert_eq!(Fen::parse_yuan("10000000.00").unwrap(), Fen::CAP);
        assert_eq!(Fen::parse_yuan("00000000010000000").unwrap(), Fen::CAP);
        assert_eq!(fen("9999999.99"), 999_999_999);
    }

    #[test]
    fn refuses_amounts_above_the_cap_and_overflow() {
        for s in [
            "10000000.01",
            "10000001",
            "99999999",
            "100000000",
            "18446744073709551616",
            "99999999999999999999999999999999",
        ] {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert_eq!(e, MoneyError::OverCap, "{s}");
            assert_eq!(e.to_string(), "金额超出上限");
        }
    }

    #[test]
    fn refuses_empty() {
        for s in ["", "   ", "元", "￥", "¥ 元"] {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert_eq!(e, MoneyError::Empty, "{s:?}");
            assert_eq!(e.to_string(), "金额不能为空");
        }
    }

    #[test]
    fn refuses_negatives() {
        for s in ["-1", "-0.5", "-12元", "￥-3"] {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert_eq!(e, MoneyError::Negative, "{s}");
            assert_eq!(e.to_string(), "金额不能为负数");
        }
    }

    #[test]
    fn refuses_more_than_two_decimals() {
        for s in ["12.345", "0.001", "1.000"] {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert_eq!(e, MoneyError::TooManyDecimals, "{s}");
            assert_eq!(e.to_string(), "金额最多两位小数（精确到分）");
        }
    }

    #[test]
    fn refuses_non_digits() {
        for s in [
            ".5", "12a", "1,000", "1.2.3", "+12", "1e3", "１２", "12.5x", "十二", "12 .5",
        ] {
            let e = Fen::parse_yuan(s).unwrap_err();
            assert_eq!(e, MoneyError::Malformed(s.trim().to_string()), "{s}");
        }
        assert_eq!(
            Fen::parse_yuan("12a").unwrap_err().to_string(),
            "金额格式有误：12a"
        );
    }

    #[test]
    fn displays_in_yuan_with_two_decimals() {
        assert_eq!(Fen(1250).to_string(), "12.50元");
        assert_eq!(Fen(1250).yuan_text(), "12.50");
        assert_eq!(Fen(5).yuan_text(), "0.05");
        assert_eq!(Fen(0).to_string(), "0.00元");
        assert_eq!(Fen::CAP.yuan_text(), "10000000.00");
        assert_eq!(Fen(u64::MAX).yuan_text(), "184467440737095516.15");
        // What is displayed parses back to the same amount.
        for n in [0u64, 1, 10, 99, 100, 1250, 999_999_999, 1_000_000_000] {
            assert_eq!(Fen::parse_yuan(&Fen(n).to_string()), Ok(Fen(n)));
        }
    }

    #[test]
    fn checked_add_refuses_overflow() {
        assert_eq!(Fen(1).checked_add(Fen(2)), Some(Fen(3)));
        assert_eq!(Fen::ZERO.checked_add(Fen::CAP), Some(Fen::CAP));
        assert_eq!(Fen(u64::MAX).checked_add(Fen(1)), None);
    }

    #[test]
    fn serialises_as_integer_fen() {
        assert_eq!(serde_json::to_string(&Fen(1250)).unwrap(), "1250");
        assert_eq!(serde_json::from_str::<Fen>("1250").unwrap(), Fen(1250));
        assert!(serde_json::from_str::<Fen>("-1").is_err());
        assert!(serde_json::from_str::<Fen>("12.5").is_err());
        assert_eq!(Fen(1250).fen(), 1250);
    }
}
