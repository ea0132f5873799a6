//! Applications and the approval workflow: apply online or at any window, pre-review
//! (受理 / 补正 / 不予受理), approval steps, special procedures, extension, withdrawal,
//! delivery — every action decided by the core and appended to the case ledger.

pub use crate::authz::{case_for, Access};
use crate::error::{Error, ErrorKind};
use crate::notify::notify_applicant as notify;
use crate::App;
use std::collections::HashMap;
use tongban_core::capability::{Capability, Scope};
use tongban_core::case::{
    default_steps, Actor, Channel, Command, Delivery, Event, Limits, MaterialRef,
    NotAcceptCategory, Refusal,
};
use tongban_core::catalog::{CaseKind, Necessity};
use tongban_core::roles::Role;
use tongban_store::accounts::User;
use tongban_store::cases::CaseFilter;
use tongban_store::cases::{Applicant, CaseRecord, NewCase};
use tongban_store::catalog::ItemStatus;
use tongban_store::jobs::NewJob;

/// Per-file upload limit.
pub const MAX_MATERIAL_BYTES: usize = 10 * 1024 * 1024;

pub fn actor_of(role: Role) -> Option<Actor> {
    match role {
        Role::Person | Role::Enterprise => Some(Actor::Applicant),
        Role::Clerk => Some(Actor::Clerk),
        Role::Approver => Some(Actor::Approver),
        Role::Head => Some(Actor::Head),
        _ => None,
    }
}

/// [`case_for`] for a read of the case (page, API, receipt): a staff member's read of
/// someone's case is recorded in the audit log (personal data, 等保 level 3).
pub async fn read_case(
    state: &App,
    user: &User,
    case_no: &str,
) -> Result<(CaseRecord, Access), Error> {
    let found = case_for(state, user, case_no).await?;
    crate::security::record_personal_read(state, user, "case", case_no).await;
    Ok(found)
}

fn refusal(e: Refusal) -> Error {
    e.into()
}

/// Decides and records a command. Two people acting at once: one succeeds, the other
/// gets a 409 conflict and nothing of theirs is stored.
pub async fn execute(
    state: &App,
    user: &User,
    case_no: &str,
    expected_version: i64,
    cmd: &Command,
) -> Result<CaseRecord, Error> {
    let (rec, _) = case_for(state, user, case_no).await?;
    if rec.version != expected_version {
        // Someone acted since this user looked: say so, rather than judging the command
        // against a state they have not seen.
        return Err(Error::conflict(tongban_core::messages::stale_case(
            case_no,
            rec.version,
            expected_version,
        )));
    }
    let actor = actor_of(user.role).ok_or_else(|| {
        Error::forbidden_because(tongban_core::messages::ROLE_CANNOT_HANDLE_CASES)
    })?;
    let checked;
    let cmd = match cmd {
        Command::Accept | Command::AcceptWithShortfall { .. }
            if rec.state.allowed(cmd.action(), actor).is_ok() =>
        {
            checked = with_checklist(state, &rec, cmd).await?;
            &checked
        }
        _ => cmd,
    };
    let cal = state.calendar().await?;
    let today = state.today();
    let events = match rec.state.decide(cmd, actor, today, &cal) {
        Ok(e) => e,
        Err(e) => {
            flag_refusal_attempt(state, &rec, cmd, &e, user).await;
            if let Refusal::NotPermitted(why) = &e {
                // A command the user's role may not give: audited like every refusal.
                if let Err(err) = state
                    .store
                    .record_audit(
                        state.now(),
                        &user.username,
                        "access.refused",
                        &format!("{} {case_no}：{why}", cmd.action().code()),
                    )
                    .await
                {
                    tracing::warn!(error = %err, "could not audit a refusal");
                }
            }
            return Err(refusal(e));
        }
    };
    if let Command::SubmitCorrection { materials } = cmd {
        claim_files(state, user, materials).await?;
    }
    let sup = supervise(state, &rec, &events, &cal).await?;
    // An approval that issues a licence writes the issuance job with the decision.
    let approved = events.iter().any(|e| {
        matches!(
            e,
            Event::Completed {
                outcome: tongban_core::case::Outcome::Approved,
                ..
            }
        )
    });
    let jobs = if approved
        && state
            .store
            .item_licence_type(&rec.impl_code)
            .await?
            .is_some()
    {
        vec![NewJob::issue_licence(case_no)]
    } else {
        vec![]
    };
    // The rating invitations (受理, 办结) are stored with the events, sent after.
    let invitations = crate::ratings::invitations_for(&rec, &events);
    let links: Vec<_> = invitations.iter().map(|i| i.row.clone()).collect();
    let rec = state
        .store
        .append_case_events_inviting(
            &rec,
            &events,
            &user.username,
            state.now(),
            &sup,
            &jobs,
            &links,
        )
        .await?;
    // Only a member of a 一件事 has anything to move on (read with the case).
    if rec.bundle_no.is_some() {
        (state.after_case_change)(state, case_no).await;
    }
    notify(
        state,
        rec.applicant_id,
        &format!("办件{case_no}状态更新：{}", rec.status.label()),
    )
    .await;
    crate::ratings::send_invitations(state, &rec, &invitations).await;
    for job in &jobs {
        if state.faults.stops_after_decision() {
            break;
        }
        // Done at once when it can be; otherwise the worker retries it (the case page
        // shows 证照签发中 meanwhile).
        match crate::jobs::run_now(state, job).await {
            Ok(true) => return Ok(state.store.case_by_no(case_no).await?),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(case_no, error = %e.message, "follow-up job left to the worker")
            }
        }
    }
    Ok(rec)
}

/// Who the ledger names when the platform itself ends a case.
pub const SYSTEM_ACTOR: &str = "电子监察系统";

/// Ends a case whose correction deadline has passed (补正逾期), as the supervision worker
/// does; false when there is nothing to do (answered, or already ended meanwhile).
pub async fn expire_correction(state: &App, case_no: &str) -> Result<bool, Error> {
    let rec = state.store.case_by_no(case_no).await?;
    let cal = state.calendar().await?;
    // The worker acts as the window would: the same rule as a clerk's command.
    let Ok(events) = rec.state.decide(
        &Command::ExpireCorrection,
        Actor::Clerk,
        state.today(),
        &cal,
    ) else {
        return Ok(false);
    };
    let sup = supervise(state, &rec, &events, &cal).await?;
    let rec = state
        .store
        .append_case_events(&rec, &events, SYSTEM_ACTOR, state.now(), &sup, &[])
        .await?;
    // Only a member of a 一件事 has anything to move on (read with the case).
    if rec.bundle_no.is_some() {
        (state.after_case_change)(state, case_no).await;
    }
    notify(
        state,
        rec.applicant_id,
        &format!("办件{case_no}未在补正期限内补正，已按补正逾期办结；如需办理请重新申请"),
    )
    .await;
    Ok(true)
}

/// True while the licence of an approved case is still being signed (an outbox job).
pub async fn licence_pending(state: &App, case_no: &str) -> Result<bool, Error> {
    Ok(state
        .store
        .pending_job(tongban_store::jobs::ISSUE_LICENCE, case_no)
        .await?
        .is_some())
}

/// Supervision for a change: event rules on the new events, timer rules on the new state.
async fn supervise(
    state: &App,
    rec: &CaseRecord,
    events: &[Event],
    cal: &tongban_core::calendar::WorkCalendar,
) -> Result<tongban_store::supervision::SupervisionWrite, Error> {
    use tongban_core::supervision::{event_findings, parse_fee_amounts, EventContext};
    let mut after = rec.state.clone();
    for e in events {
        after.apply(e);
    }
    let view = state.catalog().await?;
    let item = view.get(&rec.impl_code).map(|i| &i.item);
    let mut ctx = EventContext {
        item_fully_online: item
            .is_some_and(|i| i.depth_level() == tongban_core::catalog::DepthLevel::Four),
        item_charged: item.is_some_and(|i| i.charged),
        fee_amounts_fen: item
            .map(|i| parse_fee_amounts(&i.fee_standard))
            .unwrap_or_default(),
        earlier_open_cases: 0,
        today: Some(state.today()),
    };
    if events.iter().any(|e| matches!(e, Event::Completed { .. })) {
        if let Some(accepted) = rec.state.accepted_on {
            ctx.earlier_open_cases = state
                .store
                .earlier_open_cases(&rec.impl_code, rec.department_id, accepted, rec.id)
                .await?;
        }
    }
    let raise = event_findings(&rec.state, events, &ctx, cal);
    timers_for(state, &after, raise, cal)
}

/// Adds the timer rules that hold for `after` today and when to look again.
pub fn timers_for(
    state: &App,
    after: &tongban_core::case::Case,
    mut raise: Vec<tongban_core::supervision::Finding>,
    cal: &tongban_core::calendar::WorkCalendar,
) -> Result<tongban_store::supervision::SupervisionWrite, Error> {
    use tongban_core::supervision::{next_check, timer_findings};
    let today = state.today();
    let timers = timer_findings(after, today, cal, &state.thresholds)
        .map_err(|e| Error::invalid(e.to_string()))?;
    let timer_holding = timers.iter().map(|f| (f.rule, f.cause.clone())).collect();
    raise.extend(timers);
    Ok(tongban_store::supervision::SupervisionWrite {
        raise,
        timer_holding,
        next_check_on: next_check(after, today, cal, &state.thresholds)
            .map_err(|e| Error::invalid(e.to_string()))?,
        keep_open_timers: false,
    })
}

/// 不予受理 / 不予批准 without reasons is refused by the core; supervision records the attempt.
async fn flag_refusal_attempt(
    state: &App,
    rec: &CaseRecord,
    cmd: &Command,
    e: &Refusal,
    user: &User,
) {
    // Only a refusal with no reasons at all (one refused for another fault, such as a
    // missing competent agency, is not this).
    let without_reasons = match cmd {
        Command::NotAccept { reasons, .. } | Command::Refuse { reasons } => {
            reasons.trim().is_empty()
        }
        _ => false,
    };
    if !(without_reasons && matches!(e, Refusal::Invalid(_))) {
        return;
    }
    let what = if matches!(cmd, Command::NotAccept { .. }) {
        "不予受理"
    } else {
        "不予批准"
    };
    let finding = tongban_core::supervision::Finding {
        rule: tongban_core::supervision::Rule::RefusalWithoutReasons,
        cause: format!(
            "attempt:{}:{}",
            user.username,
            state.now().timestamp_millis()
        ),
        detail: format!(
            "{} 试图在未说明理由的情况下作出{what}，已被系统拒绝",
            user.display_name
        ),
    };
    if let Err(err) = state
        .store
        .flag_attempt(&rec.case_no, &finding, state.now())
        .await
    {
        tracing::error!(error = %err, "could not record a supervision flag");
    }
}

/// The item's required materials the case does not hold (by name: an uploaded file, an
/// e-licence, or paper received at the window).
pub async fn missing_required(state: &App, rec: &CaseRecord) -> Result<Vec<String>, Error> {
    let view = state.catalog().await?;
    let Some(item) = view.get(&rec.impl_code) else {
        return Ok(vec![]);
    };
    Ok(item
        .materials
        .iter()
        .filter(|m| m.necessity == Necessity::Required)
        .filter(|m| !rec.state.materials.iter().any(|r| r.name == m.name))
        .map(|m| m.name.clone())
        .collect())
}

/// 受理 checks the item's material checklist (issue #12): with a required material missing
/// it is refused unless the clerk records 容缺受理 (reason and deadline); the missing list
/// is taken from the checklist, never from the request.
async fn with_checklist(state: &App, rec: &CaseRecord, cmd: &Command) -> Result<Command, Error> {
    let missing = missing_required(state, rec).await?;
    match cmd {
        Command::Accept if !missing.is_empty() => Err(Error::invalid(format!(
            "缺少必要材料：{}。材料不全不能受理；确需容缺受理的，请登记容缺理由和补齐期限",
            missing.join("、")
        ))),
        Command::AcceptWithShortfall {
            reason, due_days, ..
        } => Ok(Command::AcceptWithShortfall {
            missing,
            reason: reason.clone(),
            due_days: *due_days,
        }),
        other => Ok(other.clone()),
    }
}

/// An uploaded material file, checked by content.
pub struct Upload {
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Files one user may upload in 24 hours.
pub const MAX_UPLOADS_PER_DAY: u64 = 200;
/// Bytes one user may upload in 24 hours.
pub const MAX_UPLOAD_BYTES_PER_DAY: u64 = 500 * 1024 * 1024;

/// Checks every file first (type by content, size, the user's daily quota), then stores
/// them all, recording `user` as their uploader.
pub async fn store_uploads(
    state: &App,
    user: &User,
    files: &[Upload],
) -> Result<Vec<(String, String, String)>, Error> {
    let (count, bytes) = state
        .store
        .uploads_since(user.id, state.now() - chrono::Duration::hours(24))
        .await?;
    let new_bytes: u64 = files.iter().map(|f| f.bytes.len() as u64).sum();
    if count + files.len() as u64 > MAX_UPLOADS_PER_DAY
        || bytes + new_bytes > MAX_UPLOAD_BYTES_PER_DAY
    {
        return Err(Error::new(
            ErrorKind::TooMany,
            "quota_exceeded",
            format!(
                "24小时内最多上传{MAX_UPLOADS_PER_DAY}个文件、共{}MB，请明天再试",
                MAX_UPLOAD_BYTES_PER_DAY / 1024 / 1024
            ),
        ));
    }
    for f in files {
        if f.bytes.len() > MAX_MATERIAL_BYTES {
            return Err(Error::new(
                ErrorKind::TooLarge,
                "too_large",
                format!(
                    "文件「{}」超过{}MB上限",
                    f.file_name,
                    MAX_MATERIAL_BYTES / 1024 / 1024
                ),
            ));
        }
        if tongban_store::objects::sniff_material(&f.bytes).is_none() {
            return Err(Error::new(
                ErrorKind::UnsupportedType,
                "unsupported_type",
                format!(
                    "文件「{}」的内容不是 PDF、JPG、PNG 或 OFD（系统按文件内容识别，不看扩展名）",
                    f.file_name
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for f in files {
        let media =
            tongban_store::objects::sniff_material(&f.bytes).unwrap_or("application/octet-stream");
        let sha = state.objects.put(&f.bytes).await.map_err(Error::internal)?;
        state
            .store
            .record_upload(&sha, f.bytes.len(), media, user.id, state.now())
            .await?;
        out.push((f.field.clone(), f.file_name.clone(), sha));
    }
    Ok(out)
}

/// A case may cite only files its submitter uploaded (another user's SHA-256 is refused);
/// citing marks them used, so the worker does not purge them.
async fn claim_files(state: &App, user: &User, materials: &[MaterialRef]) -> Result<(), Error> {
    let shas: Vec<String> = materials.iter().filter_map(|m| m.sha256.clone()).collect();
    Ok(state
        .store
        .claim_uploads(user.id, &shas, state.now())
        .await?)
}

/// Uploads no case cited within a day: their rows and objects are removed.
pub async fn purge_unused_uploads(state: &App) -> Result<usize, Error> {
    let mut total = 0;
    loop {
        let shas = state.store.purge_unused_uploads(state.now(), 500).await?;
        for sha in &shas {
            if let Err(e) = state.objects.delete(sha).await {
                tracing::warn!(sha, error = %e, "could not delete an unused upload's object");
            }
        }
        total += shas.len();
        if shas.len() < 500 {
            return Ok(total);
        }
    }
}

pub fn parse_delivery(method: &str, address: &str) -> Result<Delivery, Error> {
    match method {
        "window" | "窗口领取" | "" => Ok(Delivery::Window),
        "post" | "邮政寄递" => Ok(Delivery::Post {
            address: address.trim().to_string(),
        }),
        "electronic" | "电子送达" => Ok(Delivery::Electronic),
        other => Err(Error::invalid(format!("送达方式无效：{other}"))),
    }
}

pub struct Submission<'a> {
    pub impl_code: &'a str,
    pub applicant: &'a Applicant,
    pub channel: Channel,
    pub delivery: Delivery,
    pub materials: Vec<MaterialRef>,
    pub idem_key: Option<&'a str>,
    /// Form details (e.g. the fields the resulting licence prints).
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// Opens a case for an item in service. Online applications must bring every required
/// material; at the window the clerk checks originals on the spot.
pub async fn submit(
    state: &App,
    user: &User,
    s: Submission<'_>,
) -> Result<(CaseRecord, bool), Error> {
    check_submission(&s)?;
    let view = state.catalog().await?;
    let item = view
        .get(s.impl_code)
        .filter(|i| i.status == ItemStatus::Active && i.item.item_type.is_application())
        .ok_or_else(|| Error::not_found(format!("没有可申请的事项 {}", s.impl_code)))?;
    if s.channel != Channel::Window {
        let missing: Vec<&str> = item
            .materials
            .iter()
            .filter(|m| m.necessity == Necessity::Required)
            .filter(|m| {
                !s.materials
                    .iter()
                    .any(|r| r.name == m.name && (r.sha256.is_some() || r.licence_id.is_some()))
            })
            .map(|m| m.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "缺少必要材料：{}",
                missing.join("、")
            )));
        }
    }
    // Licences offered instead of paper (免提交) are checked before anything is stored:
    // issued by this platform, usable, held by this applicant, of the type the material names.
    let mut materials = s.materials;
    for m in materials.iter_mut().filter(|m| m.licence_id.is_some()) {
        let id = m.licence_id.clone().unwrap_or_default();
        let wanted = item
            .materials
            .iter()
            .find(|x| x.name == m.name)
            .map(|x| x.licence_type.clone())
            .unwrap_or_default();
        let l = state
            .store
            .licence(&id)
            .await
            .map_err(|_| Error::invalid(format!("电子证照 {id} 不存在")))?;
        if l.holder_applicant_id != s.applicant.id {
            return Err(Error::invalid(format!("电子证照 {id} 不属于申请人")));
        }
        if !l.usable_on(state.today()) {
            return Err(Error::invalid(format!(
                "电子证照 {id} 当前状态为「{}」，不能作为申请材料",
                l.status_label()
            )));
        }
        if wanted.is_empty() || wanted != l.type_code {
            return Err(Error::invalid(format!(
                "材料「{}」不接受该类电子证照",
                m.name
            )));
        }
        m.trust = Some('A');
        m.sha256 = None;
    }
    let it = &item.item;
    let limits = Limits {
        immediate: it.kind == CaseKind::Immediate,
        promised: it.promised_limit,
        promised_unit: it.promised_unit,
        legal: it.legal_limit,
        legal_unit: it.legal_unit,
        joint: false,
        extension_cap: None,
    };
    let workflow = state.store.item_workflow(&it.impl_code).await?;
    let limits = Limits {
        joint: workflow.as_ref().is_some_and(|w| w.joint),
        extension_cap: workflow.as_ref().and_then(|w| w.extension_cap),
        ..limits
    };
    let steps = match (limits.immediate, workflow) {
        (true, _) => vec![],
        (false, Some(w)) => w.steps,
        (false, None) => default_steps(),
    };
    let first = Event::Submitted {
        channel: s.channel,
        delivery: s.delivery,
        materials: materials.clone(),
        received_on: state.today(),
        steps,
        limits,
        details: s.details.clone(),
    };
    let opened =
        tongban_core::case::Case::open(&first).map_err(|e| Error::invalid(e.to_string()))?;
    let cal = state.calendar().await?;
    let ctx = tongban_core::supervision::EventContext {
        item_fully_online: it.depth_level() == tongban_core::catalog::DepthLevel::Four,
        today: Some(state.today()),
        ..Default::default()
    };
    let raise = tongban_core::supervision::event_findings(
        &opened,
        std::slice::from_ref(&first),
        &ctx,
        &cal,
    );
    let sup = timers_for(state, &opened, raise, &cal)?;
    let uploads: Vec<String> = materials.iter().filter_map(|m| m.sha256.clone()).collect();
    let (rec, created) = state
        .store
        .open_case(
            NewCase {
                region: &state.region,
                impl_code: &it.impl_code,
                item_name: &it.name,
                department_id: item.department_id,
                applicant_id: s.applicant.id,
                created_by: user.id,
                idem_key: s.idem_key.filter(|k| !k.trim().is_empty()),
                first,
                uploads: &uploads,
            },
            &user.username,
            state.now(),
            &sup,
        )
        .await?;
    if created {
        for m in materials.iter().filter(|m| m.licence_id.is_some()) {
            let id = m.licence_id.as_deref().unwrap_or_default();
            state
                .store
                .record_licence_use(
                    id,
                    &rec.case_no,
                    &user.username,
                    &format!("免提交：{}", m.name),
                    state.now(),
                )
                .await?;
        }
        notify(
            state,
            s.applicant.id,
            &format!("您的申请已收到，办件编号{}", rec.case_no),
        )
        .await;
    }
    Ok((rec, created))
}

fn text_error(e: tongban_core::text::TextError) -> Error {
    Error::invalid(e.to_string())
}

/// Issue #13: what an application may carry: at most 50 materials, names of materials and
/// files (≤ 100 characters) and the postal address (≤ 200) on one line without control,
/// bidi or zero-width characters. Checked before anything is stored.
pub fn check_submission(s: &Submission<'_>) -> Result<(), Error> {
    use tongban_core::text::{at_most, single_line, MAX_ADDRESS, MAX_FILE_NAME, MAX_MATERIALS};
    at_most("申请材料", s.materials.len(), MAX_MATERIALS).map_err(text_error)?;
    for m in &s.materials {
        single_line("材料名称", &m.name, MAX_FILE_NAME).map_err(text_error)?;
        if let Some(f) = &m.file_name {
            single_line("文件名", f, MAX_FILE_NAME).map_err(text_error)?;
        }
        for id in [&m.sha256, &m.licence_id].into_iter().flatten() {
            single_line("材料标识", id, MAX_FILE_NAME).map_err(text_error)?;
        }
    }
    if let Delivery::Post { address } = &s.delivery {
        single_line("邮寄地址", address, MAX_ADDRESS).map_err(text_error)?;
    }
    if let Some(k) = s.idem_key {
        single_line("idempotency_key", k, MAX_FILE_NAME).map_err(text_error)?;
    }
    Ok(())
}

/// Issue #13: an applicant's name and legal representative (≤ 50 characters, one line, no
/// control, bidi or zero-width characters), checked before registration.
pub fn check_applicant(a: &tongban_store::cases::NewApplicant<'_>) -> Result<(), Error> {
    use tongban_core::text::{single_line, MAX_NAME, MAX_SHORT};
    single_line("姓名或企业名称", a.name.trim(), MAX_NAME).map_err(text_error)?;
    single_line("法定代表人", a.legal_rep.trim(), MAX_NAME).map_err(text_error)?;
    single_line("证件号码", a.id_number.trim(), MAX_SHORT).map_err(text_error)?;
    single_line("手机号码", a.mobile.trim(), MAX_SHORT).map_err(text_error)?;
    Ok(())
}

/// Parses a command from form or JSON fields. Reasons, opinions and notes may have several
/// lines (≤ 2,000 characters); 补正 items, procedures and waybill numbers are single lines.
pub fn command_from(fields: &HashMap<String, String>) -> Result<Command, Error> {
    check_command_fields(fields)?;
    let f = |k: &str| fields.get(k).map(String::as_str).unwrap_or("").to_string();
    command_from_checked(&f)
}

/// The length and character limits of a command's fields, whichever way it arrived.
pub fn check_command_fields(fields: &HashMap<String, String>) -> Result<(), Error> {
    use tongban_core::text::{at_most, multi_line, single_line, MAX_COMMENT, MAX_SHORT};
    for (k, v) in fields {
        match k.as_str() {
            "reasons" | "opinion" | "reason" | "result" | "note" => {
                multi_line(field_label(k), v, MAX_COMMENT).map_err(text_error)?
            }
            "items" => {
                multi_line(field_label(k), v, MAX_COMMENT).map_err(text_error)?;
                at_most(
                    "补正材料",
                    v.lines().count(),
                    tongban_core::text::MAX_MATERIALS,
                )
                .map_err(text_error)?;
                for line in v.lines() {
                    single_line("补正材料", line.trim_end_matches('\r'), MAX_SHORT)
                        .map_err(text_error)?;
                }
            }
            _ => single_line(field_label(k), v, MAX_SHORT).map_err(text_error)?,
        }
    }
    Ok(())
}

fn command_from_checked(f: &dyn Fn(&str) -> String) -> Result<Command, Error> {
    Ok(match f("action").as_str() {
        "accept" if !f("shortfall_reason").trim().is_empty() => Command::AcceptWithShortfall {
            missing: vec![],
            reason: f("shortfall_reason"),
            due_days: optional_days(&f("shortfall_days"), "容缺补齐期限")?
                .ok_or_else(|| Error::invalid("容缺受理须填写补齐期限（工作日）"))?,
        },
        "accept" => Command::Accept,
        "not_accept" => Command::NotAccept {
            // A form that names no category is 其他, which needs reasons like any other.
            category: match f("category").trim() {
                "" => NotAcceptCategory::Other,
                c => NotAcceptCategory::parse(c)
                    .ok_or_else(|| Error::invalid(format!("不予受理类别无效：{c}")))?,
            },
            reasons: f("reasons"),
            competent_agency: f("competent_agency"),
        },
        "request_correction" => Command::RequestCorrection {
            items: f("items").lines().map(str::to_string).collect(),
            correction_days: optional_days(&f("correction_days"), "补正期限")?,
        },
        "pass" => Command::Pass {
            opinion: f("opinion"),
        },
        "return" => Command::Return {
            opinion: f("opinion"),
        },
        "refuse" => Command::Refuse {
            reasons: f("reasons"),
        },
        "start_special" => Command::StartSpecial {
            procedure: f("procedure"),
            reason: f("reason"),
            expected_days: optional_days(&f("expected_days"), "特别程序预计时长")?.ok_or_else(
                || Error::invalid("须填写特别程序预计时长（工作日），并书面告知申请人"),
            )?,
        },
        "end_special" => Command::EndSpecial {
            result: f("result"),
        },
        "extend" => Command::Extend {
            days: f("days")
                .trim()
                .parse()
                .map_err(|_| Error::invalid("延长天数应为正整数"))?,
            reason: f("reason"),
            approved_by_government: matches!(
                f("approved_by_government").trim(),
                "true" | "on" | "1" | "yes"
            ),
        },
        "withdraw" => Command::Withdraw {
            reason: f("reason"),
        },
        "register_delivery" => Command::RegisterDelivery {
            waybill: f("waybill"),
        },
        "confirm_receipt" => Command::ConfirmReceipt,
        "expire_correction" => Command::ExpireCorrection,
        "void" => Command::Void {
            reasons: f("reasons"),
        },
        "charge_fee" => Command::ChargeFee {
            amount_fen: parse_yuan(&f("amount"))?,
            note: f("note"),
        },
        other => return Err(Error::invalid(format!("未知操作：{other}"))),
    })
}

/// A number of working days from a form field; empty means not given.
fn optional_days(s: &str, what: &str) -> Result<Option<u32>, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| Error::invalid(format!("{what}应为正整数（工作日）")))
}

fn field_label(k: &str) -> &str {
    match k {
        "reasons" => "理由",
        "opinion" => "意见",
        "reason" => "原因",
        "result" => "结果",
        "note" => "备注",
        "items" => "补正材料",
        "procedure" => "特别程序",
        "waybill" => "运单号",
        "amount" => "金额",
        other => other,
    }
}

/// What the viewer may do now, for the buttons on the case page: the same rule the core
/// applies when the command arrives ([`tongban_core::case::Case::allowed_on`]).
pub fn available_actions(
    rec: &CaseRecord,
    user: &User,
    access: Access,
    today: chrono::NaiveDate,
    cal: &tongban_core::calendar::WorkCalendar,
) -> Vec<&'static str> {
    let Some(actor) = actor_of(user.role) else {
        return vec![];
    };
    if actor == Actor::Applicant && access != Access::Owner {
        return vec![];
    }
    rec.state
        .available(actor, today, cal)
        .into_iter()
        .map(|a| a.code())
        .collect()
}

/// Parses an amount in yuan ("12", "12.5", "12.50", "¥12") into fen, with the core's
/// rules: no negatives, at most two decimals, at most [`tongban_core::money::Fen::CAP`].
pub fn parse_yuan(s: &str) -> Result<u64, Error> {
    tongban_core::money::Fen::parse_yuan(s)
        .map(|f| f.fen())
        .map_err(|e| Error::invalid(format!("金额有误：{e}")))
}

/// Checks form details: at most 20 short text fields.
pub fn details_from<'a>(
    pairs: impl Iterator<Item = (&'a String, &'a String)>,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let mut out = serde_json::Map::new();
    for (k, v) in pairs {
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || v.is_empty() {
            continue;
        }
        if k.chars().count() > 30 || v.chars().count() > 300 {
            return Err(Error::invalid(format!("申请信息「{k}」过长")));
        }
        tongban_core::text::single_line("申请信息项", k, 30).map_err(text_error)?;
        tongban_core::text::multi_line(k, v, 300).map_err(text_error)?;
        out.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    if out.len() > 20 {
        return Err(Error::invalid("申请信息项过多"));
    }
    Ok(out)
}

/// A staff search of cases: a 办件编号, a certificate number or a 实施编码, status, dates,
/// department.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub dept: String,
}

/// The scope in which the user may search cases (capability `SearchCases`); refusals audited.
pub async fn search_scope(state: &App, user: &User) -> Result<Scope, Error> {
    crate::authz::require_scope(state, user, Capability::SearchCases).await
}

/// Builds a search filter from the query; department-scoped staff only see their department.
pub fn search_filter(user: &User, scope: Scope, q: &ListQuery) -> Result<CaseFilter, Error> {
    let mut filter = CaseFilter {
        limit: 100,
        ..Default::default()
    };
    let term = q.q.trim();
    if !term.is_empty() {
        if term.len() == 20 && term.bytes().all(|b| b.is_ascii_digit()) {
            filter.case_no = Some(term.to_string());
        } else if term.len() == 18 && term.is_ascii() {
            filter.applicant_query = Some(term.to_string());
        } else {
            filter.impl_code = Some(term.to_string());
        }
    }
    if !q.status.is_empty() {
        filter.statuses = vec![tongban_core::case::Status::parse(&q.status)
            .ok_or_else(|| Error::invalid("状态无效"))?];
    }
    let day = |s: &str, what: &str| -> Result<Option<String>, Error> {
        if s.is_empty() {
            return Ok(None);
        }
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Error::invalid(format!("{what}应为 YYYY-MM-DD")))?;
        Ok(Some(s.to_string()))
    };
    filter.submitted_from = day(&q.from, "起始日期")?;
    filter.submitted_to = day(&q.to, "截止日期")?.map(|d| format!("{d}T99"));
    if scope != Scope::Any {
        filter.department_id = Some(user.department_id.unwrap_or(-1));
    } else if !q.dept.is_empty() {
        filter.department_id = Some(q.dept.parse().map_err(|_| Error::invalid("部门编号无效"))?);
    }
    Ok(filter)
}
