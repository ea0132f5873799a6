//! 政务服务"好差评" on the web: the applicant's prompt on the case page, the window's pad
//! (`/rate/window/{window}`, no sign-in), one-time links (SMS, the receipt's QR), the public
//! figures at `/ratings`, the department's follow-up page, and the API.

use crate::auth::{cookie, CsrfToken, SignedIn, Viewer};
use crate::charts::bar_chart;
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tongban_app::clock::beijing_text;
use tongban_app::ratings::{self as uc, RateInput};
use tongban_core::capability::{holds, Capability};
use tongban_core::rating::{self, level_label, Figures, RatingChannel, Stage};
use tongban_store::accounts::User;
use tongban_store::case_rows::CaseRecord;
use tongban_store::ratings::Rating;

type Fields = HashMap<String, String>;

const PAD_COOKIE: &str = "tb_pad";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ratings", get(figures_page))
        .route("/ratings/export.csv", get(export_csv))
        .route("/ratings/rectifications", get(follow_up_page))
        .route("/ratings/{id}/act", post(follow_up_form))
        .route("/rate/window/{window}", get(pad_page).post(pad_touch))
        .route("/rate/window/{window}/case", post(pad_show_case))
        .route("/rate/t/{token}", get(link_page).post(link_submit))
        .route("/cases/{no}/rate", post(case_rate_form))
        .route("/api/v1/cases/{no}/ratings", post(api_rate))
        .route("/api/v1/ratings/stats", get(api_stats))
        .route("/api/v1/ratings/export", get(api_export))
        .route("/api/v1/ratings/rectifications", get(api_rectifications))
        .route("/api/v1/ratings/{id}/callback", post(api_callback))
        .route("/api/v1/ratings/{id}/rectify", post(api_rectify))
        .route("/api/v1/ratings/{id}/appeal", post(api_appeal))
        .route("/api/v1/ratings/{id}/appeal/decision", post(api_decide))
}

fn f<'a>(m: &'a Fields, k: &str) -> &'a str {
    m.get(k).map(String::as_str).unwrap_or("")
}

fn rating_json(r: &Rating) -> Value {
    let mut v = json!(r);
    v["level_label"] = json!(level_label(r.level as u8));
    v
}

fn parse_level(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

// ---- the applicant's prompt on the case page -------------------------------------------

#[derive(Template)]
#[template(path = "ratings_case.html")]
struct CaseBlock {
    csrf: String,
    case_no: String,
    /// (stage code, stage label, indicator names)
    open: Vec<(&'static str, &'static str, Vec<&'static str>)>,
    given: Vec<(String, String, String, String, String)>,
    /// For the clerk: the windows of the halls (id, label) to show the case on a pad.
    windows: Vec<(i64, String)>,
}

/// The rating block of a case page: the applicant's prompt after 受理 and after 办结, the
/// ratings already given, and for the clerk a button to show the case on a window's pad.
pub async fn case_block(
    state: &AppState,
    user: &User,
    rec: &CaseRecord,
    owner: bool,
    csrf: &str,
) -> Result<String, AppError> {
    let given: Vec<_> = uc::of_case(state, rec)
        .await?
        .iter()
        .map(|r| {
            (
                Stage::parse(&r.stage)
                    .map(|s| s.label())
                    .unwrap_or("")
                    .to_string(),
                RatingChannel::parse(&r.channel)
                    .map(|c| c.label())
                    .unwrap_or("")
                    .to_string(),
                format!("{}（{}）", level_label(r.level as u8), r.level),
                beijing_text(&r.rated_at),
                if r.excluded {
                    format!("申诉复核后不计入统计：{}", r.excluded_reason)
                } else {
                    String::new()
                },
            )
        })
        .collect();
    let open = if owner {
        uc::open_stages(state, rec, RatingChannel::Web)
            .await?
            .into_iter()
            .map(|s| {
                (
                    s.code(),
                    s.label(),
                    rating::indicator_set(s, RatingChannel::Web, &rec.state).to_vec(),
                )
            })
            .collect()
    } else {
        vec![]
    };
    let mut windows = vec![];
    if holds(user.role, Capability::ReceiveAtWindow) {
        let view = state.catalog().await?;
        for h in &view.halls {
            for w in state.store.hall_windows(h.id).await? {
                if !w.retired {
                    windows.push((w.id, format!("{} {}号窗口", h.name, w.number)));
                }
            }
        }
    }
    if given.is_empty() && open.is_empty() && windows.is_empty() {
        return Ok(String::new());
    }
    CaseBlock {
        csrf: csrf.to_string(),
        case_no: rec.case_no.clone(),
        open,
        given,
        windows,
    }
    .render()
    .map_err(AppError::internal)
}

/// The receipt's QR: a one-time link to rate the window visit.
pub async fn receipt_qr(state: &AppState, rec: &CaseRecord) -> Result<String, AppError> {
    let path = uc::new_link(state, rec, Stage::Acceptance, RatingChannel::Qr).await?;
    Ok(rating::qr_svg(&format!("{}{path}", state.base_url)))
}

async fn case_rate_form(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Form(m): Form<Fields>,
) -> Result<Response, PageError> {
    let mut indicators = BTreeMap::new();
    for (k, v) in &m {
        if let Some(name) = k.strip_prefix("ind_") {
            if !v.is_empty() {
                indicators.insert(name.to_string(), parse_level(v));
            }
        }
    }
    uc::rate(
        &state,
        &user,
        &no,
        &RateInput {
            level: parse_level(f(&m, "level")),
            channel: "web".into(),
            stage: f(&m, "stage").into(),
            indicators,
            comment: f(&m, "comment").into(),
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/cases/{no}#rate")).into_response())
}

// ---- the window's pad ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "ratings_pad.html")]
struct PadPage {
    ctx: PageCtx,
    window_id: i64,
    window: String,
    case_no: String,
    item: String,
    applicant: String,
    stage: &'static str,
    levels: Vec<(i64, &'static str)>,
    message: String,
}

fn levels() -> Vec<(i64, &'static str)> {
    (1..=5).rev().map(|l| (l, level_label(l as u8))).collect()
}

async fn pad_html(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    window_id: i64,
    message: String,
) -> Result<Html<String>, PageError> {
    let v = uc::pad(state, window_id).await?;
    render(PadPage {
        ctx: PageCtx::new(viewer, csrf),
        window_id,
        window: format!("{}号窗口 {}", v.window.number, v.window.name),
        case_no: v
            .case
            .as_ref()
            .map(|c| c.case_no.clone())
            .unwrap_or_default(),
        item: v
            .case
            .as_ref()
            .map(|c| c.item_name.clone())
            .unwrap_or_default(),
        applicant: v.applicant,
        stage: v.stage.map(|s| s.label()).unwrap_or(""),
        levels: levels(),
        message,
    })
}

fn new_device_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

async fn pad_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(window): Path<i64>,
) -> Result<Response, PageError> {
    let html = pad_html(&state, &viewer, &csrf, window, String::new()).await?;
    let mut res = html.into_response();
    if cookie(&headers, PAD_COOKIE).is_none() {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{PAD_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/rate/window; Max-Age=31536000",
            new_device_id()
        )) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    Ok(res)
}

/// The device a pad rating came from: the pad's own cookie, else its user agent.
fn device_of(headers: &HeaderMap) -> String {
    match cookie(headers, PAD_COOKIE) {
        Some(id) if id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("pad:{id}")
        }
        _ => format!(
            "ua:{}",
            headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(56)
                .collect::<String>()
        ),
    }
}

async fn pad_touch(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(window): Path<i64>,
    Form(m): Form<Fields>,
) -> Result<Response, PageError> {
    let r = uc::rate_on_pad(
        &state,
        viewer.user.as_ref(),
        window,
        parse_level(f(&m, "level")),
        &device_of(&headers),
    )
    .await;
    let message = match r {
        Ok(r) => format!("感谢您的评价：{}", level_label(r.level as u8)),
        Err(e) if e.kind == tongban_app::ErrorKind::Conflict => {
            "本次服务已评价，感谢您的参与".to_string()
        }
        Err(e) => return Err(AppError::from(e).into()),
    };
    Ok(pad_html(&state, &viewer, &csrf, window, message)
        .await?
        .into_response())
}

async fn pad_show_case(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(window): Path<i64>,
    Form(m): Form<Fields>,
) -> Result<Response, PageError> {
    let no = f(&m, "case_no").trim().to_string();
    uc::show_on_pad(&state, &user, &no, window).await?;
    Ok(Redirect::to(&format!("/cases/{no}#rate")).into_response())
}

// ---- one-time links --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "ratings_link.html")]
struct LinkPage {
    ctx: PageCtx,
    token: String,
    case_no: String,
    item: String,
    stage: &'static str,
    levels: Vec<(i64, &'static str)>,
    message: String,
    done: bool,
}

async fn link_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> Result<Html<String>, PageError> {
    let (rec, stage, _) = uc::link(&state, &token).await?;
    render(LinkPage {
        ctx: PageCtx::new(&viewer, &csrf),
        token,
        case_no: rec.case_no,
        item: rec.item_name,
        stage: stage.label(),
        levels: levels(),
        message: String::new(),
        done: false,
    })
}

async fn link_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(token): Path<String>,
    Form(m): Form<Fields>,
) -> Result<Html<String>, PageError> {
    let r = uc::rate_by_link(
        &state,
        viewer.user.as_ref(),
        &token,
        parse_level(f(&m, "level")),
        f(&m, "comment"),
    )
    .await?;
    render(LinkPage {
        ctx: PageCtx::new(&viewer, &csrf),
        token: String::new(),
        case_no: r.case_no,
        item: String::new(),
        stage: "",
        levels: vec![],
        message: format!("感谢您的评价：{}", level_label(r.level as u8)),
        done: true,
    })
}

// ---- public figures --------------------------------------------------------------------

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

struct GroupRow {
    name: String,
    total: u64,
    good: String,
    bad: String,
}

#[derive(Template)]
#[template(path = "ratings.html")]
struct FiguresPage {
    ctx: PageCtx,
    from: String,
    to: String,
    department: String,
    departments: Vec<(String, String)>,
    f: Figures,
    chart: String,
    good_chart: String,
    groups: Vec<(&'static str, Vec<GroupRow>)>,
    excluded: Vec<(String, String, String)>,
    may_export: bool,
    month: String,
}

fn group_rows(
    rows: &[tongban_store::ratings::ExportRow],
    key: impl Fn(&tongban_store::ratings::ExportRow) -> Option<String>,
) -> Vec<GroupRow> {
    let mut by: BTreeMap<String, Vec<rating::Fact>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = key(r) {
            by.entry(k).or_default().push(uc::fact_of(r));
        }
    }
    by.into_iter()
        .map(|(name, facts)| {
            let f = rating::figures(&facts);
            GroupRow {
                name,
                total: f.total,
                good: f.good.percent(),
                bad: f.bad.percent(),
            }
        })
        .filter(|g| g.total > 0)
        .collect()
}

async fn figures_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Query(q): Query<StatsQuery>,
) -> Result<Html<String>, PageError> {
    let (from, to) = uc::parse_range(&state, q.from.as_deref(), q.to.as_deref())?;
    let code = q.department.clone().unwrap_or_default();
    let dept = if code.trim().is_empty() {
        None
    } else {
        Some(uc::department_by_code(&state, &code).await?)
    };
    let rows = uc::rows(&state, from, to, dept).await?;
    let facts: Vec<_> = rows.iter().map(uc::fact_of).collect();
    let fig = rating::figures(&facts);
    let view = state.catalog().await?;
    let dept_name = |id: i64| {
        view.department(id)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("部门{id}"))
    };
    let level_rows: Vec<(String, u64)> = (1..=5u8)
        .rev()
        .map(|l| {
            (
                format!("{l}星 {}", level_label(l)),
                fig.by_level.get(&l.to_string()).copied().unwrap_or(0),
            )
        })
        .collect();
    let max = level_rows.iter().map(|r| r.1).max().unwrap_or(0) as f64;
    let chart = bar_chart(
        &level_rows
            .iter()
            .map(|(l, n)| (l.clone(), *n as f64, format!("{n} 件")))
            .collect::<Vec<_>>(),
        max,
    );
    let by_dept = group_rows(&rows, |r| Some(dept_name(r.rating.department_id)));
    let good_chart = bar_chart(
        &by_dept
            .iter()
            .map(|g| {
                let rate = g
                    .good
                    .split('%')
                    .next()
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    / 100.0;
                (g.name.clone(), rate, g.good.clone())
            })
            .collect::<Vec<_>>(),
        1.0,
    );
    let mut window_names = HashMap::new();
    for h in &view.halls {
        for w in state.store.hall_windows(h.id).await? {
            window_names.insert(w.id, format!("{} {}号窗口", h.name, w.number));
        }
    }
    let groups = vec![
        ("按部门", by_dept),
        (
            "按事项",
            group_rows(&rows, |r| {
                Some(
                    view.get(&r.rating.impl_code)
                        .map(|i| i.item.name.clone())
                        .unwrap_or_else(|| r.rating.impl_code.clone()),
                )
            }),
        ),
        (
            "按大厅",
            group_rows(&rows, |r| {
                r.rating
                    .hall_id
                    .map(|h| view.hall(h).map(|x| x.name.clone()).unwrap_or_default())
            }),
        ),
        (
            "按窗口",
            group_rows(&rows, |r| {
                r.rating
                    .window_id
                    .map(|w| window_names.get(&w).cloned().unwrap_or_default())
            }),
        ),
        (
            "按窗口人员",
            group_rows(&rows, |r| {
                (!r.rating.clerk.is_empty()).then(|| r.rating.clerk.clone())
            }),
        ),
    ];
    let excluded = rows
        .iter()
        .filter(|r| r.rating.excluded)
        .map(|r| {
            (
                r.rating.case_no.clone(),
                format!(
                    "{}（{}）",
                    level_label(r.rating.level as u8),
                    r.rating.level
                ),
                r.rating.excluded_reason.clone(),
            )
        })
        .collect();
    let may_export = viewer
        .user
        .as_ref()
        .is_some_and(|u| holds(u.role, Capability::ExportRatings));
    render(FiguresPage {
        ctx: PageCtx::new(&viewer, &csrf),
        month: format!("{}", to.format("%Y-%m")),
        from: from.to_string(),
        to: to.to_string(),
        department: code,
        departments: view
            .departments
            .iter()
            .filter(|d| !d.retired)
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        f: fig,
        chart,
        good_chart,
        groups,
        excluded,
        may_export,
    })
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    #[serde(default)]
    month: String,
}

fn csv_response(month: &str, body: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"ratings-{}.csv\"",
                    month
                        .chars()
                        .filter(|c| c.is_ascii_digit() || *c == '-')
                        .collect::<String>()
                ),
            ),
        ],
        body,
    )
        .into_response()
}

async fn export_csv(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let body = uc::export_month(&state, &user, &q.month).await?;
    Ok(csv_response(&q.month, body))
}

// ---- the department's follow-up --------------------------------------------------------

struct FollowRow {
    id: i64,
    case_no: String,
    department: String,
    level: String,
    comment: String,
    callback_due: String,
    callback_light: &'static str,
    called_back: String,
    rectify_due: String,
    rectify_light: &'static str,
    rectified: String,
    appeal: String,
    appeal_pending: bool,
    excluded: bool,
}

#[derive(Template)]
#[template(path = "ratings_followup.html")]
struct FollowUpPage {
    ctx: PageCtx,
    rows: Vec<FollowRow>,
    may_act: bool,
    may_appeal: bool,
    may_decide: bool,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    #[serde(default)]
    status: Option<String>,
}

async fn follow_up_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(q): Query<StatusQuery>,
) -> Result<Html<String>, PageError> {
    let status = q.status.filter(|s| !s.is_empty());
    let list = uc::rectifications(&state, &user, status.as_deref()).await?;
    let view = state.catalog().await?;
    let today = state.today();
    let mut rows = vec![];
    for x in list {
        let appeal = state.store.appeal(x.rating.id).await?;
        let due = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(today);
        rows.push(FollowRow {
            id: x.rating.id,
            case_no: x.rating.case_no.clone(),
            department: view
                .department(x.department_id)
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            level: format!(
                "{}（{}）",
                level_label(x.rating.level as u8),
                x.rating.level
            ),
            comment: x.rating.comment.clone(),
            callback_light: rating::light(due(&x.callback_due), x.called_back_on.is_some(), today),
            callback_due: x.callback_due.clone(),
            called_back: x
                .called_back_on
                .as_ref()
                .map(|d| format!("{d} {}", x.callback_note))
                .unwrap_or_default(),
            rectify_light: rating::light(due(&x.rectify_due), x.rectified_on.is_some(), today),
            rectify_due: x.rectify_due.clone(),
            rectified: x
                .rectified_on
                .as_ref()
                .map(|d| format!("{d} {}", x.rectify_note))
                .unwrap_or_default(),
            appeal_pending: appeal.as_ref().is_some_and(|a| a.decision == "pending"),
            appeal: appeal
                .map(|a| match a.decision.as_str() {
                    "pending" => format!("申诉待复核：{}", a.reason),
                    "upheld" => format!("申诉成立：{}", a.decision_reason),
                    _ => format!("申诉不成立：{}", a.decision_reason),
                })
                .unwrap_or_default(),
            excluded: x.rating.excluded,
        });
    }
    render(FollowUpPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows,
        may_act: user.role.needs_department(),
        may_appeal: holds(user.role, Capability::AppealRating),
        may_decide: holds(user.role, Capability::DecideRatingAppeal),
    })
}

async fn follow_up_form(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Form(m): Form<Fields>,
) -> Result<Response, PageError> {
    let note = f(&m, "note");
    match f(&m, "action") {
        "callback" => {
            uc::callback(&state, &user, id, note).await?;
        }
        "rectify" => {
            uc::rectify(&state, &user, id, note).await?;
        }
        "appeal" => {
            uc::appeal(&state, &user, id, note, f(&m, "evidence")).await?;
        }
        "uphold" | "reject" => {
            uc::decide(&state, &user, id, Some(f(&m, "action") == "uphold"), note).await?;
        }
        _ => return Err(AppError::bad_request("未知的操作").into()),
    }
    Ok(Redirect::to("/ratings/rectifications").into_response())
}

// ---- API -------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RateBody {
    level: i64,
    #[serde(default = "web")]
    channel: String,
    stage: String,
    #[serde(default)]
    indicators: BTreeMap<String, i64>,
    #[serde(default)]
    comment: String,
}

fn web() -> String {
    "web".into()
}

async fn api_rate(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(b): Json<RateBody>,
) -> Result<Response, ApiError> {
    let r = uc::rate(
        &state,
        &user,
        &no,
        &RateInput {
            level: b.level,
            channel: b.channel,
            stage: b.stage,
            indicators: b.indicators,
            comment: b.comment,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rating_json(&r))).into_response())
}

async fn api_stats(
    State(state): State<AppState>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    let (from, to) = uc::parse_range(&state, q.from.as_deref(), q.to.as_deref())?;
    let dept = match q.department.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => Some(uc::department_by_code(&state, c).await?),
        None => None,
    };
    let f = uc::stats(&state, from, to, dept).await?;
    Ok(Json(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "total": f.total,
        "by_level": f.by_level,
        "good": f.good,
        "bad": f.bad,
        "rectified": f.rectified,
        "rectified_on_time": f.rectified_on_time,
        "called_back": f.called_back,
    })))
}

async fn api_export(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<MonthQuery>,
) -> Result<Response, ApiError> {
    let body = uc::export_month(&state, &user, &q.month).await?;
    Ok(csv_response(&q.month, body))
}

async fn api_rectifications(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    let list =
        uc::rectifications(&state, &user, q.status.as_deref().filter(|s| !s.is_empty())).await?;
    let today = state.today();
    let rows: Vec<Value> = list
        .iter()
        .map(|x| {
            let due = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(today);
            let mut v = json!(x);
            v["rating"] = rating_json(&x.rating);
            v["rating_id"] = json!(x.rating.id);
            v["callback_light"] = json!(rating::light(
                due(&x.callback_due),
                x.called_back_on.is_some(),
                today
            ));
            v["rectify_light"] = json!(rating::light(
                due(&x.rectify_due),
                x.rectified_on.is_some(),
                today
            ));
            v
        })
        .collect();
    Ok(Json(json!({ "rectifications": rows })))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NoteBody {
    #[serde(default, alias = "result", alias = "comment")]
    note: String,
}

async fn api_callback(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<NoteBody>,
) -> Result<Json<Value>, ApiError> {
    let note = if b.note.trim().is_empty() {
        "已回访"
    } else {
        &b.note
    };
    Ok(Json(json!(uc::callback(&state, &user, id, note).await?)))
}

async fn api_rectify(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<NoteBody>,
) -> Result<Json<Value>, ApiError> {
    let note = if b.note.trim().is_empty() {
        "已整改"
    } else {
        &b.note
    };
    Ok(Json(json!(uc::rectify(&state, &user, id, note).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AppealBody {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    evidence: String,
}

async fn api_appeal(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<AppealBody>,
) -> Result<Response, ApiError> {
    let a = uc::appeal(&state, &user, id, &b.reason, &b.evidence).await?;
    Ok((StatusCode::CREATED, Json(json!(a))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    #[serde(default)]
    upheld: Option<bool>,
    /// Also accepted: `"decision": "upheld" | "rejected"`.
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    reason: String,
}

async fn api_decide(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let upheld = match (b.upheld, b.decision.as_deref()) {
        (Some(u), _) => Some(u),
        (None, Some("upheld" | "uphold")) => Some(true),
        (None, Some("rejected" | "reject")) => Some(false),
        _ => None,
    };
    Ok(Json(json!(
        uc::decide(&state, &user, id, upheld, &b.reason).await?
    )))
}
