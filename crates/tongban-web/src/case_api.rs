//! The workflow in the JSON API, with the same rules as the pages.

use crate::auth::{Admin, SignedIn};
use crate::error::{ApiError, AppError};
use crate::forms::applicant_details;
use crate::ui::remaining_text;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use tongban_app::cases::{
    command_from, execute, parse_delivery, store_uploads, submit, Submission, Upload,
};
use tongban_app::cases::{search_filter, search_scope, ListQuery};
use tongban_core::case::{Channel, MaterialRef};
use tongban_store::cases::{CaseFilter, CaseRecord};

async fn case_json(state: &AppState, rec: &CaseRecord) -> Result<Value, AppError> {
    let cal = state.calendar().await?;
    let mut v = case_value(state.today(), &cal, rec);
    // An approved case whose licence is still being signed says so (证照签发中).
    let pending = rec.state.outcome == Some(tongban_core::case::Outcome::Approved)
        && tongban_app::cases::licence_pending(state, &rec.case_no).await?;
    v["licence_pending"] = Value::Bool(pending);
    // A member of a 一件事: staff and the applicant reach the bundle from any member case.
    v["bundle_no"] = json!(rec.bundle_no);
    if pending {
        v["licence_status"] = Value::String(tongban_core::messages::LICENCE_PENDING.into());
    }
    Ok(v)
}

/// A case as the API shows it (lists compute the calendar once for all rows).
fn case_value(
    today: chrono::NaiveDate,
    cal: &tongban_core::calendar::WorkCalendar,
    rec: &CaseRecord,
) -> Value {
    let (_, remaining) = remaining_text(today, rec, cal);
    let s = &rec.state;
    json!({
        "case_no": rec.case_no,
        "impl_code": rec.impl_code,
        "item_name": rec.item_name,
        "department_id": rec.department_id,
        "status": s.status.code(),
        "status_label": s.status.label(),
        "step": s.current_step().map(|x| x.name.clone()),
        "version": rec.version,
        "channel": s.channel,
        "delivery": s.delivery,
        "submitted_at": rec.submitted_at,
        "accepted_on": s.accepted_on,
        "promised_due": s.promised_due,
        "legal_due": s.legal_due,
        "remaining_working_days": remaining,
        "correction_items": s.correction_items,
        "correction_outstanding": if s.status == tongban_core::case::Status::AwaitingCorrection { s.correction_still_missing().to_vec() } else { Vec::new() },
        "correction_due": s.correction_due,
        "special_expected_end": s.special_expected_end,
        "correction_notice_days_left": s.correction_notice_days_left(today, cal).ok().flatten(),
        "outcome": s.outcome,
        "waybill": s.waybill,
        "paused_days": s.paused_days,
        "deadlines_provisional": s.deadlines_provisional(cal),
        "extension_days": s.extension_days,
        "materials": s.materials,
    })
}

/// Self-registration of an applicant account.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// `enterprise` for an enterprise; anything else registers a natural person.
    #[serde(default)]
    kind: String,
    username: String,
    password: String,
    /// The person's or the enterprise's name.
    name: String,
    /// 居民身份证号码, or the enterprise's 统一社会信用代码.
    id_number: String,
    #[serde(default)]
    mobile: String,
    /// An enterprise's legal representative.
    #[serde(default)]
    legal_rep: String,
}

pub async fn register(
    State(state): State<AppState>,
    Json(body): Json<Registration>,
) -> Result<Response, ApiError> {
    let details = tongban_app::applicants::ApplicantDetails {
        kind: body.kind,
        name: body.name,
        id_number: body.id_number,
        mobile: body.mobile,
        legal_rep: body.legal_rep,
    };
    let (user, applicant) =
        tongban_app::applicants::register(&state, &details, &body.username, &body.password).await?;
    Ok((StatusCode::CREATED, Json(json!({ "user_id": user.id, "username": user.username, "applicant_id": applicant.id, "verified": applicant.verified, "id_number": applicant.masked_id() }))).into_response())
}

/// Uploads one material file (raw body); answers its SHA-256 for use in an application.
pub async fn upload(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    body: Bytes,
) -> Result<Response, ApiError> {
    let files = [Upload {
        field: "file".into(),
        file_name: "upload".into(),
        bytes: body.to_vec(),
    }];
    let stored = store_uploads(&state, &user, &files).await?;
    let sha = stored[0].2.clone();
    let media = state.store.file_type(&sha).await?.unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "sha256": sha, "media_type": media })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MaterialBody {
    /// For a 补正 answer, the notice item the file answers (`item` is accepted too).
    #[serde(alias = "item")]
    name: String,
    #[serde(default)]
    sha256: Option<String>,
    /// An e-licence of the applicant offered instead of an upload (免提交).
    #[serde(default)]
    licence_id: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ApplyBody {
    item: String,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    materials: Vec<MaterialBody>,
    #[serde(default)]
    idempotency_key: Option<String>,
    /// Window intake: the applicant's certificate number (and details for a new applicant).
    #[serde(default)]
    applicant: Option<HashMap<String, String>>,
    #[serde(default)]
    channel: Option<String>,
    /// Form details, e.g. the fields of the licence the approval issues ({"经营项目": "…"}).
    #[serde(default)]
    details: HashMap<String, String>,
}

pub async fn apply(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Json(b): Json<ApplyBody>,
) -> Result<Response, ApiError> {
    use tongban_core::capability::{holds, Capability};
    let (applicant, channel) = if holds(user.role, Capability::Apply) {
        let a = state
            .store
            .applicant_of_user(user.id)
            .await?
            .ok_or_else(AppError::forbidden)?;
        let channel = match b.channel.as_deref() {
            Some("mobile") => Channel::Mobile,
            _ => Channel::Online,
        };
        (a, channel)
    } else if holds(user.role, Capability::ReceiveAtWindow) {
        let fields = b
            .applicant
            .clone()
            .ok_or_else(|| AppError::bad_request("窗口收件须提供申请人信息 applicant"))?;
        let channel = match b.channel.as_deref() {
            Some("express") => Channel::Express,
            _ => Channel::Window,
        };
        (
            tongban_app::applicants::find_or_register(&state, &applicant_details(&fields)).await?,
            channel,
        )
    } else {
        let refused = tongban_app::authz::refused(
            &state,
            &user,
            Capability::Apply,
            "",
            tongban_app::authz::Refuse::Forbidden,
        )
        .await;
        return Err(refused
            .with_message("只有申请人或综合窗口人员可以提交申请")
            .into());
    };
    let missing = state
        .store
        .missing_files(
            &b.materials
                .iter()
                .filter_map(|m| m.sha256.as_deref())
                .collect::<Vec<_>>(),
        )
        .await?;
    let mut materials = Vec::new();
    for m in &b.materials {
        if let Some(sha) = &m.sha256 {
            if missing.contains(sha) {
                return Err(AppError::bad_request(format!(
                    "材料「{}」引用的文件不存在，请先上传",
                    m.name
                ))
                .into());
            }
        }
        materials.push(MaterialRef {
            name: m.name.clone(),
            sha256: m.sha256.clone(),
            file_name: m.file_name.clone(),
            licence_id: m.licence_id.clone(),
            trust: Some(if m.licence_id.is_some() { 'A' } else { 'C' }),
        });
    }
    let delivery = parse_delivery(&b.delivery, &b.address)?;
    let (rec, created) = submit(
        &state,
        &user,
        Submission {
            impl_code: &b.item,
            applicant: &applicant,
            channel,
            delivery,
            materials,
            idem_key: b.idempotency_key.as_deref(),
            details: tongban_app::cases::details_from(b.details.iter())?,
        },
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(case_json(&state, &rec).await?)).into_response())
}

pub async fn get_case(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (rec, _) = tongban_app::cases::read_case(&state, &user, &no).await?;
    Ok(Json(case_json(&state, &rec).await?))
}

pub async fn case_events(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (rec, _) = tongban_app::cases::read_case(&state, &user, &no).await?;
    let events = state.store.case_events(rec.id).await?;
    Ok(Json(json!(events)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommandBody {
    expected_version: i64,
    /// The command (`accept`, `pass`, `request_correction`, `withdraw` …).
    action: String,
    /// The fields the action takes (opinion, items, reason …).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    fields: HashMap<String, Value>,
}

pub async fn command(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(mut b): Json<CommandBody>,
) -> Result<Json<Value>, ApiError> {
    b.fields.insert(
        "action".into(),
        Value::String(std::mem::take(&mut b.action)),
    );
    // The body is the core's command itself ({"action": "pass", "opinion": …}); the
    // form-style words (amounts in yuan, newline lists, numbers as text) are read as forms are.
    let fields: HashMap<String, String> = b
        .fields
        .iter()
        .filter(|(k, _)| k.as_str() != "materials")
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect();
    tongban_app::cases::check_command_fields(&fields)?;
    let body = Value::Object(b.fields.clone().into_iter().collect());
    let cmd = match serde_json::from_value::<tongban_core::case::Command>(body) {
        Ok(cmd) => cmd,
        Err(_) => {
            if fields.get("action").map(String::as_str) == Some("submit_correction") {
                tongban_core::case::Command::SubmitCorrection { materials: vec![] }
            } else {
                command_from(&fields)?
            }
        }
    };
    // Correction files were uploaded first (POST /files): each must exist; they are the
    // applicant's own uploads (trust level C), never a licence by another route.
    let cmd = match cmd {
        tongban_core::case::Command::SubmitCorrection { materials } => {
            let list: Vec<MaterialBody> = match b.fields.get("materials") {
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|e| AppError::bad_request(format!("materials 格式有误：{e}")))?,
                None => materials
                    .into_iter()
                    .map(|m| MaterialBody {
                        name: m.name,
                        sha256: m.sha256,
                        file_name: m.file_name,
                        licence_id: None,
                    })
                    .collect(),
            };
            let mut checked = Vec::new();
            for m in list {
                let sha = m.sha256.ok_or_else(|| {
                    AppError::bad_request(format!("补正材料「{}」缺少文件", m.name))
                })?;
                if state.store.file_type(&sha).await?.is_none() {
                    return Err(AppError::bad_request(format!(
                        "补正材料「{}」引用的文件不存在，请先上传",
                        m.name
                    ))
                    .into());
                }
                checked.push(MaterialRef {
                    name: m.name,
                    sha256: Some(sha),
                    file_name: m.file_name,
                    licence_id: None,
                    trust: Some('C'),
                });
            }
            tongban_core::case::Command::SubmitCorrection { materials: checked }
        }
        other => other,
    };
    let rec = execute(&state, &user, &no, b.expected_version, &cmd).await?;
    Ok(Json(case_json(&state, &rec).await?))
}

pub async fn my_cases(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let a = state
        .store
        .applicant_of_user(user.id)
        .await?
        .ok_or_else(AppError::forbidden)?;
    let (recs, total) = state
        .store
        .find_cases(&CaseFilter {
            applicant_id: Some(a.id),
            limit: 100,
            ..Default::default()
        })
        .await?;
    let cal = state.calendar().await?;
    let out: Vec<Value> = recs
        .iter()
        .map(|r| case_value(state.today(), &cal, r))
        .collect();
    let messages: Vec<Value> = state
        .store
        .messages(a.id, 50)
        .await?
        .into_iter()
        .map(|m| json!({ "case_no": m.case_no, "at": m.at, "text": m.text }))
        .collect();
    Ok(Json(
        json!({ "total": total, "cases": out, "messages": messages }),
    ))
}

pub async fn search(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let scope = search_scope(&state, &user).await?;
    let filter = search_filter(&user, scope, &q)?;
    let (recs, total) = state.store.find_cases(&filter).await?;
    let cal = state.calendar().await?;
    let out: Vec<Value> = recs
        .iter()
        .map(|r| case_value(state.today(), &cal, r))
        .collect();
    Ok(Json(json!({ "total": total, "cases": out })))
}

pub async fn inbox(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    tongban_app::authz::require_scope(
        &state,
        &user,
        tongban_core::capability::Capability::WorkInbox,
    )
    .await?;
    let filter = CaseFilter {
        department_id: user.department_id,
        // Cases with the department (in approval or in a special procedure), by deadline.
        by_deadline: true,
        limit: 50,
        ..Default::default()
    };
    let (recs, total) = state.store.find_cases(&filter).await?;
    let cal = state.calendar().await?;
    let out: Vec<Value> = recs
        .iter()
        .map(|r| case_value(state.today(), &cal, r))
        .collect();
    Ok(Json(json!({ "total": total, "cases": out })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CalendarBody {
    source: String,
}

/// Loads (or replaces) one year of the working-day calendar.
pub async fn load_calendar(
    State(state): State<AppState>,
    Admin(u): Admin,
    Json(b): Json<CalendarBody>,
) -> Result<Json<Value>, ApiError> {
    let table = tongban_app::calendar::load_year(&state, &u.username, &b.source)
        .await
        .map_err(|e| AppError::bad_request(format!("日历数据有误：{}", e.message)))?;
    Ok(Json(
        json!({ "year": table.table.year, "holidays": table.table.holidays().count(), "workdays": table.table.workdays().count(), "recomputed_cases": table.recomputed }),
    ))
}
