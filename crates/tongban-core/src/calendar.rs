//! The legal clock: China's working-day calendar (法定工作日历).
//!
//! Every year the General Office of the State Council publishes the holiday arrangement
//! (国务院办公厅关于某年部分节假日安排的通知): the statutory rest periods, which may include
//! weekdays, and the 调休 make-up working days, which are Saturdays or Sundays. A day is a
//! working day when it is Monday–Friday and not a holiday, or when it is a make-up working day.
//!
//! The arrangements are kept as one small text file per year under `data/calendar/`:
//!
//! ```text
//! # comment lines start with '#'
//! year 2026
//! holiday 2026-01-01 2026-01-03   # 元旦 (inclusive range, or a single date)
//! workday 2026-01-04              # 元旦调休
//! ```
//!
//! A file lists the days that fall in its year, whichever year's notice announced them.
//!
//! **A deadline is never refused for want of a table.** The notice for next year comes out
//! between October and December, so deadlines regularly reach a year whose arrangement is
//! not known yet. A year with no loaded table is computed *weekends-only* (Saturdays and
//! Sundays off, no holidays, no make-up days) and is *provisional*
//! ([`WorkCalendar::is_provisional_year`]); a due date that counted or landed on a day of a
//! provisional year must be shown as provisional ([`WorkCalendar::depends_on_provisional`]),
//! and recomputed once the year is loaded ([`WorkCalendar::insert_year`]).
//!
//! Provisional is decided per year: the days of a loaded year are known, even though the
//! next year's notice may still place a 元旦 rest day or make-up day in its last days of
//! December (as the 2019 and 2023 notices did).
//!
//! The arithmetic is bounded: it only handles dates from [`FIRST_YEAR`] to [`LAST_YEAR`]
//! ([`CalendarError::OutOfRange`]) and periods of at most [`MAX_DAYS`] days
//! ([`CalendarError::TooManyDays`]).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

/// The first year the calendar computes with (and a year table may name).
pub const FIRST_YEAR: i32 = 2000;
/// The last year the calendar computes with (and a year table may name).
pub const LAST_YEAR: i32 = 2100;
/// The longest period, in working or natural days, that a deadline may add (about ten years).
pub const MAX_DAYS: u32 = 3660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A year table that does not parse; `line` is 1-based.
    #[error("工作日历第 {line} 行：{message}")]
    Parse { line: usize, message: String },
    /// No longer produced by the arithmetic: a year with no table is computed weekends-only
    /// and marked provisional (see [`WorkCalendar::is_provisional_year`]). Kept so that code
    /// naming it still compiles.
    #[error("{0} 年的工作日历尚未载入")]
    UnknownYear(i32),
    /// A date outside [`FIRST_YEAR`]..=[`LAST_YEAR`] was given, or the computation would
    /// reach one.
    #[error("日期 {0} 超出期限计算支持的范围（2000—2100 年）")]
    OutOfRange(NaiveDate),
    /// A period longer than [`MAX_DAYS`] days.
    #[error("期限 {0} 天超过上限（最多 3660 天）")]
    TooManyDays(u32),
}

/// The official arrangement of one year: its rest days and its make-up working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearTable {
    pub year: i32,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl YearTable {
    fn empty(year: i32) -> YearTable {
        YearTable {
            year,
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }

    /// Parses the line format described in the module documentation. Strict: the first
    /// non-comment line must be the single `year` line (a year from [`FIRST_YEAR`] to
    /// [`LAST_YEAR`]), and every date must be a valid `YYYY-MM-DD` date inside that year.
    /// An error names the offending line.
    pub fn parse(text: &str) -> Result<YearTable, CalendarError> {
        let mut table: Option<YearTable> = None;
        let mut line_count = 0;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            line_count = line;
            let content = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
            if content.is_empty() {
                continue;
            }
            let mut fields = content.split_whitespace();
            let keyword = fields.next().unwrap_or_default();
            let args: Vec<&str> = fields.collect();
            match keyword {
                "year" => {
                    if let Some(existing) = &table {
                        return Err(parse_error(
                            line,
                            format!("重复的 year 行（已指定 {} 年）", existing.year),
                        ));
                    }
                    table = Some(YearTable::empty(parse_year(line, &args)?));
                }
                "holiday" | "workday" => {
                    let Some(table) = table.as_mut() else {
                        return Err(parse_error(line, format!("{keyword} 行出现在 year 行之前")));
                    };
                    let (first, last) = parse_range(line, keyword, &args, table.year)?;
                    let is_holiday = keyword == "holiday";
                    for day in first.iter_days().take_while(|day| *day <= last) {
                        table.add_day(line, day, is_holiday)?;
                    }
                }
                other => {
                    return Err(parse_error(
                        line,
                        format!("未知关键字「{other}」（应为 year、holiday 或 workday）"),
                    ));
                }
            }
        }
        table.ok_or_else(|| parse_error(line_count.max(1), "缺少 year 行".to_string()))
    }

    fn add_day(
        &mut self,
        line: usize,
        day: NaiveDate,
        is_holiday: bool,
    ) -> Result<(), CalendarError> {
        if is_holiday {
            if self.workdays.contains(&day) {
                return Err(both_error(line, day));
            }
            self.holidays.insert(day);
        } else {
            if !is_weekend(day) {
                return Err(parse_error(
                    line,
                    format!(
                        "调休上班日 {day} 是{}；调休上班日必须是星期六或星期日",
                        weekday_name(day.weekday())
                    ),
                ));
            }
            if self.holidays.contains(&day) {
                return Err(both_error(line, day));
            }
            self.workdays.insert(day);
        }
        Ok(())
    }

    /// The rest days of the year (including weekend days inside the announced periods), in order.
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// The make-up working days (调休上班的周六、周日) of the year, in order.
    pub fn workdays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.workdays.iter().copied()
    }

    /// Writes the table back in the line format, consecutive days merged into ranges,
    /// in date order. `YearTable::parse(&t.to_text())` gives back `t`.
    pub fn to_text(&self) -> String {
        let mut entries: Vec<(NaiveDate, NaiveDate, &str)> = runs(&self.holidays)
            .into_iter()
            .map(|(first, last)| (first, last, "holiday"))
            .chain(
                runs(&self.workdays)
                    .into_iter()
                    .map(|(first, last)| (first, last, "workday")),
            )
            .collect();
        entries.sort_by_key(|&(first, _, _)| first);
        let mut out = format!("year {}\n", self.year);
        for (first, last, keyword) in entries {
            let line = if first == last {
                format!("{keyword} {first}\n")
            } else {
                format!("{keyword} {first} {last}\n")
            };
            out.push_str(&line);
        }
        out
    }

    /// Only meaningful for a day of `self.year`; the caller picks the table by year.
    fn is_working_day(&self, day: NaiveDate) -> bool {
        self.workdays.contains(&day) || (!self.holidays.contains(&day) && !is_weekend(day))
    }
}

fn parse_error(line: usize, message: String) -> CalendarError {
    CalendarError::Parse { line, message }
}

fn both_error(line: usize, day: NaiveDate) -> CalendarError {
    parse_error(line, format!("{day} 同时被列为休息日和调休上班日"))
}

fn parse_year(line: usize, args: &[&str]) -> Result<i32, CalendarError> {
    let [text] = args else {
        return Err(parse_error(
            line,
            "year 行应只有一个值，例如「year 2026」".to_string(),
        ));
    };
    match text.parse::<i32>() {
        Ok(year) if text.len() == 4 && (FIRST_YEAR..=LAST_YEAR).contains(&year) => Ok(year),
        _ => Err(parse_error(
            line,
            format!("无效的年份「{text}」（应为 2000 至 2100 之间的四位数年份）"),
        )),
    }
}

/// Parses the arguments of a `holiday`/`workday` line: one date, or an inclusive range.
fn parse_range(
    line: usize,
    keyword: &str,
    args: &[&str],
    year: i32,
) -> Result<(NaiveDate, NaiveDate), CalendarError> {
    let (first, last) = match args {
        [single] => {
            let day = parse_date(line, single)?;
            (day, day)
        }
        [first, last] => (parse_date(line, first)?, parse_date(line, last)?),
        _ => {
            return Err(parse_error(
                line,
                format!(
                    "{keyword} 行应有一个日期或两个日期（闭区间），实际有 {} 个值",
                    args.len()
                ),
            ));
        }
    };
    for day in [first, last] {
        if day.year() != year {
            return Err(parse_error(line, format!("日期 {day} 不在 {year} 年内")));
        }
    }
    if last < first {
        return Err(parse_error(
            line,
            format!("区间终点 {last} 早于起点 {first}"),
        ));
    }
    Ok((first, last))
}

/// Accepts exactly `YYYY-MM-DD` (zero-padded) naming a real calendar date.
fn parse_date(line: usize, text: &str) -> Result<NaiveDate, CalendarError> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = if shape_ok {
        // All ten bytes are ASCII, so slicing on these indices is safe.
        match (
            text[0..4].parse::<i32>(),
            text[5..7].parse::<u32>(),
            text[8..10].parse::<u32>(),
        ) {
            (Ok(year), Ok(month), Ok(day)) => NaiveDate::from_ymd_opt(year, month, day),
            _ => None,
        }
    } else {
        None
    };
    date.ok_or_else(|| {
        parse_error(
            line,
            format!("无效的日期「{text}」（应为 YYYY-MM-DD 格式的真实日期）"),
        )
    })
}

/// Groups an ordered set of days into runs of consecutive days.
fn runs(days: &BTreeSet<NaiveDate>) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut current: Option<(NaiveDate, NaiveDate)> = None;
    for &day in days {
        current = match current {
            Some((first, last)) if last.succ_opt() == Some(day) => Some((first, day)),
            Some(run) => {
                out.push(run);
                Some((day, day))
            }
            None => Some((day, day)),
        };
    }
    out.extend(current);
    out
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

/// `day`, if it lies in the years the calendar computes with.
fn in_range(day: NaiveDate) -> Result<NaiveDate, CalendarError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&day.year()) {
        Ok(day)
    } else {
        Err(CalendarError::OutOfRange(day))
    }
}

/// The day after `day`, refused past [`LAST_YEAR`].
fn next_day(day: NaiveDate) -> Result<NaiveDate, CalendarError> {
    match day.succ_opt() {
        Some(next) => in_range(next),
        None => Err(CalendarError::OutOfRange(day)),
    }
}

/// A period length, refused beyond [`MAX_DAYS`].
fn check_days(n: u32) -> Result<u32, CalendarError> {
    if n <= MAX_DAYS {
        Ok(n)
    } else {
        Err(CalendarError::TooManyDays(n))
    }
}

const BUILTIN_YEARS: [(i32, &str); 8] = [
    (2019, include_str!("../data/calendar/2019.txt")),
    (2020, include_str!("../data/calendar/2020.txt")),
    (2021, include_str!("../data/calendar/2021.txt")),
    (2022, include_str!("../data/calendar/2022.txt")),
    (2023, include_str!("../data/calendar/2023.txt")),
    (2024, include_str!("../data/calendar/2024.txt")),
    (2025, include_str!("../data/calendar/2025.txt")),
    (2026, include_str!("../data/calendar/2026.txt")),
];

/// Working-day calendar: the loaded years by their official tables, every other year
/// (from [`FIRST_YEAR`] to [`LAST_YEAR`]) weekends-only and provisional.
#[derive(Clone, Debug, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearTable>,
}

impl WorkCalendar {
    /// The official arrangements shipped with the crate (2019–2026), parsed once per process.
    pub fn builtin() -> WorkCalendar {
        static BUILTIN: OnceLock<WorkCalendar> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut calendar = WorkCalendar::default();
                for (year, text) in BUILTIN_YEARS {
                    let table = YearTable::parse(text)
                        .unwrap_or_else(|e| panic!("内置工作日历 {year} 年无效：{e}"));
                    assert_eq!(table.year, year, "内置工作日历文件 {year}.txt");
                    calendar.insert_year(table);
                }
                calendar
            })
            .clone()
    }

    /// Adds a year, replacing that year's table if one is already loaded. The year is no
    /// longer provisional; due dates computed before should be recomputed.
    pub fn insert_year(&mut self, table: YearTable) {
        self.years.insert(table.year, table);
    }

    /// The loaded years, ascending (the same as [`Self::known_years`]).
    pub fn years(&self) -> Vec<i32> {
        self.known_years()
    }

    /// The years with a loaded (or built-in) table, ascending. Every other year is provisional.
    pub fn known_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The table of one loaded year.
    pub fn year(&self, year: i32) -> Option<&YearTable> {
        self.years.get(&year)
    }

    /// True when no table is loaded for `year`, so its days are counted weekends-only.
    pub fn is_provisional_year(&self, year: i32) -> bool {
        !self.years.contains_key(&year)
    }

    /// The provisional years among the years of the days from `from` to `to` inclusive
    /// (in either order), ascending.
    pub fn provisional_years_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<i32> {
        let (first, last) = if from <= to { (from, to) } else { (to, from) };
        (first.year()..=last.year())
            .filter(|year| self.is_provisional_year(*year))
            .collect()
    }

    /// True when counting from `from` to `to` went through a provisional day: some day d
    /// with from < d <= to lies in a provisional year. A due date computed from `from`
    /// (see [`Self::add_working_days`], [`Self::add_natural_days`]) is provisional exactly
    /// when this holds for (from, due). False when `to <= from`.
    pub fn depends_on_provisional(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let Some(first) = from.succ_opt() else {
            return false;
        };
        if to < first {
            return false;
        }
        (first.year()..=to.year()).any(|year| self.is_provisional_year(year))
    }

    /// Infallible core: by the year's table, or weekends-only for a provisional year.
    fn working(&self, day: NaiveDate) -> bool {
        match self.years.get(&day.year()) {
            Some(table) => table.is_working_day(day),
            None => !is_weekend(day),
        }
    }

    /// Whether `day` is a working day: by its year's table, or weekends-only (Monday–Friday)
    /// when the year is provisional. Refused only outside [`FIRST_YEAR`]..=[`LAST_YEAR`].
    pub fn is_working_day(&self, day: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.working(in_range(day)?))
    }

    /// The day of the event is not counted; the result is the Nth working day after `from`.
    /// n = 0 returns `from`. Days of provisional years count weekends-only; check
    /// [`Self::depends_on_provisional`]`(from, result)`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut remaining = check_days(n)?;
        let mut day = in_range(from)?;
        while remaining > 0 {
            day = next_day(day)?;
            if self.working(day) {
                remaining -= 1;
            }
        }
        Ok(day)
    }

    /// A period of `n` natural days (自然日) starting the day after `from`.
    ///
    /// As in 《民法典》第二百零一条, the day of the event is not counted; and per 第二百零三条
    /// ("期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日"), followed in
    /// 行政许可法 practice, when the last day is a rest day (a weekend day or a holiday) the
    /// deadline moves to the next working day. A make-up working day (调休上班的周末) is a
    /// working day, so a deadline falling on one does not move. n = 0 gives `from`, moved the
    /// same way if it is a rest day. In a provisional year only weekends are rest days, so a
    /// last day there moves at most to the next Monday; check
    /// [`Self::depends_on_provisional`]`(from, result)` (and, for n = 0, whether `from`'s own
    /// year is provisional).
    pub fn add_natural_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let n = check_days(n)?;
        let from = in_range(from)?;
        let mut day = match from.checked_add_days(Days::new(u64::from(n))) {
            Some(day) => in_range(day)?,
            None => return Err(CalendarError::OutOfRange(from)),
        };
        while !self.working(day) {
            day = next_day(day)?;
        }
        Ok(day)
    }

    /// Number of working days d with from < d <= to (0 if to <= from). Days of provisional
    /// years count weekends-only; check [`Self::depends_on_provisional`]`(from, to)`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut day = in_range(from)?;
        let to = in_range(to)?;
        let mut count = 0;
        while day < to {
            day = next_day(day)?;
            if self.working(day) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Adds `n` days in the given unit (see [`Self::add_working_days`] and
    /// [`Self::add_natural_days`]).
    pub fn add(&self, from: NaiveDate, n: u32, unit: TimeUnit) -> Result<NaiveDate, CalendarError> {
        match unit {
            TimeUnit::WorkingDays => self.add_working_days(from, n),
            TimeUnit::NaturalDays => self.add_natural_days(from, n),
        }
    }
}

/// The unit of a time limit (时限单位) as written in service catalogs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TimeUnit {
    /// 工作日
    WorkingDays,
    /// 自然日
    NaturalDays,
}

impl TimeUnit {
    pub fn parse(text: &str) -> Option<TimeUnit> {
        match text.trim() {
            "工作日" => Some(TimeUnit::WorkingDays),
            "自然日" => Some(TimeUnit::NaturalDays),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TimeUnit::WorkingDays => "工作日",
            TimeUnit::NaturalDays => "自然日",
        }
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn parse_failure(text: &str) -> (usize, String) {
        match YearTable::parse(text) {
            Err(CalendarError::Parse { line, message }) => (line, message),
            other => panic!("expected a parse error for {text:?}, got {other:?}"),
        }
    }

    /// Working days per year, cross-checked with an independent Python computation from the
    /// same data files. 2025 and 2026 have 248 because the 2024 revision of
    /// 《全国年节及纪念日放假办法》 added two statutory holidays (农历除夕, 5月2日).
    const WORKING_DAYS_PER_YEAR: [(i32, u32); 8] = [
        (2019, 250),
        (2020, 249),
        (2021, 250),
        (2022, 249),
        (2023, 249),
        (2024, 251),
        (2025, 248),
        (2026, 248),
    ];

    #[test]
    fn builtin_has_2019_to_2026() {
        let calendar = WorkCalendar::builtin();
        assert_eq!(calendar.years(), (2019..=2026).collect::<Vec<_>>());
        for (year, text) in BUILTIN_YEARS {
            assert_eq!(YearTable::parse(text).unwrap().year, year);
        }
    }

    #[test]
    fn builtin_working_day_totals() {
        let calendar = WorkCalendar::builtin();
        for (year, expected) in WORKING_DAYS_PER_YEAR {
            let counted = date(year, 1, 1)
                .iter_days()
                .take_while(|day| day.year() == year)
                .filter(|day| calendar.is_working_day(*day).unwrap())
                .count();
            assert_eq!(counted, expected as usize, "working days in {year}");
            let between = calendar
                .working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
                .unwrap();
            assert_eq!(between, expected, "working_days_between over {year}");
            assert!((248..=251).contains(&expected));

            let table = calendar.year(year).unwrap();
            assert!(table.holidays().all(|day| day.year() == year));
            assert!(table
                .workdays()
                .all(|day| day.year() == year && is_weekend(day)));
            assert!(table.holidays().count() >= 25, "holidays in {year}");
        }
    }

    #[test]
    fn arrangement_2026() {
        let calendar = WorkCalendar::builtin();
        let working = |y, m, d| calendar.is_working_day(date(y, m, d)).unwrap();
        assert!(working(2026, 2, 14));
        assert!(working(2026, 2, 28));
        for day in 15..=23 {
            assert!(!working(2026, 2, day), "2026-02-{day}");
        }
        assert!(working(2026, 2, 24));
        assert!(working(2026, 9, 20));
        assert!(working(2026, 10, 10));
        for day in 1..=7 {
            assert!(!working(2026, 10, day), "2026-10-{day}");
        }
        assert!(!working(2026, 1, 1));
        assert!(working(2026, 1, 4));
        assert!(!working(2026, 3, 7)); // an ordinary Saturday
        assert!(working(2026, 3, 9)); // an ordinary Monday
    }

    #[test]
    fn arrangement_2020_uses_the_extended_spring_festival() {
        let calendar = WorkCalendar::builtin();
        assert!(calendar.is_working_day(date(2020, 1, 19)).unwrap());
        assert!(!calendar.is_working_day(date(2020, 1, 31)).unwrap());
        assert!(!calendar.is_working_day(date(2020, 2, 1)).unwrap());
        assert!(calendar.is_working_day(date(2020, 2, 3)).unwrap());
        assert_eq!(
            calendar.add_working_days(date(2020, 1, 23), 1),
            Ok(date(2020, 2, 3))
        );
    }

    #[test]
    fn add_working_days_over_the_spring_festival() {
        let calendar = WorkCalendar::builtin();
        // Accepted Friday 2026-02-13: Sat 14 (make-up), 24, 25, 26, 27.
        assert_eq!(
            calendar.add_working_days(date(2026, 2, 13), 5),
            Ok(date(2026, 2, 27))
        );
    }

    #[test]
    fn add_working_days_over_national_day_ends_on_make_up_saturday() {
        let calendar = WorkCalendar::builtin();
        assert_eq!(
            calendar.add_working_days(date(2026, 9, 30), 3),
            Ok(date(2026, 10, 10))
        );
    }

    #[test]
    fn add_zero_working_days_returns_the_start() {
        let calendar = WorkCalendar::builtin();
        assert_eq!(
            calendar.add_working_days(date(2026, 3, 4), 0),
            Ok(date(2026, 3, 4))
        );
        // Even on a holiday: nothing is counted.
        assert_eq!(
            calendar.add_working_days(date(2026, 2, 16), 0),
            Ok(date(2026, 2, 16))
        );
        assert_eq!(
            calendar.working_days_between(date(2026, 3, 4), date(2026, 3, 4)),
            Ok(0)
        );
    }

    #[test]
    fn add_working_days_across_a_year_boundary() {
        let calendar = WorkCalendar::builtin();
        // Tue 2025-12-30: Wed 31, (元旦 1–3 Jan off), Sun 4 Jan (make-up), Mon 5 Jan.
        assert_eq!(
            calendar.add_working_days(date(2025, 12, 30), 3),
            Ok(date(2026, 1, 5))
        );
        assert_eq!(
            calendar.add_working_days(date(2019, 12, 31), 1),
            Ok(date(2020, 1, 2))
        );
        assert_eq!(
            calendar.working_days_between(date(2025, 12, 30), date(2026, 1, 5)),
            Ok(3)
        );
    }

    /// A small 2027 table in the data-file format, standing in for the not yet published
    /// notice: only 元旦 is off.
    const TEST_2027: &str = "# test table\nyear 2027\nholiday 2027-01-01      # 元旦\n";

    #[test]
    fn deadline_into_an_unloaded_year_is_weekends_only_and_provisional() {
        let calendar = WorkCalendar::builtin();
        assert!(calendar.is_provisional_year(2027));
        assert!(!calendar.is_provisional_year(2026));
        // From Tue 2026-12-01: 22 working days left in December 2026 (no holiday in the 2026
        // table), then 2027 weekends-only: Fri 1 Jan (23), 4–8 (28), 11–15 (33), 18–22 (38),
        // 25–29 (43), Mon 1 Feb (44), Tue 2 Feb (45).
        let due = calendar.add_working_days(date(2026, 12, 1), 45).unwrap();
        assert_eq!(due, date(2027, 2, 2));
        assert!(calendar.depends_on_provisional(date(2026, 12, 1), due));
        assert_eq!(
            calendar.provisional_years_between(date(2026, 12, 1), due),
            vec![2027]
        );
        // 30 natural days from Sun 2026-12-20: Tue 2027-01-19, a weekday.
        let due = calendar.add_natural_days(date(2026, 12, 20), 30).unwrap();
        assert_eq!(due, date(2027, 1, 19));
        assert!(calendar.depends_on_provisional(date(2026, 12, 20), due));
        // Before the built-in years, too: 2018-12-29 was in fact a 元旦 make-up working day
        // (announced in the 2019 notice, listed in no 2018 table), weekends-only says rest.
        assert_eq!(calendar.is_working_day(date(2018, 12, 29)), Ok(false));
        assert_eq!(calendar.is_working_day(date(2018, 12, 28)), Ok(true));
        assert!(calendar.is_provisional_year(2018));
        assert_eq!(
            calendar.working_days_between(date(2027, 3, 5), date(2027, 3, 12)),
            Ok(5)
        );
        // Staying inside 2026 is not provisional.
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 30), 1),
            Ok(date(2026, 12, 31))
        );
        assert!(!calendar.depends_on_provisional(date(2026, 12, 30), date(2026, 12, 31)));
        assert_eq!(
            CalendarError::UnknownYear(2027).to_string(),
            "2027 年的工作日历尚未载入"
        );
    }

    #[test]
    fn provisional_year_counts_weekdays_only() {
        let calendar = WorkCalendar::builtin();
        for (year, expected) in [(2027, 261), (2018, 261), (2030, 261), (2028, 260)] {
            assert!(calendar.is_provisional_year(year));
            let counted = date(year, 1, 1)
                .iter_days()
                .take_while(|day| day.year() == year)
                .filter(|day| calendar.is_working_day(*day).unwrap())
                .count();
            assert_eq!(counted, expected, "weekdays in {year}");
            assert_eq!(
                calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)),
                Ok(expected as u32),
                "{year}"
            );
        }
    }

    #[test]
    fn thirty_working_days_from_end_of_november_2026() {
        let calendar = WorkCalendar::builtin();
        let from = date(2026, 11, 30); // a Monday
        assert_eq!(from.weekday(), Weekday::Mon);
        // December 2026 has no holiday in the 2026 table, so its working days are its
        // weekdays: 1–4 (4), 7–11 (9), 14–18 (14), 21–25 (19), 28–31 (23).
        // January 2027 weekends-only: Fri 1 (24), Mon 4 – Fri 8 (25–29), Mon 11 (30).
        let due = calendar.add_working_days(from, 30).unwrap();
        assert_eq!(due, date(2027, 1, 11));
        assert_eq!(
            calendar.working_days_between(from, date(2026, 12, 31)),
            Ok(23)
        );
        assert_eq!(calendar.working_days_between(from, due), Ok(30));
        assert!(calendar.depends_on_provisional(from, due));
        assert_eq!(calendar.provisional_years_between(from, due), vec![2027]);
        assert_eq!(calendar.provisional_years_between(due, from), vec![2027]);
        assert_eq!(
            calendar.add(from, 30, TimeUnit::WorkingDays),
            Ok(date(2027, 1, 11))
        );
    }

    #[test]
    fn deadline_within_2026_is_not_provisional() {
        let calendar = WorkCalendar::builtin();
        let from = date(2026, 11, 30);
        // 23 working days in December 2026 (see above): the 23rd is Thu 31 Dec.
        let due = calendar.add_working_days(from, 23).unwrap();
        assert_eq!(due, date(2026, 12, 31));
        assert!(!calendar.depends_on_provisional(from, due));
        assert!(calendar.provisional_years_between(from, due).is_empty());
        // Spring Festival 2026: entirely within the built-in table.
        let due = calendar.add_working_days(date(2026, 2, 13), 5).unwrap();
        assert_eq!(due, date(2026, 2, 27));
        assert!(!calendar.depends_on_provisional(date(2026, 2, 13), due));
        // The interval is (from, to]: from itself may be the last day of a provisional year.
        assert!(!calendar.depends_on_provisional(date(2018, 12, 31), date(2019, 1, 2)));
        assert!(calendar.depends_on_provisional(date(2018, 12, 30), date(2019, 1, 2)));
        // Nothing counted: nothing provisional.
        assert!(!calendar.depends_on_provisional(date(2027, 3, 1), date(2027, 3, 1)));
        assert!(!calendar.depends_on_provisional(date(2027, 3, 2), date(2027, 3, 1)));
        assert_eq!(
            calendar.provisional_years_between(date(2017, 6, 1), date(2028, 1, 1)),
            vec![2017, 2018, 2027, 2028]
        );
        assert_eq!(calendar.known_years(), (2019..=2026).collect::<Vec<_>>());
    }

    #[test]
    fn loading_2027_changes_the_deadline_and_ends_provisional() {
        let mut calendar = WorkCalendar::builtin();
        let from = date(2026, 11, 30);
        assert_eq!(calendar.add_working_days(from, 30), Ok(date(2027, 1, 11)));
        calendar.insert_year(YearTable::parse(TEST_2027).unwrap());
        assert!(!calendar.is_provisional_year(2027));
        assert_eq!(calendar.known_years(), (2019..=2027).collect::<Vec<_>>());
        // 元旦 1 Jan is now off: 23 in December, 4–8 Jan (24–28), 11 (29), 12 (30).
        let due = calendar.add_working_days(from, 30).unwrap();
        assert_eq!(due, date(2027, 1, 12));
        assert!(!calendar.depends_on_provisional(from, due));
        assert!(calendar.provisional_years_between(from, due).is_empty());
        // Natural days landing on 元旦 now move to the next working day.
        assert_eq!(
            calendar.add_natural_days(date(2026, 12, 20), 12),
            Ok(date(2027, 1, 4))
        );
    }

    #[test]
    fn insert_year_adds_and_replaces() {
        let mut calendar = WorkCalendar::builtin();
        calendar.insert_year(YearTable::parse("year 2027\nholiday 2027-01-01\n").unwrap());
        assert_eq!(calendar.years(), (2019..=2027).collect::<Vec<_>>());
        assert_eq!(calendar.years(), calendar.known_years());
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 1), 45),
            Ok(date(2027, 2, 3))
        );
        assert!(!calendar.depends_on_provisional(date(2026, 12, 1), date(2027, 2, 3)));

        calendar.insert_year(YearTable::parse("year 2026\n").unwrap());
        assert_eq!(calendar.is_working_day(date(2026, 2, 16)), Ok(true));
        assert_eq!(calendar.is_working_day(date(2026, 2, 14)), Ok(false));
        assert_eq!(calendar.years().len(), 9);
    }

    #[test]
    fn natural_days_in_a_provisional_year_move_to_the_next_weekday() {
        let calendar = WorkCalendar::builtin();
        // Sun 2026-12-20 + 13 = Sat 2027-01-02: moves to Mon 4 Jan.
        let due = calendar.add_natural_days(date(2026, 12, 20), 13).unwrap();
        assert_eq!(due, date(2027, 1, 4));
        assert!(calendar.depends_on_provisional(date(2026, 12, 20), due));
        // + 14 = Sun 3 Jan: also Mon 4 Jan.
        assert_eq!(
            calendar.add_natural_days(date(2026, 12, 20), 14),
            Ok(date(2027, 1, 4))
        );
        // + 12 = Fri 1 Jan: 元旦 is not known yet, so weekends-only keeps it.
        assert_eq!(
            calendar.add_natural_days(date(2026, 12, 20), 12),
            Ok(date(2027, 1, 1))
        );
        // Deep in a provisional year: Fri 2030-03-01 + 1 = Sat 2 Mar, moves to Mon 4 Mar.
        assert_eq!(
            calendar.add_natural_days(date(2030, 3, 1), 1),
            Ok(date(2030, 3, 4))
        );
        // n = 0 on a provisional Sunday moves too.
        assert_eq!(
            calendar.add_natural_days(date(2030, 3, 3), 0),
            Ok(date(2030, 3, 4))
        );
        assert_eq!(
            calendar.add(date(2030, 3, 1), 1, TimeUnit::NaturalDays),
            Ok(date(2030, 3, 4))
        );
    }

    #[test]
    fn arithmetic_is_bounded() {
        let calendar = WorkCalendar::builtin();
        assert_eq!(
            calendar.add_working_days(date(2026, 3, 2), MAX_DAYS + 1),
            Err(CalendarError::TooManyDays(MAX_DAYS + 1))
        );
        assert_eq!(
            calendar.add_natural_days(date(2026, 3, 2), u32::MAX),
            Err(CalendarError::TooManyDays(u32::MAX))
        );
        assert!(calendar
            .add_natural_days(date(2026, 3, 2), MAX_DAYS)
            .is_ok());
        assert!(calendar
            .add_working_days(date(2026, 3, 2), MAX_DAYS)
            .is_ok());
        assert_eq!(
            calendar.is_working_day(date(1999, 12, 31)),
            Err(CalendarError::OutOfRange(date(1999, 12, 31)))
        );
        assert_eq!(
            calendar.is_working_day(date(2101, 1, 3)),
            Err(CalendarError::OutOfRange(date(2101, 1, 3)))
        );
        assert_eq!(calendar.is_working_day(date(2000, 1, 3)), Ok(true));
        assert_eq!(calendar.is_working_day(date(2100, 12, 31)), Ok(true));
        // Fri 2100-12-31 is the last computable day.
        assert_eq!(
            calendar.add_working_days(date(2100, 12, 29), 2),
            Ok(date(2100, 12, 31))
        );
        assert_eq!(
            calendar.add_working_days(date(2100, 12, 29), 3),
            Err(CalendarError::OutOfRange(date(2101, 1, 1)))
        );
        assert_eq!(
            calendar.add_natural_days(date(2100, 12, 30), 5),
            Err(CalendarError::OutOfRange(date(2101, 1, 4)))
        );
        assert_eq!(
            calendar.add_natural_days(NaiveDate::MAX, 1),
            Err(CalendarError::OutOfRange(NaiveDate::MAX))
        );
        assert_eq!(
            calendar.working_days_between(date(2026, 3, 2), date(2101, 1, 1)),
            Err(CalendarError::OutOfRange(date(2101, 1, 1)))
        );
        assert_eq!(
            calendar.working_days_between(NaiveDate::MIN, date(2026, 3, 2)),
            Err(CalendarError::OutOfRange(NaiveDate::MIN))
        );
        assert_eq!(
            CalendarError::OutOfRange(date(2101, 1, 1)).to_string(),
            "日期 2101-01-01 超出期限计算支持的范围（2000—2100 年）"
        );
        assert_eq!(
            CalendarError::TooManyDays(4000).to_string(),
            "期限 4000 天超过上限（最多 3660 天）"
        );
    }

    #[test]
    fn natural_days_move_off_rest_days() {
        let calendar = WorkCalendar::builtin();
        // Lands on 2026-10-01 (国庆): moves to the first day after the holiday.
        assert_eq!(
            calendar.add_natural_days(date(2026, 9, 20), 11),
            Ok(date(2026, 10, 8))
        );
        // Lands on the make-up Saturday 2026-10-10, which is a working day.
        assert_eq!(
            calendar.add_natural_days(date(2026, 9, 30), 10),
            Ok(date(2026, 10, 10))
        );
        // Lands on an ordinary Saturday: moves to Monday.
        assert_eq!(
            calendar.add_natural_days(date(2026, 3, 6), 1),
            Ok(date(2026, 3, 9))
        );
        assert_eq!(
            calendar.add_natural_days(date(2026, 3, 2), 3),
            Ok(date(2026, 3, 5))
        );
        assert_eq!(
            calendar.add_natural_days(date(2026, 10, 1), 0),
            Ok(date(2026, 10, 8))
        );
    }

    #[test]
    fn working_days_between_matches_add_working_days() {
        let calendar = WorkCalendar::builtin();
        // From provisional 2018 through the built-in years into provisional 2027.
        let last_start = date(2026, 12, 31);
        for from in date(2018, 11, 1)
            .iter_days()
            .take_while(|d| *d <= last_start)
        {
            for n in [0, 1, 3, 5, 20, 45] {
                let to = calendar.add_working_days(from, n).unwrap();
                assert_eq!(
                    calendar.working_days_between(from, to),
                    Ok(n),
                    "{from} + {n}"
                );
                let provisional =
                    to > from && (from < date(2018, 12, 31) || to > date(2026, 12, 31));
                assert_eq!(
                    calendar.depends_on_provisional(from, to),
                    provisional,
                    "{from} + {n}"
                );
                if n > 0 {
                    assert_eq!(calendar.is_working_day(to), Ok(true), "{from} + {n}");
                    let before = to.pred_opt().unwrap();
                    assert_eq!(calendar.working_days_between(from, before), Ok(n - 1));
                }
            }
        }
        assert_eq!(
            calendar.working_days_between(date(2026, 3, 9), date(2026, 3, 2)),
            Ok(0)
        );
    }

    #[test]
    fn time_unit_parse_and_add() {
        assert_eq!(TimeUnit::parse("工作日"), Some(TimeUnit::WorkingDays));
        assert_eq!(TimeUnit::parse("自然日"), Some(TimeUnit::NaturalDays));
        assert_eq!(TimeUnit::parse("天"), None);
        for unit in [TimeUnit::WorkingDays, TimeUnit::NaturalDays] {
            assert_eq!(TimeUnit::parse(unit.as_str()), Some(unit));
            assert_eq!(unit.to_string(), unit.as_str());
        }
        let calendar = WorkCalendar::builtin();
        assert_eq!(
            calendar.add(date(2026, 2, 13), 5, TimeUnit::WorkingDays),
            Ok(date(2026, 2, 27))
        );
        assert_eq!(
            calendar.add(date(2026, 2, 13), 5, TimeUnit::NaturalDays),
            Ok(date(2026, 2, 24))
        );
    }

    #[test]
    fn to_text_round_trips_every_builtin_year() {
        let calendar = WorkCalendar::builtin();
        for year in calendar.years() {
            let table = calendar.year(year).unwrap();
            let text = table.to_text();
            assert_eq!(
                YearTable::parse(&text).as_ref(),
                Ok(table),
                "{year}:\n{text}"
            );
        }
        let table = calendar.year(2026).unwrap();
        let text = table.to_text();
        assert!(text.starts_with("year 2026\nholiday 2026-01-01 2026-01-03\nworkday 2026-01-04\n"));
        assert!(text.contains("holiday 2026-02-15 2026-02-23\n"));
    }

    #[test]
    fn parse_accepts_comments_ranges_and_blank_lines() {
        let table = YearTable::parse(
            "# header\n\nyear 2026   # the year\nholiday 2026-01-01 2026-01-03\n  workday 2026-01-04\n",
        )
        .unwrap();
        assert_eq!(table.year, 2026);
        assert_eq!(
            table.holidays().collect::<Vec<_>>(),
            vec![date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]
        );
        assert_eq!(table.workdays().collect::<Vec<_>>(), vec![date(2026, 1, 4)]);
    }

    #[test]
    fn parse_refuses_unknown_keyword() {
        let (line, message) = parse_failure("year 2026\nholidays 2026-01-01\n");
        assert_eq!(line, 2);
        assert!(message.contains("未知关键字「holidays」"), "{message}");
    }

    #[test]
    fn parse_refuses_bad_dates() {
        for bad in [
            "2026-02-30",
            "2026-1-1",
            "2026/01/01",
            "tomorrow",
            "+2026-01-01",
        ] {
            let (line, message) = parse_failure(&format!("year 2026\n# c\nholiday {bad}\n"));
            assert_eq!(line, 3, "{bad}");
            assert!(message.contains("无效的日期"), "{message}");
            assert!(message.contains(bad), "{message}");
        }
        let (line, message) = parse_failure("year 2026\nholiday 2026-01-03 2026-01-01\n");
        assert_eq!(line, 2);
        assert!(message.contains("早于起点"), "{message}");
        let (line, message) = parse_failure("year 2026\nholiday\n");
        assert_eq!(line, 2);
        assert!(message.contains("一个日期或两个日期"), "{message}");
        let (line, _) = parse_failure("year 2026\nholiday 2026-01-01 2026-01-02 2026-01-03\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_dates_outside_the_year() {
        let (line, message) = parse_failure("year 2026\nholiday 2025-12-31\n");
        assert_eq!(line, 2);
        assert!(message.contains("不在 2026 年内"), "{message}");
        let (line, _) = parse_failure("year 2026\nholiday 2026-12-31 2027-01-01\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_a_day_both_holiday_and_workday() {
        let (line, message) = parse_failure("year 2026\nholiday 2026-02-14\nworkday 2026-02-14\n");
        assert_eq!(line, 3);
        assert!(
            message.contains("同时被列为休息日和调休上班日"),
            "{message}"
        );
        let (line, _) =
            parse_failure("year 2026\nworkday 2026-02-14\nholiday 2026-02-13 2026-02-16\n");
        assert_eq!(line, 3);
    }

    #[test]
    fn parse_refuses_a_weekday_workday() {
        let (line, message) = parse_failure("year 2026\nworkday 2026-01-05\n");
        assert_eq!(line, 2);
        assert!(message.contains("星期一"), "{message}");
        assert!(message.contains("星期六或星期日"), "{message}");
        let (line, _) = parse_failure("year 2026\nworkday 2026-02-14 2026-02-16\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_missing_or_duplicate_year() {
        let (line, message) = parse_failure("# no year\nholiday 2026-01-01\n");
        assert_eq!(line, 2);
        assert!(message.contains("year 行之前"), "{message}");
        let (line, message) = parse_failure("# only a comment\n");
        assert_eq!(line, 1);
        assert!(message.contains("缺少 year 行"), "{message}");
        let (line, _) = parse_failure("");
        assert_eq!(line, 1);
        let (line, message) = parse_failure("year 2026\nholiday 2026-01-01\nyear 2026\n");
        assert_eq!(line, 3);
        assert!(message.contains("重复的 year 行"), "{message}");
        for bad in [
            "year",
            "year 26",
            "year 2026 2027",
            "year two",
            "year 1999",
            "year 2101",
        ] {
            let (line, message) = parse_failure(bad);
            assert_eq!(line, 1, "{bad}");
            assert!(
                message.contains("year") || message.contains("年份"),
                "{message}"
            );
        }
        assert!(YearTable::parse("year 2000\n").is_ok());
        assert!(YearTable::parse("year 2100\n").is_ok());
        assert_eq!(
            YearTable::parse("year 2026\nbogus\n")
                .unwrap_err()
                .to_string(),
            "工作日历第 2 行：未知关键字「bogus」（应为 year、holiday 或 workday）"
        );
    }
}
