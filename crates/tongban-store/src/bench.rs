//! Bulk writers for benchmark datasets (feature `bench`): not part of the service's API.

use crate::case_rows::{inbox_due, json};
use crate::ledger_append::append_events;
use crate::{get_i64, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use tongban_core::case::{Case, Event};

/// One case written by the bulk seeder (benchmarks): its row and its events.
pub struct BulkCase {
    pub case_no: String,
    pub impl_code: String,
    pub item_name: String,
    pub department_id: i64,
    pub applicant_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub state: Case,
    pub events: Vec<Event>,
}

impl Store {
    /// Writes many cases and their ledger events in one transaction (benchmark datasets).
    pub async fn bulk_insert_cases(&self, cases: &[BulkCase], actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut counters = crate::figures::CounterBatch::default();
        for c in cases {
            let s = &c.state;
            let r = crate::db::query(
                "INSERT INTO cases (case_no, impl_code, item_name, department_id, applicant_id, created_by, channel, status, step_name, version, submitted_at, accepted_on, promised_due, legal_due, state, updated_at, inbox_due, next_check_on) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11, $12, $13, $14, $10, $15, $16) RETURNING id",
            )
            .bind(&c.case_no)
            .bind(&c.impl_code)
            .bind(&c.item_name)
            .bind(c.department_id)
            .bind(c.applicant_id)
            .bind(s.channel.label())
            .bind(s.status.code())
            .bind(s.current_step().map(|x| x.name.clone()).unwrap_or_default())
            .bind(s.version)
            .bind(now_text(c.submitted_at))
            .bind(s.accepted_on.map(|d| d.to_string()))
            .bind(s.promised_due.map(|d| d.to_string()))
            .bind(s.legal_due.map(|d| d.to_string()))
            .bind(json(s)?)
            .bind(inbox_due(s))
            // Open cases are due for the supervision worker's first look right away.
            .bind(s.status.is_open().then(|| c.submitted_at.date_naive().to_string()))
            .fetch_one(&mut *tx)
            .await?;
            let id = get_i64(&r, "id")?;
            // The figure as the ledger gives it: every event is stamped at submission.
            let day = crate::beijing_date(c.submitted_at);
            if let Some(figure) = crate::figures::fold_figure(c.events.iter().map(|e| (e, day))) {
                let cal = crate::figures::calendar_in(&mut tx).await?;
                let rec = crate::figures::FigureRecord {
                    case_id: id,
                    department_id: c.department_id,
                    impl_code: c.impl_code.clone(),
                    duration_wd: figure.duration_wd(&cal),
                    figure,
                    window_id: 0,
                };
                crate::figures::put_record(&mut tx, &rec, false).await?;
                counters.add(&rec);
            }
            append_events(&mut tx, id, 0, &c.events, actor, c.submitted_at).await?;
        }
        counters.flush(&mut tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Writes many figure rows, with their counters, in one transaction (the figures-only
    /// city of `bench seed --figures-only`: the projection without case rows or ledger).
    pub async fn bulk_insert_figures(
        &self,
        recs: &[crate::figures::FigureRecord],
        counters: crate::figures::CounterBatch,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // Four rows a statement: the store binds at most 64 parameters.
        for chunk in recs.chunks(4) {
            crate::figures::put_records(&mut tx, chunk).await?;
        }
        counters.flush(&mut tx).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Creates many applicants at once (benchmark datasets); returns their ids.
    pub async fn bulk_insert_applicants(
        &self,
        people: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(people.len());
        for (name, id_number) in people {
            let r = crate::db::query("INSERT INTO applicants (kind, name, id_number, verified, created_at) VALUES ('person', $1, $2, 1, $3) RETURNING id")
                .bind(name)
                .bind(id_number)
                .bind(now_text(now))
                .fetch_one(&mut *tx)
                .await?;
            ids.push(get_i64(&r, "id")?);
        }
        self.commit(tx).await?;
        Ok(ids)
    }

    /// Bytes the database occupies (SQLite: the main file and its WAL; PostgreSQL: the database).
    pub async fn database_bytes(&self, sqlite_path: Option<&std::path::Path>) -> Result<u64> {
        match self.backend() {
            crate::Backend::Postgres => Ok(get_i64(
                &crate::db::query("SELECT pg_database_size(current_database()) AS n")
                    .fetch_one(self.r())
                    .await?,
                "n",
            )? as u64),
            crate::Backend::Sqlite => {
                let p =
                    sqlite_path.ok_or_else(|| StoreError::Invalid("no database path".into()))?;
                let size =
                    |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                Ok(size(p.to_path_buf()) + size(p.with_extension("db-wal")))
            }
        }
    }
}
