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

    pub async fn file_type(&self, sha: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT media_type FROM files WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "media_type")).transpose()
    }
}
