//! Public ledger transparency API: signed checkpoints, exact leaf bytes, inclusion and
//! consistency proofs (RFC 6962 hashing), verifiable by any independent implementation.

use crate::error::{ApiError, AppError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Cap on the leaves one `entries` request may ask for.
const MAX_ENTRIES: u64 = 1000;

pub async fn checkpoint(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let c = state.store.checkpoint(state.now()).await?;
    Ok(Json(json!(c)))
}

pub async fn keys(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys: Vec<Value> = state
        .store
        .ledger_keys()
        .await?
        .into_iter()
        .map(|(id, public, created, retired)| json!({ "key_id": id, "algorithm": "Ed25519", "public_key": public, "created_at": created, "retired_at": retired }))
        .collect();
    Ok(Json(
        json!({ "origin": tongban_store::ledger::ORIGIN, "keys": keys }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    start: u64,
    end: u64,
    /// The ledger partition (needed when the ledger has several; see the checkpoint's
    /// `partitions`). Indexes are within the partition.
    partition: Option<u32>,
}

/// The exact leaf bytes carry what happened on each case (actors, reasons, file names), so
/// they are for auditors, supervisors and administrators; checkpoints and proofs, which are
/// hashes only, stay public.
pub async fn entries(
    State(state): State<AppState>,
    crate::auth::SignedIn(user): crate::auth::SignedIn,
    Query(r): Query<Range>,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(
        &state,
        &user,
        tongban_core::capability::Capability::ReadLedgerEntries,
    )
    .await?;
    let part = state.store.ledger_partition_arg(r.partition)?;
    let size = state.store.partition_size(part).await?;
    if r.start >= r.end || r.end > size {
        return Err(AppError::bad_request(format!("需要 0 ≤ start < end ≤ {size}")).into());
    }
    if r.end - r.start > MAX_ENTRIES {
        return Err(AppError::bad_request(format!("一次最多取 {MAX_ENTRIES} 条")).into());
    }
    Ok(Json(
        json!({ "entries": state.store.ledger_leaves_in(part, r.start, r.end).await? }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    index: u64,
    #[param(minimum = 1)]
    size: u64,
    /// The ledger partition (needed when the ledger has several): `index` and `size` are
    /// within it, the root is the partition's root listed in a checkpoint.
    partition: Option<u32>,
}

/// O(log n): assembled from the stored subtree hashes, never from the leaves.
pub async fn inclusion(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    let part = state.store.ledger_partition_arg(q.partition)?;
    let size = state.store.partition_size(part).await?;
    if q.size == 0 || q.size > size || q.index >= q.size {
        return Err(AppError::bad_request(format!("需要 index < size ≤ {size}")).into());
    }
    Ok(Json(json!(
        state
            .store
            .inclusion_proof_in(part, q.index, q.size)
            .await?
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    #[param(minimum = 1)]
    from: u64,
    #[param(minimum = 1)]
    to: u64,
    /// A partition's own proof between its sizes `from` and `to`. Without it: the whole
    /// ledger (with several partitions, between the signed checkpoints of sizes `from` and
    /// `to`, one proof per partition).
    partition: Option<u32>,
}

/// O(log n): assembled from the stored subtree hashes, never from the leaves.
pub async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<Value>, ApiError> {
    let size = match q.partition {
        Some(p) => {
            let part = state.store.ledger_partition_arg(Some(p))?;
            state.store.partition_size(part).await?
        }
        None => state.store.ledger_size().await?,
    };
    if q.from == 0 || q.from > q.to || q.to > size {
        return Err(AppError::bad_request(format!("需要 0 < from ≤ to ≤ {size}")).into());
    }
    Ok(Json(json!(match q.partition {
        Some(p) => state.store.consistency_proof_in(p, q.from, q.to).await?,
        None => state.store.consistency_proof(q.from, q.to).await?,
    })))
}
