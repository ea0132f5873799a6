//! The legal clock's use cases: a deadline by the working-day calendar (provisional where a
//! year's holidays are not yet published) and loading a year.

use crate::error::Error;
use crate::App;
use chrono::NaiveDate;
use tongban_core::calendar::YearTable;

/// A computed deadline; `note` says why it is provisional.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deadline {
    pub due: NaiveDate,
    pub provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The date `working_days` working days after `from` (the day of `from` not counted).
pub async fn deadline(app: &App, from: NaiveDate, working_days: u32) -> Result<Deadline, Error> {
    deadline_by(&*app.calendar().await?, from, working_days)
}

/// Loads (or replaces) one year of the working-day calendar from its text form.
pub async fn load_year(app: &App, actor: &str, source: &str) -> Result<YearTable, Error> {
    let table = YearTable::parse(source).map_err(|e| Error::invalid(e.to_string()))?;
    app.store
        .save_calendar_year(actor, table.year as i64, source, app.now())
        .await?;
    Ok(table)
}

/// The same, on a calendar the caller holds (the CLI without a database: built-in years).
pub fn deadline_by(
    cal: &tongban_core::calendar::WorkCalendar,
    from: NaiveDate,
    working_days: u32,
) -> Result<Deadline, Error> {
    let due = cal
        .add_working_days(from, working_days)
        .map_err(|e| Error::invalid(format!("无法计算期限：{e}")))?;
    let provisional = cal.depends_on_provisional(from, due);
    Ok(Deadline {
        due,
        provisional,
        note: provisional.then(|| {
            tongban_core::messages::provisional_note(&cal.provisional_years_between(from, due))
        }),
    })
}
