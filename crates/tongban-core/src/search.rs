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

/// Full pinyin of a name without tones or separators (食品 → "shipin"); other characters
/// are kept when ASCII alphanumeric, lower-cased.
pub fn full_pinyin(name: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::new();
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => out.push_str(p.plain()),
            None if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            None => {}
        }
    }
    out
}

/// The synonym and alias table (data, not code): what people type → words of item names.
const SYNONYMS_TSV: &str = include_str!("../data/search_synonyms.tsv");

/// The synonym table parsed: (phrase, target name words).
pub fn synonyms() -> &'static [(String, Vec<String>)] {
    static TABLE: std::sync::OnceLock<Vec<(String, Vec<String>)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        SYNONYMS_TSV
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (k, v) = l.split_once('\t')?;
                let targets: Vec<String> = v
                    .split('|')
                    .map(normalise)
                    .filter(|t| !t.is_empty())
                    .collect();
                Some((normalise(k), targets))
            })
            .collect()
    })
}

/// Target name words of every synonym phrase contained in the query.
pub fn expansions(query: &str) -> Vec<&'static str> {
    let q = normalise(query);
    if q.is_empty() {
        return vec![];
    }
    synonyms()
        .iter()
        .filter(|(k, _)| q.contains(k.as_str()))
        .flat_map(|(_, t)| t.iter().map(String::as_str))
        .collect()
}

/// Words people put around what they mean (办 / 申请 / 怎么办…); dropped from a term that
/// matches nothing as typed.
const FILLERS: &[&str] = &[
    "怎么办理",
    "如何办理",
    "怎么办",
    "怎么",
    "如何",
    "我要",
    "我想",
    "想要",
    "办理",
    "申请",
    "办",
];

fn strip_fillers(term: &str) -> String {
    let mut t = term.to_string();
    for f in FILLERS {
        t = t.replace(f, "");
    }
    t
}

/// Whether every character of `needle` appears in `hay` in order (食品许可 in
/// 食品经营许可证核发); only for needles of three characters or more.
fn subsequence(needle: &str, hay: &str) -> bool {
    if needle.chars().count() < 3 {
        return false;
    }
    let mut it = hay.chars();
    needle.chars().all(|c| it.any(|h| h == c))
}

/// What the catalog search compares a query with, for one item.
#[derive(Debug, Default, Clone, Copy)]
pub struct Searchable<'a> {
    pub name: &'a str,
    pub department: &'a str,
    /// Theme labels and keywords of the item (主题).
    pub themes: &'a [&'a str],
    /// Pinyin initials of the name (see [`initials`]).
    pub initials: &'a str,
    /// Full pinyin of the name (see [`full_pinyin`]).
    pub pinyin: &'a str,
    pub materials: &'a [&'a str],
}

/// Relevance tiers, best first: the name as typed, the name by pinyin, an alias from the
/// synonym table, the name with filler words dropped or its characters in order, a theme,
/// the department, a material.
pub mod tier {
    pub const NAME_PREFIX: u32 = 100;
    pub const NAME: u32 = 90;
    pub const PINYIN_PREFIX: u32 = 88;
    pub const PINYIN: u32 = 84;
    pub const ALIAS_PREFIX: u32 = 75;
    pub const ALIAS: u32 = 70;
    pub const NAME_LOOSE: u32 = 55;
    pub const THEME: u32 = 40;
    pub const DEPARTMENT: u32 = 20;
    pub const MATERIAL: u32 = 5;
}

fn term_score(t: &str, item: &Searchable<'_>, lname: &str) -> u32 {
    use tier::*;
    if lname.starts_with(t) {
        return NAME_PREFIX;
    }
    if lname.contains(t) {
        return NAME;
    }
    if t.is_ascii() && t.len() >= 2 {
        if item.pinyin.starts_with(t) || item.initials.starts_with(t) {
            return PINYIN_PREFIX;
        }
        if item.pinyin.contains(t) || item.initials.contains(t) {
            return PINYIN;
        }
    }
    let stripped = strip_fillers(t);
    if !stripped.is_empty() && stripped != t && lname.contains(stripped.as_str()) {
        return NAME_LOOSE;
    }
    if subsequence(t, lname) {
        return NAME_LOOSE;
    }
    if item.themes.iter().any(|k| k.contains(t) || t.contains(*k)) {
        return THEME;
    }
    if item.department.contains(t) {
        return DEPARTMENT;
    }
    if item.materials.iter().any(|m| m.to_lowercase().contains(t)) {
        return MATERIAL;
    }
    0
}

/// The relevance of an item to a query, 0 when it does not match. Every term of the query
/// must match (the weakest term decides the rank), or the query names an alias of the item.
pub fn rank(query: &str, item: &Searchable<'_>) -> u32 {
    let terms: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .map(normalise)
        .filter(|t| !t.is_empty())
        .collect();
    if terms.is_empty() {
        return 0;
    }
    let lname = item.name.to_lowercase();
    let mut weakest = u32::MAX;
    for t in &terms {
        weakest = weakest.min(term_score(t, item, &lname));
    }
    let by_terms = if weakest == u32::MAX { 0 } else { weakest };
    // Earlier targets of a synonym line are what people mean more often.
    let by_alias = expansions(query)
        .into_iter()
        .enumerate()
        .filter_map(|(n, target)| {
            let nudge = n.min(4) as u32;
            if lname.starts_with(target) {
                Some(tier::ALIAS_PREFIX - nudge)
            } else if lname.contains(target) {
                Some(tier::ALIAS - nudge)
            } else {
                None
            }
        })
        .max()
        .unwrap_or(0);
    by_terms.max(by_alias)
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

    fn item(name: &'static str) -> Searchable<'static> {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        Searchable {
            name,
            pinyin: leak(full_pinyin(name)),
            initials: leak(initials(name)),
            ..Default::default()
        }
    }

    #[test]
    fn full_pinyin_of_names() {
        assert_eq!(full_pinyin("食品经营许可"), "shipinjingyingxuke");
        assert_eq!(full_pinyin("A级"), "aji");
    }

    #[test]
    fn synonyms_expand_common_intents() {
        assert!(expansions("开公司").contains(&"企业设立登记"));
        assert!(expansions("我想开公司").contains(&"企业设立登记"));
        assert!(expansions("生孩子").contains(&"出生"));
        assert!(expansions("办护照").contains(&"普通护照签发"));
        assert!(expansions("办营业执照").contains(&"企业设立登记"));
        assert!(expansions("食品许可").contains(&"食品经营许可"));
        assert!(expansions("火星移民").is_empty());
    }

    #[test]
    fn ranking_tiers_name_then_alias_then_materials() {
        let licence_material = ["营业执照"];
        let setup = item("企业设立登记");
        let other = Searchable {
            materials: &licence_material,
            ..item("食品经营许可证核发")
        };
        let by_name = item("营业执照遗失补领");
        let a = rank("营业执照", &by_name);
        let b = rank("营业执照", &setup);
        let c = rank("营业执照", &other);
        assert!(a > b && b > c && c > 0, "{a} {b} {c}");
        assert_eq!(rank("开公司", &setup), tier::ALIAS_PREFIX);
        assert_eq!(rank("开公司", &other), 0);
    }

    #[test]
    fn full_pinyin_and_loose_matches() {
        let f = item("食品经营许可证核发");
        assert_eq!(rank("shipin", &f), tier::PINYIN_PREFIX);
        assert_eq!(rank("jingying", &f), tier::PINYIN);
        assert_eq!(rank("spjy", &f), tier::PINYIN_PREFIX);
        assert!(rank("食品许可", &f) >= tier::NAME_LOOSE);
        let p = item("普通护照签发");
        let q = item("普通护照补发");
        assert!(rank("办护照", &p) > rank("办护照", &q));
        assert_eq!(rank("办护照", &q), tier::NAME_LOOSE);
        assert_eq!(rank("火星", &p), 0);
    }
}
