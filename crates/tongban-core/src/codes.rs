//! Codes parsed at the edge ("parse, don't validate"): 办件编号, 行政区划代码, 实施编码,
//! 证照类型代码, 用户名, 手机号码 and 申请人类型. Holding one of these values means it is
//! well formed; every refusal carries a Chinese message fit to show the person who typed it.

use crate::ids::{IdError, Uscc};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a code was refused, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("办件编号应为20位数字")]
    CaseNoFormat,
    #[error("办件编号中的日期无效")]
    CaseNoDate,
    #[error("办件编号中的行政区划代码无效")]
    CaseNoRegion,
    #[error("办件编号的顺序号应在000000至999999之间")]
    CaseNoSeq,
    #[error("办件编号的日期年份应为4位")]
    CaseNoYear,
    #[error("行政区划代码应为6位数字")]
    RegionFormat,
    #[error("行政区划代码前2位不是有效的省级代码")]
    RegionProvince,
    #[error("实施编码必填")]
    ImplCodeEmpty,
    #[error("实施编码不能超过36个字符")]
    ImplCodeTooLong,
    #[error("实施编码只能包含字母、数字、横线和下划线")]
    ImplCodeCharset,
    #[error("证照类型代码应为21位（18位统一社会信用代码+3位类型序号）")]
    LicenceTypeLength,
    #[error("证照类型代码只能包含大写字母和数字")]
    LicenceTypeCharset,
    #[error("证照类型代码前18位：{0}")]
    LicenceTypeIssuer(IdError),
    #[error("证照类型代码后3位应为数字")]
    LicenceTypeSerial,
    #[error("用户名应为3-64位字母、数字、下划线、点或横线")]
    Username,
    #[error("手机号码不能为空")]
    MobileEmpty,
    #[error("手机号码应为11位数字")]
    MobileFormat,
    #[error("手机号码应以1开头，第二位为3至9")]
    MobilePrefix,
    #[error("申请人类型应为自然人或企业")]
    ApplicantKind,
}

/// Implements Display, `TryFrom<String>` and `From<T> for String` for a string-backed code
/// whose text is returned by `as_str` and which parses with `parse`.
macro_rules! string_code {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $name {
            type Error = CodeError;
            fn try_from(s: String) -> Result<Self, CodeError> {
                $name::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.as_str().to_string()
            }
        }
    };
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------
// 行政区划代码
// ---------------------------------------------------------------------------------------

/// Province-level codes of GB/T 2260 (inclusive ranges of the first two digits).
const PROVINCES: &[(u8, u8)] = &[
    (11, 15),
    (21, 23),
    (31, 37),
    (41, 46),
    (50, 54),
    (61, 65),
    (71, 71),
    (81, 82),
];

/// 行政区划代码 (GB/T 2260): six digits led by a real province code; "430000" is a province.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(input: &str) -> Result<RegionCode, CodeError> {
        let s = input.trim();
        if s.len() != 6 || !all_digits(s) {
            return Err(CodeError::RegionFormat);
        }
        let b = s.as_bytes();
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&province))
        {
            return Err(CodeError::RegionProvince);
        }
        Ok(RegionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province-level part: "43" of "431900".
    pub fn province(&self) -> &str {
        &self.0[..2]
    }
}

string_code!(RegionCode);

// ---------------------------------------------------------------------------------------
// 办件编号
// ---------------------------------------------------------------------------------------

/// 办件编号: 6-digit 行政区划代码 + YYYYMMDD + 6-digit daily sequence, 20 digits in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNo {
    // `text` comes first so the derived ordering is the ordering of the numbers as text.
    text: String,
    region: RegionCode,
    day: NaiveDate,
    seq: u32,
}

impl CaseNo {
    /// The largest daily sequence number that fits the six digits.
    pub const MAX_SEQ: u32 = 999_999;

    /// Builds the number the platform gives a new case.
    ///
    /// # Panics
    /// If `seq` exceeds [`CaseNo::MAX_SEQ`] or the year of `day` is not four digits
    /// (0–9999); use [`CaseNo::try_new`] where that can happen.
    pub fn new(region: &RegionCode, day: NaiveDate, seq: u32) -> CaseNo {
        CaseNo::try_new(region, day, seq).unwrap_or_else(|e| panic!("CaseNo::new: {e}"))
    }

    /// Builds a number, refusing a sequence or a year that does not fit its digits.
    pub fn try_new(region: &RegionCode, day: NaiveDate, seq: u32) -> Result<CaseNo, CodeError> {
        if seq > CaseNo::MAX_SEQ {
            return Err(CodeError::CaseNoSeq);
        }
        if !(0..=9999).contains(&day.year()) {
            return Err(CodeError::CaseNoYear);
        }
        let text = format!(
            "{}{:04}{:02}{:02}{:06}",
            region.as_str(),
            day.year(),
            day.month(),
            day.day(),
            seq
        );
        Ok(CaseNo {
            text,
            region: region.clone(),
            day,
            seq,
        })
    }

    pub fn parse(input: &str) -> Result<CaseNo, CodeError> {
        let s = input.trim();
        if s.len() != 20 || !all_digits(s) {
            return Err(CodeError::CaseNoFormat);
        }
        let region = RegionCode::parse(&s[..6]).map_err(|_| CodeError::CaseNoRegion)?;
        // Every byte is an ASCII digit, so these parses cannot fail.
        let num = |from: usize, to: usize| s[from..to].parse::<u32>().unwrap_or(0);
        let day = NaiveDate::from_ymd_opt(num(6, 10) as i32, num(10, 12), num(12, 14))
            .ok_or(CodeError::CaseNoDate)?;
        Ok(CaseNo {
            text: s.to_string(),
            region,
            day,
            seq: num(14, 20),
        })
    }

    pub fn region(&self) -> &RegionCode {
        &self.region
    }

    pub fn day(&self) -> NaiveDate {
        self.day
    }

    pub fn seq(&self) -> u32 {
        self.seq
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

string_code!(CaseNo);

// ---------------------------------------------------------------------------------------
// 实施编码
// ---------------------------------------------------------------------------------------

/// 实施编码: opaque to us, so only its shape is checked (1–36 ASCII letters, digits, '-', '_').
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImplCode(String);

impl ImplCode {
    pub const MAX_CHARS: usize = 36;

    pub fn parse(input: &str) -> Result<ImplCode, CodeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CodeError::ImplCodeEmpty);
        }
        if s.chars().count() > ImplCode::MAX_CHARS {
            return Err(CodeError::ImplCodeTooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CodeError::ImplCodeCharset);
        }
        Ok(ImplCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_code!(ImplCode);

// ---------------------------------------------------------------------------------------
// 证照类型代码
// ---------------------------------------------------------------------------------------

/// 证照类型代码: the defining authority's 统一社会信用代码 + a 3-digit type number, the rule
/// [`crate::catalog::validate_licence_type_code`] applies, but upper case only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LicenceTypeCode(String);

impl LicenceTypeCode {
    pub fn parse(input: &str) -> Result<LicenceTypeCode, CodeError> {
        let s = input.trim();
        if !s.is_ascii() {
            return Err(CodeError::LicenceTypeCharset);
        }
        if s.len() != 21 {
            return Err(CodeError::LicenceTypeLength);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(CodeError::LicenceTypeCharset);
        }
        Uscc::parse(&s[..18]).map_err(CodeError::LicenceTypeIssuer)?;
        if !all_digits(&s[18..]) {
            return Err(CodeError::LicenceTypeSerial);
        }
        Ok(LicenceTypeCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 统一社会信用代码 of the authority that defines the type.
    pub fn issuer(&self) -> &str {
        &self.0[..18]
    }
}

string_code!(LicenceTypeCode);

// ---------------------------------------------------------------------------------------
// 用户名
// ---------------------------------------------------------------------------------------

/// 用户名: exactly the rule `tongban-store` applies when it creates an account (accounts.rs:
/// trimmed, 3–64 ASCII letters, digits, '_', '.', '-', any of them first), so every
/// existing account name parses; a stricter rule (3–32, letter first) would lock out
/// accounts such as ones named by a mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Username, CodeError> {
        let s = input.trim();
        if !(Username::MIN_LEN..=Username::MAX_LEN).contains(&s.len())
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            return Err(CodeError::Username);
        }
        Ok(Username(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_code!(Username);

// ---------------------------------------------------------------------------------------
// 手机号码
// ---------------------------------------------------------------------------------------

/// 手机号码 (mainland): 11 digits, 1 then 3–9; "+86"/"86", spaces and hyphens are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(input: &str) -> Result<MobileNumber, CodeError> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if s.is_empty() {
            return Err(CodeError::MobileEmpty);
        }
        let digits = if let Some(rest) = s.strip_prefix("+86") {
            rest
        } else if s.len() == 13 && s.starts_with("86") {
            &s[2..]
        } else {
            s.as_str()
        };
        if digits.len() != 11 || !all_digits(digits) {
            return Err(CodeError::MobileFormat);
        }
        let b = digits.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(CodeError::MobilePrefix);
        }
        Ok(MobileNumber(digits.to_string()))
    }

    /// The 11 digits, without prefix or separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For display to others: "138****5678".
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

string_code!(MobileNumber);

// ---------------------------------------------------------------------------------------
// 申请人类型
// ---------------------------------------------------------------------------------------

/// 申请人类型: who applies decides which identity number (身份证号 or 统一社会信用代码) applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ApplicantKind {
    NaturalPerson,
    Enterprise,
}

impl ApplicantKind {
    pub const ALL: [ApplicantKind; 2] = [ApplicantKind::NaturalPerson, ApplicantKind::Enterprise];

    /// The code stored and sent over the API.
    pub fn code(self) -> &'static str {
        match self {
            ApplicantKind::NaturalPerson => "person",
            ApplicantKind::Enterprise => "enterprise",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApplicantKind::NaturalPerson => "自然人",
            ApplicantKind::Enterprise => "法人（企业）",
        }
    }

    /// Accepts the code or the label.
    pub fn parse(input: &str) -> Result<ApplicantKind, CodeError> {
        let s = input.trim();
        ApplicantKind::ALL
            .into_iter()
            .find(|k| k.code() == s || k.label() == s)
            .ok_or(CodeError::ApplicantKind)
    }
}

impl fmt::Display for ApplicantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
impl TryFrom<String> for ApplicantKind {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, CodeError> {
        ApplicantKind::parse(&s)
    }
}
impl From<ApplicantKind> for String {
    fn from(k: ApplicantKind) -> String {
        k.code().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn region(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    // --- RegionCode ---

    #[test]
    fn region_accepts_every_province_range() {
        for (lo, hi) in PROVINCES {
            for p in *lo..=*hi {
                let code = format!("{p:02}0000");
                let r = RegionCode::parse(&code).unwrap();
                assert_eq!(r.as_str(), code);
                assert_eq!(r.province(), &code[..2]);
            }
        }
        assert_eq!(region(" 431900 ").as_str(), "431900");
        assert_eq!(region("430000").to_string(), "430000");
    }

    #[test]
    fn region_refuses_codes_outside_the_province_list() {
        for p in [
            "00", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66", "70",
            "72", "80", "83", "90", "99",
        ] {
            let e = RegionCode::parse(&format!("{p}1900")).unwrap_err();
            assert_eq!(e, CodeError::RegionProvince, "{p}");
            assert_eq!(e.to_string(), "行政区划代码前2位不是有效的省级代码");
        }
    }

    #[test]
    fn region_refuses_bad_shapes() {
        for s in [
            "",
            "43190",
            "4319000",
            "43a900",
            "４３１９００",
            "43 900",
            "-43190",
        ] {
            let e = RegionCode::parse(s).unwrap_err();
            assert_eq!(e, CodeError::RegionFormat, "{s:?}");
            assert_eq!(e.to_string(), "行政区划代码应为6位数字");
        }
    }

    #[test]
    fn region_serde_is_a_checked_string() {
        assert_eq!(
            serde_json::to_string(&region("431900")).unwrap(),
            "\"431900\""
        );
        let back: RegionCode = serde_json::from_str("\"431900\"").unwrap();
        assert_eq!(back, region("431900"));
        assert!(serde_json::from_str::<RegionCode>("\"001900\"").is_err());
        assert!(serde_json::from_str::<RegionCode>("431900").is_err());
    }

    // --- CaseNo ---

    #[test]
    fn case_no_is_region_day_and_sequence() {
        let c = CaseNo::new(&region("431900"), date(2026, 3, 5), 42);
        assert_eq!(c.as_str(), "43190020260305000042");
        assert_eq!(c.as_str().len(), 20);
        assert_eq!(c.region().as_str(), "431900");
        assert_eq!(c.day(), date(2026, 3, 5));
        assert_eq!(c.seq(), 42);
        assert_eq!(c.to_string(), "43190020260305000042");
        assert_eq!(CaseNo::parse(c.as_str()).unwrap(), c);
    }

    #[test]
    fn case_no_matches_what_the_store_and_the_bench_write() {
        // tongban-store: format!("{REGION_CODE}{day}{n:06}") with day = YYYYMMDD.
        let (region_code, day, n) = ("431900", "20261231", 1u32);
        let stored = format!("{region_code}{day}{n:06}");
        let c = CaseNo::parse(&stored).unwrap();
        assert_eq!(c, CaseNo::new(&region("431900"), date(2026, 12, 31), 1));
        // The benchmark seeder: region 431900 + run % 100.
        for run in [0u32, 57, 99] {
            let s = format!("{:06}{}{:06}", 431_900 + run % 100, "20240229", 999_999);
            let c = CaseNo::parse(&s).unwrap();
            assert_eq!(c.seq(), CaseNo::MAX_SEQ);
            assert_eq!(c.day(), date(2024, 2, 29));
        }
    }

    #[test]
    fn case_no_parse_trims_and_keeps_the_sequence_bounds() {
        let c = CaseNo::parse("  43190020260101000000 ").unwrap();
        assert_eq!(c.seq(), 0);
        assert_eq!(c.as_str(), "43190020260101000000");
        let c = CaseNo::parse("43000020260101999999").unwrap();
        assert_eq!(c.region().as_str(), "430000");
        assert_eq!(c.seq(), 999_999);
    }

    #[test]
    fn case_no_refuses_anything_but_twenty_digits() {
        for s in [
            "",
            "4319002026030500004",
            "431900202603050000421",
            "43190020260305O00042",
            "4319002026-0305000042",
            "４３１９００20260305000042",
            "43190020260305 00042",
        ] {
            let e = CaseNo::parse(s).unwrap_err();
            assert_eq!(e, CodeError::CaseNoFormat, "{s:?}");
            assert_eq!(e.to_string(), "办件编号应为20位数字");
        }
    }

    #[test]
    fn case_no_refuses_dates_that_do_not_exist() {
        for s in [
            "43190020260230000001", // 30 February
            "43190020250229000001", // 2025 is not a leap year
            "43190020261301000001", // month 13
            "43190020260001000001", // month 0
            "43190020260100000001", // day 0
            "43190020260431000001", // 31 April
        ] {
            let e = CaseNo::parse(s).unwrap_err();
            assert_eq!(e, CodeError::CaseNoDate, "{s}");
            assert_eq!(e.to_string(), "办件编号中的日期无效");
        }
    }

    #[test]
    fn case_no_refuses_an_invalid_region() {
        let e = CaseNo::parse("00190020260305000042").unwrap_err();
        assert_eq!(e, CodeError::CaseNoRegion);
        assert_eq!(e.to_string(), "办件编号中的行政区划代码无效");
        assert_eq!(
            CaseNo::parse("99190020260305000042").unwrap_err(),
            CodeError::CaseNoRegion
        );
    }

    #[test]
    fn case_no_try_new_refuses_what_does_not_fit() {
        let r = region("431900");
        let e = CaseNo::try_new(&r, date(2026, 3, 5), 1_000_000).unwrap_err();
        assert_eq!(e, CodeError::CaseNoSeq);
        assert_eq!(e.to_string(), "办件编号的顺序号应在000000至999999之间");
        let e = CaseNo::try_new(&r, date(10_000, 1, 1), 1).unwrap_err();
        assert_eq!(e, CodeError::CaseNoYear);
        assert_eq!(e.to_string(), "办件编号的日期年份应为4位");
        assert_eq!(
            CaseNo::try_new(&r, date(-1, 1, 1), 1).unwrap_err(),
            CodeError::CaseNoYear
        );
        let c = CaseNo::try_new(&r, date(2026, 3, 5), 999_999).unwrap();
        assert_eq!(c.as_str(), "43190020260305999999");
    }

    #[test]
    #[should_panic(expected = "办件编号的顺序号")]
    fn case_no_new_panics_on_a_sequence_past_six_digits() {
        CaseNo::new(&region("431900"), date(2026, 3, 5), 1_000_000);
    }

    #[test]
    fn case_no_serde_is_a_checked_string() {
        let c = CaseNo::new(&region("431900"), date(2026, 3, 5), 7);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"43190020260305000007\"");
        assert_eq!(serde_json::from_str::<CaseNo>(&json).unwrap(), c);
        assert!(serde_json::from_str::<CaseNo>("\"43190020260230000001\"").is_err());
        assert!(serde_json::from_str::<CaseNo>("\"123\"").is_err());
    }

    #[test]
    fn case_nos_order_as_text() {
        let r = region("431900");
        let a = CaseNo::new(&r, date(2026, 3, 5), 2);
        let b = CaseNo::new(&r, date(2026, 3, 5), 10);
        let c = CaseNo::new(&r, date(2026, 3, 6), 1);
        assert!(a < b && b < c);
    }

    // --- ImplCode ---

    #[test]
    fn impl_code_accepts_the_catalog_codes() {
        // From the demo catalog (33 characters), the core tests and the bench seeder.
        for s in [
            "11431900064277754A010010300100000",
            "X-1",
            "A1",
            "BENCH",
            "K_2",
        ] {
            assert_eq!(ImplCode::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(ImplCode::parse("  X-1\t").unwrap().to_string(), "X-1");
        let max = "A".repeat(36);
        assert_eq!(ImplCode::parse(&max).unwrap().as_str(), max);
    }

    #[test]
    fn impl_code_refuses_empty_long_and_odd_characters() {
        for s in ["", "   "] {
            let e = ImplCode::parse(s).unwrap_err();
            assert_eq!(e, CodeError::ImplCodeEmpty);
            assert_eq!(e.to_string(), "实施编码必填");
        }
        let e = ImplCode::parse(&"X".repeat(37)).unwrap_err();
        assert_eq!(e, CodeError::ImplCodeTooLong);
        assert_eq!(e.to_string(), "实施编码不能超过36个字符");
        // Counted in characters, not bytes: 37 Chinese characters are too long...
        assert_eq!(
            ImplCode::parse(&"码".repeat(37)).unwrap_err(),
            CodeError::ImplCodeTooLong
        );
        // ...and a short one is refused for its characters.
        for s in ["实施编码", "A B", "A/B", "A.B", "A+1", "ＡＢ"] {
            let e = ImplCode::parse(s).unwrap_err();
            assert_eq!(e, CodeError::ImplCodeCharset, "{s:?}");
            assert_eq!(e.to_string(), "实施编码只能包含字母、数字、横线和下划线");
        }
    }

    #[test]
    fn impl_code_serde_is_a_checked_string() {
        let c = ImplCode::parse("X-1").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"X-1\"");
        assert_eq!(serde_json::from_str::<ImplCode>("\"X-1\"").unwrap(), c);
        assert!(serde_json::from_str::<ImplCode>("\"\"").is_err());
    }

    // --- LicenceTypeCode ---

    /// The demo licence types (crates/tongban/src/demo.rs) and the one the catalog tests use.
    const KNOWN_TYPES: &[&str] = &[
        "11431900064277754A001",
        "11431900064277754A002",
        "114319000032199051001",
        "114319000861840491001",
        "11431900001569098J001",
        "11431900056547654F001",
        "11100000000013338W001",
    ];

    #[test]
    fn licence_type_code_accepts_every_demo_type() {
        for s in KNOWN_TYPES {
            let c = LicenceTypeCode::parse(s).unwrap();
            assert_eq!(c.as_str(), *s);
            assert_eq!(c.issuer(), &s[..18]);
            // Same verdict as the rule the store and the catalog use today.
            assert!(crate::catalog::validate_licence_type_code(s).is_ok());
        }
        assert_eq!(
            LicenceTypeCode::parse(" 11431900064277754A001 ")
                .unwrap()
                .to_string(),
            "11431900064277754A001"
        );
    }

    #[test]
    fn licence_type_code_refuses_the_wrong_length() {
        for s in [
            "",
            "11431900064277754A01",
            "11431900064277754A0011",
            "DL-001",
        ] {
            let e = LicenceTypeCode::parse(s).unwrap_err();
            assert_eq!(e, CodeError::LicenceTypeLength, "{s:?}");
            assert_eq!(
                e.to_string(),
                "证照类型代码应为21位（18位统一社会信用代码+3位类型序号）"
            );
        }
    }

    #[test]
    fn licence_type_code_refuses_lower_case_and_other_characters() {
        for s in [
            "11431900064277754a001",
            "11431900064277754A-01",
            "11431900064277754A.01",
            "证照类型代码一二三四五六七八九十甲乙丙丁戊",
        ] {
            let e = LicenceTypeCode::parse(s).unwrap_err();
            assert_eq!(e, CodeError::LicenceTypeCharset, "{s:?}");
            assert_eq!(e.to_string(), "证照类型代码只能包含大写字母和数字");
        }
    }

    #[test]
    fn licence_type_code_refuses_a_bad_issuer() {
        let e = LicenceTypeCode::parse("11100000000013338X001").unwrap_err();
        assert_eq!(e, CodeError::LicenceTypeIssuer(IdError::UsccCheck));
        assert_eq!(
            e.to_string(),
            "证照类型代码前18位：统一社会信用代码校验位错误"
        );
        // 'I' is not in the GB 32100 alphabet.
        assert_eq!(
            LicenceTypeCode::parse("1143190006427775IA001").unwrap_err(),
            CodeError::LicenceTypeIssuer(IdError::UsccCharset)
        );
    }

    #[test]
    fn licence_type_code_refuses_a_non_numeric_type_number() {
        let e = LicenceTypeCode::parse("11431900064277754A00A").unwrap_err();
        assert_eq!(e, CodeError::LicenceTypeSerial);
        assert_eq!(e.to_string(), "证照类型代码后3位应为数字");
    }

    #[test]
    fn licence_type_code_serde_is_a_checked_string() {
        let c = LicenceTypeCode::parse(KNOWN_TYPES[0]).unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, format!("\"{}\"", KNOWN_TYPES[0]));
        assert_eq!(serde_json::from_str::<LicenceTypeCode>(&json).unwrap(), c);
        assert!(serde_json::from_str::<LicenceTypeCode>("\"DL-001\"").is_err());
    }

    // --- Username ---

    /// The same predicate as tongban-store's create_user / insert_user.
    fn store_accepts(username: &str) -> bool {
        let username = username.trim();
        !(username.len() < 3
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
    }

    #[test]
    fn username_accepts_every_demo_and_test_account() {
        for s in [
            "admin",
            "clerk",
            "approver",
            "head",
            "supervisor",
            "sharing",
            "auditor",
            "zhangsan",
            "enterprise",
            "lisi",
            "nobody",
            "gaj_head",
            "gaj_approver",
            "bench1700000000c3",
        ] {
            assert_eq!(Username::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn username_accepts_exactly_what_the_store_accepts() {
        let cases = [
            "abc",
            "13800000000", // a mobile number as a user name: digits first
            "_x_",
            ".a.",
            "a-b.c_d",
            "ab",
            "",
            "  ab  ",
            " abc ",
            "张三丰",
            "zhang san",
            "a@b.com",
            "user!",
        ];
        for s in cases {
            assert_eq!(Username::parse(s).is_ok(), store_accepts(s), "{s:?}");
        }
        let long = "a".repeat(64);
        assert!(Username::parse(&long).is_ok() && store_accepts(&long));
        let too_long = "a".repeat(65);
        assert!(Username::parse(&too_long).is_err() && !store_accepts(&too_long));
        assert_eq!(Username::parse(" abc ").unwrap().to_string(), "abc");
    }

    #[test]
    fn username_refusals_carry_the_store_message() {
        let too_long = "a".repeat(65);
        for s in ["", "ab", too_long.as_str(), "张三丰", "zhang san", "a@b"] {
            let e = Username::parse(s).unwrap_err();
            assert_eq!(e, CodeError::Username, "{s:?}");
            assert_eq!(
                e.to_string(),
                "用户名应为3-64位字母、数字、下划线、点或横线"
            );
        }
    }

    #[test]
    fn username_serde_is_a_checked_string() {
        let u = Username::parse("zhangsan").unwrap();
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"zhangsan\"");
        assert_eq!(serde_json::from_str::<Username>("\"zhangsan\"").unwrap(), u);
        assert!(serde_json::from_str::<Username>("\"ab\"").is_err());
    }

    // --- MobileNumber ---

    #[test]
    fn mobile_accepts_mainland_numbers_and_normalises() {
        for s in [
            "13812345678",
            " 13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "8613812345678",
            "86 13812345678",
        ] {
            assert_eq!(
                MobileNumber::parse(s).unwrap().as_str(),
                "13812345678",
                "{s:?}"
            );
        }
        for s in ["13912345678", "19912345678", "15012345678", "17012345678"] {
            assert!(MobileNumber::parse(s).is_ok(), "{s}");
        }
        // The demo applicants.
        for s in ["13807381234", "13907385678", "13800000000"] {
            assert_eq!(MobileNumber::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn mobile_masks_the_middle_four_digits() {
        assert_eq!(
            MobileNumber::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
    }

    #[test]
    fn mobile_refuses_empty() {
        for s in ["", "   ", " - "] {
            let e = MobileNumber::parse(s).unwrap_err();
            assert_eq!(e, CodeError::MobileEmpty, "{s:?}");
            assert_eq!(e.to_string(), "手机号码不能为空");
        }
    }

    #[test]
    fn mobile_refuses_wrong_length_and_non_digits() {
        for s in [
            "1381234567",
            "138123456789",
            "1381234567a",
            "+86",
            "+861381234567",
            "+1 2025550100",
            "008613812345678",
            "86138123456789",
            "１３８１２３４５６７８",
            "(138)12345678",
        ] {
            let e = MobileNumber::parse(s).unwrap_err();
            assert_eq!(e, CodeError::MobileFormat, "{s:?}");
            assert_eq!(e.to_string(), "手机号码应为11位数字");
        }
    }

    #[test]
    fn mobile_refuses_numbers_that_are_not_mainland_mobiles() {
        for s in [
            "23812345678",
            "10012345678",
            "11012345678",
            "12012345678",
            "07388211315",
        ] {
            let e = MobileNumber::parse(s).unwrap_err();
            assert_eq!(e, CodeError::MobilePrefix, "{s}");
            assert_eq!(e.to_string(), "手机号码应以1开头，第二位为3至9");
        }
    }

    #[test]
    fn mobile_serde_is_the_normalised_string() {
        let m = MobileNumber::parse("+86 138-1234-5678").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"13812345678\"");
        let back: MobileNumber = serde_json::from_str("\"+8613812345678\"").unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<MobileNumber>("\"12345\"").is_err());
    }

    // --- ApplicantKind ---

    #[test]
    fn applicant_kind_codes_and_labels() {
        assert_eq!(ApplicantKind::NaturalPerson.code(), "person");
        assert_eq!(ApplicantKind::Enterprise.code(), "enterprise");
        assert_eq!(ApplicantKind::NaturalPerson.label(), "自然人");
        assert_eq!(ApplicantKind::Enterprise.label(), "法人（企业）");
        assert_eq!(ApplicantKind::Enterprise.to_string(), "法人（企业）");
        for k in ApplicantKind::ALL {
            assert_eq!(ApplicantKind::parse(k.code()), Ok(k));
            assert_eq!(ApplicantKind::parse(k.label()), Ok(k));
            assert_eq!(ApplicantKind::parse(&format!(" {} ", k.code())), Ok(k));
        }
    }

    #[test]
    fn applicant_kind_refuses_anything_else() {
        for s in [
            "",
            "Person",
            "PERSON",
            "company",
            "企业",
            "个人",
            "法人(企业)",
        ] {
            let e = ApplicantKind::parse(s).unwrap_err();
            assert_eq!(e, CodeError::ApplicantKind, "{s:?}");
            assert_eq!(e.to_string(), "申请人类型应为自然人或企业");
        }
    }

    #[test]
    fn applicant_kind_serde_uses_the_code() {
        assert_eq!(
            serde_json::to_string(&ApplicantKind::NaturalPerson).unwrap(),
            "\"person\""
        );
        assert_eq!(
            serde_json::from_str::<ApplicantKind>("\"enterprise\"").unwrap(),
            ApplicantKind::Enterprise
        );
        assert_eq!(
            serde_json::from_str::<ApplicantKind>("\"自然人\"").unwrap(),
            ApplicantKind::NaturalPerson
        );
        assert!(serde_json::from_str::<ApplicantKind>("\"company\"").is_err());
    }
}
