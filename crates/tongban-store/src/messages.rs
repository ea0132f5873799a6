//! In-app messages to applicants, written in the transaction of the event they report.

use crate::db::Conn as AnyConnection;
use crate::{get_str, now_text, Result, Store};
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

impl Store {
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
