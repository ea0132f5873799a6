//! Electronic supervision: the worker that looks at due cases, the live board, 督办
//! orders and department figures — as pages and in the API.

use crate::auth::{CsrfToken, SignedIn, Viewer};
use crate::charts::bar_chart;
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tongban_app::clock::beijing_text;
use tongban_core::capability::{self, Capability};
use tongban_core::supervision::Rule;
use tongban_store::accounts::User;
use tongban_store::supervision::RecordFilter;

/// Who may see the board: supervisors, auditors and administrators see every department;
/// department staff see their own.
async fn scope(state: &AppState, user: &User) -> Result<Option<i64>, AppError> {
    use tongban_core::capability::Scope;
    Ok(
        match tongban_app::authz::require_scope(state, user, Capability::ReadSupervision).await? {
            Scope::Any => None,
            // A department-scoped user without a department sees nothing.
            Scope::Department | Scope::Own => Some(user.department_id.unwrap_or(-1)),
        },
    )
}

struct RecordRow {
    record_no: String,
    rule: &'static str,
    case_no: String,
    department: String,
    severity: String,
    severity_label: &'static str,
    detail: String,
    raised_at: String,
    resolved: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct BoardPage {
    ctx: PageCtx,
    error: String,
    scope: String,
    yellow_days: i64,
    yellow_percent: u32,
    open_total: i64,
    critical: i64,
    serious: i64,
    warning: i64,
    by_dept: Vec<(String, i64, i64, i64)>,
    rows: Vec<RecordRow>,
    can_order: bool,
    /// 一件事 whose promised total limit is near or past (issue #17).
    bundles: Vec<tongban_app::bundles::LitBundle>,
}

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    #[serde(default)]
    all: String,
}

fn severity_label(code: &str) -> &'static str {
    match code {
        "critical" => "特别严重",
        "serious" => "严重",
        _ => "预警",
    }
}

async fn board_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    all: bool,
    error: String,
) -> Result<Html<String>, PageError> {
    let dept = scope(state, user).await?;
    let view = state.catalog().await?;
    let name = |id: i64| {
        view.department(id)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("部门{id}"))
    };
    let records = state
        .store
        .supervision_records(&RecordFilter {
            open_only: !all,
            department_id: dept,
            case_no: None,
        })
        .await?;
    let mut by: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let (mut c, mut s, mut w) = (0, 0, 0);
    for (d, sev, n) in state.store.open_record_counts().await? {
        if dept.is_some_and(|x| x != d) {
            continue;
        }
        let e = by.entry(name(d)).or_default();
        match sev.as_str() {
            "critical" => {
                e.0 += n;
                c += n
            }
            "serious" => {
                e.1 += n;
                s += n
            }
            _ => {
                e.2 += n;
                w += n
            }
        }
    }
    // 一件事 span departments: the board of the whole platform shows them.
    let bundles = if dept.is_none() {
        tongban_app::bundles::under_lights(state).await?
    } else {
        vec![]
    };
    render(BoardPage {
        bundles,
        ctx: PageCtx::new(viewer, csrf),
        error,
        scope: dept.map(name).unwrap_or_default(),
        yellow_days: state.thresholds.yellow_remaining_days,
        yellow_percent: state.thresholds.yellow_used_percent,
        open_total: c + s + w,
        critical: c,
        serious: s,
        warning: w,
        by_dept: by.into_iter().map(|(k, v)| (k, v.0, v.1, v.2)).collect(),
        rows: records
            .into_iter()
            .map(|r| RecordRow {
                open: r.resolved_at.is_none(),
                resolved: r
                    .resolved_at
                    .as_deref()
                    .map(|t| format!("{} {}", beijing_text(t), r.resolution))
                    .unwrap_or_default(),
                record_no: r.record_no,
                rule: r.rule.label(),
                case_no: r.case_no,
                department: name(r.department_id),
                severity_label: severity_label(&r.severity),
                severity: r.severity,
                detail: r.detail,
                raised_at: beijing_text(&r.raised_at),
            })
            .collect(),
        can_order: capability::holds(user.role, Capability::IssueSupervisionOrder),
    })
}

pub async fn board(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(q): Query<BoardQuery>,
) -> Result<Html<String>, PageError> {
    board_page(
        &state,
        &viewer,
        &csrf,
        &user,
        !q.all.is_empty(),
        String::new(),
    )
    .await
}

fn parse_due(s: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_request("限办日期应为 YYYY-MM-DD"))
}

async fn issue(
    state: &AppState,
    user: &User,
    record_no: &str,
    instruction: &str,
    due: &str,
) -> Result<tongban_store::supervision::SupervisionOrder, AppError> {
    tongban_app::authz::require_scope(state, user, Capability::IssueSupervisionOrder)
        .await
        .map_err(|e| e.with_message("只有监察人员可以督办"))?;
    let due = parse_due(due)?;
    if due < state.today() {
        return Err(AppError::bad_request("限办日期不能早于今天"));
    }
    Ok(state
        .store
        .issue_order(record_no, instruction, due, &user.username, state.now())
        .await?)
}

type Fields = HashMap<String, String>;
fn f<'a>(m: &'a Fields, k: &str) -> &'a str {
    m.get(k).map(String::as_str).unwrap_or("")
}

pub async fn issue_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    match issue(
        &state,
        &user,
        f(&fields, "record_no"),
        f(&fields, "instruction"),
        f(&fields, "due"),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/supervision/orders").into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            let page = board_page(&state, &viewer, &csrf, &user, false, e.message).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

/// The department answers; only staff of the ordered department may.
async fn answer(
    state: &AppState,
    user: &User,
    order_no: &str,
    text: &str,
) -> Result<tongban_store::supervision::SupervisionOrder, AppError> {
    let order = state.store.order(order_no).await?;
    tongban_app::authz::require(
        state,
        user,
        Capability::AnswerSupervisionOrder,
        tongban_app::authz::department_standing(user, order.department_id),
        order_no,
    )
    .await
    .map_err(|e| e.with_message("只有被督办部门可以反馈"))?;
    Ok(state
        .store
        .answer_order(order_no, text, &user.username, state.now())
        .await?)
}

async fn close(
    state: &AppState,
    user: &User,
    order_no: &str,
    escalate: bool,
    note: &str,
) -> Result<tongban_store::supervision::SupervisionOrder, AppError> {
    tongban_app::authz::require_scope(state, user, Capability::IssueSupervisionOrder)
        .await
        .map_err(|e| e.with_message("只有监察人员可以办结或升级督办"))?;
    Ok(state
        .store
        .close_order(order_no, escalate, note, &user.username, state.now())
        .await?)
}

struct OrderRow {
    order_no: String,
    record_no: String,
    case_no: String,
    department: String,
    instruction: String,
    due_on: String,
    status: String,
    status_label: &'static str,
    issued_by: String,
    issued_at: String,
    answer: String,
    answered_by: String,
    closing_note: String,
    can_answer: bool,
    can_close: bool,
}

#[derive(Template)]
#[template(path = "supervision_orders.html")]
struct OrdersPage {
    ctx: PageCtx,
    error: String,
    rows: Vec<OrderRow>,
}

async fn orders_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    error: String,
) -> Result<Html<String>, PageError> {
    let dept = scope(state, user).await?;
    let view = state.catalog().await?;
    let rows = state
        .store
        .orders(dept)
        .await?
        .into_iter()
        .map(|o| OrderRow {
            can_answer: o.status == "open"
                && capability::permits(
                    user.role,
                    Capability::AnswerSupervisionOrder,
                    tongban_app::authz::department_standing(user, o.department_id),
                ),
            can_close: capability::holds(user.role, Capability::IssueSupervisionOrder)
                && (o.status == "open" || o.status == "answered"),
            status_label: match o.status.as_str() {
                "open" => "待反馈",
                "answered" => "已反馈",
                "closed" => "已办结",
                _ => "已升级",
            },
            department: view
                .department(o.department_id)
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            issued_at: beijing_text(&o.issued_at),
            order_no: o.order_no,
            record_no: o.record_no,
            case_no: o.case_no,
            instruction: o.instruction,
            due_on: o.due_on,
            status: o.status,
            issued_by: o.issued_by,
            answer: o.answer,
            answered_by: o.answered_by,
            closing_note: o.closing_note,
        })
        .collect();
    render(OrdersPage {
        ctx: PageCtx::new(viewer, csrf),
        error,
        rows,
    })
}

pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    orders_page(&state, &viewer, &csrf, &user, String::new()).await
}

async fn order_result(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    r: Result<tongban_store::supervision::SupervisionOrder, AppError>,
) -> Result<Response, PageError> {
    match r {
        Ok(_) => Ok(Redirect::to("/supervision/orders").into_response()),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::NOT_FOUND =>
        {
            let page = orders_page(state, viewer, csrf, user, e.message).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn answer_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let r = answer(&state, &user, &no, f(&fields, "answer")).await;
    order_result(&state, &viewer, &csrf, &user, r).await
}

pub async fn close_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let r = close(
        &state,
        &user,
        &no,
        fields.contains_key("escalate"),
        f(&fields, "note"),
    )
    .await;
    order_result(&state, &viewer, &csrf, &user, r).await
}

struct DeptFigure {
    id: i64,
    name: String,
    decided: usize,
    on_time_rate: f64,
    on_time: String,
    avg_days: String,
    yellow: i64,
    red: i64,
    other: i64,
}

/// Per-department figures for cases submitted since `since` (YYYY-MM-DD).
/// Per group: (decided, on time, working days used, cases timed).
type Tally = (usize, usize, u64, usize);

/// Adds up decided cases per group: how many, how many on time, working days used.
fn tally<K: Ord>(
    decided: &[tongban_store::cases::CaseRecord],
    key: impl Fn(&tongban_store::cases::CaseRecord) -> K,
    cal: &tongban_core::calendar::WorkCalendar,
) -> BTreeMap<K, Tally> {
    let mut per: BTreeMap<K, Tally> = BTreeMap::new();
    for c in decided {
        let e = per.entry(key(c)).or_default();
        e.0 += 1;
        if let (Some(done), Some(due)) = (c.state.completed_on, c.state.promised_due) {
            if done <= due {
                e.1 += 1;
            }
        }
        if let (Some(a), Some(done)) = (c.state.accepted_on, c.state.completed_on) {
            if let Ok(n) = cal.working_days_between(a, done) {
                e.2 += u64::from(n);
                e.3 += 1;
            }
        }
    }
    per
}

/// On-time rate and average working days of one group, as shown.
fn shown((n, ok, days, timed): Tally) -> (f64, String, String) {
    let rate = if n == 0 { 0.0 } else { ok as f64 / n as f64 };
    let on_time = if n == 0 {
        "—".into()
    } else {
        format!("{:.1}%", rate * 100.0)
    };
    let avg = if timed == 0 {
        "—".into()
    } else {
        format!("{:.1}", days as f64 / timed as f64)
    };
    (rate, on_time, avg)
}

#[derive(serde::Serialize)]
struct ItemFigure {
    impl_code: String,
    name: String,
    decided: usize,
    on_time_rate: f64,
    on_time: String,
    average_working_days: String,
    yellow_cards: i64,
    red_cards: i64,
}

/// The same figures per item of one department.
async fn item_figures(
    state: &AppState,
    since: &str,
    dept: i64,
) -> Result<Vec<ItemFigure>, AppError> {
    let cal = state.calendar().await?;
    let decided: Vec<_> = state
        .store
        .decided_cases_since(since)
        .await?
        .into_iter()
        .filter(|c| c.department_id == dept)
        .collect();
    let names: HashMap<String, String> = decided
        .iter()
        .map(|c| (c.impl_code.clone(), c.item_name.clone()))
        .collect();
    let counts = state.store.record_counts_by_item(since, dept).await?;
    let mut per = tally(&decided, |c| c.impl_code.clone(), &cal);
    for (code, _, _) in &counts {
        per.entry(code.clone()).or_default();
    }
    Ok(per
        .into_iter()
        .map(|(code, t)| {
            let (rate, on_time, avg) = shown(t);
            let count = |rule: Rule| {
                counts
                    .iter()
                    .filter(|(c, r, _)| *c == code && r == rule.code())
                    .map(|c| c.2)
                    .sum::<i64>()
            };
            ItemFigure {
                name: names.get(&code).cloned().unwrap_or_default(),
                decided: t.0,
                on_time_rate: rate,
                on_time,
                average_working_days: avg,
                yellow_cards: count(Rule::YellowCard),
                red_cards: count(Rule::RedCard),
                impl_code: code,
            }
        })
        .collect())
}

async fn figures(
    state: &AppState,
    since: &str,
    dept: Option<i64>,
) -> Result<Vec<DeptFigure>, AppError> {
    let cal = state.calendar().await?;
    let view = state.catalog().await?;
    let decided = state.store.decided_cases_since(since).await?;
    let counts = state.store.record_counts_since(since).await?;
    let mut per = tally(&decided, |c| c.department_id, &cal);
    for (d, _, _) in &counts {
        per.entry(*d).or_default();
    }
    Ok(per
        .into_iter()
        .filter(|(d, _)| dept.is_none_or(|x| x == *d))
        .map(|(d, t)| {
            let count = |rule: Rule| {
                counts
                    .iter()
                    .filter(|(x, r, _)| *x == d && r == rule.code())
                    .map(|c| c.2)
                    .sum::<i64>()
            };
            let (on_time_rate, on_time, avg_days) = shown(t);
            DeptFigure {
                id: d,
                name: view
                    .department(d)
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| format!("部门{d}")),
                decided: t.0,
                on_time_rate,
                on_time,
                avg_days,
                yellow: count(Rule::YellowCard),
                red: count(Rule::RedCard),
                other: counts
                    .iter()
                    .filter(|(x, r, _)| {
                        *x == d && r != Rule::YellowCard.code() && r != Rule::RedCard.code()
                    })
                    .map(|c| c.2)
                    .sum(),
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "supervision_stats.html")]
struct StatsPage {
    ctx: PageCtx,
    period: String,
    from: String,
    chart: String,
    rows: Vec<DeptFigure>,
    items: Vec<ItemFigure>,
    dept_name: String,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    /// With a department: the figures per item of that department.
    #[serde(default)]
    dept: Option<i64>,
}

fn period_start(state: &AppState, q: &PeriodQuery) -> Result<String, AppError> {
    if q.from.is_empty() {
        use chrono::Datelike;
        Ok(format!("{}-01-01", state.today().year()))
    } else {
        Ok(parse_due(&q.from)?.to_string())
    }
}

pub async fn stats(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Html<String>, PageError> {
    let dept = scope(&state, &user).await?;
    let from = period_start(&state, &q)?;
    let rows = figures(&state, &from, dept).await?;
    let chart_rows: Vec<(String, f64, String)> = rows
        .iter()
        .filter(|r| r.decided > 0)
        .map(|r| (r.name.clone(), r.on_time_rate, r.on_time.clone()))
        .collect();
    let (items, dept_name) = match q.dept {
        Some(d) if dept.is_none_or(|own| own == d) => {
            let name = rows
                .iter()
                .find(|r| r.id == d)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            (item_figures(&state, &from, d).await?, name)
        }
        Some(_) => return Err(PageError(AppError::forbidden())),
        None => (vec![], String::new()),
    };
    render(StatsPage {
        ctx: PageCtx::new(&viewer, &csrf),
        period: format!("{from} 起受理的办件"),
        chart: bar_chart(&chart_rows, 1.0),
        from,
        rows,
        items,
        dept_name,
    })
}

// ---- API ------------------------------------------------------------------------------

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordsQuery {
    #[serde(default)]
    open: Option<bool>,
    #[serde(default)]
    case_no: Option<String>,
}

pub async fn api_records(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<RecordsQuery>,
) -> Result<Json<Value>, ApiError> {
    let dept = scope(&state, &user).await?;
    let records = state
        .store
        .supervision_records(&RecordFilter {
            open_only: q.open.unwrap_or(true),
            department_id: dept,
            case_no: q.case_no,
        })
        .await?;
    // The board's totals come from counters kept with the records, not from a scan.
    let counts: Vec<Value> = state
        .store
        .open_record_counts()
        .await?
        .into_iter()
        .filter(|(d, _, _)| dept.is_none_or(|x| x == *d))
        .map(|(d, severity, n)| json!({ "department_id": d, "severity": severity, "open": n }))
        .collect();
    Ok(Json(json!({ "counts": counts, "records": records })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct IssueBody {
    record_no: String,
    instruction: String,
    due: String,
}

pub async fn api_issue(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<IssueBody>,
) -> Result<Response, ApiError> {
    let o = issue(&state, &user, &b.record_no, &b.instruction, &b.due).await?;
    Ok((StatusCode::CREATED, Json(json!(o))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswerBody {
    answer: String,
}

pub async fn api_answer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(b): Json<AnswerBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(answer(&state, &user, &no, &b.answer).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CloseBody {
    #[serde(default)]
    escalate: bool,
    #[serde(default)]
    note: String,
}

pub async fn api_close(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(b): Json<CloseBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        close(&state, &user, &no, b.escalate, &b.note).await?
    )))
}

pub async fn api_orders(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let dept = scope(&state, &user).await?;
    Ok(Json(json!({ "orders": state.store.orders(dept).await? })))
}

pub async fn api_departments(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let dept = scope(&state, &user).await?;
    let from = period_start(&state, &q)?;
    let rows: Vec<Value> = figures(&state, &from, dept)
        .await?
        .into_iter()
        .map(|r| json!({ "department_id": r.id, "name": r.name, "decided": r.decided, "on_time_rate": r.on_time_rate, "average_working_days": r.avg_days, "yellow_cards": r.yellow, "red_cards": r.red, "other_records": r.other }))
        .collect();
    let mut out = json!({ "from": from, "departments": rows });
    if let Some(d) = q.dept {
        if dept.is_some_and(|own| own != d) {
            return Err(AppError::forbidden().into());
        }
        out["items"] = json!(item_figures(&state, &from, d).await?);
    }
    Ok(Json(out))
}
