//! Chinese catalog search. Item names are short, so a substring match on the name (and
//! its pinyin-free variants) finds two-character words such as 食品 without a tokenizer;
//! results are ranked so that a match at the start of the name comes first.

/// Pinyin initials of a name (食品经营许可 → "spjyxk"); other characters are kept, lower-cased.
/// People type these on phones and at the window to find an item fast.
pub fn initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .zip(name.to_pinyin())
        .filter_map(|(c, p)| match p {
            Some(p) => p.plain().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// Normalises a query: trims, drops ASCII/full-width spaces.
pub fn normalise(q: &str) -> String {
    q.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A score > 0 when `query` matches; higher is better. Each whitespace-separated term of
/// the query must match the name, the department or one of the extra texts.
pub fn score(query: &str, name: &str, department: &str, extras: &[&str]) -> u32 {
    let terms: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .map(normalise)
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return 0;
    }
    let lname = name.to_lowercase();
    let mut total = 0;
    for t in &terms {
        let s = if lname.starts_with(t.as_str()) {
            30
        } else if lname.contains(t.as_str()) {
            20
        } else if department.contains(t.as_str()) {
            8
        } else if extras.iter().any(|e| e.to_lowercase().contains(t.as_str())) {
            5
        } else {
            return 0;
        };
        total += s;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_character_words_match_inside_names() {
        assert!(score("食品", "食品经营许可", "市市场监督管理局", &[]) > 0);
        assert!(score("经营", "食品经营许可", "市市场监督管理局", &[]) > 0);
        assert_eq!(score("药品", "食品经营许可", "市市场监督管理局", &[]), 0);
    }

    #[test]
    fn prefix_ranks_above_infix_and_all_terms_must_match() {
        let a = score("食品", "食品经营许可", "", &[]);
        let b = score("食品", "小作坊食品登记", "", &[]);
        assert!(a > b && b > 0);
        assert_eq!(score("食品 不动产", "食品经营许可", "", &[]), 0);
        assert!(score("食品　许可", "食品经营许可", "", &[]) > 0);
    }

    #[test]
    fn pinyin_initials() {
        assert_eq!(initials("食品经营许可证核发"), "spjyxkzhf");
        assert_eq!(initials("A级纳税人（2026）"), "ajnsr2026");
        assert!(
            score(
                "spjy",
                "食品经营许可证核发",
                "",
                &[&initials("食品经营许可证核发")]
            ) > 0
        );
    }

    #[test]
    fn department_and_extras_match_with_lower_score() {
        let d = score("市场监督", "食品经营许可", "市市场监督管理局", &[]);
        assert!(d > 0 && d < 20);
        assert!(score("spjy", "食品经营许可", "", &["spjyxk"]) > 0);
        assert_eq!(score("   ", "食品经营许可", "", &[]), 0);
    }
}
