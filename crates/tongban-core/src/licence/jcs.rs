//! RFC 8785 JSON Canonicalization Scheme.
//!
//! Object members are sorted by the UTF-16 code units of their names, strings are escaped
//! as ECMAScript's JSON.stringify does, and no whitespace is emitted. Numbers follow the
//! ECMAScript rules; the documents this platform signs carry only integers, and a
//! fractional number is refused rather than risk a representation another
//! implementation would not reproduce.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot canonicalise: {0}")]
pub struct JcsError(pub String);

pub fn canonicalize(v: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write(v, &mut out)?;
    Ok(out)
}

fn write(v: &Value, out: &mut String) -> Result<(), JcsError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
                    out.push_str(&format!("{}", f as i128));
                } else {
                    return Err(JcsError(format!("fractional number {n} is not supported")));
                }
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write(&m[*k], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc8785_examples() {
        // Sorting by UTF-16 code units (RFC 8785 §3.2.3 example keys).
        let v = json!({ "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh", "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis" });
        let c = canonicalize(&v).unwrap();
        let order: Vec<&str> = [
            "\\r",
            "1",
            "\u{0080}",
            "\u{00f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}",
        ]
        .to_vec();
        let mut last = 0;
        for k in order {
            let at = c
                .find(&format!("\"{k}\""))
                .unwrap_or_else(|| panic!("{k} in {c}"));
            assert!(at >= last, "{c}");
            last = at;
        }
        assert_eq!(
            canonicalize(&json!({"b": [1, true, null], "a": "x\u{1}\"y"})).unwrap(),
            r#"{"a":"x\u0001\"y","b":[1,true,null]}"#
        );
        assert_eq!(
            canonicalize(&json!({"中文": "证照", "a": 1e3})).unwrap(),
            r#"{"a":1000,"中文":"证照"}"#
        );
        assert!(canonicalize(&json!({"x": 0.5})).is_err());
    }
}
