//! The catalogue of uploaded files (the bytes live in the object store, by SHA-256).

use crate::{get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};

impl Store {
    pub async fn record_file(
        &self,
        sha: &str,
        size: usize,
        media_type: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        crate::db::query("INSERT INTO files (sha256, size, media_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha)
            .bind(size as i64)
            .bind(media_type)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        Ok(())
    }

    /// Which of `shas` no stored file has (one statement per 200).
    pub async fn missing_files(&self, shas: &[&str]) -> Result<Vec<String>> {
        let mut distinct: Vec<&str> = shas.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let mut found = std::collections::HashSet::new();
        for chunk in distinct.chunks(200) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
            let sql = format!(
                "SELECT sha256 FROM files WHERE sha256 IN ({})",
                list.join(", ")
            );
            let mut q = crate::db::query(&sql);
            for sha in chunk {
                q = q.bind(*sha);
            }
            for r in q.fetch_all(self.r()).await? {
                found.insert(get_str(&r, "sha256")?);
            }
        }
        Ok(distinct
            .into_iter()
            .filter(|s| !found.contains(*s))
            .map(str::to_string)
            .collect())
    }

    pub async fn file_type(&self, sha: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT media_type FROM files WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "media_type")).transpose()
    }
}
