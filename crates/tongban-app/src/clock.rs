//! Time is injected so that deadlines, lockouts and sessions are tested deterministically.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests).
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(at))
    }
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// Beijing time for display.
pub fn beijing(t: DateTime<Utc>) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// Formats a stored RFC 3339 timestamp in Beijing time.
pub fn beijing_text(s: &str) -> String {
    DateTime::parse_from_rfc3339(s)
        .map(|t| beijing(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| s.to_string())
}
