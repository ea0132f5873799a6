//! Storage of the exchange: this member, trusted peers, the resource catalog, grants,
//! declared evidence, consents, the request ids seen, the hash-chained message log,
//! conditional requests and the data accesses shown to applicants.

use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use tongban_core::exchange::{Field, MemberDocument, Resource, SharingClass};

/// This deployment as a member (its keys are the issuer keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfMember {
    pub code: String,
    pub name: String,
    pub endpoint: String,
}

/// One entry of the message log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub seq: i64,
    /// `in` (received) or `out` (sent).
    pub direction: String,
    /// `request`, `response` or `refusal`.
    pub kind: String,
    pub request_id: String,
    pub client_member: String,
    pub provider_member: String,
    pub case_no: String,
    pub service: String,
    pub outcome: String,
    pub message: serde_json::Value,
    pub at: String,
    pub hash: String,
}

/// What is logged (the store chains it).
pub struct NewLogEntry<'a> {
    pub direction: &'a str,
    pub kind: &'a str,
    pub request_id: &'a str,
    pub client_member: &'a str,
    pub provider_member: &'a str,
    pub case_no: &'a str,
    pub service: &'a str,
    pub outcome: &'a str,
    pub message: &'a serde_json::Value,
}

/// One access to a person's data, as the person sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DataAccess {
    pub at: String,
    pub who: String,
    pub department: String,
    pub member: String,
    pub case_no: String,
    pub resource: String,
    pub purpose: String,
}

/// A conditional request (有条件共享申请).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConditionalRequest {
    pub id: i64,
    pub resource_code: String,
    pub client_member: String,
    pub client_subsystem: String,
    pub purpose: String,
    pub legal_basis: String,
    pub requested_by: String,
    pub requested_on: String,
    pub due_on: String,
    /// `pending`, `granted` or `refused`.
    pub status: String,
    pub reasons: String,
    pub answered_on: Option<String>,
}

const RESOURCE_COLS: &str = "code, name, provider, provider_code, summary, fields, format, update_cycle, published_on, sharing_class, basis";
const REQUEST_COLS: &str = "id, resource_code, client_member, client_subsystem, purpose, legal_basis, requested_by, requested_on, due_on, status, reasons, answered_on";

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn resource_from_row(r: &crate::db::Row) -> Result<Resource> {
    let fields: Vec<Field> = serde_json::from_str(&get_str(r, "fields")?).map_err(internal)?;
    Ok(Resource {
        code: get_str(r, "code")?,
        name: get_str(r, "name")?,
        provider: get_str(r, "provider")?,
        provider_code: get_str(r, "provider_code")?,
        summary: get_str(r, "summary")?,
        fields,
        format: get_str(r, "format")?,
        update_cycle: get_str(r, "update_cycle")?,
        published_on: get_str(r, "published_on")?.parse().map_err(internal)?,
        sharing_class: SharingClass::parse(&get_str(r, "sharing_class")?).map_err(internal)?,
        basis: get_str(r, "basis")?,
    })
}

fn request_from_row(r: &crate::db::Row) -> Result<ConditionalRequest> {
    Ok(ConditionalRequest {
        id: get_i64(r, "id")?,
        resource_code: get_str(r, "resource_code")?,
        client_member: get_str(r, "client_member")?,
        client_subsystem: get_str(r, "client_subsystem")?,
        purpose: get_str(r, "purpose")?,
        legal_basis: get_str(r, "legal_basis")?,
        requested_by: get_str(r, "requested_by")?,
        requested_on: get_str(r, "requested_on")?,
        due_on: get_str(r, "due_on")?,
        status: get_str(r, "status")?,
        reasons: get_str(r, "reasons")?,
        answered_on: r.try_get::<Option<String>, _>("answered_on")?,
    })
}

impl Store {
    pub async fn self_member(&self) -> Result<Option<SelfMember>> {
        let r = crate::db::query("SELECT code, name, endpoint FROM exchange_self WHERE id = 1")
            .fetch_optional(self.r())
            .await?;
        r.map(|r| {
            Ok(SelfMember {
                code: get_str(&r, "code")?,
                name: get_str(&r, "name")?,
                endpoint: get_str(&r, "endpoint")?,
            })
        })
        .transpose()
    }

    /// Names this deployment as a member (again: the code, name or address may change).
    pub async fn set_self_member(&self, m: &SelfMember, now: DateTime<Utc>) -> Result<()> {
        crate::db::query("INSERT INTO exchange_self (id, code, name, endpoint, created_at) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET code = $1, name = $2, endpoint = $3")
            .bind(&m.code)
            .bind(&m.name)
            .bind(&m.endpoint)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await
    }

    /// Registers (or updates) a peer from its member document.
    pub async fn trust_peer(&self, doc: &MemberDocument, now: DateTime<Utc>) -> Result<()> {
        let text = serde_json::to_string(doc).map_err(internal)?;
        crate::db::query("INSERT INTO exchange_peers (code, name, endpoint, document, trusted_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = $2, endpoint = $3, document = $4, trusted_at = $5")
            .bind(&doc.code)
            .bind(&doc.name)
            .bind(&doc.endpoint)
            .bind(&text)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await
    }

    pub async fn peer(&self, code: &str) -> Result<Option<MemberDocument>> {
        let r = crate::db::query("SELECT document FROM exchange_peers WHERE code = $1")
            .bind(code)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| serde_json::from_str(&get_str(&r, "document")?).map_err(internal))
            .transpose()
    }

    pub async fn publish_resource(&self, res: &Resource, now: DateTime<Utc>) -> Result<()> {
        res.validate().map_err(StoreError::Invalid)?;
        let fields = serde_json::to_string(&res.fields).map_err(internal)?;
        crate::db::query(&format!("INSERT INTO exchange_resources ({RESOURCE_COLS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (code) DO UPDATE SET name = $2, provider = $3, provider_code = $4, summary = $5, fields = $6, format = $7, update_cycle = $8, published_on = $9, sharing_class = $10, basis = $11"))
            .bind(&res.code)
            .bind(res.name.trim())
            .bind(res.provider.trim())
            .bind(&res.provider_code)
            .bind(&res.summary)
            .bind(&fields)
            .bind(&res.format)
            .bind(&res.update_cycle)
            .bind(res.published_on.to_string())
            .bind(res.sharing_class.code())
            .bind(&res.basis)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await
    }

    /// The catalog, optionally narrowed to resources whose name, code, provider, summary
    /// or fields contain `q`.
    pub async fn resources(&self, q: Option<&str>) -> Result<Vec<Resource>> {
        let rows = crate::db::query(&format!(
            "SELECT {RESOURCE_COLS} FROM exchange_resources ORDER BY code"
        ))
        .fetch_all(self.r())
        .await?;
        let all = rows
            .iter()
            .map(resource_from_row)
            .collect::<Result<Vec<_>>>()?;
        let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(all);
        };
        Ok(all
            .into_iter()
            .filter(|r| {
                r.name.contains(q)
                    || r.code.contains(q)
                    || r.provider.contains(q)
                    || r.summary.contains(q)
                    || r.fields.iter().any(|f| f.name.contains(q))
            })
            .collect())
    }

    pub async fn resource(&self, code: &str) -> Result<Option<Resource>> {
        let r = crate::db::query(&format!(
            "SELECT {RESOURCE_COLS} FROM exchange_resources WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(resource_from_row).transpose()
    }

    pub async fn grant_access(
        &self,
        resource: &str,
        client_member: &str,
        client_subsystem: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        crate::db::query("INSERT INTO exchange_grants (resource_code, client_member, client_subsystem, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_code, client_member, client_subsystem) DO NOTHING")
            .bind(resource)
            .bind(client_member)
            .bind(client_subsystem)
            .bind(by)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await
    }

    pub async fn has_grant(
        &self,
        resource: &str,
        client_member: &str,
        client_subsystem: &str,
    ) -> Result<bool> {
        Ok(crate::db::query("SELECT 1 AS one FROM exchange_grants WHERE resource_code = $1 AND client_member = $2 AND client_subsystem = $3")
            .bind(resource)
            .bind(client_member)
            .bind(client_subsystem)
            .fetch_optional(self.r())
            .await?
            .is_some())
    }

    /// Declares that `impl_code`'s materials include `resource`, held by `provider_member`.
    pub async fn declare_evidence(
        &self,
        impl_code: &str,
        resource: &str,
        provider_member: &str,
    ) -> Result<()> {
        crate::db::query("INSERT INTO exchange_evidence (impl_code, resource_code, provider_member) VALUES ($1, $2, $3) ON CONFLICT (impl_code, resource_code) DO UPDATE SET provider_member = $3")
            .bind(impl_code)
            .bind(resource)
            .bind(provider_member)
            .execute(self.w())
            .await?;
        self.durable().await
    }

    /// The evidence an item declares: (resource code, provider member).
    pub async fn evidence_of(&self, impl_code: &str) -> Result<Vec<(String, String)>> {
        let rows = crate::db::query("SELECT resource_code, provider_member FROM exchange_evidence WHERE impl_code = $1 ORDER BY resource_code")
            .bind(impl_code)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| Ok((get_str(r, "resource_code")?, get_str(r, "provider_member")?)))
            .collect()
    }

    pub async fn confirm_consent(&self, case_no: &str, by: &str, now: DateTime<Utc>) -> Result<()> {
        crate::db::query("INSERT INTO exchange_consents (case_no, confirmed_by, confirmed_at) VALUES ($1, $2, $3) ON CONFLICT (case_no) DO NOTHING")
            .bind(case_no)
            .bind(by)
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await
    }

    pub async fn consent_of(&self, case_no: &str) -> Result<Option<String>> {
        let r = crate::db::query("SELECT confirmed_at FROM exchange_consents WHERE case_no = $1")
            .bind(case_no)
            .fetch_optional(self.r())
            .await?;
        r.map(|r| get_str(&r, "confirmed_at")).transpose()
    }

    /// Records a request id as seen; false if it was seen before (a replay).
    pub async fn mark_request_seen(
        &self,
        client_member: &str,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let r = crate::db::query("INSERT INTO exchange_seen (client_member, request_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT (client_member, request_id) DO NOTHING RETURNING request_id")
            .bind(client_member)
            .bind(request_id)
            .bind(now_text(now))
            .fetch_optional(self.w())
            .await?;
        self.durable().await?;
        Ok(r.is_some())
    }

    /// Appends to the message log; each entry's hash covers its predecessor's, so an edit
    /// or a deletion breaks the chain.
    pub async fn append_exchange_log(
        &self,
        e: &NewLogEntry<'_>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let last = crate::db::query("SELECT seq, hash FROM exchange_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, prev) = match last {
            Some(r) => (get_i64(&r, "seq")? + 1, get_str(&r, "hash")?),
            None => (1, String::new()),
        };
        let at = now_text(now);
        let message = e.message.to_string();
        let entry = serde_json::json!({
            "seq": seq, "direction": e.direction, "kind": e.kind, "request_id": e.request_id,
            "outcome": e.outcome, "at": at, "message": e.message,
        })
        .to_string();
        let hash = crate::ledger_append::chain_hash(&prev, &entry);
        crate::db::query("INSERT INTO exchange_log (seq, direction, kind, request_id, client_member, provider_member, case_no, service, outcome, message, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
            .bind(seq)
            .bind(e.direction)
            .bind(e.kind)
            .bind(e.request_id)
            .bind(e.client_member)
            .bind(e.provider_member)
            .bind(e.case_no)
            .bind(e.service)
            .bind(e.outcome)
            .bind(&message)
            .bind(&at)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(hash)
    }

    /// The log, newest first, optionally for one request id.
    pub async fn exchange_log(
        &self,
        request_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LogEntry>> {
        let rows =
            match request_id {
                Some(id) => crate::db::query(
                    "SELECT * FROM exchange_log WHERE request_id = $1 ORDER BY seq DESC LIMIT $2",
                )
                .bind(id)
                .bind(limit)
                .fetch_all(self.r())
                .await?,
                None => {
                    crate::db::query("SELECT * FROM exchange_log ORDER BY seq DESC LIMIT $1")
                        .bind(limit)
                        .fetch_all(self.r())
                        .await?
                }
            };
        rows.iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: get_i64(r, "seq")?,
                    direction: get_str(r, "direction")?,
                    kind: get_str(r, "kind")?,
                    request_id: get_str(r, "request_id")?,
                    client_member: get_str(r, "client_member")?,
                    provider_member: get_str(r, "provider_member")?,
                    case_no: get_str(r, "case_no")?,
                    service: get_str(r, "service")?,
                    outcome: get_str(r, "outcome")?,
                    message: serde_json::from_str(&get_str(r, "message")?).map_err(internal)?,
                    at: get_str(r, "at")?,
                    hash: get_str(r, "hash")?,
                })
            })
            .collect()
    }

    pub async fn record_data_access(&self, subject: &str, a: &DataAccess) -> Result<()> {
        crate::db::query("INSERT INTO data_accesses (subject, at, who, department, member, case_no, resource, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(subject)
            .bind(&a.at)
            .bind(&a.who)
            .bind(&a.department)
            .bind(&a.member)
            .bind(&a.case_no)
            .bind(&a.resource)
            .bind(&a.purpose)
            .execute(self.w())
            .await?;
        self.durable().await
    }

    pub async fn data_accesses(&self, subject: &str) -> Result<Vec<DataAccess>> {
        let rows = crate::db::query("SELECT at, who, department, member, case_no, resource, purpose FROM data_accesses WHERE subject = $1 ORDER BY at DESC, id DESC LIMIT 500")
            .bind(subject)
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DataAccess {
                    at: get_str(r, "at")?,
                    who: get_str(r, "who")?,
                    department: get_str(r, "department")?,
                    member: get_str(r, "member")?,
                    case_no: get_str(r, "case_no")?,
                    resource: get_str(r, "resource")?,
                    purpose: get_str(r, "purpose")?,
                })
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_conditional_request(
        &self,
        resource: &str,
        client_member: &str,
        client_subsystem: &str,
        purpose: &str,
        legal_basis: &str,
        by: &str,
        on: NaiveDate,
        due: NaiveDate,
    ) -> Result<ConditionalRequest> {
        let r = crate::db::query("INSERT INTO exchange_requests (resource_code, client_member, client_subsystem, purpose, legal_basis, requested_by, requested_on, due_on, status, reasons) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', '') RETURNING id")
            .bind(resource)
            .bind(client_member)
            .bind(client_subsystem)
            .bind(purpose)
            .bind(legal_basis)
            .bind(by)
            .bind(on.to_string())
            .bind(due.to_string())
            .fetch_one(self.w())
            .await?;
        self.durable().await?;
        let id = get_i64(&r, "id")?;
        self.conditional_request(id)
            .await?
            .ok_or_else(|| StoreError::Internal("request vanished".into()))
    }

    pub async fn conditional_request(&self, id: i64) -> Result<Option<ConditionalRequest>> {
        let r = crate::db::query(&format!(
            "SELECT {REQUEST_COLS} FROM exchange_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.r())
        .await?;
        r.as_ref().map(request_from_row).transpose()
    }

    pub async fn conditional_requests(&self) -> Result<Vec<ConditionalRequest>> {
        let rows = crate::db::query(&format!(
            "SELECT {REQUEST_COLS} FROM exchange_requests ORDER BY id DESC LIMIT 500"
        ))
        .fetch_all(self.r())
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Answers a pending request; false if it was answered already.
    pub async fn answer_conditional_request(
        &self,
        id: i64,
        status: &str,
        reasons: &str,
        on: NaiveDate,
    ) -> Result<bool> {
        let r = crate::db::query("UPDATE exchange_requests SET status = $1, reasons = $2, answered_on = $3 WHERE id = $4 AND status = 'pending' RETURNING id")
            .bind(status)
            .bind(reasons)
            .bind(on.to_string())
            .bind(id)
            .fetch_optional(self.w())
            .await?;
        self.durable().await?;
        Ok(r.is_some())
    }
}

impl Store {
    /// Appends an exchange event (consent, evidence fetched) to a case's ledger; with a
    /// consent, records it for the purpose check in the same transaction.
    pub async fn append_exchange_case_event(
        &self,
        case_no: &str,
        event: &tongban_core::case::Event,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if let tongban_core::case::Event::EvidenceConsented { .. } = event {
            crate::db::query("INSERT INTO exchange_consents (case_no, confirmed_by, confirmed_at) VALUES ($1, $2, $3) ON CONFLICT (case_no) DO NOTHING")
                .bind(case_no)
                .bind(actor)
                .bind(now_text(now))
                .execute(&mut *tx)
                .await?;
        }
        crate::case_rows::append_in_tx(&mut tx, case_no, std::slice::from_ref(event), actor, now)
            .await?;
        self.commit(tx).await
    }
}

/// The catalog as an XLSX workbook: one row per resource with the GB/T 21063 core metadata.
pub fn catalog_xlsx(resources: &[Resource]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::Workbook;
    let err = |e: rust_xlsxwriter::XlsxError| StoreError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("信息资源目录").map_err(err)?;
    let headers = [
        "信息资源代码",
        "信息资源名称",
        "提供方",
        "提供方代码",
        "摘要",
        "信息项",
        "格式",
        "更新周期",
        "发布日期",
        "共享类型",
        "共享条件/不予共享依据",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(err)?;
    }
    for (r, res) in resources.iter().enumerate() {
        let fields = res
            .fields
            .iter()
            .map(|f| {
                if f.kind.is_empty() {
                    f.name.clone()
                } else {
                    format!("{}({})", f.name, f.kind)
                }
            })
            .collect::<Vec<_>>()
            .join("；");
        let row = [
            res.code.as_str(),
            &res.name,
            &res.provider,
            &res.provider_code,
            &res.summary,
            &fields,
            &res.format,
            &res.update_cycle,
            &res.published_on.to_string(),
            res.sharing_class.label(),
            &res.basis,
        ];
        for (c, v) in row.iter().enumerate() {
            sheet
                .write_string(r as u32 + 1, c as u16, *v)
                .map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}
