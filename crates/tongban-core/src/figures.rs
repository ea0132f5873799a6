//! Case figures (大数据分析): the facts of one case that the analytics count, projected from
//! the case as its events fold, and the tallies over a date range built from those facts.
//!
//! The definitions are the ones in docs/domain (indicators): 申报量 by the date the case was
//! first submitted, 受理量 and 办结量 by their own dates, 按时办结 against the promised due
//! date (which special procedures have already pushed back, so paused days never count
//! against a case), 一次办结 as 办结 without any 补正告知, 办理时长 in working days from 受理
//! to 办结 with the special-procedure days taken out and reported separately.

use crate::calendar::WorkCalendar;
use crate::case::{Case, Channel, Delivery, Outcome};
use crate::indicators::Ratio;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the analytics keep of one case (the projection row, without its identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFigure {
    /// Submitted online (网上 or 移动端), as opposed to at a window or by post.
    pub online: bool,
    /// The day the case was first submitted (申办); a correction does not move it.
    pub received_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    /// 办结: the day of the decision (approved or refused).
    pub decided_on: Option<NaiveDate>,
    /// The day the case stopped being open, however it ended.
    pub closed_on: Option<NaiveDate>,
    pub promised_due: Option<NaiveDate>,
    /// 补正告知 issued.
    pub corrections: u32,
    /// Working days paused by special procedures (特别程序), finished ones.
    pub special_days: u32,
    /// The result goes out by post (寄递).
    pub post_delivery: bool,
    /// A special procedure is running (its days are not yet counted in `promised_due`).
    pub suspended: bool,
}

impl CaseFigure {
    /// The figure of `case` after an event, given the figure before it (None for a new case)
    /// and the Beijing date of the write.
    pub fn project(prev: Option<&CaseFigure>, case: &Case, today: NaiveDate) -> CaseFigure {
        let decided_on = match case.outcome {
            Some(Outcome::Approved) | Some(Outcome::Refused) => case.completed_on,
            _ => None,
        };
        let closed_on = if case.status.is_open() {
            None
        } else {
            prev.and_then(|p| p.closed_on)
                .or(case.completed_on)
                .or(Some(today))
        };
        CaseFigure {
            online: matches!(case.channel, Channel::Online | Channel::Mobile),
            received_on: prev.map(|p| p.received_on).unwrap_or(case.received_on),
            accepted_on: case.accepted_on,
            decided_on,
            closed_on,
            promised_due: case.promised_due,
            corrections: case.corrections,
            special_days: case.paused_days,
            post_delivery: matches!(case.delivery, Delivery::Post { .. }),
            suspended: case.special.is_some(),
        }
    }

    /// Working days from 受理 to 办结, special-procedure days excluded.
    pub fn duration_wd(&self, cal: &WorkCalendar) -> Option<u32> {
        let (a, d) = (self.accepted_on?, self.decided_on?);
        let wd = cal.working_days_between(a, d.max(a)).ok()?;
        Some(wd.saturating_sub(self.special_days))
    }
}

/// A date range, both ends included (Beijing dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    pub fn contains(&self, d: Option<NaiveDate>) -> bool {
        d.is_some_and(|d| d >= self.from && d <= self.to)
    }
}

/// Which measure a date belongs to, so a grouping by period can put each measure in the
/// period of its own date (a case received in March and decided in April counts in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Received,
    Accepted,
    Decided,
    /// Overdue and still open on `to`.
    OpenOverdue,
}

/// Counts for one group.
#[derive(Debug, Clone, Default)]
struct Tally {
    received: u64,
    accepted: u64,
    decided: u64,
    online: u64,
    on_time: u64,
    early: u64,
    one_pass: u64,
    post: u64,
    overdue_open: u64,
    overdue_closed: u64,
    durations: Vec<u32>,
    special_cases: u64,
    special_days: u64,
}

/// Mean and median, in working days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Duration {
    pub mean: f64,
    pub median: f64,
}

/// 特别程序 days, reported beside (not inside) the duration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpecialDays {
    /// Decided cases that went through a special procedure.
    pub cases: u64,
    /// Their special-procedure working days, summed.
    pub days: u64,
}

/// One row of figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureRow {
    pub key: String,
    pub label: String,
    pub received: u64,
    pub accepted: u64,
    pub decided: u64,
    pub online: u64,
    /// 网上申报占比: online / received.
    pub online_share: Ratio,
    pub on_time: Ratio,
    /// 提前办结率: decided before the promised due date / decided.
    pub early: Ratio,
    pub one_pass: Ratio,
    /// 逾期件数: open past due on `to` plus decided in the range after it.
    pub overdue: u64,
    pub overdue_open: u64,
    pub overdue_closed: u64,
    /// 寄递送达占比: decided with the result sent by post / decided.
    pub post_delivery: Ratio,
    pub duration_wd: Duration,
    pub special: SpecialDays,
    /// 好评率: 好评 (levels 4–5) / ratings given in the range, appeal-upheld ones excluded.
    /// Null only in the row-by-row computation, which does not read ratings.
    pub satisfaction: Option<Ratio>,
    /// 差评率: 差评 (levels 1–2) / the same ratings.
    pub dissatisfaction: Option<Ratio>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Mean and median of `v` (sorted in place); 0 for none.
pub fn mean_median(v: &mut [u32]) -> Duration {
    if v.is_empty() {
        return Duration {
            mean: 0.0,
            median: 0.0,
        };
    }
    v.sort_unstable();
    let n = v.len();
    let sum: u64 = v.iter().map(|x| u64::from(*x)).sum();
    let median = if n % 2 == 1 {
        f64::from(v[n / 2])
    } else {
        (f64::from(v[n / 2 - 1]) + f64::from(v[n / 2])) / 2.0
    };
    Duration {
        mean: round2(sum as f64 / n as f64),
        median,
    }
}

impl Tally {
    fn row(mut self, key: String, label: String) -> FigureRow {
        FigureRow {
            key,
            label,
            received: self.received,
            accepted: self.accepted,
            decided: self.decided,
            online: self.online,
            online_share: Ratio::new(self.online, self.received),
            on_time: Ratio::new(self.on_time, self.decided),
            early: Ratio::new(self.early, self.decided),
            one_pass: Ratio::new(self.one_pass, self.decided),
            overdue: self.overdue_open + self.overdue_closed,
            overdue_open: self.overdue_open,
            overdue_closed: self.overdue_closed,
            post_delivery: Ratio::new(self.post, self.decided),
            duration_wd: mean_median(&mut self.durations),
            special: SpecialDays {
                cases: self.special_cases,
                days: self.special_days,
            },
            satisfaction: None,
            dissatisfaction: None,
        }
    }

    fn add(&mut self, m: Measure, f: &CaseFigure, cal: &WorkCalendar) {
        match m {
            Measure::Received => {
                self.received += 1;
                if f.online {
                    self.online += 1;
                }
            }
            Measure::Accepted => self.accepted += 1,
            Measure::Decided => {
                self.decided += 1;
                let (d, due) = (f.decided_on, f.promised_due);
                if let (Some(d), Some(due)) = (d, due) {
                    if d <= due {
                        self.on_time += 1;
                    }
                    if d < due {
                        self.early += 1;
                    }
                    if d > due {
                        self.overdue_closed += 1;
                    }
                } else if d.is_some() {
                    // Decided without acceptance-set dues (an 即办件 decided at once).
                    self.on_time += 1;
                }
                if f.corrections == 0 {
                    self.one_pass += 1;
                }
                if f.post_delivery {
                    self.post += 1;
                }
                if let Some(wd) = f.duration_wd(cal) {
                    self.durations.push(wd);
                }
                if f.special_days > 0 {
                    self.special_cases += 1;
                    self.special_days += u64::from(f.special_days);
                }
            }
            Measure::OpenOverdue => self.overdue_open += 1,
        }
    }
}

/// Which measures a case counts in over `r`, each with its date.
pub fn measures(f: &CaseFigure, r: &Range) -> Vec<(Measure, NaiveDate)> {
    let mut out = Vec::with_capacity(4);
    if r.contains(Some(f.received_on)) {
        out.push((Measure::Received, f.received_on));
    }
    if let Some(a) = f.accepted_on.filter(|a| r.contains(Some(*a))) {
        out.push((Measure::Accepted, a));
    }
    if let Some(d) = f.decided_on.filter(|d| r.contains(Some(*d))) {
        out.push((Measure::Decided, d));
    }
    if is_open_overdue(f, r.to) {
        out.push((Measure::OpenOverdue, r.to));
    }
    out
}

/// Past its promised due date on `to` and still open then (a running special procedure
/// pauses the clock, so a suspended case is not overdue).
pub fn is_open_overdue(f: &CaseFigure, to: NaiveDate) -> bool {
    let open_on_to = f.accepted_on.is_some_and(|a| a <= to) && f.closed_on.is_none_or(|c| c > to);
    open_on_to && !f.suspended && f.promised_due.is_some_and(|due| due < to)
}

/// Tallies `figures` over `r`, grouped by `key` (None leaves a case out of the rows, not out
/// of the total). Rows come sorted by key; the total covers every figure.
pub fn tally<'a, T: 'a, F, K>(
    items: impl IntoIterator<Item = &'a T>,
    figure: F,
    r: &Range,
    cal: &WorkCalendar,
    key: K,
) -> (Vec<FigureRow>, FigureRow)
where
    F: Fn(&T) -> &CaseFigure,
    K: Fn(&T, NaiveDate) -> Option<(String, String)>,
{
    let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
    let mut total = Tally::default();
    for item in items {
        let f = figure(item);
        for (m, day) in measures(f, r) {
            total.add(m, f, cal);
            if let Some((k, label)) = key(item, day) {
                groups
                    .entry(k)
                    .or_insert_with(|| (label, Tally::default()))
                    .1
                    .add(m, f, cal);
            }
        }
    }
    let rows = groups
        .into_iter()
        .map(|(k, (label, t))| t.row(k, label))
        .collect();
    (rows, total.row("total".into(), "合计".into()))
}

/// Working-day durations above this are counted at it (the histogram's cap; no real case
/// lasts 10,000 working days, so medians stay exact).
pub const DURATION_CAP: u32 = 10_000;

/// Additive counts of one group on one day: the pre-aggregated counters kept in the case's
/// transaction. A range's figures are the sum of its days' counts (plus the open-overdue
/// count on its last day, the prefix sum of `od_start - od_end`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub received: i64,
    pub online: i64,
    pub accepted: i64,
    pub decided: i64,
    pub on_time: i64,
    pub early: i64,
    pub one_pass: i64,
    pub post: i64,
    pub overdue_closed: i64,
    /// Sum of the working-day durations of the decided cases that have one.
    pub dur_sum: i64,
    pub special_cases: i64,
    pub special_days: i64,
    /// Cases that become overdue (and are open) from this day on.
    pub od_start: i64,
    /// Overdue cases that stop being open on this day.
    pub od_end: i64,
    /// 好差评: ratings given that day (appeal-upheld ones excluded), 好评 (levels 4–5) and
    /// 差评 (levels 1–2) among them.
    pub rated: i64,
    pub good: i64,
    pub bad: i64,
    /// Decided cases by duration in working days (capped at [`DURATION_CAP`]).
    pub durations: BTreeMap<u32, i64>,
}

impl Counts {
    /// Adds `o` times `sign` (1 or -1); durations that come to zero are dropped.
    pub fn add(&mut self, o: &Counts, sign: i64) {
        self.received += sign * o.received;
        self.online += sign * o.online;
        self.accepted += sign * o.accepted;
        self.decided += sign * o.decided;
        self.on_time += sign * o.on_time;
        self.early += sign * o.early;
        self.one_pass += sign * o.one_pass;
        self.post += sign * o.post;
        self.overdue_closed += sign * o.overdue_closed;
        self.dur_sum += sign * o.dur_sum;
        self.special_cases += sign * o.special_cases;
        self.special_days += sign * o.special_days;
        self.od_start += sign * o.od_start;
        self.od_end += sign * o.od_end;
        self.rated += sign * o.rated;
        self.good += sign * o.good;
        self.bad += sign * o.bad;
        for (wd, n) in &o.durations {
            let e = self.durations.entry(*wd).or_default();
            *e += sign * n;
            if *e == 0 {
                self.durations.remove(wd);
            }
        }
    }

    /// The scalar columns, in the order of [`Counts::COLUMNS`].
    pub fn scalars(&self) -> [i64; 17] {
        [
            self.received,
            self.online,
            self.accepted,
            self.decided,
            self.on_time,
            self.early,
            self.one_pass,
            self.post,
            self.overdue_closed,
            self.dur_sum,
            self.special_cases,
            self.special_days,
            self.od_start,
            self.od_end,
            self.rated,
            self.good,
            self.bad,
        ]
    }

    pub fn from_scalars(v: [i64; 17]) -> Counts {
        Counts {
            received: v[0],
            online: v[1],
            accepted: v[2],
            decided: v[3],
            on_time: v[4],
            early: v[5],
            one_pass: v[6],
            post: v[7],
            overdue_closed: v[8],
            dur_sum: v[9],
            special_cases: v[10],
            special_days: v[11],
            od_start: v[12],
            od_end: v[13],
            rated: v[14],
            good: v[15],
            bad: v[16],
            durations: BTreeMap::new(),
        }
    }

    /// The counters table's columns of the scalars.
    pub const COLUMNS: [&'static str; 17] = [
        "received",
        "online_received",
        "accepted",
        "decided",
        "on_time",
        "early",
        "one_pass",
        "post",
        "overdue_closed",
        "dur_sum",
        "special_cases",
        "special_days",
        "od_start",
        "od_end",
        "rated",
        "good",
        "bad",
    ];

    /// Counts a case received, accepted or decided (a group with only overdue marks or
    /// nothing left is not a row of its own).
    pub fn has_measures(&self) -> bool {
        self.received != 0 || self.accepted != 0 || self.decided != 0 || self.rated != 0
    }

    /// What one rating adds on the day it was given.
    pub fn of_rating(level: u8) -> Counts {
        Counts {
            rated: 1,
            good: i64::from(crate::rating::is_good(level)),
            bad: i64::from(crate::rating::is_bad(level)),
            ..Counts::default()
        }
    }

    pub fn is_zero(&self) -> bool {
        self.scalars().iter().all(|x| *x == 0) && self.durations.values().all(|n| *n == 0)
    }

    /// The row of figures these counts give, with the open-overdue count on `to`.
    pub fn row(&self, key: String, label: String, overdue_open: u64) -> FigureRow {
        let u = |x: i64| x.max(0) as u64;
        let n: i64 = self.durations.values().sum();
        let duration_wd = if n <= 0 {
            Duration {
                mean: 0.0,
                median: 0.0,
            }
        } else {
            Duration {
                mean: round2(self.dur_sum as f64 / n as f64),
                median: median_of_histogram(&self.durations),
            }
        };
        FigureRow {
            key,
            label,
            received: u(self.received),
            accepted: u(self.accepted),
            decided: u(self.decided),
            online: u(self.online),
            online_share: Ratio::new(u(self.online), u(self.received)),
            on_time: Ratio::new(u(self.on_time), u(self.decided)),
            early: Ratio::new(u(self.early), u(self.decided)),
            one_pass: Ratio::new(u(self.one_pass), u(self.decided)),
            overdue: overdue_open + u(self.overdue_closed),
            overdue_open,
            overdue_closed: u(self.overdue_closed),
            post_delivery: Ratio::new(u(self.post), u(self.decided)),
            duration_wd,
            special: SpecialDays {
                cases: u(self.special_cases),
                days: u(self.special_days),
            },
            satisfaction: Some(Ratio::new(u(self.good), u(self.rated))),
            dissatisfaction: Some(Ratio::new(u(self.bad), u(self.rated))),
        }
    }
}

/// The median of a histogram of values, as [`mean_median`] computes it from the values
/// themselves (the mean of the two middle values for an even count).
pub fn median_of_histogram(h: &BTreeMap<u32, i64>) -> f64 {
    let n: i64 = h.values().filter(|c| **c > 0).sum();
    if n <= 0 {
        return 0.0;
    }
    // The value at 0-based position `k` of the sorted values.
    let at = |k: i64| {
        let mut seen = 0i64;
        for (v, c) in h {
            if *c <= 0 {
                continue;
            }
            seen += c;
            if seen > k {
                return *v;
            }
        }
        0
    };
    if n % 2 == 1 {
        f64::from(at(n / 2))
    } else {
        (f64::from(at(n / 2 - 1)) + f64::from(at(n / 2))) / 2.0
    }
}

/// What one case adds to the counters, day by day, given its figure and its duration in
/// working days (computed when it was decided). The same definitions as [`tally`].
pub fn contributions(f: &CaseFigure, duration_wd: Option<u32>) -> Vec<(NaiveDate, Counts)> {
    let mut out: Vec<(NaiveDate, Counts)> = Vec::with_capacity(4);
    let mut at = |day: NaiveDate, g: &dyn Fn(&mut Counts)| {
        if let Some((_, c)) = out.iter_mut().find(|(d, _)| *d == day) {
            g(c);
        } else {
            let mut c = Counts::default();
            g(&mut c);
            out.push((day, c));
        }
    };
    at(f.received_on, &|c| {
        c.received += 1;
        if f.online {
            c.online += 1;
        }
    });
    if let Some(a) = f.accepted_on {
        at(a, &|c| c.accepted += 1);
    }
    if let Some(d) = f.decided_on {
        at(d, &|c| {
            c.decided += 1;
            match f.promised_due {
                Some(due) => {
                    if d <= due {
                        c.on_time += 1;
                    }
                    if d < due {
                        c.early += 1;
                    }
                    if d > due {
                        c.overdue_closed += 1;
                    }
                }
                None => c.on_time += 1,
            }
            if f.corrections == 0 {
                c.one_pass += 1;
            }
            if f.post_delivery {
                c.post += 1;
            }
            if let Some(wd) = duration_wd {
                c.dur_sum += i64::from(wd);
                *c.durations.entry(wd.min(DURATION_CAP)).or_default() += 1;
            }
            if f.special_days > 0 {
                c.special_cases += 1;
                c.special_days += i64::from(f.special_days);
            }
        });
    }
    // Open and overdue on `to` exactly when start <= to < end (see `is_open_overdue`).
    if let (Some(a), Some(due), false) = (f.accepted_on, f.promised_due, f.suspended) {
        if let Some(next) = due.succ_opt() {
            let start = next.max(a);
            if f.closed_on.is_none_or(|c| start < c) {
                at(start, &|c| c.od_start += 1);
                if let Some(end) = f.closed_on {
                    at(end, &|c| c.od_end += 1);
                }
            }
        }
    }
    out
}

/// A range cut into whole years, whole months and days (the counters' grains), largest
/// first where they fit: (grain, first period, last period) with grain `y`, `m` or `d`
/// and periods `YYYY`, `YYYY-MM`, `YYYY-MM-DD`. `finest` limits the grains used (`d` for
/// days only, `m` for months and days, `y` for all).
pub fn segments(from: NaiveDate, to: NaiveDate, finest: char) -> Vec<(char, String, String)> {
    use chrono::Datelike;
    let mut out: Vec<(char, String, String)> = Vec::new();
    let mut d = from;
    while d <= to {
        let year_end = NaiveDate::from_ymd_opt(d.year(), 12, 31).expect("date");
        let month_end = NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
            .and_then(|m| m.checked_add_months(chrono::Months::new(1)))
            .and_then(|m| m.pred_opt())
            .expect("date");
        let (grain, period, last) = if finest == 'y' && d.ordinal() == 1 && year_end <= to {
            ('y', d.format("%Y").to_string(), year_end)
        } else if finest != 'd' && d.day() == 1 && month_end <= to {
            ('m', d.format("%Y-%m").to_string(), month_end)
        } else {
            ('d', d.to_string(), d)
        };
        match out.last_mut() {
            Some((g, _, end)) if *g == grain => *end = period,
            _ => out.push((grain, period.clone(), period)),
        }
        match last.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// Durations in the chart's buckets, from a histogram.
pub fn buckets_of_histogram(h: &BTreeMap<u32, i64>) -> Vec<(String, u64)> {
    BUCKETS
        .iter()
        .map(|(lo, hi, l)| {
            let n: i64 = h.range(*lo..=*hi).map(|(_, c)| *c).sum();
            (l.to_string(), n.max(0) as u64)
        })
        .collect()
}

const BUCKETS: &[(u32, u32, &str)] = &[
    (0, 0, "当日"),
    (1, 2, "1–2天"),
    (3, 5, "3–5天"),
    (6, 10, "6–10天"),
    (11, 20, "11–20天"),
    (21, u32::MAX, "20天以上"),
];

/// A period for trend grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            "year" => Some(Period::Year),
            _ => None,
        }
    }

    /// The period's key (sortable) and label for a date. Weeks are ISO weeks.
    pub fn key(self, d: NaiveDate) -> (String, String) {
        use chrono::Datelike;
        match self {
            Period::Day => (d.to_string(), d.format("%Y年%m月%d日").to_string()),
            Period::Week => {
                let w = d.iso_week();
                (
                    format!("{}-W{:02}", w.year(), w.week()),
                    format!("{}年第{}周", w.year(), w.week()),
                )
            }
            Period::Month => (
                d.format("%Y-%m").to_string(),
                d.format("%Y年%m月").to_string(),
            ),
            Period::Year => (d.format("%Y").to_string(), d.format("%Y年").to_string()),
        }
    }
}

/// Durations of decided cases grouped into buckets of working days, for the distribution
/// chart: (label, count).
pub fn duration_buckets<'a>(
    figures: impl IntoIterator<Item = &'a CaseFigure>,
    r: &Range,
    cal: &WorkCalendar,
) -> Vec<(String, u64)> {
    const EDGES: &[(u32, u32, &str)] = BUCKETS;
    let mut counts = vec![0u64; EDGES.len()];
    for f in figures {
        if !r.contains(f.decided_on) {
            continue;
        }
        if let Some(wd) = f.duration_wd(cal) {
            if let Some(i) = EDGES.iter().position(|(lo, hi, _)| wd >= *lo && wd <= *hi) {
                counts[i] += 1;
            }
        }
    }
    EDGES
        .iter()
        .zip(counts)
        .map(|((_, _, l), n)| (l.to_string(), n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fig(accepted: &str, decided: Option<&str>, due: &str) -> CaseFigure {
        CaseFigure {
            online: true,
            received_on: d(accepted),
            accepted_on: Some(d(accepted)),
            decided_on: decided.map(d),
            closed_on: decided.map(d),
            promised_due: Some(d(due)),
            corrections: 0,
            special_days: 0,
            post_delivery: false,
            suspended: false,
        }
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(mean_median(&mut [5, 1, 3]).median, 3.0);
        assert_eq!(mean_median(&mut [4, 1, 3, 2]).median, 2.5);
        assert_eq!(mean_median(&mut [1, 2]).mean, 1.5);
        assert_eq!(mean_median(&mut []).median, 0.0);
    }

    #[test]
    fn on_time_early_and_late_against_the_promised_due_date() {
        let cal = WorkCalendar::default();
        let r = Range {
            from: d("2026-03-01"),
            to: d("2026-03-31"),
        };
        let figs = [
            fig("2026-03-02", Some("2026-03-05"), "2026-03-06"), // early
            fig("2026-03-02", Some("2026-03-06"), "2026-03-06"), // on the day
            fig("2026-03-02", Some("2026-03-09"), "2026-03-06"), // late
            fig("2026-03-02", None, "2026-03-06"),               // open, overdue on the 31st
        ];
        let (_, t) = tally(&figs, |f| f, &r, &cal, |_, _| None);
        assert_eq!((t.received, t.accepted, t.decided), (4, 4, 3));
        assert_eq!((t.on_time.count, t.on_time.of), (2, 3));
        assert_eq!(t.on_time.rate, 0.6667);
        assert_eq!(t.early.count, 1);
        assert_eq!((t.overdue_open, t.overdue_closed, t.overdue), (1, 1, 2));
    }

    #[test]
    fn a_case_open_past_due_is_not_overdue_before_its_due_date_or_while_suspended() {
        let mut f = fig("2026-03-02", None, "2026-03-06");
        assert!(!is_open_overdue(&f, d("2026-03-06")));
        assert!(is_open_overdue(&f, d("2026-03-07")));
        f.suspended = true;
        assert!(!is_open_overdue(&f, d("2026-03-07")));
        // Decided after `to`: it was open and overdue on `to`.
        let g = fig("2026-03-02", Some("2026-03-20"), "2026-03-06");
        assert!(is_open_overdue(&g, d("2026-03-10")));
    }

    #[test]
    fn periods_key_each_measure_by_its_own_date() {
        let cal = WorkCalendar::default();
        let r = Range {
            from: d("2026-03-01"),
            to: d("2026-04-30"),
        };
        let figs = [fig("2026-03-30", Some("2026-04-02"), "2026-04-10")];
        let (rows, _) = tally(
            &figs,
            |f| f,
            &r,
            &cal,
            |_, day| Some(Period::Month.key(day)),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].key.as_str(), rows[0].received, rows[0].decided),
            ("2026-03", 1, 0)
        );
        assert_eq!(
            (rows[1].key.as_str(), rows[1].received, rows[1].decided),
            ("2026-04", 0, 1)
        );
        assert_eq!(Period::Week.key(d("2026-03-02")).0, "2026-W10");
    }

    #[test]
    fn duration_counts_working_days_across_a_holiday_without_special_days() {
        let cal = WorkCalendar::builtin();
        // 2026 清明: 4–6 April off (Sat–Mon). Accepted Thu 2 April, decided Wed 8 April:
        // working days 3, 7, 8 = 3.
        let mut f = fig("2026-04-02", Some("2026-04-08"), "2026-04-20");
        assert_eq!(f.duration_wd(&cal), Some(3));
        f.special_days = 2;
        assert_eq!(f.duration_wd(&cal), Some(1));
    }

    #[test]
    fn counters_give_the_same_rows_as_the_cases() {
        let cal = WorkCalendar::builtin();
        let mut figs = vec![
            fig("2026-04-02", Some("2026-04-08"), "2026-04-10"),
            fig("2026-04-01", Some("2026-04-09"), "2026-04-03"),
            fig("2026-04-01", None, "2026-04-03"),
            fig("2026-03-30", Some("2026-04-20"), "2026-04-02"),
            fig("2026-03-02", Some("2026-03-04"), "2026-03-06"),
            fig("2026-03-02", Some("2026-03-05"), "2026-03-06"),
        ];
        figs[1].corrections = 1;
        figs[1].special_days = 2;
        figs[2].online = false;
        let mut suspended = fig("2026-03-02", None, "2026-03-04");
        suspended.suspended = true;
        figs.push(suspended);
        let mut closed = fig("2026-03-02", None, "2026-03-04");
        closed.closed_on = Some(d("2026-04-05"));
        figs.push(closed);
        for (from, to) in [
            ("2026-03-01", "2026-04-30"),
            ("2026-04-01", "2026-04-10"),
            ("2026-03-03", "2026-03-31"),
            ("2026-04-05", "2026-04-05"),
        ] {
            let r = Range {
                from: d(from),
                to: d(to),
            };
            let (_, want) = tally(&figs, |f| f, &r, &cal, |_, _| None);
            let mut sum = Counts::default();
            let mut prefix = 0i64;
            for f in &figs {
                for (day, c) in contributions(f, f.duration_wd(&cal)) {
                    if r.contains(Some(day)) {
                        sum.add(&c, 1);
                    }
                    if day <= r.to {
                        prefix += c.od_start - c.od_end;
                    }
                }
            }
            let mut got = sum.row("total".into(), "合计".into(), prefix as u64);
            // Ratings are counted beside the cases, not in the row-level tally.
            (got.satisfaction, got.dissatisfaction) = (None, None);
            assert_eq!(got, want, "{from}..{to}");
        }
    }

    #[test]
    fn the_median_of_a_histogram_is_the_median_of_the_values() {
        let h = |v: &[u32]| {
            let mut m = BTreeMap::new();
            for x in v {
                *m.entry(*x).or_insert(0i64) += 1;
            }
            m
        };
        for v in [
            vec![5, 1, 3],
            vec![4, 1, 3, 2],
            vec![1, 1, 2, 9],
            vec![7],
            vec![2, 2, 2, 3, 3, 8],
        ] {
            let mut w = v.clone();
            assert_eq!(median_of_histogram(&h(&v)), mean_median(&mut w).median);
        }
    }

    #[test]
    fn a_range_is_cut_into_years_months_and_days() {
        let s = segments(d("2024-12-30"), d("2026-03-02"), 'y');
        assert_eq!(
            s,
            vec![
                ('d', "2024-12-30".into(), "2024-12-31".into()),
                ('y', "2025".into(), "2025".into()),
                ('m', "2026-01".into(), "2026-02".into()),
                ('d', "2026-03-01".into(), "2026-03-02".into()),
            ]
        );
        assert_eq!(
            segments(d("2026-01-01"), d("2026-12-31"), 'm'),
            vec![('m', "2026-01".into(), "2026-12".into())]
        );
        assert_eq!(segments(d("2026-01-01"), d("2026-01-03"), 'd').len(), 1);
    }
}
