//! JSON API under /api/v1. Same rules as the pages; errors are `{code, message}`.

use crate::auth::{Admin, SignedIn};
use crate::error::{ApiError, AppError};
use crate::forms::read_import_parts;
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tongban_app::accounts::create_user as create_user_with;
use tongban_app::catalog::{export_file, import_owned as run_import};
use tongban_app::catalog::{find_items, ItemQuery, PAGE_SIZE};
use tongban_core::catalog::{
    four_same_report, themes_of, Item, Material, ITEM_COLUMNS, MATERIAL_COLUMNS, THEMES,
};
use tongban_core::ids::Uscc;
use tongban_store::catalog::{HallKind, ItemStatus, StoredItem};

/// The catalog has about a thousand items; no client needs a page past this.
const MAX_PAGE: usize = 10_000;

fn item_json(i: &StoredItem) -> Value {
    let cols: Map<String, Value> = ITEM_COLUMNS
        .iter()
        .zip(i.item.to_columns())
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    let materials: Vec<Value> = i
        .materials
        .iter()
        .map(|m| {
            Value::Object(
                MATERIAL_COLUMNS
                    .iter()
                    .zip(m.to_columns())
                    .map(|(k, v)| (k.to_string(), Value::String(v)))
                    .collect(),
            )
        })
        .collect();
    let level = i.item.depth_level();
    json!({
        "impl_code": i.item.impl_code,
        "name": i.item.name,
        "status": if i.status == ItemStatus::Active { "active" } else { "retired" },
        "version": i.version,
        "depth_level": level.number(),
        "application": i.item.item_type.is_application(),
        "themes": themes_of(&i.item.name),
        "department_id": i.department_id,
        "hall_id": i.hall_id,
        "updated_at": i.updated_at,
        "columns": cols,
        "materials": materials,
    })
}

pub async fn list_items(
    State(state): State<AppState>,
    Query(q): Query<ItemQuery>,
) -> Result<Json<Value>, ApiError> {
    if q.page.is_some_and(|p| p > MAX_PAGE) {
        return Err(AppError::bad_request(format!("page 最大为 {MAX_PAGE}")).into());
    }
    let view = state.catalog().await?;
    let hits = find_items(&view, &q);
    let page = q.page.unwrap_or(1).max(1);
    let items: Vec<Value> = hits
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|i| item_json(i))
        .collect();
    Ok(Json(
        json!({ "total": hits.len(), "page": page, "page_size": PAGE_SIZE, "items": items }),
    ))
}

pub async fn get_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    let i = view
        .get(&code)
        .ok_or_else(|| AppError::not_found(format!("没有实施编码为 {code} 的事项")))?;
    Ok(Json(item_json(i)))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// A breakdown to add: per department or per hall.
    #[serde(default)]
    #[param(pattern = "^(department|hall)?$")]
    by: String,
    /// 市本级 / 县区 / 乡镇 (city, county, township).
    #[serde(default)]
    level: Option<String>,
    /// A 行政区划代码 (of the item's department).
    #[serde(default)]
    district: Option<String>,
}

pub async fn catalog_stats(
    State(state): State<AppState>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    let level = match q.level.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => Some(
            tongban_app::analytics::Level::parse(l)
                .ok_or_else(|| AppError::bad_request(format!("未知的层级 {l}")))?,
        ),
        None => None,
    };
    let district = q.district.as_deref().filter(|d| !d.is_empty());
    let f = tongban_app::analytics::catalog_figures(&view, level, district);
    let mut v = serde_json::to_value(&f.stats).map_err(AppError::internal)?;
    match q.by.as_str() {
        "" => {}
        "department" => {
            v["by_department"] = f
                .by_department
                .iter()
                .map(|(d, s)| json!({ "department_id": d.id, "code": d.code, "name": d.name, "stats": s }))
                .collect();
        }
        "hall" => {
            v["by_hall"] = f
                .by_hall
                .iter()
                .map(|(h, s)| json!({ "hall": h, "stats": s }))
                .collect();
        }
        other => {
            return Err(AppError::bad_request(format!(
                "by 参数应为 department 或 hall，而不是 {other}"
            ))
            .into())
        }
    }
    v["definitions"] = tongban_core::indicators::DEFINITIONS
        .iter()
        .map(|(k, name, def)| json!({ "key": k, "name": name, "definition": def }))
        .collect();
    Ok(Json(v))
}

pub async fn departments(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    Ok(Json(json!(view
        .departments
        .iter()
        .map(|d| json!({ "id": d.id, "code": d.code, "name": d.name, "phone": d.phone, "retired": d.retired, "items": view.item_counts.get(&d.id).copied().unwrap_or(0) }))
        .collect::<Vec<_>>())))
}

pub async fn halls(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    let mut out = Vec::new();
    for h in &view.halls {
        let windows = state.store.hall_windows(h.id).await?;
        out.push(json!({ "id": h.id, "code": h.id.to_string(), "name": h.name, "kind": h.kind, "address": h.address, "hours": h.hours, "retired": h.retired, "windows": windows }));
    }
    Ok(Json(Value::Array(out)))
}

pub async fn themes(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    Ok(Json(json!(THEMES
        .iter()
        .map(|(slug, name, _)| json!({ "slug": slug, "name": name, "items": view.active().filter(|i| themes_of(&i.item.name).contains(slug)).count() }))
        .collect::<Vec<_>>())))
}

// ---- administration ------------------------------------------------------------------

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ItemBody {
    columns: HashMap<String, String>,
    #[serde(default)]
    materials: Vec<HashMap<String, String>>,
}

fn parse_item_body(
    body: &ItemBody,
    fixed_code: Option<&str>,
) -> Result<(Item, Vec<Material>), AppError> {
    if let Some(bad) = body
        .columns
        .keys()
        .find(|k| !ITEM_COLUMNS.contains(&k.as_str()))
    {
        return Err(AppError::bad_request(format!("未知的列：{bad}")));
    }
    let get = |c: &str| -> &str {
        if c == "实施编码" {
            if let Some(code) = fixed_code {
                return code;
            }
        }
        body.columns.get(c).map(String::as_str).unwrap_or("")
    };
    let item = Item::from_columns(get).map_err(|e| AppError::bad_request(e.to_string()))?;
    let mut materials = Vec::new();
    for (n, m) in body.materials.iter().enumerate() {
        if let Some(bad) = m.keys().find(|k| !MATERIAL_COLUMNS.contains(&k.as_str())) {
            return Err(AppError::bad_request(format!(
                "申请材料第{}项：未知的列 {bad}",
                n + 1
            )));
        }
        let get = |c: &str| -> &str {
            if c == "实施编码" {
                return &item.impl_code;
            }
            m.get(c).map(String::as_str).unwrap_or("")
        };
        materials.push(
            Material::from_columns(get)
                .map_err(|e| AppError::bad_request(format!("申请材料第{}项 {e}", n + 1)))?,
        );
    }
    Ok((item, materials))
}

pub async fn create_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Json(body): Json<ItemBody>,
) -> Result<Response, ApiError> {
    let (item, materials) = parse_item_body(&body, None)?;
    if state.store.item(&item.impl_code).await.is_ok() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("实施编码 {} 已存在", item.impl_code),
        )
        .into());
    }
    state
        .store
        .save_item(&u.username, &item, &materials, state.now())
        .await?;
    let stored = state.store.item(&item.impl_code).await?;
    Ok((StatusCode::CREATED, Json(item_json(&stored))).into_response())
}

pub async fn update_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Json(body): Json<ItemBody>,
) -> Result<Json<Value>, ApiError> {
    state.store.item(&code).await?;
    let (item, materials) = parse_item_body(&body, Some(&code))?;
    let outcome = state
        .store
        .save_item(&u.username, &item, &materials, state.now())
        .await?;
    let stored = state.store.item(&code).await?;
    let mut v = item_json(&stored);
    v["outcome"] = json!(outcome);
    Ok(Json(v))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReasonBody {
    #[serde(default)]
    reason: String,
}

pub async fn retire_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Json(b): Json<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    set_status(&state, &u.username, &code, true, &b.reason).await
}

pub async fn restore_item(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Json(b): Json<ReasonBody>,
) -> Result<Json<Value>, ApiError> {
    set_status(&state, &u.username, &code, false, &b.reason).await
}

async fn set_status(
    state: &AppState,
    actor: &str,
    code: &str,
    retire: bool,
    reason: &str,
) -> Result<Json<Value>, ApiError> {
    state
        .store
        .set_item_status(actor, code, retire, reason, state.now())
        .await?;
    Ok(Json(item_json(&state.store.item(code).await?)))
}

pub async fn item_versions(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.store.item_versions(&code).await?)))
}

pub async fn import(
    State(state): State<AppState>,
    Admin(u): Admin,
    mp: Multipart,
) -> Result<Json<Value>, ApiError> {
    let (file, bytes, materials) = read_import_parts(mp).await?;
    let report = run_import(&state, &u.username, file, bytes, materials).await?;
    Ok(Json(json!(report)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    #[serde(default)]
    #[param(pattern = "^(csv|xlsx)?$")]
    format: String,
    #[serde(default)]
    #[param(pattern = "^(items|materials)?$")]
    part: String,
}

pub async fn export(
    State(state): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (ct, name, bytes) = export_file(&state, &q.format, &q.part).await?;
    Ok((
        [
            (CONTENT_TYPE, ct.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn four_same(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    let items: Vec<Item> = view.active().map(|i| i.item.clone()).collect();
    Ok(Json(json!(four_same_report(&items))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DepartmentBody {
    code: String,
    name: String,
    #[serde(default)]
    phone: String,
}

pub async fn create_department(
    State(state): State<AppState>,
    Admin(u): Admin,
    Json(b): Json<DepartmentBody>,
) -> Result<Response, ApiError> {
    let code = Uscc::parse(&b.code).map_err(|e| AppError::bad_request(e.to_string()))?;
    let d = state
        .store
        .create_department(&u.username, &code, &b.name, &b.phone, state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(d))).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct HallBody {
    name: String,
    kind: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    hours: String,
}

pub async fn create_hall(
    State(state): State<AppState>,
    Admin(u): Admin,
    Json(b): Json<HallBody>,
) -> Result<Response, ApiError> {
    let kind = HallKind::parse(&b.kind).ok_or_else(|| {
        AppError::bad_request("kind 应为 comprehensive、sub_centre 或 department")
    })?;
    let h = state
        .store
        .create_hall(
            &u.username,
            &b.name,
            kind,
            &b.address,
            &b.hours,
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(h))).into_response())
}

pub async fn users(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.store.users().await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UserBody {
    username: String,
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    department_id: Option<i64>,
}

pub async fn create_user(
    State(state): State<AppState>,
    Admin(u): Admin,
    Json(b): Json<UserBody>,
) -> Result<Response, ApiError> {
    let user = create_user_with(
        &state,
        &u.username,
        &b.username,
        &b.display_name,
        &b.password,
        &b.role,
        b.department_id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(user))).into_response())
}

pub async fn unlock_user(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .unlock_user(&u.username, id, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    password: String,
}

/// `POST /api/v1/admin/users/{id}/password`: a temporary password the user must change at
/// the next sign-in.
pub async fn reset_password(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
    Path(id): Path<i64>,
    Json(body): Json<ResetBody>,
) -> Result<StatusCode, ApiError> {
    tongban_app::security::reset_password(&state, &admin, id, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/v1/audit`: the newest audit rows (auditors and administrators), with the
/// result of verifying the hash chain.
pub async fn audit_log(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let rows = tongban_app::security::audit_log(&state, &user, limit).await?;
    let v = tongban_app::security::verify_audit_log(&state).await?;
    Ok(Json(json!({
        "entries": rows,
        "chain": {
            "valid": v.first_problem.is_none(),
            "checked": v.checked,
            "unchained": v.unchained,
            "first_problem": v.first_problem.map(|(id, why)| json!({ "id": id, "reason": why })),
        }
    })))
}

/// `GET /api/v1/audit/export`: the whole audit log as CSV.
pub async fn audit_export(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<axum::response::Response, ApiError> {
    let bytes = tongban_app::security::audit_csv(&state, &user).await?;
    Ok(crate::admin::csv_download(bytes))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WorkflowBody {
    /// Approval steps in order: {name, role, limit_days}.
    #[schema(value_type = Vec<Object>)]
    steps: Vec<tongban_core::case::Step>,
    #[serde(default)]
    joint: bool,
    /// The item's own extension cap in working days (laws and regulations may set one).
    #[serde(default)]
    extension_cap: Option<u32>,
}

/// Configures an item's approval steps (role and optional limit per step).
pub async fn set_workflow(
    State(state): State<AppState>,
    Admin(u): Admin,
    Path(code): Path<String>,
    Json(b): Json<WorkflowBody>,
) -> Result<Json<Value>, ApiError> {
    let w = tongban_store::catalog::ItemWorkflow {
        steps: b.steps,
        joint: b.joint,
        extension_cap: b.extension_cap,
    };
    state
        .store
        .set_item_workflow(&u.username, &code, &w, state.now())
        .await?;
    Ok(Json(json!(w)))
}

pub async fn get_workflow(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.store.item(&code).await?;
    let w =
        state
            .store
            .item_workflow(&code)
            .await?
            .unwrap_or(tongban_store::catalog::ItemWorkflow {
                steps: tongban_core::case::default_steps(),
                joint: false,
                extension_cap: None,
            });
    Ok(Json(json!(w)))
}
