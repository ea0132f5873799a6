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
//! Deadlines are only computed for years whose arrangement is loaded: a calculation that needs an
//! unknown year fails with [`CalendarError::UnknownYear`] rather than guessing.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar line {line}: {message}")]
    Parse { line: usize, message: String },
    #[error("no working-day calendar loaded for year {0}")]
    UnknownYear(i32),
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
    /// non-comment line must be the single `year` line, and every date must be a valid
    /// `YYYY-MM-DD` date inside that year.
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
                            format!(
                                "duplicate 'year' line (year {} already given)",
                                existing.year
                            ),
                        ));
                    }
                    table = Some(YearTable::empty(parse_year(line, &args)?));
                }
                "holiday" | "workday" => {
                    let Some(table) = table.as_mut() else {
                        return Err(parse_error(
                            line,
                            format!("'{keyword}' line before the 'year' line"),
                        ));
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
                        format!(
                            "unknown keyword '{other}' (expected 'year', 'holiday' or 'workday')"
                        ),
                    ));
                }
            }
        }
        table.ok_or_else(|| parse_error(line_count.max(1), "missing 'year' line".to_string()))
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
                        "workday {day} is a {}; a make-up working day must be a Saturday or Sunday",
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
    parse_error(
        line,
        format!("{day} is listed both as a holiday and as a workday"),
    )
}

fn parse_year(line: usize, args: &[&str]) -> Result<i32, CalendarError> {
    let [text] = args else {
        return Err(parse_error(
            line,
            "'year' expects exactly one value, e.g. 'year 2026'".to_string(),
        ));
    };
    match text.parse::<i32>() {
        Ok(year) if text.len() == 4 && (1000..=9999).contains(&year) => Ok(year),
        _ => Err(parse_error(
            line,
            format!("invalid year '{text}' (expected a four-digit year)"),
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
                    "'{keyword}' expects one date or two dates (an inclusive range), got {} values",
                    args.len()
                ),
            ));
        }
    };
    for day in [first, last] {
        if day.year() != year {
            return Err(parse_error(
                line,
                format!("date {day} is outside year {year}"),
            ));
        }
    }
    if last < first {
        return Err(parse_error(
            line,
            format!("range end {last} is before its start {first}"),
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
            format!("invalid date '{text}' (expected a real date written YYYY-MM-DD)"),
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
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The day after `day`; past chrono's last date no calendar can be loaded anyway.
fn next_day(day: NaiveDate) -> Result<NaiveDate, CalendarError> {
    match day.succ_opt() {
        Some(next) => Ok(next),
        None => Err(CalendarError::UnknownYear(day.year() + 1)),
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

/// Working-day calendar over the loaded years.
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
                    let table = YearTable::parse(text).unwrap_or_else(|e| {
                        panic!("built-in working-day calendar {year} is invalid: {e}")
                    });
                    assert_eq!(table.year, year, "built-in calendar file {year}.txt");
                    calendar.insert_year(table);
                }
                calendar
            })
            .clone()
    }

    /// Adds a year, replacing that year's table if one is already loaded.
    pub fn insert_year(&mut self, table: YearTable) {
        self.years.insert(table.year, table);
    }

    /// The loaded years, ascending.
    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The table of one loaded year.
    pub fn year(&self, year: i32) -> Option<&YearTable> {
        self.years.get(&year)
    }

    pub fn is_working_day(&self, day: NaiveDate) -> Result<bool, CalendarError> {
        match self.years.get(&day.year()) {
            Some(table) => Ok(table.is_working_day(day)),
            None => Err(CalendarError::UnknownYear(day.year())),
        }
    }

    /// The day of the event is not counted; the result is the Nth working day after `from`.
    /// n = 0 returns `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut day = from;
        let mut remaining = n;
        while remaining > 0 {
            day = next_day(day)?;
            if self.is_working_day(day)? {
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
    /// same way if it is a rest day.
    pub fn add_natural_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let Some(mut day) = from.checked_add_days(Days::new(u64::from(n))) else {
            return Err(CalendarError::UnknownYear(NaiveDate::MAX.year()));
        };
        while !self.is_working_day(day)? {
            day = next_day(day)?;
        }
        Ok(day)
    }

    /// Number of working days d with from < d <= to (0 if to <= from).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = next_day(day)?;
            if self.is_working_day(day)? {
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

    #[test]
    fn deadline_into_an_unloaded_year_is_refused() {
        let calendar = WorkCalendar::builtin();
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 1), 45),
            Err(CalendarError::UnknownYear(2027))
        );
        assert_eq!(
            calendar.add_natural_days(date(2026, 12, 20), 30),
            Err(CalendarError::UnknownYear(2027))
        );
        assert_eq!(
            calendar.is_working_day(date(2018, 12, 29)),
            Err(CalendarError::UnknownYear(2018))
        );
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 30), 1),
            Ok(date(2026, 12, 31))
        );
        assert_eq!(
            CalendarError::UnknownYear(2027).to_string(),
            "no working-day calendar loaded for year 2027"
        );
    }

    #[test]
    fn insert_year_adds_and_replaces() {
        let mut calendar = WorkCalendar::builtin();
        calendar.insert_year(YearTable::parse("year 2027\nholiday 2027-01-01\n").unwrap());
        assert_eq!(calendar.years(), (2019..=2027).collect::<Vec<_>>());
        assert_eq!(
            calendar.add_working_days(date(2026, 12, 1), 45),
            Ok(date(2027, 2, 3))
        );

        calendar.insert_year(YearTable::parse("year 2026\n").unwrap());
        assert_eq!(calendar.is_working_day(date(2026, 2, 16)), Ok(true));
        assert_eq!(calendar.is_working_day(date(2026, 2, 14)), Ok(false));
        assert_eq!(calendar.years().len(), 9);
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
        let last_start = date(2026, 6, 30);
        for from in date(2019, 1, 1)
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
        assert!(message.contains("unknown keyword 'holidays'"), "{message}");
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
            assert!(message.contains("invalid date"), "{message}");
        }
        let (line, message) = parse_failure("year 2026\nholiday 2026-01-03 2026-01-01\n");
        assert_eq!(line, 2);
        assert!(message.contains("before its start"), "{message}");
        let (line, message) = parse_failure("year 2026\nholiday\n");
        assert_eq!(line, 2);
        assert!(
            message.contains("expects one date or two dates"),
            "{message}"
        );
        let (line, _) = parse_failure("year 2026\nholiday 2026-01-01 2026-01-02 2026-01-03\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_dates_outside_the_year() {
        let (line, message) = parse_failure("year 2026\nholiday 2025-12-31\n");
        assert_eq!(line, 2);
        assert!(message.contains("outside year 2026"), "{message}");
        let (line, _) = parse_failure("year 2026\nholiday 2026-12-31 2027-01-01\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_a_day_both_holiday_and_workday() {
        let (line, message) = parse_failure("year 2026\nholiday 2026-02-14\nworkday 2026-02-14\n");
        assert_eq!(line, 3);
        assert!(message.contains("both"), "{message}");
        let (line, _) =
            parse_failure("year 2026\nworkday 2026-02-14\nholiday 2026-02-13 2026-02-16\n");
        assert_eq!(line, 3);
    }

    #[test]
    fn parse_refuses_a_weekday_workday() {
        let (line, message) = parse_failure("year 2026\nworkday 2026-01-05\n");
        assert_eq!(line, 2);
        assert!(message.contains("Monday"), "{message}");
        assert!(message.contains("Saturday or Sunday"), "{message}");
        let (line, _) = parse_failure("year 2026\nworkday 2026-02-14 2026-02-16\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn parse_refuses_missing_or_duplicate_year() {
        let (line, message) = parse_failure("# no year\nholiday 2026-01-01\n");
        assert_eq!(line, 2);
        assert!(message.contains("before the 'year' line"), "{message}");
        let (line, message) = parse_failure("# only a comment\n");
        assert_eq!(line, 1);
        assert!(message.contains("missing 'year' line"), "{message}");
        let (line, _) = parse_failure("");
        assert_eq!(line, 1);
        let (line, message) = parse_failure("year 2026\nholiday 2026-01-01\nyear 2026\n");
        assert_eq!(line, 3);
        assert!(message.contains("duplicate 'year' line"), "{message}");
        for bad in ["year", "year 26", "year 2026 2027", "year two"] {
            let (line, message) = parse_failure(bad);
            assert_eq!(line, 1, "{bad}");
            assert!(message.contains("year"), "{message}");
        }
        assert_eq!(
            YearTable::parse("year 2026\nbogus\n")
                .unwrap_err()
                .to_string(),
            "calendar line 2: unknown keyword 'bogus' (expected 'year', 'holiday' or 'workday')"
        );
    }
}
