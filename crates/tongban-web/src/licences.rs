//! Electronic licences on the web: issue on approval, the holder's 证照夹, PDF and JSON,
//! verification by anyone, revocation and suspension, keys and status lists, and
//! department look-ups for a case with the purpose recorded.

use crate::auth::{CsrfToken, SignedIn, Viewer};
use crate::error::{ApiError, AppError, PageError};
use crate::ui::{render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use tongban_app::clock::beijing_text;
use tongban_app::licences::verify_online;
use tongban_core::capability::Capability;
use tongban_core::licence::vc::{self, Check};
use tongban_store::accounts::User;
use tongban_store::licences::{Licence, StatusChange};

async fn licence_for(state: &AppState, user: &User, id: &str) -> Result<Licence, AppError> {
    Ok(tongban_app::licences::licence_for(state, user, id, Capability::ReadLicence).await?)
}

struct LicenceRow {
    id: String,
    name: String,
    number: String,
    holder: String,
    issued: String,
    until: String,
    status: &'static str,
    valid: bool,
    suspended: bool,
}

#[derive(Template)]
#[template(path = "licences.html")]
struct ListPage {
    ctx: PageCtx,
    heading: String,
    error: String,
    rows: Vec<LicenceRow>,
    can_manage: bool,
}

fn holder_of(l: &Licence) -> String {
    l.vc["credentialSubject"]["holderName"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn row(l: &Licence) -> LicenceRow {
    LicenceRow {
        id: l.licence_id.clone(),
        name: l.type_name.clone(),
        number: l.number.clone(),
        holder: holder_of(l),
        issued: l.issued_on.clone(),
        until: l.valid_until.clone().unwrap_or_else(|| "长期".into()),
        status: l.status_label(),
        valid: l.status == "valid",
        suspended: l.status == "suspended",
    }
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    error: String,
) -> Result<Html<String>, PageError> {
    let licences = tongban_app::licences::visible_licences(state, user).await?;
    render(ListPage {
        ctx: PageCtx::new(viewer, csrf),
        heading: if user.role.is_applicant() {
            "我的证照夹".into()
        } else {
            "电子证照".into()
        },
        error,
        can_manage: tongban_core::capability::holds(user.role, Capability::ManageLicence),
        rows: licences.iter().map(row).collect(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    list_page(&state, &viewer, &csrf, &user, String::new()).await
}

#[derive(Template)]
#[template(path = "licence.html")]
struct DetailPage {
    ctx: PageCtx,
    id: String,
    name: String,
    status: &'static str,
    valid: bool,
    reason: String,
    number: String,
    holder: String,
    issuer: String,
    issued: String,
    until: String,
    case_no: String,
    uses: Vec<(String, String, String, String)>,
}

pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let l = licence_for(&state, &user, &id).await?;
    let uses = state
        .store
        .licence_uses(&l.licence_id)
        .await?
        .into_iter()
        .map(|(c, u, p, at)| (c, u, p, beijing_text(&at)))
        .collect();
    render(DetailPage {
        ctx: PageCtx::new(&viewer, &csrf),
        name: l.type_name.clone(),
        status: l.status_label(),
        valid: l.status == "valid",
        reason: l.status_reason.clone(),
        number: l.number.clone(),
        holder: holder_of(&l),
        issuer: l.vc["issuer"]["name"].as_str().unwrap_or("").into(),
        issued: l.issued_on.clone(),
        until: l.valid_until.clone().unwrap_or_else(|| "长期".into()),
        case_no: l.case_no.clone(),
        id: l.licence_id,
        uses,
    })
}

pub async fn json_file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let l = licence_for(&state, &user, &id).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/vc+json".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"licence-{}.json\"", l.number),
            ),
        ],
        serde_json::to_string_pretty(&l.vc).unwrap_or_default(),
    )
        .into_response())
}

pub async fn pdf_file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let l = licence_for(&state, &user, &id).await?;
    let qr = tongban_app::licences::short_verify_url(&state, &l);
    let subject = &l.vc["credentialSubject"];
    let mut lines = vec![
        ("证照编号".to_string(), l.number.clone()),
        ("持证主体".to_string(), holder_of(&l)),
        (
            subject["holderCodeType"]
                .as_str()
                .unwrap_or("代码")
                .to_string(),
            mask_code(
                subject["holderCodeType"].as_str().unwrap_or(""),
                subject["holderCode"].as_str().unwrap_or(""),
            ),
        ),
        (
            "颁发机构".to_string(),
            l.vc["issuer"]["name"].as_str().unwrap_or("").to_string(),
        ),
        ("颁发日期".to_string(), l.issued_on.clone()),
        (
            "有效期至".to_string(),
            l.valid_until.clone().unwrap_or_else(|| "长期".into()),
        ),
    ];
    if let Some(fields) = subject["fields"].as_object() {
        for (k, v) in fields {
            lines.push((k.clone(), v.as_str().unwrap_or("").to_string()));
        }
    }
    lines.push(("电子证照标识".to_string(), l.licence_id.clone()));
    let face = tongban_core::licence::pdf::Face {
        title: &l.type_name,
        lines,
        qr: &qr,
        footer: "本证照为电子证照，与纸质证照具有同等法律效力。扫描二维码或登录政务服务网核验。",
        void: void_line(&l),
    };
    let bytes = tokio::task::spawn_blocking({
        let face_pdf = tongban_core::licence::pdf::render(&face);
        move || face_pdf
    })
    .await
    .map_err(AppError::internal)?;
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("inline; filename=\"licence-{}.pdf\"", l.number),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The status line of a licence that is void when rendered (revoked, superseded, cancelled):
/// the PDF then carries a 作废 mark. Suspended and valid licences print without one.
fn void_line(l: &tongban_store::licences::Licence) -> Option<String> {
    use tongban_core::licence::state::LicenceState;
    let state = LicenceState::parse(&l.status).ok()?;
    matches!(
        state,
        LicenceState::Revoked | LicenceState::Superseded | LicenceState::Cancelled
    )
    .then(|| {
        if l.status_reason.is_empty() {
            format!("作废：本证照{}", state.label())
        } else {
            format!("作废：本证照{}（{}）", state.label(), l.status_reason)
        }
    })
}

/// Personal identity numbers are masked on the printed face; enterprise codes are public.
fn mask_code(kind: &str, code: &str) -> String {
    if kind == "身份证号" {
        tongban_core::ids::ResidentId::parse(code)
            .map(|r| r.masked())
            .unwrap_or_else(|_| "****".into())
    } else {
        code.to_string()
    }
}

async fn change_status(
    state: &AppState,
    user: &User,
    id: &str,
    action: &str,
    reason: &str,
) -> Result<Licence, AppError> {
    let l = tongban_app::licences::licence_for(state, user, id, Capability::ManageLicence)
        .await
        .map_err(|e| match e.kind {
            tongban_app::ErrorKind::Forbidden => {
                e.with_message("只有颁发部门负责人或管理员可以变更证照状态")
            }
            _ => e,
        })?;
    // Supersession happens only when a new version is issued, never by hand.
    let change = StatusChange::parse(action)
        .ok()
        .filter(|c| *c != StatusChange::Supersede)
        .ok_or_else(|| {
            AppError::bad_request(
                "操作应为 revoke（吊销）、cancel（注销）、suspend（暂停）、restore（恢复）或 expire（到期）",
            )
        })?;
    Ok(state
        .store
        .set_licence_status(&l.licence_id, change, reason, &user.username, state.now())
        .await?)
}

pub async fn status_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    match change_status(&state, &user, &id, get("action"), get("reason")).await {
        Ok(_) => Ok(Redirect::to("/licences").into_response()),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT
            ) =>
        {
            let page = list_page(&state, &viewer, &csrf, &user, e.message).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    id: String,
    error: String,
    /// The verdict in one line, shown first; `None` before anything was asked.
    verdict: Option<VerdictView>,
    valid: bool,
    checks: Vec<(&'static str, &'static str, String)>,
}

struct VerdictView {
    valid: bool,
    label: &'static str,
    reason: String,
    name: String,
    number: String,
    holder: String,
    issued: String,
    until: String,
}

fn verdict_view(v: &tongban_app::licences::Verdict) -> VerdictView {
    let l = v.licence.as_ref();
    VerdictView {
        valid: v.valid,
        label: v.label,
        reason: v.reason.clone(),
        name: l.map(|l| l.type_name.clone()).unwrap_or_default(),
        number: l.map(|l| l.number.clone()).unwrap_or_default(),
        holder: l.map(holder_of).unwrap_or_default(),
        issued: l.map(|l| l.issued_on.clone()).unwrap_or_default(),
        until: l
            .map(|l| l.valid_until.clone().unwrap_or_else(|| "长期".into()))
            .unwrap_or_default(),
    }
}

fn check_rows(checks: &[Check]) -> Vec<(&'static str, &'static str, String)> {
    checks
        .iter()
        .map(|c| {
            (
                c.label,
                match c.ok {
                    Some(true) => "通过",
                    Some(false) => "未通过",
                    None => "未检查",
                },
                c.detail.clone(),
            )
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct VerifyQuery {
    #[serde(default)]
    id: String,
    #[serde(default)]
    k: String,
    #[serde(default)]
    p: String,
    #[serde(default)]
    s: String,
}

/// Verifies a licence by its identifier, its printed number, or the signed QR on it. The
/// verdict (the live status) comes first; the technical checks follow.
pub async fn verify_page(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    Query(q): Query<VerifyQuery>,
) -> Result<Html<String>, PageError> {
    let mut page = VerifyPage {
        ctx: PageCtx::new(&viewer, &csrf),
        id: q.id.trim().to_string(),
        error: String::new(),
        verdict: None,
        valid: false,
        checks: vec![],
    };
    let outcome = if !q.p.is_empty() {
        Some(tongban_app::licences::verify_qr(&state, &q.id, &q.k, &q.p, &q.s).await?)
    } else if !q.id.trim().is_empty() {
        match tongban_app::licences::find_licence(&state, &q.id).await? {
            Some(l) => Some(tongban_app::licences::verdict_of(&state, l).await?),
            None => {
                page.error = match tongban_core::licence::id::LicenceId::parse(q.id.trim()) {
                    Ok(_) => "本平台没有签发该电子证照".into(),
                    Err(e) => format!("{e}（也可输入证照上印制的证照编号）"),
                };
                None
            }
        }
    } else {
        None
    };
    if let Some((verdict, checks)) = outcome {
        page.valid = verdict.valid;
        page.checks = check_rows(&checks);
        page.verdict = Some(verdict_view(&verdict));
    }
    render(page)
}

pub async fn verify_upload(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    mp: Multipart,
) -> Result<Html<String>, PageError> {
    let (_, files) = crate::forms::read_form(mp).await?;
    let mut page = VerifyPage {
        ctx: PageCtx::new(&viewer, &csrf),
        id: String::new(),
        error: String::new(),
        verdict: None,
        valid: false,
        checks: vec![],
    };
    match files
        .first()
        .map(|f| serde_json::from_slice::<Value>(&f.bytes))
    {
        Some(Ok(credential)) => {
            // The file's own checks decide whether it is genuine; the stored licence it
            // names gives the live status.
            let checks = verify_online(&state, &credential).await?;
            let id = credential["id"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("urn:oid:");
            let stored = tongban_app::licences::find_licence(&state, id).await?;
            let failed: Vec<&str> = checks
                .iter()
                .filter(|c| c.ok == Some(false))
                .map(|c| c.label)
                .collect();
            let verdict = match stored {
                Some(l) if failed.is_empty() => {
                    tongban_app::licences::verdict_of(&state, l).await?.0
                }
                licence => tongban_app::licences::Verdict {
                    valid: false,
                    label: "无效",
                    reason: if failed.is_empty() {
                        "本平台没有签发该电子证照".into()
                    } else {
                        format!("未通过：{}", failed.join("、"))
                    },
                    licence,
                },
            };
            page.valid = verdict.valid;
            page.verdict = Some(verdict_view(&verdict));
            page.checks = check_rows(&checks);
        }
        Some(Err(e)) => page.error = format!("不是有效的 JSON 文件：{e}"),
        None => page.error = "请选择证照 JSON 文件".into(),
    }
    render(page)
}

// ---- API ------------------------------------------------------------------------------

pub async fn api_keys(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "keys": tongban_app::licences::published_keys(&state).await? }),
    ))
}

pub async fn api_status_list(
    State(state): State<AppState>,
    Path(purpose): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        tongban_app::licences::status_list(&state, &purpose).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyBody {
    #[serde(default)]
    id: Option<String>,
    /// The signed credential (as carried in the QR or the licence file).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    credential: Option<Value>,
}

pub async fn api_verify(
    State(state): State<AppState>,
    Json(b): Json<VerifyBody>,
) -> Result<Json<Value>, ApiError> {
    let credential = match (b.credential, b.id) {
        (Some(c), _) if c.is_object() => c,
        (Some(_), _) => {
            return Err(
                AppError::bad_request("credential 应为电子证照的 JSON 对象（可验证凭证）").into(),
            )
        }
        (None, Some(id)) => match state.store.licence(&id).await {
            Ok(l) => l.vc,
            Err(tongban_store::StoreError::NotFound(_)) => {
                tongban_core::licence::id::LicenceId::parse(&id)
                    .map_err(|e| AppError::bad_request(e.to_string()))?;
                return Err(AppError::not_found("本平台没有签发该电子证照").into());
            }
            Err(e) => return Err(e.into()),
        },
        (None, None) => return Err(AppError::bad_request("请提供 id 或 credential").into()),
    };
    let checks = verify_online(&state, &credential).await?;
    Ok(Json(
        json!({ "valid": vc::all_ok(&checks), "checks": checks }),
    ))
}

pub async fn api_list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = tongban_app::licences::visible_licences(&state, &user)
        .await?
        .iter()
        .map(summary)
        .collect();
    Ok(Json(json!({ "licences": list })))
}

fn summary(l: &Licence) -> Value {
    json!({ "licence_id": l.licence_id, "type_code": l.type_code, "name": l.type_name, "number": l.number, "version": l.version, "holder": holder_of(l), "issued_on": l.issued_on, "valid_until": l.valid_until, "status": l.status, "status_reason": l.status_reason, "case_no": l.case_no })
}

pub async fn api_get(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let l = licence_for(&state, &user, &id).await?;
    let uses: Vec<Value> = state
        .store
        .licence_uses(&l.licence_id)
        .await?
        .into_iter()
        .map(|(c, u, p, at)| json!({ "case_no": c, "by": u, "purpose": p, "at": at }))
        .collect();
    let mut v = summary(&l);
    v["vc"] = l.vc;
    v["uses"] = json!(uses);
    Ok(Json(v))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusBody {
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn api_status(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    Json(b): Json<StatusBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(summary(
        &change_status(&state, &user, &id, &b.action, &b.reason).await?,
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LookupBody {
    #[serde(default)]
    purpose: String,
}

/// A department looks up the holder's licences for a case it handles (`POST`: the look-up
/// is recorded against each licence with its purpose).
pub async fn api_case_holder_licences(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Json(b): Json<LookupBody>,
) -> Result<Json<Value>, ApiError> {
    let licences =
        tongban_app::licences::look_up_holder_licences(&state, &user, &no, &b.purpose).await?;
    Ok(Json(
        json!({ "licences": licences.iter().map(summary).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TypeBody {
    code: String,
    name: String,
    #[serde(default)]
    validity_years: i64,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    items: Vec<String>,
    /// Items whose approval re-issues the holder's licence as its next version (变更, 延续).
    #[serde(default)]
    reissue_items: Vec<String>,
}

/// Registers a licence type and the items whose approval issues it.
pub async fn api_define_type(
    State(state): State<AppState>,
    crate::auth::Admin(_): crate::auth::Admin,
    Json(b): Json<TypeBody>,
) -> Result<Response, ApiError> {
    state
        .store
        .upsert_licence_type(&b.code, &b.name, b.validity_years, &b.fields, state.now())
        .await?;
    for item in &b.items {
        state
            .store
            .set_item_licence_type(item, &b.code, false)
            .await?;
    }
    for item in &b.reissue_items {
        state
            .store
            .set_item_licence_type(item, &b.code, true)
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "code": b.code, "items": b.items.len() })),
    )
        .into_response())
}
