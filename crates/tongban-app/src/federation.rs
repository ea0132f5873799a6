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
    self as rules, CheckpointMessage, Difference, EventsMessage, LinkCheckpoint, LocalItem,
    StandardItem,
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

/// The ledger's checkpoint now: {size, root, signature}. The root is recomputed from the
/// stored event bytes; the signed checkpoint of the ledger is attached when it agrees (so a
/// ledger edited behind the server's back reports the root it really has).
async fn ledger_checkpoint(app: &App) -> Result<LinkCheckpoint> {
    let signed_cp = app.store.checkpoint(app.now()).await?;
    let report = app.store.verify_ledger().await?;
    if signed_cp.size == report.size && signed_cp.root == report.root {
        return Ok(LinkCheckpoint {
            size: signed_cp.size,
            root: signed_cp.root,
            signature: signed_cp.signature,
            origin: signed_cp.origin,
            time: signed_cp.time,
            key_id: signed_cp.key_id,
        });
    }
    Ok(LinkCheckpoint {
        size: report.size,
        root: report.root,
        signature: String::new(),
        origin: tongban_store::ledger::ORIGIN.to_string(),
        time: app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        key_id: String::new(),
    })
}

/// The ledger's consistency proof between two sizes (hex hashes).
async fn ledger_consistency(app: &App, from: u64, to: u64) -> Result<Vec<String>> {
    if from == 0 || from == to {
        return Ok(vec![]);
    }
    Ok(app.store.consistency_proof(from, to).await?.proof)
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
        let msg = CheckpointMessage {
            kind: rules::CHECKPOINT_TYPE.into(),
            from: me.to_string(),
            timestamp: now_secs(app),
            checkpoint: cp.clone(),
            from_size: from,
            proof: ledger_consistency(app, from, cp.size).await?,
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
/// 1, 2, 4 … seconds up to `backoff_cap` (one attempt per wait, the outbox kept in order).
pub fn spawn_worker(app: App, settings: LinkSettings) {
    tokio::spawn(async move {
        let mut st = SendState::default();
        loop {
            let wait = if st.failures == 0 {
                settings.poll
            } else {
                rules::backoff(st.failures, settings.backoff_cap)
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
    if m.proof.len() > 128 {
        return Err(Error::invalid("一致性证明过长"));
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
            kept.as_ref().map(|k| (k.size, k.root.as_str())),
            &m.checkpoint,
            &m.proof,
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
