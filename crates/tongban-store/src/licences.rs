//! Electronic licences in the database: types, issuance on approval (signed with the
//! current issuer keys, recorded on the case ledger in the same transaction), status,
//! uses as evidence, and the key registry.

use crate::db::Conn as AnyConnection;
use crate::db::Row as AnyRow;
use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tongban_core::case::Event;
use tongban_core::licence::id::LicenceId;
use tongban_core::licence::status::{Bitstring, MIN_BITS};
use tongban_core::licence::vc::{self, LicenceData, Published, PublishedKey};

#[derive(Debug, Clone, Serialize)]
pub struct LicenceType {
    pub code: String,
    pub name: String,
    pub validity_years: i64,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Licence {
    pub licence_id: String,
    pub type_code: String,
    pub type_name: String,
    pub number: String,
    pub version: i64,
    pub holder_applicant_id: i64,
    pub issuer_department_id: i64,
    pub case_no: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub status: String,
    pub status_reason: String,
    pub status_index: i64,
    pub vc: Value,
    pub vc_sha256: String,
}

impl Licence {
    /// Usable as evidence: valid, not revoked, suspended, superseded or expired.
    pub fn usable_on(&self, today: NaiveDate) -> bool {
        self.status == LicenceState::Valid.code()
            && self
                .valid_until
                .as_deref()
                .is_none_or(|u| u >= today.to_string().as_str())
    }
    /// The status in the core's words (有效, 已吊销, 已注销, 已被新版本替代 …).
    pub fn status_label(&self) -> &'static str {
        LicenceState::parse(&self.status)
            .map(LicenceState::label)
            .unwrap_or("未知")
    }
}

const LICENCE_COLS: &str = "l.licence_id, l.type_code, t.name AS type_name, l.number, l.version, l.holder_applicant_id, l.issuer_department_id, l.case_no, l.issued_on, l.valid_until, l.status, l.status_reason, l.status_index, l.vc, l.vc_sha256";

fn licence_from_row(r: &AnyRow) -> Result<Licence> {
    Ok(Licence {
        licence_id: get_str(r, "licence_id")?,
        type_code: get_str(r, "type_code")?,
        type_name: get_str(r, "type_name")?,
        number: get_str(r, "number")?,
        version: get_i64(r, "version")?,
        holder_applicant_id: get_i64(r, "holder_applicant_id")?,
        issuer_department_id: get_i64(r, "issuer_department_id")?,
        case_no: get_str(r, "case_no")?,
        issued_on: get_str(r, "issued_on")?,
        valid_until: r.try_get::<Option<String>, _>("valid_until")?,
        status: get_str(r, "status")?,
        status_reason: get_str(r, "status_reason")?,
        status_index: get_i64(r, "status_index")?,
        vc: serde_json::from_str(&get_str(r, "vc")?)
            .map_err(|e| StoreError::Internal(e.to_string()))?,
        vc_sha256: get_str(r, "vc_sha256")?,
    })
}

/// The signing keys in force: Ed25519 and SM2 (key id, secret).
pub struct IssuerKeys {
    pub ed25519: (String, ed25519_dalek::SigningKey),
    pub sm2: (String, [u8; 32]),
}

// The licence status machine is a rule of the core; the store records its outcome.
pub use tongban_core::licence::state::{LicenceState, StatusChange};

impl Store {
    pub async fn upsert_licence_type(
        &self,
        code: &str,
        name: &str,
        validity_years: i64,
        fields: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        tongban_core::catalog::validate_licence_type_code(code).map_err(StoreError::Invalid)?;
        if name.trim().is_empty() || !(0..=50).contains(&validity_years) {
            return Err(StoreError::Invalid(
                "证照类型名称必填，有效期为0-50年（0表示长期）".into(),
            ));
        }
        let fields =
            serde_json::to_string(fields).map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        crate::db::query("INSERT INTO licence_types (code, name, validity_years, fields, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = $2, validity_years = $3, fields = $4")
            .bind(code)
            .bind(name.trim())
            .bind(validity_years)
            .bind(&fields)
            .bind(now_text(now))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub async fn licence_types(&self) -> Result<Vec<LicenceType>> {
        let rows = crate::db::query(
            "SELECT code, name, validity_years, fields FROM licence_types ORDER BY code",
        )
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LicenceType {
                    code: get_str(r, "code")?,
                    name: get_str(r, "name")?,
                    validity_years: get_i64(r, "validity_years")?,
                    fields: serde_json::from_str(&get_str(r, "fields")?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Names the licence type an item's approval issues.
    /// Names the licence type an item's approval issues; with `reissue` the approval
    /// re-issues the holder's current licence of that type as its next version.
    pub async fn set_item_licence_type(
        &self,
        impl_code: &str,
        type_code: &str,
        reissue: bool,
    ) -> Result<()> {
        self.item(impl_code).await?;
        crate::db::query("INSERT INTO item_licence_types (impl_code, type_code, reissue) VALUES ($1, $2, $3) ON CONFLICT (impl_code) DO UPDATE SET type_code = $2, reissue = $3")
            .bind(impl_code)
            .bind(type_code)
            .bind(i64::from(reissue))
            .execute(self.w())
            .await
            .map_err(|e| if crate::is_unique_violation(&e) { e.into() } else { StoreError::Invalid(format!("证照类型 {type_code} 未登记：{e}")) })?;
        self.durable().await?;
        Ok(())
    }

    pub async fn item_licence_type(&self, impl_code: &str) -> Result<Option<LicenceType>> {
        let r = crate::db::query("SELECT t.code, t.name, t.validity_years, t.fields FROM item_licence_types i JOIN licence_types t ON t.code = i.type_code WHERE i.impl_code = $1")
            .bind(impl_code)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| {
            Ok(LicenceType {
                code: get_str(&r, "code")?,
                name: get_str(&r, "name")?,
                validity_years: get_i64(&r, "validity_years")?,
                fields: serde_json::from_str(&get_str(&r, "fields")?).unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// The issuer keys in force, created on first use.
    pub async fn issuer_keys(&self, now: DateTime<Utc>) -> Result<IssuerKeys> {
        // One read in the common case: the keys in force, newest first per algorithm.
        for _ in 0..2 {
            let rows = crate::db::query("SELECT id, algorithm, secret_key FROM licence_keys WHERE valid_until IS NULL ORDER BY valid_from DESC, id")
                .fetch_all(self.r())
                .await?;
            let pick = |algorithm: &str| -> Result<Option<(String, [u8; 32])>> {
                let Some(r) = rows
                    .iter()
                    .find(|r| get_str(r, "algorithm").is_ok_and(|a| a == algorithm))
                else {
                    return Ok(None);
                };
                let secret: [u8; 32] = hex::decode(get_str(r, "secret_key")?)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::Internal("corrupt issuer key".into()))?;
                Ok(Some((get_str(r, "id")?, secret)))
            };
            match (pick("Ed25519")?, pick("SM2")?) {
                (Some((ed_id, ed)), Some(sm)) => {
                    return Ok(IssuerKeys {
                        ed25519: (ed_id, ed25519_dalek::SigningKey::from_bytes(&ed)),
                        sm2: sm,
                    });
                }
                (ed, sm) => {
                    if ed.is_none() {
                        self.new_issuer_key("Ed25519", now).await?;
                    }
                    if sm.is_none() {
                        self.new_issuer_key("SM2", now).await?;
                    }
                }
            }
        }
        Err(StoreError::Internal(
            "issuer keys could not be created".into(),
        ))
    }

    async fn new_issuer_key(&self, algorithm: &str, now: DateTime<Utc>) -> Result<String> {
        use rand::RngCore;
        let mut secret = [0u8; 32];
        let public = loop {
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let p = match algorithm {
                "Ed25519" => Ok(tongban_core::licence::proof::ed25519_multikey(
                    &ed25519_dalek::SigningKey::from_bytes(&secret)
                        .verifying_key()
                        .to_bytes(),
                )),
                _ => tongban_core::licence::proof::sm2_public(&secret).map(hex::encode),
            };
            // A random 32-byte string is almost always a valid SM2 scalar; try again if not.
            if let Ok(p) = p {
                break p;
            }
        };
        let id = format!(
            "{}-{}",
            algorithm.to_lowercase(),
            &hex::encode(sha2_prefix(&public))[..12]
        );
        crate::db::query("INSERT INTO licence_keys (id, algorithm, public_key, secret_key, valid_from) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING")
            .bind(&id)
            .bind(algorithm)
            .bind(&public)
            .bind(hex::encode(secret))
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        Ok(id)
    }

    /// Retires the keys in force and makes new ones. Old keys stay published with their
    /// validity, so what they signed still verifies.
    pub async fn rotate_issuer_keys(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        crate::db::query("UPDATE licence_keys SET valid_until = $1 WHERE valid_until IS NULL")
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        let later = now + chrono::Duration::milliseconds(1);
        Ok(vec![
            self.new_issuer_key("Ed25519", later).await?,
            self.new_issuer_key("SM2", later).await?,
        ])
    }

    pub async fn published_keys(&self) -> Result<Vec<PublishedKey>> {
        let rows = crate::db::query("SELECT id, algorithm, public_key, valid_from, valid_until FROM licence_keys ORDER BY valid_from, id").fetch_all(self.r()).await?;
        rows.iter()
            .map(|r| {
                Ok(PublishedKey {
                    id: get_str(r, "id")?,
                    algorithm: get_str(r, "algorithm")?,
                    public_key: get_str(r, "public_key")?,
                    valid_from: get_str(r, "valid_from")?,
                    valid_until: r.try_get::<Option<String>, _>("valid_until")?,
                })
            })
            .collect()
    }

    /// Issues the licence for an approved case (idempotent: one licence per case). A
    /// licence of the same type the holder already has is re-issued as its next version
    /// and the old version is superseded.
    pub async fn issue_licence(
        &self,
        case_no: &str,
        base_url: &str,
        fields: Map<String, Value>,
        today: NaiveDate,
        now: DateTime<Utc>,
        done_job: Option<&str>,
    ) -> Result<Option<Licence>> {
        if let Some(existing) = self.licence_of_case(case_no).await? {
            return Ok(Some(existing));
        }
        let case = self.case_by_no(case_no).await?;
        let Some(ty) = self.item_licence_type(&case.impl_code).await? else {
            return Ok(None);
        };
        if case.state.outcome != Some(tongban_core::case::Outcome::Approved) {
            return Err(StoreError::Invalid("只有准予办结的办件才能签发证照".into()));
        }
        let holder = self.applicant(case.applicant_id).await?;
        let dept = self.department(case.department_id).await?;
        let issuer = tongban_core::ids::Uscc::parse(&dept.code)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let keys = self.issuer_keys(now).await?;
        let previous = if self.item_reissues(&case.impl_code).await? {
            self.current_licence(holder.id, &ty.code).await?
        } else {
            None
        };
        // The licence's numbers are drawn before its transaction and the credential signed
        // before it too: no writer holds a counter row (or, on SQLite, the one writer)
        // while the signatures are computed (issue 20).
        let id = match &previous {
            Some(p) => LicenceId::parse(&p.licence_id)
                .map_err(|e| StoreError::Internal(e.to_string()))?
                .next_version(),
            None => {
                let year = today.format("%Y").to_string();
                let key = format!("LIC{}{}{year}", ty.code, issuer);
                let given = || async {
                    let r = crate::db::query(
                        "SELECT MAX(serial) AS m FROM licences WHERE type_code = $1 AND issuer_department_id = $2 AND serial LIKE $3",
                    )
                    .bind(&ty.code)
                    .bind(dept.id)
                    .bind(format!("{year}%"))
                    .fetch_one(self.w())
                    .await?;
                    Ok(r.try_get::<Option<String>, _>("m")?
                        .and_then(|m| m.get(year.len()..)?.parse::<i64>().ok())
                        .unwrap_or(0))
                };
                let n = self
                    .draw_number(
                        crate::numbers::Counter {
                            key: &key,
                            initial: 0,
                        },
                        given,
                    )
                    .await?;
                LicenceId::new(&ty.code, &issuer, &format!("{year}{n:06}"), 1)
                    .map_err(|e| StoreError::Internal(e.to_string()))?
            }
        };
        let given = || async {
            let r = crate::db::query("SELECT MAX(status_index) AS m FROM licences")
                .fetch_one(self.w())
                .await?;
            Ok(r.try_get::<Option<i64>, _>("m")?.unwrap_or(-1))
        };
        let index = self
            .draw_number(
                crate::numbers::Counter {
                    key: "LICIDX",
                    initial: -1,
                },
                given,
            )
            .await?;
        if index as usize >= MIN_BITS {
            return Err(StoreError::Internal(
                "status list is full; a second list is needed".into(),
            ));
        }
        let valid_until = (ty.validity_years > 0).then(|| {
            use chrono::Datelike;
            let end = today
                .with_year(today.year() + ty.validity_years as i32)
                .unwrap_or(today);
            end.pred_opt().unwrap_or(end).to_string()
        });
        let number = format!("{}{}{:03}", &ty.code[18..], id.serial, id.version);
        let data = LicenceData {
            id: id.clone(),
            name: ty.name.clone(),
            number: number.clone(),
            type_name: ty.name.clone(),
            holder_name: holder.name.clone(),
            holder_code: holder.id_number.clone(),
            holder_code_type: if holder.kind == "person" {
                "身份证号".into()
            } else {
                "统一社会信用代码".into()
            },
            issuer_name: dept.name.clone(),
            issued_on: today.to_string(),
            valid_from: today.to_string(),
            valid_until: valid_until.clone(),
            // The region of the deployment that decided the case (its number's prefix).
            region: tongban_core::codes::CaseNo::parse(&case.case_no)
                .map(|n| n.region().as_str().to_string())
                .unwrap_or_default(),
            fields,
        };
        let unsigned = vc::build(
            &data,
            &Published {
                base_url: base_url.into(),
                status_index: index as u64,
            },
        );
        let created = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let method = |kid: &str| format!("{base_url}/api/v1/licences/keys#{kid}");
        let signed = vc::sign(
            &unsigned,
            (&keys.ed25519.1, &method(&keys.ed25519.0)),
            (&keys.sm2.1, &method(&keys.sm2.0)),
            &created,
        )
        .map_err(|e| StoreError::Internal(e.to_string()))?;
        let digest = vc::digest(&signed).map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "INSERT INTO licences (licence_id, type_code, serial, version, number, holder_applicant_id, issuer_department_id, case_no, issued_on, valid_until, status, status_index, vc, vc_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'valid', $11, $12, $13, $14)",
        )
        .bind(id.to_string())
        .bind(&ty.code)
        .bind(&id.serial)
        .bind(i64::from(id.version))
        .bind(&number)
        .bind(holder.id)
        .bind(dept.id)
        .bind(case_no)
        .bind(today.to_string())
        .bind(valid_until)
        .bind(index)
        .bind(signed.to_string())
        .bind(&digest)
        .bind(now_text(now))
        .execute(&mut *tx)
        .await?;
        if let Some(p) = &previous {
            // The holder's current licence is replaced by the new version (the core's
            // transition: only a valid licence can be superseded).
            let superseded = LicenceState::parse(&p.status)
                .and_then(|s| s.transition(StatusChange::Supersede))
                .map_err(|e| StoreError::Conflict(e.to_string()))?;
            crate::db::query(
                "UPDATE licences SET status = $3, status_reason = $1 WHERE licence_id = $2",
            )
            .bind(format!("换发为 {id}"))
            .bind(&p.licence_id)
            .bind(superseded.code())
            .execute(&mut *tx)
            .await?;
        }
        crate::messages::message(
            &mut tx,
            holder.id,
            case_no,
            now,
            &format!(
                "您的电子证照「{}」（编号 {number}）已签发，可在证照夹查看、下载和核验。",
                ty.name
            ),
        )
        .await?;
        // The ledger head last (its row lock orders writers on PostgreSQL).
        crate::case_rows::append_in_tx(
            &mut tx,
            case_no,
            &[Event::LicenceIssued {
                licence_id: id.to_string(),
                vc_sha256: digest,
            }],
            "system",
            now,
        )
        .await?;
        // The outbox job that asked for this licence is done with it, in the same commit.
        if let Some(key) = done_job {
            crate::jobs::mark_done(&mut tx, key, now).await?;
        }
        self.commit(tx).await?;
        self.licence(&id.to_string()).await.map(Some)
    }

    pub async fn licence(&self, licence_id: &str) -> Result<Licence> {
        let r = crate::db::query(&format!("SELECT {LICENCE_COLS} FROM licences l JOIN licence_types t ON t.code = l.type_code WHERE l.licence_id = $1"))
            .bind(licence_id.trim())
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("电子证照 {licence_id}")))?;
        licence_from_row(&r)
    }

    pub async fn licence_of_case(&self, case_no: &str) -> Result<Option<Licence>> {
        let r = crate::db::query(&format!("SELECT {LICENCE_COLS} FROM licences l JOIN licence_types t ON t.code = l.type_code WHERE l.case_no = $1"))
            .bind(case_no)
            .fetch_optional(self.r())
            .await?;
        r.as_ref().map(licence_from_row).transpose()
    }

    pub async fn licences_of_holder(&self, applicant_id: i64) -> Result<Vec<Licence>> {
        let rows = crate::db::query(&format!("SELECT {LICENCE_COLS} FROM licences l JOIN licence_types t ON t.code = l.type_code WHERE l.holder_applicant_id = $1 ORDER BY l.id DESC"))
            .bind(applicant_id)
            .fetch_all(self.r())
            .await?;
        rows.iter().map(licence_from_row).collect()
    }

    pub async fn all_licences(&self) -> Result<Vec<Licence>> {
        let rows = crate::db::query(&format!("SELECT {LICENCE_COLS} FROM licences l JOIN licence_types t ON t.code = l.type_code ORDER BY l.id")).fetch_all(self.r()).await?;
        rows.iter().map(licence_from_row).collect()
    }

    /// Revokes, suspends, expires or restores a licence; recorded on its case's ledger.
    pub async fn set_licence_status(
        &self,
        licence_id: &str,
        change: StatusChange,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Licence> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid("必须说明原因".into()));
        }
        let l = self.licence(licence_id).await?;
        let from = LicenceState::parse(&l.status)
            .map_err(|e| StoreError::Internal(format!("licence {}: {e}", l.licence_id)))?;
        let to = from
            .transition(change)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        crate::db::query(
            "UPDATE licences SET status = $1, status_reason = $2 WHERE licence_id = $3",
        )
        .bind(to.code())
        .bind(reason)
        .bind(&l.licence_id)
        .execute(&mut *tx)
        .await?;
        let event = Event::LicenceStatusChanged {
            licence_id: l.licence_id.clone(),
            status: to.code().into(),
            reason: reason.into(),
        };
        crate::case_rows::append_in_tx(&mut tx, &l.case_no, &[event], actor, now).await?;
        self.commit(tx).await?;
        self.licence(licence_id).await
    }

    /// The revocation and suspension bitstrings as they stand.
    pub async fn status_bitstrings(&self) -> Result<(Bitstring, Bitstring)> {
        let rows =
            crate::db::query("SELECT status, status_index FROM licences WHERE status <> 'valid'")
                .fetch_all(self.r())
                .await?;
        let (mut revoked, mut suspended) = (Bitstring::default(), Bitstring::default());
        for r in &rows {
            let i = get_i64(r, "status_index")? as usize;
            match get_str(r, "status")?.as_str() {
                "suspended" => {
                    suspended.set(i, true);
                }
                _ => {
                    revoked.set(i, true);
                }
            }
        }
        Ok((revoked, suspended))
    }

    /// Whether the ledger records this exact licence as issued.
    pub async fn licence_on_ledger(&self, licence_id: &str, vc_sha256: &str) -> Result<bool> {
        // Only the events of the case the licence names are read (an indexed look-up);
        // a licence the platform never issued has no such case and is not on the ledger.
        let rows = crate::db::query(
            "SELECT e.entry FROM licences l JOIN cases c ON c.case_no = l.case_no \
             JOIN ledger_events e ON e.case_id = c.id WHERE l.licence_id = $1 AND e.kind = 'licence_issued'",
        )
        .bind(licence_id)
        .fetch_all(self.r())
        .await?;
        Ok(rows.iter().any(|r| {
            get_str(r, "entry")
                .ok()
                .and_then(|e| serde_json::from_str::<Value>(&e).ok())
                .is_some_and(|v| {
                    v["event"]["licence_id"] == licence_id && v["event"]["vc_sha256"] == vc_sha256
                })
        }))
    }

    pub async fn record_licence_use(
        &self,
        licence_id: &str,
        case_no: &str,
        used_by: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        record_use(&mut tx, licence_id, case_no, used_by, purpose, now).await?;
        self.commit(tx).await?;
        Ok(())
    }

    /// Where a licence was used or looked up: (case, who, purpose, when).
    pub async fn licence_uses(
        &self,
        licence_id: &str,
    ) -> Result<Vec<(String, String, String, String)>> {
        let rows = crate::db::query("SELECT case_no, used_by, purpose, at FROM licence_uses WHERE licence_id = $1 ORDER BY id DESC").bind(licence_id).fetch_all(self.r()).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "case_no")?,
                    get_str(r, "used_by")?,
                    get_str(r, "purpose")?,
                    get_str(r, "at")?,
                ))
            })
            .collect()
    }
}

pub(crate) async fn record_use(
    conn: &mut AnyConnection,
    licence_id: &str,
    case_no: &str,
    used_by: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::db::query("INSERT INTO licence_uses (licence_id, case_no, used_by, purpose, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(licence_id)
        .bind(case_no)
        .bind(used_by)
        .bind(purpose)
        .bind(now_text(now))
        .execute(conn)
        .await?;
    Ok(())
}

fn sha2_prefix(s: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).to_vec()
}

impl Store {
    /// Approved cases whose item issues a licence but that have none (an issuance that
    /// failed after the decision was recorded).
    pub async fn cases_missing_licences(&self) -> Result<Vec<String>> {
        let rows = crate::db::query(
            "SELECT c.case_no, c.state FROM cases c JOIN item_licence_types i ON i.impl_code = c.impl_code \
             WHERE c.status IN ('completed', 'dispatched', 'delivered') \
             AND NOT EXISTS (SELECT 1 FROM licences l WHERE l.case_no = c.case_no) ORDER BY c.id",
        )
        .fetch_all(self.r())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let state: tongban_core::case::Case = serde_json::from_str(&get_str(r, "state")?)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            if state.outcome == Some(tongban_core::case::Outcome::Approved) {
                out.push(get_str(r, "case_no")?);
            }
        }
        Ok(out)
    }
}

impl Store {
    async fn item_reissues(&self, impl_code: &str) -> Result<bool> {
        let r = crate::db::query("SELECT reissue FROM item_licence_types WHERE impl_code = $1")
            .bind(impl_code)
            .fetch_optional(self.r())
            .await?;
        Ok(match r {
            Some(r) => get_i64(&r, "reissue")? != 0,
            None => false,
        })
    }

    /// The holder's newest valid licence of a type.
    pub async fn current_licence(
        &self,
        applicant_id: i64,
        type_code: &str,
    ) -> Result<Option<Licence>> {
        let r = crate::db::query(&format!(
            "SELECT {LICENCE_COLS} FROM licences l JOIN licence_types t ON t.code = l.type_code \
             WHERE l.holder_applicant_id = $1 AND l.type_code = $2 AND l.status = 'valid' ORDER BY l.id DESC LIMIT 1"
        ))
        .bind(applicant_id)
        .bind(type_code)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(licence_from_row).transpose()
    }
}
