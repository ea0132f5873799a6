//! In-app messages to applicants, written in the transaction of the event they report.

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, now_text, Result, Store};
use chrono::{DateTime, Utc};

/// One message in an applicant's list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub case_no: String,
    pub at: String,
    pub text: String,
}

pub(crate) async fn message(
    conn: &mut AnyConnection,
    applicant_id: i64,
    case_no: &str,
    now: DateTime<Utc>,
    text: &str,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO messages (applicant_id, case_no, at, text) VALUES ($1, $2, $3, $4)",
    )
    .bind(applicant_id)
    .bind(case_no)
    .bind(now_text(now))
    .bind(text)
    .execute(conn)
    .await?;
    Ok(())
}

/// One case's messages to an applicant (case_no '' for those tied to no case).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Thread {
    pub case_no: String,
    /// The case's item name; empty for the messages tied to no case.
    pub item_name: String,
    pub total: i64,
    pub unread: i64,
    /// The newest message.
    pub last_at: String,
    pub last_text: String,
}

impl Store {
    /// The applicant's messages grouped per case, the thread with the newest message first.
    pub async fn message_threads(&self, applicant_id: i64) -> Result<Vec<Thread>> {
        let rows = crate::db::query(
            "SELECT m.case_no, COUNT(*) AS total, \
             SUM(CASE WHEN m.read_at IS NULL THEN 1 ELSE 0 END) AS unread, MAX(m.id) AS last_id \
             FROM messages m WHERE m.applicant_id = $1 GROUP BY m.case_no ORDER BY MAX(m.id) DESC LIMIT 200",
        )
        .bind(applicant_id)
        .fetch_all(self.r())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let last = crate::db::query(
                "SELECT m.at, m.text, c.item_name FROM messages m \
                 LEFT JOIN cases c ON c.case_no = m.case_no AND m.case_no <> '' WHERE m.id = $1",
            )
            .bind(get_i64(r, "last_id")?)
            .fetch_one(self.r())
            .await?;
            out.push(Thread {
                case_no: get_str(r, "case_no")?,
                item_name: last
                    .try_get::<Option<String>, _>("item_name")?
                    .unwrap_or_default(),
                total: get_i64(r, "total")?,
                unread: get_i64(r, "unread")?,
                last_at: get_str(&last, "at")?,
                last_text: get_str(&last, "text")?,
            });
        }
        Ok(out)
    }

    /// One thread's messages, oldest first, each with whether it was unread.
    pub async fn message_thread(
        &self,
        applicant_id: i64,
        case_no: &str,
    ) -> Result<Vec<(Message, bool)>> {
        let rows = crate::db::query(
            "SELECT case_no, at, text, read_at FROM messages WHERE applicant_id = $1 AND case_no = $2 ORDER BY id LIMIT 500",
        )
        .bind(applicant_id)
        .bind(case_no)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    Message {
                        case_no: get_str(r, "case_no")?,
                        at: get_str(r, "at")?,
                        text: get_str(r, "text")?,
                    },
                    r.try_get::<Option<String>, _>("read_at")?.is_none(),
                ))
            })
            .collect()
    }

    /// Marks a thread's messages read; returns how many were unread.
    pub async fn mark_thread_read(
        &self,
        applicant_id: i64,
        case_no: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let done = crate::db::query(
            "UPDATE messages SET read_at = $1 WHERE applicant_id = $2 AND case_no = $3 AND read_at IS NULL",
        )
        .bind(now_text(now))
        .bind(applicant_id)
        .bind(case_no)
        .execute(self.w())
        .await?;
        let n = done.rows_affected();
        if n > 0 {
            self.durable().await?;
        }
        Ok(n)
    }

    /// How many messages the applicant of this user account has not read (0 for accounts
    /// that are no applicant).
    pub async fn unread_messages_of_user(&self, user_id: i64) -> Result<i64> {
        let r = crate::db::query(
            "SELECT COUNT(*) AS n FROM messages m JOIN applicants a ON a.id = m.applicant_id \
             WHERE a.user_id = $1 AND m.read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(self.r())
        .await?;
        get_i64(&r, "n")
    }

    pub async fn messages(&self, applicant_id: i64, limit: i64) -> Result<Vec<Message>> {
        let rows = crate::db::query("SELECT case_no, at, text FROM messages WHERE applicant_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(applicant_id)
            .bind(limit)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Message {
                    case_no: get_str(r, "case_no")?,
                    at: get_str(r, "at")?,
                    text: get_str(r, "text")?,
                })
            })
            .collect()
    }
}
