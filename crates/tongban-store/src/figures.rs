//! The case-figures projection (大数据分析): one row of facts per case and the counters that
//! sum them per day, month and year of each department × item × channel × window, both
//! written in the transaction that appends the case's events. The figures API reads the
//! counters (a few rows per period, whatever the number of cases); the staff drill-down
//! reads the case rows by date-range indexes. [`Store::rebuild_case_figures`] recomputes
//! both from the ledger alone, streaming it, and reports every difference.

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, AnyRow, Result, Store, StoreError};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tongban_core::calendar::{WorkCalendar, YearTable};
use tongban_core::case::{Case, Event};
use tongban_core::figures::{contributions, segments, CaseFigure, Counts, Range};

/// A projection row: the case's identity, its figure, its duration in working days (as
/// computed with the calendar when it was decided) and the window that accepted it (0: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRecord {
    pub case_id: i64,
    pub department_id: i64,
    pub impl_code: String,
    pub figure: CaseFigure,
    pub duration_wd: Option<u32>,
    pub window_id: i64,
}

impl FigureRecord {
    fn key(&self) -> CounterKey {
        CounterKey {
            department_id: self.department_id,
            impl_code: self.impl_code.clone(),
            online: self.figure.online,
            window_id: self.window_id,
        }
    }
}

/// The group a counter row counts: department × item × channel × window. Department 0
/// with item `*` (online 0, window 0) is the city-wide row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey {
    pub department_id: i64,
    pub impl_code: String,
    pub online: bool,
    pub window_id: i64,
}

impl CounterKey {
    pub fn city() -> CounterKey {
        CounterKey {
            department_id: 0,
            impl_code: "*".into(),
            online: false,
            window_id: 0,
        }
    }
    pub fn is_city(&self) -> bool {
        self.department_id == 0 && self.impl_code == "*"
    }
}

/// How counter sums are cut: by group (over the whole range), or by period (city-wide or
/// over the filtered groups) with the finest grain the grouping needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    Groups,
    /// `d` (day and week groupings), `m` (month), `y` (year).
    Periods(char),
}

/// A sum of counters: for `Slice::Groups` by key, for `Slice::Periods` by the first day of
/// the period the rows were kept at (a day, a month or a year).
#[derive(Debug, Clone)]
pub struct CounterSum {
    pub key: Option<CounterKey>,
    pub period: Option<NaiveDate>,
    pub counts: Counts,
}

/// Narrows the figures read.
#[derive(Debug, Clone, Default)]
pub struct FigureFilter {
    pub department_ids: Option<Vec<i64>>,
    pub impl_codes: Option<Vec<String>>,
}

impl FigureFilter {
    fn is_empty(&self) -> bool {
        self.department_ids.is_none() && self.impl_codes.is_none()
    }
    /// True when the filter keeps nothing.
    fn keeps_none(&self) -> bool {
        self.department_ids.as_ref().is_some_and(|v| v.is_empty())
            || self.impl_codes.as_ref().is_some_and(|v| v.is_empty())
    }
    /// The SQL narrowing (after `AND`). Item codes are written as quoted literals (a level
    /// filter can name hundreds of items, more than a statement binds); they come from the
    /// catalog, and quotes are doubled all the same. The second value is kept empty (no
    /// parameters to bind) so callers bind nothing more.
    fn sql(&self, _first: usize) -> (String, Vec<String>) {
        let mut narrow = String::new();
        if let Some(ids) = &self.department_ids {
            let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            narrow.push_str(&format!(" AND department_id IN ({})", list.join(",")));
        }
        if let Some(codes) = &self.impl_codes {
            let list: Vec<String> = codes
                .iter()
                .map(|c| format!("'{}'", c.replace('\'', "''")))
                .collect();
            narrow.push_str(&format!(" AND impl_code IN ({})", list.join(",")));
        }
        (narrow, Vec::new())
    }
}

fn opt_date(r: &AnyRow, col: &str) -> Result<Option<NaiveDate>> {
    let v: Option<String> = r.try_get(col)?;
    v.map(|s| {
        s.parse::<NaiveDate>()
            .map_err(|e| StoreError::Internal(format!("case_figures.{col}: {e}")))
    })
    .transpose()
}

fn record_from_row(r: &AnyRow) -> Result<FigureRecord> {
    let duration: Option<i64> = r.try_get("duration_wd")?;
    Ok(FigureRecord {
        case_id: get_i64(r, "case_id")?,
        department_id: get_i64(r, "department_id")?,
        impl_code: get_str(r, "impl_code")?,
        figure: CaseFigure {
            online: get_i64(r, "online")? != 0,
            received_on: opt_date(r, "received_on")?
                .ok_or_else(|| StoreError::Internal("case_figures.received_on".into()))?,
            accepted_on: opt_date(r, "accepted_on")?,
            decided_on: opt_date(r, "decided_on")?,
            closed_on: opt_date(r, "closed_on")?,
            promised_due: opt_date(r, "promised_due")?,
            corrections: get_i64(r, "corrections")? as u32,
            special_days: get_i64(r, "special_days")? as u32,
            post_delivery: get_i64(r, "post_delivery")? != 0,
            suspended: get_i64(r, "suspended")? != 0,
        },
        duration_wd: duration.map(|d| d.max(0) as u32),
        window_id: get_i64(r, "window_id")?,
    })
}

const COLS: &str = "case_id, department_id, impl_code, online, received_on, accepted_on, decided_on, closed_on, promised_due, corrections, special_days, post_delivery, suspended, duration_wd, window_id";

/// The working-day calendar as the application builds it (built-in years, then the years
/// administrators loaded), read inside the caller's transaction; parsed once per content.
pub(crate) async fn calendar_in(tx: &mut AnyConnection) -> Result<Arc<WorkCalendar>> {
    let rows = crate::db::query("SELECT year, source FROM calendar_years ORDER BY year")
        .fetch_all(&mut *tx)
        .await?;
    calendar_of(&rows)
}

/// The loaded years (year, source) a calendar was built from, and the calendar.
type CachedCalendar = (Vec<(i64, String)>, Arc<WorkCalendar>);

fn calendar_of(rows: &[AnyRow]) -> Result<Arc<WorkCalendar>> {
    static CACHE: Mutex<Option<CachedCalendar>> = Mutex::new(None);
    let years: Vec<(i64, String)> = rows
        .iter()
        .map(|r| Ok((get_i64(r, "year")?, get_str(r, "source")?)))
        .collect::<Result<_>>()?;
    if let Some((k, cal)) = CACHE.lock().expect("calendar cache").as_ref() {
        if *k == years {
            return Ok(cal.clone());
        }
    }
    let mut cal = WorkCalendar::builtin();
    for (_, source) in &years {
        if let Ok(t) = YearTable::parse(source) {
            cal.insert_year(t);
        }
    }
    let cal = Arc::new(cal);
    *CACHE.lock().expect("calendar cache") = Some((years, cal.clone()));
    Ok(cal)
}

async fn record_in(tx: &mut AnyConnection, case_id: i64) -> Result<Option<FigureRecord>> {
    crate::db::query(&format!(
        "SELECT {COLS} FROM case_figures WHERE case_id = $1"
    ))
    .bind(case_id)
    .fetch_optional(&mut *tx)
    .await?
    .as_ref()
    .map(record_from_row)
    .transpose()
}

/// Writes the figure of a case after its events, inside the caller's transaction, and
/// moves the counters by the difference between the case's old and new contributions. The
/// first-submission date and the closing date, once written, are kept; the window that
/// accepted the case is `window_id` when given, else the one recorded.
pub(crate) async fn write_figure(
    tx: &mut AnyConnection,
    case_id: i64,
    department_id: i64,
    impl_code: &str,
    case: &Case,
    today: NaiveDate,
    window_id: Option<i64>,
) -> Result<()> {
    let old = record_in(tx, case_id).await?;
    let figure = CaseFigure::project(old.as_ref().map(|r| &r.figure), case, today);
    let duration_wd = if figure.accepted_on.is_some() && figure.decided_on.is_some() {
        match old.as_ref() {
            // The duration is fixed when the case is decided.
            Some(o)
                if o.figure.accepted_on == figure.accepted_on
                    && o.figure.decided_on == figure.decided_on
                    && o.figure.special_days == figure.special_days
                    && o.duration_wd.is_some() =>
            {
                o.duration_wd
            }
            _ => figure.duration_wd(&*calendar_in(tx).await?),
        }
    } else {
        None
    };
    // The window: recorded at 受理 (from the hall ticket linked to the case), then kept.
    let window_id = match window_id {
        Some(w) => w,
        None if figure.accepted_on.is_none() => 0,
        None => match &old {
            Some(o) if o.figure.accepted_on.is_some() => o.window_id,
            // Just accepted.
            _ => ticket_window(tx, case_id).await?,
        },
    };
    let rec = FigureRecord {
        case_id,
        department_id,
        impl_code: impl_code.to_string(),
        figure,
        duration_wd,
        window_id,
    };
    replace_record(tx, old, rec).await
}

/// The window of the latest hall ticket linked to the case (0: none).
async fn ticket_window(tx: &mut AnyConnection, case_id: i64) -> Result<i64> {
    let r = crate::db::query(
        "SELECT t.window_id FROM hall_tickets t JOIN cases c ON c.case_no = t.case_no \
         WHERE c.id = $1 AND t.window_id IS NOT NULL ORDER BY t.id DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(match r {
        Some(r) => get_i64(&r, "window_id")?,
        None => 0,
    })
}

/// After a hall ticket was linked to a case: an accepted case takes the ticket's window.
pub(crate) async fn refresh_window(tx: &mut AnyConnection, ticket_id: i64) -> Result<()> {
    let r = crate::db::query(
        "SELECT c.id FROM hall_tickets t JOIN cases c ON c.case_no = t.case_no WHERE t.id = $1",
    )
    .bind(ticket_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = r else { return Ok(()) };
    let case_id = get_i64(&r, "id")?;
    let Some(old) = record_in(tx, case_id).await? else {
        return Ok(());
    };
    if old.figure.accepted_on.is_none() {
        return Ok(());
    }
    let w = ticket_window(tx, case_id).await?;
    if w == old.window_id {
        return Ok(());
    }
    let rec = FigureRecord {
        window_id: w,
        ..old.clone()
    };
    replace_record(tx, Some(old), rec).await
}

/// Counts a rating in (sign 1) or out (sign -1, an upheld appeal) of the counters of its
/// case's group on the day it was given.
pub(crate) async fn count_rating(tx: &mut AnyConnection, rating_id: i64, sign: i64) -> Result<()> {
    let Some(r) = crate::db::query("SELECT case_id, rated_on, level FROM ratings WHERE id = $1")
        .bind(rating_id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(());
    };
    let Some(rec) = record_in(tx, get_i64(&r, "case_id")?).await? else {
        return Ok(());
    };
    let day =
        opt_date(&r, "rated_on")?.ok_or_else(|| StoreError::Internal("ratings.rated_on".into()))?;
    let mut c = Counts::default();
    c.add(&Counts::of_rating(get_i64(&r, "level")? as u8), sign);
    let mut rows = CounterRows::new();
    roll_up(&mut rows, day, &rec.key(), &c);
    roll_up(&mut rows, day, &CounterKey::city(), &c);
    write_counter_rows(tx, rows, tongban_core::merkle::partition_key(rec.case_id)).await
}

/// The counted ratings of a case, by day.
async fn rating_contributions(
    tx: &mut AnyConnection,
    case_id: i64,
) -> Result<Vec<(NaiveDate, Counts)>> {
    crate::db::query("SELECT rated_on, level FROM ratings WHERE case_id = $1 AND excluded = 0")
        .bind(case_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                opt_date(r, "rated_on")?
                    .ok_or_else(|| StoreError::Internal("ratings.rated_on".into()))?,
                Counts::of_rating(get_i64(r, "level")? as u8),
            ))
        })
        .collect()
}

/// Replaces a case's figure row and moves the counters by the difference between the old
/// and the new row's contributions.
async fn replace_record(
    tx: &mut AnyConnection,
    old: Option<FigureRecord>,
    rec: FigureRecord,
) -> Result<()> {
    if old.as_ref() == Some(&rec) {
        return Ok(());
    }
    put_record(tx, &rec, old.is_some()).await?;
    let mut delta: BTreeMap<(NaiveDate, CounterKey), Counts> = BTreeMap::new();
    if let Some(o) = &old {
        for (day, c) in contributions(&o.figure, o.duration_wd) {
            delta.entry((day, o.key())).or_default().add(&c, -1);
        }
    }
    for (day, c) in contributions(&rec.figure, rec.duration_wd) {
        delta.entry((day, rec.key())).or_default().add(&c, 1);
    }
    // The case's ratings move with it when its group changes (its window, its channel).
    if let Some(o) = old.as_ref().filter(|o| o.key() != rec.key()) {
        for (day, c) in rating_contributions(tx, rec.case_id).await? {
            delta.entry((day, o.key())).or_default().add(&c, -1);
            delta.entry((day, rec.key())).or_default().add(&c, 1);
        }
    }
    let mut rows = CounterRows::new();
    for ((day, key), c) in &delta {
        if c.is_zero() {
            continue;
        }
        roll_up(&mut rows, *day, key, c);
        roll_up(&mut rows, *day, &CounterKey::city(), c);
    }
    write_counter_rows(tx, rows, tongban_core::merkle::partition_key(rec.case_id)).await
}

/// The periods a day counts in: its day, month and year.
fn grains_of(day: NaiveDate) -> [(&'static str, String); 3] {
    [
        ("d", day.to_string()),
        ("m", day.format("%Y-%m").to_string()),
        ("y", day.format("%Y").to_string()),
    ]
}

/// A counter row: (grain, period, group).
type CounterRow = (&'static str, String, CounterKey);
/// Counter increments by row.
type CounterRows = BTreeMap<CounterRow, Counts>;

/// Adds `c` to the rows of `key` on `day` and on its month and year.
fn roll_up(rows: &mut CounterRows, day: NaiveDate, key: &CounterKey, c: &Counts) {
    for (grain, period) in grains_of(day) {
        rows.entry((grain, period, key.clone()))
            .or_default()
            .add(c, 1);
    }
}

/// Counter rows one statement adds to (23 parameters each, the store binds at most 256).
const COUNTER_ROWS_PER_STATEMENT: usize = 10;
/// Duration rows one statement adds to (8 parameters each).
const DURATION_ROWS_PER_STATEMENT: usize = 30;

/// Adds the increments to their counter rows, atomically on both backends (`ON CONFLICT …
/// DO UPDATE SET x = x + excluded.x`: concurrent writers never lose an increment), all rows
/// in one statement (and the durations in another): a case change is two statements, not
/// one or two per row. The rows are those of the stripe of `part_key` (a case's
/// [`tongban_core::merkle::partition_key`]; 0 for stripe 0): the case's ledger partition,
/// so on PostgreSQL writers of different partitions never wait for each other's counter
/// rows (migration 0029). Rows are written in key order, the same in every transaction,
/// so two writers of one stripe cannot deadlock.
async fn write_counter_rows(
    tx: &mut AnyConnection,
    rows: CounterRows,
    part_key: i64,
) -> Result<()> {
    let scalars: Vec<(&CounterRow, [i64; Counts::COLUMNS.len()])> = rows
        .iter()
        .map(|(k, c)| (k, c.scalars()))
        .filter(|(_, v)| v.iter().any(|x| *x != 0))
        .collect();
    let cols = Counts::COLUMNS.join(", ");
    let set: Vec<String> = Counts::COLUMNS
        .iter()
        .map(|c| format!("{c} = figure_counters.{c} + excluded.{c}"))
        .collect();
    for chunk in scalars.chunks(COUNTER_ROWS_PER_STATEMENT) {
        let values = stripe_rows(chunk.len(), 6 + Counts::COLUMNS.len());
        let sql = format!(
            "INSERT INTO figure_counters (grain, period, department_id, impl_code, online, window_id, stripe, {cols}) \
             VALUES {} \
             ON CONFLICT (grain, period, department_id, impl_code, online, window_id, stripe) DO UPDATE SET {}",
            values.join(", "),
            set.join(", ")
        );
        let mut q = crate::db::query(&sql).bind(part_key);
        for ((grain, period, key), v) in chunk {
            q = q
                .bind(*grain)
                .bind(period.clone())
                .bind(key.department_id)
                .bind(key.impl_code.clone())
                .bind(i64::from(key.online))
                .bind(key.window_id);
            for x in v {
                q = q.bind(*x);
            }
        }
        q.execute(&mut *tx).await?;
    }
    let durations: Vec<(&CounterRow, u32, i64)> = rows
        .iter()
        .flat_map(|(k, c)| {
            c.durations
                .iter()
                .filter(|(_, n)| **n != 0)
                .map(move |(wd, n)| (k, *wd, *n))
        })
        .collect();
    for chunk in durations.chunks(DURATION_ROWS_PER_STATEMENT) {
        let values = stripe_rows(chunk.len(), 8);
        let sql = format!(
            "INSERT INTO figure_durations (grain, period, department_id, impl_code, online, window_id, stripe, wd, n) \
             VALUES {} \
             ON CONFLICT (grain, period, department_id, impl_code, online, window_id, wd, stripe) DO UPDATE SET n = figure_durations.n + excluded.n",
            values.join(", ")
        );
        let mut q = crate::db::query(&sql).bind(part_key);
        for ((grain, period, key), wd, n) in chunk {
            q = q
                .bind(*grain)
                .bind(period.clone())
                .bind(key.department_id)
                .bind(key.impl_code.clone())
                .bind(i64::from(key.online))
                .bind(key.window_id)
                .bind(i64::from(*wd))
                .bind(*n);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// The `VALUES` rows of a counter statement: `rows` rows of `width` parameters from `$2`
/// on (`$1` is the case's partition key), the stripe inserted after the sixth (the group's
/// last key column).
fn stripe_rows(rows: usize, width: usize) -> Vec<String> {
    const STRIPE: &str =
        "COALESCE($1 % (SELECT value FROM meta WHERE key = 'ledger_partitions'), 0)";
    (0..rows)
        .map(|r| {
            let p: Vec<String> = (0..width)
                .map(|i| format!("${}", 2 + r * width + i))
                .collect();
            format!("({}, {STRIPE}, {})", p[..6].join(", "), p[6..].join(", "))
        })
        .collect()
}

/// The figures of the cases folded from their ledger events (in order), each event with the
/// Beijing date it was written.
pub fn fold_figure<'a>(
    events: impl IntoIterator<Item = (&'a Event, NaiveDate)>,
) -> Option<CaseFigure> {
    let mut it = events.into_iter();
    let (first, day) = it.next()?;
    let mut case = Case::open(first).ok()?;
    let mut fig = CaseFigure::project(None, &case, day);
    for (e, day) in it {
        case.apply(e);
        fig = CaseFigure::project(Some(&fig), &case, day);
    }
    Some(fig)
}

/// At most this many differences are listed (all are counted).
pub const MAX_LISTED: usize = 100;

/// What `analytics rebuild` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RebuildReport {
    pub cases: u64,
    pub events: u64,
    /// Cases whose stored figure differed from the ledger's (now corrected).
    pub figure_differences: u64,
    /// The first of them, by case id.
    pub differences: Vec<(i64, String)>,
    /// Figures without a case in the ledger (removed).
    pub orphans: u64,
    /// Counter rows (period × group) that differed from the sums of the figures.
    pub counter_differences: u64,
    /// The first of them.
    pub counter_examples: Vec<String>,
}

/// The first day of a counter period (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
fn period_start(p: &str) -> Result<NaiveDate> {
    let full = match p.len() {
        4 => format!("{p}-01-01"),
        7 => format!("{p}-01"),
        _ => p.to_string(),
    };
    full.parse::<NaiveDate>()
        .map_err(|e| StoreError::Internal(format!("counter period {p}: {e}")))
}

fn key_from_row(r: &AnyRow) -> Result<CounterKey> {
    Ok(CounterKey {
        department_id: get_i64(r, "department_id")?,
        impl_code: get_str(r, "impl_code")?,
        online: get_i64(r, "online")? != 0,
        window_id: get_i64(r, "window_id")?,
    })
}

fn scalars_from_row(r: &AnyRow) -> Result<Counts> {
    let mut v = [0i64; 17];
    for (i, c) in Counts::COLUMNS.iter().enumerate() {
        v[i] = get_i64(r, c)?;
    }
    Ok(Counts::from_scalars(v))
}

const KEY_COLS: &str = "department_id, impl_code, online, window_id";

impl Store {
    /// Sums of the counters over `r`, cut by `slice`. Unfiltered period slices read the
    /// city-wide rows; everything else reads the groups' rows (never the city-wide ones).
    pub async fn counter_sums(
        &self,
        r: &Range,
        f: &FigureFilter,
        slice: Slice,
    ) -> Result<Vec<CounterSum>> {
        if f.keeps_none() {
            return Ok(vec![]);
        }
        let city = f.is_empty() && matches!(slice, Slice::Periods(_));
        let finest = match slice {
            Slice::Groups => 'y',
            Slice::Periods(g) => g,
        };
        let (narrow, codes) = f.sql(4);
        let who = if city {
            " AND department_id = 0".to_string()
        } else {
            format!(" AND department_id <> 0{narrow}")
        };
        let sel = match slice {
            Slice::Groups => KEY_COLS,
            Slice::Periods(_) => "period",
        };
        let sums: Vec<String> = Counts::COLUMNS
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
            .collect();
        let mut out: BTreeMap<(Option<CounterKey>, Option<NaiveDate>), Counts> = BTreeMap::new();
        for (grain, first, last) in segments(r.from, r.to, finest) {
            let grain = grain.to_string();
            let sql = format!(
                "SELECT {sel}, {} FROM figure_counters WHERE grain = $1 AND period >= $2 AND period <= $3{who} GROUP BY {sel}",
                sums.join(", ")
            );
            let mut q = crate::db::query(&sql)
                .bind(grain.clone())
                .bind(first.clone())
                .bind(last.clone());
            for c in &codes {
                q = q.bind(c.clone());
            }
            for row in q.fetch_all(self.r()).await? {
                let k = match slice {
                    Slice::Groups => (Some(key_from_row(&row)?), None),
                    Slice::Periods(_) => (None, Some(period_start(&get_str(&row, "period")?)?)),
                };
                out.entry(k).or_default().add(&scalars_from_row(&row)?, 1);
            }
            let sql = format!(
                "SELECT {sel}, wd, CAST(SUM(n) AS BIGINT) AS n FROM figure_durations WHERE grain = $1 AND period >= $2 AND period <= $3{who} GROUP BY {sel}, wd"
            );
            let mut q = crate::db::query(&sql).bind(grain).bind(first).bind(last);
            for c in &codes {
                q = q.bind(c.clone());
            }
            for row in q.fetch_all(self.r()).await? {
                let k = match slice {
                    Slice::Groups => (Some(key_from_row(&row)?), None),
                    Slice::Periods(_) => (None, Some(period_start(&get_str(&row, "period")?)?)),
                };
                let n = get_i64(&row, "n")?;
                if n != 0 {
                    *out.entry(k)
                        .or_default()
                        .durations
                        .entry(get_i64(&row, "wd")?.max(0) as u32)
                        .or_default() += n;
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|((key, period), counts)| CounterSum {
                key,
                period,
                counts,
            })
            .collect())
    }

    /// Cases open and past their promised due date on `to`, by group (city-wide under
    /// the key [`CounterKey::city`] when unfiltered and `by_group` is false): the prefix
    /// sums of the counters' `od_start - od_end` up to `to`.
    pub async fn open_overdue(
        &self,
        to: NaiveDate,
        f: &FigureFilter,
        by_group: bool,
    ) -> Result<Vec<(CounterKey, i64)>> {
        if f.keeps_none() {
            return Ok(vec![]);
        }
        let city = f.is_empty() && !by_group;
        let (narrow, codes) = f.sql(4);
        let who = if city {
            " AND department_id = 0".to_string()
        } else {
            format!(" AND department_id <> 0{narrow}")
        };
        let origin = NaiveDate::from_ymd_opt(1900, 1, 1).expect("date");
        let mut out: BTreeMap<CounterKey, i64> = BTreeMap::new();
        for (grain, first, last) in segments(origin, to, 'y') {
            let sql = format!(
                "SELECT {KEY_COLS}, CAST(SUM(od_start - od_end) AS BIGINT) AS n FROM figure_counters \
                 WHERE grain = $1 AND period >= $2 AND period <= $3{who} GROUP BY {KEY_COLS}"
            );
            let mut q = crate::db::query(&sql)
                .bind(grain.to_string())
                .bind(first)
                .bind(last);
            for c in &codes {
                q = q.bind(c.clone());
            }
            for row in q.fetch_all(self.r()).await? {
                *out.entry(key_from_row(&row)?).or_default() += get_i64(&row, "n")?;
            }
        }
        Ok(out.into_iter().filter(|(_, n)| *n != 0).collect())
    }

    /// Figures of the cases that count in any measure over `r`: received, accepted or
    /// decided in the range, or open and past due on its last day. Each part reads one index.
    pub async fn case_figures(&self, r: &Range, f: &FigureFilter) -> Result<Vec<FigureRecord>> {
        let (from, to) = (r.from.to_string(), r.to.to_string());
        if f.keeps_none() {
            return Ok(vec![]);
        }
        let (narrow, codes) = f.sql(3);
        let parts = [
            "received_on >= $1 AND received_on <= $2",
            "accepted_on >= $1 AND accepted_on <= $2",
            "decided_on >= $1 AND decided_on <= $2",
            // Open past due on `to` (still open, or closed after it): by the due index.
            "promised_due < $2 AND accepted_on <= $2 AND (closed_on IS NULL OR closed_on > $2) AND $1 <= $2",
        ];
        let mut seen: HashMap<i64, ()> = HashMap::new();
        let mut out = Vec::new();
        for p in parts {
            let sql = format!("SELECT {COLS} FROM case_figures WHERE {p}{narrow}");
            let mut q = crate::db::query(&sql).bind(&from).bind(&to);
            for c in &codes {
                q = q.bind(c);
            }
            for row in q.fetch_all(self.r()).await? {
                let rec = record_from_row(&row)?;
                if seen.insert(rec.case_id, ()).is_none() {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    /// Case ids and numbers of the figures given (for the staff drill-down list).
    pub async fn case_numbers(&self, ids: &[i64]) -> Result<HashMap<i64, (String, String)>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
            let rows = crate::db::query(&format!(
                "SELECT id, case_no, status FROM cases WHERE id IN ({})",
                list.join(",")
            ))
            .fetch_all(self.r())
            .await?;
            for r in rows {
                out.insert(
                    get_i64(&r, "id")?,
                    (get_str(&r, "case_no")?, get_str(&r, "status")?),
                );
            }
        }
        Ok(out)
    }

    /// Whether the counters still have to be built from the ledger (after the migration
    /// that introduced them, on a database that had cases).
    pub async fn figure_counters_stale(&self) -> Result<bool> {
        let r = crate::db::query("SELECT value FROM meta WHERE key = 'figure_counters_stale'")
            .fetch_optional(self.r())
            .await?;
        Ok(match r {
            Some(r) => get_i64(&r, "value")? != 0,
            None => false,
        })
    }

    /// Recomputes every case's figure from the ledger alone and then every counter from
    /// the figures, streaming (a chunk of cases, then a month of counters, at a time),
    /// reports each difference and, unless `dry_run`, repairs it.
    ///
    /// Figures: the ledger's events are read case by case (by the (case_id, case_version)
    /// index), folded, dated by their own timestamps, given their duration with the
    /// current calendar and compared with the stored row. Counters: for each month, the
    /// figures with any date in it (by the date indexes) give the expected day rows, and
    /// the month's and year's rows are the sums of those; stored rows are compared.
    pub async fn rebuild_case_figures(&self, dry_run: bool) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        let cal = calendar_of(
            &crate::db::query("SELECT year, source FROM calendar_years ORDER BY year")
                .fetch_all(self.r())
                .await?,
        )?;
        let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
        const CHUNK: i64 = 2000;
        let mut after = 0i64;
        loop {
            let ids: Vec<i64> = crate::db::query(
                "SELECT DISTINCT case_id FROM ledger_events WHERE case_id > $1 ORDER BY case_id LIMIT 2000",
            )
            .bind(after)
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| get_i64(r, "case_id"))
            .collect::<Result<_>>()?;
            let Some(&hi) = ids.last() else { break };
            let lo = after + 1;
            let mut events: BTreeMap<i64, Vec<(Event, NaiveDate)>> = BTreeMap::new();
            for r in crate::db::query(
                "SELECT case_id, at, entry FROM ledger_events WHERE case_id >= $1 AND case_id <= $2 ORDER BY case_id, case_version",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(self.r())
            .await?
            {
                let entry: serde_json::Value = serde_json::from_str(&get_str(&r, "entry")?)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let event: Event = serde_json::from_value(entry["event"].clone())
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let at = chrono::DateTime::parse_from_rfc3339(&get_str(&r, "at")?)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                events
                    .entry(get_i64(&r, "case_id")?)
                    .or_default()
                    .push((event, at.with_timezone(&tz).date_naive()));
                report.events += 1;
            }
            let stored: HashMap<i64, FigureRecord> = crate::db::query(&format!(
                "SELECT {COLS} FROM case_figures WHERE case_id >= $1 AND case_id <= $2"
            ))
            .bind(lo)
            .bind(hi)
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| record_from_row(r).map(|x| (x.case_id, x)))
            .collect::<Result<_>>()?;
            let idents: HashMap<i64, (i64, String)> = crate::db::query(
                "SELECT id, department_id, impl_code FROM cases WHERE id >= $1 AND id <= $2",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get_i64(r, "id")?,
                    (get_i64(r, "department_id")?, get_str(r, "impl_code")?),
                ))
            })
            .collect::<Result<_>>()?;
            // The window of an accepted case: its latest linked hall ticket's.
            let mut windows: HashMap<i64, (i64, i64)> = HashMap::new();
            for r in crate::db::query(
                "SELECT c.id, t.id AS ticket, t.window_id FROM hall_tickets t JOIN cases c ON c.case_no = t.case_no \
                 WHERE c.id >= $1 AND c.id <= $2 AND t.window_id IS NOT NULL",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(self.r())
            .await?
            {
                let (id, t, w) = (
                    get_i64(&r, "id")?,
                    get_i64(&r, "ticket")?,
                    get_i64(&r, "window_id")?,
                );
                let e = windows.entry(id).or_insert((t, w));
                if t > e.0 {
                    *e = (t, w);
                }
            }
            let mut fixes: Vec<(FigureRecord, bool)> = Vec::new();
            for (id, evs) in &events {
                let Some(fig) = fold_figure(evs.iter().map(|(e, d)| (e, *d))) else {
                    continue;
                };
                let Some((dept, code)) = idents.get(id) else {
                    continue;
                };
                report.cases += 1;
                let duration_wd = fig.duration_wd(&cal);
                let window_id = if fig.accepted_on.is_some() {
                    windows.get(id).map_or(0, |(_, w)| *w)
                } else {
                    0
                };
                let rebuilt = FigureRecord {
                    case_id: *id,
                    department_id: *dept,
                    impl_code: code.clone(),
                    figure: fig,
                    duration_wd,
                    window_id,
                };
                if stored.get(id) != Some(&rebuilt) {
                    report.figure_differences += 1;
                    if report.differences.len() < MAX_LISTED {
                        report.differences.push((
                            *id,
                            match stored.get(id) {
                                None => "缺少统计行".to_string(),
                                Some(s) => format!(
                                    "存储 {:?} 时长 {:?} 窗口 {} ≠ 台账 {:?} 时长 {:?} 窗口 {}",
                                    s.figure,
                                    s.duration_wd,
                                    s.window_id,
                                    rebuilt.figure,
                                    rebuilt.duration_wd,
                                    rebuilt.window_id
                                ),
                            },
                        ));
                    }
                    fixes.push((rebuilt, stored.contains_key(id)));
                }
            }
            let orphans: Vec<i64> = stored
                .keys()
                .filter(|id| !events.contains_key(id))
                .copied()
                .collect();
            report.orphans += orphans.len() as u64;
            if !dry_run && (!fixes.is_empty() || !orphans.is_empty()) {
                let mut tx = self.begin_write().await?;
                for (rec, existed) in &fixes {
                    put_record(&mut tx, rec, *existed).await?;
                }
                for id in &orphans {
                    crate::db::query("DELETE FROM case_figures WHERE case_id = $1")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?;
                }
                self.commit(tx).await?;
            }
            after = hi;
            if (ids.len() as i64) < CHUNK {
                break;
            }
        }
        // Figures beyond the ledger's last case.
        let beyond: Vec<i64> =
            crate::db::query("SELECT case_id FROM case_figures WHERE case_id > $1")
                .bind(after)
                .fetch_all(self.r())
                .await?
                .iter()
                .map(|r| get_i64(r, "case_id"))
                .collect::<Result<_>>()?;
        report.orphans += beyond.len() as u64;
        if !dry_run && !beyond.is_empty() {
            let mut tx = self.begin_write().await?;
            crate::db::query("DELETE FROM case_figures WHERE case_id > $1")
                .bind(after)
                .execute(&mut *tx)
                .await?;
            self.commit(tx).await?;
        }
        self.rebuild_counters(dry_run, &mut report).await?;
        if !dry_run {
            let mut tx = self.begin_write().await?;
            crate::db::query("UPDATE meta SET value = 0 WHERE key = 'figure_counters_stale'")
                .execute(&mut *tx)
                .await?;
            self.commit(tx).await?;
        }
        Ok(report)
    }

    /// The counters' half of the rebuild, a month at a time.
    async fn rebuild_counters(&self, dry_run: bool, report: &mut RebuildReport) -> Result<()> {
        // The span of dates the figures and the stored counters cover.
        let mut lo: Option<NaiveDate> = None;
        let mut hi: Option<NaiveDate> = None;
        let mut widen = |d: Option<NaiveDate>| {
            if let Some(d) = d {
                lo = Some(lo.map_or(d, |l| l.min(d)));
                hi = Some(hi.map_or(d, |h| h.max(d)));
            }
        };
        let r = crate::db::query(
            "SELECT MIN(received_on) AS a, MAX(received_on) AS b, MIN(accepted_on) AS c, MAX(accepted_on) AS d, \
             MAX(decided_on) AS e, MAX(closed_on) AS f, MAX(promised_due) AS g FROM case_figures",
        )
        .fetch_one(self.r())
        .await?;
        for c in ["a", "b", "c", "d", "e", "f"] {
            widen(opt_date(&r, c)?);
        }
        // Overdue starts the day after the due date.
        widen(opt_date(&r, "g")?.and_then(|d| d.succ_opt()));
        for sql in [
            "SELECT MIN(rated_on) AS a, MAX(rated_on) AS b FROM ratings WHERE excluded = 0",
            "SELECT MIN(period) AS a, MAX(period) AS b FROM figure_counters WHERE grain = 'd'",
            "SELECT MIN(period) AS a, MAX(period) AS b FROM figure_durations WHERE grain = 'd'",
        ] {
            let r = crate::db::query(sql).fetch_one(self.r()).await?;
            widen(opt_date(&r, "a")?);
            widen(opt_date(&r, "b")?);
        }
        // Stored month and year rows outside the span are compared too (against nothing).
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Ok(());
        };
        let first_month = NaiveDate::from_ymd_opt(lo.year(), lo.month(), 1).expect("date");
        let mut year_rows: BTreeMap<CounterKey, Counts> = BTreeMap::new();
        let mut month = first_month;
        while month <= hi {
            let next = month
                .checked_add_months(chrono::Months::new(1))
                .expect("date");
            let last = next.pred_opt().expect("date");
            let (a, b) = (month.to_string(), last.to_string());
            // Figures with a date in the month.
            let prev_day = month.pred_opt().expect("date").to_string();
            let day_before_last = last.pred_opt().expect("date").to_string();
            let mut recs: BTreeMap<i64, FigureRecord> = BTreeMap::new();
            for (cond, x, y) in [
                ("received_on >= $1 AND received_on <= $2", &a, &b),
                ("accepted_on >= $1 AND accepted_on <= $2", &a, &b),
                ("decided_on >= $1 AND decided_on <= $2", &a, &b),
                ("closed_on >= $1 AND closed_on <= $2", &a, &b),
                (
                    "promised_due >= $1 AND promised_due <= $2",
                    &prev_day,
                    &day_before_last,
                ),
            ] {
                for row in
                    crate::db::query(&format!("SELECT {COLS} FROM case_figures WHERE {cond}"))
                        .bind(x.clone())
                        .bind(y.clone())
                        .fetch_all(self.r())
                        .await?
                {
                    let rec = record_from_row(&row)?;
                    recs.entry(rec.case_id).or_insert(rec);
                }
            }
            let mut expected: BTreeMap<(String, String, CounterKey), Counts> = BTreeMap::new();
            let month_p = month.format("%Y-%m").to_string();
            for rec in recs.values() {
                for (day, c) in contributions(&rec.figure, rec.duration_wd) {
                    if day < month || day > last {
                        continue;
                    }
                    for key in [rec.key(), CounterKey::city()] {
                        expected
                            .entry(("d".into(), day.to_string(), key.clone()))
                            .or_default()
                            .add(&c, 1);
                        expected
                            .entry(("m".into(), month_p.clone(), key.clone()))
                            .or_default()
                            .add(&c, 1);
                        year_rows.entry(key).or_default().add(&c, 1);
                    }
                }
            }
            // Ratings given in the month, under their case's group (upheld appeals excluded).
            for row in crate::db::query(
                "SELECT r.rated_on, r.level, f.department_id, f.impl_code, f.online, f.window_id FROM ratings r \
                 JOIN case_figures f ON f.case_id = r.case_id WHERE r.excluded = 0 AND r.rated_on >= $1 AND r.rated_on <= $2",
            )
            .bind(a.clone())
            .bind(b.clone())
            .fetch_all(self.r())
            .await?
            {
                let day = opt_date(&row, "rated_on")?
                    .ok_or_else(|| StoreError::Internal("ratings.rated_on".into()))?;
                let c = Counts::of_rating(get_i64(&row, "level")? as u8);
                for key in [key_from_row(&row)?, CounterKey::city()] {
                    expected
                        .entry(("d".into(), day.to_string(), key.clone()))
                        .or_default()
                        .add(&c, 1);
                    expected
                        .entry(("m".into(), month_p.clone(), key.clone()))
                        .or_default()
                        .add(&c, 1);
                    year_rows.entry(key).or_default().add(&c, 1);
                }
            }
            let mut stored = self.stored_counters("d", &a, &b).await?;
            stored.extend(self.stored_counters("m", &month_p, &month_p).await?);
            self.compare_counters(expected, stored, dry_run, report)
                .await?;
            if month.month() == 12 || next > hi {
                let y = month.format("%Y").to_string();
                let expected = std::mem::take(&mut year_rows)
                    .into_iter()
                    .map(|(k, c)| (("y".to_string(), y.clone(), k), c))
                    .collect();
                let stored = self.stored_counters("y", &y, &y).await?;
                self.compare_counters(expected, stored, dry_run, report)
                    .await?;
            }
            month = next;
        }
        // Stored rows outside the span (a corrupted period): expected to be none.
        let (lo_m, hi_m) = (
            first_month.format("%Y-%m").to_string(),
            hi.format("%Y-%m").to_string(),
        );
        let (lo_y, hi_y) = (lo.format("%Y").to_string(), hi.format("%Y").to_string());
        let mut outside = BTreeMap::new();
        for (grain, a, b) in [
            ("d", lo.to_string(), hi.to_string()),
            ("m", lo_m, hi_m),
            ("y", lo_y, hi_y),
        ] {
            outside.extend(self.stored_counters_outside(grain, &a, &b).await?);
        }
        self.compare_counters(BTreeMap::new(), outside, dry_run, report)
            .await?;
        Ok(())
    }

    async fn stored_counters(
        &self,
        grain: &str,
        a: &str,
        b: &str,
    ) -> Result<BTreeMap<(String, String, CounterKey), Counts>> {
        self.stored_counters_where(grain, "period >= $2 AND period <= $3", a, b)
            .await
    }

    async fn stored_counters_outside(
        &self,
        grain: &str,
        a: &str,
        b: &str,
    ) -> Result<BTreeMap<(String, String, CounterKey), Counts>> {
        self.stored_counters_where(grain, "(period < $2 OR period > $3)", a, b)
            .await
    }

    async fn stored_counters_where(
        &self,
        grain: &str,
        cond: &str,
        a: &str,
        b: &str,
    ) -> Result<BTreeMap<(String, String, CounterKey), Counts>> {
        let mut out: BTreeMap<(String, String, CounterKey), Counts> = BTreeMap::new();
        let cols = Counts::COLUMNS.join(", ");
        for row in crate::db::query(&format!(
            "SELECT period, {KEY_COLS}, {cols} FROM figure_counters WHERE grain = $1 AND {cond}"
        ))
        .bind(grain)
        .bind(a)
        .bind(b)
        .fetch_all(self.r())
        .await?
        {
            out.entry((
                grain.to_string(),
                get_str(&row, "period")?,
                key_from_row(&row)?,
            ))
            .or_default()
            .add(&scalars_from_row(&row)?, 1);
        }
        for row in crate::db::query(&format!(
            "SELECT period, {KEY_COLS}, wd, n FROM figure_durations WHERE grain = $1 AND {cond}"
        ))
        .bind(grain)
        .bind(a)
        .bind(b)
        .fetch_all(self.r())
        .await?
        {
            let n = get_i64(&row, "n")?;
            if n != 0 {
                *out.entry((
                    grain.to_string(),
                    get_str(&row, "period")?,
                    key_from_row(&row)?,
                ))
                .or_default()
                .durations
                .entry(get_i64(&row, "wd")?.max(0) as u32)
                .or_default() += n;
            }
        }
        Ok(out)
    }

    /// Compares expected and stored counter rows (all-zero rows count as absent), reports
    /// and, unless `dry_run`, replaces each differing row.
    async fn compare_counters(
        &self,
        expected: BTreeMap<(String, String, CounterKey), Counts>,
        stored: BTreeMap<(String, String, CounterKey), Counts>,
        dry_run: bool,
        report: &mut RebuildReport,
    ) -> Result<()> {
        let zero = Counts::default();
        let mut keys: Vec<&(String, String, CounterKey)> =
            expected.keys().chain(stored.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut fixes: Vec<(&(String, String, CounterKey), &Counts)> = Vec::new();
        for k in keys {
            let e = expected.get(k).filter(|c| !c.is_zero()).unwrap_or(&zero);
            let s = stored.get(k).filter(|c| !c.is_zero()).unwrap_or(&zero);
            if e != s {
                report.counter_differences += 1;
                if report.counter_examples.len() < MAX_LISTED {
                    report.counter_examples.push(format!(
                        "{} {} 部门{} 事项{} 网上{} 窗口{}：存储 {:?} ≠ 办件 {:?}",
                        k.0, k.1, k.2.department_id, k.2.impl_code, k.2.online, k.2.window_id, s, e
                    ));
                }
                fixes.push((k, e));
            }
        }
        if dry_run || fixes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for ((grain, period, key), c) in fixes {
            for table in ["figure_counters", "figure_durations"] {
                crate::db::query(&format!(
                    "DELETE FROM {table} WHERE grain = $1 AND period = $2 AND department_id = $3 AND impl_code = $4 AND online = $5 AND window_id = $6"
                ))
                .bind(grain.clone())
                .bind(period.clone())
                .bind(key.department_id)
                .bind(key.impl_code.clone())
                .bind(i64::from(key.online))
                .bind(key.window_id)
                .execute(&mut *tx)
                .await?;
            }
            if !c.is_zero() {
                put_counter_row(&mut tx, grain, period, key, c).await?;
            }
        }
        self.commit(tx).await?;
        Ok(())
    }
}

/// Counter increments gathered in memory and written at once (bulk seeding): by day and
/// group, rolled up to months and years when flushed.
#[derive(Debug, Default)]
pub struct CounterBatch {
    days: HashMap<(NaiveDate, CounterKey), Counts>,
}

impl CounterBatch {
    /// Adds a case's contributions (to its group and the city-wide row).
    pub fn add(&mut self, rec: &FigureRecord) {
        for (day, c) in contributions(&rec.figure, rec.duration_wd) {
            for key in [rec.key(), CounterKey::city()] {
                self.days.entry((day, key)).or_default().add(&c, 1);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Takes out the days before `day` (those the seeder will not touch again), leaving the rest.
    pub fn split_before(&mut self, day: NaiveDate) -> CounterBatch {
        let mut out = CounterBatch::default();
        let keys: Vec<(NaiveDate, CounterKey)> = self
            .days
            .keys()
            .filter(|(d, _)| *d < day)
            .cloned()
            .collect();
        for k in keys {
            if let Some(c) = self.days.remove(&k) {
                out.days.insert(k, c);
            }
        }
        out
    }

    /// Adds the gathered counts to the stored counters (day, month and year rows).
    pub async fn flush(self, tx: &mut AnyConnection) -> Result<()> {
        let mut rows = CounterRows::new();
        for ((day, key), c) in self.days {
            roll_up(&mut rows, day, &key, &c);
        }
        rows.retain(|_, c| !c.is_zero());
        write_counter_rows(tx, rows, 0).await
    }
}

/// Writes one counter row and its durations as given (rebuild, bulk seeding).
pub(crate) async fn put_counter_row(
    tx: &mut AnyConnection,
    grain: &str,
    period: &str,
    key: &CounterKey,
    c: &Counts,
) -> Result<()> {
    let cols = Counts::COLUMNS.join(", ");
    let ph: Vec<String> = (7..7 + Counts::COLUMNS.len())
        .map(|i| format!("${i}"))
        .collect();
    let sql = format!(
        "INSERT INTO figure_counters (grain, period, department_id, impl_code, online, window_id, {cols}) VALUES ($1, $2, $3, $4, $5, $6, {})",
        ph.join(", ")
    );
    let mut q = crate::db::query(&sql)
        .bind(grain)
        .bind(period)
        .bind(key.department_id)
        .bind(key.impl_code.clone())
        .bind(i64::from(key.online))
        .bind(key.window_id);
    for v in c.scalars() {
        q = q.bind(v);
    }
    q.execute(&mut *tx).await?;
    for (wd, n) in &c.durations {
        if *n == 0 {
            continue;
        }
        crate::db::query(
            "INSERT INTO figure_durations (grain, period, department_id, impl_code, online, window_id, wd, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(grain)
        .bind(period)
        .bind(key.department_id)
        .bind(key.impl_code.clone())
        .bind(i64::from(key.online))
        .bind(key.window_id)
        .bind(i64::from(*wd))
        .bind(*n)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Inserts many new projection rows in one statement (bulk seeding).
#[cfg(feature = "bench")]
pub(crate) async fn put_records(tx: &mut AnyConnection, recs: &[FigureRecord]) -> Result<()> {
    if recs.is_empty() {
        return Ok(());
    }
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string());
    let rows: Vec<String> = (0..recs.len())
        .map(|i| {
            let ph: Vec<String> = (1..=15).map(|j| format!("${}", i * 15 + j)).collect();
            format!("({})", ph.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO case_figures ({COLS}) VALUES {}",
        rows.join(", ")
    );
    let mut q = crate::db::query(&sql);
    for r in recs {
        let f = &r.figure;
        q = q
            .bind(r.case_id)
            .bind(r.department_id)
            .bind(r.impl_code.clone())
            .bind(i64::from(f.online))
            .bind(f.received_on.to_string())
            .bind(d(f.accepted_on))
            .bind(d(f.decided_on))
            .bind(d(f.closed_on))
            .bind(d(f.promised_due))
            .bind(i64::from(f.corrections))
            .bind(i64::from(f.special_days))
            .bind(i64::from(f.post_delivery))
            .bind(i64::from(f.suspended))
            .bind(r.duration_wd.map(i64::from))
            .bind(r.window_id);
    }
    q.execute(&mut *tx).await?;
    Ok(())
}

/// Writes a whole projection row (rebuild, bulk seeding): an update when `existed`.
pub(crate) async fn put_record(
    tx: &mut AnyConnection,
    r: &FigureRecord,
    existed: bool,
) -> Result<()> {
    let f = &r.figure;
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string());
    // One statement either way: an existing row is replaced in place.
    let upsert = if existed {
        let set: Vec<String> = COLS
            .split(", ")
            .skip(1)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(" ON CONFLICT (case_id) DO UPDATE SET {}", set.join(", "))
    } else {
        String::new()
    };
    crate::db::query(&format!(
        "INSERT INTO case_figures ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15){upsert}"
    ))
    .bind(r.case_id)
    .bind(r.department_id)
    .bind(&r.impl_code)
    .bind(i64::from(f.online))
    .bind(f.received_on.to_string())
    .bind(d(f.accepted_on))
    .bind(d(f.decided_on))
    .bind(d(f.closed_on))
    .bind(d(f.promised_due))
    .bind(i64::from(f.corrections))
    .bind(i64::from(f.special_days))
    .bind(i64::from(f.post_delivery))
    .bind(i64::from(f.suspended))
    .bind(r.duration_wd.map(i64::from))
    .bind(r.window_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
