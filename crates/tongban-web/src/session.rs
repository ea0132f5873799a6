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
use tongban_store::accounts::LoginError;

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

/// Only same-site paths may be a redirect target after login.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
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

pub async fn login_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    match state
        .store
        .login(&f.username, &f.password, state.now())
        .await?
    {
        Ok((user, token)) => {
            tracing::info!(user = %user.username, "signed in");
            let mut res = Redirect::to(&safe_next(&f.next)).into_response();
            res.headers_mut().append(SET_COOKIE, session_cookie(&token));
            Ok(res)
        }
        Err(e) => {
            let status = match e {
                LoginError::Locked(_) => StatusCode::LOCKED,
                LoginError::BadCredentials => StatusCode::UNAUTHORIZED,
            };
            let page = render(LoginPage {
                ctx: PageCtx::new(&viewer, &csrf),
                error: e.to_string(),
                next: safe_next(&f.next),
                username: f.username,
            })?;
            Ok((status, page).into_response())
        }
    }
}

pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if let Some(t) = &viewer.token {
        state.store.logout(t).await?;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(SET_COOKIE, clear_session_cookie());
    Ok(res)
}

#[derive(Deserialize)]
pub struct ApiLogin {
    username: String,
    password: String,
}

pub async fn api_login(
    State(state): State<AppState>,
    Json(body): Json<ApiLogin>,
) -> Result<Response, ApiError> {
    match state.store.login(&body.username, &body.password, state.now()).await? {
        Ok((user, token)) => Ok(Json(serde_json::json!({
            "token": token,
            "user": { "username": user.username, "display_name": user.display_name, "role": user.role, "department_id": user.department_id },
        }))
        .into_response()),
        Err(e @ LoginError::Locked(_)) => Err(ApiError(AppError::new(StatusCode::LOCKED, "locked", e.to_string()))),
        Err(e) => Err(ApiError(AppError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()))),
    }
}

pub async fn api_logout(
    State(state): State<AppState>,
    viewer: Viewer,
    SignedIn(_): SignedIn,
) -> Result<StatusCode, ApiError> {
    if let Some(t) = &viewer.token {
        state.store.logout(t).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn api_me(SignedIn(user): SignedIn) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "department_id": user.department_id,
    }))
}
