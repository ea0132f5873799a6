//! Sessions, CSRF and the guard extractors that put authorization in handler signatures.

use crate::error::{ApiError, AppError, PageError};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tongban_store::accounts::User;

pub const SESSION_COOKIE: &str = "tb_session";
pub const CSRF_COOKIE: &str = "tb_csrf";
pub const CSRF_FIELD: &str = "_csrf";
/// Where a user whose password must be changed is sent.
pub const PASSWORD_PAGE: &str = "/account/password";

/// Who is asking (resolved once per request by [`resolve_session`]).
#[derive(Clone, Debug, Default)]
pub struct Viewer {
    pub user: Option<User>,
    pub token: Option<String>,
    /// The session came from an `Authorization: Bearer` header (API clients), not a cookie.
    pub bearer: bool,
    /// 适老化 mode: large type and high contrast, kept in the [`SENIOR_COOKIE`] cookie.
    pub senior: bool,
    /// The request's path (the menu marks its page with `aria-current`).
    pub path: String,
    /// An applicant's unread messages (the header's badge); 0 for API requests and staff.
    pub unread: i64,
}

/// The 适老化 switch (`1` = on); a display preference, not a secret.
pub const SENIOR_COOKIE: &str = "tb_senior";

/// The CSRF token for forms on this page.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token of a signed-in browser session, derived from its (secret, HttpOnly)
/// session token: a token copied from another session does not match this one.
pub fn session_csrf(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tongban-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..24])
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Marks a response as answering a signed-in user: it is not to be cached.
#[derive(Clone, Copy, Debug)]
pub struct Personal;

fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

pub fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
        tongban_store::accounts::SESSION_HOURS * 3600
    ))
    .expect("cookie header")
}

pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("tb_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// Resolves the session, and enforces CSRF on state-changing requests:
/// - browser forms must send the page's token in the `_csrf` field or query parameter: for a
///   signed-in session a token derived from the session token ([`session_csrf`]), before
///   signing in the `tb_csrf` cookie (double-submit; the cookie is SameSite=Strict);
/// - API writes must either carry a bearer token or be JSON (which a cross-site form cannot send).
pub async fn resolve_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string());
    let cookie_token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
    let mut viewer = Viewer {
        bearer: bearer.is_some(),
        token: bearer.or(cookie_token),
        user: None,
        senior: cookie(&parts.headers, SENIOR_COOKIE) == Some("1"),
        path: parts.uri.path().chars().take(300).collect(),
        unread: 0,
    };
    if let Some(t) = &viewer.token {
        match tongban_app::security::session_user(&state, t).await {
            Ok(u) => viewer.user = u,
            Err(e) => {
                let e = AppError::from(e);
                // (storage unavailable answers 503 here, before any handler)
                return if parts.uri.path().starts_with("/api/") {
                    ApiError(e).into_response()
                } else {
                    PageError(e).into_response()
                };
            }
        }
    }
    // A user whose password an administrator reset may only change it (or sign out).
    if viewer.user.as_ref().is_some_and(|u| u.must_change_password)
        && !may_pass_before_password_change(&parts.method, parts.uri.path())
    {
        return if parts.uri.path().starts_with("/api/") {
            ApiError(AppError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "管理员已重置您的密码，请先修改密码（POST /api/v1/me/password）",
            ))
            .into_response()
        } else {
            Redirect::to(PASSWORD_PAGE).into_response()
        };
    }
    // The header's message badge, on pages only.
    if let Some(u) = &viewer.user {
        if !parts.uri.path().starts_with("/api/")
            && tongban_core::capability::holds(u.role, tongban_core::capability::Capability::Apply)
        {
            viewer.unread = state
                .store
                .unread_messages_of_user(u.id)
                .await
                .unwrap_or_default();
        }
    }
    let csrf_cookie = cookie(&parts.headers, CSRF_COOKIE).map(str::to_string);
    // Signed in through the cookie: the form token is bound to the session. Otherwise (not
    // signed in yet) the double-submit cookie.
    let session_bound = match (&viewer.user, &viewer.token, viewer.bearer) {
        (Some(_), Some(t), false) => Some(session_csrf(t)),
        _ => None,
    };
    let expected_csrf = session_bound.clone().or_else(|| csrf_cookie.clone());
    let anonymous_csrf = csrf_cookie.clone().unwrap_or_else(random_token);
    let csrf = session_bound.unwrap_or_else(|| anonymous_csrf.clone());
    let is_api = parts.uri.path().starts_with("/api/");
    let unsafe_method = matches!(
        parts.method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let mut body = Body::new(body);
    if unsafe_method {
        if is_api {
            let json = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            // Logging in is the one API write that has no session yet.
            if !viewer.bearer && !json {
                return ApiError(AppError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "API写操作需使用 Bearer 令牌或 JSON 请求体",
                ))
                .into_response();
            }
        } else {
            let from_query = parts.uri.query().and_then(|q| url_param(q, CSRF_FIELD));
            let is_form = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let is_multipart = parts
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("multipart/form-data"));
            let mut sent = from_query;
            if sent.is_none() && is_multipart {
                // Issue #12: upload forms carry the token as a field too, so no token shows
                // in the address bar; the body is read once here and handed on.
                let bytes = match axum::body::to_bytes(body, crate::MAX_UPLOAD_BYTES).await {
                    Ok(b) => b,
                    Err(_) => {
                        return PageError(AppError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "too_large",
                            "上传内容过大",
                        ))
                        .into_response()
                    }
                };
                sent = multipart_field(&bytes, CSRF_FIELD);
                body = Body::from(bytes);
            }
            if sent.is_none() && is_form {
                let bytes = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
                    Ok(b) => b,
                    Err(_) => {
                        return PageError(AppError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "too_large",
                            "表单内容过大",
                        ))
                        .into_response()
                    }
                };
                sent = url_param(std::str::from_utf8(&bytes).unwrap_or(""), CSRF_FIELD);
                body = Body::from(bytes);
            }
            let ok = matches!((&expected_csrf, &sent), (Some(c), Some(s)) if !c.is_empty() && same_token(c, s));
            if !ok {
                return PageError(AppError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试",
                ))
                .into_response();
            }
        }
    }
    let personal = viewer.user.is_some();
    parts.extensions.insert(viewer);
    parts.extensions.insert(CsrfToken(csrf.clone()));
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if personal {
        res.extensions_mut().insert(Personal);
    }
    if csrf_cookie.is_none() {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{CSRF_COOKIE}={anonymous_csrf}; SameSite=Strict; Path=/; HttpOnly"
        )) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

fn may_pass_before_password_change(method: &Method, path: &str) -> bool {
    path.starts_with("/static/")
        || matches!(
            path,
            "/account/password" | "/logout" | "/api/v1/me" | "/api/v1/me/password" | "/healthz"
        )
        || (path == "/api/v1/session" && *method == Method::DELETE)
}

fn url_param(query: &str, name: &str) -> Option<String> {
    url_decode_pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    percent_decode(&s.replace('+', " "))
}

/// Decodes `%XX` escapes; None when the result is not UTF-8 or an escape is malformed.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let h = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .unwrap_or(CsrfToken(String::new())))
    }
}

/// Why a guard refused: answered as JSON on API paths, as a redirect or page otherwise.
pub struct GuardRejection {
    api: bool,
    signed_in: bool,
    path: String,
}

impl IntoResponse for GuardRejection {
    fn into_response(self) -> Response {
        match (self.api, self.signed_in) {
            (true, false) => ApiError(AppError::unauthorized()).into_response(),
            (true, true) => ApiError(AppError::forbidden()).into_response(),
            (false, false) => {
                let next: String = url_encode(&self.path);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            (false, true) => PageError(AppError::forbidden()).into_response(),
        }
    }
}

pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn guard(parts: &Parts, allowed: impl Fn(&User) -> bool) -> Result<User, GuardRejection> {
    let viewer = parts
        .extensions
        .get::<Viewer>()
        .cloned()
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let rejection = |signed_in| GuardRejection {
        api: parts.uri.path().starts_with("/api/"),
        signed_in,
        path: path.clone(),
    };
    match viewer.user {
        None => Err(rejection(false)),
        Some(u) if allowed(&u) => Ok(u),
        Some(_) => Err(rejection(true)),
    }
}

/// Any signed-in user.
pub struct SignedIn(pub User);
/// An administrator (系统管理员).
pub struct Admin(pub User);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = GuardRejection;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        guard(parts, |_| true).map(SignedIn)
    }
}

/// Administration (capability `Administer`); a refused signed-in user is audited.
impl FromRequestParts<crate::AppState> for Admin {
    type Rejection = GuardRejection;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        use tongban_core::capability::{holds, Capability};
        match guard(parts, |u| holds(u.role, Capability::Administer)) {
            Ok(u) => Ok(Admin(u)),
            Err(rejection) => {
                if let Some(u) = parts
                    .extensions
                    .get::<Viewer>()
                    .and_then(|v| v.user.clone())
                {
                    tongban_app::authz::refused(
                        state,
                        &u,
                        Capability::Administer,
                        parts.uri.path(),
                        tongban_app::authz::Refuse::Forbidden,
                    )
                    .await;
                }
                Err(rejection)
            }
        }
    }
}

/// A short text field of a multipart body (the CSRF token), found by its part header.
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = body
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())?;
    let rest = &body[at + marker.len()..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    let v = std::str::from_utf8(&value[..end.min(200)]).ok()?;
    Some(v.trim().to_string())
}
