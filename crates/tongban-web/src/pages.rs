//! Public pages: find an item, read its guide (办事指南), browse by department, theme and
//! hall, and the catalog indicators. No login, no JavaScript.

use crate::auth::{CsrfToken, Viewer};
use crate::charts::bar_chart;
use crate::error::PageError;
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use tongban_app::catalog::{find_items, ItemQuery, PAGE_SIZE};
use tongban_app::CatalogView;
use tongban_core::catalog::{Audience, Item, THEMES};
use tongban_core::indicators::{CatalogStats, DEFINITIONS};
use tongban_store::catalog::{HallKind, ItemStatus};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    stats: CatalogStats,
    online_pct: String,
    one_trip_pct: String,
    themes: Vec<(&'static str, &'static str, usize)>,
    departments: Vec<(i64, String, usize)>,
}

fn theme_counts(view: &CatalogView) -> Vec<(&'static str, &'static str, usize)> {
    THEMES
        .iter()
        .map(|(slug, name, _)| {
            let n = view
                .active()
                .filter(|i| tongban_core::catalog::themes_of(&i.item.name).contains(slug))
                .count();
            (*slug, *name, n)
        })
        .collect()
}

fn department_counts(view: &CatalogView) -> Vec<(i64, String, usize)> {
    view.departments
        .iter()
        .filter(|d| !d.retired)
        .map(|d| {
            (
                d.id,
                d.name.clone(),
                *view.item_counts.get(&d.id).unwrap_or(&0),
            )
        })
        .filter(|(_, _, n)| *n > 0)
        .collect()
}

pub async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    render(HomePage {
        ctx: PageCtx::new(&viewer, &csrf),
        online_pct: view.stats.online_capable.percent(),
        one_trip_pct: view.stats.at_most_one_trip.percent(),
        stats: view.stats.clone(),
        themes: theme_counts(&view),
        departments: department_counts(&view),
    })
}

struct ItemRow {
    code: String,
    name: String,
    department: String,
    item_type: &'static str,
    level: u8,
    level_label: &'static str,
    trips: u32,
    promised: String,
}

#[derive(Template)]
#[template(path = "items.html")]
struct ItemsPage {
    ctx: PageCtx,
    heading: String,
    q: String,
    dept: String,
    theme: String,
    audience: String,
    audiences: Vec<(&'static str, &'static str)>,
    rows: Vec<ItemRow>,
    total: usize,
    page: usize,
    pages: usize,
    base_link: String,
}

pub fn promised_text(i: &Item) -> String {
    if i.promised_limit == 0 {
        "即办".to_string()
    } else {
        format!("{}{}", i.promised_limit, i.promised_unit.as_str())
    }
}

pub async fn items(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Query(q): Query<ItemQuery>,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let hits = find_items(&view, &q);
    let total = hits.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let heading = if let Some(d) = q.dept.parse().ok().and_then(|d| view.department(d)) {
        format!("{} 的办事事项", d.name)
    } else if let Some((_, name, _)) = THEMES.iter().find(|(s, _, _)| *s == q.theme) {
        format!("主题服务：{name}")
    } else if let Some(h) = q.hall.parse().ok().and_then(|h| view.hall(h)) {
        format!("{} 可办事项", h.name)
    } else if !q.q.trim().is_empty() {
        format!("“{}”的搜索结果", q.q.trim())
    } else {
        "全部办事事项".to_string()
    };
    let rows = hits
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|i| {
            let level = i.item.depth_level();
            ItemRow {
                code: i.item.impl_code.clone(),
                name: i.item.name.clone(),
                department: i.item.department.clone(),
                item_type: i.item.item_type.label(),
                level: level.number(),
                level_label: level.label(),
                trips: i.item.trips,
                promised: promised_text(&i.item),
            }
        })
        .collect();
    let base_link = format!(
        "/items?q={}&dept={}&theme={}&audience={}&hall={}",
        crate::auth::url_encode(&q.q),
        crate::auth::url_encode(&q.dept),
        crate::auth::url_encode(&q.theme),
        crate::auth::url_encode(&q.audience),
        crate::auth::url_encode(&q.hall)
    );
    render(ItemsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        heading,
        q: q.q.clone(),
        dept: q.dept.clone(),
        theme: q.theme.clone(),
        audience: q.audience.clone(),
        audiences: Audience::ALL
            .iter()
            .map(|a| (a.code(), a.label()))
            .collect(),
        rows,
        total,
        page,
        pages,
        base_link,
    })
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    ctx: PageCtx,
    /// The application form among the materials: offered blank and as a sample (样表).
    form_name: Option<String>,
    it: Item,
    materials: Vec<tongban_core::catalog::Material>,
    retired: bool,
    level: u8,
    level_label: &'static str,
    audiences: String,
    capabilities: String,
    scope: String,
    hall_address: String,
    hall_hours: String,
    windows: String,
    /// Any comprehensive window of the hall accepts the item (only said when it has some).
    any_window: bool,
    /// The guide's sections in the national portal's layout.
    guide: tongban_core::guide::Guide,
}

/// The item's application form as a PDF: `blank.pdf` to fill in by hand, `sample.pdf` filled
/// with example values and marked 样表. Not found when the item has no application form.
pub async fn item_form(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
) -> Result<axum::response::Response, PageError> {
    use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let sample = match file.as_str() {
        "blank.pdf" => false,
        "sample.pdf" => true,
        _ => return Err(crate::error::AppError::not_found("没有这份表格").into()),
    };
    let view = state.catalog().await?;
    let stored = view.get(&code).ok_or_else(|| {
        crate::error::AppError::not_found(format!("没有实施编码为 {code} 的事项"))
    })?;
    let fields = state
        .store
        .item_licence_type(&code)
        .await?
        .map(|t| t.fields)
        .unwrap_or_default();
    let pdf =
        tongban_core::guide::application_form(&stored.item, &stored.materials, &fields, sample)
            .ok_or_else(|| crate::error::AppError::not_found("该事项没有申请表"))?;
    let name = format!(
        "form-{}{}.pdf",
        stored.item.impl_code,
        if sample { "-sample" } else { "" }
    );
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_string()),
            (CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        pdf,
    )
        .into_response())
}

pub async fn item(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let stored = view.get(&code).ok_or_else(|| {
        crate::error::AppError::not_found(format!("没有实施编码为 {code} 的事项"))
    })?;
    let it = stored.item.clone();
    let hall = stored.hall_id.and_then(|h| view.hall(h)).cloned();
    let windows = match &hall {
        Some(h) => state
            .store
            .hall_windows(h.id)
            .await?
            .into_iter()
            .filter(|w| !w.retired && (w.kind == "comprehensive" || !it.in_comprehensive_hall))
            .map(|w| format!("{}号 {}", w.number, w.name))
            .collect::<Vec<_>>()
            .join("、"),
        None => String::new(),
    };
    let level = it.depth_level();
    let result = state.store.item_licence_type(&code).await?;
    let department_phone = view
        .department(stored.department_id)
        .map(|d| d.phone.clone())
        .unwrap_or_default();
    let guide = tongban_core::guide::guide(
        &it,
        &stored.materials,
        &tongban_core::guide::Facts {
            hall_has_address: hall.as_ref().is_some_and(|h| !h.address.trim().is_empty()),
            windows: !windows.is_empty(),
            result: result
                .as_ref()
                .map(|t| (t.name.as_str(), t.fields.as_slice(), t.validity_years)),
            department_phone: &department_phone,
        },
    );
    render(ItemPage {
        form_name: tongban_core::guide::form_material(&stored.materials).map(|m| m.name.clone()),
        any_window: it.in_comprehensive_hall && !windows.is_empty(),
        guide,
        ctx: PageCtx::new(&viewer, &csrf),
        retired: stored.status == ItemStatus::Retired,
        level: level.number(),
        level_label: level.label(),
        audiences: if it.audiences.is_empty() {
            "不限".into()
        } else {
            it.audiences
                .iter()
                .map(|a| a.label())
                .collect::<Vec<_>>()
                .join("、")
        },
        capabilities: it
            .depth
            .capabilities()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join("、"),
        scope: it
            .scope
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| "不通办".into()),
        hall_address: hall.as_ref().map(|h| h.address.clone()).unwrap_or_default(),
        hall_hours: hall.as_ref().map(|h| h.hours.clone()).unwrap_or_default(),
        windows,
        materials: stored.materials.clone(),
        it,
    })
}

#[derive(Template)]
#[template(path = "departments.html")]
struct DepartmentsPage {
    ctx: PageCtx,
    rows: Vec<(i64, String, usize)>,
}

pub async fn departments(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    render(DepartmentsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows: department_counts(&view),
    })
}

#[derive(Template)]
#[template(path = "themes.html")]
struct ThemesPage {
    ctx: PageCtx,
    rows: Vec<(&'static str, &'static str, usize)>,
    audiences: Vec<(&'static str, &'static str)>,
}

pub async fn themes(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    render(ThemesPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows: theme_counts(&view),
        audiences: Audience::ALL
            .iter()
            .map(|a| (a.code(), a.label()))
            .collect(),
    })
}

struct HallRow {
    id: i64,
    name: String,
    kind: &'static str,
    comprehensive: bool,
    address: String,
    hours: String,
    items: usize,
    windows: String,
}

#[derive(Template)]
#[template(path = "halls.html")]
struct HallsPage {
    ctx: PageCtx,
    rows: Vec<HallRow>,
}

pub async fn halls(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let mut rows = Vec::new();
    for h in view.halls.iter().filter(|h| !h.retired) {
        let windows = state.store.hall_windows(h.id).await?;
        let comprehensive = windows
            .iter()
            .filter(|w| w.kind == "comprehensive" && !w.retired)
            .count();
        let dedicated = windows
            .iter()
            .filter(|w| w.kind != "comprehensive" && !w.retired)
            .count();
        rows.push(HallRow {
            id: h.id,
            name: h.name.clone(),
            kind: h.kind.label(),
            comprehensive: h.kind == HallKind::Comprehensive,
            address: h.address.clone(),
            hours: h.hours.clone(),
            items: view.active().filter(|i| i.hall_id == Some(h.id)).count(),
            windows: format!("综合窗口 {comprehensive} 个，专窗 {dedicated} 个"),
        });
    }
    render(HallsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows,
    })
}

struct Tile {
    value: String,
    label: &'static str,
    detail: String,
    definition: &'static str,
}

struct StatRow {
    id: i64,
    name: String,
    total: u64,
    online: String,
    fully: String,
    hall: String,
    immediate: String,
    one_trip: String,
    zero: String,
}

fn stat_row(id: i64, name: String, s: &CatalogStats) -> StatRow {
    let f = |r: &tongban_core::indicators::Ratio| format!("{} ({})", r.count, r.percent());
    StatRow {
        id,
        name,
        total: s.total,
        online: f(&s.online_capable),
        fully: f(&s.fully_online),
        hall: f(&s.in_comprehensive_hall),
        immediate: f(&s.immediate),
        one_trip: f(&s.at_most_one_trip),
        zero: f(&s.zero_trip),
    }
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    ctx: PageCtx,
    stats: CatalogStats,
    tiles: Vec<Tile>,
    depth_chart: String,
    dept_chart: String,
    by_department: Vec<StatRow>,
    by_hall: Vec<StatRow>,
    /// The case-figures section (大数据分析), rendered by its own module.
    cases: String,
    /// The catalog's level / district filter, as shown.
    catalog_scope: String,
    catalog_export: String,
}

pub async fn stats(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Query(fp): Query<crate::analytics::FigureParams>,
) -> Result<Html<String>, PageError> {
    let view = state.catalog().await?;
    let level = match fp.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(
            tongban_app::analytics::Level::parse(l)
                .ok_or_else(|| crate::error::AppError::bad_request(format!("未知的层级 {l}")))?,
        ),
        None => None,
    };
    let district = fp.district.as_deref().filter(|d| !d.is_empty());
    let filtered = tongban_app::analytics::catalog_figures(&view, level, district);
    let cases = crate::analytics::case_section(&state, &viewer, &fp).await?;
    let catalog_scope = format!(
        "{}{}",
        level
            .map(|l| format!("层级：{}　", l.label()))
            .unwrap_or_default(),
        district
            .map(|d| format!("区划代码：{d}"))
            .unwrap_or_default()
    );
    let catalog_export = format!(
        "/stats/export?table=catalog&level={}&district={}",
        level.map(|l| l.code()).unwrap_or(""),
        district.unwrap_or("")
    );
    let s = &filtered.stats;
    let ratio_of = |key: &str| match key {
        "online_capable" => Some(s.online_capable),
        "fully_online" => Some(s.fully_online),
        "in_comprehensive_hall" => Some(s.in_comprehensive_hall),
        "immediate" => Some(s.immediate),
        "at_most_one_trip" => Some(s.at_most_one_trip),
        "zero_trip" => Some(s.zero_trip),
        "high_frequency_online" => Some(s.high_frequency_online),
        _ => None,
    };
    let mut tiles: Vec<Tile> = DEFINITIONS
        .iter()
        .map(|(key, label, definition)| match ratio_of(key) {
            Some(r) => Tile {
                value: r.percent(),
                label,
                detail: format!("{} / {}", r.count, r.of),
                definition,
            },
            None => Tile {
                value: s.total.to_string(),
                label,
                detail: format!("另有非依申请类 {} 项不计入", s.excluded_non_application),
                definition,
            },
        })
        .collect();
    tiles.push(Tile {
        value: s.hall_departments.to_string(),
        label: "进驻综合大厅部门数",
        detail: format!("分中心及部门大厅事项 {} 项", s.other_hall_items),
        definition: "至少有一项事项进驻综合大厅的部门数",
    });
    let depth_rows: Vec<(String, f64, String)> = ["一级", "二级", "三级", "四级"]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let n = s
                .by_depth_level
                .get(&(i + 1).to_string())
                .copied()
                .unwrap_or(0);
            (l.to_string(), n as f64, n.to_string())
        })
        .collect();
    let max = depth_rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let dept_rows: Vec<(String, f64, String)> = filtered
        .by_department
        .iter()
        .map(|(d, st)| {
            (
                d.name.clone(),
                st.online_capable.rate,
                st.online_capable.percent(),
            )
        })
        .collect();
    render(StatsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        stats: s.clone(),
        tiles,
        depth_chart: bar_chart(&depth_rows, max),
        dept_chart: bar_chart(&dept_rows, 1.0),
        by_department: filtered
            .by_department
            .iter()
            .map(|(d, st)| stat_row(d.id, d.name.clone(), st))
            .collect(),
        cases,
        catalog_scope,
        catalog_export,
        by_hall: filtered
            .by_hall
            .iter()
            .map(|(h, st)| stat_row(0, h.clone(), st))
            .collect(),
    })
}
