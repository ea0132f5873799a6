//! Limits on the text people type that gets stored: lengths, and characters that must not
//! appear (control characters, bidi overrides that make "txt.exe" read "exe.txt", and
//! zero-width characters that make two different names look the same).

/// At most this many materials in one application.
pub const MAX_MATERIALS: usize = 50;
/// Names of people and enterprises, legal representatives.
pub const MAX_NAME: usize = 50;
/// Postal addresses.
pub const MAX_ADDRESS: usize = 200;
/// Material names and uploaded file names.
pub const MAX_FILE_NAME: usize = 100;
/// Reasons, opinions, comments, notes.
pub const MAX_COMMENT: usize = 2000;
/// Short single-line codes and labels (waybill numbers, procedure names).
pub const MAX_SHORT: usize = 100;

/// Why a text was refused; the message names the field and is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("「{field}」不能超过{max}个字符")]
    TooLong { field: String, max: usize },
    #[error("「{field}」含有不允许的字符 U+{code:04X}（控制字符、文字方向控制符或零宽字符）")]
    Forbidden { field: String, code: u32 },
    #[error("「{field}」不能超过{max}项")]
    TooMany { field: String, max: usize },
}

/// Characters never allowed in stored text: bidi embeddings, overrides and isolates, and
/// zero-width characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}' | '\u{FEFF}')
}

fn check(field: &str, value: &str, max: usize, multi_line: bool) -> Result<(), TextError> {
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed_control =
            multi_line && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if (c.is_control() && !allowed_control) || is_invisible_format(c) {
            return Err(TextError::Forbidden {
                field: field.to_string(),
                code: c as u32,
            });
        }
    }
    if value.chars().count() > max {
        return Err(TextError::TooLong {
            field: field.to_string(),
            max,
        });
    }
    Ok(())
}

/// A name or other single-line field: no control characters at all (C0, DEL, C1), no bidi
/// controls, no zero-width characters, at most `max` characters.
pub fn single_line(field: &str, value: &str, max: usize) -> Result<(), TextError> {
    check(field, value, max, false)
}

/// Multi-line text (reasons, opinions): like [`single_line`], but line feeds, tabs and the
/// CR of a CRLF (as browsers send a textarea) are allowed.
pub fn multi_line(field: &str, value: &str, max: usize) -> Result<(), TextError> {
    check(field, value, max, true)
}

/// At most `max` entries.
pub fn at_most(field: &str, n: usize, max: usize) -> Result<(), TextError> {
    if n > max {
        Err(TextError::TooMany {
            field: field.to_string(),
            max,
        })
    } else {
        Ok(())
    }
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is
/// prefixed with `'` so it is shown as text.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_controls_bidi_and_zero_width() {
        assert!(single_line("姓名", "张三", MAX_NAME).is_ok());
        assert!(single_line("姓名", "Zhang San-Li", MAX_NAME).is_ok());
        for bad in [
            "张\u{0}三",
            "张三\u{202E}gpj.exe",
            "张\u{200B}三",
            "\u{FEFF}张三",
            "张\u{2066}三",
            "张\u{7F}三",
            "张\u{85}三",
            "张\n三",
            "张\t三",
        ] {
            let e = single_line("姓名", bad, MAX_NAME).unwrap_err();
            assert!(matches!(e, TextError::Forbidden { .. }), "{bad:?}");
            assert!(e.to_string().contains("姓名"));
        }
        let e = single_line("姓名", "\u{202E}", MAX_NAME).unwrap_err();
        assert!(e.to_string().contains("U+202E"), "{e}");
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(single_line("姓名", &"张".repeat(50), MAX_NAME).is_ok());
        assert_eq!(
            single_line("姓名", &"张".repeat(51), MAX_NAME),
            Err(TextError::TooLong {
                field: "姓名".into(),
                max: 50
            })
        );
        assert!(multi_line("理由", &"因".repeat(2000), MAX_COMMENT).is_ok());
        assert!(multi_line("理由", &"因".repeat(2001), MAX_COMMENT).is_err());
    }

    #[test]
    fn multi_line_text_keeps_line_breaks_and_tabs_only() {
        assert!(multi_line("理由", "一、材料不全\r\n二、\t签字缺失\n", MAX_COMMENT).is_ok());
        assert!(multi_line("理由", "孤立的\r回车", MAX_COMMENT).is_err());
        assert!(multi_line("理由", "响铃\u{7}", MAX_COMMENT).is_err());
        assert!(multi_line("理由", "方向\u{202D}", MAX_COMMENT).is_err());
        assert!(at_most("材料", 50, MAX_MATERIALS).is_ok());
        assert!(at_most("材料", 51, MAX_MATERIALS).is_err());
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for f in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_safe(f), format!("'{f}"));
        }
        assert_eq!(csv_safe("食品经营"), "食品经营");
        assert_eq!(csv_safe(""), "");
    }
}
