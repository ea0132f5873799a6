//! The hall (issue #18): appointment slots and bookings, queue tickets, windows calling,
//! the public calling screen (server-sent events, and a periodic refresh without
//! JavaScript), the hall's figures, and parcel tracking — as pages and in the API.

use crate::auth::{CsrfToken, SignedIn, Viewer};
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tongban_app::hall::{self, TicketView, TrackingInput};

const MAX_FIELD: usize = 200;

fn bounded(s: &str, what: &str) -> Result<(), AppError> {
    if s.chars().count() > MAX_FIELD {
        return Err(AppError::bad_request(format!("{what}过长")));
    }
    Ok(())
}

fn date(s: &Option<String>, what: &str) -> Result<Option<NaiveDate>, AppError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::bad_request(format!("{what}应为 YYYY-MM-DD"))),
    }
}

fn ticket_json(t: &TicketView) -> Value {
    json!({
        "id": t.id,
        "ticket": t.ticket,
        "position": t.position,
        "estimate_minutes": t.estimate_minutes,
        "status": t.status,
        "hall": t.hall,
        "item": t.item,
        "window": t.window,
        "case_no": t.case_no,
        "appointment": t.appointment,
    })
}

// ---- API: slots and appointments ---------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    #[serde(default)]
    item: String,
    from: Option<String>,
    to: Option<String>,
}

pub async fn api_slots(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<SlotQuery>,
) -> Result<Json<Value>, ApiError> {
    bounded(&q.item, "事项编码")?;
    if q.item.trim().is_empty() {
        return Err(AppError::bad_request("请指定事项（item）").into());
    }
    let (from, to) = (date(&q.from, "from ")?, date(&q.to, "to ")?);
    let slots = hall::slots(&state, &code, &q.item, from, to).await?;
    Ok(Json(json!({
        "slots": slots.iter().map(|s| json!({
            "id": s.id, "date": s.date, "start": s.start, "end": s.end,
            "capacity": s.capacity, "booked": s.booked,
        })).collect::<Vec<_>>()
    })))
}

fn appointment_json(a: &tongban_store::hall::Appointment) -> Value {
    json!({
        "id": a.id, "slot": a.slot_id, "item": a.impl_code, "status": a.status,
        "hall": a.hall_id, "date": a.date, "start": a.start, "end": a.end,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BookBody {
    slot: i64,
    item: String,
    /// The clerk books for an applicant's account.
    #[serde(default)]
    applicant: Option<String>,
}

pub async fn api_book(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<BookBody>,
) -> Result<Response, ApiError> {
    bounded(&b.item, "事项编码")?;
    let a = hall::book(&state, &user, b.slot, &b.item, b.applicant.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(appointment_json(&a))).into_response())
}

pub async fn api_my_appointments(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let list = hall::my_appointments(&state, &user).await?;
    Ok(Json(
        json!({ "appointments": list.iter().map(appointment_json).collect::<Vec<_>>() }),
    ))
}

pub async fn api_cancel(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    hall::cancel(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RescheduleBody {
    slot: i64,
}

pub async fn api_reschedule(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<RescheduleBody>,
) -> Result<Json<Value>, ApiError> {
    let a = hall::reschedule(&state, &user, id, b.slot).await?;
    Ok(Json(appointment_json(&a)))
}

// ---- API: tickets and windows ------------------------------------------------------------

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct TicketBody {
    #[serde(default)]
    item: Option<String>,
    #[serde(default)]
    appointment: Option<i64>,
}

pub async fn api_take_ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Json(b): Json<TicketBody>,
) -> Result<Response, ApiError> {
    if let Some(i) = &b.item {
        bounded(i, "事项编码")?;
    }
    let t = hall::take_ticket(
        &state,
        viewer.user.as_ref(),
        &code,
        b.item.as_deref(),
        b.appointment,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ticket_json(&t))).into_response())
}

pub async fn api_ticket(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ticket_json(&hall::ticket(&state, id).await?)))
}

pub async fn api_call(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(match hall::call_next(&state, &user, id).await? {
        Some(t) => Json(ticket_json(&t)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

pub async fn api_recall(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ticket_json(&hall::recall(&state, &user, id).await?)))
}

pub async fn api_skip(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ticket_json(&hall::skip(&state, &user, id).await?)))
}

pub async fn api_serve(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ticket_json(&hall::serve(&state, &user, id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TransferBody {
    window: i64,
}

pub async fn api_transfer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<TransferBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(ticket_json(
        &hall::transfer(&state, &user, id, b.window).await?,
    )))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct FinishBody {
    #[serde(default)]
    case_no: Option<String>,
}

pub async fn api_finish(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Json(b): Json<FinishBody>,
) -> Result<Json<Value>, ApiError> {
    if let Some(c) = &b.case_no {
        bounded(c, "办件编号")?;
    }
    Ok(Json(ticket_json(
        &hall::finish(&state, &user, id, b.case_no.as_deref()).await?,
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiguresQuery {
    from: Option<String>,
    to: Option<String>,
}

pub async fn api_figures(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<FiguresQuery>,
) -> Result<Json<Value>, ApiError> {
    let (from, to) = (date(&q.from, "from ")?, date(&q.to, "to ")?);
    Ok(Json(json!(
        hall::figures(&state, &user, Some(&code), from, to).await?
    )))
}

// ---- API: delivery tracking --------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TrackBody {
    #[serde(default)]
    waybill: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    reason: String,
}

pub async fn api_track(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(b): Json<TrackBody>,
) -> Result<Response, ApiError> {
    for (v, what) in [
        (&b.waybill, "邮件号"),
        (&b.status, "状态"),
        (&b.at, "时间"),
        (&b.reason, "原因"),
    ] {
        bounded(v, what)?;
    }
    let new = hall::track(
        &state,
        &user,
        &no,
        &TrackingInput {
            waybill: &b.waybill,
            status: &b.status,
            at: &b.at,
            reason: &b.reason,
        },
    )
    .await?;
    let events = state.store.delivery_events(&no).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!({ "recorded": new, "events": events }))).into_response())
}

pub async fn api_delivery_events(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = hall::delivery_events(&state, &user, &no).await?;
    Ok(Json(json!({ "events": events })))
}

pub async fn api_import(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::bad_request("文件应为 UTF-8 编码的 CSV"))?;
    Ok(Json(json!(hall::import_csv(&state, &user, text).await?)))
}

pub async fn api_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.len() > 16 * 1024 {
        return Err(
            AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "推送内容过大").into(),
        );
    }
    let sig = headers
        .get("x-carrier-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let new = hall::webhook(&state, sig, &body).await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(json!({ "recorded": new })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFiguresQuery {
    #[serde(default)]
    days: Option<i64>,
}

pub async fn api_delivery_figures(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<DeliveryFiguresQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(
        hall::delivery_figures(&state, &user, q.days.unwrap_or(30)).await?
    )))
}

// ---- pages: the calling screen ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "hall_screen.html")]
struct ScreenPage {
    screen: hall::Screen,
}

/// The calling screen: a periodic refresh without JavaScript; with it, server-sent events
/// replace the lists as soon as a window calls.
pub async fn screen_page(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let screen = hall::screen(&state, &code).await?;
    let mut res = render(ScreenPage { screen })?.into_response();
    res.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    Ok(res)
}

pub const SCREEN_SCRIPT: &str = include_str!("../static/screen.js");

pub async fn screen_script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        SCREEN_SCRIPT,
    )
}

/// The screen's event stream: an event whenever what the screen shows changes (checked
/// every second), a keep-alive comment otherwise; it ends after ten minutes and the
/// browser reconnects.
#[derive(Deserialize, Default)]
pub struct EventsQuery {
    /// Send the current screen once and end (for polling clients and checks).
    #[serde(default)]
    once: Option<String>,
}

pub async fn screen_events(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Result<Response, PageError> {
    let once = q.once.is_some();
    // Refused before streaming when the hall does not exist.
    hall::screen(&state, &code).await?;
    let started = std::time::Instant::now();
    let stream = futures_util::stream::unfold(
        (state, code, String::new(), true),
        move |(state, code, last, first)| async move {
            loop {
                if !first {
                    if once {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                if started.elapsed() > Duration::from_secs(600) {
                    return None;
                }
                let Ok(s) = hall::screen(&state, &code).await else {
                    return None;
                };
                if s.version != last || first {
                    let ev = SseEvent::default()
                        .event("screen")
                        .data(serde_json::to_string(&s).unwrap_or_default());
                    return Some((
                        Ok::<_, std::convert::Infallible>(ev),
                        (state, code, s.version, false),
                    ));
                }
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

// ---- pages: 取号 at the entrance ----------------------------------------------------------

#[derive(Template)]
#[template(path = "hall_ticket.html")]
struct TicketPage {
    ctx: PageCtx,
    hall: String,
    code: String,
    items: Vec<(String, String)>,
    ticket: Option<TicketView>,
    error: String,
}

async fn ticket_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    code: &str,
    ticket: Option<TicketView>,
    error: String,
) -> Result<Html<String>, PageError> {
    let h = hall::hall_by_code(state, code).await?;
    let view = state.catalog().await?;
    let comprehensive = h.kind == tongban_store::catalog::HallKind::Comprehensive;
    let items = view
        .active()
        .filter(|i| comprehensive || i.hall_id == Some(h.id))
        .take(200)
        .map(|i| (i.item.impl_code.to_string(), i.item.name.clone()))
        .collect();
    render(TicketPage {
        ctx: PageCtx::new(viewer, csrf),
        hall: h.name.clone(),
        code: h.id.to_string(),
        items,
        ticket,
        error,
    })
}

pub async fn ticket_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    ticket_page(&state, &viewer, &csrf, &code, None, String::new()).await
}

pub async fn ticket_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(code): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let item = f.get("item").map(String::as_str).unwrap_or("");
    let appointment = f
        .get("appointment")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let r = async {
        bounded(item, "事项编码")?;
        let appointment = match appointment {
            Some(a) => Some(
                a.parse::<i64>()
                    .map_err(|_| AppError::bad_request("预约号应为数字"))?,
            ),
            None => None,
        };
        let item = if appointment.is_some() {
            None
        } else {
            Some(item)
        };
        Ok::<_, AppError>(
            hall::take_ticket(&state, viewer.user.as_ref(), &code, item, appointment).await?,
        )
    }
    .await;
    match r {
        Ok(t) => ticket_page(&state, &viewer, &csrf, &code, Some(t), String::new()).await,
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            ticket_page(&state, &viewer, &csrf, &code, None, e.message).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- pages: the window console ------------------------------------------------------------

#[derive(Template)]
#[template(path = "hall_window.html")]
struct WindowPage {
    ctx: PageCtx,
    window_id: i64,
    current: Option<TicketView>,
    message: String,
    error: String,
}

async fn window_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &tongban_store::accounts::User,
    id: i64,
    message: String,
    error: String,
) -> Result<Html<String>, PageError> {
    let current = hall::window_current(state, user, id).await?;
    render(WindowPage {
        ctx: PageCtx::new(viewer, csrf),
        window_id: id,
        current,
        message,
        error,
    })
}

pub async fn window_console(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    window_page(
        &state,
        &viewer,
        &csrf,
        &user,
        id,
        String::new(),
        String::new(),
    )
    .await
}

pub async fn window_action(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    // Only a window's clerk gets as far as the form's fields.
    hall::window_current(&state, &user, id).await?;
    let field = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let ticket_id = || {
        field("ticket")
            .parse::<i64>()
            .map_err(|_| AppError::bad_request("缺少排队号"))
    };
    let r: Result<String, AppError> = async {
        bounded(&field("case_no"), "办件编号")?;
        Ok(match field("action").as_str() {
            "call" => match hall::call_next(&state, &user, id).await? {
                Some(t) => format!(
                    "请 {} 号到 {} 号窗口办理",
                    t.ticket,
                    t.window.unwrap_or_default()
                ),
                None => "当前没有等候的排队号".into(),
            },
            "recall" => format!(
                "已重呼 {} 号",
                hall::recall(&state, &user, id).await?.ticket
            ),
            "serve" => format!(
                "{} 号开始办理",
                hall::serve(&state, &user, ticket_id()?).await?.ticket
            ),
            "skip" => format!(
                "{} 号已过号",
                hall::skip(&state, &user, ticket_id()?).await?.ticket
            ),
            "transfer" => {
                let to = field("to_window")
                    .parse::<i64>()
                    .map_err(|_| AppError::bad_request("请填写目标窗口编号"))?;
                format!(
                    "{} 号已转窗",
                    hall::transfer(&state, &user, ticket_id()?, to)
                        .await?
                        .ticket
                )
            }
            "finish" => {
                let no = field("case_no");
                let t = hall::finish(
                    &state,
                    &user,
                    ticket_id()?,
                    Some(no.as_str()).filter(|s| !s.is_empty()),
                )
                .await?;
                match t.case_no {
                    Some(c) => format!("{} 号已办结，关联办件 {c}", t.ticket),
                    None => format!("{} 号已办结", t.ticket),
                }
            }
            _ => return Err(AppError::bad_request("未知操作")),
        })
    }
    .await;
    match r {
        Ok(m) => window_page(&state, &viewer, &csrf, &user, id, m, String::new()).await,
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::FORBIDDEN
                && e.status != StatusCode::NOT_FOUND =>
        {
            window_page(&state, &viewer, &csrf, &user, id, String::new(), e.message).await
        }
        Err(e) => Err(e.into()),
    }
}
