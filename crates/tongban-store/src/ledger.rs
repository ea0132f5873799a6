//! Tamper evidence for the case ledger: the RFC 6962 Merkle tree over the exact entry
//! bytes, Ed25519-signed checkpoints, proofs, and a full re-verification.

use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tongban_core::merkle::{self, Hash};

/// The origin line of every checkpoint this platform signs.
pub const ORIGIN: &str = "tongban/ledger/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    pub time: String,
    pub key_id: String,
    /// Ed25519 signature (hex) over [`merkle::checkpoint_text`].
    pub signature: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerLeaf {
    pub index: u64,
    /// The exact leaf bytes (UTF-8 JSON text as stored).
    pub leaf: String,
    pub leaf_hash: String,
}

/// What `ledger verify` found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub enum LedgerProblem {
    /// An event's stored bytes or chain hash do not match: edited in place.
    Altered { seq: i64 },
    /// A sequence number is missing: an event was deleted.
    Missing { seq: i64 },
    /// An event's stored bytes say it belongs elsewhere in the sequence: reordered.
    OutOfOrder { seq: i64 },
    /// The recomputed tree does not match a signed checkpoint.
    CheckpointMismatch { size: u64, first_suspect: i64 },
    /// A checkpoint's signature does not verify.
    BadSignature { size: u64 },
    /// A signed checkpoint covers more events than the ledger holds: its tail was cut off.
    Truncated { size: u64, have: u64 },
}

impl std::fmt::Display for LedgerProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerProblem::Altered { seq } => write!(
                f,
                "event {seq} was altered (its bytes no longer match the hash chain)"
            ),
            LedgerProblem::Missing { seq } => write!(f, "event {seq} is missing (deleted)"),
            LedgerProblem::OutOfOrder { seq } => {
                write!(f, "event {seq} is out of order (reordered)")
            }
            LedgerProblem::CheckpointMismatch {
                size,
                first_suspect,
            } => {
                write!(f, "the first {size} events no longer match their signed checkpoint (first suspect: event {first_suspect})")
            }
            LedgerProblem::BadSignature { size } => {
                write!(f, "the checkpoint of size {size} has a bad signature")
            }
            LedgerProblem::Truncated { size, have } => write!(
                f,
                "the ledger was truncated: a signed checkpoint covers {size} events, only {have} remain (events {} to {size} are gone)",
                have + 1
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerReport {
    pub size: u64,
    pub root: String,
    pub checkpoints_checked: usize,
    pub problem: Option<LedgerProblem>,
}

fn decode_hash(s: &str) -> Option<Hash> {
    hex::decode(s).ok()?.try_into().ok()
}

pub fn verify_checkpoint_signature(c: &Checkpoint, public_hex: &str) -> bool {
    let Some(root) = decode_hash(&c.root) else {
        return false;
    };
    let Ok(pk_bytes) = hex::decode(public_hex) else {
        return false;
    };
    let Ok(pk_arr) = <[u8; 32]>::try_from(pk_bytes.as_slice()) else {
        return false;
    };
    let Ok(pk) = VerifyingKey::from_bytes(&pk_arr) else {
        return false;
    };
    let Ok(sig_bytes) = hex::decode(&c.signature) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig_bytes) else {
        return false;
    };
    pk.verify(
        merkle::checkpoint_text(&c.origin, c.size, &root, &c.time).as_bytes(),
        &sig,
    )
    .is_ok()
}

impl Store {
    /// Leaf bytes of events [start, end) (0-based indexes; leaf i is event seq i+1).
    pub async fn ledger_leaves(&self, start: u64, end: u64) -> Result<Vec<LedgerLeaf>> {
        let rows = crate::db::query(
            "SELECT seq, entry FROM ledger_events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(self.r())
        .await?;
        rows.iter()
            .map(|r| {
                let leaf = get_str(r, "entry")?;
                Ok(LedgerLeaf {
                    index: get_i64(r, "seq")? as u64 - 1,
                    leaf_hash: hex::encode(merkle::leaf_hash(leaf.as_bytes())),
                    leaf,
                })
            })
            .collect()
    }

    pub async fn ledger_size(&self) -> Result<u64> {
        Ok(get_i64(
            &crate::db::query("SELECT seq FROM ledger_head WHERE id = 1")
                .fetch_one(self.r())
                .await?,
            "seq",
        )? as u64)
    }

    /// Leaf hashes of the first `size` events, recomputed from the stored bytes.
    pub async fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>> {
        let rows = crate::db::query("SELECT entry FROM ledger_events WHERE seq <= $1 ORDER BY seq")
            .bind(size as i64)
            .fetch_all(self.r())
            .await?;
        let hashes: Vec<Hash> = rows
            .iter()
            .map(|r| get_str(r, "entry").map(|e| merkle::leaf_hash(e.as_bytes())))
            .collect::<Result<_>>()?;
        if hashes.len() as u64 != size {
            return Err(StoreError::Invalid(format!(
                "账本只有 {} 条记录，少于 {size}",
                hashes.len()
            )));
        }
        Ok(hashes)
    }

    /// The checkpoint signing key, created on first use.
    async fn signing_key(&self, now: DateTime<Utc>) -> Result<(String, SigningKey)> {
        let row = crate::db::query("SELECT id, secret_key FROM signing_keys WHERE purpose = 'ledger' AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(self.w())
            .await?;
        if let Some(r) = row {
            let secret: [u8; 32] = hex::decode(get_str(&r, "secret_key")?)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Internal("corrupt signing key".into()))?;
            return Ok((get_str(&r, "id")?, SigningKey::from_bytes(&secret)));
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let public = hex::encode(key.verifying_key().to_bytes());
        let id = format!("ledger-{}", &public[..16]);
        crate::db::query("INSERT INTO signing_keys (id, purpose, public_key, secret_key, created_at) VALUES ($1, 'ledger', $2, $3, $4) ON CONFLICT (id) DO NOTHING")
            .bind(&id)
            .bind(&public)
            .bind(hex::encode(key.to_bytes()))
            .bind(now_text(now))
            .execute(self.w())
            .await?;
        self.durable().await?;
        // Another node may have created one at the same moment: use whichever is stored.
        Box::pin(self.signing_key_existing()).await
    }

    async fn signing_key_existing(&self) -> Result<(String, SigningKey)> {
        let r = crate::db::query("SELECT id, secret_key FROM signing_keys WHERE purpose = 'ledger' AND retired_at IS NULL ORDER BY created_at, id LIMIT 1")
            .fetch_one(self.w())
            .await?;
        let secret: [u8; 32] = hex::decode(get_str(&r, "secret_key")?)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| StoreError::Internal("corrupt signing key".into()))?;
        Ok((get_str(&r, "id")?, SigningKey::from_bytes(&secret)))
    }

    /// Public keys that sign checkpoints: (key id, public key hex, created, retired).
    pub async fn ledger_keys(&self) -> Result<Vec<(String, String, String, Option<String>)>> {
        let rows = crate::db::query("SELECT id, public_key, created_at, retired_at FROM signing_keys WHERE purpose = 'ledger' ORDER BY created_at")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "id")?,
                    get_str(r, "public_key")?,
                    get_str(r, "created_at")?,
                    r.try_get::<Option<String>, _>("retired_at")?,
                ))
            })
            .collect()
    }

    /// Signs a checkpoint of the current tree (or returns the stored one for this size).
    /// The root comes from the frontier kept with the ledger head (O(log n)); when that is
    /// missing it is rebuilt once from the events.
    pub async fn checkpoint(&self, now: DateTime<Utc>) -> Result<Checkpoint> {
        let head = crate::db::query("SELECT seq, frontier FROM ledger_head WHERE id = 1")
            .fetch_one(self.r())
            .await?;
        let size = get_i64(&head, "seq")? as u64;
        if let Some(c) = self.checkpoint_at(size).await? {
            return Ok(c);
        }
        let root = match merkle::Frontier::decode(&get_str(&head, "frontier")?)
            .filter(|f| f.size == size)
        {
            Some(f) => f.root(),
            None => {
                // Read in pages, so rebuilding over millions of events needs little memory.
                let mut f = merkle::Frontier::default();
                let mut after = 0i64;
                loop {
                    let rows = crate::db::query(
                        "SELECT seq, entry FROM ledger_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 10000",
                    )
                    .bind(after)
                    .bind(size as i64)
                    .fetch_all(self.r())
                    .await?;
                    let Some(last) = rows.last() else { break };
                    after = get_i64(last, "seq")?;
                    for r in &rows {
                        f.push(merkle::leaf_hash(get_str(r, "entry")?.as_bytes()));
                    }
                }
                if f.size != size {
                    return Err(StoreError::Internal(format!(
                        "ledger has {} events, head says {size}",
                        f.size
                    )));
                }
                // Store the rebuilt frontier unless the ledger moved on meanwhile.
                crate::db::query("UPDATE ledger_head SET frontier = $1 WHERE id = 1 AND seq = $2")
                    .bind(f.encode())
                    .bind(size as i64)
                    .execute(self.w())
                    .await?;
                self.durable().await?;
                f.root()
            }
        };
        let (key_id, key) = self.signing_key(now).await?;
        let time = now_text(now);
        let signature = hex::encode(
            key.sign(merkle::checkpoint_text(ORIGIN, size, &root, &time).as_bytes())
                .to_bytes(),
        );
        crate::db::query("INSERT INTO ledger_checkpoints (size, root, at, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING")
            .bind(size as i64)
            .bind(hex::encode(root))
            .bind(&time)
            .bind(&key_id)
            .bind(&signature)
            .execute(self.w())
            .await?;
        self.durable().await?;
        self.checkpoint_at(size)
            .await?
            .ok_or_else(|| StoreError::Internal("checkpoint vanished".into()))
    }

    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<Checkpoint>> {
        let r = crate::db::query(
            "SELECT size, root, at, key_id, signature FROM ledger_checkpoints WHERE size = $1",
        )
        .bind(size as i64)
        .fetch_optional(self.w())
        .await?;
        r.map(|r| checkpoint_from_row(&r)).transpose()
    }

    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let rows = crate::db::query(
            "SELECT size, root, at, key_id, signature FROM ledger_checkpoints ORDER BY size",
        )
        .fetch_all(self.r())
        .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    /// Recomputes everything from the stored events: sequence, hash chain, and every
    /// signed checkpoint. Names the first event that no longer matches.
    pub async fn verify_ledger(&self) -> Result<LedgerReport> {
        self.verify_ledger_with(&[]).await
    }

    /// [`Store::verify_ledger`], also against checkpoints kept outside the database
    /// (exported earlier with `tongban ledger checkpoint`): a tail cut off together with
    /// the stored checkpoints that covered it is still caught by a copy kept elsewhere.
    pub async fn verify_ledger_with(&self, external: &[Checkpoint]) -> Result<LedgerReport> {
        let rows =
            crate::db::query("SELECT seq, entry, prev_hash, hash FROM ledger_events ORDER BY seq")
                .fetch_all(self.r())
                .await?;
        let mut problem = None;
        let mut prev = "0".repeat(64);
        let mut hashes = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let seq = get_i64(r, "seq")?;
            let entry = get_str(r, "entry")?;
            hashes.push(merkle::leaf_hash(entry.as_bytes()));
            if problem.is_some() {
                continue;
            }
            let expected_seq = i as i64 + 1;
            if seq != expected_seq {
                problem = Some(LedgerProblem::Missing { seq: expected_seq });
                continue;
            }
            let claimed = serde_json::from_str::<serde_json::Value>(&entry)
                .ok()
                .and_then(|v| v["seq"].as_i64());
            if claimed != Some(seq) {
                problem = Some(if claimed.is_some() {
                    LedgerProblem::OutOfOrder { seq }
                } else {
                    LedgerProblem::Altered { seq }
                });
                continue;
            }
            let stored = get_str(r, "hash")?;
            if get_str(r, "prev_hash")? != prev
                || crate::ledger_append::chain_hash(&prev, &entry) != stored
            {
                problem = Some(LedgerProblem::Altered { seq });
                continue;
            }
            prev = stored;
        }
        let head = self.ledger_size().await?;
        if problem.is_none() && head > rows.len() as u64 {
            problem = Some(LedgerProblem::Missing {
                seq: rows.len() as i64 + 1,
            });
        }
        let keys = self.ledger_keys().await?;
        let mut checkpoints = self.checkpoints().await?;
        checkpoints.extend(external.iter().cloned());
        checkpoints.sort_by_key(|c| c.size);
        let mut last_good = 0u64;
        for c in &checkpoints {
            let Some((_, public, _, _)) = keys.iter().find(|k| k.0 == c.key_id) else {
                problem.get_or_insert(LedgerProblem::BadSignature { size: c.size });
                break;
            };
            if !verify_checkpoint_signature(c, public) {
                problem.get_or_insert(LedgerProblem::BadSignature { size: c.size });
                break;
            }
            if c.size as usize > hashes.len() {
                problem.get_or_insert(LedgerProblem::Truncated {
                    size: c.size,
                    have: hashes.len() as u64,
                });
                break;
            }
            let ok = hex::encode(merkle::root(&hashes[..c.size as usize])) == c.root;
            if !ok {
                problem.get_or_insert(LedgerProblem::CheckpointMismatch {
                    size: c.size,
                    first_suspect: last_good as i64 + 1,
                });
                break;
            }
            last_good = c.size;
        }
        Ok(LedgerReport {
            size: hashes.len() as u64,
            root: hex::encode(merkle::root(&hashes)),
            checkpoints_checked: checkpoints.len(),
            problem,
        })
    }
}

fn checkpoint_from_row(r: &crate::db::Row) -> Result<Checkpoint> {
    Ok(Checkpoint {
        origin: ORIGIN.to_string(),
        size: get_i64(r, "size")? as u64,
        root: get_str(r, "root")?,
        time: get_str(r, "at")?,
        key_id: get_str(r, "key_id")?,
        signature: get_str(r, "signature")?,
    })
}

/// An inclusion proof as the transparency API serves it (hex hashes).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub root: String,
    pub path: Vec<String>,
}

/// A consistency proof as the transparency API serves it (hex hashes).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}

/// Proofs already computed, by (kind, a, b): a proof for a given tree size never changes.
#[derive(Debug, Default)]
pub(crate) struct ProofCache {
    inclusion: std::sync::Mutex<HashMap<(u64, u64), InclusionProof>>,
    consistency: std::sync::Mutex<HashMap<(u64, u64), ConsistencyProof>>,
}

/// Entries kept per kind before the cache starts afresh.
const PROOF_CACHE_ENTRIES: usize = 4096;

fn cache_put<V>(m: &std::sync::Mutex<HashMap<(u64, u64), V>>, k: (u64, u64), v: V) {
    let mut m = m.lock().expect("proof cache");
    if m.len() >= PROOF_CACHE_ENTRIES {
        m.clear();
    }
    m.insert(k, v);
}

use std::collections::HashMap;
use tongban_core::merkle::{Frontier, Node};

impl Store {
    /// Stored subtree hashes, as found (absent ones are left out).
    async fn stored_nodes(&self, wanted: &[Node]) -> Result<HashMap<Node, Hash>> {
        let mut out = HashMap::new();
        let mut wanted: Vec<Node> = wanted.to_vec();
        wanted.sort();
        wanted.dedup();
        for chunk in wanted.chunks(200) {
            let cond: Vec<String> = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT level, idx, hash FROM ledger_nodes WHERE {}",
                cond.join(" OR ")
            );
            let mut q = crate::db::query(&sql);
            for n in chunk {
                q = q.bind(n.level as i64).bind(n.index as i64);
            }
            for r in q.fetch_all(self.r()).await? {
                let node = Node {
                    level: get_i64(&r, "level")? as u32,
                    index: get_i64(&r, "idx")? as u64,
                };
                let h = decode_hash(&get_str(&r, "hash")?)
                    .ok_or_else(|| StoreError::Internal("corrupt ledger node".into()))?;
                out.insert(node, h);
            }
        }
        Ok(out)
    }

    /// Subtree hashes for a proof. A node the appends could not write (the frontier was
    /// stale at the time) is recomputed from the leaves it covers; normally every node is
    /// stored and a proof reads O(log² n) rows at most, never the leaf table.
    async fn node_hashes(&self, wanted: &[Node]) -> Result<HashMap<Node, Hash>> {
        let mut have = self.stored_nodes(wanted).await?;
        for n in wanted {
            if have.contains_key(n) {
                continue;
            }
            let lo = n.index << n.level;
            let count = 1u64 << n.level;
            let leaves: Vec<Hash> = self
                .ledger_leaves(lo, lo + count)
                .await?
                .iter()
                .map(|l| merkle::leaf_hash(l.leaf.as_bytes()))
                .collect();
            if leaves.len() as u64 != count {
                return Err(StoreError::Invalid(format!(
                    "账本没有第 {lo}–{} 条记录",
                    lo + count
                )));
            }
            have.insert(*n, merkle::root(&leaves));
        }
        Ok(have)
    }

    /// The hashes of leaf ranges (each the MTH of its range), from stored subtrees.
    async fn range_hashes(&self, ranges: &[(u64, u64)]) -> Result<Vec<Hash>> {
        let parts: Vec<Vec<Node>> = ranges
            .iter()
            .map(|(lo, hi)| merkle::perfect_subtrees(*lo, *hi))
            .collect();
        let all: Vec<Node> = parts.iter().flatten().copied().collect();
        let have = self.node_hashes(&all).await?;
        Ok(parts
            .iter()
            .map(|p| merkle::fold_subtrees(&p.iter().map(|n| have[n]).collect::<Vec<_>>()))
            .collect())
    }

    /// RFC 6962 §2.1.1 inclusion proof of leaf `index` in the tree of `size` leaves,
    /// assembled from stored subtrees (O(log n) hashes; cached per (index, size)).
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof> {
        if let Some(p) = self
            .proofs
            .inclusion
            .lock()
            .expect("cache")
            .get(&(index, size))
        {
            return Ok(p.clone());
        }
        if size > self.ledger_size().await? {
            return Err(StoreError::Invalid(format!("账本没有 {size} 条记录")));
        }
        let ranges = merkle::inclusion_ranges(index, size)
            .ok_or_else(|| StoreError::Invalid("需要 index < size".into()))?;
        let mut all = ranges.clone();
        all.push((index, index + 1));
        all.push((0, size));
        let mut h = self.range_hashes(&all).await?;
        let root = h.pop().expect("root");
        let leaf = h.pop().expect("leaf");
        let p = InclusionProof {
            index,
            size,
            leaf_hash: hex::encode(leaf),
            root: hex::encode(root),
            path: h.iter().map(hex::encode).collect(),
        };
        cache_put(&self.proofs.inclusion, (index, size), p.clone());
        Ok(p)
    }

    /// RFC 6962 §2.1.2 consistency proof from the tree of `from` leaves to that of `to`,
    /// assembled from stored subtrees (cached per (from, to)).
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        if let Some(p) = self
            .proofs
            .consistency
            .lock()
            .expect("cache")
            .get(&(from, to))
        {
            return Ok(p.clone());
        }
        if to > self.ledger_size().await? {
            return Err(StoreError::Invalid(format!("账本没有 {to} 条记录")));
        }
        let ranges = merkle::consistency_ranges(from, to)
            .ok_or_else(|| StoreError::Invalid("需要 0 < from ≤ to".into()))?;
        let mut all = ranges.clone();
        all.push((0, from));
        all.push((0, to));
        let mut h = self.range_hashes(&all).await?;
        let second = h.pop().expect("second root");
        let first = h.pop().expect("first root");
        let p = ConsistencyProof {
            from,
            to,
            first_root: hex::encode(first),
            second_root: hex::encode(second),
            proof: h.iter().map(hex::encode).collect(),
        };
        cache_put(&self.proofs.consistency, (from, to), p.clone());
        Ok(p)
    }

    /// Writes the subtree hashes of events appended before `ledger_nodes` existed (or
    /// after the last stored leaf), in pages of 5,000 events, one transaction each. Cheap
    /// when nothing is missing: one indexed look-up. Run when the store opens.
    pub async fn backfill_ledger_nodes(&self) -> Result<u64> {
        let size = self.ledger_size().await?;
        let r = crate::db::query("SELECT MAX(idx) AS m FROM ledger_nodes WHERE level = 0")
            .fetch_one(self.r())
            .await?;
        let mut have = crate::get_opt_i64(&r, "m")?.map_or(0, |m| m as u64 + 1);
        if have >= size {
            return Ok(0);
        }
        let stored = self
            .stored_nodes(&merkle::perfect_subtrees(0, have))
            .await?;
        let mut f = match Frontier::from_nodes(have, |n| stored.get(&n).copied()) {
            Some(f) => f,
            None => {
                have = 0;
                Frontier::default()
            }
        };
        let start = have;
        while have < size {
            let rows = crate::db::query(
                "SELECT seq, entry FROM ledger_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
            )
            .bind(have as i64)
            .bind(size as i64)
            .fetch_all(self.r())
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.begin_write().await?;
            for r in &rows {
                if get_i64(r, "seq")? as u64 != have + 1 {
                    return Err(StoreError::Internal(format!(
                        "ledger event {} is missing",
                        have + 1
                    )));
                }
                crate::ledger_append::push_leaf(
                    &mut tx,
                    &mut f,
                    merkle::leaf_hash(get_str(r, "entry")?.as_bytes()),
                )
                .await?;
                have += 1;
            }
            self.commit(tx).await?;
        }
        Ok(have - start)
    }
}
