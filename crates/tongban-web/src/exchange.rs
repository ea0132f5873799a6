//! The 政务信息共享交换 exchange on the web: the member document and the signed exchange
//! endpoint peers call, the resource catalog (page, JSON, XLSX), grants, declared evidence,
//! purpose-bound calls, conditional requests, and the applicant's consent and list of every
//! access to their data.

use crate::auth::{CsrfToken, SignedIn, Viewer};
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tongban_app::clock::beijing_text;
use tongban_app::exchange as ex;
use tongban_core::capability::{holds, Capability};
use tongban_core::exchange::{Field, Resource, SharingClass};

/// A signed request is a small JSON document; anything larger is refused unread.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

pub async fn api_member(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let doc = ex::member_document(&state).await?;
    Ok(Json(json!(doc)))
}

/// The exchange endpoint: authenticated by the message's signatures, not by a session.
pub async fn api_exchange(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(AppError::from(tongban_app::Error::new(
            tongban_app::ErrorKind::TooLarge,
            "too_large",
            "交换消息过大",
        ))
        .into());
    }
    let msg: Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request(format!("交换消息不是合法的 JSON：{e}")))?;
    Ok(Json(ex::answer(&state, &msg).await?))
}

fn resource_json(r: &Resource) -> Value {
    json!({
        "code": r.code,
        "name": r.name,
        "provider": r.provider,
        "provider_code": r.provider_code,
        "summary": r.summary,
        "fields": r.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        "field_types": r.fields.iter().map(|f| f.kind.clone()).collect::<Vec<_>>(),
        "format": r.format,
        "update_cycle": r.update_cycle,
        "published_on": r.published_on.to_string(),
        "sharing_class": r.sharing_class.code(),
        "basis": r.basis,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    #[serde(default)]
    q: String,
}

pub async fn api_catalog(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(s): Query<Search>,
) -> Result<Json<Value>, ApiError> {
    let list = ex::catalog(&state, &user, Some(&s.q)).await?;
    Ok(Json(
        json!({ "resources": list.iter().map(resource_json).collect::<Vec<_>>() }),
    ))
}

pub async fn api_catalog_xlsx(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Response, ApiError> {
    let bytes = ex::catalog_xlsx(&state, &user).await?;
    Ok((
        [
            (
                CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"exchange-catalog.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A resource as published (fields given as names, or as {name, kind}).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PublishBody {
    code: String,
    name: String,
    provider: String,
    provider_code: String,
    #[serde(default)]
    summary: String,
    /// Field names, or {name, kind} objects.
    #[schema(value_type = Vec<Object>)]
    fields: Vec<Value>,
    #[serde(default)]
    format: String,
    #[serde(default)]
    update_cycle: String,
    #[serde(default)]
    published_on: Option<String>,
    sharing_class: String,
    #[serde(default)]
    basis: String,
}

pub async fn api_publish(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<PublishBody>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let fields = b
        .fields
        .iter()
        .map(|f| match f {
            Value::String(s) => Ok(Field {
                name: s.clone(),
                kind: String::new(),
            }),
            other => serde_json::from_value::<Field>(other.clone())
                .map_err(|_| AppError::bad_request("信息项应为名称或 {name, kind}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let published_on = match b.published_on.as_deref() {
        None | Some("") => state.today(),
        Some(d) => d
            .parse()
            .map_err(|_| AppError::bad_request(format!("发布日期不合规：{d}")))?,
    };
    let res = Resource {
        code: b.code.trim().to_string(),
        name: b.name,
        provider: b.provider,
        provider_code: b.provider_code,
        summary: b.summary,
        fields,
        format: b.format,
        update_cycle: b.update_cycle,
        published_on,
        sharing_class: SharingClass::parse(&b.sharing_class).map_err(AppError::bad_request)?,
        basis: b.basis,
    };
    ex::publish(&state, &user, &res).await?;
    Ok((axum::http::StatusCode::CREATED, Json(resource_json(&res))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GrantBody {
    resource: String,
    client_member: String,
    client_subsystem: String,
}

pub async fn api_grant(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<GrantBody>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    ex::grant(
        &state,
        &user,
        &b.resource,
        &b.client_member,
        &b.client_subsystem,
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(
            json!({"resource": b.resource, "client_member": b.client_member, "client_subsystem": b.client_subsystem}),
        ),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EvidenceBody {
    impl_code: String,
    resource: String,
    provider_member: String,
}

pub async fn api_evidence(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<EvidenceBody>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    ex::declare_evidence(&state, &user, &b.impl_code, &b.resource, &b.provider_member).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(
            json!({"impl_code": b.impl_code, "resource": b.resource, "provider_member": b.provider_member}),
        ),
    ))
}

pub async fn api_call(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<ex::CallInput>,
) -> Result<Json<Value>, ApiError> {
    let out = ex::call(&state, &user, &b).await?;
    Ok(Json(json!(out)))
}

pub async fn api_log(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(&state, &user, Capability::AdministerExchange).await?;
    let entries = state
        .store
        .exchange_log(q.request_id.as_deref(), 200)
        .await?;
    Ok(Json(json!({ "entries": entries })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    request_id: Option<String>,
}

pub async fn api_requests(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "requests": ex::requests(&state, &user).await? }),
    ))
}

pub async fn api_request(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<ex::RequestInput>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let r = ex::request_sharing(&state, &user, &b).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(r))))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AnswerBody {
    /// `grant` or `refuse` (also accepted: `granted: bool`).
    #[serde(default)]
    decision: String,
    #[serde(default)]
    granted: Option<bool>,
    #[serde(default)]
    reasons: String,
}

pub async fn api_answer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    Json(b): Json<AnswerBody>,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(&state, &user, Capability::AdministerExchange).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::bad_request(format!("共享申请编号不合规：{id}")))?;
    let grant_it = match (b.decision.as_str(), b.granted) {
        ("grant" | "granted" | "同意", _) | ("", Some(true)) => true,
        ("refuse" | "refused" | "不同意", _) | ("", Some(false)) => false,
        _ => {
            return Err(AppError::bad_request("decision 应为 grant 或 refuse").into());
        }
    };
    let r = ex::answer_request(&state, &user, id, grant_it, &b.reasons).await?;
    Ok(Json(json!(r)))
}

pub async fn api_consent(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resources = ex::consent(&state, &user, &no).await?;
    Ok(Json(json!({ "case_no": no, "resources": resources })))
}

pub async fn api_my_data_access(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = ex::my_data_access(&state, &user)
        .await?
        .into_iter()
        .map(|a| json!({"at": a.at, "who": a.who, "department": a.department, "member": a.member, "case_no": a.case_no, "resource": a.resource, "purpose": a.purpose}))
        .collect();
    Ok(Json(json!({ "accesses": list })))
}

// ---- pages ------------------------------------------------------------------------------

struct ResourceRow {
    code: String,
    name: String,
    provider: String,
    fields: String,
    format: String,
    cycle: String,
    published: String,
    class: &'static str,
    class_css: &'static str,
    basis: String,
}

struct RequestRow {
    id: i64,
    resource: String,
    client: String,
    purpose: String,
    on: String,
    due: String,
    status: &'static str,
    light: &'static str,
    light_label: &'static str,
}

#[derive(Template)]
#[template(path = "exchange_catalog.html")]
struct CatalogPage {
    ctx: PageCtx,
    q: String,
    rows: Vec<ResourceRow>,
    requests: Vec<RequestRow>,
}

pub async fn catalog_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(s): Query<Search>,
) -> Result<Html<String>, PageError> {
    let list = ex::catalog(&state, &user, Some(&s.q)).await?;
    let requests = if holds(user.role, Capability::RequestSharing)
        || holds(user.role, Capability::ReadSupervision)
    {
        ex::requests(&state, &user).await?
    } else {
        vec![]
    };
    render(CatalogPage {
        ctx: PageCtx::new(&viewer, &csrf),
        q: s.q,
        rows: list
            .iter()
            .map(|r| ResourceRow {
                code: r.code.clone(),
                name: r.name.clone(),
                provider: r.provider.clone(),
                fields: r
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                format: r.format.clone(),
                cycle: r.update_cycle.clone(),
                published: r.published_on.to_string(),
                class: r.sharing_class.label(),
                class_css: match r.sharing_class {
                    SharingClass::Unconditional => "ok",
                    SharingClass::Conditional => "warn",
                    SharingClass::NotShared => "bad",
                },
                basis: r.basis.clone(),
            })
            .collect(),
        requests: requests
            .into_iter()
            .map(|v| RequestRow {
                id: v.request.id,
                resource: v.request.resource_code,
                client: format!("{}/{}", v.request.client_member, v.request.client_subsystem),
                purpose: v.request.purpose,
                on: v.request.requested_on,
                due: v.request.due_on,
                status: match v.request.status.as_str() {
                    "granted" => "同意共享",
                    "refused" => "不予共享",
                    _ => "待答复",
                },
                light: v.light,
                light_label: v.light_label,
            })
            .collect(),
    })
}

struct AccessRow {
    at: String,
    who: String,
    department: String,
    case_no: String,
    resource: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "data_access.html")]
struct AccessPage {
    ctx: PageCtx,
    rows: Vec<AccessRow>,
}

pub async fn data_access_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    let rows = ex::my_data_access(&state, &user)
        .await?
        .into_iter()
        .map(|a| AccessRow {
            at: beijing_text(&a.at),
            who: a.who,
            department: a.department,
            case_no: a.case_no,
            resource: a.resource,
            purpose: a.purpose,
        })
        .collect();
    render(AccessPage {
        ctx: PageCtx::new(&viewer, &csrf),
        rows,
    })
}
