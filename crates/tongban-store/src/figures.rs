//! The case-figures projection (大数据分析): one row of facts per case, written in the
//! transaction that appends the case's events, read by date-range queries on indexes, and
//! recomputed from the ledger alone by [`Store::rebuild_case_figures`].

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, AnyRow, Result, Store, StoreError};
use chrono::NaiveDate;
use std::collections::HashMap;
use tongban_core::case::{Case, Event};
use tongban_core::figures::{CaseFigure, Range};

/// A projection row: the case's identity and its figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRecord {
    pub case_id: i64,
    pub department_id: i64,
    pub impl_code: String,
    pub figure: CaseFigure,
}

/// Narrows the figures read.
#[derive(Debug, Clone, Default)]
pub struct FigureFilter {
    pub department_ids: Option<Vec<i64>>,
    pub impl_codes: Option<Vec<String>>,
}

fn opt_date(r: &AnyRow, col: &str) -> Result<Option<NaiveDate>> {
    let v: Option<String> = r.try_get(col)?;
    v.map(|s| {
        s.parse::<NaiveDate>()
            .map_err(|e| StoreError::Internal(format!("case_figures.{col}: {e}")))
    })
    .transpose()
}

fn record_from_row(r: &AnyRow) -> Result<FigureRecord> {
    Ok(FigureRecord {
        case_id: get_i64(r, "case_id")?,
        department_id: get_i64(r, "department_id")?,
        impl_code: get_str(r, "impl_code")?,
        figure: CaseFigure {
            online: get_i64(r, "online")? != 0,
            received_on: opt_date(r, "received_on")?
                .ok_or_else(|| StoreError::Internal("case_figures.received_on".into()))?,
            accepted_on: opt_date(r, "accepted_on")?,
            decided_on: opt_date(r, "decided_on")?,
            closed_on: opt_date(r, "closed_on")?,
            promised_due: opt_date(r, "promised_due")?,
            corrections: get_i64(r, "corrections")? as u32,
            special_days: get_i64(r, "special_days")? as u32,
            post_delivery: get_i64(r, "post_delivery")? != 0,
            suspended: get_i64(r, "suspended")? != 0,
        },
    })
}

const COLS: &str = "case_id, department_id, impl_code, online, received_on, accepted_on, decided_on, closed_on, promised_due, corrections, special_days, post_delivery, suspended";

/// Writes the figure of a case after its events, inside the caller's transaction. The
/// first-submission date and the closing date, once written, are kept.
pub(crate) async fn write_figure(
    tx: &mut AnyConnection,
    case_id: i64,
    department_id: i64,
    impl_code: &str,
    case: &Case,
    today: NaiveDate,
) -> Result<()> {
    let f = CaseFigure::project(None, case, today);
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string());
    crate::db::query(&format!(
        "INSERT INTO case_figures ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (case_id) DO UPDATE SET accepted_on = excluded.accepted_on, decided_on = excluded.decided_on, \
         closed_on = COALESCE(case_figures.closed_on, excluded.closed_on), promised_due = excluded.promised_due, \
         corrections = excluded.corrections, special_days = excluded.special_days, post_delivery = excluded.post_delivery, \
         suspended = excluded.suspended"
    ))
    .bind(case_id)
    .bind(department_id)
    .bind(impl_code)
    .bind(i64::from(f.online))
    .bind(f.received_on.to_string())
    .bind(d(f.accepted_on))
    .bind(d(f.decided_on))
    .bind(d(f.closed_on))
    .bind(d(f.promised_due))
    .bind(i64::from(f.corrections))
    .bind(i64::from(f.special_days))
    .bind(i64::from(f.post_delivery))
    .bind(i64::from(f.suspended))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The figures of the cases folded from their ledger events (in order), each event with the
/// Beijing date it was written.
pub fn fold_figure<'a>(
    events: impl IntoIterator<Item = (&'a Event, NaiveDate)>,
) -> Option<CaseFigure> {
    let mut it = events.into_iter();
    let (first, day) = it.next()?;
    let mut case = Case::open(first).ok()?;
    let mut fig = CaseFigure::project(None, &case, day);
    for (e, day) in it {
        case.apply(e);
        fig = CaseFigure::project(Some(&fig), &case, day);
    }
    Some(fig)
}

/// What `analytics rebuild` found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RebuildReport {
    pub cases: u64,
    pub events: u64,
    /// Cases whose stored figure differed from the ledger's (now corrected), by case id.
    pub differences: Vec<(i64, String)>,
    /// Figures without a case in the ledger (removed).
    pub orphans: u64,
}

impl Store {
    /// Figures of the cases that count in any measure over `r`: received, accepted or
    /// decided in the range, or open and past due on its last day. Each part reads one index.
    pub async fn case_figures(&self, r: &Range, f: &FigureFilter) -> Result<Vec<FigureRecord>> {
        let (from, to) = (r.from.to_string(), r.to.to_string());
        let mut narrow = String::new();
        if let Some(ids) = &f.department_ids {
            if ids.is_empty() {
                return Ok(vec![]);
            }
            let list: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            narrow.push_str(&format!(" AND department_id IN ({})", list.join(",")));
        }
        let codes = f.impl_codes.clone().unwrap_or_default();
        if f.impl_codes.is_some() {
            if codes.is_empty() {
                return Ok(vec![]);
            }
            let ph: Vec<String> = (0..codes.len()).map(|i| format!("${}", i + 3)).collect();
            narrow.push_str(&format!(" AND impl_code IN ({})", ph.join(",")));
        }
        let parts = [
            "received_on >= $1 AND received_on <= $2",
            "accepted_on >= $1 AND accepted_on <= $2",
            "decided_on >= $1 AND decided_on <= $2",
            // Open past due on `to` (still open, or closed after it): by the due index.
            "promised_due < $2 AND accepted_on <= $2 AND (closed_on IS NULL OR closed_on > $2) AND $1 <= $2",
        ];
        let mut seen: HashMap<i64, ()> = HashMap::new();
        let mut out = Vec::new();
        for p in parts {
            let sql = format!("SELECT {COLS} FROM case_figures WHERE {p}{narrow}");
            let mut q = crate::db::query(&sql).bind(&from).bind(&to);
            for c in &codes {
                q = q.bind(c);
            }
            for row in q.fetch_all(self.r()).await? {
                let rec = record_from_row(&row)?;
                if seen.insert(rec.case_id, ()).is_none() {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    /// Case ids and numbers of the figures given (for the staff drill-down list).
    pub async fn case_numbers(&self, ids: &[i64]) -> Result<HashMap<i64, (String, String)>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
            let rows = crate::db::query(&format!(
                "SELECT id, case_no, status FROM cases WHERE id IN ({})",
                list.join(",")
            ))
            .fetch_all(self.r())
            .await?;
            for r in rows {
                out.insert(
                    get_i64(&r, "id")?,
                    (get_str(&r, "case_no")?, get_str(&r, "status")?),
                );
            }
        }
        Ok(out)
    }

    /// Recomputes every case's figure from the ledger alone (events in sequence order, each
    /// dated by its own timestamp), compares it with the stored projection, reports every
    /// difference and, unless `dry_run`, writes the ledger's figure.
    pub async fn rebuild_case_figures(&self, dry_run: bool) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        let mut events: HashMap<i64, Vec<(Event, NaiveDate)>> = HashMap::new();
        // One cursor per ledger partition: a case's events are all in one partition, in
        // order there (ADR 0010).
        let parts: Vec<u32> = self.partition_heads().await?.iter().map(|h| h.0).collect();
        for part in parts {
            let mut after = 0i64;
            loop {
                let rows = crate::db::query(
                "SELECT seq, case_id, at, entry FROM ledger_events WHERE part = $1 AND seq > $2 ORDER BY seq LIMIT 5000",
            )
            .bind(i64::from(part))
            .bind(after)
            .fetch_all(self.r())
            .await?;
                if rows.is_empty() {
                    break;
                }
                for r in &rows {
                    after = get_i64(r, "seq")?;
                    let entry: serde_json::Value = serde_json::from_str(&get_str(r, "entry")?)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let event: Event = serde_json::from_value(entry["event"].clone())
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let at = chrono::DateTime::parse_from_rfc3339(&get_str(r, "at")?)
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
                    events
                        .entry(get_i64(r, "case_id")?)
                        .or_default()
                        .push((event, at.with_timezone(&tz).date_naive()));
                    report.events += 1;
                }
            }
        }
        let stored: HashMap<i64, FigureRecord> =
            crate::db::query(&format!("SELECT {COLS} FROM case_figures"))
                .fetch_all(self.r())
                .await?
                .iter()
                .map(|r| record_from_row(r).map(|x| (x.case_id, x)))
                .collect::<Result<_>>()?;
        let idents: HashMap<i64, (i64, String)> =
            crate::db::query("SELECT id, department_id, impl_code FROM cases")
                .fetch_all(self.r())
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        get_i64(r, "id")?,
                        (get_i64(r, "department_id")?, get_str(r, "impl_code")?),
                    ))
                })
                .collect::<Result<_>>()?;
        let mut ids: Vec<i64> = events.keys().copied().collect();
        ids.sort_unstable();
        let mut tx = if dry_run {
            None
        } else {
            Some(self.begin_write().await?)
        };
        for id in &ids {
            let Some(fig) = fold_figure(events[id].iter().map(|(e, d)| (e, *d))) else {
                continue;
            };
            let Some((dept, code)) = idents.get(id) else {
                continue;
            };
            report.cases += 1;
            let rebuilt = FigureRecord {
                case_id: *id,
                department_id: *dept,
                impl_code: code.clone(),
                figure: fig,
            };
            if stored.get(id) != Some(&rebuilt) {
                report.differences.push((
                    *id,
                    match stored.get(id) {
                        None => "缺少统计行".to_string(),
                        Some(s) => format!("存储 {:?} ≠ 台账 {:?}", s.figure, rebuilt.figure),
                    },
                ));
                if let Some(tx) = tx.as_mut() {
                    put_record(tx, &rebuilt).await?;
                }
            }
        }
        for id in stored.keys() {
            if !events.contains_key(id) {
                report.orphans += 1;
                if let Some(tx) = tx.as_mut() {
                    crate::db::query("DELETE FROM case_figures WHERE case_id = $1")
                        .bind(*id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        if let Some(tx) = tx {
            self.commit(tx).await?;
        }
        Ok(report)
    }
}

/// Writes a whole projection row (rebuild, bulk seeding).
pub(crate) async fn put_record(tx: &mut AnyConnection, r: &FigureRecord) -> Result<()> {
    let f = &r.figure;
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string());
    crate::db::query("DELETE FROM case_figures WHERE case_id = $1")
        .bind(r.case_id)
        .execute(&mut *tx)
        .await?;
    crate::db::query(&format!(
        "INSERT INTO case_figures ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(r.case_id)
    .bind(r.department_id)
    .bind(&r.impl_code)
    .bind(i64::from(f.online))
    .bind(f.received_on.to_string())
    .bind(d(f.accepted_on))
    .bind(d(f.decided_on))
    .bind(d(f.closed_on))
    .bind(d(f.promised_due))
    .bind(i64::from(f.corrections))
    .bind(i64::from(f.special_days))
    .bind(i64::from(f.post_delivery))
    .bind(i64::from(f.suspended))
    .execute(&mut *tx)
    .await?;
    Ok(())
}
