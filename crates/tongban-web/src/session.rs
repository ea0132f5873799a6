//! Signing in and out, for browsers (cookie) and API clients (bearer token).

use crate::auth::{clear_session_cookie, session_cookie, CsrfToken, SignedIn, Viewer};
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use tongban_app::security;
use tongban_store::accounts::User;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    error: String,
    next: String,
    username: String,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only same-site absolute paths may be a redirect target after login. Browsers drop tabs
/// and newlines from URLs and read `\\` as `/`, so `/\t/evil.example` would leave the site:
/// anything with a control character, a backslash or whitespace, or whose decoded form
/// starts with `//`, falls back to `/`. (Control characters also cannot go into a header.)
pub fn safe_next(next: &str) -> String {
    fn acceptable(p: &str) -> bool {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    let decoded = crate::auth::percent_decode(next).unwrap_or_default();
    if acceptable(next) && acceptable(&decoded) && next.len() <= 2048 {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub async fn login_page(
    viewer: Viewer,
    csrf: CsrfToken,
    Query(q): Query<NextQuery>,
) -> Result<Html<String>, PageError> {
    render(LoginPage {
        ctx: PageCtx::new(&viewer, &csrf),
        error: String::new(),
        next: safe_next(&q.next),
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a user whose password was reset must change it first.
fn after_login(user: &User, next: &str) -> String {
    if user.must_change_password {
        PASSWORD_PAGE.to_string()
    } else {
        safe_next(next)
    }
}

pub use crate::auth::PASSWORD_PAGE;

pub async fn login_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    ConnectInfoAddr(client): ConnectInfoAddr,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    match security::login(&state, &f.username, &f.password, &client).await? {
        Ok((user, token)) => {
            tracing::info!(user = %user.username, "signed in");
            let mut res = Redirect::to(&after_login(&user, &f.next)).into_response();
            res.headers_mut().append(SET_COOKIE, session_cookie(&token));
            Ok(res)
        }
        Err(e) => {
            // The same answer whatever the cause: no hint that the account exists.
            let page = render(LoginPage {
                ctx: PageCtx::new(&viewer, &csrf),
                error: e.to_string(),
                next: safe_next(&f.next),
                username: f.username,
            })?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if let Some(t) = &viewer.token {
        security::logout(&state, viewer.user.as_ref(), t).await?;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(SET_COOKIE, clear_session_cookie());
    Ok(res)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ApiLogin {
    username: String,
    password: String,
}

pub async fn api_login(
    State(state): State<AppState>,
    ConnectInfoAddr(client): ConnectInfoAddr,
    Json(body): Json<ApiLogin>,
) -> Result<Response, ApiError> {
    match security::login(&state, &body.username, &body.password, &client).await? {
        Ok((user, token)) => Ok(Json(serde_json::json!({
            "token": token,
            "user": { "username": user.username, "display_name": user.display_name, "role": user.role, "department_id": user.department_id },
            "must_change_password": user.must_change_password,
        }))
        .into_response()),
        Err(e) => Err(ApiError(AppError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()))),
    }
}

pub async fn api_logout(
    State(state): State<AppState>,
    viewer: Viewer,
    SignedIn(user): SignedIn,
) -> Result<StatusCode, ApiError> {
    if let Some(t) = &viewer.token {
        security::logout(&state, Some(&user), t).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn api_me(SignedIn(user): SignedIn) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "department_id": user.department_id,
        "must_change_password": user.must_change_password,
    }))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    ctx: PageCtx,
    forced: bool,
    done: bool,
    error: String,
    rule: String,
}

fn rule_for(user: &User) -> String {
    if user.role.is_applicant() {
        format!(
            "密码至少{}位，须同时包含字母和数字。",
            tongban_core::password::APPLICANT_MIN_CHARS
        )
    } else {
        format!(
            "工作人员密码至少{}位，须包含大写字母、小写字母、数字、符号中的至少三类。",
            tongban_core::password::STAFF_MIN_CHARS
        )
    }
}

pub async fn password_page(
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    render(PasswordPage {
        ctx: PageCtx::new(&viewer, &csrf),
        forced: user.must_change_password,
        done: false,
        error: String::new(),
        rule: rule_for(&user),
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let result = if f.new != f.confirm {
        Err(tongban_app::Error::invalid("两次输入的新密码不一致"))
    } else {
        security::change_own_password(&state, &user, &f.current, &f.new, viewer.token.as_deref())
            .await
    };
    let (status, done, error) = match result {
        Ok(()) => (StatusCode::OK, true, String::new()),
        Err(e) if e.kind == tongban_app::ErrorKind::Invalid => {
            (StatusCode::UNPROCESSABLE_ENTITY, false, e.message)
        }
        Err(e) => return Err(e.into()),
    };
    let page = render(PasswordPage {
        ctx: PageCtx::new(&viewer, &csrf),
        forced: user.must_change_password && !done,
        done,
        error,
        rule: rule_for(&user),
    })?;
    Ok((status, page).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ApiPassword {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password`: change one's own password.
pub async fn api_change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    SignedIn(user): SignedIn,
    Json(body): Json<ApiPassword>,
) -> Result<StatusCode, ApiError> {
    security::change_own_password(
        &state,
        &user,
        &body.current_password,
        &body.new_password,
        viewer.token.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The client's address (from the connection).
pub struct ConnectInfoAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ConnectInfoAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ConnectInfoAddr(crate::client_address(&parts.extensions)))
    }
}
