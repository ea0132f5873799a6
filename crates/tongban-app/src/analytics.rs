//! 大数据分析: case figures over a date range from the case-figures projection, grouped by
//! period, department, item, hall, channel, district or level; two periods side by side; the
//! staff drill-down to the cases behind a figure; the rebuild from the ledger.
//!
//! Figures are public (the city publishes them); the case list behind them is staff work
//! (capability `SearchCases`, narrowed to the department for department staff).

use crate::error::Error;
use crate::state::CatalogView;
use crate::App;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use tongban_core::capability::{Capability, Scope};
use tongban_core::catalog::AdminLevel;
use tongban_core::figures::Counts;
use tongban_core::figures::{self, FigureRow, Period, Range};
use tongban_store::accounts::User;
use tongban_store::figures::{CounterKey, FigureFilter, FigureRecord, RebuildReport, Slice};

/// The longest range one request may cover (bounded input).
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Department,
    Item,
    Hall,
    /// The hall window that accepted the case (recorded at 受理 from the linked ticket).
    Window,
    Channel,
    District,
    Level,
    Period(Period),
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "department" => GroupBy::Department,
            "item" => GroupBy::Item,
            "hall" => GroupBy::Hall,
            "window" => GroupBy::Window,
            "channel" => GroupBy::Channel,
            "district" => GroupBy::District,
            "level" => GroupBy::Level,
            other => GroupBy::Period(Period::parse(other)?),
        })
    }
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Department => "department",
            GroupBy::Item => "item",
            GroupBy::Hall => "hall",
            GroupBy::Window => "window",
            GroupBy::Channel => "channel",
            GroupBy::District => "district",
            GroupBy::Level => "level",
            GroupBy::Period(Period::Day) => "day",
            GroupBy::Period(Period::Week) => "week",
            GroupBy::Period(Period::Month) => "month",
            GroupBy::Period(Period::Year) => "year",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            GroupBy::Department => "部门",
            GroupBy::Item => "事项",
            GroupBy::Hall => "办理地点",
            GroupBy::Window => "受理窗口",
            GroupBy::Channel => "申报渠道",
            GroupBy::District => "区划",
            GroupBy::Level => "层级",
            GroupBy::Period(Period::Day) => "日",
            GroupBy::Period(Period::Week) => "周",
            GroupBy::Period(Period::Month) => "月",
            GroupBy::Period(Period::Year) => "年",
        }
    }
}

/// 市本级 / 县区 / 乡镇: the report's levels, from the item's 行使层级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    County,
    Township,
    /// 国家级 / 省级 items handled here.
    Above,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "city" | "市本级" => Some(Level::City),
            "county" | "县区" => Some(Level::County),
            "township" | "乡镇" => Some(Level::Township),
            "above" | "省级以上" => Some(Level::Above),
            _ => None,
        }
    }
    pub fn of(l: AdminLevel) -> Level {
        match l {
            AdminLevel::National | AdminLevel::Provincial => Level::Above,
            AdminLevel::City => Level::City,
            AdminLevel::County => Level::County,
            AdminLevel::Township | AdminLevel::Village => Level::Township,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Above => "above",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Level::City => "市本级",
            Level::County => "县区",
            Level::Township => "乡镇",
            Level::Above => "省级以上",
        }
    }
}

/// The district of a department: the 登记管理机关行政区划码 inside its 统一社会信用代码
/// (characters 3–8).
pub fn district_of(department_code: &str) -> Option<String> {
    department_code
        .get(2..8)
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// What to count.
#[derive(Debug, Clone)]
pub struct FigureQuery {
    pub range: Range,
    pub group_by: GroupBy,
    /// 部门 code.
    pub department: Option<String>,
    /// 实施编码.
    pub item: Option<String>,
    pub level: Option<Level>,
    pub district: Option<String>,
}

impl FigureQuery {
    /// Parses the request's strings (bounded: dates, a known grouping, a range of at most
    /// three years).
    pub fn parse(
        from: &str,
        to: &str,
        group_by: &str,
        department: Option<&str>,
        item: Option<&str>,
        level: Option<&str>,
        district: Option<&str>,
    ) -> Result<FigureQuery, Error> {
        let date = |s: &str, what: &str| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map_err(|_| Error::invalid(format!("{what}日期格式应为 YYYY-MM-DD：{s}")))
        };
        let (from, to) = (date(from, "起始")?, date(to, "截止")?);
        if to < from {
            return Err(Error::invalid("截止日期早于起始日期"));
        }
        if (to - from).num_days() > MAX_RANGE_DAYS {
            return Err(Error::invalid("统计区间最长三年"));
        }
        let group_by = GroupBy::parse(group_by.trim()).ok_or_else(|| {
            Error::invalid(format!(
                "不支持的分组 {group_by}：可用 department、item、hall、window、channel、district、level、day、week、month、year"
            ))
        })?;
        let nonempty = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(64).collect::<String>())
        };
        let level = match nonempty(level) {
            Some(l) => {
                Some(Level::parse(&l).ok_or_else(|| Error::invalid(format!("未知的层级 {l}")))?)
            }
            None => None,
        };
        Ok(FigureQuery {
            range: Range { from, to },
            group_by,
            department: nonempty(department),
            item: nonempty(item),
            level,
            district: nonempty(district),
        })
    }
}

/// Figures with their rows and total (the API's shape).
#[derive(Debug, Clone, Serialize)]
pub struct FigureReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: &'static str,
    pub rows: Vec<FigureRow>,
    pub total: FigureRow,
}

/// Which cases the query's filters keep: departments and items by the catalog.
fn filter_of(view: &CatalogView, q: &FigureQuery) -> Result<FigureFilter, Error> {
    let mut f = FigureFilter::default();
    if let Some(code) = &q.department {
        let d = view
            .departments
            .iter()
            .find(|d| &d.code == code)
            .ok_or_else(|| Error::not_found(format!("部门 {code}")))?;
        f.department_ids = Some(vec![d.id]);
    }
    if let Some(d) = &q.district {
        let ids: Vec<i64> = view
            .departments
            .iter()
            .filter(|x| district_of(&x.code).as_deref() == Some(d.as_str()))
            .map(|x| x.id)
            .collect();
        f.department_ids = Some(match f.department_ids {
            Some(prev) => prev.into_iter().filter(|i| ids.contains(i)).collect(),
            None => ids,
        });
    }
    if let Some(code) = &q.item {
        if view.get(code).is_none() {
            return Err(Error::not_found(format!("事项 {code}")));
        }
        f.impl_codes = Some(vec![code.clone()]);
    }
    if let Some(level) = q.level {
        let codes: Vec<String> = view
            .items
            .iter()
            .filter(|i| Level::of(i.item.level) == level)
            .filter(|i| {
                f.impl_codes
                    .as_ref()
                    .is_none_or(|c| c.contains(&i.item.impl_code))
            })
            .map(|i| i.item.impl_code.clone())
            .collect();
        f.impl_codes = Some(codes);
    }
    Ok(f)
}

/// The figure records the query covers.
pub async fn records(app: &App, q: &FigureQuery) -> Result<Vec<FigureRecord>, Error> {
    let view = app.catalog().await?;
    let filter = filter_of(&view, q)?;
    Ok(app.store.case_figures(&q.range, &filter).await?)
}

fn key_of(
    view: &CatalogView,
    g: GroupBy,
    r: &FigureRecord,
    day: NaiveDate,
) -> Option<(String, String)> {
    let dept = || view.department(r.department_id);
    let item = || view.get(&r.impl_code);
    match g {
        GroupBy::Department => dept().map(|d| (d.code.clone(), d.name.clone())),
        GroupBy::Item => Some((
            r.impl_code.clone(),
            item().map(|i| i.item.name.clone()).unwrap_or_default(),
        )),
        GroupBy::Hall => item().map(|i| {
            let h = if i.item.hall.is_empty() {
                "未填写".to_string()
            } else {
                i.item.hall.clone()
            };
            (h.clone(), h)
        }),
        GroupBy::Window => Some((r.window_id.to_string(), String::new())),
        GroupBy::Channel => Some(if r.figure.online {
            ("online".into(), "网上申报".into())
        } else {
            ("window".into(), "窗口及其他".into())
        }),
        GroupBy::District => dept()
            .and_then(|d| district_of(&d.code))
            .map(|c| (c.clone(), c)),
        GroupBy::Level => item().map(|i| {
            let l = Level::of(i.item.level);
            (l.code().to_string(), l.label().to_string())
        }),
        GroupBy::Period(p) => Some(p.key(day)),
    }
}

/// Rows grouped by window get the hall's name and the window's number and name.
async fn label_windows(
    app: &App,
    view: &CatalogView,
    g: GroupBy,
    rows: &mut [FigureRow],
) -> Result<(), Error> {
    if g != GroupBy::Window {
        return Ok(());
    }
    let mut names: std::collections::HashMap<String, String> = Default::default();
    for h in &view.halls {
        for w in app.store.hall_windows(h.id).await? {
            names.insert(
                w.id.to_string(),
                format!("{} {}号窗口（{}）", h.name, w.number, w.name),
            );
        }
    }
    for r in rows {
        r.label = if r.key == "0" {
            "未经窗口受理".to_string()
        } else {
            names
                .get(&r.key)
                .cloned()
                .unwrap_or_else(|| format!("窗口 #{}", r.key))
        };
    }
    Ok(())
}

/// Tallies records under a query's grouping.
pub async fn tally(
    app: &App,
    q: &FigureQuery,
    recs: &[FigureRecord],
) -> Result<FigureReport, Error> {
    let view = app.catalog().await?;
    let cal = app.calendar().await?;
    let (mut rows, total) = figures::tally(
        recs,
        |r: &FigureRecord| &r.figure,
        &q.range,
        &cal,
        |r, day| key_of(&view, q.group_by, r, day),
    );
    label_windows(app, &view, q.group_by, &mut rows).await?;
    Ok(FigureReport {
        from: q.range.from,
        to: q.range.to,
        group_by: q.group_by.code(),
        rows,
        total,
    })
}

/// The group of a counter sum under a grouping: from its key (department, item, hall,
/// channel, district, level, window) or its period's first day.
fn key_of_counter(
    view: &CatalogView,
    g: GroupBy,
    key: Option<&CounterKey>,
    day: NaiveDate,
) -> Option<(String, String)> {
    if let GroupBy::Period(p) = g {
        return Some(p.key(day));
    }
    let k = key?;
    let rec = FigureRecord {
        case_id: 0,
        department_id: k.department_id,
        impl_code: k.impl_code.clone(),
        figure: tongban_core::figures::CaseFigure {
            online: k.online,
            received_on: day,
            accepted_on: None,
            decided_on: None,
            closed_on: None,
            promised_due: None,
            corrections: 0,
            special_days: 0,
            post_delivery: false,
            suspended: false,
        },
        duration_wd: None,
        window_id: k.window_id,
    };
    key_of(view, g, &rec, day)
}

/// The figures of a query and the durations of its decided cases (working days → cases),
/// from the pre-aggregated counters: a few rows per period and group, whatever the number
/// of cases.
pub async fn counted(
    app: &App,
    q: &FigureQuery,
) -> Result<(FigureReport, BTreeMap<u32, i64>), Error> {
    let view = app.catalog().await?;
    let filter = filter_of(&view, q)?;
    let slice = match q.group_by {
        GroupBy::Period(Period::Day) | GroupBy::Period(Period::Week) => Slice::Periods('d'),
        GroupBy::Period(Period::Month) => Slice::Periods('m'),
        GroupBy::Period(Period::Year) => Slice::Periods('y'),
        _ => Slice::Groups,
    };
    let sums = app.store.counter_sums(&q.range, &filter, slice).await?;
    let by_group = slice == Slice::Groups;
    let overdue = app
        .store
        .open_overdue(q.range.to, &filter, by_group)
        .await?;
    let mut groups: BTreeMap<String, (String, Counts, u64)> = BTreeMap::new();
    let mut total = Counts::default();
    let mut total_overdue = 0u64;
    for s in &sums {
        total.add(&s.counts, 1);
        if !s.counts.has_measures() {
            continue;
        }
        let day = s.period.unwrap_or(q.range.from);
        if let Some((k, label)) = key_of_counter(&view, q.group_by, s.key.as_ref(), day) {
            groups
                .entry(k)
                .or_insert_with(|| (label, Counts::default(), 0))
                .1
                .add(&s.counts, 1);
        }
    }
    for (key, n) in &overdue {
        let n = (*n).max(0) as u64;
        total_overdue += n;
        let k = if key.is_city() { None } else { Some(key) };
        if k.is_none() && !matches!(q.group_by, GroupBy::Period(_)) {
            continue;
        }
        if let Some((k, label)) = key_of_counter(&view, q.group_by, k, q.range.to) {
            groups
                .entry(k)
                .or_insert_with(|| (label, Counts::default(), 0))
                .2 += n;
        }
    }
    let durations = total.durations.clone();
    let mut rows: Vec<FigureRow> = groups
        .into_iter()
        .map(|(k, (label, c, od))| c.row(k, label, od))
        .collect();
    label_windows(app, &view, q.group_by, &mut rows).await?;
    Ok((
        FigureReport {
            from: q.range.from,
            to: q.range.to,
            group_by: q.group_by.code(),
            rows,
            total: total.row("total".into(), "合计".into(), total_overdue),
        },
        durations,
    ))
}

/// The figures of a query.
pub async fn case_figures(app: &App, q: &FigureQuery) -> Result<FigureReport, Error> {
    Ok(counted(app, q).await?.0)
}

/// The same figures computed row by row from the cases' figures (the drill-down's
/// records): the definition the counters must agree with.
pub async fn case_figures_by_rows(app: &App, q: &FigureQuery) -> Result<FigureReport, Error> {
    let recs = records(app, q).await?;
    tally(app, q, &recs).await
}

/// Durations of the decided cases in buckets (for the distribution chart).
pub fn duration_buckets(durations: &BTreeMap<u32, i64>) -> Vec<(String, u64)> {
    figures::buckets_of_histogram(durations)
}

/// The same figures over two ranges, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub before: FigureReport,
    pub after: FigureReport,
}

pub async fn compare(
    app: &App,
    before: &FigureQuery,
    after: &FigureQuery,
) -> Result<Comparison, Error> {
    Ok(Comparison {
        before: case_figures(app, before).await?,
        after: case_figures(app, after).await?,
    })
}

/// One case behind the figures (staff drill-down).
#[derive(Debug, Clone, Serialize)]
pub struct CaseLine {
    pub case_no: String,
    pub status: String,
    pub impl_code: String,
    pub received_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub promised_due: Option<NaiveDate>,
    pub corrections: u32,
    pub special_days: u32,
    pub duration_wd: Option<u32>,
    pub on_time: Option<bool>,
}

/// At most this many cases in one list.
pub const MAX_CASE_LINES: usize = 500;

/// The cases behind a query's figures: staff only (`SearchCases`); department staff see
/// their own department's cases, and asking for another department is refused.
pub async fn case_lines(app: &App, user: &User, q: &FigureQuery) -> Result<Vec<CaseLine>, Error> {
    let scope = crate::authz::require_scope(app, user, Capability::SearchCases).await?;
    let mut recs = records(app, q).await?;
    if scope == Scope::Department {
        let own = user.department_id;
        if let Some(code) = &q.department {
            let view = app.catalog().await?;
            let asked = view
                .departments
                .iter()
                .find(|d| &d.code == code)
                .map(|d| d.id);
            if asked != own {
                return Err(crate::authz::refused(
                    app,
                    user,
                    Capability::SearchCases,
                    code,
                    crate::authz::Refuse::Forbidden,
                )
                .await);
            }
        }
        recs.retain(|r| Some(r.department_id) == own);
    } else if scope == Scope::Own {
        return Err(Error::forbidden());
    }
    let cal = app.calendar().await?;
    recs.sort_by(|a, b| {
        b.figure
            .received_on
            .cmp(&a.figure.received_on)
            .then(b.case_id.cmp(&a.case_id))
    });
    recs.truncate(MAX_CASE_LINES);
    let ids: Vec<i64> = recs.iter().map(|r| r.case_id).collect();
    let nos = app.store.case_numbers(&ids).await?;
    Ok(recs
        .iter()
        .filter_map(|r| {
            let (no, status) = nos.get(&r.case_id)?;
            let f = &r.figure;
            Some(CaseLine {
                case_no: no.clone(),
                status: tongban_core::case::Status::parse(status)
                    .map(|s| s.label().to_string())
                    .unwrap_or_else(|| status.clone()),
                impl_code: r.impl_code.clone(),
                received_on: f.received_on,
                accepted_on: f.accepted_on,
                decided_on: f.decided_on,
                promised_due: f.promised_due,
                corrections: f.corrections,
                special_days: f.special_days,
                duration_wd: f.duration_wd(&cal),
                on_time: f
                    .decided_on
                    .map(|d| f.promised_due.is_none_or(|due| d <= due)),
            })
        })
        .collect())
}

/// Recomputes the figures from the ledger and reports differences (`tongban analytics
/// rebuild`); with `dry_run`, only reports.
pub async fn rebuild(app: &App, dry_run: bool) -> Result<RebuildReport, Error> {
    Ok(app.store.rebuild_case_figures(dry_run).await?)
}

/// The catalog indicators of the items at a level and in a district (the report's 981 are
/// 市本级).
#[derive(Debug, Clone, Serialize)]
pub struct CatalogFigures {
    pub stats: tongban_core::indicators::CatalogStats,
    pub by_department: Vec<(
        tongban_store::catalog::Department,
        tongban_core::indicators::CatalogStats,
    )>,
    pub by_hall: Vec<(String, tongban_core::indicators::CatalogStats)>,
}

pub fn catalog_figures(
    view: &CatalogView,
    level: Option<Level>,
    district: Option<&str>,
) -> CatalogFigures {
    use tongban_core::indicators::catalog_stats;
    let items: Vec<&tongban_core::catalog::Item> = view
        .active()
        .map(|i| &i.item)
        .filter(|i| level.is_none_or(|l| Level::of(i.level) == l))
        .filter(|i| {
            district
                .is_none_or(|d| district_of(&i.department_code.to_string()).as_deref() == Some(d))
        })
        .collect();
    let by_department = view
        .departments
        .iter()
        .filter_map(|d| {
            let of: Vec<&tongban_core::catalog::Item> = items
                .iter()
                .copied()
                .filter(|i| i.department_code.to_string() == d.code)
                .collect();
            (!of.is_empty()).then(|| (d.clone(), catalog_stats(of)))
        })
        .collect();
    let mut halls: Vec<String> = items.iter().map(|i| i.hall.clone()).collect();
    halls.sort();
    halls.dedup();
    let by_hall = halls
        .into_iter()
        .map(|h| {
            let s = catalog_stats(items.iter().copied().filter(|i| i.hall == h));
            (h, s)
        })
        .collect();
    CatalogFigures {
        stats: catalog_stats(items.iter().copied()),
        by_department,
        by_hall,
    }
}
