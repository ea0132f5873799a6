//! 一件事一次办 (issue #17) over HTTP: the definitions, one application, the bundle's timeline
//! and the figures (API), and the pages to apply online, receive at a window and follow.

use crate::auth::{Admin, CsrfToken, SignedIn, Viewer};
use crate::error::{ApiError, AppError, PageError};
use crate::forms::applicant_details;
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use tongban_app::bundles::{self as uc, BundleApplication, BundleView, GivenMaterial};
use tongban_core::bundle::BundleDef;
use tongban_core::capability::{holds, Capability};
use tongban_core::case::Channel;
use tongban_store::accounts::User;
use tongban_store::cases::Applicant;

/// A definition as the list shows it.
fn summary_json(def: &BundleDef, view: &tongban_app::CatalogView) -> Value {
    let codes = uc::members_in_catalog(view, def).ok();
    json!({
        "code": def.code,
        "name": def.name,
        "version": def.version,
        "summary": def.summary,
        "lead_department": def.lead_department,
        "cooperating_departments": def.cooperating_departments,
        "promised_days": def.promised_days,
        "completion": def.completion,
        "completion_label": def.completion.label(),
        "on_refusal": def.on_refusal,
        "on_refusal_label": def.on_refusal.label(),
        "available": codes.is_some(),
        "items": def.items.iter().map(|m| json!({
            "key": m.key,
            "item": m.item,
            "name": m.item,
            "department": m.department,
            "impl_code": codes.as_ref().and_then(|c| c.get(&m.key)).map(|i| i.item.impl_code.clone()),
            "after": m.after,
            "optional": m.optional,
        })).collect::<Vec<_>>(),
    })
}

/// The definition with its questionnaire, merged form and material list (each material
/// marked required when a member's checklist requires it, or provided by a prerequisite).
fn definition_json(def: &BundleDef, view: &tongban_app::CatalogView) -> Value {
    let mut v = summary_json(def, view);
    let items = uc::members_in_catalog(view, def).unwrap_or_default();
    let required = |name: &str, keys: &[String]| {
        keys.iter().any(|k| {
            items.get(k).is_some_and(|i| {
                i.materials.iter().any(|m| {
                    m.name == name && m.necessity == tongban_core::catalog::Necessity::Required
                })
            })
        })
    };
    v["questions"] = json!(def.questions);
    v["fields"] = json!(def.fields);
    v["materials"] = def
        .materials
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "items": m.items,
                "from_item": m.from_item,
                "required": m.from_item.is_none() && required(&m.name, &m.items),
            })
        })
        .collect();
    v
}

pub async fn api_list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let view = state.catalog().await?;
    let defs = uc::definitions(&state).await?;
    Ok(Json(json!({
        "bundles": defs.iter().map(|d| summary_json(d, &view)).collect::<Vec<_>>()
    })))
}

pub async fn api_get(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let def = uc::definition(&state, &code).await?;
    let view = state.catalog().await?;
    Ok(Json(definition_json(&def, &view)))
}

/// A bundle as the API shows it: the contract's `bundle_no`, `cases`, `status` and
/// `promised_due`, with the timeline.
fn bundle_json(v: &BundleView) -> Value {
    let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
    out["cases"] = v
        .members
        .iter()
        .map(|m| {
            json!({
                "case_no": m.case_no,
                "item": m.item,
                "key": m.key,
                "impl_code": m.impl_code,
                "department": m.department,
                "status": m.status,
                "status_label": m.status_label,
                "after": m.after,
                "promised_due": m.promised_due,
                "completed_on": m.completed_on,
            })
        })
        .collect();
    out
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BundleMaterial {
    name: String,
    /// An uploaded file (POST /api/v1/files); at a window, omitted for paper seen.
    #[serde(default)]
    sha256: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BundleApplyBody {
    /// 情形: question code → answer code (or label, or true/false for 是/否).
    #[serde(default)]
    #[schema(value_type = Object)]
    answers: HashMap<String, Value>,
    /// The merged form: field name → value.
    #[serde(default)]
    #[schema(value_type = Object)]
    fields: HashMap<String, Value>,
    #[serde(default)]
    materials: Vec<BundleMaterial>,
    /// `window`, `post` or `electronic` (or {"method", "address"}).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    delivery: Option<Value>,
    /// The postal address when `delivery` is `post`.
    #[serde(default)]
    address: String,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// Window intake: the applicant's certificate number (and details for a new applicant).
    #[serde(default)]
    applicant: Option<HashMap<String, String>>,
    #[serde(default)]
    channel: Option<String>,
}

fn text_of(what: &str, k: &str, v: &Value) -> Result<String, AppError> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        _ => return Err(AppError::bad_request(format!("{what}「{k}」应为文字"))),
    })
}

/// The applicant and channel of an application: an applicant for themself, a clerk for the
/// person at the window.
async fn who_applies(
    state: &AppState,
    user: &User,
    fields: Option<&HashMap<String, String>>,
    channel: Option<&str>,
) -> Result<(Applicant, Channel), AppError> {
    if holds(user.role, Capability::Apply) {
        let a = state
            .store
            .applicant_of_user(user.id)
            .await?
            .ok_or_else(AppError::forbidden)?;
        let channel = match channel {
            Some("mobile") => Channel::Mobile,
            _ => Channel::Online,
        };
        Ok((a, channel))
    } else if holds(user.role, Capability::ReceiveAtWindow) {
        let fields =
            fields.ok_or_else(|| AppError::bad_request("窗口收件须提供申请人信息 applicant"))?;
        Ok((
            tongban_app::applicants::find_or_register(state, &applicant_details(fields)).await?,
            Channel::Window,
        ))
    } else {
        let refused = tongban_app::authz::refused(
            state,
            user,
            Capability::Apply,
            "",
            tongban_app::authz::Refuse::Forbidden,
        )
        .await;
        Err(refused
            .with_message("只有申请人或综合窗口人员可以提交申请")
            .into())
    }
}

pub async fn api_apply(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(code): Path<String>,
    Json(b): Json<BundleApplyBody>,
) -> Result<Response, ApiError> {
    // An unknown 一件事 is 404 before anything else is looked at.
    uc::definition(&state, &code).await?;
    let (applicant, channel) =
        who_applies(&state, &user, b.applicant.as_ref(), b.channel.as_deref()).await?;
    let mut answers = BTreeMap::new();
    for (k, v) in &b.answers {
        answers.insert(k.clone(), text_of("情形", k, v)?);
    }
    let mut fields = BTreeMap::new();
    for (k, v) in &b.fields {
        fields.insert(k.clone(), text_of("字段", k, v)?);
    }
    let (method, address) = match &b.delivery {
        None | Some(Value::Null) => (String::new(), b.address.clone()),
        Some(Value::String(s)) => (s.clone(), b.address.clone()),
        Some(Value::Object(o)) => (
            o.get("method")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            o.get("address")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| b.address.clone()),
        ),
        Some(_) => return Err(AppError::bad_request("送达方式无效").into()),
    };
    let delivery = tongban_app::cases::parse_delivery(&method, &address)?;
    if let tongban_core::case::Delivery::Post { address } = &delivery {
        tongban_core::text::single_line("邮寄地址", address, tongban_core::text::MAX_ADDRESS)
            .map_err(|e| AppError::bad_request(e.to_string()))?;
    }
    let (view, created) = uc::apply(
        &state,
        &user,
        &code,
        BundleApplication {
            applicant: &applicant,
            channel,
            answers,
            fields,
            materials: b
                .materials
                .iter()
                .map(|m| GivenMaterial {
                    name: m.name.clone(),
                    sha256: m.sha256.clone(),
                })
                .collect(),
            delivery,
            idem_key: b.idempotency_key.as_deref(),
        },
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(bundle_json(&view))).into_response())
}

pub async fn api_bundle(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = uc::read(&state, &user, &no).await?;
    Ok(Json(bundle_json(&v)))
}

pub async fn api_figures(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "bundles": uc::figures(&state).await? })))
}

/// Imports a definition (the body is the definition file): 201 with its version.
pub async fn api_import(
    State(state): State<AppState>,
    Admin(user): Admin,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::bad_request("一件事定义应为 UTF-8 编码的 JSON"))?;
    let (def, version) = uc::import(&state, &user, text).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "code": def.code, "version": version })),
    )
        .into_response())
}

/// The definition file of the latest version (for import elsewhere).
pub async fn api_export(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let text = uc::export(&state, &code).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response())
}

// ---- pages ----

#[derive(Template)]
#[template(path = "bundles.html")]
struct ListPage {
    ctx: PageCtx,
    bundles: Vec<(BundleDef, Option<uc::Figures>)>,
}

pub async fn list_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
) -> Result<Response, PageError> {
    let figures = uc::figures(&state).await?;
    let bundles = uc::definitions(&state)
        .await?
        .into_iter()
        .map(|d| {
            let f = figures.iter().find(|f| f.code == d.code).cloned();
            (d, f)
        })
        .collect();
    Ok(render(ListPage {
        ctx: PageCtx::new(&viewer, &csrf),
        bundles,
    })?
    .into_response())
}

/// A material on the apply page: its name, whether it is required, who provides it.
pub struct MaterialRow {
    pub i: usize,
    pub name: String,
    pub required: bool,
    pub from_item: Option<String>,
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct DefPage {
    ctx: PageCtx,
    def: BundleDef,
    materials: Vec<MaterialRow>,
    /// `applicant`, `window`, or empty (not signed in / may not apply).
    mode: &'static str,
    error: String,
}

fn material_rows(def: &BundleDef, view: &tongban_app::CatalogView) -> Vec<MaterialRow> {
    let v = definition_json(def, view);
    v["materials"]
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, m)| MaterialRow {
                    i,
                    name: m["name"].as_str().unwrap_or_default().to_string(),
                    required: m["required"].as_bool().unwrap_or(false),
                    from_item: m["from_item"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn mode_of(viewer: &Viewer) -> &'static str {
    match &viewer.user {
        Some(u) if holds(u.role, Capability::Apply) => "applicant",
        Some(u) if holds(u.role, Capability::ReceiveAtWindow) => "window",
        _ => "",
    }
}

async fn def_page_of(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    code: &str,
    error: String,
) -> Result<Response, PageError> {
    let def = uc::definition(state, code).await?;
    let view = state.catalog().await?;
    Ok(render(DefPage {
        ctx: PageCtx::new(viewer, csrf),
        materials: material_rows(&def, &view),
        mode: mode_of(viewer),
        def,
        error,
    })?
    .into_response())
}

pub async fn def_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    def_page_of(&state, &viewer, &csrf, &code, String::new()).await
}

/// The apply form: online, a file per material (`file{i}`); at a window, the applicant
/// (`applicant.*`) and the paper seen (`paper{i}`). Answers are `q.{code}`, fields `f.{name}`.
pub async fn apply_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(code): Path<String>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let def = uc::definition(&state, &code).await?;
    let (text, uploads) = crate::forms::read_form(mp).await?;
    let result = async {
        let applicant_fields: HashMap<String, String> = text
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("applicant.")
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect();
        let (applicant, channel) = who_applies(
            &state,
            &user,
            (!applicant_fields.is_empty()).then_some(&applicant_fields),
            None,
        )
        .await?;
        let material_at = |field: &str, prefix: &str| {
            field
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|i| def.materials.get(i))
                .map(|m| m.name.clone())
        };
        let mut materials: Vec<GivenMaterial> = Vec::new();
        if !uploads.is_empty() {
            let stored = tongban_app::cases::store_uploads(&state, &user, &uploads).await?;
            for (field, _, sha) in stored {
                if let Some(name) = material_at(&field, "file") {
                    materials.push(GivenMaterial {
                        name,
                        sha256: Some(sha),
                    });
                }
            }
        }
        for (k, v) in &text {
            if let Some(name) = material_at(k, "paper") {
                if v == "on" && !materials.iter().any(|m| m.name == name) {
                    materials.push(GivenMaterial { name, sha256: None });
                }
            }
        }
        let answers = text
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("q.").map(|k| (k.to_string(), v.clone())))
            .collect();
        let fields = text
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("f.")
                    .filter(|_| !v.trim().is_empty())
                    .map(|k| (k.to_string(), v.clone()))
            })
            .collect();
        let delivery = tongban_app::cases::parse_delivery(
            text.get("delivery").map(String::as_str).unwrap_or(""),
            text.get("address").map(String::as_str).unwrap_or(""),
        )?;
        let (v, _) = uc::apply(
            &state,
            &user,
            &code,
            BundleApplication {
                applicant: &applicant,
                channel,
                answers,
                fields,
                materials,
                delivery,
                idem_key: text.get("idempotency_key").map(String::as_str),
            },
        )
        .await?;
        Ok::<_, AppError>(v)
    }
    .await;
    match result {
        Ok(v) => Ok(Redirect::to(&format!("/bundle-cases/{}", v.bundle_no)).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut page = def_page_of(&state, &viewer, &csrf, &code, e.message).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "bundle_case.html")]
struct CasePage {
    ctx: PageCtx,
    b: BundleView,
}

pub async fn case_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Response, PageError> {
    let b = uc::read(&state, &user, &no).await?;
    Ok(render(CasePage {
        ctx: PageCtx::new(&viewer, &csrf),
        b,
    })?
    .into_response())
}
