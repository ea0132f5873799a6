//! Pages of the workflow: apply, follow a case, act on it, window intake, the clerk's
//! pre-review desk, the department inbox, staff search, applicant sign-up.

use crate::auth::{session_cookie, CsrfToken, SignedIn, Viewer};
use crate::error::{AppError, PageError};
use crate::forms::read_form;
use crate::ui::{remaining_text, render, PageCtx};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::HashMap;
use tongban_app::cases::{
    available_actions, case_for, command_from, execute, parse_delivery, store_uploads, submit,
    Access, Submission,
};
use tongban_app::cases::{search_filter, search_scope, ListQuery};
use tongban_app::clock::beijing_text;
use tongban_core::capability::{Capability, Scope};
use tongban_core::case::{
    Channel, Delivery, Event, MaterialRef, NotAcceptCategory, Status, CORRECTION_DAYS_DEFAULT,
    SPECIAL_KINDS, SPECIAL_MAX_DAYS,
};
use tongban_store::accounts::User;
use tongban_store::cases::{Applicant, CaseFilter, CaseRecord};

type Fields = HashMap<String, String>;

fn f<'a>(m: &'a Fields, k: &str) -> &'a str {
    m.get(k).map(String::as_str).unwrap_or("")
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn applicant_of(state: &AppState, user: &User) -> Result<Applicant, AppError> {
    state
        .store
        .applicant_of_user(user.id)
        .await?
        .ok_or_else(|| {
            AppError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "请使用申请人账号办理（工作人员请使用综合窗口收件）",
            )
        })
}

struct ApplyMaterial {
    i: usize,
    name: String,
    required: bool,
    /// A licence the applicant holds that may replace this material: (id, label).
    licence: Option<(String, String)>,
    /// Whether the applicant chose that licence (checked until they untick it).
    use_licence: bool,
    /// A file uploaded with an earlier attempt and kept server-side: `sha256:file name`.
    kept: String,
    kept_name: String,
    /// What is wrong with this material, shown beside its upload field.
    error: String,
}

/// A field the resulting licence prints, typed by the applicant.
struct DetailField {
    i: usize,
    name: String,
    value: String,
    error: String,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    ctx: PageCtx,
    code: String,
    item_name: String,
    applicant: String,
    materials: Vec<ApplyMaterial>,
    /// Fields of the licence this item issues, to be filled in by the applicant.
    details: Vec<DetailField>,
    delivery: String,
    address: String,
    delivery_error: String,
    address_error: String,
    idem: String,
    error: String,
}

async fn apply_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    code: &str,
) -> Result<ApplyPage, AppError> {
    let applicant = applicant_of(state, user).await?;
    let view = state.catalog().await?;
    let item = view
        .get(code)
        .ok_or_else(|| AppError::not_found(format!("没有事项 {code}")))?;
    let today = state.today();
    let held: Vec<tongban_store::licences::Licence> = state
        .store
        .licences_of_holder(applicant.id)
        .await?
        .into_iter()
        .filter(|l| l.usable_on(today))
        .collect();
    let licence_fields = state
        .store
        .item_licence_type(code)
        .await?
        .map(|t| t.fields)
        .unwrap_or_default();
    Ok(ApplyPage {
        ctx: PageCtx::new(viewer, csrf),
        code: code.to_string(),
        item_name: item.item.name.clone(),
        applicant: format!("{}（{}）", applicant.name, applicant.masked_id()),
        materials: item
            .materials
            .iter()
            .enumerate()
            .map(|(i, m)| ApplyMaterial {
                i,
                name: m.name.clone(),
                required: m.necessity == tongban_core::catalog::Necessity::Required,
                licence: held
                    .iter()
                    .find(|l| !m.licence_type.is_empty() && l.type_code == m.licence_type)
                    .map(|l| {
                        (
                            l.licence_id.clone(),
                            format!("{} {}", l.type_name, l.number),
                        )
                    }),
                use_licence: true,
                kept: String::new(),
                kept_name: String::new(),
                error: String::new(),
            })
            .collect(),
        details: licence_fields
            .into_iter()
            .enumerate()
            .map(|(i, name)| DetailField {
                i: i + 1,
                name,
                value: String::new(),
                error: String::new(),
            })
            .collect(),
        delivery: "electronic".into(),
        address: String::new(),
        delivery_error: String::new(),
        address_error: String::new(),
        idem: new_key(),
        error: String::new(),
    })
}

pub async fn apply_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    if tongban_core::capability::holds(user.role, Capability::ReceiveAtWindow) {
        return Ok(
            Redirect::to(&format!("/window?item={}", crate::auth::url_encode(&code)))
                .into_response(),
        );
    }
    let page = apply_page(&state, &viewer, &csrf, &user, &code).await?;
    Ok(render(page)?.into_response())
}

/// Puts an error message beside the field it is about (the summary stays at the top).
fn place_error(page: &mut ApplyPage, message: &str) {
    for m in &mut page.materials {
        let named = message.contains(&format!("「{}」", m.name))
            || (!m.kept_name.is_empty() && message.contains(&format!("「{}」", m.kept_name)))
            || (m.use_licence
                && m.licence
                    .as_ref()
                    .is_some_and(|(id, _)| message.contains(id.as_str())));
        if named && m.error.is_empty() {
            m.error = message.to_string();
        }
    }
    for d in &mut page.details {
        if message.contains(&format!("「{}」", d.name)) || message.contains(&d.name) {
            d.error = message.to_string();
        }
    }
    if message.contains("地址") {
        page.address_error = message.to_string();
    } else if message.contains("送达方式") {
        page.delivery_error = message.to_string();
    }
}

pub async fn apply_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(code): Path<String>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let applicant = applicant_of(&state, &user).await?;
    let (fields, files) = read_form(mp).await?;
    let mut page = apply_page(&state, &viewer, &csrf, &user, &code).await?;
    // Everything typed comes back on the page if anything is wrong.
    page.delivery = match f(&fields, "delivery") {
        v @ ("electronic" | "post" | "window") => v.to_string(),
        _ => page.delivery,
    };
    page.address = f(&fields, "address").chars().take(200).collect();
    for d in &mut page.details {
        d.value = f(&fields, &format!("detail_{}", d.name))
            .chars()
            .take(300)
            .collect();
    }
    for m in &mut page.materials {
        m.use_licence = m.licence.is_some() && !f(&fields, &format!("use{}", m.i)).is_empty();
        if let Some((sha, name)) = kept_scan(f(&fields, &format!("kept{}", m.i))) {
            m.kept = format!("{sha}:{name}");
            m.kept_name = name;
        }
    }
    let result = async {
        // Each file is stored on its own, so a bad one does not cost the others: they are
        // kept server-side and shown as attached on the next attempt.
        let mut upload_error: Option<AppError> = None;
        for file in files {
            let Some(i) = file
                .field
                .strip_prefix("file")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|i| *i < page.materials.len())
            else {
                continue;
            };
            if page.materials[i].use_licence {
                continue;
            }
            let name = file.file_name.clone();
            match store_uploads(&state, &user, std::slice::from_ref(&file)).await {
                Ok(stored) => {
                    for (_, file_name, sha) in stored {
                        page.materials[i].kept = format!("{sha}:{file_name}");
                        page.materials[i].kept_name = file_name;
                    }
                }
                Err(e) => {
                    let e = AppError::from(e);
                    page.materials[i].error = e.message.clone();
                    page.materials[i].kept = String::new();
                    page.materials[i].kept_name = String::new();
                    tracing::debug!(file = %name, "upload refused on the apply form");
                    upload_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = upload_error {
            return Err(e);
        }
        let mut materials = Vec::new();
        for m in &page.materials {
            if m.use_licence {
                if let Some((id, _)) = &m.licence {
                    materials.push(MaterialRef {
                        name: m.name.clone(),
                        sha256: None,
                        file_name: None,
                        licence_id: Some(id.clone()),
                        trust: Some('A'),
                    });
                }
            } else if let Some((sha, file_name)) = m.kept.split_once(':') {
                materials.push(MaterialRef {
                    name: m.name.clone(),
                    sha256: Some(sha.to_string()),
                    file_name: Some(file_name.to_string()),
                    licence_id: None,
                    trust: Some('C'),
                });
            }
        }
        let delivery = parse_delivery(f(&fields, "delivery"), f(&fields, "address"))?;
        let details = tongban_app::cases::details_from(
            fields.iter().filter(|(k, _)| k.starts_with("detail_")),
        )?
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("detail_").to_string(), v))
        .collect();
        submit(
            &state,
            &user,
            Submission {
                impl_code: &code,
                applicant: &applicant,
                channel: Channel::Online,
                delivery,
                materials,
                idem_key: Some(f(&fields, "idempotency_key")),
                details,
            },
        )
        .await
        .map_err(AppError::from)
    }
    .await;
    match result {
        Ok((rec, _)) => {
            Ok(Redirect::to(&format!("/cases/{}/receipt", rec.case_no)).into_response())
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            if e.message.starts_with("缺少必要材料") {
                for m in page.materials.iter_mut().filter(|m| {
                    m.required && m.kept.is_empty() && !(m.use_licence && m.licence.is_some())
                }) {
                    m.error = "此项为必要材料，请上传".into();
                }
            }
            place_error(&mut page, &e.message);
            // The same idempotency key: a retry of this application, not a second one.
            page.idem = f(&fields, "idempotency_key").chars().take(64).collect();
            if page.idem.is_empty() {
                page.idem = new_key();
            }
            page.error = e.message;
            Ok((e.status, render(page)?).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    ctx: PageCtx,
    c: CaseRecord,
    /// The 一件事 this case is a member of (issue #17).
    bundle_no: Option<String>,
    back: &'static str,
    error: String,
    /// The success notice after an action (role=status).
    flash: String,
    /// The text typed into a form that could not be applied (a stale tab), shown again.
    kept_text: String,
    /// The licence this case issued: (id, label), a link to its page.
    licence: Option<(String, String)>,
    status: &'static str,
    step: String,
    applicant: String,
    channel: &'static str,
    delivery: String,
    waybill: String,
    accepted_on: String,
    promised_due: String,
    legal_due: String,
    /// Why the due dates are provisional (empty when they are not).
    provisional: String,
    remaining: String,
    notice_left: String,
    correction: String,
    /// Required materials the case lacks (受理 is refused without 容缺受理).
    missing_required: Vec<String>,
    shortfall_max_days: u32,
    /// The open notice's items: (slot index, item, already answered).
    correction_slots: Vec<(usize, String, bool)>,
    /// The licence of this approved case is still being signed (outbox job pending).
    licence_pending: bool,
    actions: Vec<ActionView>,
    special_kinds: &'static [&'static str],
    special_max_days: u32,
    /// 不予受理的类别: (code, label).
    not_accept_categories: Vec<(&'static str, &'static str)>,
    correction_days_default: u32,
    /// The extension cap of this case, in working days.
    extension_cap: u32,
    /// Joint processing: the part beyond 10 days needs the government's approval.
    joint: bool,
    correction_due: String,
    special_expected_end: String,
    timeline: Vec<(&'static str, String, String, String)>,
    /// The case's materials: (n from 1, label, whether the viewer may open its file).
    materials: Vec<(usize, String, bool)>,
    /// Who opened the materials (issue #12), shown to the applicant and the handlers:
    /// (when, who, role and department, which material).
    material_views: Vec<(String, String, String, String)>,
    /// Written notices (文书): (n, title, number, date).
    notices: Vec<(u32, &'static str, String, String)>,
    /// 好差评: the applicant's prompt and the ratings given (rendered by the ratings module).
    rating: String,
}

struct ActionView {
    code: &'static str,
    label: &'static str,
    /// The heading of the action's own section.
    heading: &'static str,
    /// What the text field of `pass`/`return` is for (承办意见, 审核意见, 审批意见, 退回理由).
    text_label: &'static str,
    /// Irreversible: the form asks for an explicit confirmation (a required checkbox).
    confirm: bool,
    /// What the user typed in this form before a refusal (kept, e.g. after a 409).
    typed: Fields,
}

impl ActionView {
    /// A value typed into this form before the page came back.
    fn v(&self, k: &str) -> &str {
        f(&self.typed, k)
    }
}

/// Actions that cannot be undone: the page asks for a confirmation before them.
pub(crate) const IRREVERSIBLE: [&str; 4] = ["withdraw", "not_accept", "refuse", "void"];

/// The view of one action on this case: the approval step decides what `pass` means —
/// 承办 proposes (提交审核/拟同意), only the last step approves.
fn action_view(code: &'static str, state: &tongban_core::case::Case, typed: Fields) -> ActionView {
    let last = state.step + 1 >= state.steps.len();
    let (label, heading, text_label) = match code {
        "pass" if state.step == 0 && !last => {
            ("提交审核（拟同意）", "承办", "承办意见（拟办意见）")
        }
        "pass" if !last => ("审核同意，提交下一环节", "审核", "审核意见"),
        "pass" => ("批准（准予许可）", "审批", "审批意见"),
        "return" => ("退回上一环节", "退回", "退回理由"),
        "accept" => ("受理", "受理", ""),
        "not_accept" => ("不予受理", "不予受理", ""),
        "refuse" => ("不予许可", "不予许可", ""),
        "request_correction" => ("发出补正告知", "补正告知", ""),
        "withdraw" => ("撤回申请", "撤回申请", ""),
        "void" => ("作废", "作废", ""),
        other => (action_label(other), action_label(other), ""),
    };
    ActionView {
        code,
        label,
        heading,
        text_label,
        confirm: IRREVERSIBLE.contains(&code),
        typed,
    }
}

/// The notice shown after an action succeeded (the redirect carries `?done=`).
fn flash_of(done: &str) -> String {
    match done {
        "accept" => "已受理，办件已转入审批。".into(),
        "accept_with_shortfall" => "已容缺受理，已告知申请人补齐期限。".into(),
        "pass" => "意见已提交，办件已转入下一环节（或已办结）。".into(),
        "return" => "已退回上一环节。".into(),
        "refuse" => "已作出不予许可决定，决定书已生成。".into(),
        "not_accept" => "已作出不予受理决定，决定书已生成。".into(),
        "withdraw" => "申请已撤回。".into(),
        "request_correction" => "补正告知已发出，申请人将收到通知。".into(),
        "submit_correction" => "补正材料已提交。".into(),
        "void" => "办件已作废。".into(),
        "" => String::new(),
        other => match action_label(other) {
            "办理" => String::new(),
            l => format!("「{l}」已办理。"),
        },
    }
}

#[derive(serde::Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    done: String,
}

/// What comes back on the case page besides the case: an error, a success notice, the
/// fields typed into a refused form, and the version the user had seen (for a 409).
#[derive(Default)]
struct PageNote {
    error: String,
    flash: String,
    typed: Fields,
    seen_version: Option<i64>,
}

fn action_label(a: &str) -> &'static str {
    match a {
        "accept" => "受理",
        "not_accept" => "不予受理",
        "request_correction" => "发出补正告知",
        "pass" => "提交（通过本环节）",
        "return" => "退回上一环节",
        "refuse" => "不予批准",
        "start_special" => "启动特别程序（暂停计时）",
        "end_special" => "结束特别程序（恢复计时）",
        "extend" => "批准延长期限",
        "withdraw" => "撤回申请",
        "register_delivery" => "登记送达",
        "confirm_receipt" => "确认已收到",
        "charge_fee" => "登记收费",
        "submit_correction" => "提交补正材料",
        "expire_correction" => "补正逾期办结",
        "void" => "作废",
        _ => "办理",
    }
}

fn event_detail(e: &Event) -> String {
    match e {
        Event::ShortfallTolerated {
            missing,
            reason,
            due,
        } => format!(
            "容缺材料：{}；理由：{reason}；须于 {due} 前补齐",
            missing.join("、")
        ),
        Event::Submitted {
            channel,
            delivery,
            materials,
            ..
        } => format!(
            "{}申请，{}份材料，{}",
            channel.label(),
            materials.len(),
            delivery.label()
        ),
        Event::CorrectionRequested {
            items,
            notice_due,
            correction_due,
        } => match correction_due {
            Some(due) => format!(
                "需补正：{}（告知期限 {notice_due}，请于 {due} 前补正）",
                items.join("；")
            ),
            None => format!("需补正：{}（告知期限 {notice_due}）", items.join("；")),
        },
        Event::CorrectionSubmitted { materials, .. } => format!("补交 {} 份材料", materials.len()),
        Event::Accepted {
            on,
            promised_due,
            legal_due,
            deemed,
        } => {
            let base = format!("承诺办结期限 {promised_due}，法定期限 {legal_due}");
            if *deemed {
                format!("{base}（未在5个工作日内告知补正，依法自收到材料之日 {on} 起受理）")
            } else {
                base
            }
        }
        Event::NotAccepted {
            reasons,
            category,
            competent_agency,
            rights,
        } => {
            let mut t = match category {
                Some(c) => format!("{}：{reasons}", c.label()),
                None => format!("理由：{reasons}"),
            };
            if let Some(a) = competent_agency {
                t.push_str(&format!("（请向{a}申请）"));
            }
            if !rights.is_empty() {
                t.push_str(&format!("。{rights}"));
            }
            t
        }
        Event::StepPassed { name, opinion, .. } => format!("{name}：{opinion}"),
        Event::StepReturned { name, opinion, .. } => format!("{name} 退回：{opinion}"),
        Event::Completed {
            outcome,
            reasons,
            rights,
            ..
        } => {
            if rights.is_empty() {
                format!("{}。{reasons}", outcome.label())
            } else {
                format!("{}。{reasons}。{rights}", outcome.label())
            }
        }
        Event::SpecialStarted {
            procedure,
            reason,
            expected_days,
            expected_end,
            ..
        } => match (expected_days, expected_end) {
            (Some(n), Some(end)) => {
                format!("{procedure}：{reason}（暂停计时，预计 {n} 个工作日，至 {end}）")
            }
            _ => format!("{procedure}：{reason}（暂停计时）"),
        },
        Event::SpecialEnded {
            result,
            paused_days,
            promised_due,
            ..
        } => format!("{result}（暂停 {paused_days} 个工作日，承诺期限顺延至 {promised_due}）"),
        Event::Extended {
            days,
            reason,
            promised_due,
            legal_due,
            approved_by_government,
        } => format!(
            "延长 {days} 个工作日：{reason}（承诺期限 {promised_due}，法定期限 {legal_due}）{}",
            if *approved_by_government {
                "，经本级人民政府负责人批准"
            } else {
                ""
            }
        ),
        Event::Withdrawn { reason } => format!("原因：{reason}"),
        Event::Voided { reasons, .. } => format!("理由：{reasons}"),
        Event::CorrectionExpired { correction_due, .. } => {
            format!("申请人未在补正期限 {correction_due} 前补正")
        }
        Event::DeliveryRegistered { method, waybill } => {
            if waybill.is_empty() {
                method.clone()
            } else {
                format!("{method}，邮件号 {waybill}")
            }
        }
        Event::ReceiptConfirmed {} => String::new(),
        Event::DeliveryTracked {
            waybill,
            status,
            at,
            reason,
            ..
        } => {
            let label = tongban_core::hall::ParcelStatus::parse(status).map_or("", |s| s.label());
            let at = at
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                .format("%Y-%m-%d %H:%M");
            if reason.is_empty() {
                format!("邮件 {waybill} {label}（{at}）")
            } else {
                format!("邮件 {waybill} {label}（{at}），原因：{reason}")
            }
        }
        Event::DeadlinesRecomputed {
            promised_due,
            legal_due,
            years,
        } => format!(
            "{}年节假日安排已载入：承诺期限 {promised_due}，法定期限 {legal_due}",
            years
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join("、")
        ),
        Event::LicenceIssued { licence_id, .. } => format!("电子证照 {licence_id}"),
        Event::LicenceStatusChanged {
            licence_id,
            status,
            reason,
        } => format!("{licence_id}：{status}（{reason}）"),
        Event::FeeCharged { amount_fen, note } => format!(
            "收费 {}.{:02} 元 {note}",
            amount_fen / 100,
            amount_fen % 100
        ),
        Event::SupervisionOrdered {
            order_no,
            instruction,
            due,
        } => format!("{order_no}：{instruction}（限 {due} 前）"),
        Event::SupervisionAnswered { order_no, answer } => format!("{order_no}：{answer}"),
        Event::EvidenceConsented { resources } => {
            format!("同意通过共享交换调取：{}", resources.join("、"))
        }
        Event::EvidenceFetched {
            provider,
            material,
            request_id,
            ..
        } => format!(
            "{}（提供方 {provider}，请求 {request_id}，可信等级 A）",
            material.name
        ),
        Event::SupervisionClosed {
            order_no,
            escalated,
            note,
        } => format!(
            "{order_no}：{}{note}",
            if *escalated {
                "升级督办。"
            } else {
                "办结。"
            }
        ),
        Event::Rated {
            stage,
            channel,
            level,
            ..
        } => format!("{stage} · {channel} · {level}星"),
        Event::RatingExcluded { reason, .. } => reason.clone(),
    }
}

async fn case_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    user: &User,
    case_no: &str,
    note: PageNote,
) -> Result<Html<String>, PageError> {
    let (rec, access) = tongban_app::cases::read_case(state, user, case_no).await?;
    let PageNote {
        mut error,
        flash,
        typed,
        seen_version,
    } = note;
    let cal = state.calendar().await?;
    let today = state.today();
    let events = state.store.case_events(rec.id).await?;
    let applicant = state.store.applicant(rec.applicant_id).await?;
    let s = &rec.state;
    let notice_left = match s.correction_notice_days_left(today, &cal) {
        Ok(Some(n)) if access == Access::Staff => {
            format!("还剩 {n} 个工作日（《行政许可法》第三十二条：5个工作日内一次性告知）")
        }
        _ => String::new(),
    };
    let (remaining, _) = remaining_text(today, &rec, &cal);
    let notices = tongban_app::notices::of_case(state, &rec)
        .await?
        .into_iter()
        .map(|n| (n.n, n.title, n.number, n.date.to_string()))
        .collect();
    let rating =
        crate::ratings::case_block(state, user, &rec, access == Access::Owner, &csrf.0).await?;
    let standing = tongban_app::authz::case_standing(state, user, &rec).await?;
    let may_open = tongban_app::materials::may_open(user, standing);
    let material_views = if may_open {
        state
            .store
            .material_views(rec.id, tongban_app::materials::VIEWS_SHOWN)
            .await?
            .into_iter()
            .map(|v| {
                (
                    beijing_text(&v.at),
                    v.viewer,
                    if v.department.is_empty() {
                        v.viewer_role
                    } else {
                        format!("{}·{}", v.department, v.viewer_role)
                    },
                    format!("材料{}：{}", v.material, v.material_name),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    // A stale tab: say what happened since the user opened the page, keep what they typed.
    let mut kept_text = String::new();
    if let Some(seen) = seen_version {
        let changes: Vec<String> = events
            .iter()
            .filter(|e| e.case_version > seen)
            .map(|e| {
                format!(
                    "{}（{}，{}）",
                    e.event.label(),
                    e.actor,
                    beijing_text(&e.at)
                )
            })
            .collect();
        if !changes.is_empty() {
            error = format!(
                "您打开页面后，此办件已有新的办理：{}。您填写的内容已保留，请核对后重新提交。",
                changes.join("；")
            );
        }
        kept_text = ["opinion", "reason", "reasons", "items"]
            .iter()
            .map(|k| f(&typed, k).trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
    }
    let typed_action = f(&typed, "action").to_string();
    let licence = if s.outcome == Some(tongban_core::case::Outcome::Approved) {
        state
            .store
            .licence_of_case(&rec.case_no)
            .await?
            .map(|l| (l.licence_id, format!("{} {}", l.type_name, l.number)))
    } else {
        None
    };
    let bundle_no = rec.bundle_no.clone();
    let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
    render(CasePage {
        bundle_no,
        flash,
        kept_text,
        licence,
        rating,
        ctx: PageCtx::new(viewer, csrf),
        back: if access == Access::Owner {
            "/my/cases"
        } else {
            "/cases"
        },
        error,
        status: s.status.label(),
        step: s.current_step().map(|x| x.name.clone()).unwrap_or_default(),
        applicant: format!("{}（{}）", applicant.name, applicant.masked_id()),
        channel: s.channel.label(),
        delivery: match &s.delivery {
            Delivery::Post { address } => format!("邮政寄递：{address}"),
            other => other.label().to_string(),
        },
        waybill: s.waybill.clone().unwrap_or_default(),
        accepted_on: d(s.accepted_on),
        promised_due: d(s.promised_due),
        legal_due: d(s.legal_due),
        provisional: if s.deadlines_provisional(&cal) {
            s.accepted_on
                .zip(s.legal_due.max(s.promised_due))
                .map(|(from, to)| {
                    tongban_core::messages::provisional_note(
                        &cal.provisional_years_between(from, to),
                    )
                })
                .unwrap_or_default()
        } else {
            String::new()
        },
        remaining,
        notice_left,
        correction: s.correction_items.join("；"),
        missing_required: if s.status == Status::Submitted && access == Access::Staff {
            tongban_app::cases::missing_required(state, &rec).await?
        } else {
            vec![]
        },
        shortfall_max_days: tongban_core::case::SHORTFALL_MAX_DAYS,
        correction_slots: s
            .correction_items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                (
                    i,
                    item.clone(),
                    !s.correction_still_missing().contains(item),
                )
            })
            .collect(),
        licence_pending: s.outcome == Some(tongban_core::case::Outcome::Approved)
            && tongban_app::cases::licence_pending(state, &rec.case_no).await?,
        actions: available_actions(&rec, user, access, today, &cal)
            .into_iter()
            .map(|code| {
                let typed = if typed_action == code
                    || (code == "accept" && typed_action == "accept_with_shortfall")
                {
                    typed.clone()
                } else {
                    Fields::new()
                };
                action_view(code, s, typed)
            })
            .collect(),
        special_kinds: SPECIAL_KINDS,
        special_max_days: SPECIAL_MAX_DAYS,
        not_accept_categories: NotAcceptCategory::ALL
            .iter()
            .map(|c| (c.code(), c.label()))
            .collect(),
        correction_days_default: CORRECTION_DAYS_DEFAULT,
        extension_cap: s.limits.extension_cap(),
        joint: s.limits.joint,
        correction_due: d(s.correction_due),
        special_expected_end: d(s.special_expected_end),
        timeline: events
            .iter()
            .map(|e| {
                (
                    e.event.label(),
                    e.actor.clone(),
                    beijing_text(&e.at),
                    event_detail(&e.event),
                )
            })
            .collect(),
        materials: s
            .materials
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (
                    i + 1,
                    format!(
                        "{}{}",
                        m.name,
                        m.file_name
                            .as_ref()
                            .map(|n| format!("（{n}）"))
                            .unwrap_or_default()
                    ),
                    may_open && m.sha256.is_some(),
                )
            })
            .collect(),
        material_views,
        notices,
        c: rec,
    })
}

pub async fn case_detail(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Html<String>, PageError> {
    let note = PageNote {
        flash: flash_of(&q.done),
        ..Default::default()
    };
    case_page(&state, &viewer, &csrf, &user, &no, note).await
}

pub async fn case_act(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    let version: Option<i64> = f(&fields, "version").parse().ok();
    let result = async {
        let version = version.ok_or_else(|| AppError::bad_request("缺少办件版本号"))?;
        let cmd = command_from(&fields)?;
        let action = f(&fields, "action");
        // An irreversible action offered on this page needs its confirmation box ticked
        // (the browser asks first; this holds without JavaScript and for hand-made posts).
        // Actions the user may not take fall through to the usual refusal.
        if IRREVERSIBLE.contains(&action) && f(&fields, "confirm") != "yes" {
            let (rec, access) = case_for(&state, &user, &no).await?;
            let cal = state.calendar().await?;
            if available_actions(&rec, &user, access, state.today(), &cal).contains(&action) {
                return Err(AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "confirmation_required",
                    format!("「{}」不可撤销，请勾选确认后再提交", action_label(action)),
                ));
            }
        }
        execute(&state, &user, &no, version, &cmd)
            .await
            .map_err(AppError::from)
    }
    .await;
    match result {
        Ok(_) => {
            let done: String = f(&fields, "action")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            Ok(Redirect::to(&format!("/cases/{no}?done={done}")).into_response())
        }
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::BAD_REQUEST
            ) =>
        {
            let typed: Fields = fields
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "version" | "confirm"))
                .map(|(k, v)| (k.clone(), v.chars().take(2000).collect()))
                .collect();
            let note = PageNote {
                error: e.message,
                typed,
                seen_version: (e.status == StatusCode::CONFLICT)
                    .then_some(version)
                    .flatten(),
                ..Default::default()
            };
            let page = case_page(&state, &viewer, &csrf, &user, &no, note).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn case_correction(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
    mp: Multipart,
) -> Result<Response, PageError> {
    let result = async {
        let (fields, files) = read_form(mp).await?;
        let version: i64 = f(&fields, "version")
            .parse()
            .map_err(|_| AppError::bad_request("缺少办件版本号"))?;
        let (rec, access) = case_for(&state, &user, &no).await?;
        // Only the applicant answers a notice (staff are refused before the files are read).
        if access != Access::Owner {
            return Err(AppError::from(tongban_app::Error::forbidden_because(
                "补正材料只能由申请人本人提交",
            )));
        }
        // One upload slot per item of the notice (`item-{i}`); each file is labelled by the
        // item it answers, never by the whole notice.
        let items = &rec.state.correction_items;
        let item_of = |field: &str| -> Option<String> {
            if let Some(i) = field.strip_prefix("item-") {
                return i.parse::<usize>().ok().and_then(|i| items.get(i).cloned());
            }
            (items.len() == 1).then(|| items[0].clone())
        };
        if let Some(f) = files.iter().find(|f| item_of(&f.field).is_none()) {
            return Err(AppError::bad_request(format!(
                "文件「{}」未对应补正告知中的任何一项，请在对应项目下上传",
                f.file_name
            )));
        }
        if files.is_empty() {
            return Err(AppError::bad_request("请至少为一项补正内容上传文件"));
        }
        let stored = store_uploads(&state, &user, &files).await?;
        let materials = stored
            .into_iter()
            .map(|(field, name, sha)| MaterialRef {
                name: item_of(&field).unwrap_or_default(),
                sha256: Some(sha),
                file_name: Some(name),
                licence_id: None,
                trust: Some('C'),
            })
            .collect();
        execute(
            &state,
            &user,
            &no,
            version,
            &tongban_core::case::Command::SubmitCorrection { materials },
        )
        .await
        .map_err(AppError::from)
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{no}?done=submit_correction")).into_response()),
        Err(e)
            if e.status.is_client_error()
                && e.status != StatusCode::NOT_FOUND
                && e.status != StatusCode::FORBIDDEN =>
        {
            let note = PageNote {
                error: e.message,
                ..Default::default()
            };
            let page = case_page(&state, &viewer, &csrf, &user, &no, note).await?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    case_no: String,
    item_name: String,
    applicant: String,
    submitted_at: String,
    channel: &'static str,
    materials: String,
    promised: String,
    delivery: &'static str,
    /// Results go by post (free of charge): only then does the receipt promise it.
    postal: bool,
    status: &'static str,
    next_step: String,
    department: String,
    phone: String,
    /// A QR of the case page, to follow the case from the phone.
    case_qr: String,
    /// 好差评: a QR with a one-time link to rate the window visit.
    rate_qr: String,
}

/// What happens next to a case, as the receipt tells the applicant.
fn next_step_of(rec: &CaseRecord) -> String {
    let s = &rec.state;
    match s.status {
        Status::Submitted => {
            "等待预审：工作人员核对材料后决定受理、一次性告知补正或不予受理，结果将通知您".into()
        }
        Status::AwaitingCorrection => "请按补正告知逐项上传材料，补齐后办件回到预审".into(),
        Status::InApproval => match s.current_step() {
            Some(step) => format!("已受理，正在审批（当前环节：{}）", step.name),
            None => "已受理，正在审批".into(),
        },
        Status::Suspended => "特别程序中（暂停计时），结束后继续审批".into(),
        Status::Completed => "已办结，等待送达办理结果".into(),
        Status::Dispatched => "办理结果已寄出，收到后请确认".into(),
        _ => "办理已结束".into(),
    }
}

pub async fn receipt(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(no): Path<String>,
) -> Result<Html<String>, PageError> {
    let (rec, _) = tongban_app::cases::read_case(&state, &user, &no).await?;
    let applicant = state.store.applicant(rec.applicant_id).await?;
    let rate_qr = crate::ratings::receipt_qr(&state, &rec).await?;
    let l = &rec.state.limits;
    let dept = state.store.department(rec.department_id).await.ok();
    render(ReceiptPage {
        rate_qr,
        postal: matches!(rec.state.delivery, Delivery::Post { .. }),
        status: rec.state.status.label(),
        next_step: next_step_of(&rec),
        department: dept.as_ref().map(|d| d.name.clone()).unwrap_or_default(),
        phone: dept
            .map(|d| d.phone)
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "12345".into()),
        case_qr: tongban_core::rating::qr_svg(&format!("{}/cases/{}", state.base_url, rec.case_no))
            .replacen(
                "aria-label=\"评价二维码\"",
                "aria-label=\"办件查询二维码\"",
                1,
            ),
        ctx: PageCtx::new(&viewer, &csrf),
        item_name: rec.item_name.clone(),
        applicant: format!("{}（{}）", applicant.name, applicant.masked_id()),
        submitted_at: beijing_text(&rec.submitted_at),
        channel: rec.state.channel.label(),
        materials: if rec.state.materials.is_empty() {
            "（窗口核验原件）".into()
        } else {
            rec.state
                .materials
                .iter()
                .map(|m| m.name.clone())
                .collect::<Vec<_>>()
                .join("、")
        },
        promised: if l.immediate {
            "即办".into()
        } else {
            format!("{} 个{}", l.promised, l.promised_unit.as_str())
        },
        delivery: rec.state.delivery.label(),
        case_no: rec.case_no,
    })
}

struct Row {
    no: String,
    item: String,
    status: &'static str,
    step: String,
    due: String,
    remaining: String,
    overdue: bool,
    warn: bool,
    submitted: String,
    /// Under a 督办 order that is not closed.
    supervised: bool,
}

#[derive(Template)]
#[template(path = "case_list.html")]
struct ListPage {
    ctx: PageCtx,
    heading: String,
    show_search: bool,
    action: &'static str,
    q: String,
    status: String,
    from: String,
    to: String,
    statuses: Vec<(&'static str, &'static str)>,
    total: i64,
    rows: Vec<Row>,
    messages: Vec<ThreadRow>,
}

/// One case's messages in a list of threads.
struct ThreadRow {
    /// `/my/messages/{key}`: the case number, or [`NO_CASE`].
    key: String,
    /// "办件 … · 事项" or "其他消息".
    title: String,
    unread: i64,
    total: i64,
    last_at: String,
    last_text: String,
}

/// The thread key of the messages tied to no case (a case number never reads so).
const NO_CASE: &str = "other";

fn thread_rows(threads: Vec<tongban_store::messages::Thread>) -> Vec<ThreadRow> {
    threads
        .into_iter()
        .map(|t| ThreadRow {
            title: thread_title(&t.case_no, &t.item_name),
            key: if t.case_no.is_empty() {
                NO_CASE.into()
            } else {
                t.case_no
            },
            unread: t.unread,
            total: t.total,
            last_at: beijing_text(&t.last_at),
            last_text: t.last_text,
        })
        .collect()
}

fn thread_title(case_no: &str, item: &str) -> String {
    match (case_no.is_empty(), item.is_empty()) {
        (true, _) => "其他消息（与办件无关）".into(),
        (false, true) => format!("办件 {case_no}"),
        (false, false) => format!("{item}（办件 {case_no}）"),
    }
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    ctx: PageCtx,
    threads: Vec<ThreadRow>,
}

/// The applicant's messages, one group per case with its unread count.
pub async fn my_messages(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    let applicant = applicant_of(&state, &user).await?;
    let threads = thread_rows(state.store.message_threads(applicant.id).await?);
    render(MessagesPage {
        ctx: PageCtx::new(&viewer, &csrf),
        threads,
    })
}

#[derive(Template)]
#[template(path = "message_thread.html")]
struct ThreadPage {
    ctx: PageCtx,
    title: String,
    case_no: String,
    /// (time, text, unread until this visit)
    messages: Vec<(String, String, bool)>,
}

/// One case's messages, oldest first; opening the thread marks them read.
pub async fn my_message_thread(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Path(key): Path<String>,
) -> Result<Html<String>, PageError> {
    let applicant = applicant_of(&state, &user).await?;
    let case_no = if key == NO_CASE { "" } else { key.as_str() };
    // Anything but a case number names no thread (and never reaches the database:
    // PostgreSQL refuses a NUL in text).
    let plain = case_no.is_empty()
        || tongban_core::codes::CaseNo::parse(case_no).is_ok_and(|c| c.as_str() == case_no);
    let list = if plain {
        state.store.message_thread(applicant.id, case_no).await?
    } else {
        vec![]
    };
    if list.is_empty() {
        return Err(AppError::new(StatusCode::NOT_FOUND, "not_found", "没有这组消息").into());
    }
    state
        .store
        .mark_thread_read(applicant.id, case_no, state.now())
        .await?;
    let item = if case_no.is_empty() {
        String::new()
    } else {
        state
            .store
            .message_threads(applicant.id)
            .await?
            .into_iter()
            .find(|t| t.case_no == case_no)
            .map(|t| t.item_name)
            .unwrap_or_default()
    };
    // The badge in the header counts what is still unread after this visit.
    let mut viewer = viewer;
    viewer.unread = state.store.unread_messages_of_user(user.id).await?;
    render(ThreadPage {
        ctx: PageCtx::new(&viewer, &csrf),
        title: thread_title(case_no, &item),
        case_no: case_no.to_string(),
        messages: list
            .into_iter()
            .map(|(m, unread)| (beijing_text(&m.at), m.text, unread))
            .collect(),
    })
}

fn rows_of(
    state: &AppState,
    recs: &[CaseRecord],
    cal: &tongban_core::calendar::WorkCalendar,
) -> Vec<Row> {
    let today = state.today();
    recs.iter()
        .map(|r| {
            let (remaining, n) = remaining_text(today, r, cal);
            Row {
                no: r.case_no.clone(),
                item: r.item_name.clone(),
                status: r.status.label(),
                step: r
                    .state
                    .current_step()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                due: r
                    .state
                    .promised_due
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "—".into()),
                overdue: n.is_some_and(|n| n < 0),
                warn: n.is_some_and(|n| (0..=2).contains(&n)),
                remaining,
                submitted: beijing_text(&r.submitted_at),
                supervised: false,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    heading: String,
    filter: CaseFilter,
    search: Option<(&'static str, &ListQuery)>,
    messages: Vec<ThreadRow>,
) -> Result<Html<String>, PageError> {
    let (recs, total) = state.store.find_cases(&filter).await?;
    let cal = state.calendar().await?;
    list_page_of(
        state, viewer, csrf, heading, recs, total, &cal, search, messages,
    )
}

#[allow(clippy::too_many_arguments)]
fn list_page_of(
    state: &AppState,
    viewer: &Viewer,
    csrf: &CsrfToken,
    heading: String,
    recs: Vec<CaseRecord>,
    total: i64,
    cal: &tongban_core::calendar::WorkCalendar,
    search: Option<(&'static str, &ListQuery)>,
    messages: Vec<ThreadRow>,
) -> Result<Html<String>, PageError> {
    let empty = ListQuery::default();
    let (action, q) = search.unwrap_or(("", &empty));
    render(ListPage {
        ctx: PageCtx::new(viewer, csrf),
        heading,
        show_search: search.is_some(),
        action,
        q: q.q.clone(),
        status: q.status.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        statuses: Status::ALL.iter().map(|s| (s.code(), s.label())).collect(),
        total,
        rows: rows_of(state, &recs, cal),
        messages,
    })
}

pub async fn my_cases(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    let applicant = applicant_of(&state, &user).await?;
    let messages = thread_rows(state.store.message_threads(applicant.id).await?);
    let filter = CaseFilter {
        applicant_id: Some(applicant.id),
        limit: 100,
        ..Default::default()
    };
    list_page(
        &state,
        &viewer,
        &csrf,
        format!("我的办件（{}）", applicant.name),
        filter,
        None,
        messages,
    )
    .await
}

pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let scope = search_scope(&state, &user).await?;
    let filter = search_filter(&user, scope, &q)?;
    list_page(
        &state,
        &viewer,
        &csrf,
        "办件查询".into(),
        filter,
        Some(("/cases", &q)),
        vec![],
    )
    .await
}

pub async fn desk(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    let scope = search_scope(&state, &user).await?;
    let mut filter = CaseFilter {
        statuses: vec![
            Status::Submitted,
            Status::AwaitingCorrection,
            Status::Completed,
        ],
        limit: 200,
        ..Default::default()
    };
    if scope != Scope::Any {
        filter.department_id = Some(user.department_id.unwrap_or(-1));
    }
    list_page(
        &state,
        &viewer,
        &csrf,
        "综合窗口：待预审、待补正、待送达".into(),
        filter,
        None,
        vec![],
    )
    .await
}

pub async fn inbox(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
) -> Result<Html<String>, PageError> {
    tongban_app::authz::require_scope(&state, &user, Capability::WorkInbox)
        .await
        .map_err(|e| e.with_message("部门待办仅对部门审批人员和负责人开放"))?;
    let dept = user.department_id.unwrap_or(0);
    let name = state
        .store
        .department(dept)
        .await
        .map(|d| d.name)
        .unwrap_or_default();
    let filter = CaseFilter {
        department_id: Some(dept),
        // Cases with the department (in approval or in a special procedure), by deadline.
        by_deadline: true,
        limit: 200,
        ..Default::default()
    };
    let (recs, _) = state.store.find_cases(&filter).await?;
    let cal = state.calendar().await?;
    let today = state.today();
    // Only the cases this user can act on now (a step of another role is not their work).
    let mut mine = Vec::new();
    // The list holds the department's own cases: the user stands as its staff.
    for rec in recs {
        // Fees, extensions and special procedures may be recorded at any step; they do not
        // make a case the user's work.
        if available_actions(&rec, &user, Access::Staff, today, &cal)
            .iter()
            .any(|a| !matches!(*a, "charge_fee" | "start_special" | "extend"))
        {
            mine.push(rec);
        }
        if mine.len() >= 50 {
            break;
        }
    }
    let supervised: std::collections::HashSet<String> = state
        .store
        .orders(Some(dept))
        .await?
        .into_iter()
        .filter(|o| o.status != "closed")
        .map(|o| o.case_no)
        .collect();
    let total = mine.len() as i64;
    let mut page = ListPage {
        ctx: PageCtx::new(&viewer, &csrf),
        heading: format!("{name} 待办（按期限排序，仅列出您可办理的办件）"),
        show_search: false,
        action: "",
        q: String::new(),
        status: String::new(),
        from: String::new(),
        to: String::new(),
        statuses: vec![],
        total,
        rows: rows_of(&state, &mine, &cal),
        messages: vec![],
    };
    for r in &mut page.rows {
        r.supervised = supervised.contains(&r.no);
    }
    render(page)
}

#[derive(Template)]
#[template(path = "window.html")]
struct WindowPage {
    ctx: PageCtx,
    q: String,
    /// Search hits: (code, name, department).
    hits: Vec<(String, String, String)>,
    item: String,
    item_name: String,
    item_dept: String,
    checklist: Vec<ChecklistRow>,
    idem: String,
    error: String,
    name_error: String,
    kind: String,
    id_number: String,
    name: String,
    mobile: String,
    legal_rep: String,
    delivery: String,
    address: String,
}

/// One material of the item at the window: what the clerk received and checked.
struct ChecklistRow {
    i: usize,
    name: String,
    required: bool,
    received: bool,
    original: bool,
    copies: String,
    /// A scan uploaded with an earlier attempt and kept: `sha256:file name`.
    kept: String,
    kept_name: String,
}

#[derive(serde::Deserialize, Default)]
pub struct WindowQuery {
    #[serde(default)]
    item: String,
    #[serde(default)]
    q: String,
}

const WINDOW_HITS: usize = 20;

impl WindowPage {
    fn new(viewer: &Viewer, csrf: &CsrfToken) -> Self {
        WindowPage {
            ctx: PageCtx::new(viewer, csrf),
            q: String::new(),
            hits: vec![],
            item: String::new(),
            item_name: String::new(),
            item_dept: String::new(),
            checklist: vec![],
            idem: new_key(),
            error: String::new(),
            name_error: String::new(),
            kind: "person".into(),
            id_number: String::new(),
            name: String::new(),
            mobile: String::new(),
            legal_rep: String::new(),
            delivery: "window".into(),
            address: String::new(),
        }
    }

    /// Finds the item: an exact 实施编码, or a search by name, pinyin or initials (the
    /// catalog search of the portal).
    async fn find(&mut self, state: &AppState, item: &str, q: &str) -> Result<(), AppError> {
        let view = state.catalog().await?;
        let item = item.trim();
        if let Some(i) = view.get(item).filter(|i| i.item.item_type.is_application()) {
            self.item = i.item.impl_code.clone();
            self.item_name = i.item.name.clone();
            self.item_dept = i.item.department.clone();
            self.checklist = i
                .materials
                .iter()
                .enumerate()
                .map(|(n, m)| ChecklistRow {
                    i: n,
                    name: m.name.clone(),
                    required: m.necessity == tongban_core::catalog::Necessity::Required,
                    received: false,
                    original: false,
                    copies: m.paper_copies.to_string(),
                    kept: String::new(),
                    kept_name: String::new(),
                })
                .collect();
            return Ok(());
        }
        let q: String = if q.trim().is_empty() { item } else { q.trim() }
            .chars()
            .take(50)
            .collect();
        self.q = q.clone();
        if q.is_empty() {
            return Ok(());
        }
        let query = tongban_app::catalog::ItemQuery {
            q,
            ..Default::default()
        };
        self.hits = tongban_app::catalog::find_items(&view, &query)
            .into_iter()
            .take(WINDOW_HITS)
            .map(|i| {
                (
                    i.item.impl_code.clone(),
                    i.item.name.clone(),
                    i.item.department.clone(),
                )
            })
            .collect();
        Ok(())
    }
}

pub async fn window_form(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    Query(q): Query<WindowQuery>,
) -> Result<Html<String>, PageError> {
    tongban_app::authz::require_scope(&state, &user, Capability::ReceiveAtWindow)
        .await
        .map_err(|e| e.with_message("综合窗口收件仅对窗口人员开放"))?;
    let mut page = WindowPage::new(&viewer, &csrf);
    page.find(&state, &q.item, &q.q).await?;
    render(page)
}

/// A kept scan (`sha256:file name`) from an earlier attempt of the same form.
fn kept_scan(v: &str) -> Option<(String, String)> {
    let (sha, name) = v.split_once(':')?;
    (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) && name.chars().count() <= 200)
        .then(|| (sha.to_ascii_lowercase(), name.to_string()))
}

pub async fn window_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    SignedIn(user): SignedIn,
    mp: Multipart,
) -> Result<Response, PageError> {
    tongban_app::authz::require_scope(&state, &user, Capability::ReceiveAtWindow)
        .await
        .map_err(|e| e.with_message("综合窗口收件仅对窗口人员开放"))?;
    let (fields, files) = read_form(mp).await?;
    let mut page = WindowPage::new(&viewer, &csrf);
    page.find(&state, f(&fields, "item"), "").await?;
    for (k, v) in [
        (&mut page.kind, "kind"),
        (&mut page.id_number, "id_number"),
        (&mut page.name, "name"),
        (&mut page.mobile, "mobile"),
        (&mut page.legal_rep, "legal_rep"),
        (&mut page.delivery, "delivery"),
        (&mut page.address, "address"),
    ] {
        *k = f(&fields, v).chars().take(200).collect();
    }
    for row in &mut page.checklist {
        let on = |k: String| matches!(f(&fields, &k), "on" | "true" | "1");
        row.received = on(format!("recv-{}", row.i));
        row.original = on(format!("orig-{}", row.i));
        row.copies = f(&fields, &format!("copies-{}", row.i))
            .chars()
            .take(3)
            .collect();
        if let Some((sha, name)) = kept_scan(f(&fields, &format!("kept-{}", row.i))) {
            row.kept = format!("{sha}:{name}");
            row.kept_name = name;
        }
    }
    let result = async {
        if page.item_name.is_empty() {
            return Err(AppError::bad_request("请先查找并选择事项"));
        }
        // Scans are stored first and kept for the next attempt if anything else is wrong.
        let stored = store_uploads(&state, &user, &files).await?;
        for (field, name, sha) in stored {
            if let Some(row) = field
                .strip_prefix("file-")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| page.checklist.get_mut(i))
            {
                row.kept = format!("{sha}:{name}");
                row.kept_name = name;
                row.received = true;
            }
        }
        let applicant = tongban_app::applicants::find_or_register(
            &state,
            &crate::forms::applicant_details(&fields),
        )
        .await
        .inspect_err(|e| {
            if e.message.contains("姓名") {
                page.name_error = e.message.clone();
            }
        })?;
        let mut materials = Vec::new();
        let mut record = Vec::new();
        for row in &page.checklist {
            if !row.received && row.kept.is_empty() {
                continue;
            }
            let copies: u32 = row.copies.trim().parse().unwrap_or(0);
            let (sha, file_name) = match row.kept.split_once(':') {
                Some((s, n)) => (Some(s.to_string()), Some(n.to_string())),
                None => (None, None),
            };
            materials.push(MaterialRef {
                name: row.name.clone(),
                sha256: sha,
                file_name,
                licence_id: None,
                trust: Some(if row.original { 'B' } else { 'C' }),
            });
            record.push(format!(
                "{}：{}，复印件{}份",
                row.name,
                if row.original {
                    "原件已核验"
                } else {
                    "原件未核验"
                },
                copies
            ));
        }
        let delivery = parse_delivery(&page.delivery, &page.address)?;
        let mut details = serde_json::Map::new();
        if !record.is_empty() {
            details.insert(
                "窗口收件清单".into(),
                serde_json::Value::String(record.join("；").chars().take(290).collect()),
            );
        }
        submit(
            &state,
            &user,
            Submission {
                impl_code: &page.item,
                applicant: &applicant,
                channel: Channel::Window,
                delivery,
                materials,
                idem_key: Some(f(&fields, "idempotency_key")),
                details,
            },
        )
        .await
        .map_err(AppError::from)
    }
    .await;
    match result {
        Ok((rec, _)) => Ok(Redirect::to(&format!("/cases/{}", rec.case_no)).into_response()),
        Err(e) if e.status.is_client_error() => {
            let status = e.status;
            page.error = e.message;
            Ok((status, render(page)?).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    ctx: PageCtx,
    error: String,
    name: String,
    id_number: String,
    mobile: String,
    legal_rep: String,
    username: String,
}

pub async fn register_form(viewer: Viewer, csrf: CsrfToken) -> Result<Html<String>, PageError> {
    render(RegisterPage {
        ctx: PageCtx::new(&viewer, &csrf),
        error: String::new(),
        name: String::new(),
        id_number: String::new(),
        mobile: String::new(),
        legal_rep: String::new(),
        username: String::new(),
    })
}

/// Registers an applicant account after (simulated) real-name verification.
pub async fn register_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    csrf: CsrfToken,
    crate::session::ConnectInfoAddr(client): crate::session::ConnectInfoAddr,
    Form(fields): Form<Fields>,
) -> Result<Response, PageError> {
    match tongban_app::applicants::register(
        &state,
        &crate::forms::applicant_details(&fields),
        f(&fields, "username"),
        f(&fields, "password"),
    )
    .await
    .map_err(AppError::from)
    {
        Ok((user, _)) => {
            let password = f(&fields, "password");
            // Signed in like any other sign-in: audited, within the session limit.
            match tongban_app::security::login(&state, &user.username, password, &client).await? {
                Ok((_, token)) => {
                    let mut res = Redirect::to("/my/cases").into_response();
                    res.headers_mut().append(SET_COOKIE, session_cookie(&token));
                    Ok(res)
                }
                Err(_) => Ok(Redirect::to("/login").into_response()),
            }
        }
        Err(e) if e.status.is_client_error() => {
            let page = render(RegisterPage {
                ctx: PageCtx::new(&viewer, &csrf),
                error: e.message,
                name: f(&fields, "name").into(),
                id_number: f(&fields, "id_number").into(),
                mobile: f(&fields, "mobile").into(),
                legal_rep: f(&fields, "legal_rep").into(),
                username: f(&fields, "username").into(),
            })?;
            Ok((e.status, page).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}
