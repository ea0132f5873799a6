//! One application error. Internal causes are logged; users see a safe Chinese message —
//! as a page for browsers and as `{code, message}` for the API.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tongban_store::StoreError;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "无权访问该页面或操作")
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "请先登录")
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "系统内部错误，请稍后再试",
        )
    }
}

impl From<tongban_app::Error> for AppError {
    fn from(e: tongban_app::Error) -> Self {
        use tongban_app::ErrorKind as K;
        let status = match e.kind {
            K::Invalid | K::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            K::NotFound => StatusCode::NOT_FOUND,
            K::Forbidden => StatusCode::FORBIDDEN,
            K::Unauthorized => StatusCode::UNAUTHORIZED,
            K::Conflict => StatusCode::CONFLICT,
            K::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            K::TooMany => StatusCode::TOO_MANY_REQUESTS,
            K::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            K::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            K::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        AppError::new(status, e.code, e.message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AppError::not_found(format!("未找到：{m}")),
            StoreError::Conflict(m) => AppError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(m) => AppError::bad_request(m),
            other if other.is_unavailable() => tongban_app::Error::unavailable(other).into(),
            other => AppError::internal(other),
        }
    }
}

impl From<tongban_store::catalog_file::ImportFailure> for AppError {
    fn from(e: tongban_store::catalog_file::ImportFailure) -> Self {
        match e {
            tongban_store::catalog_file::ImportFailure::File(f) => AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_refused",
                f.to_string(),
            ),
            tongban_store::catalog_file::ImportFailure::Store(s) => s.into(),
        }
    }
}

/// An error answered as JSON (API routes).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// Seconds a client is asked to wait before retrying while storage is unavailable.
pub const RETRY_AFTER_SECONDS: &str = "30";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.0.code, "message": self.0.message });
        let mut res = (self.0.status, axum::Json(body)).into_response();
        if self.0.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        res
    }
}

/// An error answered as a page (browser routes).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "页面不存在",
            StatusCode::FORBIDDEN => "无权访问",
            StatusCode::UNAUTHORIZED => "请先登录",
            StatusCode::SERVICE_UNAVAILABLE => "暂停服务",
            s if s.is_server_error() => "系统错误",
            _ => "请求有误",
        };
        let body = format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} - 通办</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><header class=\"site\"><a class=\"brand\" href=\"/\">通办 · 政务服务网</a></header>\
             <main class=\"container\"><div class=\"card\"><h1>{title}</h1>\
             <p class=\"alert error\">{}</p><p><a class=\"btn\" href=\"/\">返回首页</a></p></div></main></body></html>",
            html_escape(&self.0.message)
        );
        let mut res = (self.0.status, Html(body)).into_response();
        if self.0.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        res
    }
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
