//! 一件事一次办 (issue #17): definitions imported and exported as data; one application
//! creating a bundle and one real case per selected member through [`crate::cases::submit`]
//! (every single-item rule applies: department, steps, legal clock, material checks);
//! members that need another's result start when it is 办结, citing its e-licence
//! (免提交); one timeline and a critical-path date recomputed as cases move; a refusal
//! handled as the definition says; supervision of the promised total limit; figures.

use crate::cases::{submit, Submission, SYSTEM_ACTOR};
use crate::error::Error;
use crate::App;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tongban_core::bundle::{
    critical_path, BundleDef, BundleFigures, Completion, Light, MemberProgress, OnRefusal,
};
use tongban_core::calendar::TimeUnit;
use tongban_core::capability::{holds, Capability};
use tongban_core::case::{Actor, Channel, Command, Delivery, MaterialRef, Outcome};
use tongban_core::catalog::Necessity;
use tongban_store::accounts::User;
use tongban_store::bundles::{BundleRecord, MemberRecord, NewBundle};
use tongban_store::cases::{Applicant, CaseRecord};
use tongban_store::catalog::{ItemStatus, StoredItem};
use tongban_store::StoreError;

/// Who the bundle's events name when the platform acts on the definition's rules.
pub const BUNDLE_ACTOR: &str = "一件事联办";

/// The latest version of every definition.
pub async fn definitions(state: &App) -> Result<Vec<BundleDef>, Error> {
    Ok(state.store.bundle_definitions().await?)
}

/// The latest version of a definition; 404 when there is none.
pub async fn definition(state: &App, code: &str) -> Result<BundleDef, Error> {
    state
        .store
        .bundle_definition(code)
        .await?
        .ok_or_else(|| Error::not_found(format!("没有这件事：{code}")))
}

/// The catalog items of a definition's members, by key; refused when one is not in service.
pub fn members_in_catalog(
    view: &crate::CatalogView,
    def: &BundleDef,
) -> Result<HashMap<String, StoredItem>, Error> {
    let mut out = HashMap::new();
    for m in &def.items {
        let found = view
            .active()
            .find(|i| {
                i.item.name == m.item
                    && i.item.department == m.department
                    && i.item.item_type.is_application()
            })
            .ok_or_else(|| {
                Error::invalid(format!(
                    "事项「{}」（{}）不在服务中，一件事「{}」暂不能办理",
                    m.item, m.department, def.name
                ))
            })?;
        out.insert(m.key.clone(), found.clone());
    }
    Ok(out)
}

/// Imports a definition (JSON) as the code's next version (administrators). Every member
/// must be an item in service.
pub async fn import(state: &App, user: &User, text: &str) -> Result<(BundleDef, u32), Error> {
    crate::authz::require(
        state,
        user,
        Capability::Administer,
        tongban_core::capability::Standing::Other,
        "bundle",
    )
    .await?;
    import_as(state, &user.username, text).await
}

/// Imports a definition on behalf of `actor` (the CLI, run by operators who hold the
/// database): checked and stored as [`import`] does, and audited.
pub async fn import_as(state: &App, actor: &str, text: &str) -> Result<(BundleDef, u32), Error> {
    let def = BundleDef::parse(text).map_err(|e| Error::invalid(e.0))?;
    let view = state.catalog().await?;
    members_in_catalog(&view, &def)?;
    let version = state
        .store
        .import_bundle_definition(&def, actor, state.now())
        .await?;
    state
        .store
        .record_audit(
            state.now(),
            actor,
            "bundle.import",
            &format!("{} 第 {version} 版", def.code),
        )
        .await?;
    Ok((def, version))
}

/// A definition as an import file.
pub async fn export(state: &App, code: &str) -> Result<String, Error> {
    Ok(definition(state, code).await?.to_json())
}

/// One material of an application: a file (`sha256`) or, at the window, paper seen.
#[derive(Debug, Clone)]
pub struct GivenMaterial {
    pub name: String,
    pub sha256: Option<String>,
}

/// One application for a bundle.
pub struct BundleApplication<'a> {
    pub applicant: &'a Applicant,
    pub channel: Channel,
    pub answers: BTreeMap<String, String>,
    pub fields: BTreeMap<String, String>,
    pub materials: Vec<GivenMaterial>,
    pub delivery: Delivery,
    pub idem_key: Option<&'a str>,
}

fn duration(item: &StoredItem) -> (u32, TimeUnit) {
    if item.item.kind == tongban_core::catalog::CaseKind::Immediate {
        (0, TimeUnit::WorkingDays)
    } else {
        (item.item.promised_limit, item.item.promised_unit)
    }
}

fn cal_error(e: tongban_core::calendar::CalendarError) -> Error {
    Error::invalid(e.to_string())
}

/// Applies for a bundle: checks the answers, the merged form and the material list before
/// anything is stored, then opens the bundle and starts every member that needs no other's
/// result. A retry with the same idempotency key returns the bundle already made (false).
pub async fn apply(
    state: &App,
    user: &User,
    code: &str,
    a: BundleApplication<'_>,
) -> Result<(BundleView, bool), Error> {
    let def = definition(state, code).await?;
    let selected = def.select(&a.answers).map_err(|e| Error::invalid(e.0))?;
    let details = def
        .details_for(&a.fields, &selected)
        .map_err(|e| Error::invalid(e.0))?;
    for d in details.values() {
        crate::cases::details_from(d.iter())?;
    }
    if let Some(k) = a.idem_key {
        tongban_core::text::single_line("idempotency_key", k, tongban_core::text::MAX_FILE_NAME)
            .map_err(|e| Error::invalid(e.to_string()))?;
    }
    tongban_core::text::at_most(
        "申请材料",
        a.materials.len(),
        tongban_core::text::MAX_MATERIALS,
    )
    .map_err(|e| Error::invalid(e.to_string()))?;
    let view = state.catalog().await?;
    let items = members_in_catalog(&view, &def)?;
    // The merged list: each material named once and known to the definition, each file
    // uploaded before.
    let mut given: BTreeMap<&str, &GivenMaterial> = BTreeMap::new();
    for m in &a.materials {
        if !def.materials.iter().any(|x| x.name == m.name) {
            return Err(Error::invalid(format!(
                "「{}」不在这件事的材料清单中",
                m.name
            )));
        }
        if given.insert(m.name.as_str(), m).is_some() {
            return Err(Error::invalid(format!("材料「{}」重复提交", m.name)));
        }
        if let Some(sha) = &m.sha256 {
            tongban_core::text::single_line("材料标识", sha, tongban_core::text::MAX_FILE_NAME)
                .map_err(|e| Error::invalid(e.to_string()))?;
            if state.store.file_type(sha).await?.is_none() {
                return Err(Error::invalid(format!(
                    "材料「{}」引用的文件不存在，请先上传",
                    m.name
                )));
            }
        }
    }
    // Online, every selected member's required materials come with the application (the
    // window checks originals on the spot), except a prerequisite's licence (免提交).
    if a.channel != Channel::Window {
        let mut missing: Vec<&str> = Vec::new();
        for key in &selected {
            for m in items[key]
                .materials
                .iter()
                .filter(|m| m.necessity == Necessity::Required)
            {
                let from_prerequisite = def.materials.iter().any(|x| {
                    x.name == m.name
                        && x.items.contains(key)
                        && x.from_item.as_ref().is_some_and(|f| selected.contains(f))
                });
                let uploaded = given
                    .get(m.name.as_str())
                    .is_some_and(|g| g.sha256.is_some());
                if !from_prerequisite && !uploaded && !missing.contains(&m.name.as_str()) {
                    missing.push(m.name.as_str());
                }
            }
        }
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "缺少必要材料：{}",
                missing.join("、")
            )));
        }
    }
    let cal = state.calendar().await?;
    let today = state.today();
    let progress: BTreeMap<String, MemberProgress> = selected
        .iter()
        .map(|k| {
            let (days, unit) = duration(&items[k]);
            (k.clone(), MemberProgress::Waiting { days, unit })
        })
        .collect();
    let promised_due = critical_path(&def, &progress, today, &cal)
        .map_err(cal_error)?
        .unwrap_or(today);
    let limit_due = cal
        .add_working_days(today, def.promised_days)
        .map_err(cal_error)?;
    let shas: Vec<String> = a
        .materials
        .iter()
        .filter_map(|m| m.sha256.clone())
        .collect();
    state
        .store
        .claim_uploads(user.id, &shas, state.now())
        .await?;
    let application = serde_json::json!({
        "fields": a.fields,
        "details": details,
        "materials": a.materials.iter().map(|m| serde_json::json!({"name": m.name, "sha256": m.sha256})).collect::<Vec<_>>(),
        "delivery": a.delivery,
        "channel": a.channel,
    });
    let answers = serde_json::to_value(&a.answers).map_err(Error::internal)?;
    let (b, created) = state
        .store
        .open_bundle(
            NewBundle {
                code: &def.code,
                version: def.version,
                applicant_id: a.applicant.id,
                created_by: user.id,
                idem_key: a.idem_key.filter(|k| !k.trim().is_empty()),
                channel: a.channel.label(),
                answers: &answers,
                application: &application,
                received_on: today,
                limit_due,
                promised_due,
                members: selected
                    .iter()
                    .map(|k| (k.clone(), items[k].item.impl_code.clone()))
                    .collect(),
            },
            &user.username,
            state.now(),
        )
        .await?;
    if created {
        crate::notify::notify_applicant(
            state,
            a.applicant.id,
            &format!(
                "您的「{}」一件事申请已收到，编号{}，承诺{}前办结",
                def.name, b.bundle_no, promised_due
            ),
        )
        .await;
    }
    refresh(state, &b.bundle_no).await?;
    Ok((view_of(state, &b.bundle_no).await?, created))
}

/// After a member case changed: moves its bundle on (starts members whose prerequisites are
/// 办结, applies the refusal rule, recomputes the promised date). Failures are logged; the
/// next change or read tries again.
pub async fn after_case_change(state: &App, case_no: &str) {
    match state.store.bundle_of_case(case_no).await {
        Ok(Some(no)) => {
            if let Err(e) = refresh(state, &no).await {
                tracing::warn!(bundle = %no, error = %e.message, "could not move the bundle on");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(case_no, error = %e, "could not look up the case's bundle"),
    }
}

/// [`after_case_change`] as the hook [`App::after_case_change`] holds.
pub fn case_hook<'a>(
    state: &'a App,
    case_no: &'a str,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(after_case_change(state, case_no))
}

fn approved(c: &CaseRecord) -> bool {
    c.state.outcome == Some(Outcome::Approved)
}

fn ended_without_result(c: &CaseRecord) -> bool {
    !c.state.status.is_open() && !approved(c)
}

/// Brings a bundle up to date with its member cases. Idempotent: every move is a
/// conditional update, every case opened with the idempotency key `bundle:{no}:{key}`.
pub async fn refresh(state: &App, bundle_no: &str) -> Result<(), Error> {
    // Each pass ends one member, starts members or withdraws others; a bundle settles in at
    // most a few passes per member (a definition has at most 30).
    for _ in 0..100 {
        if !refresh_once(state, bundle_no).await? {
            break;
        }
    }
    Ok(())
}

async fn member_cases(
    state: &App,
    members: &[MemberRecord],
) -> Result<HashMap<String, CaseRecord>, Error> {
    let mut cases = HashMap::new();
    for m in members {
        if let Some(no) = &m.case_no {
            cases.insert(m.item_key.clone(), state.store.case_by_no(no).await?);
        }
    }
    Ok(cases)
}

async fn refresh_once(state: &App, bundle_no: &str) -> Result<bool, Error> {
    let b = state.store.bundle_by_no(bundle_no).await?;
    let def = state
        .store
        .bundle_definition_version(&b.code, b.version)
        .await?;
    let members = state.store.bundle_members(b.id).await?;
    let cases = member_cases(state, &members).await?;
    let now = state.now();
    let mut moved = false;
    // A member case that ended without a result: the definition's rule.
    for m in members.iter().filter(|m| m.state == "started") {
        let Some(c) = cases.get(&m.item_key) else {
            continue;
        };
        if !ended_without_result(c) {
            continue;
        }
        let detail = format!(
            "「{}」{}（办件{}）",
            c.item_name,
            c.state.status.label(),
            c.case_no
        );
        if !state
            .store
            .move_bundle_member(
                b.id,
                &m.item_key,
                "started",
                "ended",
                None,
                BUNDLE_ACTOR,
                "member_ended",
                &detail,
                now,
            )
            .await?
        {
            continue;
        }
        moved = true;
        match def.on_refusal {
            OnRefusal::WithdrawRest => {
                withdraw_rest(state, &b, &members, &cases, &m.item_key, &c.item_name).await?
            }
            OnRefusal::Continue => {
                for w in members.iter().filter(|w| w.state == "waiting") {
                    if def.needs(&w.item_key, &m.item_key) {
                        state
                            .store
                            .move_bundle_member(
                                b.id,
                                &w.item_key,
                                "waiting",
                                "cancelled",
                                None,
                                BUNDLE_ACTOR,
                                "member_cancelled",
                                &format!("前置事项「{}」未办成，此项不再启动", c.item_name),
                                now,
                            )
                            .await?;
                    }
                }
            }
        }
    }
    if moved {
        return Ok(true);
    }
    // Members whose prerequisites are all 办结 (and their licences signed) start now.
    for m in members.iter().filter(|m| m.state == "waiting") {
        let member = def.member(&m.item_key);
        let prereqs: Vec<&MemberRecord> = members
            .iter()
            .filter(|p| member.is_some_and(|x| x.after.contains(&p.item_key)))
            .collect();
        let mut ready = true;
        for p in &prereqs {
            let done = cases.get(&p.item_key).is_some_and(approved);
            let pending = match cases.get(&p.item_key) {
                Some(c) if done => crate::cases::licence_pending(state, &c.case_no).await?,
                _ => false,
            };
            if !done || pending {
                ready = false;
            }
        }
        if ready {
            start_member(state, &b, &def, m, &cases).await?;
            moved = true;
        }
    }
    if moved {
        return Ok(true);
    }
    // Status and the critical-path date.
    let (status, completed_on, promised) = progress_of(state, &def, &members, &cases).await?;
    let event = match status {
        "completed" => Some((
            "completed",
            match def.completion {
                Completion::Unified => "全部事项已办结，结果统一送达",
                Completion::Separate => "全部事项已办结",
            },
        )),
        "closed" => Some(("closed", "各事项均已终结，部分事项未办成")),
        _ => None,
    };
    if status != b.status || promised != b.promised_due {
        let event = if status != b.status { event } else { None };
        state
            .store
            .update_bundle(&b, status, promised, completed_on, event, now)
            .await?;
    }
    Ok(false)
}

/// The bundle's status, its end date and its critical-path date now.
async fn progress_of(
    state: &App,
    def: &BundleDef,
    members: &[MemberRecord],
    cases: &HashMap<String, CaseRecord>,
) -> Result<(&'static str, Option<NaiveDate>, NaiveDate), Error> {
    let view = state.catalog().await?;
    let cal = state.calendar().await?;
    let today = state.today();
    let mut progress = BTreeMap::new();
    for m in members {
        let p = match (m.state.as_str(), cases.get(&m.item_key)) {
            ("waiting", _) => {
                let (days, unit) = view
                    .get(&m.impl_code)
                    .map(duration)
                    .unwrap_or((0, TimeUnit::WorkingDays));
                MemberProgress::Waiting { days, unit }
            }
            (_, Some(c)) if approved(c) => MemberProgress::Done {
                on: c.state.completed_on.unwrap_or(today),
            },
            (_, Some(c)) if c.state.status.is_open() => MemberProgress::Running {
                expected: match c.state.promised_due {
                    Some(d) => d,
                    None => cal
                        .add(
                            c.state.received_on.max(today),
                            c.state.limits.promised,
                            c.state.limits.promised_unit,
                        )
                        .map_err(cal_error)?,
                },
            },
            _ => MemberProgress::Ended,
        };
        progress.insert(m.item_key.clone(), p);
    }
    let path = critical_path(def, &progress, today, &cal)
        .map_err(cal_error)?
        .unwrap_or(today);
    let all_done = members
        .iter()
        .all(|m| cases.get(&m.item_key).is_some_and(approved));
    let any_running = members.iter().any(|m| {
        m.state == "waiting"
            || cases
                .get(&m.item_key)
                .is_some_and(|c| c.state.status.is_open())
    });
    let done_on = members
        .iter()
        .filter_map(|m| cases.get(&m.item_key))
        .filter_map(|c| c.state.completed_on)
        .max();
    Ok(if all_done {
        ("completed", done_on, done_on.unwrap_or(path))
    } else if !any_running {
        ("closed", done_on, path)
    } else {
        ("processing", None, path)
    })
}

async fn withdraw_rest(
    state: &App,
    b: &BundleRecord,
    members: &[MemberRecord],
    cases: &HashMap<String, CaseRecord>,
    ended: &str,
    ended_name: &str,
) -> Result<(), Error> {
    let now = state.now();
    let reason = format!("同一件事中「{ended_name}」未办成，按一件事规则撤回其余事项");
    for m in members.iter().filter(|m| m.item_key != ended) {
        match m.state.as_str() {
            "waiting" => {
                state
                    .store
                    .move_bundle_member(
                        b.id,
                        &m.item_key,
                        "waiting",
                        "cancelled",
                        None,
                        BUNDLE_ACTOR,
                        "member_cancelled",
                        &reason,
                        now,
                    )
                    .await?;
            }
            "started" => {
                let Some(c) = cases.get(&m.item_key) else {
                    continue;
                };
                if !c.state.status.is_open() {
                    continue;
                }
                // The applicant's withdrawal, on their behalf, under the same rule as theirs.
                let cal = state.calendar().await?;
                let cmd = Command::Withdraw {
                    reason: reason.clone(),
                };
                match c.state.decide(&cmd, Actor::Applicant, state.today(), &cal) {
                    Ok(events) => {
                        let mut after = c.state.clone();
                        for e in &events {
                            after.apply(e);
                        }
                        let sup = crate::cases::timers_for(state, &after, vec![], &cal)?;
                        state
                            .store
                            .append_case_events(c, &events, BUNDLE_ACTOR, now, &sup, &[])
                            .await?;
                        state
                            .store
                            .add_bundle_event(
                                b.id,
                                BUNDLE_ACTOR,
                                "member_withdrawn",
                                &format!(
                                    "「{}」已撤件（办件{}）：{reason}",
                                    c.item_name, c.case_no
                                ),
                                now,
                            )
                            .await?;
                    }
                    Err(e) => {
                        state
                            .store
                            .add_bundle_event(
                                b.id,
                                BUNDLE_ACTOR,
                                "withdraw_refused",
                                &format!("「{}」未能撤件（办件{}）：{e}", c.item_name, c.case_no),
                                now,
                            )
                            .await?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Opens the member's case as the bundle's submitter would: its share of the merged form
/// and material list, and the licences of its prerequisites as evidence (免提交).
async fn start_member(
    state: &App,
    b: &BundleRecord,
    def: &BundleDef,
    m: &MemberRecord,
    cases: &HashMap<String, CaseRecord>,
) -> Result<(), Error> {
    let view = state.catalog().await?;
    let Some(item) = view.get(&m.impl_code).cloned() else {
        return Err(Error::invalid(format!("事项 {} 不在服务中", m.impl_code)));
    };
    let given: Vec<GivenMaterial> = b.application["materials"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| GivenMaterial {
                    name: x["name"].as_str().unwrap_or_default().to_string(),
                    sha256: x["sha256"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut materials = Vec::new();
    for shared in def
        .materials
        .iter()
        .filter(|x| x.items.contains(&m.item_key))
    {
        if let Some(from) = &shared.from_item {
            let Some(pre) = cases.get(from) else { continue };
            if let Some(l) = state.store.licence_of_case(&pre.case_no).await? {
                let wanted = item
                    .materials
                    .iter()
                    .find(|x| x.name == shared.name)
                    .map(|x| x.licence_type.as_str())
                    .unwrap_or_default();
                if wanted == l.type_code {
                    materials.push(MaterialRef {
                        name: shared.name.clone(),
                        sha256: None,
                        file_name: None,
                        licence_id: Some(l.licence_id.clone()),
                        trust: Some('A'),
                    });
                }
            }
            continue;
        }
        if let Some(g) = given.iter().find(|g| g.name == shared.name) {
            materials.push(MaterialRef {
                name: g.name.clone(),
                sha256: g.sha256.clone(),
                file_name: None,
                licence_id: None,
                trust: Some('C'),
            });
        }
    }
    let channel: Channel =
        serde_json::from_value(b.application["channel"].clone()).unwrap_or(Channel::Online);
    let delivery: Delivery =
        serde_json::from_value(b.application["delivery"].clone()).unwrap_or(Delivery::Window);
    let details: BTreeMap<String, String> =
        serde_json::from_value(b.application["details"][&m.item_key].clone()).unwrap_or_default();
    let user = state.store.user(b.created_by).await?;
    let applicant = state.store.applicant(b.applicant_id).await?;
    let key = format!("bundle:{}:{}", b.bundle_no, m.item_key);
    let (rec, _) = submit(
        state,
        &user,
        Submission {
            impl_code: &item.item.impl_code,
            applicant: &applicant,
            channel,
            delivery,
            materials,
            idem_key: Some(&key),
            details: crate::cases::details_from(details.iter())?,
        },
    )
    .await?;
    let evidence = rec
        .state
        .materials
        .iter()
        .filter(|x| x.licence_id.is_some())
        .map(|x| x.name.as_str())
        .collect::<Vec<_>>();
    let detail = if evidence.is_empty() {
        format!("「{}」已提交（办件{}）", rec.item_name, rec.case_no)
    } else {
        format!(
            "「{}」已提交（办件{}），{}由前置事项电子证照免提交",
            rec.item_name,
            rec.case_no,
            evidence.join("、")
        )
    };
    state
        .store
        .move_bundle_member(
            b.id,
            &m.item_key,
            "waiting",
            "started",
            Some(&rec.case_no),
            SYSTEM_ACTOR,
            "member_started",
            &detail,
            state.now(),
        )
        .await?;
    Ok(())
}

/// A member as the bundle's timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub key: String,
    pub item: String,
    pub impl_code: String,
    pub department: String,
    pub after: Vec<String>,
    pub case_no: Option<String>,
    /// The case's status, or `waiting` / `cancelled` for a member with no case.
    pub status: String,
    pub status_label: String,
    pub promised_due: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleView {
    pub bundle_no: String,
    pub code: String,
    pub name: String,
    pub version: u32,
    pub lead_department: String,
    pub applicant_id: i64,
    pub channel: String,
    pub status: String,
    pub status_label: String,
    pub completion: Completion,
    pub completion_label: &'static str,
    pub on_refusal: OnRefusal,
    pub received_on: NaiveDate,
    /// The critical-path date over the members, recomputed as they move.
    pub promised_due: NaiveDate,
    /// The promised total limit's last day.
    pub limit_due: NaiveDate,
    pub promised_days: u32,
    pub completed_on: Option<NaiveDate>,
    pub light: Light,
    pub light_label: &'static str,
    pub answers: serde_json::Value,
    pub members: Vec<MemberView>,
    pub events: Vec<tongban_store::bundles::BundleEvent>,
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "processing" => "办理中",
        "completed" => "已办结",
        "closed" => "已终结（部分未办成）",
        _ => "未知",
    }
}

async fn view_of(state: &App, bundle_no: &str) -> Result<BundleView, Error> {
    let b = state.store.bundle_by_no(bundle_no).await?;
    let def = state
        .store
        .bundle_definition_version(&b.code, b.version)
        .await?;
    let members = state.store.bundle_members(b.id).await?;
    let cases = member_cases(state, &members).await?;
    let cal = state.calendar().await?;
    let light = if b.status == "processing" {
        tongban_core::bundle::light(
            b.limit_due,
            state.today(),
            state.thresholds.yellow_remaining_days.max(0) as u32,
            &cal,
        )
        .map_err(cal_error)?
    } else {
        Light::Green
    };
    let mut out = Vec::new();
    for m in &members {
        let d = def.member(&m.item_key);
        let c = cases.get(&m.item_key);
        let (status, label) = match (c, m.state.as_str()) {
            (Some(c), _) => (
                c.state.status.code().to_string(),
                c.state.status.label().to_string(),
            ),
            (None, "cancelled") => ("cancelled".into(), "不再办理".into()),
            _ => ("waiting".into(), "等待前置事项办结".into()),
        };
        out.push(MemberView {
            key: m.item_key.clone(),
            item: d.map(|x| x.item.clone()).unwrap_or_default(),
            impl_code: m.impl_code.clone(),
            department: d.map(|x| x.department.clone()).unwrap_or_default(),
            after: d.map(|x| x.after.clone()).unwrap_or_default(),
            case_no: m.case_no.clone(),
            status,
            status_label: label,
            promised_due: c.and_then(|c| c.state.promised_due),
            completed_on: c.and_then(|c| c.state.completed_on),
        });
    }
    Ok(BundleView {
        bundle_no: b.bundle_no.clone(),
        code: b.code.clone(),
        name: def.name.clone(),
        version: b.version,
        lead_department: def.lead_department.clone(),
        applicant_id: b.applicant_id,
        channel: b.channel.clone(),
        status_label: status_label(&b.status).to_string(),
        status: b.status.clone(),
        completion: def.completion,
        completion_label: def.completion.label(),
        on_refusal: def.on_refusal,
        received_on: b.received_on,
        promised_due: b.promised_due,
        limit_due: b.limit_due,
        promised_days: def.promised_days,
        completed_on: b.completed_on,
        light,
        light_label: light.label(),
        answers: b.answers.clone(),
        members: out,
        events: state.store.bundle_events(b.id).await?,
    })
}

/// A bundle for its applicant, the staff who received it, or staff who may read one of its
/// member cases (the read is audited). Others: 404 for applicants, 403 for staff.
pub async fn read(state: &App, user: &User, bundle_no: &str) -> Result<BundleView, Error> {
    let hidden = || Error::not_found(format!("没有这个一件事办件：{bundle_no}"));
    let b = match state.store.bundle_by_no(bundle_no).await {
        Ok(b) => b,
        Err(StoreError::NotFound(_)) => return Err(hidden()),
        Err(e) => return Err(e.into()),
    };
    if holds(user.role, Capability::Apply) {
        let mine = state
            .store
            .applicant_of_user(user.id)
            .await?
            .is_some_and(|a| a.id == b.applicant_id);
        if !mine {
            return Err(hidden());
        }
    } else if user.id != b.created_by {
        let members = state.store.bundle_members(b.id).await?;
        let mut last = Error::forbidden_because("无权查看该一件事办件");
        let mut allowed = false;
        for no in members.iter().filter_map(|m| m.case_no.as_deref()) {
            match crate::authz::case_for(state, user, no).await {
                Ok(_) => {
                    allowed = true;
                    break;
                }
                Err(e) => last = e,
            }
        }
        if !allowed {
            return Err(if last.kind == crate::error::ErrorKind::NotFound {
                Error::forbidden_because("无权查看该一件事办件")
            } else {
                last
            });
        }
        crate::security::record_personal_read(state, user, "bundle", bundle_no).await;
    }
    // Reading brings a bundle up to date when a hook was missed (a crash between a case's
    // change and its bundle's).
    if b.status == "processing" {
        refresh(state, bundle_no).await?;
    }
    view_of(state, bundle_no).await
}

/// The bundles of the signed-in applicant.
pub async fn mine(state: &App, user: &User) -> Result<Vec<BundleRecord>, Error> {
    match state.store.applicant_of_user(user.id).await? {
        Some(a) => Ok(state.store.bundles_of_applicant(a.id).await?),
        None => Ok(vec![]),
    }
}

/// Figures of one 一件事 (public, like the case figures): applications, finished ones,
/// median and mean working days end to end, the share within the promise, and the open
/// ones under yellow and red lights.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub code: String,
    pub name: String,
    pub promised_days: u32,
    #[serde(flatten)]
    pub figures: BundleFigures,
    pub open: usize,
    pub yellow: usize,
    pub red: usize,
}

pub async fn figures(state: &App) -> Result<Vec<Figures>, Error> {
    let cal = state.calendar().await?;
    let today = state.today();
    let yellow_days = state.thresholds.yellow_remaining_days.max(0) as u32;
    let mut out = Vec::new();
    for def in state.store.bundle_definitions().await? {
        let all = state.store.bundles_of(Some(&def.code)).await?;
        let mut done = Vec::new();
        let (mut open, mut yellow, mut red) = (0, 0, 0);
        for b in &all {
            match (b.status.as_str(), b.completed_on) {
                ("completed", Some(end)) => done.push((
                    cal.working_days_between(b.received_on, end)
                        .map_err(cal_error)?,
                    end <= b.limit_due,
                )),
                ("processing", _) => {
                    open += 1;
                    match tongban_core::bundle::light(b.limit_due, today, yellow_days, &cal)
                        .map_err(cal_error)?
                    {
                        Light::Yellow => yellow += 1,
                        Light::Red => red += 1,
                        Light::Green => {}
                    }
                }
                _ => {}
            }
        }
        out.push(Figures {
            code: def.code.clone(),
            name: def.name.clone(),
            promised_days: def.promised_days,
            figures: tongban_core::bundle::figures(all.len(), &done),
            open,
            yellow,
            red,
        });
    }
    Ok(out)
}

/// Whether the catalog still offers every member of a definition (for the list's display).
pub fn available(view: &crate::CatalogView, def: &BundleDef) -> bool {
    def.items.iter().all(|m| {
        view.active().any(|i| {
            i.item.name == m.item
                && i.item.department == m.department
                && i.status == ItemStatus::Active
        })
    })
}

/// An open bundle under a yellow or red light (its promised total limit near or past).
#[derive(Debug, Clone, Serialize)]
pub struct LitBundle {
    pub bundle_no: String,
    pub name: String,
    pub received_on: NaiveDate,
    pub limit_due: NaiveDate,
    pub promised_due: NaiveDate,
    pub light: Light,
    pub light_label: &'static str,
}

/// The open bundles under yellow or red lights, red first (the supervision board). The
/// bundles' lights use the case thresholds' remaining working days.
pub async fn under_lights(state: &App) -> Result<Vec<LitBundle>, Error> {
    let cal = state.calendar().await?;
    let today = state.today();
    let yellow_days = state.thresholds.yellow_remaining_days.max(0) as u32;
    let names: HashMap<String, String> = state
        .store
        .bundle_definitions()
        .await?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let mut out = Vec::new();
    for b in state.store.bundles_of(None).await? {
        let light = tongban_core::bundle::light(b.limit_due, today, yellow_days, &cal)
            .map_err(cal_error)?;
        if light == Light::Green {
            continue;
        }
        out.push(LitBundle {
            name: names
                .get(&b.code)
                .cloned()
                .unwrap_or_else(|| b.code.clone()),
            bundle_no: b.bundle_no,
            received_on: b.received_on,
            limit_due: b.limit_due,
            promised_due: b.promised_due,
            light,
            light_label: light.label(),
        });
    }
    out.sort_by_key(|b| (b.light != Light::Red, b.limit_due));
    Ok(out)
}
