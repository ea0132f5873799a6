//! Response hardening applied to every answer: security headers, no caching of what a
//! signed-in user sees, `Secure` cookies over HTTPS, and a 405 for methods the platform
//! does not serve.

use crate::auth::Personal;
use crate::error::{ApiError, AppError};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, SET_COOKIE, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The pages use no scripts and no inline styles; charts are inline SVG and QR codes are
/// `data:` images.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'none'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// True when the request reached the platform over HTTPS: the public URL is https, or a
/// proxy in front says so with `X-Forwarded-Proto: https`.
pub fn over_https(state: &AppState, req: &Request) -> bool {
    state.base_url.starts_with("https://")
        || req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = over_https(&state, &req);
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let personal = res.extensions().get::<Personal>().is_some();
    let has_cookie = res.headers().contains_key(SET_COOKIE);
    let h = res.headers_mut();
    // A response that set its own policy (the calling screen's own script, a material
    // served in place) keeps it.
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        );
    }
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.base_url.starts_with("https://") {
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    // What a signed-in user sees (their cases, personal data, tokens) and anything that
    // sets a cookie stays out of shared and browser caches.
    if (personal || has_cookie) && !is_static {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        let cookies: Vec<HeaderValue> = h.get_all(SET_COOKIE).iter().cloned().collect();
        h.remove(SET_COOKIE);
        for c in cookies {
            let secured = match c.to_str() {
                Ok(s) if !s.contains("; Secure") => {
                    HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
                }
                _ => c,
            };
            h.append(SET_COOKIE, secured);
        }
    }
    res
}

/// TRACE, CONNECT and methods of other protocols are answered 405 before anything else
/// looks at them (on the API as `{code, message}`).
pub async fn methods(req: Request, next: Next) -> Response {
    let served = matches!(
        *req.method(),
        Method::GET
            | Method::HEAD
            | Method::POST
            | Method::PUT
            | Method::PATCH
            | Method::DELETE
            | Method::OPTIONS
    );
    // An API path answers 405 (with `Allow`) for a method it does not serve, before the
    // CSRF and sign-in checks could answer 403 or 401 for it.
    let api_methods = if req.uri().path().starts_with("/api/") {
        crate::openapi::methods_for(req.uri().path())
    } else {
        Vec::new()
    };
    let method = req.method().as_str().to_ascii_lowercase();
    let serves = |m: &str| api_methods.contains(&m);
    let api_refuses =
        !(api_methods.is_empty() || serves(method.as_str()) || (method == "head" && serves("get")));
    if served && !api_refuses {
        return next.run(req).await;
    }
    let e = AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("不支持 {} 请求方法", req.method()),
    );
    if req.uri().path().starts_with("/api/") {
        let mut res = ApiError(e).into_response();
        let allow = api_methods
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(v) = HeaderValue::from_str(&allow) {
            res.headers_mut().insert(axum::http::header::ALLOW, v);
        }
        res
    } else {
        crate::error::PageError(e).into_response()
    }
}
