//! 政务服务"好差评": the rules of a rating, its follow-up and the figures (国办发〔2019〕51号,
//! GB/T 39734-2020, GB/T 39735-2020). Pure: the store keeps ratings, the application decides
//! with these functions, the clock and calendar are passed in.

use crate::calendar::{CalendarError, WorkCalendar};
use crate::case::{Case, Status};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest comment kept with a rating, in characters.
pub const MAX_COMMENT_CHARS: usize = 500;
/// 回访 (call-back) of a 差评: within this many working days.
pub const CALLBACK_WORKING_DAYS: u32 = 1;
/// 整改 (rectification) of a 差评: the default number of working days (a local setting).
pub const DEFAULT_RECTIFY_WORKING_DAYS: u32 = 5;

/// The five levels, as stars.
pub fn level_label(level: u8) -> &'static str {
    match level {
        5 => "非常满意",
        4 => "满意",
        3 => "基本满意",
        2 => "不满意",
        1 => "非常不满意",
        _ => "",
    }
}

/// Levels 1 and 2 are 差评.
pub fn is_bad(level: u8) -> bool {
    matches!(level, 1 | 2)
}

/// Levels 4 and 5 are 好评.
pub fn is_good(level: u8) -> bool {
    matches!(level, 4 | 5)
}

/// A name as a public screen shows it: the first character, the rest starred (张*, 欧**).
pub fn mask_name(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => std::iter::once(first).chain(c.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// Where a rating was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// PC 端
    Web,
    /// 移动端
    Mobile,
    /// 大厅评价器 (the pad at the window)
    Pad,
    /// 二维码 (at the window or on the receipt)
    Qr,
    /// 短信
    Sms,
    /// 电话 (12345)
    Hotline,
}

impl RatingChannel {
    pub const ALL: [RatingChannel; 6] = [
        RatingChannel::Web,
        RatingChannel::Mobile,
        RatingChannel::Pad,
        RatingChannel::Qr,
        RatingChannel::Sms,
        RatingChannel::Hotline,
    ];
    pub fn code(self) -> &'static str {
        match self {
            RatingChannel::Web => "web",
            RatingChannel::Mobile => "mobile",
            RatingChannel::Pad => "pad",
            RatingChannel::Qr => "qr",
            RatingChannel::Sms => "sms",
            RatingChannel::Hotline => "hotline",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RatingChannel::Web => "PC端",
            RatingChannel::Mobile => "移动端",
            RatingChannel::Pad => "大厅评价器",
            RatingChannel::Qr => "二维码",
            RatingChannel::Sms => "短信",
            RatingChannel::Hotline => "电话",
        }
    }
    pub fn parse(s: &str) -> Option<RatingChannel> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// What moment of the case is rated: the window visit (一次一评, after 受理) or the whole
/// matter (一事一评, after 办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Acceptance,
    Completion,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Acceptance => "acceptance",
            Stage::Completion => "completion",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Stage::Acceptance => "受理",
            Stage::Completion => "办结",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "acceptance" => Some(Stage::Acceptance),
            "completion" => Some(Stage::Completion),
            _ => None,
        }
    }
}

/// The national indicator set for online service (fixed, no local edits).
pub const ONLINE_INDICATORS: [&str; 5] = [
    "整体满意度",
    "办事效率",
    "办事指南精确度",
    "办事便捷度",
    "平台操作性",
];
/// The national indicator set for in-person service.
pub const IN_PERSON_INDICATORS: [&str; 4] = ["整体满意度", "服务效率", "服务水平", "服务态度"];

/// The indicator set a rating is given against: in person for the window visit and for
/// the window's own channels (pad, QR), online otherwise.
pub fn indicator_set(stage: Stage, channel: RatingChannel, case: &Case) -> &'static [&'static str] {
    let at_window = matches!(channel, RatingChannel::Pad | RatingChannel::Qr)
        || (stage == Stage::Acceptance && case.channel == crate::case::Channel::Window);
    if at_window {
        &IN_PERSON_INDICATORS
    } else {
        &ONLINE_INDICATORS
    }
}

/// Why a rating is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("评价等级必须是 1 到 5")]
    BadLevel,
    #[error("评价指标「{0}」不在本渠道的国家指标体系内")]
    UnknownIndicator(String),
    #[error("评价指标「{0}」的等级必须是 1 到 5")]
    BadIndicatorLevel(String),
    #[error("评价意见不能超过 {MAX_COMMENT_CHARS} 字")]
    CommentTooLong,
    #[error("办件尚未{0}，暂不能评价该环节")]
    StageNotReached(&'static str),
}

/// Has the case reached the stage to be rated?
pub fn stage_reached(case: &Case, stage: Stage) -> bool {
    match stage {
        Stage::Acceptance => case.accepted_on.is_some(),
        Stage::Completion => {
            case.completed_on.is_some()
                || matches!(
                    case.status,
                    Status::Completed | Status::Dispatched | Status::Delivered
                )
        }
    }
}

/// A rating as given, checked: level, indicators of the channel's set, comment bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub level: u8,
    pub indicators: BTreeMap<String, u8>,
    pub comment: String,
}

/// Checks a rating against the case and the national indicator set. An indicator left out
/// is simply not rated; 整体满意度 defaults to the overall level.
pub fn check(
    case: &Case,
    stage: Stage,
    channel: RatingChannel,
    level: i64,
    indicators: &BTreeMap<String, i64>,
    comment: &str,
) -> Result<Checked, RatingError> {
    if !(1..=5).contains(&level) {
        return Err(RatingError::BadLevel);
    }
    let set = indicator_set(stage, channel, case);
    let mut out = BTreeMap::new();
    for (k, v) in indicators {
        if !set.contains(&k.as_str()) {
            return Err(RatingError::UnknownIndicator(k.chars().take(20).collect()));
        }
        if !(1..=5).contains(v) {
            return Err(RatingError::BadIndicatorLevel(k.clone()));
        }
        out.insert(k.clone(), *v as u8);
    }
    out.entry("整体满意度".to_string()).or_insert(level as u8);
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(RatingError::CommentTooLong);
    }
    if !stage_reached(case, stage) {
        return Err(RatingError::StageNotReached(stage.label()));
    }
    Ok(Checked {
        level: level as u8,
        indicators: out,
        comment: comment.to_string(),
    })
}

/// The due dates of a 差评's follow-up, counted from the day it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpDue {
    pub callback: NaiveDate,
    pub rectify: NaiveDate,
}

pub fn follow_up_due(
    rated_on: NaiveDate,
    rectify_days: u32,
    cal: &WorkCalendar,
) -> Result<FollowUpDue, CalendarError> {
    Ok(FollowUpDue {
        callback: cal.add_working_days(rated_on, CALLBACK_WORKING_DAYS)?,
        rectify: cal.add_working_days(rated_on, rectify_days)?,
    })
}

/// How a due date stands on `today`, as the supervision board shows cases: green while
/// more than a working day remains, yellow on the last day, red once passed.
pub fn light(due: NaiveDate, done: bool, today: NaiveDate) -> &'static str {
    if done {
        "done"
    } else if today > due {
        "red"
    } else if today == due {
        "yellow"
    } else {
        "green"
    }
}

/// One rating as the figures see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub level: u8,
    pub excluded: bool,
    /// The applicant is known by name (every rating tongban takes is 实名).
    pub real_name: bool,
    /// For a 差评: called back, rectified, rectified by the due date.
    pub called_back: bool,
    pub rectified: bool,
    pub rectified_on_time: bool,
}

/// A ratio with its numerator and denominator; `rate` is count/of to 4 decimals (0 when
/// there is nothing to divide).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub count: u64,
    pub of: u64,
    pub rate: f64,
}

impl Ratio {
    pub fn new(count: u64, of: u64) -> Ratio {
        let rate = if of == 0 {
            0.0
        } else {
            (count as f64 / of as f64 * 10_000.0).round() / 10_000.0
        };
        Ratio { count, of, rate }
    }
    /// As people read it: 66.67%（2/3）.
    pub fn percent(&self) -> String {
        format!("{:.2}%（{}/{}）", self.rate * 100.0, self.count, self.of)
    }
}

/// The published figures over a set of ratings. Excluded ratings are not counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub total: u64,
    pub by_level: BTreeMap<String, u64>,
    pub good: Ratio,
    pub bad: Ratio,
    pub rectified: Ratio,
    pub rectified_on_time: Ratio,
    pub called_back: Ratio,
}

pub fn figures<'a>(facts: impl IntoIterator<Item = &'a Fact>) -> Figures {
    let mut by_level: BTreeMap<String, u64> = (1..=5).map(|l| (l.to_string(), 0)).collect();
    let (mut total, mut good, mut bad) = (0, 0, 0);
    let (mut rectified, mut on_time, mut real_bad, mut called) = (0, 0, 0, 0);
    for f in facts.into_iter().filter(|f| !f.excluded) {
        total += 1;
        *by_level.entry(f.level.to_string()).or_default() += 1;
        if is_good(f.level) {
            good += 1;
        }
        if is_bad(f.level) {
            bad += 1;
            rectified += u64::from(f.rectified);
            on_time += u64::from(f.rectified_on_time);
            if f.real_name {
                real_bad += 1;
                called += u64::from(f.called_back);
            }
        }
    }
    Figures {
        total,
        by_level,
        good: Ratio::new(good, total),
        bad: Ratio::new(bad, total),
        rectified: Ratio::new(rectified, bad),
        rectified_on_time: Ratio::new(on_time, bad),
        called_back: Ratio::new(called, real_bad),
    }
}

/// A QR code of `text` as an SVG image (for the receipt's rating link).
pub fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
    else {
        return String::new();
    };
    let w = code.width();
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" width=\"160\" height=\"160\" role=\"img\" aria-label=\"评价二维码\"><rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
        w + 8
    );
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            s.push_str(&format!("M{} {}h1v1h-1z", i % w + 4, i / w + 4));
        }
    }
    s.push_str("\"/></svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(level: u8) -> Fact {
        Fact {
            level,
            excluded: false,
            real_name: true,
            called_back: false,
            rectified: false,
            rectified_on_time: false,
        }
    }

    #[test]
    fn rates_have_four_decimals_and_excluded_ratings_do_not_count() {
        let mut facts = vec![fact(5), fact(4), fact(1)];
        facts[2].called_back = true;
        let mut excluded = fact(1);
        excluded.excluded = true;
        facts.push(excluded);
        let f = figures(&facts);
        assert_eq!(f.total, 3);
        assert_eq!(f.by_level["1"], 1);
        assert_eq!((f.good.count, f.good.of, f.good.rate), (2, 3, 0.6667));
        assert_eq!((f.bad.count, f.bad.of, f.bad.rate), (1, 3, 0.3333));
        assert_eq!((f.called_back.count, f.called_back.of), (1, 1));
        assert_eq!(f.rectified.rate, 0.0);
        assert_eq!(Ratio::new(0, 0).rate, 0.0);
    }

    #[test]
    fn call_back_is_due_the_next_working_day_across_a_holiday() {
        let cal = WorkCalendar::builtin();
        // 2026-04-30 (Thursday) before the 劳动节 break (5 月 1–5 日): due on 5 月 6 日.
        let d = NaiveDate::from_ymd_opt(2026, 4, 30).unwrap();
        let due = follow_up_due(d, DEFAULT_RECTIFY_WORKING_DAYS, &cal).unwrap();
        assert_eq!(due.callback, NaiveDate::from_ymd_opt(2026, 5, 6).unwrap());
        assert!(due.rectify > due.callback);
    }

    #[test]
    fn levels_channels_and_stages_parse_and_refuse() {
        assert_eq!(RatingChannel::parse("pad"), Some(RatingChannel::Pad));
        assert_eq!(RatingChannel::parse("fax"), None);
        assert_eq!(Stage::parse("completion"), Some(Stage::Completion));
        assert_eq!(Stage::parse("done"), None);
        assert!(is_bad(2) && !is_bad(3) && is_good(4) && !is_good(3));
        assert_eq!(level_label(3), "基本满意");
    }

    #[test]
    fn lights_turn_yellow_on_the_due_day_and_red_after() {
        let due = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        assert_eq!(light(due, false, due.pred_opt().unwrap()), "green");
        assert_eq!(light(due, false, due), "yellow");
        assert_eq!(light(due, false, due.succ_opt().unwrap()), "red");
        assert_eq!(light(due, true, due.succ_opt().unwrap()), "done");
    }
}
