//! The material viewer (issue #12): a case's uploaded file served in place for those who
//! may see it, with the type recognised at upload, never guessed by the browser.

use crate::auth::SignedIn;
use crate::error::PageError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};

/// A PDF needs the browser's viewer (a plugin: `object-src 'self'`); nothing in the file may
/// run script, load from elsewhere or be framed by another site.
const PDF_POLICY: &str = "default-src 'none'; object-src 'self'; img-src 'self' data:; \
     style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
const OTHER_POLICY: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox";

/// `GET /cases/{no}/materials/{n}`: material `n` (from 1) of the case.
pub async fn view(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((no, n)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let n: usize = match n.parse() {
        Ok(n) if n >= 1 => n,
        _ => {
            // The case is checked first, so a case that may not be read answers the same
            // whatever the material number.
            tongban_app::cases::case_for(&state, &user, &no).await?;
            return Err(
                crate::error::AppError::from(tongban_app::Error::not_found(format!(
                    "办件 {no} 没有材料 {n}"
                )))
                .into(),
            );
        }
    };
    let f = tongban_app::materials::open(&state, &user, &no, n).await?;
    let disposition = format!(
        "{}; filename=\"{}\"",
        if f.inline { "inline" } else { "attachment" },
        f.download_name
    );
    let policy = if f.media_type == "application/pdf" {
        PDF_POLICY
    } else {
        OTHER_POLICY
    };
    Ok((
        [
            (CONTENT_TYPE, f.media_type),
            (CONTENT_DISPOSITION, disposition),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (CONTENT_SECURITY_POLICY, policy.to_string()),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        f.bytes,
    )
        .into_response())
}
