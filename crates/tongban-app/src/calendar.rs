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

/// What loading a year did.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub table: YearTable,
    /// Open cases whose due dates moved (each got a ledger event saying so).
    pub recomputed: usize,
}

/// Loads (or replaces) one year of the working-day calendar from its text form and, in the
/// same transaction, recomputes the due dates and supervision schedules of the open cases
/// whose deadlines reach into that year (provisional dates become final; a corrected table
/// moves them), each as a ledger event the applicant and staff see on the case.
pub async fn load_year(app: &App, actor: &str, source: &str) -> Result<Loaded, Error> {
    let table = YearTable::parse(source).map_err(|e| Error::invalid(e.to_string()))?;
    let year = table.year;
    let mut cal = (*app.calendar().await?).clone();
    cal.insert_year(table.clone());
    let first_day = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| Error::invalid(format!("年份 {year} 无效")))?;
    let mut updates = vec![];
    for current in app.store.open_cases_due_from(first_day).await? {
        let Some(event) = current
            .state
            .recompute_deadlines(&cal, &[year])
            .map_err(|e| Error::invalid(e.to_string()))?
        else {
            continue;
        };
        let mut after = current.state.clone();
        after.apply(&event);
        let sup = crate::cases::timers_for(app, &after, vec![], &cal)?;
        updates.push(tongban_store::calendar::CaseUpdate {
            current,
            events: vec![event],
            sup,
        });
    }
    app.store
        .save_calendar_year(actor, i64::from(year), source, app.now(), &updates)
        .await?;
    Ok(Loaded {
        table,
        recomputed: updates.len(),
    })
}

/// The first year within the coming twelve months whose holidays are not loaded, and how
/// many open cases have deadlines counted over it (the administrators' banner).
pub async fn missing_year(app: &App) -> Result<Option<(i32, i64)>, Error> {
    let cal = app.calendar().await?;
    let today = app.today();
    let Some(year) = cal
        .provisional_years_between(today, today + chrono::Duration::days(365))
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let first_day = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
    Ok(Some((
        year,
        app.store.count_open_cases_due_from(first_day).await?,
    )))
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
