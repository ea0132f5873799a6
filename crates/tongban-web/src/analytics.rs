//! 大数据分析 in the web: the case-figures section of `/stats` (tiles with definitions, a
//! trend line, bars per department, the distribution of durations, drill-down department →
//! item → cases), the JSON API under `/api/v1/analytics`, and CSV / XLSX export of every table.
//! The figures are public; the case list behind them is for staff only.

use crate::auth::{SignedIn, Viewer};
use crate::charts::{bar_chart, line_chart};
use crate::error::{ApiError, AppError, PageError};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use serde::Deserialize;
use tongban_app::analytics::{
    self as an, CaseLine, Comparison, FigureQuery, FigureReport, GroupBy, Level,
};
use tongban_core::figures::FigureRow;

/// The query strings of the figures (API, page and export).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FigureParams {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub group_by: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub district: Option<String>,
    /// The trend's period on the page (day, week, month, year).
    #[serde(default)]
    pub period: Option<String>,
    /// Before/after on the page: the "before" range.
    #[serde(default)]
    pub before_from: Option<String>,
    #[serde(default)]
    pub before_to: Option<String>,
    /// Export: which table (figures, cases, catalog) and format (csv, xlsx).
    #[serde(default)]
    pub table: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

impl FigureParams {
    /// The query, defaulting to this year up to today, by month.
    fn query(&self, state: &AppState, group_by: Option<&str>) -> Result<FigureQuery, AppError> {
        let today = state.today();
        let jan1 = format!("{}-01-01", today.year());
        let from = self.from.clone().filter(|s| !s.is_empty()).unwrap_or(jan1);
        let to = self
            .to
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.to_string());
        let g = group_by
            .map(str::to_string)
            .or_else(|| self.group_by.clone().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "month".into());
        Ok(FigureQuery::parse(
            &from,
            &to,
            &g,
            self.department.as_deref(),
            self.item.as_deref(),
            self.level.as_deref(),
            self.district.as_deref(),
        )?)
    }

    /// The filters as a query string (for links that keep them).
    fn link(&self, q: &FigureQuery, extra: &[(&str, &str)]) -> String {
        let mut parts = vec![
            format!("from={}", q.range.from),
            format!("to={}", q.range.to),
        ];
        let mut push = |k: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                if !extra.iter().any(|(ek, _)| *ek == k) {
                    parts.push(format!("{k}={}", encode(v)));
                }
            }
        };
        push("department", &q.department);
        push("item", &q.item);
        push("level", &q.level.map(|l| l.code().to_string()));
        push("district", &q.district);
        for (k, v) in extra {
            if !v.is_empty() {
                parts.push(format!("{k}={}", encode(v)));
            }
        }
        parts.join("&")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---- API --------------------------------------------------------------------------------

/// `GET /api/v1/analytics/cases`: the figures, public.
pub async fn api_cases(
    State(state): State<AppState>,
    Query(p): Query<FigureParams>,
) -> Result<Json<FigureReport>, ApiError> {
    let q = p.query(&state, None)?;
    Ok(Json(an::case_figures(&state.app, &q).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct CompareParams {
    #[serde(flatten)]
    after: FigureParams,
    #[serde(default)]
    before_from: Option<String>,
    #[serde(default)]
    before_to: Option<String>,
}

/// `GET /api/v1/analytics/compare`: the same figures over `before_from..before_to` and
/// `from..to`, public.
pub async fn api_compare(
    State(state): State<AppState>,
    Query(p): Query<CompareParams>,
) -> Result<Json<Comparison>, ApiError> {
    let after = p.after.query(&state, None)?;
    let (Some(bf), Some(bt)) = (p.before_from.as_deref(), p.before_to.as_deref()) else {
        return Err(
            AppError::bad_request("需要 before_from 与 before_to（对比的前一区间）").into(),
        );
    };
    let mut before_params = p.after.clone();
    before_params.from = Some(bf.to_string());
    before_params.to = Some(bt.to_string());
    let before = before_params.query(&state, None)?;
    Ok(Json(an::compare(&state.app, &before, &after).await?))
}

/// `GET /api/v1/analytics/cases/list`: the cases behind the figures, staff only.
pub async fn api_case_list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(p): Query<FigureParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let q = p.query(&state, None)?;
    let lines = an::case_lines(&state.app, &user, &q).await?;
    Ok(Json(serde_json::json!({
        "from": q.range.from, "to": q.range.to, "cases": lines, "limit": an::MAX_CASE_LINES
    })))
}

// ---- page section -------------------------------------------------------------------------

struct Tile {
    value: String,
    label: &'static str,
    detail: String,
    definition: &'static str,
}

struct TableRow {
    link: String,
    cells: Vec<String>,
    label: String,
}

/// Before/after as shown: the two ranges' labels and (figure, before, after) rows.
type ComparisonView = (String, String, Vec<(String, String, String)>);

#[derive(Template)]
#[template(path = "stats_cases.html")]
struct CaseSection {
    from: String,
    to: String,
    level: String,
    district: String,
    period: String,
    scope: String,
    tiles: Vec<Tile>,
    trend_chart: String,
    dept_chart: String,
    duration_chart: String,
    table_title: String,
    /// The grouping chosen on the page (empty: the drill-down department › item › month).
    group_by: String,
    group_label: String,
    headers: Vec<&'static str>,
    rows: Vec<TableRow>,
    total: Vec<String>,
    export: String,
    /// Shown at the item level: staff get the case list, the public a note.
    show_cases: bool,
    cases_hidden: bool,
    cases: Vec<CaseLine>,
    cases_export: String,
    comparison: Option<ComparisonView>,
    before_from: String,
    before_to: String,
    breadcrumb: Vec<(String, String)>,
}

fn pct(r: &tongban_core::indicators::Ratio) -> String {
    r.percent()
}

fn tiles(t: &FigureRow) -> Vec<Tile> {
    vec![
        Tile {
            value: t.received.to_string(),
            label: "申报量",
            detail: format!("其中网上 {}", t.online),
            definition: "区间内首次申报（申办）的办件数",
        },
        Tile {
            value: t.accepted.to_string(),
            label: "受理量",
            detail: String::new(),
            definition: "区间内受理的办件数",
        },
        Tile {
            value: t.decided.to_string(),
            label: "办结量",
            detail: String::new(),
            definition: "区间内办结（准予或不予批准）的办件数",
        },
        Tile {
            value: pct(&t.online_share),
            label: "网上申报占比",
            detail: format!("{} / {}", t.online_share.count, t.online_share.of),
            definition: "网上（含移动端）申报件数 / 申报量",
        },
        Tile {
            value: pct(&t.on_time),
            label: "按时办结率",
            detail: format!("{} / {}", t.on_time.count, t.on_time.of),
            definition: "办结日不晚于承诺期限的件数 / 办结量（特别程序、补正时间不计入）",
        },
        Tile {
            value: pct(&t.early),
            label: "提前办结率",
            detail: format!("{} / {}", t.early.count, t.early.of),
            definition: "办结日早于承诺期限的件数 / 办结量",
        },
        Tile {
            value: t.overdue.to_string(),
            label: "逾期件数",
            detail: format!(
                "在办逾期 {} · 逾期办结 {}",
                t.overdue_open, t.overdue_closed
            ),
            definition: "截止日仍在办且已过承诺期限的件数，加区间内超过承诺期限办结的件数",
        },
        Tile {
            value: pct(&t.one_pass),
            label: "一次办结率",
            detail: format!("{} / {}", t.one_pass.count, t.one_pass.of),
            definition: "未发过补正告知的办结件数 / 办结量",
        },
        Tile {
            value: pct(&t.post_delivery),
            label: "寄递送达占比",
            detail: format!("{} / {}", t.post_delivery.count, t.post_delivery.of),
            definition: "结果邮寄送达的办结件数 / 办结量",
        },
        Tile {
            value: format!("{:.2}", t.duration_wd.mean),
            label: "平均办理时长（工作日）",
            detail: format!("中位数 {}", t.duration_wd.median),
            definition: "受理至办结的工作日数，不含特别程序时间",
        },
        Tile {
            value: t.special.days.to_string(),
            label: "特别程序（工作日）",
            detail: format!("涉及办结件 {} 件", t.special.cases),
            definition: "办结件中特别程序（检验、检测、听证等）占用的工作日，单列、不计入办理时长",
        },
        {
            let zero = tongban_core::indicators::Ratio::new(0, 0);
            let good = t.satisfaction.unwrap_or(zero);
            let bad = t.dissatisfaction.unwrap_or(zero);
            Tile {
                value: format!("{} / {}", pct(&good), pct(&bad)),
                label: "好评率 / 差评率",
                detail: format!("好评 {} · 差评 {} / 评价 {}", good.count, bad.count, good.of),
                definition: "区间内的评价中，好评（满意、非常满意）/ 差评（不满意、非常不满意）的件数 ÷ 评价件数；申诉成立的评价不计",
            }
        },
    ]
}

const HEADERS: &[&str] = &[
    "申报量",
    "受理量",
    "办结量",
    "网上申报",
    "网上申报占比",
    "按时办结",
    "按时办结率",
    "提前办结率",
    "逾期件数",
    "一次办结率",
    "寄递送达占比",
    "平均时长",
    "中位时长",
    "特别程序天数",
    "好评率",
    "差评率",
];

fn cells(r: &FigureRow) -> Vec<String> {
    vec![
        r.received.to_string(),
        r.accepted.to_string(),
        r.decided.to_string(),
        r.online.to_string(),
        pct(&r.online_share),
        format!("{}/{}", r.on_time.count, r.on_time.of),
        pct(&r.on_time),
        pct(&r.early),
        r.overdue.to_string(),
        pct(&r.one_pass),
        pct(&r.post_delivery),
        format!("{:.2}", r.duration_wd.mean),
        format!("{}", r.duration_wd.median),
        r.special.days.to_string(),
        r.satisfaction.map(|x| pct(&x)).unwrap_or_default(),
        r.dissatisfaction.map(|x| pct(&x)).unwrap_or_default(),
    ]
}

/// The grouping shown in the table: departments, then a department's items, then an
/// item's months (with the case list below for staff).
fn drill_group(p: &FigureParams) -> GroupBy {
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    // A grouping chosen on the page (hall, window, channel, district, level).
    if let Some(g) = p.group_by.as_deref().and_then(GroupBy::parse) {
        if !matches!(g, GroupBy::Period(_) | GroupBy::Department | GroupBy::Item) {
            return g;
        }
    }
    if has(&p.item) {
        GroupBy::Period(tongban_core::figures::Period::Month)
    } else if has(&p.department) {
        GroupBy::Item
    } else {
        GroupBy::Department
    }
}

/// Renders the case-figures section of `/stats` for the viewer.
pub async fn case_section(
    state: &AppState,
    viewer: &Viewer,
    p: &FigureParams,
) -> Result<String, AppError> {
    let group = drill_group(p);
    let q = p.query(state, Some(group.code()))?;
    let (report, durations) = an::counted(&state.app, &q).await?;
    let period = p
        .period
        .clone()
        .filter(|s| ["day", "week", "month", "year"].contains(&s.as_str()))
        .unwrap_or_else(|| "month".into());
    let mut tq = q.clone();
    tq.group_by =
        GroupBy::parse(&period).unwrap_or(GroupBy::Period(tongban_core::figures::Period::Month));
    let trend = an::case_figures(&state.app, &tq).await?;
    let labels: Vec<String> = trend.rows.iter().map(|r| r.label.clone()).collect();
    let trend_chart = line_chart(
        &labels,
        &[
            (
                "申报量",
                "#1f4e8c",
                trend.rows.iter().map(|r| r.received as f64).collect(),
            ),
            (
                "办结量",
                "#2e7d32",
                trend.rows.iter().map(|r| r.decided as f64).collect(),
            ),
        ],
    );
    let mut dq = q.clone();
    dq.group_by = GroupBy::Department;
    let by_dept = if group == GroupBy::Department {
        report.clone()
    } else {
        an::case_figures(&state.app, &dq).await?
    };
    let max = by_dept
        .rows
        .iter()
        .map(|r| r.decided as f64)
        .fold(0.0, f64::max);
    let dept_chart = bar_chart(
        &by_dept
            .rows
            .iter()
            .map(|r| {
                (
                    r.label.clone(),
                    r.decided as f64,
                    format!("{} 件 · 按时 {}", r.decided, pct(&r.on_time)),
                )
            })
            .collect::<Vec<_>>(),
        max,
    );
    let buckets = an::duration_buckets(&durations);
    let bmax = buckets.iter().map(|b| b.1 as f64).fold(0.0, f64::max);
    let duration_chart = bar_chart(
        &buckets
            .iter()
            .map(|(l, n)| (l.clone(), *n as f64, format!("{n} 件")))
            .collect::<Vec<_>>(),
        bmax,
    );
    let view = state.catalog().await?;
    let base = {
        let mut b = q.clone();
        b.department = None;
        b.item = None;
        b
    };
    let mut breadcrumb = vec![(
        "全部部门".to_string(),
        format!("/stats?{}", p.link(&base, &[])),
    )];
    if let Some(code) = &q.department {
        let name = view
            .departments
            .iter()
            .find(|d| &d.code == code)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        breadcrumb.push((
            name,
            format!("/stats?{}", p.link(&base, &[("department", code)])),
        ));
    }
    if let Some(code) = &q.item {
        let name = view
            .get(code)
            .map(|i| i.item.name.clone())
            .unwrap_or_default();
        breadcrumb.push((name, String::new()));
    }
    let rows: Vec<TableRow> = report
        .rows
        .iter()
        .map(|r| TableRow {
            link: match group {
                GroupBy::Department => {
                    format!("/stats?{}", p.link(&base, &[("department", &r.key)]))
                }
                GroupBy::Item => format!("/stats?{}", p.link(&q, &[("item", &r.key)])),
                _ => String::new(),
            },
            cells: cells(r),
            label: r.label.clone(),
        })
        .collect();
    // The case list: staff only, narrowed to their department by the capability's scope.
    let mut cases = vec![];
    let mut cases_hidden = false;
    let show_cases = q.item.is_some();
    if show_cases {
        match &viewer.user {
            Some(u) if !u.role.is_applicant() => match an::case_lines(&state.app, u, &q).await {
                Ok(c) => cases = c,
                Err(_) => cases_hidden = true,
            },
            _ => cases_hidden = true,
        }
    }
    let comparison = match (p.before_from.as_deref(), p.before_to.as_deref()) {
        (Some(bf), Some(bt)) if !bf.is_empty() && !bt.is_empty() => {
            let mut bp = p.clone();
            bp.from = Some(bf.into());
            bp.to = Some(bt.into());
            let bq = bp.query(state, Some(group.code()))?;
            let c = an::compare(&state.app, &bq, &q).await?;
            let (b, a) = (cells(&c.before.total), cells(&c.after.total));
            Some((
                format!("{} 至 {}", c.before.from, c.before.to),
                format!("{} 至 {}", c.after.from, c.after.to),
                HEADERS
                    .iter()
                    .zip(b.into_iter().zip(a))
                    .map(|(h, (b, a))| (h.to_string(), b, a))
                    .collect(),
            ))
        }
        _ => None,
    };
    let link = p.link(&q, &[]);
    let section = CaseSection {
        from: q.range.from.to_string(),
        to: q.range.to.to_string(),
        level: q.level.map(|l| l.code().to_string()).unwrap_or_default(),
        district: q.district.clone().unwrap_or_default(),
        period,
        scope: format!(
            "{} 至 {}{}{}",
            q.range.from,
            q.range.to,
            q.level
                .map(|l| format!(" · {}", l.label()))
                .unwrap_or_default(),
            q.district
                .as_deref()
                .map(|d| format!(" · 区划 {d}"))
                .unwrap_or_default()
        ),
        tiles: tiles(&report.total),
        trend_chart,
        dept_chart,
        duration_chart,
        table_title: format!("按{}", group.label()),
        group_by: match group {
            GroupBy::Period(_) | GroupBy::Department | GroupBy::Item => String::new(),
            g => g.code().to_string(),
        },
        group_label: group.label().into(),
        headers: HEADERS.to_vec(),
        rows,
        total: cells(&report.total),
        export: format!(
            "/stats/export?table=figures&group_by={}&{link}",
            group.code()
        ),
        show_cases,
        cases_hidden,
        cases,
        cases_export: format!("/stats/export?table=cases&{link}"),
        comparison,
        before_from: p.before_from.clone().unwrap_or_default(),
        before_to: p.before_to.clone().unwrap_or_default(),
        breadcrumb,
    };
    section.render().map_err(AppError::internal)
}

// ---- export -------------------------------------------------------------------------------

/// A table as text cells: a header and rows.
struct Table {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn figures_table(group: &str, r: &FigureReport) -> Table {
    let mut header = vec!["分组键".to_string(), "名称".to_string()];
    header.extend(HEADERS.iter().map(|h| h.to_string()));
    let mut rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .chain(std::iter::once(&r.total))
        .map(|row| {
            let mut v = vec![row.key.clone(), row.label.clone()];
            v.extend(cells(row));
            v
        })
        .collect();
    rows.insert(
        0,
        vec![format!("区间 {} 至 {}，分组 {group}", r.from, r.to)],
    );
    Table {
        name: "办件指标",
        header,
        rows,
    }
}

fn cases_table(lines: &[CaseLine]) -> Table {
    let header = [
        "办件编号",
        "状态",
        "实施编码",
        "申报日",
        "受理日",
        "办结日",
        "承诺期限",
        "补正次数",
        "特别程序天数",
        "办理时长（工作日）",
        "按时",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let rows = lines
        .iter()
        .map(|c| {
            vec![
                c.case_no.clone(),
                c.status.clone(),
                c.impl_code.clone(),
                c.received_on.to_string(),
                d(c.accepted_on),
                d(c.decided_on),
                d(c.promised_due),
                c.corrections.to_string(),
                c.special_days.to_string(),
                c.duration_wd.map(|x| x.to_string()).unwrap_or_default(),
                match c.on_time {
                    Some(true) => "是".into(),
                    Some(false) => "否".into(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    Table {
        name: "办件清单",
        header,
        rows,
    }
}

async fn catalog_table(state: &AppState, p: &FigureParams) -> Result<Table, AppError> {
    let view = state.catalog().await?;
    let level = match p.level.as_deref().filter(|s| !s.is_empty()) {
        Some(l) => {
            Some(Level::parse(l).ok_or_else(|| AppError::bad_request(format!("未知的层级 {l}")))?)
        }
        None => None,
    };
    let f = an::catalog_figures(
        &view,
        level,
        p.district.as_deref().filter(|s| !s.is_empty()),
    );
    let header = [
        "部门",
        "事项数",
        "网上可办",
        "全程网办",
        "进驻综合大厅",
        "即办件",
        "最多跑一次",
        "零跑动",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let row = |name: String, s: &tongban_core::indicators::CatalogStats| {
        let r = |x: &tongban_core::indicators::Ratio| format!("{} ({})", x.count, x.percent());
        vec![
            name,
            s.total.to_string(),
            r(&s.online_capable),
            r(&s.fully_online),
            r(&s.in_comprehensive_hall),
            r(&s.immediate),
            r(&s.at_most_one_trip),
            r(&s.zero_trip),
        ]
    };
    let mut rows: Vec<Vec<String>> = f
        .by_department
        .iter()
        .map(|(d, s)| row(d.name.clone(), s))
        .collect();
    rows.push(row("合计".into(), &f.stats));
    Ok(Table {
        name: "事项指标",
        header,
        rows,
    })
}

fn csv_bytes(t: &Table) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(vec![]);
    // A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
    w.write_record(&t.header).map_err(AppError::internal)?;
    for r in &t.rows {
        w.write_record(r).map_err(AppError::internal)?;
    }
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(w.into_inner().map_err(AppError::internal)?);
    Ok(out)
}

fn xlsx_bytes(t: &Table) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::Workbook;
    let mut book = Workbook::new();
    let sheet = book
        .add_worksheet()
        .set_name(t.name)
        .map_err(AppError::internal)?;
    for (c, h) in t.header.iter().enumerate() {
        sheet
            .write_string(0, c as u16, h)
            .map_err(AppError::internal)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // Counts as numbers, so the sheet can sum them.
            match v.parse::<f64>() {
                Ok(n) if v.len() <= 12 => sheet
                    .write_number(r as u32 + 1, c as u16, n)
                    .map_err(AppError::internal)?,
                _ => sheet
                    .write_string(r as u32 + 1, c as u16, v)
                    .map_err(AppError::internal)?,
            };
        }
    }
    book.save_to_buffer().map_err(AppError::internal)
}

/// `GET /stats/export?table=figures|cases|catalog&format=csv|xlsx&…`: every table of the
/// dashboard as a file. The case list needs a staff session, as on the page.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<FigureParams>,
) -> Result<Response, PageError> {
    let format = p.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "xlsx" {
        return Err(AppError::bad_request("format 应为 csv 或 xlsx").into());
    }
    let table = match p.table.as_deref().unwrap_or("figures") {
        "figures" => {
            let q = p.query(&state, None)?;
            let r = an::case_figures(&state.app, &q).await?;
            figures_table(q.group_by.code(), &r)
        }
        "cases" => {
            let Some(user) = viewer.user.as_ref() else {
                return Err(AppError::unauthorized().into());
            };
            let q = p.query(&state, None)?;
            cases_table(&an::case_lines(&state.app, user, &q).await?)
        }
        "catalog" => catalog_table(&state, &p).await?,
        other => {
            return Err(AppError::bad_request(format!(
                "table 应为 figures、cases 或 catalog，而不是 {other}"
            ))
            .into())
        }
    };
    let (ct, bytes) = if format == "csv" {
        ("text/csv; charset=utf-8", csv_bytes(&table)?)
    } else {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_bytes(&table)?,
        )
    };
    let name = format!("{}.{format}", p.table.as_deref().unwrap_or("figures"));
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
