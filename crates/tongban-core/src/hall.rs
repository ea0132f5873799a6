//! The hall (服务大厅): appointment slots on the working-day calendar, the no-show rule,
//! queue tickets and the order windows call them in, waiting figures, and the states of a
//! posted parcel. Pure rules: the store enforces capacity, the application passes time in.

use crate::calendar::WorkCalendar;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// One bookable period of a day, with how many people it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTemplate {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub capacity: u32,
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

/// The default day of a hall: half-hour slots 09:00–12:00 and 13:30–17:00, three places
/// each; the last half hour of the day takes one (the windows close their queues then).
pub fn default_day() -> Vec<SlotTemplate> {
    let mut out = Vec::new();
    let mut push = |from: NaiveTime, to: NaiveTime, cap: u32| {
        let mut s = from;
        while s < to {
            let e = s + Duration::minutes(30);
            out.push(SlotTemplate {
                start: s,
                end: e,
                capacity: cap,
            });
            s = e;
        }
    };
    push(t(9, 0), t(12, 0), 3);
    push(t(13, 30), t(16, 30), 3);
    push(t(16, 30), t(17, 0), 1);
    out
}

/// The slots of `day`: none on a rest day (weekends and holidays), the template's on a
/// working day (including 调休 weekend working days). A day the calendar does not know
/// has no slots.
pub fn slots_on(
    day: NaiveDate,
    cal: &WorkCalendar,
    template: &[SlotTemplate],
) -> Vec<SlotTemplate> {
    match cal.is_working_day(day) {
        Ok(true) => template.to_vec(),
        _ => Vec::new(),
    }
}

/// The no-show rule: `limit` no-shows within `window_days` suspend online booking for
/// `suspend_days` from the last of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoShowRule {
    pub limit: usize,
    pub window_days: i64,
    pub suspend_days: i64,
    /// Minutes after a slot's start an unchecked appointment becomes a no-show.
    pub grace_minutes: i64,
}

impl Default for NoShowRule {
    fn default() -> Self {
        NoShowRule {
            limit: 3,
            window_days: 30,
            suspend_days: 30,
            grace_minutes: 30,
        }
    }
}

impl NoShowRule {
    /// Until when online booking is suspended, given the times of a person's no-shows.
    pub fn suspended_until(
        &self,
        no_shows: &[DateTime<Utc>],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut recent: Vec<_> = no_shows
            .iter()
            .copied()
            .filter(|t| {
                *t <= now && now - *t <= Duration::days(self.window_days + self.suspend_days)
            })
            .collect();
        recent.sort();
        // Any run of `limit` no-shows within the window suspends from its last one.
        let mut until = None;
        if self.limit == 0 {
            return None;
        }
        for w in recent.windows(self.limit) {
            let (first, last) = (w[0], w[self.limit - 1]);
            if last - first <= Duration::days(self.window_days) {
                let end = last + Duration::days(self.suspend_days);
                if end > now {
                    until = Some(until.map_or(end, |u: DateTime<Utc>| u.max(end)));
                }
            }
        }
        until
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Done,
    Skipped,
}

impl TicketStatus {
    pub fn code(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Done => "done",
            TicketStatus::Skipped => "skipped",
        }
    }
    pub fn parse(s: &str) -> Option<TicketStatus> {
        Some(match s {
            "waiting" => TicketStatus::Waiting,
            "called" => TicketStatus::Called,
            "serving" => TicketStatus::Serving,
            "done" => TicketStatus::Done,
            "skipped" => TicketStatus::Skipped,
            _ => return None,
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "等候中",
            TicketStatus::Called => "已叫号",
            TicketStatus::Serving => "办理中",
            TicketStatus::Done => "已办结",
            TicketStatus::Skipped => "过号",
        }
    }
}

/// The category letter of a ticket: walk-ins take `A`, checked-in appointments `Y` (预约).
pub fn category(by_appointment: bool) -> char {
    if by_appointment {
        'Y'
    } else {
        'A'
    }
}

/// The number shown and called: the category letter and three digits (A023); past 999
/// the digits grow.
pub fn ticket_label(category: char, number: i64) -> String {
    format!("{category}{number:03}")
}

/// The order windows call waiting tickets in: a checked-in appointment whose slot has
/// begun goes before walk-ins (预约优先 within its slot); otherwise first come, first
/// served. Returns a sort key (lower first).
pub fn call_order(
    slot_start: Option<DateTime<Utc>>,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (u8, DateTime<Utc>) {
    match slot_start {
        Some(s) if s <= now => (0, s),
        _ => (1, issued_at),
    }
}

/// The estimated wait: people ahead × mean serving time ÷ open windows (at least one).
pub fn estimate_minutes(ahead: usize, mean_service_minutes: f64, windows: usize) -> u32 {
    let w = windows.max(1) as f64;
    (ahead as f64 * mean_service_minutes / w).ceil() as u32
}

/// The p-th percentile (nearest rank) of `values`, or None when empty.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// The states of a posted parcel (寄递跟踪).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelStatus {
    /// 揽收
    Collected,
    /// 运输中
    InTransit,
    /// 派送中
    OutForDelivery,
    /// 签收
    Delivered,
    /// 退回
    Returned,
    /// 异常 (with a reason code)
    Exception,
}

impl ParcelStatus {
    pub const ALL: [ParcelStatus; 6] = [
        ParcelStatus::Collected,
        ParcelStatus::InTransit,
        ParcelStatus::OutForDelivery,
        ParcelStatus::Delivered,
        ParcelStatus::Returned,
        ParcelStatus::Exception,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ParcelStatus::Collected => "collected",
            ParcelStatus::InTransit => "in_transit",
            ParcelStatus::OutForDelivery => "out_for_delivery",
            ParcelStatus::Delivered => "delivered",
            ParcelStatus::Returned => "returned",
            ParcelStatus::Exception => "exception",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ParcelStatus::Collected => "揽收",
            ParcelStatus::InTransit => "运输中",
            ParcelStatus::OutForDelivery => "派送中",
            ParcelStatus::Delivered => "签收",
            ParcelStatus::Returned => "退回",
            ParcelStatus::Exception => "异常",
        }
    }

    /// Accepts the code or the Chinese name.
    pub fn parse(s: &str) -> Option<ParcelStatus> {
        let s = s.trim();
        ParcelStatus::ALL
            .into_iter()
            .find(|p| p.code() == s || p.label() == s)
    }

    /// Ends the parcel's journey (no stale-parcel warning after it).
    pub fn is_final(self) -> bool {
        matches!(self, ParcelStatus::Delivered | ParcelStatus::Returned)
    }

    /// A failure, counted by cause in the figures.
    pub fn is_failure(self) -> bool {
        matches!(self, ParcelStatus::Returned | ParcelStatus::Exception)
    }

    /// Must the event carry a reason code?
    pub fn needs_reason(self) -> bool {
        self.is_failure()
    }
}

/// A reason code as carriers send them: short, letters, digits, `_` `-` and CJK.
pub fn valid_reason(reason: &str) -> bool {
    let n = reason.chars().count();
    (1..=40).contains(&n)
        && reason
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn no_slots_on_holidays_and_slots_on_adjusted_working_days() {
        let cal = WorkCalendar::builtin();
        let day = default_day();
        // 2026-03-02 is a Monday.
        assert_eq!(slots_on(d("2026-03-02"), &cal, &day).len(), day.len());
        // A Sunday.
        assert!(slots_on(d("2026-03-01"), &cal, &day).is_empty());
        // 国庆 2026: 10-01 is a holiday.
        assert!(slots_on(d("2026-10-01"), &cal, &day).is_empty());
        // A 调休 working Saturday, if the shipped table has one in 2026.
        let adjusted = cal
            .year(2026)
            .and_then(|y| y.workdays().next())
            .expect("the 2026 table names 调休 working days");
        assert_eq!(slots_on(adjusted, &cal, &day).len(), day.len());
    }

    #[test]
    fn the_default_day_ends_with_a_single_place() {
        let day = default_day();
        assert_eq!(day.first().unwrap().start, t(9, 0));
        assert_eq!(day.last().unwrap().capacity, 1);
        assert!(day.windows(2).all(|w| w[0].end <= w[1].start));
    }

    #[test]
    fn three_no_shows_in_thirty_days_suspend_booking() {
        let rule = NoShowRule::default();
        let at = |day: u32| Utc.with_ymd_and_hms(2026, 3, day, 2, 0, 0).unwrap();
        let now = at(20);
        assert_eq!(rule.suspended_until(&[at(1), at(10)], now), None);
        let until = rule.suspended_until(&[at(1), at(10), at(19)], now).unwrap();
        assert_eq!(until, at(19) + Duration::days(30));
        // Spread over more than the window: no suspension.
        let spread = [
            Utc.with_ymd_and_hms(2026, 1, 1, 2, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 2, 5, 2, 0, 0).unwrap(),
            at(19),
        ];
        assert_eq!(rule.suspended_until(&spread, now), None);
        // Over once the suspension has run.
        assert_eq!(
            rule.suspended_until(&[at(1), at(10), at(19)], at(19) + Duration::days(31)),
            None
        );
    }

    #[test]
    fn booked_tickets_go_first_once_their_slot_began() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let walk_in = call_order(None, now - Duration::minutes(40), now);
        let booked = call_order(
            Some(now - Duration::minutes(5)),
            now - Duration::minutes(1),
            now,
        );
        // Checked in before its slot: it queues like a walk-in, by arrival.
        let early = call_order(
            Some(now + Duration::minutes(30)),
            now - Duration::minutes(10),
            now,
        );
        assert!(booked < walk_in);
        assert!(walk_in < early);
    }

    #[test]
    fn labels_percentiles_and_estimates() {
        assert_eq!(ticket_label('A', 23), "A023");
        assert_eq!(ticket_label('Y', 1234), "Y1234");
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 90.0), Some(9.0));
        assert_eq!(percentile(&[], 90.0), None);
        assert_eq!(mean(&[2.0, 4.0]), Some(3.0));
        assert_eq!(estimate_minutes(5, 6.0, 2), 15);
        assert_eq!(estimate_minutes(5, 6.0, 0), 30);
    }

    #[test]
    fn parcel_statuses_parse_by_code_or_name() {
        assert_eq!(ParcelStatus::parse("签收"), Some(ParcelStatus::Delivered));
        assert_eq!(
            ParcelStatus::parse("in_transit"),
            Some(ParcelStatus::InTransit)
        );
        assert_eq!(ParcelStatus::parse("lost"), None);
        assert!(ParcelStatus::Exception.needs_reason());
        assert!(!ParcelStatus::Collected.needs_reason());
        assert!(valid_reason("ADDR_UNKNOWN"));
        assert!(!valid_reason(""));
        assert!(!valid_reason("<script>"));
    }
}
