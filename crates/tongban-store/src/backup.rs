//! What a backup needs from the database: a consistent copy of an SQLite database taken
//! while it serves, and the objects the database references.

use crate::{get_str, Backend, Result, Store, StoreError};
use std::path::Path;

impl Store {
    /// Writes a consistent copy of the SQLite database to `dest` while it keeps serving:
    /// `VACUUM INTO` reads the whole database inside one read transaction (a snapshot of the
    /// WAL), so writers continue and the copy is the state at one commit.
    pub async fn snapshot_sqlite(&self, dest: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Invalid("not an SQLite database".into()));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Invalid("backup path is not UTF-8".into()))?;
        crate::db::query("VACUUM INTO $1")
            .bind(dest)
            .execute(self.r())
            .await?;
        Ok(())
    }

    /// Every stored file (uploaded materials), by SHA-256.
    pub async fn file_shas(&self) -> Result<Vec<String>> {
        let rows = crate::db::query("SELECT sha256 FROM files ORDER BY sha256")
            .fetch_all(self.r())
            .await?;
        rows.iter().map(|r| get_str(r, "sha256")).collect()
    }

    /// The files cases cite as materials: (办件编号, SHA-256), read from each case's state.
    pub async fn case_file_refs(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let rows = crate::db::query(&format!(
                "SELECT {} FROM cases c WHERE c.case_no > $1 ORDER BY c.case_no LIMIT 1000",
                "c.id, c.case_no, c.impl_code, c.item_name, c.department_id, c.applicant_id, c.status, c.version, c.submitted_at, c.state"
            ))
            .bind(&after)
            .fetch_all(self.r())
            .await?;
            let Some(last) = rows.last() else { break };
            after = get_str(last, "case_no")?;
            for r in &rows {
                let rec = crate::case_rows::case_from_row(r)?;
                for m in &rec.state.materials {
                    if let Some(sha) = &m.sha256 {
                        out.push((rec.case_no.clone(), sha.clone()));
                    }
                }
            }
        }
        Ok(out)
    }
}
