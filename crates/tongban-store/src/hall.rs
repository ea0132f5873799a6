//! The hall (issue #18): appointment slots and bookings (capacity enforced by one
//! conditional UPDATE, so concurrent bookings on any number of nodes never over-book),
//! queue tickets numbered per hall/day/category, the hall's waiting-time records, and
//! parcel tracking events appended to the case ledger.

use crate::db::Row as AnyRow;
use crate::{get_i64, get_opt_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tongban_core::case::Event;

/// A bookable period of one day at a hall, for one item.
#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    pub id: i64,
    pub hall_id: i64,
    pub impl_code: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub starts_at: String,
    pub capacity: i64,
    pub booked: i64,
}

/// A slot to create if it does not exist yet.
#[derive(Debug, Clone)]
pub struct NewSlot {
    pub day: NaiveDate,
    pub start: String,
    pub end: String,
    pub starts_at: DateTime<Utc>,
    pub capacity: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appointment {
    pub id: i64,
    pub slot_id: i64,
    pub user_id: i64,
    pub booked_by: String,
    pub impl_code: String,
    /// booked | cancelled | checked_in | no_show
    pub status: String,
    pub created_at: String,
    pub changed_at: String,
    pub hall_id: i64,
    pub date: String,
    pub start: String,
    pub end: String,
    pub starts_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub hall_id: i64,
    pub day: String,
    pub category: String,
    pub number: i64,
    pub label: String,
    pub impl_code: String,
    pub appointment_id: Option<i64>,
    pub slot_starts_at: Option<String>,
    pub user_id: Option<i64>,
    pub status: String,
    pub window_id: Option<i64>,
    pub target_window_id: Option<i64>,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub served_at: Option<String>,
    pub done_at: Option<String>,
    pub calls: i64,
    pub case_no: Option<String>,
}

/// A parcel tracking event as stored.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryEvent {
    pub case_no: String,
    pub waybill: String,
    pub status: String,
    pub at: String,
    pub reason: String,
    pub source: String,
}

/// A waiting-time record of a hall (a ticket that waited longer than the limit).
#[derive(Debug, Clone, Serialize)]
pub struct HallRecord {
    pub hall_id: i64,
    pub ticket_id: i64,
    pub rule: String,
    pub severity: String,
    pub detail: String,
    pub raised_at: String,
}

const SLOT_COLS: &str =
    "id, hall_id, impl_code, day, start_time, end_time, starts_at, capacity, booked";
const APPT_COLS: &str = "a.id, a.slot_id, a.user_id, a.booked_by, a.impl_code, a.status, a.created_at, a.changed_at, s.hall_id, s.day, s.start_time, s.end_time, s.starts_at";
const TICKET_COLS: &str = "id, hall_id, day, category, number, label, impl_code, appointment_id, slot_starts_at, user_id, status, window_id, target_window_id, issued_at, called_at, served_at, done_at, calls, case_no";

fn opt_str(r: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(r.try_get::<Option<String>, _>(col)?)
}

fn slot_from_row(r: &AnyRow) -> Result<Slot> {
    Ok(Slot {
        id: get_i64(r, "id")?,
        hall_id: get_i64(r, "hall_id")?,
        impl_code: get_str(r, "impl_code")?,
        date: get_str(r, "day")?,
        start: get_str(r, "start_time")?,
        end: get_str(r, "end_time")?,
        starts_at: get_str(r, "starts_at")?,
        capacity: get_i64(r, "capacity")?,
        booked: get_i64(r, "booked")?,
    })
}

fn appt_from_row(r: &AnyRow) -> Result<Appointment> {
    Ok(Appointment {
        id: get_i64(r, "id")?,
        slot_id: get_i64(r, "slot_id")?,
        user_id: get_i64(r, "user_id")?,
        booked_by: get_str(r, "booked_by")?,
        impl_code: get_str(r, "impl_code")?,
        status: get_str(r, "status")?,
        created_at: get_str(r, "created_at")?,
        changed_at: get_str(r, "changed_at")?,
        hall_id: get_i64(r, "hall_id")?,
        date: get_str(r, "day")?,
        start: get_str(r, "start_time")?,
        end: get_str(r, "end_time")?,
        starts_at: get_str(r, "starts_at")?,
    })
}

fn ticket_from_row(r: &AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: get_i64(r, "id")?,
        hall_id: get_i64(r, "hall_id")?,
        day: get_str(r, "day")?,
        category: get_str(r, "category")?,
        number: get_i64(r, "number")?,
        label: get_str(r, "label")?,
        impl_code: get_str(r, "impl_code")?,
        appointment_id: get_opt_i64(r, "appointment_id")?,
        slot_starts_at: opt_str(r, "slot_starts_at")?,
        user_id: get_opt_i64(r, "user_id")?,
        status: get_str(r, "status")?,
        window_id: get_opt_i64(r, "window_id")?,
        target_window_id: get_opt_i64(r, "target_window_id")?,
        issued_at: get_str(r, "issued_at")?,
        called_at: opt_str(r, "called_at")?,
        served_at: opt_str(r, "served_at")?,
        done_at: opt_str(r, "done_at")?,
        calls: get_i64(r, "calls")?,
        case_no: opt_str(r, "case_no")?,
    })
}

fn full() -> StoreError {
    StoreError::Conflict("该时段已约满，请选择其他时段".into())
}

impl Store {
    // ---- slots and appointments ---------------------------------------------------------

    /// Creates the slots that do not exist yet (an existing slot keeps its capacity and
    /// bookings).
    pub async fn ensure_slots(
        &self,
        hall_id: i64,
        impl_code: &str,
        slots: &[NewSlot],
    ) -> Result<()> {
        if slots.is_empty() {
            return Ok(());
        }
        // Most calls find every slot already there: a read spares the writer.
        let (first, last) = (slots[0].day, slots[slots.len() - 1].day);
        let have = crate::db::query(
            "SELECT COUNT(*) AS n FROM hall_slots WHERE hall_id = $1 AND impl_code = $2 AND day >= $3 AND day <= $4",
        )
        .bind(hall_id)
        .bind(impl_code)
        .bind(first.to_string())
        .bind(last.to_string())
        .fetch_one(self.r())
        .await?;
        if get_i64(&have, "n")? as usize >= slots.len() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for s in slots {
            crate::db::query(
                "INSERT INTO hall_slots (hall_id, impl_code, day, start_time, end_time, starts_at, capacity, booked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0) ON CONFLICT (hall_id, impl_code, day, start_time) DO NOTHING",
            )
            .bind(hall_id)
            .bind(impl_code)
            .bind(s.day.to_string())
            .bind(&s.start)
            .bind(&s.end)
            .bind(now_text(s.starts_at))
            .bind(s.capacity)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx).await
    }

    pub async fn slots(
        &self,
        hall_id: i64,
        impl_code: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Slot>> {
        let rows = crate::db::query(&format!(
            "SELECT {SLOT_COLS} FROM hall_slots WHERE hall_id = $1 AND impl_code = $2 AND day >= $3 AND day <= $4 ORDER BY starts_at, id"
        ))
        .bind(hall_id)
        .bind(impl_code)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.r())
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    pub async fn slot(&self, id: i64) -> Result<Slot> {
        let r = crate::db::query(&format!("SELECT {SLOT_COLS} FROM hall_slots WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("预约时段 {id}")))?;
        slot_from_row(&r)
    }

    /// Sets a slot's capacity (not below what is booked).
    pub async fn set_slot_capacity(&self, id: i64, capacity: i64) -> Result<Slot> {
        let mut tx = self.begin_write().await?;
        let done =
            crate::db::query("UPDATE hall_slots SET capacity = $1 WHERE id = $2 AND booked <= $1")
                .bind(capacity)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "容量不能小于已预约人数（或时段不存在）".into(),
            ));
        }
        self.commit(tx).await?;
        self.slot(id).await
    }

    /// Books a place: one conditional UPDATE takes it only while `booked < capacity`, in
    /// the same transaction as the appointment row. On PostgreSQL a second booker waits
    /// for the first one's row lock and then finds the condition false; on SQLite writers
    /// are serialised. Either way the slot is never over-booked.
    pub async fn book(
        &self,
        slot_id: i64,
        user_id: i64,
        booked_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Appointment> {
        let mut tx = self.begin_write().await?;
        let id = book_in(&mut tx, slot_id, user_id, booked_by, now).await?;
        self.commit(tx).await?;
        self.appointment(id).await
    }

    pub async fn appointment(&self, id: i64) -> Result<Appointment> {
        let r = crate::db::query(&format!(
            "SELECT {APPT_COLS} FROM appointments a JOIN hall_slots s ON s.id = a.slot_id WHERE a.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("预约 {id}")))?;
        appt_from_row(&r)
    }

    pub async fn appointments_of(&self, user_id: i64) -> Result<Vec<Appointment>> {
        let rows = crate::db::query(&format!(
            "SELECT {APPT_COLS} FROM appointments a JOIN hall_slots s ON s.id = a.slot_id WHERE a.user_id = $1 ORDER BY s.starts_at DESC LIMIT 50"
        ))
        .bind(user_id)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(appt_from_row).collect()
    }

    /// Cancels a booked appointment and frees its place; false when it was not booked.
    pub async fn cancel_appointment(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let freed = cancel_in(&mut tx, id, now).await?;
        self.commit(tx).await?;
        Ok(freed)
    }

    /// Moves a booked appointment to another slot: the new place is taken (or the whole
    /// move refused) before the old one is freed, in one transaction.
    pub async fn reschedule(
        &self,
        id: i64,
        new_slot: i64,
        now: DateTime<Utc>,
    ) -> Result<Appointment> {
        let old = self.appointment(id).await?;
        if old.status != "booked" {
            return Err(StoreError::Conflict("只有待到场的预约可以改期".into()));
        }
        let mut tx = self.begin_write().await?;
        let taken = crate::db::query(
            "UPDATE hall_slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity",
        )
        .bind(new_slot)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(full());
        }
        let moved = crate::db::query(
            "UPDATE appointments SET slot_id = $1, changed_at = $2, reminded = 0 WHERE id = $3 AND status = 'booked' AND slot_id = $4",
        )
        .bind(new_slot)
        .bind(now_text(now))
        .bind(id)
        .bind(old.slot_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(StoreError::Conflict("预约已变更，请刷新后重试".into()));
        }
        crate::db::query("UPDATE hall_slots SET booked = booked - 1 WHERE id = $1 AND booked > 0")
            .bind(old.slot_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        self.appointment(id).await
    }

    /// When a user's appointments were missed (for the no-show rule).
    pub async fn no_shows_of(&self, user_id: i64) -> Result<Vec<DateTime<Utc>>> {
        let rows = crate::db::query(
            "SELECT s.starts_at FROM appointments a JOIN hall_slots s ON s.id = a.slot_id WHERE a.user_id = $1 AND a.status = 'no_show'",
        )
        .bind(user_id)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                let t = get_str(r, "starts_at")?;
                DateTime::parse_from_rfc3339(&t)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| StoreError::Internal(format!("bad time {t}: {e}")))
            })
            .collect()
    }

    /// Marks booked appointments whose slot began before `cutoff` as no-shows; returns
    /// how many.
    pub async fn mark_no_shows(&self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE appointments SET status = 'no_show', changed_at = $1 WHERE status = 'booked' AND slot_id IN (SELECT id FROM hall_slots WHERE starts_at < $2)",
        )
        .bind(now_text(now))
        .bind(now_text(cutoff))
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(done.rows_affected())
    }

    /// Claims the reminders due for appointments on `day`: each is marked reminded (once,
    /// on any node) and a message is written to the applicant's message box. Returns
    /// (user id, text) for the SMS gateway.
    pub async fn claim_reminders(
        &self,
        day: NaiveDate,
        hall_name: impl Fn(i64) -> String,
        item_name: impl Fn(&str) -> String,
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, String)>> {
        let rows = crate::db::query(&format!(
            "SELECT {APPT_COLS} FROM appointments a JOIN hall_slots s ON s.id = a.slot_id WHERE a.status = 'booked' AND a.reminded = 0 AND s.day = $1 ORDER BY a.id LIMIT 500"
        ))
        .bind(day.to_string())
        .fetch_all(self.r())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let a = appt_from_row(r)?;
            let mut tx = self.begin_write().await?;
            let claimed = crate::db::query(
                "UPDATE appointments SET reminded = 1 WHERE id = $1 AND reminded = 0 AND status = 'booked'",
            )
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 1 {
                let text = format!(
                    "预约提醒：您已预约明天（{}）{}–{} 在{}办理「{}」，请携带材料按时到场签到取号；如不能前往请提前取消预约。",
                    a.date,
                    a.start,
                    a.end,
                    hall_name(a.hall_id),
                    item_name(&a.impl_code)
                );
                let applicant = crate::db::query("SELECT id FROM applicants WHERE user_id = $1")
                    .bind(a.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(ap) = applicant {
                    crate::messages::message(&mut tx, get_i64(&ap, "id")?, "", now, &text).await?;
                }
                out.push((a.user_id, text));
            }
            self.commit(tx).await?;
        }
        Ok(out)
    }

    // ---- tickets ------------------------------------------------------------------------

    /// Issues a walk-in ticket, or checks an appointment in and issues its ticket (the
    /// appointment must still be booked), numbered per hall, day and category.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_ticket(
        &self,
        hall_id: i64,
        day: NaiveDate,
        category: char,
        impl_code: &str,
        appointment: Option<&Appointment>,
        user_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let mut tx = self.begin_write().await?;
        if let Some(a) = appointment {
            let done = crate::db::query(
                "UPDATE appointments SET status = 'checked_in', changed_at = $1 WHERE id = $2 AND status = 'booked'",
            )
            .bind(now_text(now))
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(
                    "该预约已签到、已取消或已失约，不能再取号".into(),
                ));
            }
        }
        let cat = category.to_string();
        crate::db::query(
            "INSERT INTO hall_ticket_counters (hall_id, day, category, n) VALUES ($1, $2, $3, 0) ON CONFLICT (hall_id, day, category) DO NOTHING",
        )
        .bind(hall_id)
        .bind(day.to_string())
        .bind(&cat)
        .execute(&mut *tx)
        .await?;
        let n = get_i64(
            &crate::db::query(
                "UPDATE hall_ticket_counters SET n = n + 1 WHERE hall_id = $1 AND day = $2 AND category = $3 RETURNING n",
            )
            .bind(hall_id)
            .bind(day.to_string())
            .bind(&cat)
            .fetch_one(&mut *tx)
            .await?,
            "n",
        )?;
        let label = tongban_core::hall::ticket_label(category, n);
        let r = crate::db::query(&format!(
            "INSERT INTO hall_tickets (hall_id, day, category, number, label, impl_code, appointment_id, slot_starts_at, user_id, status, issued_at, calls) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting', $10, 0) RETURNING {TICKET_COLS}"
        ))
        .bind(hall_id)
        .bind(day.to_string())
        .bind(&cat)
        .bind(n)
        .bind(&label)
        .bind(impl_code)
        .bind(appointment.map(|a| a.id))
        .bind(appointment.map(|a| a.starts_at.clone()))
        .bind(user_id)
        .bind(now_text(now))
        .fetch_one(&mut *tx)
        .await?;
        let t = ticket_from_row(&r)?;
        self.commit(tx).await?;
        Ok(t)
    }

    pub async fn ticket(&self, id: i64) -> Result<Ticket> {
        let r = crate::db::query(&format!(
            "SELECT {TICKET_COLS} FROM hall_tickets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("排队号 {id}")))?;
        ticket_from_row(&r)
    }

    /// The tickets of a hall on a day, in issue order.
    pub async fn tickets_of_day(&self, hall_id: i64, day: NaiveDate) -> Result<Vec<Ticket>> {
        let rows = crate::db::query(&format!(
            "SELECT {TICKET_COLS} FROM hall_tickets WHERE hall_id = $1 AND day = $2 ORDER BY id"
        ))
        .bind(hall_id)
        .bind(day.to_string())
        .fetch_all(self.r())
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// The tickets of a hall (or every hall) between two days, for the figures.
    pub async fn tickets_between(
        &self,
        hall_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Ticket>> {
        let rows = crate::db::query(&format!(
            "SELECT {TICKET_COLS} FROM hall_tickets WHERE ($1 < 0 OR hall_id = $1) AND day >= $2 AND day <= $3 ORDER BY id LIMIT 200000"
        ))
        .bind(hall_id.unwrap_or(-1))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.r())
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    /// Appointments (slot id, status) of slots between two days, for the figures.
    pub async fn appointment_use(
        &self,
        hall_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, String)>> {
        let rows = crate::db::query(
            "SELECT a.impl_code, a.status FROM appointments a JOIN hall_slots s ON s.id = a.slot_id WHERE ($1 < 0 OR s.hall_id = $1) AND s.day >= $2 AND s.day <= $3",
        )
        .bind(hall_id.unwrap_or(-1))
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| Ok((get_str(r, "impl_code")?, get_str(r, "status")?)))
            .collect()
    }

    /// Moves a ticket from one status to the next, only from the statuses named; false
    /// when it was not in one of them (someone acted first).
    async fn ticket_step(&self, sql: &str, binds: TicketStep<'_>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let mut q = crate::db::query(sql);
        for b in binds.0 {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::OI(v) => q.bind(*v),
                Bind::S(v) => q.bind(v.clone()),
                Bind::OS(v) => q.bind(v.clone()),
            };
        }
        let done = q.execute(&mut *tx).await?;
        // A ticket linked to an accepted case records the case's window in its figures.
        if done.rows_affected() == 1 {
            if let Some(Bind::I(id)) = binds.0.last() {
                crate::figures::refresh_window(&mut tx, *id).await?;
            }
        }
        self.commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims a waiting ticket for a window (called); false when another window took it.
    pub async fn claim_ticket(
        &self,
        ticket_id: i64,
        window_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET status = 'called', window_id = $1, called_at = $2, calls = calls + 1, target_window_id = NULL WHERE id = $3 AND status = 'waiting'",
            TicketStep(&[Bind::I(window_id), Bind::S(now_text(now)), Bind::I(ticket_id)]),
        )
        .await
    }

    /// Closes what a window still holds before it calls the next: a called ticket that was
    /// never served is 过号 (skipped), one being served is done.
    pub async fn close_window_tickets(&self, window_id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("UPDATE hall_tickets SET status = 'skipped', done_at = $1 WHERE window_id = $2 AND status = 'called'")
            .bind(now_text(now))
            .bind(window_id)
            .execute(&mut *tx)
            .await?;
        crate::db::query("UPDATE hall_tickets SET status = 'done', done_at = $1 WHERE window_id = $2 AND status = 'serving'")
            .bind(now_text(now))
            .bind(window_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// The ticket a window has called or is serving.
    pub async fn window_current(&self, window_id: i64) -> Result<Option<Ticket>> {
        let r = crate::db::query(&format!(
            "SELECT {TICKET_COLS} FROM hall_tickets WHERE window_id = $1 AND status IN ('called', 'serving') ORDER BY called_at DESC LIMIT 1"
        ))
        .bind(window_id)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(ticket_from_row).transpose()
    }

    pub async fn recall_ticket(&self, ticket_id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET calls = calls + 1, called_at = $1 WHERE id = $2 AND status = 'called'",
            TicketStep(&[Bind::S(now_text(now)), Bind::I(ticket_id)]),
        )
        .await
    }

    pub async fn skip_ticket(&self, ticket_id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET status = 'skipped', done_at = $1 WHERE id = $2 AND status = 'called'",
            TicketStep(&[Bind::S(now_text(now)), Bind::I(ticket_id)]),
        )
        .await
    }

    /// Sends a called or served ticket back to the queue for another window, ahead of
    /// that window's other tickets (its place in line is kept: it was issued earlier).
    pub async fn transfer_ticket(&self, ticket_id: i64, to_window: i64) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET status = 'waiting', window_id = NULL, target_window_id = $1 WHERE id = $2 AND status IN ('called', 'serving')",
            TicketStep(&[Bind::I(to_window), Bind::I(ticket_id)]),
        )
        .await
    }

    pub async fn serve_ticket(&self, ticket_id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET status = 'serving', served_at = $1 WHERE id = $2 AND status = 'called'",
            TicketStep(&[Bind::S(now_text(now)), Bind::I(ticket_id)]),
        )
        .await
    }

    /// Finishes a ticket, linking it to the case it became (if any).
    pub async fn finish_ticket(
        &self,
        ticket_id: i64,
        case_no: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET status = 'done', done_at = $1, served_at = COALESCE(served_at, $1), case_no = COALESCE($2, case_no) WHERE id = $3 AND status IN ('called', 'serving')",
            TicketStep(&[
                Bind::S(now_text(now)),
                Bind::OS(case_no.map(str::to_string)),
                Bind::I(ticket_id),
            ]),
        )
        .await
    }

    /// Links a ticket to a case afterwards (the window registered the case later).
    pub async fn link_ticket(&self, ticket_id: i64, case_no: &str) -> Result<bool> {
        self.ticket_step(
            "UPDATE hall_tickets SET case_no = $1 WHERE id = $2",
            TicketStep(&[Bind::S(case_no.to_string()), Bind::I(ticket_id)]),
        )
        .await
    }

    /// Raises a waiting-time record for each ticket of the hall still waiting since
    /// before `cutoff` (once per ticket); returns how many were raised.
    pub async fn raise_wait_records(
        &self,
        cutoff: DateTime<Utc>,
        limit_minutes: i64,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let rows = crate::db::query(
            "SELECT t.id, t.hall_id, t.label, t.issued_at FROM hall_tickets t WHERE t.status = 'waiting' AND t.issued_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM hall_records r WHERE r.ticket_id = t.id AND r.rule = 'long_wait') LIMIT 500",
        )
        .bind(now_text(cutoff))
        .fetch_all(self.r())
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for r in &rows {
            let done = crate::db::query(
                "INSERT INTO hall_records (hall_id, ticket_id, rule, severity, detail, raised_at) VALUES ($1, $2, 'long_wait', 'warning', $3, $4) ON CONFLICT (ticket_id, rule) DO NOTHING",
            )
            .bind(get_i64(r, "hall_id")?)
            .bind(get_i64(r, "id")?)
            .bind(format!(
                "{} 号等候超过 {limit_minutes} 分钟（取号于 {}）",
                get_str(r, "label")?,
                get_str(r, "issued_at")?
            ))
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
            n += done.rows_affected();
        }
        self.commit(tx).await?;
        Ok(n)
    }

    pub async fn hall_records(
        &self,
        hall_id: Option<i64>,
        since: DateTime<Utc>,
    ) -> Result<Vec<HallRecord>> {
        let rows = crate::db::query(
            "SELECT hall_id, ticket_id, rule, severity, detail, raised_at FROM hall_records WHERE ($1 < 0 OR hall_id = $1) AND raised_at >= $2 ORDER BY id DESC LIMIT 500",
        )
        .bind(hall_id.unwrap_or(-1))
        .bind(now_text(since))
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HallRecord {
                    hall_id: get_i64(r, "hall_id")?,
                    ticket_id: get_i64(r, "ticket_id")?,
                    rule: get_str(r, "rule")?,
                    severity: get_str(r, "severity")?,
                    detail: get_str(r, "detail")?,
                    raised_at: get_str(r, "raised_at")?,
                })
            })
            .collect()
    }

    // ---- delivery tracking --------------------------------------------------------------

    /// Records a parcel event and appends it to the case ledger, in one transaction. The
    /// same (waybill, status, time) twice — a carrier's retry, a file imported again — is
    /// stored once: false then.
    pub async fn record_delivery_event(
        &self,
        case_no: &str,
        department_id: i64,
        ev: &DeliveryEvent,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let at = DateTime::parse_from_rfc3339(&ev.at)
            .map_err(|e| StoreError::Invalid(format!("时间格式有误：{e}")))?
            .with_timezone(&Utc);
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "INSERT INTO delivery_events (case_no, department_id, waybill, status, at, reason, source, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (waybill, status, at) DO NOTHING",
        )
        .bind(case_no)
        .bind(department_id)
        .bind(&ev.waybill)
        .bind(&ev.status)
        .bind(now_text(at))
        .bind(&ev.reason)
        .bind(&ev.source)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::case_rows::append_in_tx(
            &mut tx,
            case_no,
            &[Event::DeliveryTracked {
                waybill: ev.waybill.clone(),
                status: ev.status.clone(),
                at,
                reason: ev.reason.clone(),
                source: ev.source.clone(),
            }],
            actor,
            now,
        )
        .await?;
        if ev.status == "delivered" {
            // The projection's status column follows the fold (签收 is the 送达).
            crate::db::query("UPDATE cases SET status = 'delivered' WHERE case_no = $1 AND status IN ('completed', 'dispatched')")
                .bind(case_no)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    /// The case whose 送达登记 named this waybill.
    pub async fn case_by_waybill(
        &self,
        waybill: &str,
    ) -> Result<Option<crate::case_rows::CaseRecord>> {
        // Waybills are [A-Z0-9]{13} (checked before), so the pattern holds no wildcard.
        let r = crate::db::query(&format!(
            "SELECT {} FROM cases c WHERE c.state LIKE $1 ORDER BY c.id DESC LIMIT 1",
            crate::case_rows::CASE_COLS
        ))
        .bind(format!("%\"waybill\":\"{waybill}\"%"))
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(crate::case_rows::case_from_row).transpose()
    }

    /// A user by sign-in name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<crate::accounts::User>> {
        let r = crate::db::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.r())
            .await?;
        match r {
            Some(r) => self.user(get_i64(&r, "id")?).await.map(Some),
            None => Ok(None),
        }
    }

    pub async fn delivery_events(&self, case_no: &str) -> Result<Vec<DeliveryEvent>> {
        let rows = crate::db::query(
            "SELECT case_no, waybill, status, at, reason, source FROM delivery_events WHERE case_no = $1 ORDER BY at, id",
        )
        .bind(case_no)
        .fetch_all(self.r())
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// The case a waybill was posted for (the latest event naming it).
    pub async fn case_of_waybill(&self, waybill: &str) -> Result<Option<String>> {
        let r = crate::db::query(
            "SELECT case_no FROM delivery_events WHERE waybill = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(waybill)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(|r| get_str(r, "case_no")).transpose()
    }

    /// Every parcel event since `since` (figures, stale parcels).
    pub async fn delivery_events_since(&self, since: DateTime<Utc>) -> Result<Vec<DeliveryEvent>> {
        let rows = crate::db::query(
            "SELECT case_no, waybill, status, at, reason, source FROM delivery_events WHERE waybill IN (SELECT waybill FROM delivery_events WHERE at >= $1) ORDER BY at, id LIMIT 200000",
        )
        .bind(now_text(since))
        .fetch_all(self.r())
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}

fn delivery_from_row(r: &AnyRow) -> Result<DeliveryEvent> {
    Ok(DeliveryEvent {
        case_no: get_str(r, "case_no")?,
        waybill: get_str(r, "waybill")?,
        status: get_str(r, "status")?,
        at: get_str(r, "at")?,
        reason: get_str(r, "reason")?,
        source: get_str(r, "source")?,
    })
}

enum Bind {
    I(i64),
    #[allow(dead_code)]
    OI(Option<i64>),
    S(String),
    OS(Option<String>),
}

struct TicketStep<'a>(&'a [Bind]);

async fn book_in(
    tx: &mut crate::db::Tx,
    slot_id: i64,
    user_id: i64,
    booked_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mine = crate::db::query(
        "SELECT id FROM appointments WHERE slot_id = $1 AND user_id = $2 AND status = 'booked'",
    )
    .bind(slot_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    if mine.is_some() {
        return Err(StoreError::Conflict("您已预约该时段".into()));
    }
    let taken = crate::db::query(
        "UPDATE hall_slots SET booked = booked + 1 WHERE id = $1 AND booked < capacity",
    )
    .bind(slot_id)
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() != 1 {
        return Err(full());
    }
    let r = crate::db::query(
        "INSERT INTO appointments (slot_id, user_id, booked_by, impl_code, status, created_at, changed_at, reminded) \
         SELECT id, $2, $3, impl_code, 'booked', $4, $4, 0 FROM hall_slots WHERE id = $1 RETURNING id",
    )
    .bind(slot_id)
    .bind(user_id)
    .bind(booked_by)
    .bind(now_text(now))
    .fetch_one(&mut **tx)
    .await?;
    get_i64(&r, "id")
}

async fn cancel_in(tx: &mut crate::db::Tx, id: i64, now: DateTime<Utc>) -> Result<bool> {
    let r = crate::db::query(
        "UPDATE appointments SET status = 'cancelled', changed_at = $1 WHERE id = $2 AND status = 'booked' RETURNING slot_id",
    )
    .bind(now_text(now))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else {
        return Ok(false);
    };
    crate::db::query("UPDATE hall_slots SET booked = booked - 1 WHERE id = $1 AND booked > 0")
        .bind(get_i64(&r, "slot_id")?)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}
