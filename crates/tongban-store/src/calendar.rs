//! Working-day calendar years loaded by administrators (the built-in years are in the core).

use crate::{get_i64, get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};

/// Events to append to one case, decided against the version in `current`.
pub struct CaseUpdate {
    pub current: crate::case_rows::CaseRecord,
    pub events: Vec<tongban_core::case::Event>,
    pub sup: crate::supervision::SupervisionWrite,
}

/// One year of the working-day calendar as loaded: its year and source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    pub year: i64,
    pub source: String,
}

impl Store {
    /// Working-day calendar years loaded by administrators: (year, source text).
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYear>> {
        let rows = crate::db::query("SELECT year, source FROM calendar_years ORDER BY year")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarYear {
                    year: get_i64(r, "year")?,
                    source: get_str(r, "source")?,
                })
            })
            .collect()
    }

    pub async fn calendar_rev(&self) -> Result<i64> {
        self.meta_rev("calendar_rev").await
    }

    /// Loads (or replaces) a year of the calendar and, in the same transaction, records the
    /// open cases' recomputed deadlines (ledger events with their supervision schedules).
    /// A case changed by someone else meanwhile fails the whole load: nothing is stored.
    pub async fn save_calendar_year(
        &self,
        actor: &str,
        year: i64,
        source: &str,
        now: DateTime<Utc>,
        recomputed: &[CaseUpdate],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("DELETE FROM calendar_years WHERE year = $1")
            .bind(year)
            .execute(&mut *tx)
            .await?;
        crate::db::query("INSERT INTO calendar_years (year, source, loaded_by, loaded_at) VALUES ($1, $2, $3, $4)")
            .bind(year)
            .bind(source)
            .bind(actor)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        crate::db::query("UPDATE meta SET value = value + 1 WHERE key = 'calendar_rev'")
            .execute(&mut *tx)
            .await?;
        for u in recomputed {
            crate::cases::write_case_events(
                &mut tx,
                &u.current,
                &u.events,
                actor,
                now,
                &u.sup,
                &[],
            )
            .await?;
        }
        crate::catalog::audit(
            &mut tx,
            now,
            actor,
            "calendar.load",
            &format!("{year}（重算 {} 件办件期限）", recomputed.len()),
        )
        .await?;
        self.commit(tx).await?;
        self.revs_changed();
        Ok(())
    }
}
