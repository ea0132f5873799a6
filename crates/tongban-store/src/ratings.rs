//! 好差评 storage: ratings (never deleted), the follow-up of 差评, appeals, one-time rating
//! links and the case each window's rating pad shows. A rating and its 整改 record are
//! written in one transaction with the `rated` event on the case ledger.

use crate::case_rows::{append_in_tx, case_from_row, CaseRecord, CASE_COLS};
use crate::db::Row as AnyRow;
use crate::{get_i64, get_opt_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use tongban_core::case::Event;

/// One rating, as kept.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    pub id: i64,
    pub case_no: String,
    pub impl_code: String,
    pub department_id: i64,
    #[serde(skip)]
    pub applicant_id: i64,
    pub hall_id: Option<i64>,
    pub window_id: Option<i64>,
    pub clerk: String,
    pub stage: String,
    pub channel: String,
    pub round: i64,
    pub level: i64,
    pub indicators: BTreeMap<String, i64>,
    pub comment: String,
    #[serde(skip)]
    pub device: String,
    pub rated_at: String,
    pub rated_on: String,
    pub excluded: bool,
    pub excluded_reason: String,
}

const RATING_COLS: &str = "r.id, r.case_no, r.impl_code, r.department_id, r.applicant_id, r.hall_id, r.window_id, r.clerk, r.stage, r.channel, r.round, r.level, r.indicators, r.comment, r.device, r.rated_at, r.rated_on, r.excluded, r.excluded_reason";

fn rating_from_row(r: &AnyRow) -> Result<Rating> {
    Ok(Rating {
        id: get_i64(r, "id")?,
        case_no: get_str(r, "case_no")?,
        impl_code: get_str(r, "impl_code")?,
        department_id: get_i64(r, "department_id")?,
        applicant_id: get_i64(r, "applicant_id")?,
        hall_id: get_opt_i64(r, "hall_id")?,
        window_id: get_opt_i64(r, "window_id")?,
        clerk: get_str(r, "clerk")?,
        stage: get_str(r, "stage")?,
        channel: get_str(r, "channel")?,
        round: get_i64(r, "round")?,
        level: get_i64(r, "level")?,
        indicators: serde_json::from_str(&get_str(r, "indicators")?).unwrap_or_default(),
        comment: get_str(r, "comment")?,
        device: get_str(r, "device")?,
        rated_at: get_str(r, "rated_at")?,
        rated_on: get_str(r, "rated_on")?,
        excluded: get_i64(r, "excluded")? != 0,
        excluded_reason: get_str(r, "excluded_reason")?,
    })
}

/// A rating to keep.
pub struct NewRating<'a> {
    pub case: &'a CaseRecord,
    pub hall_id: Option<i64>,
    pub window_id: Option<i64>,
    pub clerk: &'a str,
    pub stage: &'a str,
    pub channel: &'a str,
    pub level: u8,
    pub indicators: &'a BTreeMap<String, u8>,
    pub comment: &'a str,
    pub device: &'a str,
    pub rated_by: &'a str,
    pub rated_on: NaiveDate,
    /// For a 差评: (回访 due, 整改 due).
    pub follow_up: Option<(NaiveDate, NaiveDate)>,
    /// The hash of the one-time link used, spent in the same transaction.
    pub token_hash: Option<&'a str>,
}

/// The follow-up of a 差评, with its rating.
#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub rating: Rating,
    pub department_id: i64,
    pub opened_on: String,
    pub callback_due: String,
    pub rectify_due: String,
    pub called_back_on: Option<String>,
    pub called_back_by: String,
    pub callback_note: String,
    pub rectified_on: Option<String>,
    pub rectified_by: String,
    pub rectify_note: String,
    pub status: String,
}

const RECT_COLS: &str = "x.department_id AS x_department_id, x.opened_on, x.callback_due, x.rectify_due, x.called_back_on, x.called_back_by, x.callback_note, x.rectified_on, x.rectified_by, x.rectify_note, x.status";

fn rect_from_row(r: &AnyRow) -> Result<Rectification> {
    Ok(Rectification {
        rating: rating_from_row(r)?,
        department_id: get_i64(r, "x_department_id")?,
        opened_on: get_str(r, "opened_on")?,
        callback_due: get_str(r, "callback_due")?,
        rectify_due: get_str(r, "rectify_due")?,
        called_back_on: r.try_get::<Option<String>, _>("called_back_on")?,
        called_back_by: get_str(r, "called_back_by")?,
        callback_note: get_str(r, "callback_note")?,
        rectified_on: r.try_get::<Option<String>, _>("rectified_on")?,
        rectified_by: get_str(r, "rectified_by")?,
        rectify_note: get_str(r, "rectify_note")?,
        status: get_str(r, "status")?,
    })
}

/// An appeal (申诉复核) of a rating.
#[derive(Debug, Clone, Serialize)]
pub struct Appeal {
    pub rating_id: i64,
    pub department_id: i64,
    pub reason: String,
    pub evidence: String,
    pub appealed_by: String,
    pub appealed_at: String,
    /// `pending`, `upheld` or `rejected`.
    pub decision: String,
    pub decided_by: String,
    pub decided_at: Option<String>,
    pub decision_reason: String,
}

fn appeal_from_row(r: &AnyRow) -> Result<Appeal> {
    Ok(Appeal {
        rating_id: get_i64(r, "rating_id")?,
        department_id: get_i64(r, "department_id")?,
        reason: get_str(r, "reason")?,
        evidence: get_str(r, "evidence")?,
        appealed_by: get_str(r, "appealed_by")?,
        appealed_at: get_str(r, "appealed_at")?,
        decision: get_str(r, "decision")?,
        decided_by: get_str(r, "decided_by")?,
        decided_at: r.try_get::<Option<String>, _>("decided_at")?,
        decision_reason: get_str(r, "decision_reason")?,
    })
}

/// One row of the provincial export (and of the figures).
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub rating: Rating,
    pub department_code: String,
    pub applicant_id_number: String,
    pub called_back_on: Option<String>,
    pub rectified_on: Option<String>,
    pub rectify_due: Option<String>,
}

/// Filters of the figures.
#[derive(Debug, Clone, Default)]
pub struct RatingFilter {
    pub from: String,
    pub to: String,
    pub department_id: Option<i64>,
}

/// The rating prompt added to the applicant's message after 受理 and after 办结.
pub fn prompt_after(events: &[Event]) -> &'static str {
    if events
        .iter()
        .any(|e| matches!(e, Event::Accepted { .. } | Event::Completed { .. }))
    {
        "欢迎在办件页面对本次服务作出评价（好差评，自愿参与）。"
    } else {
        ""
    }
}

impl Store {
    /// Keeps a rating: refused as a conflict when the case already has one for this channel
    /// and stage (unless its 差评 was rectified, when the applicant may rate again).
    pub async fn insert_rating(&self, n: NewRating<'_>, now: DateTime<Utc>) -> Result<Rating> {
        let mut tx = self.begin_write().await?;
        let last = crate::db::query(
            "SELECT r.id, r.round, r.level, x.status FROM ratings r LEFT JOIN rating_rectifications x ON x.rating_id = r.id \
             WHERE r.case_id = $1 AND r.channel = $2 AND r.stage = $3 ORDER BY r.round DESC LIMIT 1",
        )
        .bind(n.case.id)
        .bind(n.channel)
        .bind(n.stage)
        .fetch_optional(&mut *tx)
        .await?;
        let round = match last {
            None => 0,
            Some(r) => {
                let rectified =
                    r.try_get::<Option<String>, _>("status")?.as_deref() == Some("done");
                if !rectified {
                    return Err(StoreError::Conflict(
                        "该办件在此渠道的这一环节已评价过（一次一评、一事一评）".into(),
                    ));
                }
                get_i64(&r, "round")? + 1
            }
        };
        if let Some(hash) = n.token_hash {
            let spent = crate::db::query(
                "UPDATE rating_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
            )
            .bind(now_text(now))
            .bind(hash)
            .execute(&mut *tx)
            .await?;
            if spent.rows_affected() != 1 {
                return Err(StoreError::Conflict("该评价链接已使用".into()));
            }
        }
        let indicators =
            serde_json::to_string(n.indicators).map_err(|e| StoreError::Internal(e.to_string()))?;
        let inserted = crate::db::query(
            "INSERT INTO ratings (case_id, case_no, impl_code, department_id, applicant_id, hall_id, window_id, clerk, stage, channel, round, level, indicators, comment, device, rated_by, rated_at, rated_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
        )
        .bind(n.case.id)
        .bind(n.case.case_no.as_str())
        .bind(n.case.impl_code.as_str())
        .bind(n.case.department_id)
        .bind(n.case.applicant_id)
        .bind(n.hall_id)
        .bind(n.window_id)
        .bind(n.clerk)
        .bind(n.stage)
        .bind(n.channel)
        .bind(round)
        .bind(i64::from(n.level))
        .bind(indicators)
        .bind(n.comment)
        .bind(n.device)
        .bind(n.rated_by)
        .bind(now_text(now))
        .bind(n.rated_on.to_string())
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(r) => get_i64(&r, "id")?,
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(
                    "该办件在此渠道的这一环节已评价过（一次一评、一事一评）".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if let Some((callback, rectify)) = n.follow_up {
            crate::db::query(
                "INSERT INTO rating_rectifications (rating_id, department_id, opened_on, callback_due, rectify_due, status) VALUES ($1, $2, $3, $4, $5, 'open')",
            )
            .bind(id)
            .bind(n.case.department_id)
            .bind(n.rated_on.to_string())
            .bind(callback.to_string())
            .bind(rectify.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let event = Event::Rated {
            rating_id: id,
            stage: n.stage.into(),
            channel: n.channel.into(),
            level: n.level,
        };
        append_in_tx(&mut tx, &n.case.case_no, &[event], n.rated_by, now).await?;
        crate::figures::count_rating(&mut tx, id, 1).await?;
        self.commit(tx).await?;
        self.rating(id).await
    }

    pub async fn rating(&self, id: i64) -> Result<Rating> {
        let r = crate::db::query(&format!(
            "SELECT {RATING_COLS} FROM ratings r WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("评价 {id}")))?;
        rating_from_row(&r)
    }

    pub async fn ratings_of_case(&self, case_id: i64) -> Result<Vec<Rating>> {
        crate::db::query(&format!(
            "SELECT {RATING_COLS} FROM ratings r WHERE r.case_id = $1 ORDER BY r.id"
        ))
        .bind(case_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(rating_from_row)
        .collect()
    }

    pub async fn rectification(&self, rating_id: i64) -> Result<Option<Rectification>> {
        crate::db::query(&format!(
            "SELECT {RATING_COLS}, {RECT_COLS} FROM rating_rectifications x JOIN ratings r ON r.id = x.rating_id WHERE x.rating_id = $1"
        ))
        .bind(rating_id)
        .fetch_optional(self.r())
        .await?
        .as_ref()
        .map(rect_from_row)
        .transpose()
    }

    /// The follow-ups of 差评, `open` or `done`, of one department or all.
    pub async fn rectifications(
        &self,
        status: Option<&str>,
        department_id: Option<i64>,
    ) -> Result<Vec<Rectification>> {
        let mut sql = format!(
            "SELECT {RATING_COLS}, {RECT_COLS} FROM rating_rectifications x JOIN ratings r ON r.id = x.rating_id WHERE 1 = 1"
        );
        let mut n = 0;
        if status.is_some() {
            n += 1;
            sql.push_str(&format!(" AND x.status = ${n}"));
        }
        if department_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND x.department_id = ${n}"));
        }
        sql.push_str(" ORDER BY x.callback_due, r.id LIMIT 500");
        let mut q = crate::db::query(&sql);
        if let Some(s) = status {
            q = q.bind(s.to_string());
        }
        if let Some(d) = department_id {
            q = q.bind(d);
        }
        q.fetch_all(self.r())
            .await?
            .iter()
            .map(rect_from_row)
            .collect()
    }

    /// Records the 回访 of a 差评 (once).
    pub async fn record_callback(
        &self,
        rating_id: i64,
        note: &str,
        by: &str,
        today: NaiveDate,
    ) -> Result<Rectification> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE rating_rectifications SET called_back_on = $1, called_back_by = $2, callback_note = $3 WHERE rating_id = $4 AND called_back_on IS NULL",
        )
        .bind(today.to_string())
        .bind(by)
        .bind(note)
        .bind(rating_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("该差评已回访".into()));
        }
        self.commit(tx).await?;
        self.rectification(rating_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("整改记录 {rating_id}")))
    }

    /// Records the 整改 of a 差评 (after its 回访); the record is then done.
    pub async fn record_rectified(
        &self,
        rating_id: i64,
        note: &str,
        by: &str,
        today: NaiveDate,
    ) -> Result<Rectification> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE rating_rectifications SET rectified_on = $1, rectified_by = $2, rectify_note = $3, status = 'done' WHERE rating_id = $4 AND status = 'open' AND called_back_on IS NOT NULL",
        )
        .bind(today.to_string())
        .bind(by)
        .bind(note)
        .bind(rating_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("该差评尚未回访，或已整改完毕".into()));
        }
        self.commit(tx).await?;
        self.rectification(rating_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("整改记录 {rating_id}")))
    }

    pub async fn appeal(&self, rating_id: i64) -> Result<Option<Appeal>> {
        crate::db::query("SELECT * FROM rating_appeals WHERE rating_id = $1")
            .bind(rating_id)
            .fetch_optional(self.r())
            .await?
            .as_ref()
            .map(appeal_from_row)
            .transpose()
    }

    /// Files the department's appeal of a rating (one per rating).
    pub async fn file_appeal(
        &self,
        rating: &Rating,
        reason: &str,
        evidence: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Appeal> {
        let mut tx = self.begin_write().await?;
        let r = crate::db::query(
            "INSERT INTO rating_appeals (rating_id, department_id, reason, evidence, appealed_by, appealed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(rating.id)
        .bind(rating.department_id)
        .bind(reason)
        .bind(evidence)
        .bind(by)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict("该评价已提出过申诉".into()))
            }
            Err(e) => return Err(e.into()),
        }
        self.commit(tx).await?;
        self.appeal(rating.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("申诉 {}", rating.id)))
    }

    /// Decides a pending appeal. Upheld: the rating is marked excluded with the reason (kept,
    /// never deleted) and the exclusion is an event on the case ledger.
    pub async fn decide_appeal(
        &self,
        rating: &Rating,
        upheld: bool,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Appeal> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE rating_appeals SET decision = $1, decided_by = $2, decided_at = $3, decision_reason = $4 WHERE rating_id = $5 AND decision = 'pending'",
        )
        .bind(if upheld { "upheld" } else { "rejected" })
        .bind(by)
        .bind(now_text(now))
        .bind(reason)
        .bind(rating.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("该申诉已复核".into()));
        }
        if upheld {
            crate::db::query("UPDATE ratings SET excluded = 1, excluded_reason = $1 WHERE id = $2")
                .bind(reason)
                .bind(rating.id)
                .execute(&mut *tx)
                .await?;
            crate::figures::count_rating(&mut tx, rating.id, -1).await?;
            let event = Event::RatingExcluded {
                rating_id: rating.id,
                reason: reason.into(),
            };
            append_in_tx(&mut tx, &rating.case_no, &[event], by, now).await?;
        }
        self.commit(tx).await?;
        self.appeal(rating.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("申诉 {}", rating.id)))
    }

    /// The ratings given in [from, to] (Beijing dates), with what the figures and the
    /// provincial export need. Excluded ratings are included (marked); callers skip them.
    pub async fn rating_rows(&self, f: &RatingFilter) -> Result<Vec<ExportRow>> {
        let mut sql = format!(
            "SELECT {RATING_COLS}, d.code AS department_code, a.id_number, x.called_back_on, x.rectified_on, x.rectify_due \
             FROM ratings r JOIN departments d ON d.id = r.department_id JOIN applicants a ON a.id = r.applicant_id \
             LEFT JOIN rating_rectifications x ON x.rating_id = r.id WHERE r.rated_on >= $1 AND r.rated_on <= $2"
        );
        if f.department_id.is_some() {
            sql.push_str(" AND r.department_id = $3");
        }
        sql.push_str(" ORDER BY r.id LIMIT 100000");
        let mut q = crate::db::query(&sql)
            .bind(f.from.clone())
            .bind(f.to.clone());
        if let Some(d) = f.department_id {
            q = q.bind(d);
        }
        q.fetch_all(self.r())
            .await?
            .iter()
            .map(|r| {
                Ok(ExportRow {
                    rating: rating_from_row(r)?,
                    department_code: get_str(r, "department_code")?,
                    applicant_id_number: get_str(r, "id_number")?,
                    called_back_on: r.try_get::<Option<String>, _>("called_back_on")?,
                    rectified_on: r.try_get::<Option<String>, _>("rectified_on")?,
                    rectify_due: r.try_get::<Option<String>, _>("rectify_due")?,
                })
            })
            .collect()
    }

    /// Keeps a one-time rating link's hash.
    pub async fn create_rating_token(
        &self,
        hash: &str,
        case_id: i64,
        stage: &str,
        channel: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let token = NewRatingToken {
            hash: hash.to_string(),
            case_id,
            stage: stage.to_string(),
            channel: channel.to_string(),
        };
        insert_rating_tokens(&mut tx, std::slice::from_ref(&token), now).await?;
        self.commit(tx).await
    }

    /// The case, stage and channel of an unused link.
    pub async fn rating_token(&self, hash: &str) -> Result<Option<(CaseRecord, String, String)>> {
        let r = crate::db::query(&format!(
            "SELECT {CASE_COLS}, t.stage AS t_stage, t.channel AS t_channel FROM rating_tokens t JOIN cases c ON c.id = t.case_id WHERE t.token_hash = $1 AND t.used_at IS NULL"
        ))
        .bind(hash)
        .fetch_optional(self.r())
        .await?;
        r.map(|r| {
            Ok((
                case_from_row(&r)?,
                get_str(&r, "t_stage")?,
                get_str(&r, "t_channel")?,
            ))
        })
        .transpose()
    }

    /// Shows a case on a window's rating pad.
    pub async fn set_pad_case(
        &self,
        window_id: i64,
        case_id: i64,
        clerk: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        crate::db::query("DELETE FROM rating_pads WHERE window_id = $1")
            .bind(window_id)
            .execute(&mut *tx)
            .await?;
        crate::db::query(
            "INSERT INTO rating_pads (window_id, case_id, clerk, set_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(window_id)
        .bind(case_id)
        .bind(clerk)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// The case a window's pad shows, the clerk who put it there, and when.
    pub async fn pad_case(&self, window_id: i64) -> Result<Option<(CaseRecord, String, String)>> {
        let r = crate::db::query(&format!(
            "SELECT {CASE_COLS}, p.clerk AS p_clerk, p.set_at AS p_set_at FROM rating_pads p JOIN cases c ON c.id = p.case_id WHERE p.window_id = $1"
        ))
        .bind(window_id)
        .fetch_optional(self.r())
        .await?;
        r.map(|r| {
            Ok((
                case_from_row(&r)?,
                get_str(&r, "p_clerk")?,
                get_str(&r, "p_set_at")?,
            ))
        })
        .transpose()
    }

    /// A window and its hall.
    pub async fn hall_window(&self, window_id: i64) -> Result<crate::catalog::HallWindow> {
        let r = crate::db::query(
            "SELECT id, hall_id, number, name, kind, retired FROM hall_windows WHERE id = $1",
        )
        .bind(window_id)
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("窗口 {window_id}")))?;
        Ok(crate::catalog::HallWindow {
            id: get_i64(&r, "id")?,
            hall_id: get_i64(&r, "hall_id")?,
            number: get_str(&r, "number")?,
            name: get_str(&r, "name")?,
            kind: get_str(&r, "kind")?,
            retired: get_i64(&r, "retired")? != 0,
        })
    }
}

/// A one-time rating link to store (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRatingToken {
    pub hash: String,
    pub case_id: i64,
    pub stage: String,
    pub channel: String,
}

/// Stores rating links inside the caller's transaction (a decision's invitations are
/// written with its events).
pub(crate) async fn insert_rating_tokens(
    conn: &mut crate::db::Conn,
    tokens: &[NewRatingToken],
    now: DateTime<Utc>,
) -> Result<()> {
    for t in tokens {
        crate::db::query(
            "INSERT INTO rating_tokens (token_hash, case_id, stage, channel, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.hash.as_str())
        .bind(t.case_id)
        .bind(t.stage.as_str())
        .bind(t.channel.as_str())
        .bind(now_text(now))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
