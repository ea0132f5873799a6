//! Uploads without a case yet (issue #13): who uploaded what, daily quotas, citing only
//! one's own files, and purging files no case cited within a day.

use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

impl Store {
    /// Records an uploaded file (stored in the object store already) and its uploader.
    pub async fn record_upload(
        &self,
        sha: &str,
        size: usize,
        media_type: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("INSERT INTO files (sha256, size, media_type, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha)
            .bind(size as i64)
            .bind(media_type)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        crate::db::query("INSERT INTO file_uploads (sha256, user_id, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256, user_id) DO NOTHING")
            .bind(sha)
            .bind(user_id)
            .bind(size as i64)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// Files and bytes a user uploaded since `since`.
    pub async fn uploads_since(&self, user_id: i64, since: DateTime<Utc>) -> Result<(u64, u64)> {
        let r = crate::db::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM file_uploads WHERE user_id = $1 AND created_at >= $2")
            .bind(user_id)
            .bind(now_text(since))
            .fetch_one(self.r())
            .await?;
        Ok((get_i64(&r, "n")? as u64, get_i64(&r, "bytes")? as u64))
    }

    /// Marks files as cited by a case, provided `user_id` uploaded each of them; otherwise
    /// refuses naming the first that is not theirs (or no longer exists) and marks nothing.
    pub async fn claim_uploads(
        &self,
        user_id: i64,
        shas: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if shas.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        claim_in(&mut tx, user_id, shas, now).await?;
        self.commit(tx).await
    }

    /// Removes files whose every upload is older than a day and was never cited by a case;
    /// returns their SHA-256 so the caller deletes the objects. At most `limit` per call.
    pub async fn purge_unused_uploads(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let cutoff = now_text(now - Duration::hours(24));
        let rows = crate::db::query(
            "SELECT DISTINCT u.sha256 FROM file_uploads u WHERE u.used_at IS NULL AND u.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM file_uploads v WHERE v.sha256 = u.sha256 AND (v.used_at IS NOT NULL OR v.created_at >= $1)) \
             LIMIT $2",
        )
        .bind(&cutoff)
        .bind(limit)
        .fetch_all(self.r())
        .await?;
        let mut purged = Vec::new();
        for r in rows {
            let sha = get_str(&r, "sha256")?;
            let mut tx = self.begin_write().await?;
            // The uploads still unused now go first: on PostgreSQL a submission citing one
            // holds its row locked until the case commits, and this statement waits for it
            // and re-checks `used_at`, so a cited upload is never taken. The file goes only
            // when no upload of it is left.
            crate::db::query(
                "DELETE FROM file_uploads WHERE sha256 = $1 AND used_at IS NULL AND created_at < $2",
            )
            .bind(&sha)
            .bind(&cutoff)
            .execute(&mut *tx)
            .await?;
            let gone = crate::db::query(
                "DELETE FROM files WHERE sha256 = $1 AND NOT EXISTS (SELECT 1 FROM file_uploads v WHERE v.sha256 = $1)",
            )
            .bind(&sha)
            .execute(&mut *tx)
            .await?;
            if gone.rows_affected() == 1 {
                purged.push(sha);
            }
            self.commit(tx).await?;
        }
        Ok(purged)
    }
}

/// Most files one statement marks (each a parameter; the store binds at most 256).
const CLAIMS_PER_STATEMENT: usize = 200;

/// [`Store::claim_uploads`] inside the caller's transaction (a submission marks its files
/// in the transaction that opens the case): one statement per 200 distinct files; on a
/// refusal the caller's transaction is rolled back, so nothing is marked.
pub(crate) async fn claim_in(
    conn: &mut crate::db::Conn,
    user_id: i64,
    shas: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut distinct: Vec<&String> = shas.iter().collect();
    distinct.sort();
    distinct.dedup();
    for chunk in distinct.chunks(CLAIMS_PER_STATEMENT) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE file_uploads SET used_at = COALESCE(used_at, $2) WHERE user_id = $1 AND sha256 IN ({})",
            list.join(", ")
        );
        let mut q = crate::db::query(&sql).bind(user_id).bind(now_text(now));
        for sha in chunk {
            q = q.bind(sha.as_str());
        }
        if q.execute(&mut *conn).await?.rows_affected() == chunk.len() as u64 {
            continue;
        }
        // Name the first file in the submitted order that is not the user's.
        for sha in shas {
            let mine = crate::db::query(
                "SELECT 1 AS one FROM file_uploads WHERE sha256 = $1 AND user_id = $2",
            )
            .bind(sha.as_str())
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
            if mine.is_none() {
                return Err(StoreError::Invalid(format!(
                    "文件 {}… 不是您上传的（或已过期被清理），请重新上传",
                    &sha[..sha.len().min(12)]
                )));
            }
        }
    }
    Ok(())
}
