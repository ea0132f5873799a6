//! The province link. Sending side (a city): reported case events are queued by the ledger
//! append in the transaction of the event (`tongban_store::federation`); a background worker
//! delivers them in order, signed with the member keys, at least once, with capped
//! exponential backoff, and sends the ledger's checkpoint with a consistency proof from the
//! last one the province kept. Receiving side (a province, or any member): signed batches
//! are stored once per event id; each checkpoint is verified against the last one kept and
//! a failure raises the alarm (audit entry, further reports refused). Reconciliation counts
//! and hashes the events each side holds. Downward: the provincial standard item list and
//! its comparison with the local catalog (四级四同).

use crate::authz;
use crate::error::{Error, ErrorKind, Result};
use crate::exchange::{self_member, signed, signer_document};
use crate::App;
use serde_json::{json, Value};
use std::time::Duration;
use tongban_core::capability::Capability;
use tongban_core::exchange as ex_rules;
use tongban_core::federation::{
    self as rules, CheckpointMessage, Difference, EventsMessage, LinkCheckpoint, LinkHead,
    LocalItem, PartitionProof, StandardItem,
};
use tongban_store::accounts::User;
use tongban_store::federation::OutboxCounts;

/// How the worker runs (configuration).
#[derive(Debug, Clone, Copy)]
pub struct LinkSettings {
    /// How often the worker looks for undelivered events.
    pub poll: Duration,
    /// At most this often a checkpoint is sent (it recomputes the ledger's root from the
    /// stored events, so a rewritten history cannot hide behind cached hashes).
    pub checkpoint_every: Duration,
    /// The longest wait between attempts while the upstream member is unreachable.
    pub backoff_cap: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            poll: Duration::from_secs(2),
            checkpoint_every: Duration::from_secs(60),
            backoff_cap: Duration::from_secs(300),
        }
    }
}

/// Names (or with `None` forgets) the upstream member. Reported events are queued only
/// while one is named.
pub async fn configure(app: &App, upstream_url: Option<&str>) -> Result<()> {
    if let Some(u) = upstream_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 300 {
            return Err(Error::invalid(format!(
                "upstream_url 应为 http(s):// 开头的地址：{u}"
            )));
        }
    }
    let u = upstream_url.map(|u| u.trim_end_matches('/'));
    app.store.set_upstream(u, app.now()).await?;
    Ok(())
}

// ---- the ledger, through one adapter ----------------------------------------------------------

/// The ledger's checkpoint now: {size, root, signature}, and for a partitioned ledger the
/// partition heads it signs. The roots are recomputed from the stored event bytes (per
/// partition); the signed checkpoint of the ledger is attached when it agrees (so a ledger
/// edited behind the server's back reports the roots it really has).
async fn ledger_checkpoint(app: &App) -> Result<LinkCheckpoint> {
    let signed_cp = app.store.checkpoint(app.now()).await?;
    let report = app.store.verify_ledger().await?;
    let heads = |h: &[tongban_store::ledger::PartitionHead]| -> Vec<LinkHead> {
        h.iter()
            .map(|h| LinkHead {
                partition: h.partition,
                size: h.size,
                root: h.root.clone(),
            })
            .collect()
    };
    if signed_cp.size == report.size
        && signed_cp.root == report.root
        && signed_cp.partitions == report.partitions
    {
        return Ok(LinkCheckpoint {
            size: signed_cp.size,
            root: signed_cp.root,
            signature: signed_cp.signature,
            origin: signed_cp.origin,
            time: signed_cp.time,
            key_id: signed_cp.key_id,
            partitions: heads(&signed_cp.partitions),
        });
    }
    Ok(LinkCheckpoint {
        size: report.size,
        root: report.root,
        signature: String::new(),
        origin: if report.partitions.is_empty() {
            tongban_store::ledger::ORIGIN
        } else {
            tongban_store::ledger::ORIGIN_PARTITIONED
        }
        .to_string(),
        time: app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        key_id: String::new(),
        partitions: heads(&report.partitions),
    })
}

/// The ledger's consistency proof from size `from` (the checkpoint the upstream keeps) to
/// the checkpoint `to` (hex hashes): one RFC 6962 proof for a one-partition ledger; for a
/// partitioned one, one per partition from its size in the signed checkpoint of size
/// `from` to its size in `to`, from the stored subtrees (a partition empty before, or
/// that did not grow, needs none). Without a signed checkpoint of size `from` nothing can
/// be proved: no proofs are sent and the upstream judges.
async fn ledger_consistency(
    app: &App,
    from: u64,
    to: &LinkCheckpoint,
) -> Result<(Vec<String>, Vec<PartitionProof>)> {
    if from == 0 || from == to.size {
        return Ok((vec![], vec![]));
    }
    if to.partitions.is_empty() {
        return Ok((
            app.store.consistency_proof(from, to.size).await?.proof,
            vec![],
        ));
    }
    let Some(a) = app.store.checkpoint_at(from).await? else {
        return Ok((vec![], vec![]));
    };
    let mut proofs = Vec::new();
    for (ha, hb) in a.partitions.iter().zip(&to.partitions) {
        if ha.size == 0 || ha.size >= hb.size {
            continue;
        }
        let p = app
            .store
            .consistency_proof_in(hb.partition, ha.size, hb.size)
            .await?;
        proofs.push(PartitionProof {
            partition: hb.partition,
            proof: p.proof,
        });
    }
    Ok((vec![], proofs))
}

// ---- sending ----------------------------------------------------------------------------------

/// The worker's memory between passes.
#[derive(Debug, Default)]
pub struct SendState {
    /// Consecutive failed passes (for the backoff).
    pub failures: u32,
    /// The checkpoint size the upstream member last said it keeps.
    pub upstream_size: Option<u64>,
    last_checkpoint: Option<(std::time::Instant, u64)>,
}

fn now_secs(app: &App) -> String {
    app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(Error::internal)
}

async fn post_signed(url: &str, msg: &Value) -> std::result::Result<Value, (u16, Value)> {
    let c = client().map_err(|e| (0, json!({"message": e.message})))?;
    let res = c
        .post(url)
        .json(msg)
        .send()
        .await
        .map_err(|e| (0, json!({"message": format!("上级成员无法连接：{e}")})))?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else {
        Err((status.as_u16(), body))
    }
}

/// One pass: delivers every undelivered event in order (batches of [`rules::MAX_BATCH`])
/// and, when due, the ledger checkpoint. Returns how many events were delivered. An error
/// leaves the rest for the next pass (after the backoff).
pub async fn deliver(app: &App, settings: &LinkSettings, st: &mut SendState) -> Result<usize> {
    let Some(url) = app.store.upstream().await? else {
        return Ok(0);
    };
    let me = self_member(app).await?;
    let mut delivered = 0;
    loop {
        let batch = app.store.undelivered(rules::MAX_BATCH as i64).await?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<i64> = batch.iter().map(|q| q.id).collect();
        let msg = EventsMessage {
            kind: rules::EVENTS_TYPE.into(),
            from: me.code.clone(),
            timestamp: now_secs(app),
            events: batch.into_iter().map(|q| q.event).collect(),
        };
        let payload = serde_json::to_value(&msg).map_err(Error::internal)?;
        let signed_msg = signed(app, &payload).await?;
        match post_signed(&format!("{url}{}", rules::EVENTS_PATH), &signed_msg).await {
            Ok(body) => {
                app.store.mark_delivered(&ids, app.now()).await?;
                delivered += ids.len();
                st.upstream_size = body.get("checkpoint_size").and_then(Value::as_u64);
            }
            Err((status, body)) => {
                let why = format!(
                    "{status} {}",
                    body.get("message").and_then(Value::as_str).unwrap_or("")
                );
                app.store.mark_failed(&ids, &why).await?;
                return Err(Error::unavailable(why));
            }
        }
    }
    let due = match st.last_checkpoint {
        None => true,
        Some((at, size)) => {
            at.elapsed() >= settings.checkpoint_every
                && (delivered > 0 || size != app.store.ledger_size().await?)
        }
    };
    if due {
        send_checkpoint(app, &url, &me.code, st).await?;
    }
    Ok(delivered)
}

async fn send_checkpoint(app: &App, url: &str, me: &str, st: &mut SendState) -> Result<()> {
    let cp = ledger_checkpoint(app).await?;
    let endpoint = format!("{url}{}", rules::CHECKPOINTS_PATH);
    // The upstream's size may be unknown or stale: it says which in a 409, then once more.
    for _ in 0..2 {
        let from = st.upstream_size.unwrap_or(0).min(cp.size);
        let (proof, partition_proofs) = ledger_consistency(app, from, &cp).await?;
        let msg = CheckpointMessage {
            kind: rules::CHECKPOINT_TYPE.into(),
            from: me.to_string(),
            timestamp: now_secs(app),
            checkpoint: cp.clone(),
            from_size: from,
            proof,
            partition_proofs,
        };
        let payload = serde_json::to_value(&msg).map_err(Error::internal)?;
        let signed_msg = signed(app, &payload).await?;
        match post_signed(&endpoint, &signed_msg).await {
            Ok(_) => {
                st.upstream_size = Some(cp.size);
                st.last_checkpoint = Some((std::time::Instant::now(), cp.size));
                return Ok(());
            }
            Err((409, body)) if body.get("code") == Some(&json!("stale_from")) => {
                st.upstream_size = body.get("checkpoint_size").and_then(Value::as_u64);
            }
            Err((status, body)) => {
                st.last_checkpoint = Some((std::time::Instant::now(), cp.size));
                return Err(Error::unavailable(format!(
                    "上级成员拒收检查点：{status} {}",
                    body.get("message").and_then(Value::as_str).unwrap_or("")
                )));
            }
        }
    }
    Err(Error::unavailable("上级成员检查点大小不一致"))
}

/// Delivers until the process ends: every `poll` while it succeeds; after failures, waits
/// 1, 2, 4 … seconds up to `backoff_cap`, plus up to a quarter at random (one attempt per
/// wait, the outbox kept in order).
pub fn spawn_worker(app: App, settings: LinkSettings) {
    tokio::spawn(async move {
        let mut st = SendState::default();
        loop {
            let wait = if st.failures == 0 {
                settings.poll
            } else {
                // Up to a quarter more, at random: a hundred cities that lost the province
                // together do not all come back in the same second.
                use rand::Rng;
                let b = rules::backoff(st.failures, settings.backoff_cap);
                b + b.mul_f64(rand::thread_rng().gen_range(0.0..0.25))
            };
            tokio::time::sleep(wait).await;
            match deliver(&app, &settings, &mut st).await {
                Ok(n) => {
                    st.failures = 0;
                    if n > 0 {
                        tracing::info!(delivered = n, "province link pass");
                    }
                }
                Err(e) => {
                    st.failures = st.failures.saturating_add(1);
                    tracing::warn!(error = %e.message, failures = st.failures, "province link pass failed; will retry");
                }
            }
        }
    });
}

/// The outbox in figures (administrators).
pub async fn outbox(app: &App, user: &User) -> Result<OutboxCounts> {
    authz::require_scope(app, user, Capability::Administer).await?;
    Ok(app.store.outbox_counts().await?)
}

// ---- receiving --------------------------------------------------------------------------------

fn refusal(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Error {
    Error::new(kind, code, message)
}

/// Checks a signed message from a member: its type, a trusted signer, both signatures,
/// the time window, and no standing alarm. Returns the payload.
async fn authenticate<T: serde::de::DeserializeOwned>(
    app: &App,
    msg: &Value,
    kind: &str,
) -> Result<(T, String)> {
    let payload = ex_rules::payload_of(msg);
    if payload.get("type").and_then(Value::as_str) != Some(kind) {
        return Err(Error::invalid(format!("消息类型应为 {kind}")));
    }
    let from = payload
        .get("from")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let from = ex_rules::parse_member_code(&from).map_err(Error::invalid)?;
    let parsed: T = serde_json::from_value(payload.clone())
        .map_err(|e| Error::invalid(format!("消息格式不合规：{e}")))?;
    let Some(doc) = signer_document(app, &from).await? else {
        return Err(refusal(
            ErrorKind::Forbidden,
            "untrusted",
            format!("成员 {from} 未登记为受信成员"),
        ));
    };
    if let Err(why) = ex_rules::verify_message(msg, &doc) {
        return Err(refusal(
            ErrorKind::Unauthorized,
            "bad_signature",
            format!("消息签名核验失败：{why}"),
        ));
    }
    let ts = payload
        .get("timestamp")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ex_rules::within_window(ts, app.now()) {
        return Err(refusal(
            ErrorKind::Conflict,
            "replay",
            "消息时间不在允许的时间窗内",
        ));
    }
    if let Some(reason) = app.store.federation_alarm(&from).await? {
        return Err(refusal(
            ErrorKind::Forbidden,
            "member_alarm",
            format!("成员 {from} 的账本检查点未通过一致性验证，暂停接收其上报：{reason}"),
        ));
    }
    Ok((parsed, from))
}

async fn kept_size(app: &App, member: &str) -> Result<u64> {
    Ok(app
        .store
        .last_good_checkpoint(member)
        .await?
        .map(|c| c.size)
        .unwrap_or(0))
}

/// Takes a signed batch of reported events: each stored once (a retried batch changes
/// nothing), in the order sent. Answers with the counts and the checkpoint size kept for
/// the sender.
pub async fn receive_events(app: &App, msg: &Value) -> Result<Value> {
    let (batch, from): (EventsMessage, String) = authenticate(app, msg, rules::EVENTS_TYPE).await?;
    if batch.events.len() > rules::MAX_BATCH {
        return Err(Error::invalid(format!(
            "一批至多 {} 个事件",
            rules::MAX_BATCH
        )));
    }
    for e in &batch.events {
        e.validate().map_err(Error::invalid)?;
    }
    let (accepted, duplicates) = app
        .store
        .receive_events(&from, &batch.events, app.now())
        .await?;
    Ok(json!({
        "member": from,
        "accepted": accepted,
        "duplicates": duplicates,
        "checkpoint_size": kept_size(app, &from).await?,
    }))
}

/// Takes a member's signed ledger checkpoint: verified against the last one kept with the
/// consistency proof. A failure is kept, raises the alarm (audit entry) and refuses the
/// member's further reports; a proof from another size than the one kept is answered with
/// that size (409 `stale_from`), nothing stored.
pub async fn receive_checkpoint(app: &App, msg: &Value) -> Result<CheckpointOutcome> {
    let (m, from): (CheckpointMessage, String) =
        authenticate(app, msg, rules::CHECKPOINT_TYPE).await?;
    if m.checkpoint.root.len() != 64 || hex::decode(&m.checkpoint.root).is_err() {
        return Err(Error::invalid("检查点根哈希应为64位十六进制"));
    }
    if m.proof.len() > 128
        || m.partition_proofs.len() > rules::MAX_PARTITIONS
        || m.partition_proofs.iter().any(|p| p.proof.len() > 128)
    {
        return Err(Error::invalid("一致性证明过长"));
    }
    if m.checkpoint.partitions.len() > rules::MAX_PARTITIONS
        || m.checkpoint
            .partitions
            .iter()
            .any(|h| h.root.len() != 64 || hex::decode(&h.root).is_err())
    {
        return Err(Error::invalid(
            "分区头应至多1024个，每个根哈希为64位十六进制",
        ));
    }
    let kept = app.store.last_good_checkpoint(&from).await?;
    let kept_size = kept.as_ref().map(|k| k.size).unwrap_or(0);
    let (consistent, reason) = if kept_size > m.checkpoint.size {
        (
            false,
            format!(
                "新检查点（{} 条）短于已保存的检查点（{kept_size} 条）：账本被截断",
                m.checkpoint.size
            ),
        )
    } else if m.from_size != kept_size {
        return Ok(CheckpointOutcome::StaleFrom(kept_size));
    } else {
        let ok = rules::extends(
            kept.as_ref().map(|k| rules::Kept {
                size: k.size,
                root: k.root.as_str(),
                partitions: &k.partitions,
            }),
            &m.checkpoint,
            &m.proof,
            &m.partition_proofs,
        );
        (
            ok,
            format!(
                "检查点（{} 条，根 {}…）与已保存的检查点（{kept_size} 条）不一致：账本历史被改写",
                m.checkpoint.size,
                m.checkpoint.root.get(..16).unwrap_or("")
            ),
        )
    };
    app.store
        .keep_link_checkpoint(
            &from,
            &m.checkpoint,
            consistent,
            (!consistent).then_some(reason.as_str()),
            app.now(),
        )
        .await?;
    if !consistent {
        tracing::error!(member = %from, %reason, "province link alarm");
        return Err(refusal(ErrorKind::Refused, "inconsistent", reason));
    }
    Ok(CheckpointOutcome::Kept(
        json!({"member": from, "consistent": true, "checkpoint_size": m.checkpoint.size}),
    ))
}

/// What became of a checkpoint received.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckpointOutcome {
    /// Proved consistent and kept.
    Kept(Value),
    /// The proof starts from another size than the one kept (this one): nothing stored.
    StaleFrom(u64),
}

/// Reconciliation with a member (administrators, auditors): what this side holds of its
/// reports — cases, distinct events, the digest over the sorted event ids, the last
/// checkpoint kept and whether every one was proved consistent. Asked about this member
/// itself, the sending side's view: every event it queued, and its ledger now.
pub async fn reconciliation(app: &App, user: &User, member: &str) -> Result<Value> {
    authz::require_scope(app, user, Capability::ReadAuditLog).await?;
    let member = ex_rules::parse_member_code(member).map_err(Error::invalid)?;
    if member == self_member(app).await?.code {
        let h = app.store.outbox_holdings(false).await?;
        let cp = ledger_checkpoint(app).await?;
        let verified = app.store.verify_ledger().await?.problem.is_none();
        return Ok(json!({
            "member": member, "cases": h.cases, "events": h.events, "digest": h.digest,
            "last_checkpoint": {"size": cp.size, "root": cp.root},
            "consistent": verified,
        }));
    }
    let known = app.store.peer(&member).await?.is_some();
    if !known {
        return Err(Error::not_found(format!("未登记的成员：{member}")));
    }
    let h = app.store.received_holdings(&member).await?;
    let last = app.store.last_link_checkpoint(&member).await?;
    let consistent = app.store.all_checkpoints_consistent(&member).await?
        && app.store.federation_alarm(&member).await?.is_none();
    Ok(json!({
        "member": member, "cases": h.cases, "events": h.events, "digest": h.digest,
        "last_checkpoint": last.map(|c| json!({"size": c.size, "root": c.root})).unwrap_or_else(|| json!({"size": 0, "root": ""})),
        "consistent": consistent,
    }))
}

// ---- downward: the provincial standard list ---------------------------------------------------

/// Replaces the provincial standard item list with a file in the catalog's import format
/// (CSV or XLSX, the same columns); answers with the differences from the local catalog.
pub async fn import_standard(
    app: &App,
    user: &User,
    name: &str,
    bytes: &[u8],
) -> Result<(usize, Vec<Difference>)> {
    authz::require_scope(app, user, Capability::Administer).await?;
    if bytes.is_empty() {
        return Err(Error::invalid("省级标准事项清单为空"));
    }
    let parsed = tongban_store::catalog_file::parse_any(name, bytes, None)
        .map_err(|e| Error::invalid(e.to_string()))?;
    if parsed.items.is_empty() {
        return Err(Error::invalid("省级标准事项清单没有事项"));
    }
    let mut items: Vec<StandardItem> = Vec::new();
    for (_, i) in parsed.items {
        if items.iter().any(|s| s.code == i.basic_code) {
            continue;
        }
        items.push(StandardItem {
            code: i.basic_code.clone(),
            name: i.name.clone(),
            legal_basis: i.legal_basis.clone(),
            legal_limit: i64::from(i.legal_limit),
            unit: i.legal_unit.as_str().to_string(),
            promised_limit: i64::from(i.promised_limit),
        });
    }
    app.store.set_standard_items(&items, app.now()).await?;
    app.store
        .record_audit(
            app.now(),
            &user.username,
            "federation.standard_list",
            &format!("{} items", items.len()),
        )
        .await?;
    let n = items.len();
    Ok((n, standard_differences(app, user).await?.1))
}

/// The standard list held and its differences from the local catalog (active items).
pub async fn standard_differences(app: &App, user: &User) -> Result<(usize, Vec<Difference>)> {
    authz::require_scope(app, user, Capability::Administer).await?;
    let standard = app.store.standard_items().await?;
    if standard.is_empty() {
        return Ok((0, vec![]));
    }
    let view = app.catalog().await?;
    let local: Vec<LocalItem> = view
        .active()
        .map(|s| LocalItem {
            code: s.item.basic_code.clone(),
            impl_code: s.item.impl_code.clone(),
            name: s.item.name.clone(),
            legal_basis: s.item.legal_basis.clone(),
            legal_limit: i64::from(s.item.legal_limit),
            unit: s.item.legal_unit.as_str().to_string(),
            promised_limit: i64::from(s.item.promised_limit),
        })
        .collect();
    Ok((standard.len(), rules::compare(&standard, &local)))
}

// ---- 跨域通办 (收受分离) ----------------------------------------------------------------------

use base64::Engine as _;
use tongban_core::federation::{CrossApplicant, CrossReceipt, CrossStatus, SeenMaterial};
use tongban_store::federation::{CrossCase, CrossStep, NewCross};

/// A material the receiving window took (already uploaded to this member's file store).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CrossMaterialInput {
    pub name: String,
    pub sha256: String,
    #[serde(default)]
    pub original_checked: bool,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CrossApplicantInput {
    #[serde(default)]
    pub kind: String,
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub mobile: String,
}

/// What the receiving window records for an item another member owns.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct CrossInput {
    /// The member owning the item.
    pub owner: String,
    /// The owner's 实施编码.
    pub impl_code: String,
    pub applicant: CrossApplicantInput,
    /// Identity checked in person against the certificate.
    #[serde(default)]
    pub identity_checked: bool,
    /// What the clerk saw.
    #[serde(default)]
    pub seen: String,
    #[serde(default)]
    pub materials: Vec<CrossMaterialInput>,
    /// The S10 waybill of the parcel carrying the originals.
    #[serde(default)]
    pub waybill: String,
}

/// A receipt with the timeline both members hold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CrossView {
    #[serde(flatten)]
    pub case: CrossCase,
    pub applicant_masked: String,
    pub timeline: Vec<CrossStep>,
}

/// The first two steps, built from the signed receipt alone: both members derive the same.
fn receipt_steps(r: &CrossReceipt) -> Vec<CrossStep> {
    let originals = r.materials.iter().filter(|m| m.original_checked).count();
    let mut seen = format!(
        "身份已当面核验；材料 {} 份，核验原件 {originals} 份",
        r.materials.len()
    );
    if !r.seen.trim().is_empty() {
        seen.push('；');
        seen.push_str(r.seen.trim());
    }
    let mut forwarded = format!("收件凭证与材料已签名转送 {}", r.owner);
    if !r.waybill.is_empty() {
        forwarded.push_str(&format!("；原件寄递运单 {}", r.waybill));
    }
    vec![
        CrossStep {
            step: 1,
            at: r.timestamp.clone(),
            member: r.from.clone(),
            what: "代收窗口收件".into(),
            detail: seen,
        },
        CrossStep {
            step: 2,
            at: r.timestamp.clone(),
            member: r.from.clone(),
            what: "转送事项所属地".into(),
            detail: forwarded,
        },
    ]
}

fn status_step(s: &CrossStatus) -> CrossStep {
    let (what, detail) = if s.status == "accepted" {
        (
            "所属地接收".to_string(),
            format!("生成办件 {}，受理之日起算法定办结时限", s.case_no),
        )
    } else {
        ("所属地不予接收".to_string(), s.reasons.clone())
    };
    CrossStep {
        step: 3,
        at: s.timestamp.clone(),
        member: s.from.clone(),
        what,
        detail,
    }
}

fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

async fn view_of(app: &App, c: CrossCase) -> Result<CrossView> {
    let timeline = app.store.cross_timeline(&c.receipt_id).await?;
    Ok(CrossView {
        applicant_masked: format!("{}（{}）", c.applicant_name, mask_id(&c.id_number)),
        case: c,
        timeline,
    })
}

/// The receiving window: checks identity and materials, signs the receipt attestation and
/// sends it with the materials to the owner. Nothing is stored unless the owner took it.
pub async fn receive_for_owner(app: &App, user: &User, input: &CrossInput) -> Result<CrossView> {
    authz::require_scope(app, user, Capability::ReceiveAtWindow).await?;
    let me = self_member(app).await?;
    let owner = ex_rules::parse_member_code(&input.owner).map_err(Error::invalid)?;
    if owner == me.code {
        return Err(Error::invalid("本地事项请直接在窗口受理，不必跨域代收"));
    }
    let Some(peer) = app.store.peer(&owner).await? else {
        return Err(refusal(
            ErrorKind::Forbidden,
            "untrusted",
            format!("成员 {owner} 未登记为受信成员"),
        ));
    };
    let mut materials = Vec::new();
    let mut total = 0usize;
    for m in &input.materials {
        let bytes = app
            .objects
            .get(m.sha256.trim())
            .await
            .map_err(|_| Error::invalid(format!("材料「{}」的文件未上传", m.name)))?;
        total += bytes.len();
        if total > rules::MAX_CROSS_MATERIAL_BYTES {
            return Err(Error::new(
                ErrorKind::TooLarge,
                "too_large",
                "跨域转送的材料合计不超过3MB，其余请寄递原件",
            ));
        }
        materials.push(SeenMaterial {
            name: m.name.trim().to_string(),
            sha256: m.sha256.trim().to_string(),
            original_checked: m.original_checked,
            content: base64::engine::general_purpose::STANDARD.encode(&bytes),
        });
    }
    let receipt = CrossReceipt {
        kind: rules::CROSS_RECEIPT_TYPE.into(),
        from: me.code.clone(),
        timestamp: now_secs(app),
        receipt_id: format!("{}-{}", me.code, uuid_like()),
        owner: owner.clone(),
        impl_code: input.impl_code.trim().to_string(),
        applicant: CrossApplicant {
            kind: if input.applicant.kind == "enterprise" {
                "enterprise".into()
            } else {
                "person".into()
            },
            name: input.applicant.name.trim().to_string(),
            id_number: input.applicant.id_number.trim().to_string(),
            mobile: input.applicant.mobile.trim().to_string(),
        },
        identity_checked: input.identity_checked,
        seen: input.seen.trim().to_string(),
        materials,
        waybill: input.waybill.trim().to_string(),
        clerk: user.display_name.clone(),
    };
    receipt.validate().map_err(Error::invalid)?;
    let signed_msg = signed(
        app,
        &serde_json::to_value(&receipt).map_err(Error::internal)?,
    )
    .await?;
    let url = format!(
        "{}{}",
        peer.endpoint.trim_end_matches('/'),
        rules::CROSS_RECEIPT_PATH
    );
    if let Err((status, body)) = post_signed(&url, &signed_msg).await {
        let msg = body.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(if status == 0 {
            Error::new(
                ErrorKind::Unavailable,
                "unavailable",
                format!("事项所属成员无法连接：{msg}"),
            )
        } else {
            refusal(
                ErrorKind::Refused,
                "owner_refused",
                format!("事项所属成员拒收：{msg}"),
            )
        });
    }
    // Keep the attestation without the file contents (the owner holds the files).
    let mut kept = signed_msg.clone();
    if let Some(ms) = kept.get_mut("materials").and_then(Value::as_array_mut) {
        for m in ms {
            m["content"] = json!("");
        }
    }
    app.store
        .record_cross(
            &NewCross {
                receipt_id: &receipt.receipt_id,
                role: "receiver",
                receiver: &me.code,
                owner: &owner,
                impl_code: &receipt.impl_code,
                applicant_name: &receipt.applicant.name,
                id_number: &receipt.applicant.id_number,
                attestation: &kept.to_string(),
                status: "forwarded",
                waybill: &receipt.waybill,
            },
            &receipt_steps(&receipt),
            app.now(),
        )
        .await?;
    app.store
        .record_audit(
            app.now(),
            &user.username,
            "federation.cross.receive",
            &receipt.receipt_id,
        )
        .await?;
    cross_view_unchecked(app, &receipt.receipt_id).await
}

async fn cross_view_unchecked(app: &App, receipt_id: &str) -> Result<CrossView> {
    let c = app
        .store
        .cross_case(receipt_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("未找到跨域收件：{receipt_id}")))?;
    view_of(app, c).await
}

fn uuid_like() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The owner takes a signed receipt attestation: the receiver is trusted, the item is ours,
/// each file matches its digest. The files go to this member's store; a retried message
/// changes nothing.
pub async fn take_receipt(app: &App, msg: &Value) -> Result<Value> {
    let (r, from): (CrossReceipt, String) =
        authenticate(app, msg, rules::CROSS_RECEIPT_TYPE).await?;
    let me = self_member(app).await?;
    if r.owner != me.code {
        return Err(Error::invalid(format!(
            "本成员为 {}，不是 {}",
            me.code, r.owner
        )));
    }
    r.validate().map_err(Error::invalid)?;
    if !r.receipt_id.starts_with(&format!("{from}-")) {
        return Err(Error::invalid("收件凭证编号应以代收成员代码开头"));
    }
    let view = app.catalog().await?;
    if view.get(&r.impl_code).is_none() {
        return Err(Error::not_found(format!("本成员没有事项 {}", r.impl_code)));
    }
    let mut decoded = Vec::new();
    for m in &r.materials {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&m.content)
            .map_err(|_| Error::invalid(format!("材料「{}」的内容不合规", m.name)))?;
        use sha2::Digest;
        if hex::encode(sha2::Sha256::digest(&bytes)) != m.sha256 {
            return Err(Error::invalid(format!("材料「{}」与其摘要不符", m.name)));
        }
        decoded.push(bytes);
    }
    for b in &decoded {
        app.objects.put(b).await.map_err(Error::internal)?;
    }
    let mut kept = msg.clone();
    if let Some(ms) = kept.get_mut("materials").and_then(Value::as_array_mut) {
        for m in ms {
            m["content"] = json!("");
        }
    }
    let new = app
        .store
        .record_cross(
            &NewCross {
                receipt_id: &r.receipt_id,
                role: "owner",
                receiver: &from,
                owner: &me.code,
                impl_code: &r.impl_code,
                applicant_name: &r.applicant.name,
                id_number: &r.applicant.id_number,
                attestation: &kept.to_string(),
                status: "received",
                waybill: &r.waybill,
            },
            &receipt_steps(&r),
            app.now(),
        )
        .await?;
    Ok(json!({"receipt_id": r.receipt_id, "status": "received", "new": new}))
}

/// The owner accepts (a case is opened at its window: its own 受理 starts the legal clock)
/// or refuses with reasons; the receiver is told with a signed answer.
pub async fn decide_receipt(
    app: &App,
    user: &User,
    receipt_id: &str,
    accept: bool,
    reasons: &str,
) -> Result<CrossView> {
    authz::require_scope(app, user, Capability::ReceiveAtWindow).await?;
    let c = app
        .store
        .cross_case(receipt_id)
        .await?
        .filter(|c| c.role == "owner")
        .ok_or_else(|| Error::not_found(format!("未找到转来的跨域收件：{receipt_id}")))?;
    if c.status != "received" {
        return Err(Error::conflict(format!("跨域收件 {receipt_id} 已处理")));
    }
    let reasons = reasons.trim();
    if !accept && reasons.is_empty() {
        return Err(Error::invalid("不予接收须说明理由"));
    }
    if reasons.chars().count() > 500 {
        return Err(Error::invalid("理由不超过500字"));
    }
    let me = self_member(app).await?;
    let attestation: Value = app
        .store
        .cross_attestation(receipt_id)
        .await?
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| Error::internal("receipt without attestation"))?;
    let r: CrossReceipt =
        serde_json::from_value(ex_rules::payload_of(&attestation)).map_err(Error::internal)?;
    let case_no = if accept {
        let applicant = crate::applicants::find_or_register(
            app,
            &crate::applicants::ApplicantDetails {
                kind: r.applicant.kind.clone(),
                name: r.applicant.name.clone(),
                id_number: r.applicant.id_number.clone(),
                mobile: r.applicant.mobile.clone(),
                legal_rep: String::new(),
            },
        )
        .await?;
        // The files came with the attestation; the deciding clerk files them, as if uploaded
        // at this window (so the case may cite them).
        for m in &r.materials {
            let bytes = app.objects.get(&m.sha256).await.map_err(Error::internal)?;
            let media = if bytes.starts_with(b"%PDF") {
                "application/pdf"
            } else if bytes.starts_with(b"\x89PNG") {
                "image/png"
            } else if bytes.starts_with(b"\xFF\xD8") {
                "image/jpeg"
            } else {
                "application/octet-stream"
            };
            app.store
                .record_upload(&m.sha256, bytes.len(), media, user.id, app.now())
                .await?;
        }
        let materials = r
            .materials
            .iter()
            .map(|m| tongban_core::case::MaterialRef {
                name: m.name.clone(),
                sha256: Some(m.sha256.clone()),
                file_name: None,
                licence_id: None,
                trust: Some(if m.original_checked { 'B' } else { 'C' }),
            })
            .collect();
        let (rec, _) = crate::cases::submit(
            app,
            user,
            crate::cases::Submission {
                impl_code: &r.impl_code,
                applicant: &applicant,
                channel: tongban_core::case::Channel::Window,
                delivery: tongban_core::case::Delivery::Window,
                materials,
                idem_key: Some(receipt_id),
                details: serde_json::Map::new(),
            },
        )
        .await?;
        rec.case_no
    } else {
        String::new()
    };
    let status = CrossStatus {
        kind: rules::CROSS_STATUS_TYPE.into(),
        from: me.code.clone(),
        timestamp: now_secs(app),
        receipt_id: receipt_id.to_string(),
        status: if accept { "accepted" } else { "refused" }.into(),
        case_no: case_no.clone(),
        reasons: reasons.to_string(),
    };
    app.store
        .settle_cross(
            receipt_id,
            &status.status,
            &case_no,
            reasons,
            &status_step(&status),
        )
        .await?;
    app.store
        .record_audit(
            app.now(),
            &user.username,
            "federation.cross.decide",
            &format!("{receipt_id} {}", status.status),
        )
        .await?;
    // Tell the receiving member; if it cannot be reached the decision stands here and the
    // receiver's window sees it when it asks again (known gap: no retry queue yet).
    let signed_msg = signed(
        app,
        &serde_json::to_value(&status).map_err(Error::internal)?,
    )
    .await?;
    if let Some(peer) = app.store.peer(&c.receiver).await? {
        let url = format!(
            "{}{}",
            peer.endpoint.trim_end_matches('/'),
            rules::CROSS_STATUS_PATH
        );
        if let Err((code, body)) = post_signed(&url, &signed_msg).await {
            tracing::warn!(receipt = receipt_id, code, %body, "the receiving member was not told");
        }
    }
    cross_view_unchecked(app, receipt_id).await
}

/// The receiver takes the owner's signed answer and appends it to its timeline.
pub async fn take_status(app: &App, msg: &Value) -> Result<Value> {
    let (s, from): (CrossStatus, String) = authenticate(app, msg, rules::CROSS_STATUS_TYPE).await?;
    let c = app
        .store
        .cross_case(&s.receipt_id)
        .await?
        .filter(|c| c.role == "receiver" && c.owner == from)
        .ok_or_else(|| Error::not_found(format!("未找到跨域收件：{}", s.receipt_id)))?;
    if !matches!(s.status.as_str(), "accepted" | "refused") || s.case_no.len() > 64 {
        return Err(Error::invalid("答复状态应为 accepted 或 refused"));
    }
    let changed = app
        .store
        .settle_cross(
            &c.receipt_id,
            &s.status,
            &s.case_no,
            &s.reasons,
            &status_step(&s),
        )
        .await?;
    Ok(json!({"receipt_id": c.receipt_id, "status": s.status, "changed": changed}))
}

/// The receipt and its one timeline, on either member: window staff, or the applicant it is
/// for (others: 404).
pub async fn cross_view(app: &App, user: &User, receipt_id: &str) -> Result<CrossView> {
    let c = app
        .store
        .cross_case(receipt_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("未找到跨域收件：{receipt_id}")))?;
    if !tongban_core::capability::holds(user.role, Capability::ReceiveAtWindow) {
        let mine = app
            .store
            .applicant_of_user(user.id)
            .await?
            .is_some_and(|a| a.id_number == c.id_number);
        if !mine {
            return Err(Error::not_found(format!("未找到跨域收件：{receipt_id}")));
        }
    }
    view_of(app, c).await
}

// ---- simulated members (the federation benchmark) ---------------------------------------------

/// A member that exists only in memory: its keys and document, and the signing of its
/// messages. The benchmark plays ten cities with these against one province node.
pub struct SimulatedMember {
    pub document: ex_rules::MemberDocument,
    ed: ed25519_dalek::SigningKey,
    sm2: [u8; 32],
}

impl SimulatedMember {
    pub fn new(code: &str, name: &str) -> Result<SimulatedMember> {
        use rand::RngCore;
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let ed = ed25519_dalek::SigningKey::from_bytes(&seed);
        let mut sm2 = [0u8; 32];
        let public_sm2 = loop {
            rand::rngs::OsRng.fill_bytes(&mut sm2);
            if let Ok(p) = tongban_core::licence::proof::sm2_public(&sm2) {
                break p;
            }
        };
        let document = ex_rules::MemberDocument {
            code: code.to_string(),
            name: name.to_string(),
            endpoint: String::new(),
            keys: vec![
                ex_rules::MemberKey {
                    id: "ed-1".into(),
                    algorithm: "Ed25519".into(),
                    public_key: tongban_core::licence::proof::ed25519_multikey(
                        &ed.verifying_key().to_bytes(),
                    ),
                },
                ex_rules::MemberKey {
                    id: "sm2-1".into(),
                    algorithm: "SM2".into(),
                    public_key: hex::encode(public_sm2),
                },
            ],
        };
        document.validate().map_err(Error::internal)?;
        Ok(SimulatedMember { document, ed, sm2 })
    }

    /// A signed batch of `events` for the receiving member.
    pub fn events_message(&self, events: Vec<rules::ReportedEvent>) -> Result<Value> {
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let msg = EventsMessage {
            kind: rules::EVENTS_TYPE.into(),
            from: self.document.code.clone(),
            timestamp: created.clone(),
            events,
        };
        let payload = serde_json::to_value(&msg).map_err(Error::internal)?;
        ex_rules::sign_message(
            &payload,
            &self.document.code,
            ("ed-1", &self.ed),
            ("sm2-1", &self.sm2),
            &created,
        )
        .map_err(Error::internal)
    }
}
