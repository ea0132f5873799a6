//! The hall (issue #18): appointments on the working-day calendar, queue tickets and the
//! windows that call them, the calling screen's data, the hall's figures, and tracking of
//! posted results (寄递跟踪) with its supervision.

use crate::authz::{department_standing, require, require_scope};
use crate::error::{Error, ErrorKind};
use crate::App;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tongban_core::capability::{Capability, Scope, Standing};
use tongban_core::hall::{self as rules, NoShowRule, ParcelStatus, TicketStatus};
use tongban_core::s10::Waybill;
use tongban_store::accounts::User;
use tongban_store::catalog::{Hall, HallWindow};
use tongban_store::hall::{Appointment, DeliveryEvent, NewSlot, Slot, Ticket};
use tongban_store::StoreError;

/// The hall's rules (configuration).
#[derive(Debug, Clone)]
pub struct HallPolicy {
    pub no_show: NoShowRule,
    /// A ticket waiting longer than this raises a yellow record for the hall.
    pub wait_limit_minutes: i64,
    /// A parcel with no carrier event for this many days raises a supervision record.
    pub stale_parcel_days: i64,
    /// The shared secret carriers sign their webhook pushes with (HMAC-SHA256); without
    /// one the webhook refuses everything.
    pub carrier_secret: Option<String>,
    /// How far ahead appointments can be booked, in days.
    pub booking_horizon_days: i64,
    /// The demo's simulated carrier moves parcels along on each timer pass.
    pub simulated_carrier: bool,
}

impl Default for HallPolicy {
    fn default() -> Self {
        HallPolicy {
            no_show: NoShowRule::default(),
            wait_limit_minutes: 30,
            stale_parcel_days: 5,
            carrier_secret: None,
            booking_horizon_days: 30,
            simulated_carrier: false,
        }
    }
}

fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// A Beijing wall-clock time on a day, as UTC.
pub fn beijing_at(day: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
    beijing()
        .from_local_datetime(&day.and_time(t))
        .single()
        .expect("UTC+8 has no gaps")
        .with_timezone(&Utc)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| Error::internal(format!("stored time does not parse: {s}")))
}

/// Finds a hall by its code (the number the hall list shows) or its exact name.
pub async fn hall_by_code(app: &App, code: &str) -> Result<Hall, Error> {
    let view = app.catalog().await?;
    let code = code.trim();
    let found = match code.parse::<i64>() {
        Ok(id) => view.hall(id),
        Err(_) => view.hall_by_name(code),
    };
    match found {
        Some(h) if !h.retired => Ok(h.clone()),
        _ => Err(Error::not_found(format!("未找到大厅：{code}"))),
    }
}

/// May this item be booked or queued for at this hall? Comprehensive halls (一窗综办)
/// take every item; other halls the items that name them.
async fn check_item(app: &App, hall: &Hall, impl_code: &str) -> Result<String, Error> {
    let view = app.catalog().await?;
    let item = view
        .get(impl_code.trim())
        .filter(|i| i.status == tongban_store::catalog::ItemStatus::Active)
        .ok_or_else(|| Error::invalid(format!("事项 {impl_code} 不存在或已停用")))?;
    let here = item.hall_id == Some(hall.id)
        || hall.kind == tongban_store::catalog::HallKind::Comprehensive;
    if !here {
        return Err(Error::invalid(format!(
            "事项「{}」不在{}办理",
            item.item.name, hall.name
        )));
    }
    Ok(item.item.impl_code.to_string())
}

// ---- appointments ------------------------------------------------------------------------

/// The slots of a hall for an item between two days (at most 31), created from the hall's
/// day template on working days the first time they are asked for.
pub async fn slots(
    app: &App,
    code: &str,
    item: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<Slot>, Error> {
    let hall = hall_by_code(app, code).await?;
    let impl_code = check_item(app, &hall, item).await?;
    let from = from.unwrap_or_else(|| app.today());
    let to = to.unwrap_or(from + Duration::days(13));
    if to < from {
        return Err(Error::invalid("结束日期不能早于开始日期"));
    }
    if (to - from).num_days() > 31 {
        return Err(Error::invalid("一次最多查询31天的预约时段"));
    }
    let cal = app.calendar().await?;
    let template = rules::default_day();
    let mut new = Vec::new();
    let mut day = from;
    while day <= to {
        for s in rules::slots_on(day, &cal, &template) {
            new.push(NewSlot {
                day,
                start: s.start.format("%H:%M").to_string(),
                end: s.end.format("%H:%M").to_string(),
                starts_at: beijing_at(day, s.start),
                capacity: i64::from(s.capacity),
            });
        }
        day += Duration::days(1);
    }
    app.store.ensure_slots(hall.id, &impl_code, &new).await?;
    Ok(app.store.slots(hall.id, &impl_code, from, to).await?)
}

/// Who an appointment is for: an applicant books for themselves; the clerk names the
/// applicant's account (or books under the window's own account for a caller at the desk).
async fn booking_subject(app: &App, user: &User, for_user: Option<&str>) -> Result<i64, Error> {
    match (
        user.role.is_applicant(),
        for_user.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (true, None) => Ok(user.id),
        (true, Some(_)) => Err(Error::forbidden_because("申请人只能为自己预约")),
        (false, None) => Ok(user.id),
        (false, Some(name)) => {
            let u = app
                .store
                .user_by_username(name)
                .await?
                .filter(|u| u.role.is_applicant())
                .ok_or_else(|| Error::invalid(format!("申请人账号 {name} 不存在")))?;
            Ok(u.id)
        }
    }
}

/// Books a place in a slot. 409 when the slot is full (enforced by the database).
pub async fn book(
    app: &App,
    user: &User,
    slot_id: i64,
    item: &str,
    for_user: Option<&str>,
) -> Result<Appointment, Error> {
    require_scope(app, user, Capability::BookAppointment).await?;
    let slot = match app.store.slot(slot_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => {
            return Err(Error::invalid(format!("预约时段 {slot_id} 不存在")))
        }
        Err(e) => return Err(e.into()),
    };
    if slot.impl_code != item.trim() {
        return Err(Error::invalid("所选时段不是该事项的预约时段"));
    }
    let now = app.now();
    if parse_time(&slot.starts_at)? <= now {
        return Err(Error::invalid("该时段已开始或已过去，请选择以后的时段"));
    }
    if parse_time(&slot.starts_at)? > now + Duration::days(app.hall.booking_horizon_days) {
        return Err(Error::invalid(format!(
            "只能预约{}天内的时段",
            app.hall.booking_horizon_days
        )));
    }
    let subject = booking_subject(app, user, for_user).await?;
    if user.role.is_applicant() {
        let missed = app.store.no_shows_of(subject).await?;
        if let Some(until) = app.hall.no_show.suspended_until(&missed, now) {
            return Err(Error::forbidden_because(format!(
                "您近{}天内{}次预约未到，网上预约暂停至 {}；可到大厅现场取号办理",
                app.hall.no_show.window_days,
                app.hall.no_show.limit,
                until.with_timezone(&beijing()).format("%Y-%m-%d %H:%M")
            )));
        }
    }
    let a = app
        .store
        .book(slot.id, subject, &user.username, now)
        .await?;
    app.store
        .record_audit(
            now,
            &user.username,
            "appointment.booked",
            &format!("{} 时段 {}", a.id, slot.id),
        )
        .await?;
    Ok(a)
}

/// An appointment the user may act on: their own, or any for the clerk; others are told
/// it does not exist.
async fn appointment_for(app: &App, user: &User, id: i64) -> Result<Appointment, Error> {
    let scope = require_scope(app, user, Capability::BookAppointment).await?;
    let hidden = || Error::not_found(format!("未找到预约：{id}"));
    let a = match app.store.appointment(id).await {
        Ok(a) => a,
        Err(StoreError::NotFound(_)) => return Err(hidden()),
        Err(e) => return Err(e.into()),
    };
    let standing = if a.user_id == user.id {
        Standing::Own
    } else {
        Standing::Other
    };
    if scope == Scope::Own && standing != Standing::Own {
        crate::authz::refused(
            app,
            user,
            Capability::BookAppointment,
            &format!("appointment {id}"),
            crate::authz::Refuse::Hidden,
        )
        .await;
        return Err(hidden());
    }
    Ok(a)
}

pub async fn cancel(app: &App, user: &User, id: i64) -> Result<(), Error> {
    let a = appointment_for(app, user, id).await?;
    if !app.store.cancel_appointment(a.id, app.now()).await? {
        return Err(Error::conflict(format!(
            "预约 {id} 已签到、已取消或已失约，不能取消"
        )));
    }
    Ok(())
}

pub async fn reschedule(
    app: &App,
    user: &User,
    id: i64,
    slot_id: i64,
) -> Result<Appointment, Error> {
    let a = appointment_for(app, user, id).await?;
    let slot = match app.store.slot(slot_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => {
            return Err(Error::invalid(format!("预约时段 {slot_id} 不存在")))
        }
        Err(e) => return Err(e.into()),
    };
    if slot.impl_code != a.impl_code || slot.hall_id != a.hall_id {
        return Err(Error::invalid("只能改约到同一大厅、同一事项的时段"));
    }
    if parse_time(&slot.starts_at)? <= app.now() {
        return Err(Error::invalid("该时段已开始或已过去，请选择以后的时段"));
    }
    Ok(app.store.reschedule(a.id, slot.id, app.now()).await?)
}

pub async fn my_appointments(app: &App, user: &User) -> Result<Vec<Appointment>, Error> {
    require_scope(app, user, Capability::BookAppointment).await?;
    Ok(app.store.appointments_of(user.id).await?)
}

// ---- queue -------------------------------------------------------------------------------

/// A ticket with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub id: i64,
    pub ticket: String,
    pub hall: i64,
    pub item: String,
    pub status: String,
    pub status_label: &'static str,
    /// 1 = next to be called; 0 once called.
    pub position: usize,
    pub estimate_minutes: u32,
    pub window: Option<String>,
    pub case_no: Option<String>,
    pub appointment: Option<i64>,
}

/// Waiting tickets of the hall today in the order windows call them.
fn queue_order(mut waiting: Vec<Ticket>, now: DateTime<Utc>) -> Vec<Ticket> {
    waiting.sort_by_key(|t| {
        let slot = t
            .slot_starts_at
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc));
        let issued = DateTime::parse_from_rfc3339(&t.issued_at)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(now);
        (rules::call_order(slot, issued, now), t.id)
    });
    waiting
}

/// Mean serving minutes of the hall today (5 when nothing was served yet).
fn mean_service(tickets: &[Ticket]) -> f64 {
    let served: Vec<f64> = tickets
        .iter()
        .filter_map(|t| {
            let (a, b) = (t.served_at.as_deref()?, t.done_at.as_deref()?);
            let a = DateTime::parse_from_rfc3339(a).ok()?;
            let b = DateTime::parse_from_rfc3339(b).ok()?;
            Some((b - a).num_seconds() as f64 / 60.0)
        })
        .collect();
    rules::mean(&served).filter(|m| *m > 0.0).unwrap_or(5.0)
}

pub async fn ticket_view(app: &App, t: &Ticket) -> Result<TicketView, Error> {
    let day = NaiveDate::parse_from_str(&t.day, "%Y-%m-%d").unwrap_or_else(|_| app.today());
    let all = app.store.tickets_of_day(t.hall_id, day).await?;
    let waiting: Vec<Ticket> = all
        .iter()
        .filter(|x| x.status == "waiting")
        .cloned()
        .collect();
    let order = queue_order(waiting, app.now());
    let position = order.iter().position(|x| x.id == t.id).map_or(0, |i| i + 1);
    let windows = app
        .store
        .hall_windows(t.hall_id)
        .await?
        .into_iter()
        .filter(|w| !w.retired)
        .collect::<Vec<_>>();
    let window = match t.window_id {
        Some(id) => windows
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.number.clone()),
        None => None,
    };
    let estimate = if position == 0 {
        0
    } else {
        rules::estimate_minutes(position - 1, mean_service(&all), windows.len())
    };
    let status = TicketStatus::parse(&t.status).unwrap_or(TicketStatus::Waiting);
    Ok(TicketView {
        id: t.id,
        ticket: t.label.clone(),
        hall: t.hall_id,
        item: t.impl_code.clone(),
        status: t.status.clone(),
        status_label: status.label(),
        position,
        estimate_minutes: estimate,
        window,
        case_no: t.case_no.clone(),
        appointment: t.appointment_id,
    })
}

/// Takes a ticket at the hall: for an item (anyone, at the entrance), or by checking in
/// an appointment for today (its holder, or the clerk).
pub async fn take_ticket(
    app: &App,
    user: Option<&User>,
    code: &str,
    item: Option<&str>,
    appointment: Option<i64>,
) -> Result<TicketView, Error> {
    let hall = hall_by_code(app, code).await?;
    let now = app.now();
    let today = app.today();
    let t = match (item.map(str::trim).filter(|s| !s.is_empty()), appointment) {
        (_, Some(id)) => {
            let user = user.ok_or_else(Error::unauthorized)?;
            let a = appointment_for(app, user, id).await?;
            if a.hall_id != hall.id {
                return Err(Error::invalid("该预约不在本大厅"));
            }
            if a.date != today.to_string() {
                return Err(Error::invalid(format!(
                    "该预约的日期是 {}，请在预约当天签到取号",
                    a.date
                )));
            }
            app.store
                .issue_ticket(
                    hall.id,
                    today,
                    rules::category(true),
                    &a.impl_code,
                    Some(&a),
                    Some(a.user_id),
                    now,
                )
                .await?
        }
        (Some(item), None) => {
            let impl_code = check_item(app, &hall, item).await?;
            app.store
                .issue_ticket(
                    hall.id,
                    today,
                    rules::category(false),
                    &impl_code,
                    None,
                    user.map(|u| u.id),
                    now,
                )
                .await?
        }
        (None, None) => return Err(Error::invalid("请选择办理事项或预约")),
    };
    ticket_view(app, &t).await
}

pub async fn ticket(app: &App, id: i64) -> Result<TicketView, Error> {
    let t = app.store.ticket(id).await?;
    ticket_view(app, &t).await
}

/// A window of a hall, for a clerk.
async fn window_for(app: &App, user: &User, window_id: i64) -> Result<(Hall, HallWindow), Error> {
    require_scope(app, user, Capability::ServeQueue).await?;
    let view = app.catalog().await?;
    for h in view.halls.iter().filter(|h| !h.retired) {
        if let Some(w) = app
            .store
            .hall_windows(h.id)
            .await?
            .into_iter()
            .find(|w| w.id == window_id && !w.retired)
        {
            return Ok((h.clone(), w));
        }
    }
    Err(Error::not_found(format!("未找到窗口：{window_id}")))
}

/// Can this window serve the ticket? A comprehensive window (一窗综办) serves any item; a
/// dedicated window the items of its own hall; a transferred ticket only its target.
async fn serves(app: &App, hall: &Hall, w: &HallWindow, t: &Ticket) -> Result<bool, Error> {
    if let Some(target) = t.target_window_id {
        return Ok(target == w.id);
    }
    if w.kind != "dedicated" {
        return Ok(true);
    }
    let view = app.catalog().await?;
    Ok(view
        .get(&t.impl_code)
        .is_some_and(|i| i.hall_id == Some(hall.id)))
}

/// Calls the next ticket this window can serve; None when nobody is waiting for it.
pub async fn call_next(
    app: &App,
    user: &User,
    window_id: i64,
) -> Result<Option<TicketView>, Error> {
    let (hall, w) = window_for(app, user, window_id).await?;
    let now = app.now();
    app.store.close_window_tickets(w.id, now).await?;
    // Another window may claim the same ticket at the same moment: the claim is
    // conditional, so the loser tries the next one.
    for _ in 0..8 {
        let waiting: Vec<Ticket> = app
            .store
            .tickets_of_day(hall.id, app.today())
            .await?
            .into_iter()
            .filter(|t| t.status == "waiting")
            .collect();
        let mut next = None;
        // Transferred tickets aimed at this window go first.
        let order = queue_order(waiting, now);
        let mut ordered: Vec<&Ticket> = order
            .iter()
            .filter(|t| t.target_window_id == Some(w.id))
            .collect();
        ordered.extend(order.iter().filter(|t| t.target_window_id != Some(w.id)));
        for t in ordered {
            if serves(app, &hall, &w, t).await? {
                next = Some(t.clone());
                break;
            }
        }
        let Some(t) = next else {
            return Ok(None);
        };
        if app.store.claim_ticket(t.id, w.id, now).await? {
            if let Some(a) = t.appointment_id {
                tracing::debug!(appointment = a, ticket = %t.label, "appointment called");
            }
            return ticket(app, t.id).await.map(Some);
        }
    }
    Err(Error::conflict("叫号繁忙，请重试"))
}

/// The ticket a window holds now.
pub async fn window_current(
    app: &App,
    user: &User,
    window_id: i64,
) -> Result<Option<TicketView>, Error> {
    let (_, w) = window_for(app, user, window_id).await?;
    match app.store.window_current(w.id).await? {
        Some(t) => ticket_view(app, &t).await.map(Some),
        None => Ok(None),
    }
}

pub async fn recall(app: &App, user: &User, window_id: i64) -> Result<TicketView, Error> {
    let (_, w) = window_for(app, user, window_id).await?;
    let t = app
        .store
        .window_current(w.id)
        .await?
        .filter(|t| t.status == "called")
        .ok_or_else(|| Error::conflict("本窗口当前没有待到号的排队号"))?;
    if !app.store.recall_ticket(t.id, app.now()).await? {
        return Err(Error::conflict("该号已不在叫号状态"));
    }
    ticket(app, t.id).await
}

/// A ticket the clerk works on, at a window of its hall.
async fn ticket_at_window(app: &App, user: &User, ticket_id: i64) -> Result<Ticket, Error> {
    require_scope(app, user, Capability::ServeQueue).await?;
    match app.store.ticket(ticket_id).await {
        Ok(t) => Ok(t),
        Err(StoreError::NotFound(_)) => Err(Error::not_found(format!("未找到排队号：{ticket_id}"))),
        Err(e) => Err(e.into()),
    }
}

fn state_conflict(t: &Ticket, action: &str) -> Error {
    let status = TicketStatus::parse(&t.status).map_or("未知", |s| s.label());
    Error::conflict(format!("{} 号当前为「{status}」，不能{action}", t.label))
}

pub async fn skip(app: &App, user: &User, ticket_id: i64) -> Result<TicketView, Error> {
    let t = ticket_at_window(app, user, ticket_id).await?;
    if !app.store.skip_ticket(t.id, app.now()).await? {
        return Err(state_conflict(&t, "过号"));
    }
    ticket(app, t.id).await
}

pub async fn serve(app: &App, user: &User, ticket_id: i64) -> Result<TicketView, Error> {
    let t = ticket_at_window(app, user, ticket_id).await?;
    if !app.store.serve_ticket(t.id, app.now()).await? {
        return Err(state_conflict(&t, "开始办理"));
    }
    ticket(app, t.id).await
}

pub async fn transfer(
    app: &App,
    user: &User,
    ticket_id: i64,
    to_window: i64,
) -> Result<TicketView, Error> {
    let t = ticket_at_window(app, user, ticket_id).await?;
    let (hall, w) = window_for(app, user, to_window).await.map_err(|e| {
        if e.kind == ErrorKind::NotFound {
            Error::invalid(format!("目标窗口 {to_window} 不存在"))
        } else {
            e
        }
    })?;
    if hall.id != t.hall_id {
        return Err(Error::invalid("只能转到本大厅的其他窗口"));
    }
    if t.window_id == Some(w.id) {
        return Err(Error::invalid("不能转到本窗口"));
    }
    if !app.store.transfer_ticket(t.id, w.id).await? {
        return Err(state_conflict(&t, "转窗"));
    }
    ticket(app, t.id).await
}

/// Finishes a ticket, linking it to the case it became (the case must exist and the
/// clerk may read it).
pub async fn finish(
    app: &App,
    user: &User,
    ticket_id: i64,
    case_no: Option<&str>,
) -> Result<TicketView, Error> {
    let t = ticket_at_window(app, user, ticket_id).await?;
    let case_no = case_no.map(str::trim).filter(|s| !s.is_empty());
    if let Some(no) = case_no {
        crate::authz::case_for(app, user, no).await.map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                Error::invalid(format!("办件 {no} 不存在"))
            } else {
                e
            }
        })?;
    }
    let ok = if t.status == "done" {
        match case_no {
            Some(no) => app.store.link_ticket(t.id, no).await?,
            None => false,
        }
    } else {
        app.store.finish_ticket(t.id, case_no, app.now()).await?
    };
    if !ok {
        return Err(state_conflict(&t, "办结"));
    }
    ticket(app, t.id).await
}

/// What the calling screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct Screen {
    pub hall: String,
    pub code: String,
    /// (ticket, window number, status) of the latest calls, newest first.
    pub calls: Vec<(String, String, String)>,
    pub waiting: usize,
    pub waiting_next: Vec<String>,
    /// Changes whenever the screen would change (server-sent events send on change).
    pub version: String,
}

pub async fn screen(app: &App, code: &str) -> Result<Screen, Error> {
    let hall = hall_by_code(app, code).await?;
    let tickets = app.store.tickets_of_day(hall.id, app.today()).await?;
    let windows = app.store.hall_windows(hall.id).await?;
    let number = |id: Option<i64>| {
        id.and_then(|id| windows.iter().find(|w| w.id == id))
            .map(|w| w.number.clone())
            .unwrap_or_default()
    };
    let mut called: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| t.status == "called" || t.status == "serving")
        .collect();
    called.sort_by(|a, b| b.called_at.cmp(&a.called_at));
    let calls: Vec<(String, String, String)> = called
        .iter()
        .take(8)
        .map(|t| {
            (
                t.label.clone(),
                number(t.window_id),
                TicketStatus::parse(&t.status)
                    .map_or("", |s| s.label())
                    .to_string(),
            )
        })
        .collect();
    let waiting = queue_order(
        tickets
            .iter()
            .filter(|t| t.status == "waiting")
            .cloned()
            .collect(),
        app.now(),
    );
    let mut h = Sha256::new();
    for t in &tickets {
        h.update(format!("{}:{}:{}:{:?};", t.id, t.status, t.calls, t.window_id).as_bytes());
    }
    Ok(Screen {
        hall: hall.name.clone(),
        code: hall.id.to_string(),
        calls,
        waiting: waiting.len(),
        waiting_next: waiting.iter().take(6).map(|t| t.label.clone()).collect(),
        version: hex::encode(&h.finalize()[..8]),
    })
}

// ---- figures -------------------------------------------------------------------------------

/// Queue figures of one group (a hall, a window, an item or an hour).
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueFigure {
    pub key: String,
    pub tickets: usize,
    pub served: usize,
    pub mean_wait_minutes: Option<f64>,
    pub p90_wait_minutes: Option<f64>,
    pub mean_service_minutes: Option<f64>,
    pub skipped: usize,
    pub by_appointment: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct HallFigures {
    pub from: String,
    pub to: String,
    pub total: QueueFigure,
    pub by_window: Vec<QueueFigure>,
    pub by_item: Vec<QueueFigure>,
    pub by_hour: Vec<QueueFigure>,
    /// Appointments in the period: booked, checked in, no-shows, cancelled.
    pub appointments: BTreeMap<String, usize>,
    pub long_waits: usize,
    pub wait_limit_minutes: i64,
}

fn minutes(a: &str, b: &str) -> Option<f64> {
    let a = DateTime::parse_from_rfc3339(a).ok()?;
    let b = DateTime::parse_from_rfc3339(b).ok()?;
    Some((b - a).num_seconds() as f64 / 60.0)
}

fn round1(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 10.0).round() / 10.0)
}

fn figure(key: String, tickets: &[&Ticket]) -> QueueFigure {
    let waits: Vec<f64> = tickets
        .iter()
        .filter_map(|t| minutes(&t.issued_at, t.called_at.as_deref()?))
        .collect();
    let service: Vec<f64> = tickets
        .iter()
        .filter(|t| t.status == "done")
        .filter_map(|t| minutes(t.served_at.as_deref()?, t.done_at.as_deref()?))
        .collect();
    QueueFigure {
        key,
        tickets: tickets.len(),
        served: tickets.iter().filter(|t| t.status == "done").count(),
        mean_wait_minutes: round1(rules::mean(&waits)),
        p90_wait_minutes: round1(rules::percentile(&waits, 90.0)),
        mean_service_minutes: round1(rules::mean(&service)),
        skipped: tickets.iter().filter(|t| t.status == "skipped").count(),
        by_appointment: tickets
            .iter()
            .filter(|t| t.appointment_id.is_some())
            .count(),
    }
}

fn grouped(tickets: &[Ticket], key: impl Fn(&Ticket) -> Option<String>) -> Vec<QueueFigure> {
    let mut groups: BTreeMap<String, Vec<&Ticket>> = BTreeMap::new();
    for t in tickets {
        if let Some(k) = key(t) {
            groups.entry(k).or_default().push(t);
        }
    }
    groups.into_iter().map(|(k, v)| figure(k, &v)).collect()
}

pub async fn figures(
    app: &App,
    user: &User,
    code: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<HallFigures, Error> {
    require_scope(app, user, Capability::ReadHallFigures).await?;
    let hall = match code {
        Some(c) => Some(hall_by_code(app, c).await?),
        None => None,
    };
    let to = to.unwrap_or_else(|| app.today());
    let from = from.unwrap_or(to - Duration::days(29));
    if from > to || (to - from).num_days() > 366 {
        return Err(Error::invalid("统计区间应在一年以内，且开始不晚于结束"));
    }
    let tickets = app
        .store
        .tickets_between(hall.as_ref().map(|h| h.id), from, to)
        .await?;
    let mut windows = BTreeMap::new();
    for h in app.catalog().await?.halls.iter() {
        for w in app.store.hall_windows(h.id).await? {
            windows.insert(w.id, format!("{} {}号窗", h.name, w.number));
        }
    }
    let all: Vec<&Ticket> = tickets.iter().collect();
    let mut appointments = BTreeMap::new();
    for (_, status) in app
        .store
        .appointment_use(hall.as_ref().map(|h| h.id), from, to)
        .await?
    {
        *appointments.entry(status).or_insert(0) += 1;
    }
    let since = beijing_at(from, NaiveTime::MIN);
    let long_waits = app
        .store
        .hall_records(hall.as_ref().map(|h| h.id), since)
        .await?
        .len();
    Ok(HallFigures {
        from: from.to_string(),
        to: to.to_string(),
        total: figure(
            hall.as_ref().map_or("全部大厅".into(), |h| h.name.clone()),
            &all,
        ),
        by_window: grouped(&tickets, |t| {
            t.window_id.map(|w| {
                windows
                    .get(&w)
                    .cloned()
                    .unwrap_or_else(|| format!("窗口{w}"))
            })
        }),
        by_item: grouped(&tickets, |t| Some(t.impl_code.clone())),
        by_hour: grouped(&tickets, |t| {
            DateTime::parse_from_rfc3339(&t.issued_at)
                .ok()
                .map(|d| d.with_timezone(&beijing()).format("%H:00").to_string())
        }),
        appointments,
        long_waits,
        wait_limit_minutes: app.hall.wait_limit_minutes,
    })
}

// ---- delivery tracking ---------------------------------------------------------------------

/// A tracking event as entered, imported or pushed.
#[derive(Debug, Clone, Default)]
pub struct TrackingInput<'a> {
    pub waybill: &'a str,
    pub status: &'a str,
    /// RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in Beijing time; empty = now.
    pub at: &'a str,
    pub reason: &'a str,
}

fn parse_event_time(app: &App, s: &str) -> Result<DateTime<Utc>, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(app.now());
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Ok(beijing_at(n.date(), n.time()));
        }
    }
    Err(Error::invalid(format!(
        "时间「{}」格式有误，应为 RFC 3339 或 YYYY-MM-DD HH:MM",
        s.chars().take(40).collect::<String>()
    )))
}

/// Checks a tracking event: the waybill's S10 check digit, a known status, a reason code
/// for 退回/异常, a time not in the future.
pub fn check_tracking(
    app: &App,
    input: &TrackingInput<'_>,
    source: &str,
    case_no: &str,
) -> Result<DeliveryEvent, Error> {
    let waybill = Waybill::parse(input.waybill).map_err(|e| Error::invalid(e.to_string()))?;
    let status = ParcelStatus::parse(input.status).ok_or_else(|| {
        Error::invalid("状态应为 揽收、运输中、派送中、签收、退回 或 异常（或其英文代码）")
    })?;
    let reason = input.reason.trim();
    if status.needs_reason() && reason.is_empty() {
        return Err(Error::invalid(format!(
            "「{}」须填写原因代码",
            status.label()
        )));
    }
    if !reason.is_empty() && !rules::valid_reason(reason) {
        return Err(Error::invalid("原因代码应为1–40个字母、数字或汉字"));
    }
    let at = parse_event_time(app, input.at)?;
    if at > app.now() + Duration::minutes(10) {
        return Err(Error::invalid("事件时间不能晚于当前时间"));
    }
    Ok(DeliveryEvent {
        case_no: case_no.to_string(),
        waybill: waybill.to_string(),
        status: status.code().to_string(),
        at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        reason: reason.to_string(),
        source: source.to_string(),
    })
}

/// Records a tracking event a staff member entered for a case. True when it was new.
pub async fn track(
    app: &App,
    user: &User,
    case_no: &str,
    input: &TrackingInput<'_>,
) -> Result<bool, Error> {
    require_scope(app, user, Capability::TrackDelivery).await?;
    let (rec, _) = crate::authz::case_for(app, user, case_no).await?;
    require(
        app,
        user,
        Capability::TrackDelivery,
        department_standing(user, rec.department_id),
        case_no,
    )
    .await?;
    let ev = check_tracking(app, input, "staff", &rec.case_no)?;
    record(app, &rec, &ev, &user.username).await
}

async fn record(
    app: &App,
    rec: &tongban_store::cases::CaseRecord,
    ev: &DeliveryEvent,
    actor: &str,
) -> Result<bool, Error> {
    if let Some(w) = &rec.state.waybill {
        if w != &ev.waybill {
            return Err(Error::invalid(format!(
                "办件 {} 登记的邮件号是 {w}，与 {} 不一致",
                rec.case_no, ev.waybill
            )));
        }
    }
    let new = app
        .store
        .record_delivery_event(&rec.case_no, rec.department_id, ev, actor, app.now())
        .await?;
    if new && ev.status == "delivered" {
        crate::notify::notify_applicant(
            app,
            rec.applicant_id,
            &format!("办件{}的结果已签收。", rec.case_no),
        )
        .await;
    }
    Ok(new)
}

/// The case a waybill belongs to: from its earlier events, else the case that registered it.
async fn case_of_waybill(
    app: &App,
    waybill: &str,
) -> Result<tongban_store::cases::CaseRecord, Error> {
    if let Some(no) = app.store.case_of_waybill(waybill).await? {
        return Ok(app.store.case_by_no(&no).await?);
    }
    match app.store.case_by_waybill(waybill).await? {
        Some(c) => Ok(c),
        None => Err(Error::invalid(format!(
            "邮件号 {waybill} 未登记在任何办件上"
        ))),
    }
}

/// Outcome of a carrier file import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub recorded: usize,
    pub duplicates: usize,
    /// (line, message)
    pub refused: Vec<(usize, String)>,
}

/// Imports a carrier's CSV (`waybill,status,at,reason`, a header line allowed): each line
/// is checked and recorded on its own; refused lines are reported, not fatal.
pub async fn import_csv(app: &App, user: &User, text: &str) -> Result<ImportReport, Error> {
    require_scope(app, user, Capability::TrackDelivery).await?;
    if text.len() > 2 * 1024 * 1024 {
        return Err(Error::new(
            ErrorKind::TooLarge,
            "too_large",
            "文件不能超过 2 MB",
        ));
    }
    let mut report = ImportReport::default();
    for (i, line) in text.lines().enumerate().take(20_000) {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("waybill")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let input = TrackingInput {
            waybill: f.first().copied().unwrap_or(""),
            status: f.get(1).copied().unwrap_or(""),
            at: f.get(2).copied().unwrap_or(""),
            reason: f.get(3).copied().unwrap_or(""),
        };
        let r = async {
            let w = Waybill::parse(input.waybill).map_err(|e| Error::invalid(e.to_string()))?;
            let rec = case_of_waybill(app, w.as_str()).await?;
            require(
                app,
                user,
                Capability::TrackDelivery,
                department_standing(user, rec.department_id),
                &rec.case_no,
            )
            .await?;
            let ev = check_tracking(app, &input, "csv", &rec.case_no)?;
            record(app, &rec, &ev, &user.username).await
        }
        .await;
        match r {
            Ok(true) => report.recorded += 1,
            Ok(false) => report.duplicates += 1,
            Err(e) => report.refused.push((i + 1, e.message)),
        }
    }
    Ok(report)
}

/// HMAC-SHA256 (RFC 2104), hex.
pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// A carrier's push: the body signed with the shared secret (`X-Carrier-Signature:
/// sha256=<hex>`). Returns whether the event was new.
pub async fn webhook(app: &App, signature: &str, body: &[u8]) -> Result<bool, Error> {
    let Some(secret) = app.hall.carrier_secret.as_deref() else {
        return Err(Error::forbidden_because("未配置承运商密钥，不接收推送"));
    };
    let expected = hmac_sha256_hex(secret.as_bytes(), body);
    let given = signature.trim().trim_start_matches("sha256=");
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |a, (x, y)| a | (x ^ y))
            == 0;
    if !same {
        let _ = app
            .store
            .record_audit(
                app.now(),
                "carrier",
                "delivery.webhook_refused",
                "bad signature",
            )
            .await;
        return Err(Error::new(
            ErrorKind::Unauthorized,
            "bad_signature",
            "签名无效",
        ));
    }
    #[derive(serde::Deserialize)]
    struct Push {
        waybill: String,
        status: String,
        #[serde(default)]
        at: String,
        #[serde(default)]
        reason: String,
    }
    let p: Push = serde_json::from_slice(body)
        .map_err(|e| Error::invalid(format!("推送内容格式有误：{e}")))?;
    let w = Waybill::parse(&p.waybill).map_err(|e| Error::invalid(e.to_string()))?;
    let rec = case_of_waybill(app, w.as_str()).await?;
    let ev = check_tracking(
        app,
        &TrackingInput {
            waybill: &p.waybill,
            status: &p.status,
            at: &p.at,
            reason: &p.reason,
        },
        "webhook",
        &rec.case_no,
    )?;
    record(app, &rec, &ev, "carrier").await
}

pub async fn delivery_events(
    app: &App,
    user: &User,
    case_no: &str,
) -> Result<Vec<DeliveryEvent>, Error> {
    crate::cases::read_case(app, user, case_no).await?;
    Ok(app.store.delivery_events(case_no).await?)
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DeliveryFigures {
    pub parcels: usize,
    pub delivered: usize,
    /// Share of completed cases in the period whose result went by post.
    pub share_by_post: Option<f64>,
    pub median_days_to_receipt: Option<f64>,
    pub failures_by_cause: BTreeMap<String, usize>,
    pub stale: usize,
}

pub async fn delivery_figures(
    app: &App,
    user: &User,
    since_days: i64,
) -> Result<DeliveryFigures, Error> {
    require_scope(app, user, Capability::ReadHallFigures).await?;
    let since = app.now() - Duration::days(since_days.clamp(1, 366));
    let events = app.store.delivery_events_since(since).await?;
    let mut by_waybill: BTreeMap<&str, Vec<&DeliveryEvent>> = BTreeMap::new();
    for e in &events {
        by_waybill.entry(e.waybill.as_str()).or_default().push(e);
    }
    let mut f = DeliveryFigures {
        parcels: by_waybill.len(),
        ..Default::default()
    };
    let stale_before = app.now() - Duration::days(app.hall.stale_parcel_days);
    let mut days = Vec::new();
    for evs in by_waybill.values() {
        for e in evs
            .iter()
            .filter(|e| ParcelStatus::parse(&e.status).is_some_and(|s| s.is_failure()))
        {
            let cause = if e.reason.is_empty() {
                ParcelStatus::parse(&e.status)
                    .map_or("", |s| s.label())
                    .to_string()
            } else {
                e.reason.clone()
            };
            *f.failures_by_cause.entry(cause).or_insert(0) += 1;
        }
        let last = evs.last().expect("grouped events are not empty");
        if let Some(d) = evs.iter().find(|e| e.status == "delivered") {
            f.delivered += 1;
            if let Ok(c) = app.store.case_by_no(&d.case_no).await {
                if let (Some(done), Some(at)) = (c.state.completed_on, c.state.delivered_on) {
                    days.push((at - done).num_days() as f64);
                }
            }
        } else if !ParcelStatus::parse(&last.status).is_some_and(|s| s.is_final())
            && DateTime::parse_from_rfc3339(&last.at).is_ok_and(|t| t < stale_before)
        {
            f.stale += 1;
        }
    }
    days.sort_by(|a, b| a.total_cmp(b));
    f.median_days_to_receipt = if days.is_empty() {
        None
    } else if days.len() % 2 == 1 {
        Some(days[days.len() / 2])
    } else {
        Some((days[days.len() / 2 - 1] + days[days.len() / 2]) / 2.0)
    };
    let completed = app
        .store
        .decided_cases_since(&since.with_timezone(&beijing()).date_naive().to_string())
        .await?;
    if !completed.is_empty() {
        let posted = completed
            .iter()
            .filter(|c| matches!(c.state.delivery, tongban_core::case::Delivery::Post { .. }))
            .count();
        f.share_by_post = Some((posted as f64 / completed.len() as f64 * 1000.0).round() / 1000.0);
    }
    Ok(f)
}

// ---- the hall's timers -------------------------------------------------------------------

/// One pass of the hall's timers: the day-before reminders, no-shows, long waits, and
/// parcels without news. Safe on several nodes (each step claims its rows).
pub async fn run_once(app: &App) -> Result<(), Error> {
    let now = app.now();
    let view = app.catalog().await?;
    let tomorrow = app.today() + Duration::days(1);
    let reminders = app
        .store
        .claim_reminders(
            tomorrow,
            |h| view.hall(h).map(|h| h.name.clone()).unwrap_or_default(),
            |c| view.get(c).map(|i| i.item.name.clone()).unwrap_or_default(),
            now,
        )
        .await?;
    for (user_id, text) in reminders {
        if let Ok(Some(a)) = app.store.applicant_of_user(user_id).await {
            app.sms.send(&a.mobile, &text);
        }
    }
    app.store
        .mark_no_shows(now - Duration::minutes(app.hall.no_show.grace_minutes), now)
        .await?;
    app.store
        .raise_wait_records(
            now - Duration::minutes(app.hall.wait_limit_minutes),
            app.hall.wait_limit_minutes,
            now,
        )
        .await?;
    if app.hall.simulated_carrier {
        simulate_carrier(app).await?;
    }
    flag_stale_parcels(app).await?;
    Ok(())
}

/// The demo's carrier: every parcel on its way moves one step (揽收 → 运输中 → 派送中 →
/// 签收) each pass, as a real carrier's pushes would.
pub async fn simulate_carrier(app: &App) -> Result<usize, Error> {
    let now = app.now();
    let events = app
        .store
        .delivery_events_since(now - Duration::days(30))
        .await?;
    let mut last: BTreeMap<&str, &DeliveryEvent> = BTreeMap::new();
    for e in &events {
        last.insert(e.waybill.as_str(), e);
    }
    let mut moved = 0;
    for e in last.into_values() {
        let next = match ParcelStatus::parse(&e.status) {
            Some(ParcelStatus::Collected) => ParcelStatus::InTransit,
            Some(ParcelStatus::InTransit) => ParcelStatus::OutForDelivery,
            Some(ParcelStatus::OutForDelivery) => ParcelStatus::Delivered,
            _ => continue,
        };
        let rec = app.store.case_by_no(&e.case_no).await?;
        let ev = DeliveryEvent {
            status: next.code().to_string(),
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            reason: String::new(),
            source: "webhook".into(),
            ..e.clone()
        };
        if record(app, &rec, &ev, "carrier").await? {
            moved += 1;
        }
    }
    Ok(moved)
}

/// The demo hall: two results posted (with their first carrier events), appointments for
/// tomorrow, and a morning queue at 市民之家 with one ticket called. Idempotent: does
/// nothing when tickets exist already.
pub async fn seed_demo(app: &App) -> anyhow::Result<usize> {
    use tongban_core::case::{Channel, Command, Delivery};
    let view = app
        .catalog()
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let Some(hall) = view.hall_by_name("市民之家").cloned() else {
        return Ok(0);
    };
    if !app
        .store
        .tickets_between(Some(hall.id), app.today() - Duration::days(7), app.today())
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let users = app.store.users().await?;
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u.username == name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("demo user {name} missing"))
    };
    let (clerk, approver, head, zs) = (
        user("clerk")?,
        user("approver")?,
        user("head")?,
        user("zhangsan")?,
    );
    let applicant = app
        .store
        .applicant_of_user(zs.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("zhangsan has no applicant"))?;
    let item = view
        .active()
        .find(|i| i.item.name == "食品经营许可证核发" && i.item.department == "市市场监督管理局")
        .ok_or_else(|| anyhow::anyhow!("demo item missing"))?;
    let code = item.item.impl_code.to_string();
    // Received on paper at the window: every required material (受理 refuses less).
    let paper: Vec<tongban_core::case::MaterialRef> = item
        .materials
        .iter()
        .filter(|m| m.necessity == tongban_core::catalog::Necessity::Required)
        .map(|m| tongban_core::case::MaterialRef {
            name: m.name.clone(),
            sha256: None,
            file_name: None,
            licence_id: None,
            trust: Some('B'),
        })
        .collect();
    let err = |e: Error| anyhow::anyhow!(e.message);
    // Two results by post, numbered as EMS numbers them.
    for (n, serial) in [(0, 10_230_001u32), (1, 10_230_002)] {
        let (rec, _) = crate::cases::submit(
            app,
            &clerk,
            crate::cases::Submission {
                impl_code: &code,
                applicant: &applicant,
                channel: Channel::Window,
                delivery: Delivery::Post {
                    address: "娄星市娄星区长青中街1号 张三 13800000000".into(),
                },
                materials: paper.clone(),
                idem_key: None,
                details: Default::default(),
            },
        )
        .await
        .map_err(err)?;
        let waybill = Waybill::from_serial("EA", serial, "CN").expect("valid serial");
        for (who, cmd) in [
            (&clerk, Command::Accept),
            (
                &approver,
                Command::Pass {
                    opinion: "材料齐全，符合受理条件".into(),
                },
            ),
            (
                &approver,
                Command::Pass {
                    opinion: "经审查符合法定条件".into(),
                },
            ),
            (
                &head,
                Command::Pass {
                    opinion: "准予许可".into(),
                },
            ),
            (
                &clerk,
                Command::RegisterDelivery {
                    waybill: waybill.to_string(),
                },
            ),
        ] {
            let v = app.store.case_by_no(&rec.case_no).await?.version;
            crate::cases::execute(app, who, &rec.case_no, v, &cmd)
                .await
                .map_err(err)?;
        }
        let status = if n == 0 { "揽收" } else { "运输中" };
        track(
            app,
            &clerk,
            &rec.case_no,
            &TrackingInput {
                waybill: waybill.as_str(),
                status,
                at: "",
                reason: "",
            },
        )
        .await
        .map_err(err)?;
    }
    // Appointments for the next working day, and this morning's queue.
    let cal = app.calendar().await.map_err(err)?;
    let mut next = app.today() + Duration::days(1);
    while !cal.is_working_day(next).unwrap_or(true) {
        next += Duration::days(1);
    }
    let code_text = hall.id.to_string();
    let slots = slots(app, &code_text, &code, Some(next), Some(next))
        .await
        .map_err(err)?;
    if let Some(s) = slots.first() {
        book(app, &zs, s.id, &code, None).await.map_err(err)?;
    }
    let mut made = 0;
    for _ in 0..4 {
        take_ticket(app, None, &code_text, Some(&code), None)
            .await
            .map_err(err)?;
        made += 1;
    }
    if let Some(w) = app
        .store
        .hall_windows(hall.id)
        .await?
        .into_iter()
        .find(|w| w.kind != "dedicated")
    {
        call_next(app, &clerk, w.id).await.map_err(err)?;
    }
    Ok(made)
}

/// Raises a supervision record (送达逾期) for each parcel with no carrier event for the
/// configured number of days that has not reached 签收 or 退回.
pub async fn flag_stale_parcels(app: &App) -> Result<usize, Error> {
    let now = app.now();
    let events = app
        .store
        .delivery_events_since(now - Duration::days(90))
        .await?;
    let mut last: BTreeMap<&str, &DeliveryEvent> = BTreeMap::new();
    for e in &events {
        last.insert(e.waybill.as_str(), e);
    }
    let cutoff = now - Duration::days(app.hall.stale_parcel_days);
    let mut n = 0;
    for (waybill, e) in last {
        let final_ = ParcelStatus::parse(&e.status).is_some_and(|s| s.is_final());
        let old = DateTime::parse_from_rfc3339(&e.at).is_ok_and(|t| t < cutoff);
        if final_ || !old {
            continue;
        }
        let finding = tongban_core::supervision::Finding {
            rule: tongban_core::supervision::Rule::DeliveryOverdue,
            cause: format!("parcel_stale:{waybill}"),
            detail: format!(
                "邮件 {waybill} 自 {} 起超过{}天无物流信息（最后状态：{}）",
                &e.at[..10.min(e.at.len())],
                app.hall.stale_parcel_days,
                ParcelStatus::parse(&e.status).map_or("", |s| s.label())
            ),
        };
        app.store.flag_attempt(&e.case_no, &finding, now).await?;
        n += 1;
    }
    Ok(n)
}

pub fn spawn_worker(app: App) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            if let Err(e) = run_once(&app).await {
                tracing::warn!(error = %e.message, "hall timers failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
