//! The province link, pure: which case events a city reports upward (办件数据上报), the
//! identity of a reported event, the messages the link carries over the exchange's signed
//! layer ([`crate::exchange::sign_message`]), the reconciliation digest both sides compute
//! over the events they hold, the check a province makes of a city's new ledger checkpoint
//! against the last one it kept, and the comparison of the local catalog with the
//! provincial standard item list (四级四同).

use crate::merkle::{self, Hash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The route the receiving member takes reported events on.
pub const EVENTS_PATH: &str = "/api/v1/federation/events";
/// The route the receiving member takes ledger checkpoints on.
pub const CHECKPOINTS_PATH: &str = "/api/v1/federation/checkpoints";
/// Message types (the `type` of a signed payload), so one kind of message can never be
/// replayed as another.
pub const EVENTS_TYPE: &str = "tongban.federation.events/v1";
pub const CHECKPOINT_TYPE: &str = "tongban.federation.checkpoint/v1";
/// At most this many events go in one message.
pub const MAX_BATCH: usize = 500;

/// The case events reported upward: 申办, 受理 (and 不予受理, 容缺受理), 补正告知 and 补正
/// (受理), 特别程序, each approval step, 延长, 办结, 撤件/作废, 送达, and the ratings. Internal
/// bookkeeping (督办, 证照, recomputed deadlines, data-sharing consent) stays local.
pub fn reported(kind: &str) -> bool {
    matches!(
        kind,
        "submitted"
            | "accepted"
            | "not_accepted"
            | "shortfall_tolerated"
            | "correction_requested"
            | "correction_submitted"
            | "correction_expired"
            | "special_started"
            | "special_ended"
            | "step_passed"
            | "step_returned"
            | "extended"
            | "completed"
            | "withdrawn"
            | "voided"
            | "delivery_registered"
            | "receipt_confirmed"
            | "rated"
    )
}

/// A reported event's identity: the 办件编号 (which carries the city's 行政区划代码) and the
/// case version the event produced. Unique across a province, stable across retries: the
/// receiver dedupes on it.
pub fn event_id(case_no: &str, case_version: i64) -> String {
    format!("{case_no}#{case_version}")
}

/// One reported event as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedEvent {
    pub event_id: String,
    pub case_no: String,
    pub case_version: i64,
    pub kind: String,
    pub at: String,
    /// The event as the city's ledger holds it.
    pub event: serde_json::Value,
}

impl ReportedEvent {
    pub fn validate(&self) -> Result<(), String> {
        if self.case_no.trim().is_empty() || self.case_no.len() > 64 {
            return Err("办件编号不合规".into());
        }
        if self.case_version < 1 {
            return Err(format!("办件 {} 的版本号不合规", self.case_no));
        }
        if self.event_id != event_id(&self.case_no, self.case_version) {
            return Err(format!("事件编号与办件不符：{}", self.event_id));
        }
        if self.kind.is_empty() || self.kind.len() > 64 || self.at.len() > 64 {
            return Err("事件类型或时间不合规".into());
        }
        Ok(())
    }
}

/// A batch of events, in the order the city wrote them (so in order per case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub from: String,
    pub timestamp: String,
    pub events: Vec<ReportedEvent>,
}

/// A signed ledger checkpoint as the link carries it: {size, root, signature} and what the
/// signature covers (origin, time, key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCheckpoint {
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    pub signature: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub key_id: String,
    /// A partitioned ledger's partition heads, in partition order (ADR 0010); `root` is
    /// [`merkle::combined_root`] over them and `size` their sum. Empty (and absent from the
    /// JSON) for a one-partition ledger, whose messages stay as they were.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<LinkHead>,
}

/// One partition's head in a [`LinkCheckpoint`]: number, size, RFC 6962 root (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHead {
    pub partition: u32,
    pub size: u64,
    pub root: String,
}

/// One partition's RFC 6962 consistency proof from its size in the kept checkpoint to its
/// size in the new one (hex hashes; empty when the partition was empty or did not grow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionProof {
    pub partition: u32,
    pub proof: Vec<String>,
}

/// At most this many partitions in a checkpoint (ADR 0010: 1–1024).
pub const MAX_PARTITIONS: usize = 1024;

/// A new checkpoint with the consistency proof from the size the receiver last kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub from: String,
    pub timestamp: String,
    pub checkpoint: LinkCheckpoint,
    /// The size of the checkpoint the receiver holds (0: none yet).
    pub from_size: u64,
    /// RFC 6962 consistency proof from `from_size` to `checkpoint.size`, hex hashes.
    #[serde(default)]
    pub proof: Vec<String>,
    /// For a partitioned ledger: one proof per partition (`proof` is then empty). Absent
    /// for a one-partition ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_proofs: Vec<PartitionProof>,
}

fn decode(h: &str) -> Option<Hash> {
    hex::decode(h).ok()?.try_into().ok()
}

/// The checkpoint the receiver kept for a member, as [`extends`] checks against it: size,
/// root (hex) and, for a partitioned ledger, its partition heads.
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a> {
    pub size: u64,
    pub root: &'a str,
    pub partitions: &'a [LinkHead],
}

/// The heads decoded, when they are partitions 0..n in order and the root and size a
/// checkpoint signs are theirs.
fn checked_heads(heads: &[LinkHead], size: u64, root: &Hash) -> Option<Vec<(u32, u64, Hash)>> {
    if heads.len() > MAX_PARTITIONS {
        return None;
    }
    let decoded: Vec<(u32, u64, Hash)> = heads
        .iter()
        .map(|h| Some((h.partition, h.size, decode(&h.root)?)))
        .collect::<Option<_>>()?;
    let in_order = decoded.iter().enumerate().all(|(i, h)| h.0 as usize == i);
    let total = decoded.iter().try_fold(0u64, |t, h| t.checked_add(h.1))?;
    (in_order && total == size && &merkle::combined_root(&decoded) == root).then_some(decoded)
}

/// Whether `new` extends `kept` (the last checkpoint the receiver holds): the same tree
/// grown by appends only (RFC 6962 §2.1.2). The first checkpoint of a member has nothing to
/// be checked against; a smaller one means the history was cut.
///
/// A partitioned ledger's checkpoint (ADR 0010) lists its partition heads: its root must be
/// the tree over them, the partition count must be the kept one's, and every partition
/// must extend its kept head — by its proof in `partition_proofs`, trivially when it was
/// empty or did not grow (then with the same root); a partition that shrank does not.
pub fn extends(
    kept: Option<Kept<'_>>,
    new: &LinkCheckpoint,
    proof: &[String],
    partition_proofs: &[PartitionProof],
) -> bool {
    let Some(new_root) = decode(&new.root) else {
        return false;
    };
    let new_heads = if new.partitions.is_empty() {
        None
    } else {
        match checked_heads(&new.partitions, new.size, &new_root) {
            Some(h) => Some(h),
            None => return false,
        }
    };
    let Some(kept) = kept else {
        return true;
    };
    let Some(old_root) = decode(kept.root) else {
        return false;
    };
    if kept.size == 0 {
        return true;
    }
    let hashes = |v: &[String]| v.iter().map(|p| decode(p)).collect::<Option<Vec<_>>>();
    match (new_heads, kept.partitions.is_empty()) {
        (None, true) => {
            let Some(proof) = hashes(proof) else {
                return false;
            };
            merkle::verify_consistency(kept.size, new.size, &old_root, &new_root, &proof)
        }
        // One tree became several or several one: the partition count changed.
        (None, false) | (Some(_), true) => false,
        (Some(new_heads), false) => {
            let Some(old_heads) = checked_heads(kept.partitions, kept.size, &old_root) else {
                return false;
            };
            if old_heads.len() != new_heads.len() {
                return false;
            }
            old_heads.iter().zip(&new_heads).all(|(o, n)| {
                let (part, (from, old), (to, new)) = (o.0, (o.1, o.2), (n.1, n.2));
                if from > to {
                    return false;
                }
                if from == 0 {
                    return old == merkle::empty_root();
                }
                if from == to {
                    return old == new;
                }
                let Some(p) = partition_proofs.iter().find(|p| p.partition == part) else {
                    return false;
                };
                let Some(p) = hashes(&p.proof) else {
                    return false;
                };
                merkle::verify_consistency(from, to, &old, &new, &p)
            })
        }
    }
}

/// The reconciliation digest of a set of event ids: SHA-256 over the ids sorted, one a
/// line. Two members holding the same events compute the same digest.
pub fn digest<S: AsRef<str>>(ids: &[S]) -> String {
    let mut sorted: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    for id in sorted {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The wait before the next delivery attempt after `failures` failures in a row: 1, 2, 4 …
/// seconds, at most `cap` — a province down for a day is tried every `cap`, not flooded
/// when it returns (the outbox is then sent in batches, in order).
pub fn backoff(failures: u32, cap: std::time::Duration) -> std::time::Duration {
    if failures == 0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::from_secs(1u64 << (failures - 1).min(20)).min(cap)
}

/// One item of the provincial standard list (the catalog's import format, the fields that
/// must agree: 四级四同 — same name, code, basis and limits at every level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardItem {
    /// 基本编码: the key every level shares.
    pub code: String,
    pub name: String,
    pub legal_basis: String,
    pub legal_limit: i64,
    /// The unit of both limits as the catalog writes it (工作日, 自然日 …).
    #[serde(default)]
    pub unit: String,
    pub promised_limit: i64,
}

/// A local item as compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalItem {
    /// 基本编码.
    pub code: String,
    /// 实施编码.
    pub impl_code: String,
    pub name: String,
    pub legal_basis: String,
    pub legal_limit: i64,
    pub unit: String,
    pub promised_limit: i64,
}

/// One difference between the local catalog and the provincial list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub code: String,
    /// The local 实施编码 (empty for an item the city lacks).
    pub impl_code: String,
    pub name: String,
    /// `missing_locally`, `not_in_standard`, `name`, `legal_basis`, `legal_limit`,
    /// `promised_limit`.
    pub field: &'static str,
    pub label: &'static str,
    pub standard: String,
    pub local: String,
}

/// Compares the local catalog with the provincial standard list, item by item (matched by
/// code): every item of the list the city lacks, every local item the list lacks, and every
/// field that differs. A local promised limit shorter than the standard one is allowed (a
/// city may promise faster); a longer one is a difference.
pub fn compare(standard: &[StandardItem], local: &[LocalItem]) -> Vec<Difference> {
    let mut out = Vec::new();
    let diff =
        |code: &str, impl_code: &str, name: &str, field, label, s: String, l: String| Difference {
            code: code.to_string(),
            impl_code: impl_code.to_string(),
            name: name.to_string(),
            field,
            label,
            standard: s,
            local: l,
        };
    for s in standard {
        let mine: Vec<&LocalItem> = local.iter().filter(|l| l.code == s.code).collect();
        if mine.is_empty() {
            out.push(diff(
                &s.code,
                "",
                &s.name,
                "missing_locally",
                "本地未实施",
                s.name.clone(),
                String::new(),
            ));
        }
        for l in mine {
            let d = |field, label, a: String, b: String| {
                diff(&s.code, &l.impl_code, &s.name, field, label, a, b)
            };
            if l.name.trim() != s.name.trim() {
                out.push(d("name", "事项名称不一致", s.name.clone(), l.name.clone()));
            }
            if l.legal_basis.trim() != s.legal_basis.trim() {
                out.push(d(
                    "legal_basis",
                    "设定依据不一致",
                    s.legal_basis.clone(),
                    l.legal_basis.clone(),
                ));
            }
            let same_unit = s.unit.is_empty() || s.unit == l.unit;
            if l.legal_limit != s.legal_limit || !same_unit {
                out.push(d(
                    "legal_limit",
                    "法定办结时限不一致",
                    format!("{}{}", s.legal_limit, s.unit),
                    format!("{}{}", l.legal_limit, l.unit),
                ));
            }
            if l.promised_limit > s.promised_limit || !same_unit {
                out.push(d(
                    "promised_limit",
                    "承诺办结时限长于省级标准",
                    format!("{}{}", s.promised_limit, s.unit),
                    format!("{}{}", l.promised_limit, l.unit),
                ));
            }
        }
    }
    for l in local {
        if !standard.iter().any(|s| s.code == l.code) {
            out.push(diff(
                &l.code,
                &l.impl_code,
                &l.name,
                "not_in_standard",
                "省级目录无此事项",
                String::new(),
                l.name.clone(),
            ));
        }
    }
    out
}

/// 跨域通办: the route the owner takes a receipt attestation on, and the route the receiver
/// takes the owner's answer on.
pub const CROSS_RECEIPT_PATH: &str = "/api/v1/federation/cross/receive";
pub const CROSS_STATUS_PATH: &str = "/api/v1/federation/cross/status";
pub const CROSS_RECEIPT_TYPE: &str = "tongban.federation.cross-receipt/v1";
pub const CROSS_STATUS_TYPE: &str = "tongban.federation.cross-status/v1";
/// Materials travel inside the attestation: at most this many bytes in all.
pub const MAX_CROSS_MATERIAL_BYTES: usize = 3 * 1024 * 1024;

/// A material as the receiving window saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenMaterial {
    pub name: String,
    pub sha256: String,
    /// Whether the clerk checked the original (核验原件).
    pub original_checked: bool,
    /// The file, base64.
    #[serde(default)]
    pub content: String,
}

/// The applicant as identified at the receiving window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossApplicant {
    /// `person` or `enterprise`.
    pub kind: String,
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub mobile: String,
}

/// The receiving window's signed attestation (收件凭证): who received what for whom, what was
/// checked, and the parcel carrying the originals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossReceipt {
    #[serde(rename = "type")]
    pub kind: String,
    pub from: String,
    pub timestamp: String,
    pub receipt_id: String,
    pub owner: String,
    pub impl_code: String,
    pub applicant: CrossApplicant,
    /// Identity checked in person against the certificate (身份核验).
    pub identity_checked: bool,
    /// What the clerk saw, in their words.
    pub seen: String,
    pub materials: Vec<SeenMaterial>,
    /// The S10 waybill of the parcel with the originals, if any.
    #[serde(default)]
    pub waybill: String,
    pub clerk: String,
}

impl CrossReceipt {
    pub fn validate(&self) -> Result<(), String> {
        crate::exchange::parse_member_code(&self.owner)?;
        if self.receipt_id.is_empty()
            || self.receipt_id.len() > 64
            || !self
                .receipt_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("收件凭证编号不合规".into());
        }
        if self.impl_code.trim().is_empty() || self.impl_code.len() > 64 {
            return Err("请写明事项实施编码".into());
        }
        if self.applicant.name.trim().is_empty() || self.applicant.id_number.trim().is_empty() {
            return Err("请写明申请人姓名和证件号码".into());
        }
        if !self.identity_checked {
            return Err("代收窗口须当面核验申请人身份".into());
        }
        if self.seen.chars().count() > 1000 || self.clerk.chars().count() > 64 {
            return Err("收件说明不超过1000字".into());
        }
        if self.materials.len() > 50 {
            return Err("材料不超过50项".into());
        }
        if !self.waybill.is_empty() {
            crate::s10::Waybill::parse(&self.waybill).map_err(|e| format!("运单号不合规：{e}"))?;
        }
        for m in &self.materials {
            if m.name.trim().is_empty() || m.name.chars().count() > 200 {
                return Err("材料名称不合规".into());
            }
            if m.sha256.len() != 64 || hex::decode(&m.sha256).is_err() {
                return Err(format!("材料「{}」的摘要不合规", m.name));
            }
        }
        Ok(())
    }
}

/// The owner's answer: accepted (with its case number; its own 受理 starts the legal clock)
/// or refused with reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossStatus {
    #[serde(rename = "type")]
    pub kind: String,
    pub from: String,
    pub timestamp: String,
    pub receipt_id: String,
    /// `accepted` or `refused`.
    pub status: String,
    #[serde(default)]
    pub case_no: String,
    #[serde(default)]
    pub reasons: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_case_milestones_and_ratings_are_reported() {
        for k in [
            "submitted",
            "accepted",
            "correction_requested",
            "correction_submitted",
            "special_started",
            "step_passed",
            "completed",
            "delivery_registered",
            "rated",
        ] {
            assert!(reported(k), "{k}");
        }
        for k in [
            "supervision_ordered",
            "licence_issued",
            "deadlines_recomputed",
        ] {
            assert!(!reported(k), "{k}");
        }
    }

    #[test]
    fn an_event_id_must_match_its_case_and_version() {
        let mut e = ReportedEvent {
            event_id: event_id("431302202611290001", 2),
            case_no: "431302202611290001".into(),
            case_version: 2,
            kind: "accepted".into(),
            at: "2026-11-29T01:00:00Z".into(),
            event: serde_json::json!({}),
        };
        assert!(e.validate().is_ok());
        e.case_version = 3;
        assert!(e.validate().is_err());
    }

    #[test]
    fn the_digest_ignores_order_but_not_content() {
        assert_eq!(digest(&["a#1", "b#2"]), digest(&["b#2", "a#1"]));
        assert_ne!(digest(&["a#1", "b#2"]), digest(&["a#1"]));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let cap = std::time::Duration::from_secs(60);
        assert_eq!(backoff(0, cap).as_secs(), 0);
        assert_eq!(backoff(1, cap).as_secs(), 1);
        assert_eq!(backoff(4, cap).as_secs(), 8);
        assert_eq!(backoff(40, cap), cap);
    }

    fn cp(size: u64, root: &Hash) -> LinkCheckpoint {
        LinkCheckpoint {
            size,
            root: hex::encode(root),
            signature: String::new(),
            origin: String::new(),
            time: String::new(),
            key_id: String::new(),
            partitions: Vec::new(),
        }
    }

    fn kept<'a>(size: u64, root: &'a str) -> Option<Kept<'a>> {
        Some(Kept {
            size,
            root,
            partitions: &[],
        })
    }

    /// RFC 6962 §2.1.2: a tree grown by appends is consistent with its prefix; a rewritten
    /// prefix is not.
    #[test]
    fn a_checkpoint_must_extend_the_last_one_kept() {
        let leaves: Vec<Hash> = (0..7u8).map(|i| merkle::leaf_hash(&[i])).collect();
        let old = merkle::root(&leaves[..3]);
        let new = merkle::root(&leaves);
        let proof: Vec<String> = merkle::consistency_proof(3, &leaves)
            .unwrap()
            .iter()
            .map(hex::encode)
            .collect();
        let kept_root = hex::encode(old);
        assert!(extends(kept(3, &kept_root), &cp(7, &new), &proof, &[]));
        assert!(extends(None, &cp(7, &new), &[], &[]));
        // The first three events rewritten: the new tree no longer extends the old one.
        let mut rewritten = leaves.clone();
        rewritten[1] = merkle::leaf_hash(b"rewritten");
        let forged_root = merkle::root(&rewritten);
        let forged_proof: Vec<String> = merkle::consistency_proof(3, &rewritten)
            .unwrap()
            .iter()
            .map(hex::encode)
            .collect();
        assert!(!extends(
            kept(3, &kept_root),
            &cp(7, &forged_root),
            &forged_proof,
            &[]
        ));
        // A shorter history.
        assert!(!extends(kept(3, &kept_root), &cp(2, &old), &[], &[]));
    }

    /// A partitioned ledger as the tests grow it: the leaves of each partition.
    struct Parts(Vec<Vec<Hash>>);

    impl Parts {
        fn new(sizes: &[u8]) -> Parts {
            Parts(
                sizes
                    .iter()
                    .enumerate()
                    .map(|(p, &n)| (0..n).map(|i| merkle::leaf_hash(&[p as u8, i])).collect())
                    .collect(),
            )
        }

        /// The checkpoint over the first `sizes[p]` leaves of each partition.
        fn checkpoint(&self, sizes: &[usize]) -> LinkCheckpoint {
            let heads: Vec<(u32, u64, Hash)> = sizes
                .iter()
                .enumerate()
                .map(|(p, &n)| (p as u32, n as u64, merkle::root(&self.0[p][..n])))
                .collect();
            LinkCheckpoint {
                partitions: heads
                    .iter()
                    .map(|(p, s, r)| LinkHead {
                        partition: *p,
                        size: *s,
                        root: hex::encode(r),
                    })
                    .collect(),
                ..cp(
                    sizes.iter().sum::<usize>() as u64,
                    &merkle::combined_root(&heads),
                )
            }
        }

        /// Each partition's proof from `from[p]` to `to[p]` leaves.
        fn proofs(&self, from: &[usize], to: &[usize]) -> Vec<PartitionProof> {
            from.iter()
                .zip(to)
                .enumerate()
                .filter(|(_, (&a, &b))| a > 0 && a < b)
                .map(|(p, (&a, &b))| PartitionProof {
                    partition: p as u32,
                    proof: merkle::consistency_proof(a, &self.0[p][..b])
                        .unwrap()
                        .iter()
                        .map(hex::encode)
                        .collect(),
                })
                .collect()
        }
    }

    fn kept_of(c: &LinkCheckpoint) -> Option<Kept<'_>> {
        Some(Kept {
            size: c.size,
            root: &c.root,
            partitions: &c.partitions,
        })
    }

    /// ADR 0010: a partitioned checkpoint extends the kept one when every partition's
    /// tree extends its kept head (one empty before is fine; one that did not grow keeps
    /// its root).
    #[test]
    fn a_partitioned_checkpoint_extends_partition_by_partition() {
        let l = Parts::new(&[5, 3, 4, 6]);
        let (a, b) = ([3, 0, 4, 1], [5, 3, 4, 6]);
        let old = l.checkpoint(&a);
        let new = l.checkpoint(&b);
        let proofs = l.proofs(&a, &b);
        assert!(extends(kept_of(&old), &new, &[], &proofs));
        assert!(extends(None, &new, &[], &[]));
        // The same checkpoint again extends itself without any proof.
        assert!(extends(kept_of(&new), &new, &[], &[]));
        // A missing proof for a partition that grew proves nothing.
        assert!(!extends(kept_of(&old), &new, &[], &proofs[1..]));
        // Serialised with its heads; one-partition checkpoints and messages carry none.
        let text = serde_json::to_string(&new).unwrap();
        assert!(text.contains("\"partitions\""));
        assert!(!serde_json::to_string(&cp(7, &merkle::empty_root()))
            .unwrap()
            .contains("partitions"));
        assert_eq!(serde_json::from_str::<LinkCheckpoint>(&text).unwrap(), new);
    }

    #[test]
    fn a_rewritten_partition_does_not_extend() {
        let l = Parts::new(&[5, 3, 4, 6]);
        let (a, b) = ([3, 1, 4, 1], [5, 3, 4, 6]);
        let old = l.checkpoint(&a);
        // Partition 0's second event rewritten, its proof honest about the new tree.
        let mut rewritten = Parts(l.0.clone());
        rewritten.0[0][1] = merkle::leaf_hash(b"rewritten");
        let new = rewritten.checkpoint(&b);
        assert!(!extends(
            kept_of(&old),
            &new,
            &[],
            &rewritten.proofs(&a, &b)
        ));
        // Rewritten in a partition that did not grow: its root changed.
        let mut rewritten = Parts(l.0.clone());
        rewritten.0[2][0] = merkle::leaf_hash(b"rewritten");
        let new = rewritten.checkpoint(&b);
        assert!(!extends(
            kept_of(&old),
            &new,
            &[],
            &rewritten.proofs(&a, &b)
        ));
    }

    #[test]
    fn a_shrunk_partition_does_not_extend() {
        let l = Parts::new(&[5, 3, 4, 6]);
        let old = l.checkpoint(&[3, 2, 4, 1]);
        // Partition 1 lost an event while others grew more: the total still grows.
        let new = l.checkpoint(&[5, 1, 4, 6]);
        assert!(new.size > old.size);
        let proofs = l.proofs(&[3, 0, 4, 1], &[5, 1, 4, 6]);
        assert!(!extends(kept_of(&old), &new, &[], &proofs));
    }

    #[test]
    fn a_changed_partition_count_does_not_extend() {
        let l = Parts::new(&[5, 3, 4, 6, 2]);
        let old = l.checkpoint(&[3, 1, 4, 1]);
        let new = l.checkpoint(&[5, 3, 4, 6, 2]);
        let proofs = l.proofs(&[3, 1, 4, 1, 0], &[5, 3, 4, 6, 2]);
        assert!(!extends(kept_of(&old), &new, &[], &proofs));
        // One tree kept, a partitioned one now (and back).
        let single: Vec<Hash> = (0..3u8).map(|i| merkle::leaf_hash(&[i])).collect();
        let one = cp(3, &merkle::root(&single));
        assert!(!extends(kept_of(&one), &new, &[], &proofs));
        assert!(!extends(
            kept_of(&new),
            &cp(30, &merkle::empty_root()),
            &[],
            &[]
        ));
    }

    #[test]
    fn a_forged_combined_root_does_not_extend() {
        let l = Parts::new(&[5, 3, 4, 6]);
        let (a, b) = ([3, 1, 4, 1], [5, 3, 4, 6]);
        let old = l.checkpoint(&a);
        let proofs = l.proofs(&a, &b);
        // The signed root is not the tree over the listed heads.
        let mut new = l.checkpoint(&b);
        new.root = hex::encode(merkle::leaf_hash(b"forged"));
        assert!(!extends(kept_of(&old), &new, &[], &proofs));
        assert!(!extends(None, &new, &[], &[]));
        // The size is not the sum of the heads'.
        let mut new = l.checkpoint(&b);
        new.size += 1;
        assert!(!extends(kept_of(&old), &new, &[], &proofs));
        // Heads out of partition order.
        let mut new = l.checkpoint(&b);
        new.partitions.swap(0, 1);
        assert!(!extends(kept_of(&old), &new, &[], &proofs));
    }

    #[test]
    fn the_standard_list_differences_are_listed() {
        let s = vec![
            StandardItem {
                code: "A".into(),
                name: "食品经营许可".into(),
                legal_basis: "《食品安全法》第35条".into(),
                legal_limit: 20,
                unit: "工作日".into(),
                promised_limit: 10,
            },
            StandardItem {
                code: "B".into(),
                name: "药品零售许可".into(),
                legal_basis: "x".into(),
                legal_limit: 20,
                unit: "工作日".into(),
                promised_limit: 10,
            },
        ];
        let l = vec![
            LocalItem {
                code: "A".into(),
                impl_code: "A-1".into(),
                unit: "工作日".into(),
                name: "食品经营许可证核发".into(),
                legal_basis: "《食品安全法》第35条".into(),
                legal_limit: 20,
                promised_limit: 15,
            },
            LocalItem {
                code: "C".into(),
                impl_code: "C-1".into(),
                unit: "工作日".into(),
                name: "本地事项".into(),
                legal_basis: String::new(),
                legal_limit: 5,
                promised_limit: 5,
            },
        ];
        let found = compare(&s, &l);
        let d: Vec<(&str, &str)> = found.iter().map(|d| (d.field, d.code.as_str())).collect();
        assert_eq!(
            d,
            vec![
                ("name", "A"),
                ("promised_limit", "A"),
                ("missing_locally", "B"),
                ("not_in_standard", "C")
            ]
        );
    }
}
