//! The province link on the web: the signed endpoints a reporting member posts events and
//! ledger checkpoints to, the outbox figures, reconciliation with a member, and the
//! provincial standard item list.

use crate::auth::SignedIn;
use crate::error::{ApiError, AppError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tongban_app::federation as fed;

/// A batch of at most 500 events; anything larger is refused unread.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// A standard list file (the catalog's import limit applies again when parsed).
const MAX_LIST_BYTES: usize = 20 * 1024 * 1024;

fn signed_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(AppError::from(tongban_app::Error::new(
            tongban_app::ErrorKind::TooLarge,
            "too_large",
            "上报消息过大",
        ))
        .into());
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("上报消息不是合法的 JSON：{e}")))?;
    if !v.is_object() {
        return Err(AppError::bad_request("上报消息应为 JSON 对象").into());
    }
    Ok(v)
}

/// Reported events from a member: authenticated by the message's signatures.
pub async fn api_events(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let msg = signed_body(&body)?;
    Ok(Json(fed::receive_events(&state, &msg).await?))
}

/// A member's ledger checkpoint with its consistency proof.
pub async fn api_checkpoints(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let msg = signed_body(&body)?;
    Ok(match fed::receive_checkpoint(&state, &msg).await? {
        fed::CheckpointOutcome::Kept(v) => Json(v).into_response(),
        fed::CheckpointOutcome::StaleFrom(size) => (
            StatusCode::CONFLICT,
            Json(json!({
                "code": "stale_from",
                "message": format!("本方保存的检查点为 {size} 条，请据此提供一致性证明"),
                "checkpoint_size": size,
            })),
        )
            .into_response(),
    })
}

pub async fn api_outbox(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let c = fed::outbox(&state, &user).await?;
    Ok(Json(
        json!({"pending": c.pending, "delivered": c.delivered, "failed": c.failed}),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// The member's code (6-digit 行政区划代码 or 统一社会信用代码).
    #[serde(default)]
    member: Option<String>,
}

pub async fn api_reconciliation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<MemberQuery>,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(
        &state,
        &user,
        tongban_core::capability::Capability::ReadAuditLog,
    )
    .await?;
    let Some(member) = q.member.filter(|m| !m.trim().is_empty()) else {
        return Err(AppError::bad_request("请写明成员代码（member）").into());
    };
    Ok(Json(fed::reconciliation(&state, &user, &member).await?))
}

fn differences_json(n: usize, d: &[tongban_core::federation::Difference]) -> Value {
    json!({"items": n, "differences": d})
}

/// The provincial standard list and its differences from the local catalog.
pub async fn api_standard_items(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let (n, d) = fed::standard_differences(&state, &user).await?;
    Ok(Json(differences_json(n, &d)))
}

/// Replaces the provincial standard list (the catalog's CSV or XLSX import format, as the
/// request body).
pub async fn api_import_standard_items(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(
        &state,
        &user,
        tongban_core::capability::Capability::Administer,
    )
    .await?;
    if body.len() > MAX_LIST_BYTES {
        return Err(AppError::from(tongban_app::Error::new(
            tongban_app::ErrorKind::TooLarge,
            "too_large",
            "省级标准事项清单过大",
        ))
        .into());
    }
    let (n, d) = fed::import_standard(&state, &user, "省级标准事项清单", &body).await?;
    Ok(Json(differences_json(n, &d)))
}

// ---- 跨域通办 ---------------------------------------------------------------------------------

/// A receiving window forwards an application for another member's item.
pub async fn api_cross_receive(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<fed::CrossInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let v = fed::receive_for_owner(&state, &user, &b).await?;
    Ok((StatusCode::CREATED, Json(json!(v))))
}

/// The owner takes a signed receipt attestation with its materials.
pub async fn api_cross_take(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let msg = signed_body(&body)?;
    Ok(Json(fed::take_receipt(&state, &msg).await?))
}

/// The receiver takes the owner's signed answer.
pub async fn api_cross_status(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let msg = signed_body(&body)?;
    Ok(Json(fed::take_status(&state, &msg).await?))
}

pub async fn api_cross_view(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(fed::cross_view(&state, &user, &id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `accept` or `refuse`.
    decision: String,
    #[serde(default)]
    reasons: String,
}

pub async fn api_cross_decide(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
    Json(b): Json<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(
        &state,
        &user,
        tongban_core::capability::Capability::ReceiveAtWindow,
    )
    .await?;
    let accept = match b.decision.as_str() {
        "accept" | "接收" => true,
        "refuse" | "不予接收" => false,
        _ => return Err(AppError::bad_request("decision 应为 accept 或 refuse").into()),
    };
    let v = fed::decide_receipt(&state, &user, &id, accept, &b.reasons).await?;
    Ok(Json(json!(v)))
}
