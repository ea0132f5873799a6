//! 政务服务"好差评": the applicant rates a case (on the web, by the window's pad, by the
//! receipt's QR or an SMS link), every 差评 is followed up on the working-day clock, the
//! department may appeal to a supervisor outside it, and the figures are public.
//!
//! Nobody rates for the applicant: staff signed in are refused on every rating path (the
//! pad included, so a clerk cannot touch the pad from their own session), and the pad
//! records the device that rated.

use crate::authz::{self, Access, Refuse};
use crate::error::Error;
use crate::App;
use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tongban_core::capability::{Capability, Scope};
use tongban_core::case::Event;
use tongban_core::rating::{self, Fact, Figures, RatingChannel, Stage};
use tongban_store::accounts::User;
use tongban_store::case_rows::CaseRecord;
use tongban_store::ratings::{Appeal, ExportRow, NewRating, Rating, RatingFilter, Rectification};

/// What an applicant sends.
#[derive(Debug, Clone, Default)]
pub struct RateInput {
    pub level: i64,
    pub channel: String,
    pub stage: String,
    pub indicators: BTreeMap<String, i64>,
    pub comment: String,
}

/// Where a rating came from, besides the applicant's own session.
struct Origin<'a> {
    channel: RatingChannel,
    rated_by: String,
    device: &'a str,
    window: Option<(i64, i64)>,
    clerk: String,
    token_hash: Option<String>,
}

fn parse_stage(s: &str) -> Result<Stage, Error> {
    Stage::parse(s)
        .ok_or_else(|| Error::invalid("评价环节须为 acceptance（受理）或 completion（办结）"))
}

/// Staff may never rate: refused (and audited) whatever path they take.
async fn refuse_staff(app: &App, user: Option<&User>, resource: &str) -> Result<(), Error> {
    match user {
        Some(u) if !u.role.is_applicant() => {
            Err(
                authz::refused(app, u, Capability::RateCase, resource, Refuse::Forbidden)
                    .await
                    .with_message("工作人员不能代替申请人评价"),
            )
        }
        _ => Ok(()),
    }
}

async fn keep(
    app: &App,
    rec: &CaseRecord,
    stage: Stage,
    o: Origin<'_>,
    input: &RateInput,
) -> Result<Rating, Error> {
    let checked = rating::check(
        &rec.state,
        stage,
        o.channel,
        input.level,
        &input.indicators,
        &input.comment,
    )
    .map_err(|e| Error::invalid(e.to_string()))?;
    let today = app.today();
    let follow_up = if rating::is_bad(checked.level) {
        let cal = app.calendar().await?;
        let due = rating::follow_up_due(today, app.rating_rectify_days, &cal)
            .map_err(|e| Error::invalid(e.to_string()))?;
        Some((due.callback, due.rectify))
    } else {
        None
    };
    let item_hall = app
        .catalog()
        .await?
        .get(&rec.impl_code)
        .and_then(|i| i.hall_id);
    let r = app
        .store
        .insert_rating(
            NewRating {
                case: rec,
                hall_id: o.window.map(|w| w.1).or(item_hall),
                window_id: o.window.map(|w| w.0),
                clerk: &o.clerk,
                stage: stage.code(),
                channel: o.channel.code(),
                level: checked.level,
                indicators: &checked.indicators,
                comment: &checked.comment,
                device: o.device,
                rated_by: &o.rated_by,
                rated_on: today,
                follow_up,
                token_hash: o.token_hash.as_deref(),
            },
            app.now(),
        )
        .await?;
    Ok(r)
}

/// `POST /api/v1/cases/{no}/ratings`: the case's applicant rates it (web or mobile).
pub async fn rate(
    app: &App,
    user: &User,
    case_no: &str,
    input: &RateInput,
) -> Result<Rating, Error> {
    let (rec, access) = authz::case_for(app, user, case_no).await?;
    if access != Access::Owner {
        refuse_staff(app, Some(user), case_no).await?;
        return Err(
            authz::refused(app, user, Capability::RateCase, case_no, Refuse::Forbidden).await,
        );
    }
    let stage = parse_stage(&input.stage)?;
    let channel = match RatingChannel::parse(input.channel.trim()) {
        Some(c @ (RatingChannel::Web | RatingChannel::Mobile)) => c,
        Some(_) => {
            return Err(Error::invalid(
                "评价器、二维码和短信的评价请通过窗口评价器或评价链接提交",
            ))
        }
        None => return Err(Error::invalid("评价渠道须为 web 或 mobile")),
    };
    keep(
        app,
        &rec,
        stage,
        Origin {
            channel,
            rated_by: user.username.clone(),
            device: "",
            window: None,
            clerk: String::new(),
            token_hash: None,
        },
        input,
    )
    .await
}

/// The stages of a case its applicant may rate now on `channel`, and those already rated.
pub async fn open_stages(
    app: &App,
    rec: &CaseRecord,
    channel: RatingChannel,
) -> Result<Vec<Stage>, Error> {
    let done = app.store.ratings_of_case(rec.id).await?;
    Ok([Stage::Acceptance, Stage::Completion]
        .into_iter()
        .filter(|s| rating::stage_reached(&rec.state, *s))
        .filter(|s| {
            !done
                .iter()
                .any(|r| r.stage == s.code() && r.channel == channel.code())
        })
        .collect())
}

/// The ratings of a case (for its page).
pub async fn of_case(app: &App, rec: &CaseRecord) -> Result<Vec<Rating>, Error> {
    Ok(app.store.ratings_of_case(rec.id).await?)
}

// ---- the window's pad --------------------------------------------------------------------

/// What the pad shows: the window and the case at it (the applicant's name masked).
pub struct PadView {
    pub window: tongban_store::catalog::HallWindow,
    pub case: Option<CaseRecord>,
    pub applicant: String,
    pub stage: Option<Stage>,
}

fn pad_stage(rec: &CaseRecord) -> Stage {
    if rating::stage_reached(&rec.state, Stage::Completion) {
        Stage::Completion
    } else {
        Stage::Acceptance
    }
}

pub async fn pad(app: &App, window_id: i64) -> Result<PadView, Error> {
    let window = app.store.hall_window(window_id).await?;
    let found = app.store.pad_case(window_id).await?;
    let (case, applicant, stage) = match found {
        Some((rec, _, _)) => {
            let a = app.store.applicant(rec.applicant_id).await?;
            let stage = pad_stage(&rec);
            (Some(rec), rating::mask_name(&a.name), Some(stage))
        }
        None => (None, String::new(), None),
    };
    Ok(PadView {
        window,
        case,
        applicant,
        stage,
    })
}

/// The clerk shows a case on a window's pad (from the case page).
pub async fn show_on_pad(
    app: &App,
    user: &User,
    case_no: &str,
    window_id: i64,
) -> Result<(), Error> {
    authz::require_scope(app, user, Capability::ReceiveAtWindow).await?;
    let (rec, _) = authz::case_for(app, user, case_no).await?;
    app.store.hall_window(window_id).await?;
    app.store
        .set_pad_case(window_id, rec.id, &user.username, app.now())
        .await?;
    Ok(())
}

/// One touch on the pad. No sign-in; a staff session is refused; the device is recorded.
pub async fn rate_on_pad(
    app: &App,
    viewer: Option<&User>,
    window_id: i64,
    level: i64,
    device: &str,
) -> Result<Rating, Error> {
    refuse_staff(app, viewer, &format!("/rate/window/{window_id}")).await?;
    let window = app.store.hall_window(window_id).await?;
    let Some((rec, clerk, _)) = app.store.pad_case(window_id).await? else {
        return Err(Error::not_found("此窗口当前没有待评价的办件"));
    };
    let device: String = device
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    keep(
        app,
        &rec,
        pad_stage(&rec),
        Origin {
            channel: RatingChannel::Pad,
            rated_by: format!("pad:{window_id}"),
            device: &device,
            window: Some((window.id, window.hall_id)),
            clerk,
            token_hash: None,
        },
        &RateInput {
            level,
            ..RateInput::default()
        },
    )
    .await
}

// ---- one-time links (SMS, the receipt's QR) --------------------------------------------

fn token_hash(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tongban-rating-link\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// A new one-time link for a case and stage; returns its path (`/rate/t/{token}`).
pub async fn new_link(
    app: &App,
    rec: &CaseRecord,
    stage: Stage,
    channel: RatingChannel,
) -> Result<String, Error> {
    use rand::RngCore;
    let mut b = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let token = hex::encode(b);
    app.store
        .create_rating_token(
            &token_hash(&token),
            rec.id,
            stage.code(),
            channel.code(),
            app.now(),
        )
        .await?;
    Ok(format!("/rate/t/{token}"))
}

/// The case and stage a link rates, if it is unused.
pub async fn link(app: &App, token: &str) -> Result<(CaseRecord, Stage, RatingChannel), Error> {
    let gone = || Error::not_found("评价链接无效或已使用");
    if token.len() > 64 {
        return Err(gone());
    }
    let (rec, stage, channel) = app
        .store
        .rating_token(&token_hash(token))
        .await?
        .ok_or_else(gone)?;
    Ok((
        rec,
        Stage::parse(&stage).ok_or_else(gone)?,
        RatingChannel::parse(&channel).ok_or_else(gone)?,
    ))
}

/// Rates through a one-time link; the link is spent with the rating.
pub async fn rate_by_link(
    app: &App,
    viewer: Option<&User>,
    token: &str,
    level: i64,
    comment: &str,
) -> Result<Rating, Error> {
    refuse_staff(app, viewer, "/rate/t").await?;
    let (rec, stage, channel) = link(app, token).await?;
    keep(
        app,
        &rec,
        stage,
        Origin {
            channel,
            rated_by: format!("link:{}", channel.code()),
            device: "",
            window: None,
            clerk: String::new(),
            token_hash: Some(token_hash(token)),
        },
        &RateInput {
            level,
            comment: comment.into(),
            ..RateInput::default()
        },
    )
    .await
}

/// A 好差评 invitation by SMS: the one-time link to send and the row that stores it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub stage: Stage,
    pub path: String,
    pub row: tongban_store::ratings::NewRatingToken,
}

/// The invitations a decision's events call for (受理 and 办结 each invite a rating), made
/// before the events are stored so their links are written in the same transaction.
pub fn invitations_for(rec: &CaseRecord, events: &[Event]) -> Vec<Invitation> {
    use rand::RngCore;
    events
        .iter()
        .filter_map(|e| match e {
            Event::Accepted { .. } => Some(Stage::Acceptance),
            Event::Completed { .. } => Some(Stage::Completion),
            _ => None,
        })
        .map(|stage| {
            let mut b = [0u8; 18];
            rand::rngs::OsRng.fill_bytes(&mut b);
            let token = hex::encode(b);
            Invitation {
                stage,
                path: format!("/rate/t/{token}"),
                row: tongban_store::ratings::NewRatingToken {
                    hash: token_hash(&token),
                    case_id: rec.id,
                    stage: stage.code().to_string(),
                    channel: RatingChannel::Sms.code().to_string(),
                },
            }
        })
        .collect()
}

/// Sends the stored invitations to the applicant's mobile.
pub async fn send_invitations(app: &App, rec: &CaseRecord, invitations: &[Invitation]) {
    for i in invitations {
        crate::notify::notify_applicant(
            app,
            rec.applicant_id,
            &format!(
                "您的办件{}已{}，欢迎评价：{}{}",
                rec.case_no,
                i.stage.label(),
                app.base_url,
                i.path
            ),
        )
        .await
    }
}

// ---- 差评 follow-up and appeals ----------------------------------------------------------

/// The 整改 records the user may see: the department's, or all for supervisors.
pub async fn rectifications(
    app: &App,
    user: &User,
    status: Option<&str>,
) -> Result<Vec<Rectification>, Error> {
    if let Some(s) = status {
        if s != "open" && s != "done" {
            return Err(Error::invalid("status 须为 open 或 done"));
        }
    }
    let dept = match authz::require_scope(app, user, Capability::FollowUpRatings).await? {
        Scope::Any => None,
        Scope::Department | Scope::Own => Some(user.department_id.unwrap_or(-1)),
    };
    Ok(app.store.rectifications(status, dept).await?)
}

async fn rating_for(app: &App, user: &User, id: i64, cap: Capability) -> Result<Rating, Error> {
    authz::require_scope(app, user, cap).await?;
    let r = match app.store.rating(id).await {
        Ok(r) => r,
        Err(tongban_store::StoreError::NotFound(_)) => {
            return Err(Error::not_found(format!("没有评价 {id}")))
        }
        Err(e) => return Err(e.into()),
    };
    authz::require(
        app,
        user,
        cap,
        authz::department_standing(user, r.department_id),
        &format!("rating {id}"),
    )
    .await?;
    Ok(r)
}

fn bounded(text: &str, what: &str, max: usize) -> Result<String, Error> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::invalid(format!("请填写{what}")));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(format!("{what}不能超过 {max} 字")));
    }
    Ok(t.to_string())
}

async fn follow_up_of(app: &App, r: &Rating) -> Result<(), Error> {
    if app.store.rectification(r.id).await?.is_none() {
        return Err(Error::invalid("该评价不是差评，无需回访整改"));
    }
    Ok(())
}

/// 回访: the department called the applicant back.
pub async fn callback(app: &App, user: &User, id: i64, note: &str) -> Result<Rectification, Error> {
    let r = rating_for(app, user, id, Capability::FollowUpRatings).await?;
    let note = bounded(note, "回访情况", 1000)?;
    follow_up_of(app, &r).await?;
    Ok(app
        .store
        .record_callback(id, &note, &user.username, app.today())
        .await?)
}

/// 整改: the department rectified; the applicant may then rate again.
pub async fn rectify(app: &App, user: &User, id: i64, note: &str) -> Result<Rectification, Error> {
    let r = rating_for(app, user, id, Capability::FollowUpRatings).await?;
    let note = bounded(note, "整改情况", 2000)?;
    follow_up_of(app, &r).await?;
    Ok(app
        .store
        .record_rectified(id, &note, &user.username, app.today())
        .await?)
}

/// 申诉: the department appeals a rating it believes mistaken or malicious, with evidence.
pub async fn appeal(
    app: &App,
    user: &User,
    id: i64,
    reason: &str,
    evidence: &str,
) -> Result<Appeal, Error> {
    let r = rating_for(app, user, id, Capability::AppealRating).await?;
    let reason = bounded(reason, "申诉理由", 1000)?;
    let evidence = bounded(evidence, "申诉证据", 2000)?;
    Ok(app
        .store
        .file_appeal(&r, &reason, &evidence, &user.username, app.now())
        .await?)
}

/// 复核: a supervisor outside the rating's department decides.
/// `upheld` None: no decision given (refused after the authorization checks).
pub async fn decide(
    app: &App,
    user: &User,
    id: i64,
    upheld: Option<bool>,
    reason: &str,
) -> Result<Appeal, Error> {
    let r = rating_for(app, user, id, Capability::DecideRatingAppeal).await?;
    if user.department_id == Some(r.department_id) {
        return Err(authz::refused(
            app,
            user,
            Capability::DecideRatingAppeal,
            &format!("rating {id}"),
            Refuse::Forbidden,
        )
        .await
        .with_message("申诉须由被评价部门以外的复核人员决定"));
    }
    let upheld = upheld.ok_or_else(|| Error::invalid("请给出复核结论：upheld 为 true 或 false"))?;
    let reason = match reason.trim() {
        "" if upheld => "申诉成立",
        "" => "申诉不成立",
        r => r,
    };
    let reason = bounded(reason, "复核意见", 1000)?;
    if app.store.appeal(id).await?.is_none() {
        return Err(Error::invalid("该评价没有待复核的申诉"));
    }
    Ok(app
        .store
        .decide_appeal(&r, upheld, &reason, &user.username, app.now())
        .await?)
}

// ---- figures ---------------------------------------------------------------------------

/// A date range of the figures; both ends inclusive (Beijing dates).
pub fn parse_range(
    app: &App,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), Error> {
    let day = |s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            Error::invalid(format!(
                "日期格式应为 YYYY-MM-DD：{}",
                s.chars().take(20).collect::<String>()
            ))
        })
    };
    let today = app.today();
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(s) => day(s)?,
        None => NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
    };
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => day(s)?,
        None => today,
    };
    if to < from {
        return Err(Error::invalid("结束日期不能早于开始日期"));
    }
    Ok((from, to))
}

/// The department with this code, or a 422.
pub async fn department_by_code(app: &App, code: &str) -> Result<i64, Error> {
    app.catalog()
        .await?
        .departments
        .iter()
        .find(|d| d.code == code.trim())
        .map(|d| d.id)
        .ok_or_else(|| {
            Error::invalid(format!(
                "没有部门编码 {}",
                code.chars().take(40).collect::<String>()
            ))
        })
}

pub fn fact_of(row: &ExportRow) -> Fact {
    let rectified = row.rectified_on.is_some();
    Fact {
        level: row.rating.level as u8,
        excluded: row.rating.excluded,
        real_name: true,
        called_back: row.called_back_on.is_some(),
        rectified,
        rectified_on_time: match (&row.rectified_on, &row.rectify_due) {
            (Some(on), Some(due)) => on <= due,
            _ => false,
        },
    }
}

/// The rows of a range (for the figures and the export).
pub async fn rows(
    app: &App,
    from: NaiveDate,
    to: NaiveDate,
    department_id: Option<i64>,
) -> Result<Vec<ExportRow>, Error> {
    Ok(app
        .store
        .rating_rows(&RatingFilter {
            from: from.to_string(),
            to: to.to_string(),
            department_id,
        })
        .await?)
}

/// The public figures of a range. Excluded ratings are not counted.
pub async fn stats(
    app: &App,
    from: NaiveDate,
    to: NaiveDate,
    department_id: Option<i64>,
) -> Result<Figures, Error> {
    let rows = rows(app, from, to, department_id).await?;
    let facts: Vec<Fact> = rows.iter().map(fact_of).collect();
    Ok(rating::figures(&facts))
}

/// The month's ratings in the fields the provincial 好差评 system takes. Personal data
/// (applicants' ID numbers): only for `ExportRatings`, and audited.
pub async fn export_month(app: &App, user: &User, month: &str) -> Result<String, Error> {
    authz::require_scope(app, user, Capability::ExportRatings).await?;
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| Error::invalid("月份格式应为 YYYY-MM"))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| Error::invalid("月份超出范围"))?;
    let last = next.pred_opt().unwrap_or(first);
    let rows = rows(app, first, last, None).await?;
    crate::security::record_personal_read(app, user, "ratings.export", month.trim()).await;
    let mut out = String::from(
        "case_no,item_code,department_code,applicant_id,level,channel,time,excluded\n",
    );
    for r in rows {
        let cells = [
            r.rating.case_no.clone(),
            r.rating.impl_code.clone(),
            r.department_code.clone(),
            r.applicant_id_number.clone(),
            r.rating.level.to_string(),
            r.rating.channel.clone(),
            r.rating.rated_at.clone(),
            if r.rating.excluded { "1" } else { "0" }.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// A CSV cell, quoted when needed, and never read as a formula by a spreadsheet.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

// ---- the demo city -----------------------------------------------------------------------

/// Ratings for the demo city's cases: every level, an open and a done rectification, and an
/// upheld appeal. Runs once, after the demo cases (does nothing when ratings exist).
pub async fn seed_demo(app: &App) -> Result<usize, Error> {
    let cases = app
        .store
        .find_cases(&tongban_store::cases::CaseFilter {
            limit: 20,
            ..Default::default()
        })
        .await?
        .0;
    let mut accepted: Vec<CaseRecord> = vec![];
    for c in cases {
        let rec = app.store.case_by_no(&c.case_no).await?;
        if !app.store.ratings_of_case(rec.id).await?.is_empty() {
            return Ok(0);
        }
        if rating::stage_reached(&rec.state, Stage::Acceptance) {
            accepted.push(rec);
        }
    }
    accepted.sort_by(|a, b| a.case_no.cmp(&b.case_no));
    let view = app.catalog().await?;
    let window = match view.halls.first() {
        Some(h) => app.store.hall_windows(h.id).await?.into_iter().next(),
        None => None,
    };
    let origin = |channel: RatingChannel| Origin {
        channel,
        rated_by: "demo".into(),
        device: if channel == RatingChannel::Pad {
            "pad:demo"
        } else {
            ""
        },
        window: (channel == RatingChannel::Pad)
            .then(|| window.as_ref().map(|w| (w.id, w.hall_id)))
            .flatten(),
        clerk: if channel == RatingChannel::Pad {
            "clerk".into()
        } else {
            String::new()
        },
        token_hash: None,
    };
    let input = |level: i64, comment: &str| RateInput {
        level,
        comment: comment.into(),
        ..RateInput::default()
    };
    // (case index, stage, channel, level, comment)
    let plan: [(usize, Stage, RatingChannel, i64, &str); 7] = [
        (
            0,
            Stage::Acceptance,
            RatingChannel::Pad,
            5,
            "窗口人员热情，一次办好",
        ),
        (0, Stage::Completion, RatingChannel::Web, 4, ""),
        (1, Stage::Acceptance, RatingChannel::Qr, 3, ""),
        (1, Stage::Completion, RatingChannel::Web, 2, "等待时间较长"),
        (2, Stage::Acceptance, RatingChannel::Pad, 1, "误触"),
        (2, Stage::Completion, RatingChannel::Mobile, 5, ""),
        (
            3,
            Stage::Acceptance,
            RatingChannel::Web,
            1,
            "指南与实际所需材料不一致",
        ),
    ];
    let mut made = vec![];
    for (i, stage, channel, level, comment) in plan {
        let Some(rec) = accepted.get(i) else { continue };
        if !rating::stage_reached(&rec.state, stage) {
            continue;
        }
        made.push((
            i,
            level,
            keep(app, rec, stage, origin(channel), &input(level, comment)).await?,
        ));
    }
    let today = app.today();
    for (i, level, r) in &made {
        match (i, level) {
            // A 差评 followed up: called back and rectified.
            (1, 2) => {
                app.store
                    .record_callback(r.id, "已电话回访，说明高峰时段分流安排", "approver", today)
                    .await?;
                app.store
                    .record_rectified(r.id, "增设高峰时段综合窗口一个", "head", today)
                    .await?;
            }
            // A mistaken touch on the pad: appealed with the hall's video, upheld.
            (2, 1) => {
                app.store
                    .file_appeal(
                        r,
                        "申请人误触评价器",
                        "大厅监控录像显示申请人离开时误触，本人电话确认满意",
                        "head",
                        app.now(),
                    )
                    .await?;
                app.store
                    .decide_appeal(
                        r,
                        true,
                        "经核实为误触，申请人本人确认满意",
                        "supervisor",
                        app.now(),
                    )
                    .await?;
            }
            _ => {}
        }
    }
    Ok(made.len())
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
