//! Written notices (文书) of a case: the list in the API, and each notice's PDF and its
//! detached signature file for download (ADR 0009).

use crate::auth::SignedIn;
use crate::error::{ApiError, AppError, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// `GET /api/v1/cases/{no}/notices`: the notices with their download links.
pub async fn api_list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let list = tongban_app::notices::list(&state, &user, &no).await?;
    let notices: Vec<Value> = list
        .iter()
        .map(|n| {
            let mut v = json!(n);
            v["pdf"] = json!(format!("/cases/{no}/notices/{}.pdf", n.n));
            v["signature"] = json!(format!("/cases/{no}/notices/{}.sig.json", n.n));
            v
        })
        .collect();
    Ok(Json(json!({ "case_no": no, "notices": notices })))
}

/// `GET /cases/{no}/notices/{n}.pdf` and `GET /cases/{no}/notices/{n}.sig.json`.
pub async fn file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((no, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    // The case is read (and the reader checked) before the file name is looked at, so a
    // case that may not be read answers the same whatever the name.
    tongban_app::cases::case_for(&state, &user, &no).await?;
    let not_found = || AppError::from(tongban_app::Error::not_found(format!("没有文书 {file}")));
    let (n, pdf) = if let Some(n) = file.strip_suffix(".pdf") {
        (n, true)
    } else if let Some(n) = file.strip_suffix(".sig.json") {
        (n, false)
    } else {
        return Err(not_found().into());
    };
    let n: u32 = n.parse().map_err(|_| not_found())?;
    let r = tongban_app::notices::render(&state, &user, &no, n).await?;
    let name = format!("notice-{no}-{n}");
    Ok(if pdf {
        (
            [
                (CONTENT_TYPE, "application/pdf".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("inline; filename=\"{name}.pdf\""),
                ),
            ],
            r.pdf,
        )
            .into_response()
    } else {
        (
            [
                (CONTENT_TYPE, "application/json".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.sig.json\""),
                ),
            ],
            serde_json::to_string_pretty(&r.signature).unwrap_or_default(),
        )
            .into_response()
    })
}
