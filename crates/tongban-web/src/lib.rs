//! The web layer: server-rendered pages in Simplified Chinese and the JSON API.
//! Feature modules own their handlers; [`router`] merges them.

pub mod admin;
pub mod api;
pub mod auth;
pub mod case_api;
pub mod case_pages;
pub mod charts;
pub mod error;
pub mod forms;
pub mod ledger_api;
pub mod licences;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
pub mod session;
pub mod state;
pub mod supervision;

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
        .route("/departments", get(pages::departments))
        .route("/themes", get(pages::themes))
        .route("/halls", get(pages::halls))
        .route("/stats", get(pages::stats))
        .route(
            "/login",
            get(session::login_page).post(session::login_submit),
        )
        .route("/logout", post(session::logout))
        .route(
            "/register",
            get(case_pages::register_form).post(case_pages::register_submit),
        )
        .route(
            "/apply/{code}",
            get(case_pages::apply_form).post(case_pages::apply_submit),
        )
        .route("/my/cases", get(case_pages::my_cases))
        .route("/cases", get(case_pages::search))
        .route("/cases/{no}", get(case_pages::case_detail))
        .route("/cases/{no}/act", post(case_pages::case_act))
        .route("/cases/{no}/correction", post(case_pages::case_correction))
        .route("/cases/{no}/receipt", get(case_pages::receipt))
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
        .route("/licences", get(licences::list))
        .route("/licences/{id}", get(licences::detail))
        .route("/licences/{id}/json", get(licences::json_file))
        .route("/licences/{id}/pdf", get(licences::pdf_file))
        .route("/licences/{id}/status", post(licences::status_form))
        .route(
            "/verify",
            get(licences::verify_page).post(licences::verify_upload),
        );
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
        .route(
            "/admin/calendar",
            get(admin::calendar).post(admin::load_calendar),
        )
        .route("/admin/four-same", get(admin::four_same))
        .route("/admin/audit", get(admin::audit));
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
        .route("/api/v1/departments", get(api::departments))
        .route("/api/v1/halls", get(api::halls))
        .route("/api/v1/themes", get(api::themes))
        .route("/api/v1/calendar/deadline", get(calendar_deadline))
        .route(
            "/api/v1/session",
            post(session::api_login).delete(session::api_logout),
        )
        .route("/api/v1/me", get(session::api_me))
        .route("/api/v1/applicants", post(case_api::register))
        .route("/api/v1/files", post(case_api::upload))
        .route("/api/v1/cases", get(case_api::search).post(case_api::apply))
        .route("/api/v1/cases/{no}", get(case_api::get_case))
        .route("/api/v1/cases/{no}/events", get(case_api::case_events))
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
        .route("/api/v1/admin/users/{id}/unlock", post(api::unlock_user));
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
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
        .merge(ops)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ledger_rate_limit,
        ))
        .layer(axum::middleware::from_fn(api_errors_as_json))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::resolve_session))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
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
        s if s >= 500 => "internal",
        _ => "bad_request",
    };
    let message = if status.is_server_error() {
        "系统内部错误，请稍后再试".to_string()
    } else {
        format!("请求有误：{detail}")
    };
    (
        status,
        Json(serde_json::json!({ "code": code, "message": message })),
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        ApiError(AppError::not_found("没有这个API")).into_response()
    } else {
        error::PageError(AppError::not_found("您访问的页面不存在")).into_response()
    }
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(serde_json::json!({ "status": "ok" })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database unavailable" })),
            )
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
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
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

#[derive(serde::Deserialize)]
struct DeadlineQuery {
    from: String,
    working_days: u32,
}

async fn calendar_deadline(
    State(state): State<AppState>,
    Query(q): Query<DeadlineQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let from = chrono::NaiveDate::parse_from_str(&q.from, "%Y-%m-%d").map_err(|_| {
        AppError::bad_request(format!("from 应为 YYYY-MM-DD 日期，而不是 {}", q.from))
    })?;
    let cal = state.calendar().await?;
    let due = cal
        .add_working_days(from, q.working_days)
        .map_err(|e| AppError::bad_request(format!("无法计算期限：{e}")))?;
    let provisional = cal.depends_on_provisional(from, due);
    let mut body = serde_json::json!({
        "due": due.format("%Y-%m-%d").to_string(),
        "provisional": provisional,
    });
    if provisional {
        body["note"] =
            tongban_core::messages::provisional_note(&cal.provisional_years_between(from, due))
                .into();
    }
    Ok(Json(body))
}

/// The public ledger endpoints (checkpoints, keys, entries, proofs) and uploads are limited
/// per client address by token buckets (`AppState::ledger_limit`, `upload_limit`): 429
/// with `Retry-After` when empty.
async fn ledger_rate_limit(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let limit = if path.starts_with("/api/v1/ledger/") {
        Some(&state.ledger_limit)
    } else if path == "/api/v1/files" && req.method() == axum::http::Method::POST {
        Some(&state.upload_limit)
    } else {
        None
    };
    if let Some(limit) = limit {
        let client = req
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        if let Err(wait) = limit.take(client, std::time::Instant::now()) {
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
    }
    next.run(req).await
}

/// A bound server, ready to run. Tests bind port 0 and read the address.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(state: AppState, addr: SocketAddr) -> std::io::Result<Application> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Application {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
    }

    /// Serves until the future completes (tests).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
    }
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
