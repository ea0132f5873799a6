//! The web layer: server-rendered pages in Simplified Chinese and the JSON API.
//! Feature modules own their handlers; [`router`] merges them.

pub mod admin;
pub mod analytics;
pub mod api;
pub mod auth;
pub mod bundles;
pub mod case_api;
pub mod case_pages;
pub mod charts;
pub mod error;
pub mod exchange;
pub mod federation;
pub mod forms;
pub mod hall;
pub mod ledger_api;
pub mod licences;
pub mod materials;
pub mod metrics;
pub mod notices;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
pub mod ratings;
pub mod security;
pub mod session;
pub mod state;
pub mod supervision;
pub mod ui;

pub use state::AppState;
pub use tongban_app::{clock, notify};

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderName;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use error::{ApiError, AppError};
use std::net::SocketAddr;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const STYLESHEET: &str = include_str!("../static/app.css");
/// Uploads larger than this are refused before they are read whole.
pub const MAX_UPLOAD_BYTES: usize = tongban_store::catalog_file::MAX_FILE_BYTES + 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let public = Router::new()
        .route("/", get(pages::home))
        .route("/items", get(pages::items))
        .route("/items/{code}", get(pages::item))
        .route("/items/{code}/forms/{file}", get(pages::item_form))
        .route("/departments", get(pages::departments))
        .route("/themes", get(pages::themes))
        .route("/bundles", get(bundles::list_page))
        .route("/bundles/{code}", get(bundles::def_page))
        .route("/bundles/{code}/apply", post(bundles::apply_submit))
        .route("/bundle-cases/{no}", get(bundles::case_page))
        .route("/halls", get(pages::halls))
        .route("/halls/{hall}/screen", get(hall::screen_page))
        .route("/halls/{hall}/screen/events", get(hall::screen_events))
        .route(
            "/halls/{hall}/ticket",
            get(hall::ticket_form).post(hall::ticket_submit),
        )
        .route(
            "/windows/{id}",
            get(hall::window_console).post(hall::window_action),
        )
        .route("/stats", get(pages::stats))
        .route("/stats/export", get(analytics::export))
        .route(
            "/login",
            get(session::login_page).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route(
            "/account/password",
            get(session::password_page).post(session::password_submit),
        )
        .route(
            "/register",
            get(case_pages::register_form).post(case_pages::register_submit),
        )
        .route(
            "/apply/{code}",
            get(case_pages::apply_form).post(case_pages::apply_submit),
        )
        .route("/my/cases", get(case_pages::my_cases))
        .route("/my/messages", get(case_pages::my_messages))
        .route("/my/messages/{no}", get(case_pages::my_message_thread))
        .route("/cases", get(case_pages::search))
        .route("/cases/{no}", get(case_pages::case_detail))
        .route("/cases/{no}/act", post(case_pages::case_act))
        .route("/cases/{no}/correction", post(case_pages::case_correction))
        .route("/cases/{no}/receipt", get(case_pages::receipt))
        .route("/cases/{no}/materials/{n}", get(materials::view))
        .route("/cases/{no}/notices/{file}", get(notices::file))
        .route(
            "/window",
            get(case_pages::window_form).post(case_pages::window_submit),
        )
        .route("/desk", get(case_pages::desk))
        .route("/inbox", get(case_pages::inbox))
        .route("/supervision", get(supervision::board))
        .route(
            "/supervision/orders",
            get(supervision::orders).post(supervision::issue_form),
        )
        .route(
            "/supervision/orders/{no}/answer",
            post(supervision::answer_form),
        )
        .route(
            "/supervision/orders/{no}/close",
            post(supervision::close_form),
        )
        .route("/supervision/stats", get(supervision::stats))
        .route("/exchange", get(exchange::catalog_page))
        .route("/my/data-access", get(exchange::data_access_page))
        .route("/licences", get(licences::list))
        .route("/licences/{id}", get(licences::detail))
        .route("/licences/{id}/json", get(licences::json_file))
        .route("/licences/{id}/pdf", get(licences::pdf_file))
        .route("/licences/{id}/status", post(licences::status_form))
        .route(
            "/verify",
            get(licences::verify_page).post(licences::verify_upload),
        )
        .route("/senior", post(ui::senior_switch));
    let admin_pages = Router::new()
        .route("/admin", get(admin::index))
        .route("/admin/items", get(admin::items))
        .route(
            "/admin/items/new",
            get(admin::new_item_form).post(admin::create_item),
        )
        .route(
            "/admin/items/{code}/edit",
            get(admin::edit_item_form).post(admin::update_item),
        )
        .route("/admin/items/{code}/retire", post(admin::retire_item))
        .route("/admin/items/{code}/restore", post(admin::restore_item))
        .route("/admin/items/{code}/history", get(admin::history))
        .route(
            "/admin/import",
            get(admin::import_form).post(admin::import_submit),
        )
        .route("/admin/export", get(admin::export))
        .route(
            "/admin/departments",
            get(admin::departments).post(admin::create_department),
        )
        .route("/admin/departments/{id}", post(admin::update_department))
        .route("/admin/halls", get(admin::halls).post(admin::create_hall))
        .route("/admin/halls/{id}", post(admin::update_hall))
        .route("/admin/halls/{id}/windows", post(admin::create_window))
        .route("/admin/windows/{id}", post(admin::update_window))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/users/{id}/unlock", post(admin::unlock_user))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route(
            "/admin/calendar",
            get(admin::calendar).post(admin::load_calendar),
        )
        .route("/admin/four-same", get(admin::four_same))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit.csv", get(admin::audit_csv));
    let api = Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/v1/items", get(api::list_items))
        .route("/api/v1/items/{code}", get(api::get_item))
        .route("/api/v1/items/{code}/workflow", get(api::get_workflow))
        .route(
            "/api/v1/admin/items/{code}/workflow",
            axum::routing::put(api::set_workflow),
        )
        .route("/api/v1/catalog/stats", get(api::catalog_stats))
        .route("/api/v1/analytics/cases", get(analytics::api_cases))
        .route(
            "/api/v1/analytics/cases/list",
            get(analytics::api_case_list),
        )
        .route("/api/v1/analytics/compare", get(analytics::api_compare))
        .route("/api/v1/departments", get(api::departments))
        .route("/api/v1/halls", get(api::halls))
        .route("/api/v1/halls/{hall}/slots", get(hall::api_slots))
        .route("/api/v1/halls/{hall}/tickets", post(hall::api_take_ticket))
        .route("/api/v1/halls/{hall}/figures", get(hall::api_figures))
        .route("/api/v1/appointments", post(hall::api_book))
        .route("/api/v1/my/appointments", get(hall::api_my_appointments))
        .route(
            "/api/v1/appointments/{id}",
            axum::routing::delete(hall::api_cancel),
        )
        .route(
            "/api/v1/appointments/{id}/reschedule",
            post(hall::api_reschedule),
        )
        .route("/api/v1/tickets/{id}", get(hall::api_ticket))
        .route("/api/v1/tickets/{id}/serve", post(hall::api_serve))
        .route("/api/v1/tickets/{id}/skip", post(hall::api_skip))
        .route("/api/v1/tickets/{id}/transfer", post(hall::api_transfer))
        .route("/api/v1/tickets/{id}/finish", post(hall::api_finish))
        .route("/api/v1/windows/{id}/call", post(hall::api_call))
        .route("/api/v1/windows/{id}/recall", post(hall::api_recall))
        .route(
            "/api/v1/cases/{no}/delivery/events",
            get(hall::api_delivery_events).post(hall::api_track),
        )
        .route("/api/v1/delivery/import", post(hall::api_import))
        .route("/api/v1/delivery/webhook", post(hall::api_webhook))
        .route("/api/v1/delivery/figures", get(hall::api_delivery_figures))
        .route("/api/v1/themes", get(api::themes))
        .route("/api/v1/bundles", get(bundles::api_list))
        .route("/api/v1/bundles/{bundle_code}", get(bundles::api_get))
        .route(
            "/api/v1/bundles/{bundle_code}/applications",
            post(bundles::api_apply),
        )
        .route("/api/v1/bundle-cases/{bundle_no}", get(bundles::api_bundle))
        .route("/api/v1/bundle-figures", get(bundles::api_figures))
        .route("/api/v1/admin/bundles", post(bundles::api_import))
        .route(
            "/api/v1/admin/bundles/{bundle_code}",
            get(bundles::api_export),
        )
        .route("/api/v1/calendar/deadline", get(calendar_deadline))
        .route(
            "/api/v1/session",
            post(session::api_login).delete(session::api_logout),
        )
        .route("/api/v1/me", get(session::api_me))
        .route("/api/v1/me/password", post(session::api_change_password))
        .route("/api/v1/audit", get(api::audit_log))
        .route("/api/v1/audit/export", get(api::audit_export))
        .route("/api/v1/applicants", post(case_api::register))
        .route("/api/v1/files", post(case_api::upload))
        .route("/api/v1/cases", get(case_api::search).post(case_api::apply))
        .route("/api/v1/cases/{no}", get(case_api::get_case))
        .route("/api/v1/cases/{no}/events", get(case_api::case_events))
        .route("/api/v1/cases/{no}/notices", get(notices::api_list))
        .route("/api/v1/cases/{no}/commands", post(case_api::command))
        .route("/api/v1/my/cases", get(case_api::my_cases))
        .route("/api/v1/inbox", get(case_api::inbox))
        .route("/api/v1/admin/calendar", post(case_api::load_calendar))
        .route("/api/v1/supervision/records", get(supervision::api_records))
        .route(
            "/api/v1/supervision/orders",
            get(supervision::api_orders).post(supervision::api_issue),
        )
        .route(
            "/api/v1/supervision/orders/{no}/answer",
            post(supervision::api_answer),
        )
        .route(
            "/api/v1/supervision/orders/{no}/close",
            post(supervision::api_close),
        )
        .route(
            "/api/v1/supervision/departments",
            get(supervision::api_departments),
        )
        .route("/api/v1/licences", get(licences::api_list))
        .route("/api/v1/licences/keys", get(licences::api_keys))
        .route(
            "/api/v1/licences/status/{purpose}",
            get(licences::api_status_list),
        )
        .route("/api/v1/licences/verify", post(licences::api_verify))
        .route("/api/v1/licences/{id}", get(licences::api_get))
        .route("/api/v1/licences/{id}/status", post(licences::api_status))
        .route(
            "/api/v1/cases/{no}/holder-licences",
            post(licences::api_case_holder_licences),
        )
        .route(
            "/api/v1/admin/licence-types",
            post(licences::api_define_type),
        )
        .route("/api/v1/federation/member", get(exchange::api_member))
        .route("/api/v1/federation/exchange", post(exchange::api_exchange))
        .route("/api/v1/federation/events", post(federation::api_events))
        .route(
            "/api/v1/federation/checkpoints",
            post(federation::api_checkpoints),
        )
        .route("/api/v1/federation/outbox", get(federation::api_outbox))
        .route(
            "/api/v1/federation/reconciliation",
            get(federation::api_reconciliation),
        )
        .route(
            "/api/v1/federation/standard-items",
            get(federation::api_standard_items).post(federation::api_import_standard_items),
        )
        .route(
            "/api/v1/federation/cross",
            post(federation::api_cross_receive),
        )
        .route(
            "/api/v1/federation/cross/receive",
            post(federation::api_cross_take),
        )
        .route(
            "/api/v1/federation/cross/status",
            post(federation::api_cross_status),
        )
        .route(
            "/api/v1/federation/cross/{id}",
            get(federation::api_cross_view),
        )
        .route(
            "/api/v1/federation/cross/{id}/decision",
            post(federation::api_cross_decide),
        )
        .route("/api/v1/exchange/catalog", get(exchange::api_catalog))
        .route(
            "/api/v1/exchange/catalog.xlsx",
            get(exchange::api_catalog_xlsx),
        )
        .route("/api/v1/exchange/resources", post(exchange::api_publish))
        .route("/api/v1/exchange/grants", post(exchange::api_grant))
        .route("/api/v1/exchange/evidence", post(exchange::api_evidence))
        .route("/api/v1/exchange/calls", post(exchange::api_call))
        .route("/api/v1/exchange/log", get(exchange::api_log))
        .route(
            "/api/v1/exchange/requests",
            get(exchange::api_requests).post(exchange::api_request),
        )
        .route(
            "/api/v1/exchange/requests/{id}/answer",
            post(exchange::api_answer),
        )
        .route(
            "/api/v1/cases/{no}/exchange-consent",
            post(exchange::api_consent),
        )
        .route("/api/v1/my/data-access", get(exchange::api_my_data_access))
        .route("/api/v1/ledger/checkpoint", get(ledger_api::checkpoint))
        .route("/api/v1/ledger/keys", get(ledger_api::keys))
        .route("/api/v1/ledger/entries", get(ledger_api::entries))
        .route("/api/v1/ledger/proof/inclusion", get(ledger_api::inclusion))
        .route(
            "/api/v1/ledger/proof/consistency",
            get(ledger_api::consistency),
        )
        .route("/api/v1/admin/items", post(api::create_item))
        .route(
            "/api/v1/admin/items/{code}",
            axum::routing::put(api::update_item),
        )
        .route("/api/v1/admin/items/{code}/retire", post(api::retire_item))
        .route(
            "/api/v1/admin/items/{code}/restore",
            post(api::restore_item),
        )
        .route(
            "/api/v1/admin/items/{code}/versions",
            get(api::item_versions),
        )
        .route("/api/v1/admin/catalog/import", post(api::import))
        .route("/api/v1/admin/catalog/export", get(api::export))
        .route("/api/v1/admin/catalog/four-same", get(api::four_same))
        .route("/api/v1/admin/departments", post(api::create_department))
        .route("/api/v1/admin/halls", post(api::create_hall))
        .route(
            "/api/v1/admin/users",
            get(api::users).post(api::create_user),
        )
        .route("/api/v1/admin/users/{id}/unlock", post(api::unlock_user))
        .route(
            "/api/v1/admin/users/{id}/password",
            post(api::reset_password),
        );
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/static/screen.js", get(hall::screen_script))
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [
                        (CONTENT_TYPE, "text/css; charset=utf-8"),
                        (CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    STYLESHEET,
                )
            }),
        );
    Router::new()
        .merge(public)
        .merge(admin_pages)
        .merge(api)
        .merge(ratings::router())
        .merge(ops)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ledger_rate_limit,
        ))
        .layer(axum::middleware::from_fn(api_errors_as_json))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve_session))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(security::methods))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Extractor rejections (a bad query string, a malformed JSON body …) come from axum as
/// plain text; on the API they are rewritten to the `{code, message}` shape.
async fn api_errors_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes);
    let code = match status.as_u16() {
        413 => "too_large",
        415 => "unsupported_media_type",
        405 => "method_not_allowed",
        404 => "not_found",
        408 => "timeout",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad_request",
    };
    let message = if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        tongban_app::error::UNAVAILABLE.to_string()
    } else if status.is_server_error() {
        "系统内部错误，请稍后再试".to_string()
    } else if status == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        "该路径不支持此请求方法".to_string()
    } else if status == axum::http::StatusCode::REQUEST_TIMEOUT {
        "请求超时，请重试".to_string()
    } else if status == axum::http::StatusCode::NOT_FOUND {
        "没有这个API".to_string()
    } else {
        format!("请求有误：{detail}")
    };
    let mut res = (
        status,
        Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response();
    if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static(error::RETRY_AFTER_SECONDS),
        );
    }
    res
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError(AppError::not_found("没有这个API")).into_response()
    } else {
        error::PageError(AppError::not_found("您访问的页面不存在")).into_response()
    }
}

/// Liveness: the process is up and serving. It does not touch the database, so a
/// database outage does not get healthy nodes restarted.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: a durable write round trip to the database and enough free space in the
/// data dir. 503 (with the failing check named) takes the node out of the load balancer.
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    let database = match state.store.write_probe().await {
        Ok(()) => "ok".to_string(),
        Err(e) => {
            tracing::error!(error = %e, "readiness: database write failed");
            "unavailable".to_string()
        }
    };
    let min = state.ops.min_free_bytes;
    let (disk, free) = match tongban_store::free_bytes(&state.ops.data_dir) {
        Ok(free) if free >= min => ("ok".to_string(), Some(free)),
        Ok(free) => {
            tracing::error!(free, min, "readiness: data dir is nearly full");
            ("low".to_string(), Some(free))
        }
        Err(e) => {
            tracing::error!(error = %e, dir = %state.ops.data_dir.display(), "readiness: cannot stat the data dir");
            ("unavailable".to_string(), None)
        }
    };
    let ready = database == "ok" && disk == "ok";
    let body = Json(serde_json::json!({
        "status": if ready { "ok" } else { "unavailable" },
        "database": database,
        "disk": disk,
        "free_bytes": free,
        "min_free_bytes": min,
    }));
    if ready {
        body.into_response()
    } else {
        let mut res = (axum::http::StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static(error::RETRY_AFTER_SECONDS),
        );
        res
    }
}

/// `/metrics` is for the monitoring system (a configured bearer token) and administrators.
fn may_read_metrics(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    viewer: &auth::Viewer,
) -> bool {
    if viewer.user.as_ref().is_some_and(|u| {
        tongban_core::capability::holds(u.role, tongban_core::capability::Capability::ReadMetrics)
    }) {
        return true;
    }
    let sent = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (&state.ops.metrics_token, sent) {
        (Some(want), Some(got)) if !want.is_empty() => {
            use sha2::{Digest, Sha256};
            // Compared as digests, so the time taken says nothing about the token.
            Sha256::digest(want.as_bytes()) == Sha256::digest(got.as_bytes())
        }
        _ => false,
    }
}

async fn metrics_text(
    State(state): State<AppState>,
    viewer: auth::Viewer,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if !may_read_metrics(&state, &headers, &viewer) && viewer.user.is_some() {
        // Signed in, but not an administrator: refused, not asked to sign in.
        return (
            axum::http::StatusCode::FORBIDDEN,
            "metrics are for administrators (or the configured bearer token)\n",
        )
            .into_response();
    }
    if !may_read_metrics(&state, &headers, &viewer) {
        let mut res = (
            axum::http::StatusCode::UNAUTHORIZED,
            "metrics need the configured bearer token or an administrator's session\n",
        )
            .into_response();
        res.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        return res;
    }
    let mut text = state.metrics.render();
    if let Some(w) = state.store.write_stats() {
        for (name, help, value) in [
            (
                "tongban_store_transactions_total",
                "Write transactions committed (SQLite).",
                w.transactions,
            ),
            (
                "tongban_store_batches_total",
                "Group-commit batches committed, one SQLite COMMIT each.",
                w.batches,
            ),
            (
                "tongban_store_wal_syncs_total",
                "fdatasync calls on the SQLite write-ahead log.",
                w.syncs,
            ),
            (
                "tongban_store_acknowledged_writes_total",
                "Writes acknowledged after a covering WAL sync.",
                w.acknowledged,
            ),
        ] {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// The day the period starts (YYYY-MM-DD).
    #[param(format = Date)]
    from: String,
    #[param(maximum = 3660)]
    working_days: u32,
}

async fn calendar_deadline(
    State(state): State<AppState>,
    Query(q): Query<DeadlineQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let from = chrono::NaiveDate::parse_from_str(&q.from, "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(format!("from 应为 YYYY-MM-DD 日期，而不是 {}", q.from))
    })?;
    let d = tongban_app::calendar::deadline(&state, from, q.working_days).await?;
    Ok(Json(serde_json::to_value(d).map_err(AppError::internal)?))
}

/// The server's time limits (configuration; tests use short ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To receive a request's headers, counted from when the server starts waiting for a
    /// request: the connection opened or the previous answer went out. So a connection that
    /// sends nothing — slow headers, or an idle keep-alive — is closed after this long.
    pub header: std::time::Duration,
    /// To receive a request's body.
    pub body: std::time::Duration,
    /// To answer a request once its headers are in (the body's time included): 408 after.
    pub request: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: std::time::Duration::from_secs(10),
            body: std::time::Duration::from_secs(30),
            request: std::time::Duration::from_secs(60),
        }
    }
}

/// The public ledger endpoints (checkpoints, keys, entries, proofs) are limited per client
/// address, uploads per signed-in user, by token buckets (`AppState::ledger_limit`,
/// `upload_limit`): 429 with `Retry-After` when empty.
async fn ledger_rate_limit(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let now = std::time::Instant::now();
    let verdict = if path.starts_with("/api/v1/ledger/") {
        let client = req
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        state.ledger_limit.take(client, now)
    } else if path == "/api/v1/files" && req.method() == axum::http::Method::POST {
        // Uploads count per signed-in user (anonymous uploads are refused by the handler).
        match req
            .extensions()
            .get::<auth::Viewer>()
            .and_then(|v| v.user.as_ref())
        {
            Some(u) => state.upload_limit.take(u.id, now),
            None => Ok(()),
        }
    } else {
        Ok(())
    };
    if let Err(wait) = verdict {
        let secs = wait.as_secs() + 1;
        let mut r = ApiError(AppError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("请求过于频繁，请 {secs} 秒后再试"),
        ))
        .into_response();
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(secs),
        );
        return r;
    }
    next.run(req).await
}

/// A bound server, ready to run. Tests bind port 0 and read the address.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    timeouts: Timeouts,
}

impl Application {
    pub async fn build(state: AppState, addr: SocketAddr) -> std::io::Result<Application> {
        Self::build_with(state, addr, Timeouts::default()).await
    }

    pub async fn build_with(
        state: AppState,
        addr: SocketAddr,
        timeouts: Timeouts,
    ) -> std::io::Result<Application> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let router = router(state)
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                timeouts.body,
            ))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                timeouts.request,
            ))
            // The timeout's 408 on the API as {code, message} too.
            .layer(axum::middleware::from_fn(api_errors_as_json));
        Ok(Application {
            listener,
            router,
            timeouts,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until the future completes, then lets open connections finish their
    /// requests (for at most the request timeout).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (closing_tx, closing) = tokio::sync::watch::channel(false);
        let mut connections = tokio::task::JoinSet::new();
        tokio::pin!(stop);
        loop {
            let (stream, peer) = tokio::select! {
                _ = &mut stop => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let router = self.router.clone();
            let timeouts = self.timeouts;
            let mut closing = closing.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        req.extensions_mut()
                            .insert(axum::extract::ConnectInfo(peer));
                        let router = router.clone();
                        async move {
                            use tower::ServiceExt;
                            router.oneshot(req.map(axum::body::Body::new)).await
                        }
                    },
                );
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(timeouts.header)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .with_upgrades();
                tokio::pin!(conn);
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, %peer, "connection ended");
                        }
                    }
                    _ = async { closing.wait_for(|c| *c).await.map(|_| ()) } => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
            // Reap finished connections so the set does not grow.
            while connections.try_join_next().is_some() {}
        }
        drop(self.listener);
        let _ = closing_tx.send(true);
        let drain = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(self.timeouts.request, drain)
            .await
            .is_err()
        {
            tracing::warn!("connections still open at shutdown were closed");
        }
        Ok(())
    }
}

/// The client's address, as the connection gives it (not a forwarded header, which anyone
/// can set). "-" when unknown.
pub fn client_address(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "-".to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// The web state over an application.
pub fn new_state(app: tongban_app::App) -> AppState {
    AppState::new(app)
}
