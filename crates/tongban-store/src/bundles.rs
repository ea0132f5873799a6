//! 一件事 (issue #17): versioned bundle definitions, bundles (one application), their
//! members (one real case each, or waiting for a prerequisite) and their events.

use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tongban_core::bundle::BundleDef;

/// A bundle as stored.
#[derive(Debug, Clone, Serialize)]
pub struct BundleRecord {
    pub id: i64,
    pub bundle_no: String,
    pub code: String,
    pub version: u32,
    pub applicant_id: i64,
    pub created_by: i64,
    pub channel: String,
    pub answers: serde_json::Value,
    /// What the application carried (fields, materials, delivery), for members started later.
    pub application: serde_json::Value,
    pub received_on: NaiveDate,
    pub limit_due: NaiveDate,
    pub promised_due: NaiveDate,
    pub status: String,
    pub completed_on: Option<NaiveDate>,
    pub created_at: String,
}

/// A member of a bundle: `waiting` (no case yet), `started` (its case runs), `cancelled`.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRecord {
    pub item_key: String,
    pub impl_code: String,
    pub position: i64,
    pub state: String,
    pub case_no: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleEvent {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

pub struct NewBundle<'a> {
    pub code: &'a str,
    pub version: u32,
    pub applicant_id: i64,
    pub created_by: i64,
    pub idem_key: Option<&'a str>,
    pub channel: &'a str,
    pub answers: &'a serde_json::Value,
    pub application: &'a serde_json::Value,
    pub received_on: NaiveDate,
    pub limit_due: NaiveDate,
    pub promised_due: NaiveDate,
    /// (member key, 实施编码), in order.
    pub members: Vec<(String, String)>,
}

const COLS: &str = "id, bundle_no, code, version, applicant_id, created_by, channel, answers, application, received_on, limit_due, promised_due, status, completed_on, created_at";

fn date(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    get_str(r, col)?
        .parse()
        .map_err(|e| StoreError::Internal(format!("bundles.{col}: {e}")))
}

fn bundle_from_row(r: &AnyRow) -> Result<BundleRecord> {
    let js = |col: &str| -> Result<serde_json::Value> {
        serde_json::from_str(&get_str(r, col)?)
            .map_err(|e| StoreError::Internal(format!("bundles.{col}: {e}")))
    };
    Ok(BundleRecord {
        id: get_i64(r, "id")?,
        bundle_no: get_str(r, "bundle_no")?,
        code: get_str(r, "code")?,
        version: get_i64(r, "version")? as u32,
        applicant_id: get_i64(r, "applicant_id")?,
        created_by: get_i64(r, "created_by")?,
        channel: get_str(r, "channel")?,
        answers: js("answers")?,
        application: js("application")?,
        received_on: date(r, "received_on")?,
        limit_due: date(r, "limit_due")?,
        promised_due: date(r, "promised_due")?,
        status: get_str(r, "status")?,
        completed_on: r
            .try_get::<Option<String>, _>("completed_on")?
            .map(|s| s.parse())
            .transpose()
            .map_err(|e| StoreError::Internal(format!("bundles.completed_on: {e}")))?,
        created_at: get_str(r, "created_at")?,
    })
}

fn def_from_row(r: &AnyRow) -> Result<BundleDef> {
    let mut def: BundleDef = serde_json::from_str(&get_str(r, "definition")?)
        .map_err(|e| StoreError::Internal(format!("bundle_definitions: {e}")))?;
    def.version = get_i64(r, "version")? as u32;
    Ok(def)
}

impl Store {
    /// Stores a definition as the code's next version; the same definition as the latest
    /// version is not stored again. Returns the version in force.
    pub async fn import_bundle_definition(
        &self,
        def: &BundleDef,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        def.check().map_err(|e| StoreError::Invalid(e.0))?;
        let latest = self.bundle_definition(&def.code).await?;
        if let Some(l) = &latest {
            let mut same = def.clone();
            same.version = l.version;
            if &same == l {
                return Ok(l.version);
            }
        }
        let version = latest.map(|l| l.version + 1).unwrap_or(1).max(def.version);
        let mut stored = def.clone();
        stored.version = version;
        let text =
            serde_json::to_string(&stored).map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let r = crate::db::query(
            "INSERT INTO bundle_definitions (code, version, name, definition, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(def.code.as_str())
        .bind(i64::from(version))
        .bind(def.name.as_str())
        .bind(text)
        .bind(by)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(format!(
                    "一件事 {} 的第 {version} 版已存在",
                    def.code
                )))
            }
            Err(e) => return Err(e.into()),
        }
        self.commit(tx).await?;
        Ok(version)
    }

    /// The latest version of every definition, by code.
    pub async fn bundle_definitions(&self) -> Result<Vec<BundleDef>> {
        crate::db::query(
            "SELECT d.version, d.definition FROM bundle_definitions d \
             WHERE d.version = (SELECT MAX(x.version) FROM bundle_definitions x WHERE x.code = d.code) ORDER BY d.id",
        )
        .fetch_all(self.r())
        .await?
        .iter()
        .map(def_from_row)
        .collect()
    }

    /// The latest version of a definition.
    pub async fn bundle_definition(&self, code: &str) -> Result<Option<BundleDef>> {
        crate::db::query(
            "SELECT version, definition FROM bundle_definitions WHERE code = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(code)
        .fetch_optional(self.r())
        .await?
        .as_ref()
        .map(def_from_row)
        .transpose()
    }

    pub async fn bundle_definition_version(&self, code: &str, version: u32) -> Result<BundleDef> {
        let r = crate::db::query(
            "SELECT version, definition FROM bundle_definitions WHERE code = $1 AND version = $2",
        )
        .bind(code)
        .bind(i64::from(version))
        .fetch_optional(self.r())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("一件事 {code} 第 {version} 版")))?;
        def_from_row(&r)
    }

    async fn bundle_by_idem(&self, created_by: i64, key: &str) -> Result<Option<BundleRecord>> {
        crate::db::query(&format!(
            "SELECT {COLS} FROM bundles WHERE created_by = $1 AND idem_key = $2"
        ))
        .bind(created_by)
        .bind(key)
        .fetch_optional(self.r())
        .await?
        .as_ref()
        .map(bundle_from_row)
        .transpose()
    }

    /// Opens a bundle with its members (all `waiting`) and its first event. A retry with the
    /// same idempotency key returns the bundle already made (`false`).
    pub async fn open_bundle(
        &self,
        nb: NewBundle<'_>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(BundleRecord, bool)> {
        if let Some(key) = nb.idem_key {
            if let Some(b) = self.bundle_by_idem(nb.created_by, key).await? {
                return Ok((b, false));
            }
        }
        let js = |v: &serde_json::Value| {
            serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
        };
        let placeholder = format!(
            "new-{}-{}",
            nb.created_by,
            now.timestamp_nanos_opt().unwrap_or(0)
        );
        let mut tx = self.begin_write().await?;
        let inserted = crate::db::query(
            "INSERT INTO bundles (bundle_no, code, version, applicant_id, created_by, idem_key, channel, answers, application, received_on, limit_due, promised_due, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'processing', $13) RETURNING id",
        )
        .bind(placeholder.as_str())
        .bind(nb.code)
        .bind(i64::from(nb.version))
        .bind(nb.applicant_id)
        .bind(nb.created_by)
        .bind(nb.idem_key)
        .bind(nb.channel)
        .bind(js(nb.answers)?)
        .bind(js(nb.application)?)
        .bind(nb.received_on.to_string())
        .bind(nb.limit_due.to_string())
        .bind(nb.promised_due.to_string())
        .bind(now_text(now))
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(r) => get_i64(&r, "id")?,
            Err(e) if e.is_unique_violation() && nb.idem_key.is_some() => {
                drop(tx);
                self.w().settle().await?;
                return self
                    .bundle_by_idem(nb.created_by, nb.idem_key.unwrap_or_default())
                    .await?
                    .map(|b| (b, false))
                    .ok_or_else(|| StoreError::Internal("idempotency race".into()));
            }
            Err(e) => return Err(e.into()),
        };
        let bundle_no = format!("YJS{}{:06}", crate::beijing_day(now), id);
        crate::db::query("UPDATE bundles SET bundle_no = $1 WHERE id = $2")
            .bind(bundle_no.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for (n, (key, code)) in nb.members.iter().enumerate() {
            crate::db::query(
                "INSERT INTO bundle_members (bundle_id, item_key, impl_code, position, state) VALUES ($1, $2, $3, $4, 'waiting')",
            )
            .bind(id)
            .bind(key.as_str())
            .bind(code.as_str())
            .bind(n as i64)
            .execute(&mut *tx)
            .await?;
        }
        crate::db::query(
            "INSERT INTO bundle_events (bundle_id, at, actor, kind, detail) VALUES ($1, $2, $3, 'applied', $4)",
        )
        .bind(id)
        .bind(now_text(now))
        .bind(actor)
        .bind(format!("一次申请 {} 个事项", nb.members.len()))
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok((self.bundle_by_no(&bundle_no).await?, true))
    }

    pub async fn bundle_by_no(&self, bundle_no: &str) -> Result<BundleRecord> {
        let r = crate::db::query(&format!("SELECT {COLS} FROM bundles WHERE bundle_no = $1"))
            .bind(bundle_no)
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("一件事办件 {bundle_no}")))?;
        bundle_from_row(&r)
    }

    /// The bundle a case belongs to, if any.
    pub async fn bundle_of_case(&self, case_no: &str) -> Result<Option<String>> {
        crate::db::query(
            "SELECT b.bundle_no FROM bundle_members m JOIN bundles b ON b.id = m.bundle_id WHERE m.case_no = $1",
        )
        .bind(case_no)
        .fetch_optional(self.r())
        .await?
        .map(|r| get_str(&r, "bundle_no"))
        .transpose()
    }

    pub async fn bundle_members(&self, bundle_id: i64) -> Result<Vec<MemberRecord>> {
        crate::db::query(
            "SELECT item_key, impl_code, position, state, case_no FROM bundle_members WHERE bundle_id = $1 ORDER BY position",
        )
        .bind(bundle_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| {
            Ok(MemberRecord {
                item_key: get_str(r, "item_key")?,
                impl_code: get_str(r, "impl_code")?,
                position: get_i64(r, "position")?,
                state: get_str(r, "state")?,
                case_no: r.try_get::<Option<String>, _>("case_no")?,
            })
        })
        .collect()
    }

    pub async fn bundle_events(&self, bundle_id: i64) -> Result<Vec<BundleEvent>> {
        crate::db::query(
            "SELECT at, actor, kind, detail FROM bundle_events WHERE bundle_id = $1 ORDER BY id",
        )
        .bind(bundle_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(|r| {
            Ok(BundleEvent {
                at: get_str(r, "at")?,
                actor: get_str(r, "actor")?,
                kind: get_str(r, "kind")?,
                detail: get_str(r, "detail")?,
            })
        })
        .collect()
    }

    /// Moves a member from `from` to `state` (with its case, once started) and records the
    /// event; false when the member was no longer in `from` (someone else moved it).
    #[allow(clippy::too_many_arguments)]
    pub async fn move_bundle_member(
        &self,
        bundle_id: i64,
        key: &str,
        from: &str,
        state: &str,
        case_no: Option<&str>,
        actor: &str,
        kind: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE bundle_members SET state = $1, case_no = COALESCE($2, case_no) WHERE bundle_id = $3 AND item_key = $4 AND state = $5",
        )
        .bind(state)
        .bind(case_no)
        .bind(bundle_id)
        .bind(key)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        add_event(&mut tx, bundle_id, actor, kind, detail, now).await?;
        self.commit(tx).await?;
        Ok(true)
    }

    pub async fn add_bundle_event(
        &self,
        bundle_id: i64,
        actor: &str,
        kind: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        add_event(&mut tx, bundle_id, actor, kind, detail, now).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Writes the bundle's status and promised date; an event when the status changes.
    pub async fn update_bundle(
        &self,
        b: &BundleRecord,
        status: &str,
        promised_due: NaiveDate,
        completed_on: Option<NaiveDate>,
        event: Option<(&str, &str)>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = crate::db::query(
            "UPDATE bundles SET status = $1, promised_due = $2, completed_on = $3 WHERE id = $4 AND status = $5",
        )
        .bind(status)
        .bind(promised_due.to_string())
        .bind(completed_on.map(|d| d.to_string()))
        .bind(b.id)
        .bind(b.status.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some((kind, detail)) = event {
            add_event(&mut tx, b.id, "电子监察系统", kind, detail, now).await?;
        }
        self.commit(tx).await?;
        Ok(true)
    }

    /// Every bundle of a definition (figures), or every open one when `code` is None.
    pub async fn bundles_of(&self, code: Option<&str>) -> Result<Vec<BundleRecord>> {
        let rows = match code {
            Some(c) => {
                crate::db::query(&format!(
                    "SELECT {COLS} FROM bundles WHERE code = $1 ORDER BY id"
                ))
                .bind(c)
                .fetch_all(self.r())
                .await?
            }
            None => {
                crate::db::query(&format!(
                    "SELECT {COLS} FROM bundles WHERE status = 'processing' ORDER BY limit_due, id"
                ))
                .fetch_all(self.r())
                .await?
            }
        };
        rows.iter().map(bundle_from_row).collect()
    }

    /// The bundles of an applicant, newest first.
    pub async fn bundles_of_applicant(&self, applicant_id: i64) -> Result<Vec<BundleRecord>> {
        crate::db::query(&format!(
            "SELECT {COLS} FROM bundles WHERE applicant_id = $1 ORDER BY id DESC LIMIT 100"
        ))
        .bind(applicant_id)
        .fetch_all(self.r())
        .await?
        .iter()
        .map(bundle_from_row)
        .collect()
    }
}

async fn add_event(
    tx: &mut crate::db::Tx,
    bundle_id: i64,
    actor: &str,
    kind: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::db::query(
        "INSERT INTO bundle_events (bundle_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(bundle_id)
    .bind(now_text(now))
    .bind(actor)
    .bind(kind)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
