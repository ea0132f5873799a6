//! Tamper evidence for the case ledger: the RFC 6962 Merkle tree over the exact entry
//! bytes, Ed25519-signed checkpoints, proofs, and a full re-verification.
//!
//! The ledger is split into partitions (ADR 0010), fixed when the database is created: each
//! has its own gapless sequence, hash chain and Merkle tree. A one-partition ledger is
//! exactly the ledger of before: its checkpoints sign that tree's root. A partitioned
//! ledger's checkpoints sign the tree over the partitions' heads
//! ([`merkle::combined_root`]) and list those heads, so one checkpoint proves every
//! partition. The functions without a partition argument speak of the whole ledger.

use crate::{get_i64, get_str, now_text, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use tongban_core::merkle::{self, Hash};

/// The origin line of every checkpoint of a one-partition ledger.
pub const ORIGIN: &str = "tongban/ledger/v1";
/// The origin line of a partitioned ledger's checkpoints: the root is the tree over the
/// partition heads the checkpoint lists.
pub const ORIGIN_PARTITIONED: &str = "tongban/ledger/v2/partitioned";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    /// Events covered (in a partitioned ledger: over all partitions).
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    pub time: String,
    pub key_id: String,
    /// Ed25519 signature (hex) over [`merkle::checkpoint_text`].
    pub signature: String,
    /// A partitioned ledger's partition heads, in partition order; `root` is
    /// [`merkle::combined_root`] over them. Empty (and absent) with one partition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionHead>,
}

/// One partition's head as a checkpoint signs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartitionHead {
    pub partition: u32,
    pub size: u64,
    /// The partition's RFC 6962 root, hex.
    pub root: String,
}

impl Checkpoint {
    /// The size of partition `part` this checkpoint covers (a one-partition ledger's
    /// checkpoint covers partition 0 with its own size).
    pub fn partition_size(&self, part: u32) -> Option<u64> {
        if self.partitions.is_empty() {
            return (part == 0).then_some(self.size);
        }
        self.partitions
            .iter()
            .find(|h| h.partition == part)
            .map(|h| h.size)
    }
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
    /// Events verified (over the partitions verified).
    pub size: u64,
    /// The root of the tree verified: with one partition that tree's root, with several the
    /// combined root over the partition heads (as a checkpoint of this moment would sign).
    pub root: String,
    pub checkpoints_checked: usize,
    /// The first problem found; in a partitioned ledger its sequence numbers and sizes are
    /// those of partition [`LedgerReport::problem_partition`].
    pub problem: Option<LedgerProblem>,
    /// The partition the problem is in (partitioned ledgers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem_partition: Option<u32>,
    /// Every partition verified: number, size, root (partitioned ledgers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionHead>,
}

impl LedgerReport {
    /// The problem as `ledger verify` prints it, naming the partition when there are several.
    pub fn problem_text(&self) -> Option<String> {
        let p = self.problem.as_ref()?;
        Some(match self.problem_partition {
            Some(k) => format!("partition {k}: {p}"),
            None => p.to_string(),
        })
    }
}

fn decode_hash(s: &str) -> Option<Hash> {
    hex::decode(s).ok()?.try_into().ok()
}

/// The heads a partitioned checkpoint lists, decoded; None when one is malformed.
fn decoded_heads(heads: &[PartitionHead]) -> Option<Vec<(u32, u64, Hash)>> {
    heads
        .iter()
        .map(|h| Some((h.partition, h.size, decode_hash(&h.root)?)))
        .collect()
}

/// Checks a checkpoint's Ed25519 signature and, for a partitioned ledger's checkpoint, that
/// its root and size are those of the partition heads it lists.
pub fn verify_checkpoint_signature(c: &Checkpoint, public_hex: &str) -> bool {
    let Some(root) = decode_hash(&c.root) else {
        return false;
    };
    if !c.partitions.is_empty() {
        let Some(heads) = decoded_heads(&c.partitions) else {
            return false;
        };
        let in_order = heads.iter().enumerate().all(|(i, h)| h.0 as usize == i);
        let total: u64 = heads.iter().map(|h| h.1).sum();
        if !in_order || total != c.size || merkle::combined_root(&heads) != root {
            return false;
        }
    }
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

/// Verifies a consistency proof as [`Store::consistency_proof`] serves it: RFC 6962 for a
/// one-partition ledger; for a partitioned one, that both roots are the combined roots of
/// the listed partition heads and every partition's own proof holds.
pub fn verify_consistency_proof(p: &ConsistencyProof) -> bool {
    let (Some(first), Some(second)) = (decode_hash(&p.first_root), decode_hash(&p.second_root))
    else {
        return false;
    };
    let hashes = |v: &[String]| -> Option<Vec<Hash>> { v.iter().map(|h| decode_hash(h)).collect() };
    if p.partitions.is_empty() {
        let Some(proof) = hashes(&p.proof) else {
            return false;
        };
        return merkle::verify_consistency(p.from, p.to, &first, &second, &proof);
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (i, q) in p.partitions.iter().enumerate() {
        let (Some(r1), Some(r2), Some(proof)) = (
            decode_hash(&q.first_root),
            decode_hash(&q.second_root),
            hashes(&q.proof),
        ) else {
            return false;
        };
        let ok = if q.from == 0 {
            r1 == merkle::empty_root() && proof.is_empty()
        } else {
            merkle::verify_consistency(q.from, q.to, &r1, &r2, &proof)
        };
        if !ok || q.partition as usize != i {
            return false;
        }
        a.push((q.partition, q.from, r1));
        b.push((q.partition, q.to, r2));
    }
    a.iter().map(|h| h.1).sum::<u64>() == p.from
        && b.iter().map(|h| h.1).sum::<u64>() == p.to
        && merkle::combined_root(&a) == first
        && merkle::combined_root(&b) == second
}

/// One partition's chain, re-verified from its stored events.
struct PartitionCheck {
    part: u32,
    hashes: Vec<Hash>,
    problem: Option<LedgerProblem>,
}

impl Store {
    /// How many partitions the ledger has (fixed when the database was created).
    pub fn ledger_partitions(&self) -> u32 {
        self.ledger_parts.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The partition a case's events are in.
    pub fn ledger_partition_of(&self, case_id: i64) -> u32 {
        merkle::partition_of(case_id, self.ledger_partitions())
    }

    /// The partition a request names: none for a one-partition ledger means partition 0; a
    /// partitioned ledger needs one, and it must exist.
    pub fn ledger_partition_arg(&self, partition: Option<u32>) -> Result<u32> {
        let n = self.ledger_partitions();
        match partition {
            None if n == 1 => Ok(0),
            Some(p) if p < n => Ok(p),
            None => Err(StoreError::Invalid(format!(
                "账本分为 {n} 个分区：请用 partition 指定分区（0–{}） (the ledger has {n} partitions; name one)",
                n - 1
            ))),
            Some(p) => Err(StoreError::Invalid(format!(
                "没有分区 {p}：账本分为 {n} 个分区（0–{}） (no such partition)",
                n - 1
            ))),
        }
    }

    /// Fixes the number of partitions the first time a database is opened (the
    /// configured number, else 1 on SQLite and 16 on PostgreSQL), creates the partitions'
    /// head rows, and remembers the number. A database that has one keeps it.
    pub(crate) async fn settle_ledger_partitions(&self, wanted: Option<u32>) -> Result<u32> {
        let read = || async {
            crate::db::query("SELECT value FROM meta WHERE key = 'ledger_partitions'")
                .fetch_optional(self.w())
                .await
        };
        let n = match read().await? {
            Some(r) => get_i64(&r, "value")?,
            None => {
                let default = match self.backend() {
                    crate::Backend::Sqlite => 1,
                    crate::Backend::Postgres => 16,
                };
                let n = wanted.unwrap_or(default).clamp(1, MAX_PARTITIONS);
                crate::db::query(
                    "INSERT INTO meta (key, value) VALUES ('ledger_partitions', $1) ON CONFLICT (key) DO NOTHING",
                )
                .bind(i64::from(n))
                .execute(self.w())
                .await?;
                // Another node may have fixed it at the same moment: whichever is stored.
                get_i64(
                    &read()
                        .await?
                        .ok_or_else(|| StoreError::Internal("ledger_partitions".into()))?,
                    "value",
                )?
            }
        };
        if !(1..=i64::from(MAX_PARTITIONS)).contains(&n) {
            return Err(StoreError::Internal(format!("ledger_partitions = {n}")));
        }
        let have = get_i64(
            &crate::db::query("SELECT COUNT(*) AS n FROM ledger_head")
                .fetch_one(self.w())
                .await?,
            "n",
        )?;
        if have < n {
            for p in 1..n {
                crate::db::query("INSERT INTO ledger_head (id, part, seq, hash, frontier) VALUES ($1, $2, 0, $3, '') ON CONFLICT DO NOTHING")
                    .bind(p + 1)
                    .bind(p)
                    .bind("0".repeat(64))
                    .execute(self.w())
                    .await?;
            }
        }
        self.durable().await?;
        self.ledger_parts
            .store(n as u32, std::sync::atomic::Ordering::Release);
        Ok(n as u32)
    }

    /// Every partition's head: (partition, size, stored frontier), read in one statement (a
    /// consistent moment on PostgreSQL).
    pub async fn partition_heads(&self) -> Result<Vec<(u32, u64, String)>> {
        let rows = crate::db::query("SELECT part, seq, frontier FROM ledger_head ORDER BY part")
            .fetch_all(self.r())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "part")? as u32,
                    get_i64(r, "seq")? as u64,
                    get_str(r, "frontier")?,
                ))
            })
            .collect()
    }

    /// Leaf bytes of partition `part`'s events [start, end) (0-based; leaf i is seq i+1).
    pub async fn ledger_leaves_in(
        &self,
        part: u32,
        start: u64,
        end: u64,
    ) -> Result<Vec<LedgerLeaf>> {
        let rows = crate::db::query(
            "SELECT seq, entry FROM ledger_events WHERE part = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
        )
        .bind(i64::from(part))
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

    /// [`Store::ledger_leaves_in`] partition 0: with one partition, the whole ledger.
    pub async fn ledger_leaves(&self, start: u64, end: u64) -> Result<Vec<LedgerLeaf>> {
        self.ledger_leaves_in(0, start, end).await
    }

    /// Events in the whole ledger (over all partitions).
    pub async fn ledger_size(&self) -> Result<u64> {
        Ok(self.partition_heads().await?.iter().map(|h| h.1).sum())
    }

    /// Events in partition `part`.
    pub async fn partition_size(&self, part: u32) -> Result<u64> {
        let r = crate::db::query("SELECT seq FROM ledger_head WHERE part = $1")
            .bind(i64::from(part))
            .fetch_optional(self.r())
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("没有分区 {part}")))?;
        Ok(get_i64(&r, "seq")? as u64)
    }

    /// Leaf hashes of the first `size` events of partition `part`, from the stored bytes.
    pub async fn leaf_hashes_in(&self, part: u32, size: u64) -> Result<Vec<Hash>> {
        let rows = crate::db::query(
            "SELECT entry FROM ledger_events WHERE part = $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(i64::from(part))
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

    /// [`Store::leaf_hashes_in`] partition 0: with one partition, the whole ledger.
    pub async fn leaf_hashes(&self, size: u64) -> Result<Vec<Hash>> {
        self.leaf_hashes_in(0, size).await
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

    /// The root of partition `part` at `size` events: from the frontier kept with its head
    /// (O(log n)); when that is missing or stale it is rebuilt once from the events.
    async fn partition_root(&self, part: u32, size: u64, frontier: &str) -> Result<Hash> {
        if let Some(f) = merkle::Frontier::decode(frontier).filter(|f| f.size == size) {
            return Ok(f.root());
        }
        // Read in pages, so rebuilding over millions of events needs little memory.
        let mut f = merkle::Frontier::default();
        let mut after = 0i64;
        loop {
            let rows = crate::db::query(
                "SELECT seq, entry FROM ledger_events WHERE part = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT 10000",
            )
            .bind(i64::from(part))
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
                "ledger partition {part} has {} events, head says {size}",
                f.size
            )));
        }
        // Store the rebuilt frontier unless the partition moved on meanwhile.
        crate::db::query("UPDATE ledger_head SET frontier = $1 WHERE part = $2 AND seq = $3")
            .bind(f.encode())
            .bind(i64::from(part))
            .bind(size as i64)
            .execute(self.w())
            .await?;
        self.durable().await?;
        Ok(f.root())
    }

    /// Signs a checkpoint of the current ledger (or returns the stored one for this size):
    /// with one partition, of its tree; with several, of the tree over every partition's
    /// head, listed in the checkpoint. Each root comes from the frontier kept with its head.
    pub async fn checkpoint(&self, now: DateTime<Utc>) -> Result<Checkpoint> {
        let heads = self.partition_heads().await?;
        let size: u64 = heads.iter().map(|h| h.1).sum();
        if let Some(c) = self.checkpoint_at(size).await? {
            return Ok(c);
        }
        let mut roots = Vec::with_capacity(heads.len());
        for (part, psize, frontier) in &heads {
            roots.push((
                *part,
                *psize,
                self.partition_root(*part, *psize, frontier).await?,
            ));
        }
        let partitioned = roots.len() > 1;
        let (origin, root) = if partitioned {
            (ORIGIN_PARTITIONED, merkle::combined_root(&roots))
        } else {
            (ORIGIN, roots[0].2)
        };
        let (key_id, key) = self.signing_key(now).await?;
        let time = now_text(now);
        let signature = hex::encode(
            key.sign(merkle::checkpoint_text(origin, size, &root, &time).as_bytes())
                .to_bytes(),
        );
        let mut tx = self.begin_write().await?;
        let inserted = crate::db::query("INSERT INTO ledger_checkpoints (size, root, at, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (size) DO NOTHING RETURNING size")
            .bind(size as i64)
            .bind(hex::encode(root))
            .bind(&time)
            .bind(&key_id)
            .bind(&signature)
            .fetch_optional(&mut *tx)
            .await?;
        if inserted.is_some() && partitioned {
            for (part, psize, proot) in &roots {
                crate::db::query("INSERT INTO ledger_checkpoint_heads (size, part, part_size, part_root) VALUES ($1, $2, $3, $4)")
                    .bind(size as i64)
                    .bind(i64::from(*part))
                    .bind(*psize as i64)
                    .bind(hex::encode(proot))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit(tx).await?;
        self.checkpoint_at(size)
            .await?
            .ok_or_else(|| StoreError::Internal("checkpoint vanished".into()))
    }

    /// The signed checkpoint covering `size` events, if one was signed.
    pub async fn checkpoint_at(&self, size: u64) -> Result<Option<Checkpoint>> {
        let r = crate::db::query(
            "SELECT size, root, at, key_id, signature FROM ledger_checkpoints WHERE size = $1",
        )
        .bind(size as i64)
        .fetch_optional(self.w())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let heads = crate::db::query(
            "SELECT size, part, part_size, part_root FROM ledger_checkpoint_heads WHERE size = $1 ORDER BY part",
        )
        .bind(size as i64)
        .fetch_all(self.w())
        .await?;
        Ok(Some(checkpoint_from_row(&r, heads_from_rows(&heads)?)?))
    }

    /// The newest signed checkpoint, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let r = crate::db::query("SELECT MAX(size) AS m FROM ledger_checkpoints")
            .fetch_one(self.r())
            .await?;
        match crate::get_opt_i64(&r, "m")? {
            Some(m) => self.checkpoint_at(m as u64).await,
            None => Ok(None),
        }
    }

    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let rows = crate::db::query(
            "SELECT size, root, at, key_id, signature FROM ledger_checkpoints ORDER BY size",
        )
        .fetch_all(self.r())
        .await?;
        let heads = crate::db::query(
            "SELECT size, part, part_size, part_root FROM ledger_checkpoint_heads ORDER BY size, part",
        )
        .fetch_all(self.r())
        .await?;
        let mut by_size: HashMap<i64, Vec<crate::db::Row>> = HashMap::new();
        for h in heads {
            by_size.entry(get_i64(&h, "size")?).or_default().push(h);
        }
        rows.iter()
            .map(|r| {
                let size = get_i64(r, "size")?;
                let heads = by_size.remove(&size).unwrap_or_default();
                checkpoint_from_row(r, heads_from_rows(&heads)?)
            })
            .collect()
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
        self.verify_ledger_scope(external, None).await
    }

    /// [`Store::verify_ledger_with`] for one partition only: its sequence and chain, and
    /// its head in every signed checkpoint (whose signatures are all checked).
    pub async fn verify_ledger_partition(
        &self,
        part: u32,
        external: &[Checkpoint],
    ) -> Result<LedgerReport> {
        self.ledger_partition_arg(Some(part))?;
        self.verify_ledger_scope(external, Some(part)).await
    }

    async fn verify_ledger_scope(
        &self,
        external: &[Checkpoint],
        only: Option<u32>,
    ) -> Result<LedgerReport> {
        let partitioned = self.ledger_partitions() > 1;
        let heads = self.partition_heads().await?;
        let mut checks = Vec::new();
        for (part, head, _) in &heads {
            if only.is_some_and(|o| o != *part) {
                continue;
            }
            checks.push(
                self.verify_partition_chain(*part, *head, partitioned)
                    .await?,
            );
        }
        let mut problem = None;
        let mut problem_partition = None;
        if let Some(c) = checks.iter().find(|c| c.problem.is_some()) {
            problem = c.problem.clone();
            problem_partition = Some(c.part);
        }
        let keys = self.ledger_keys().await?;
        let mut checkpoints = self.checkpoints().await?;
        checkpoints.extend(external.iter().cloned());
        checkpoints.sort_by_key(|c| c.size);
        let mut last_good: HashMap<u32, u64> = HashMap::new();
        'each: for c in &checkpoints {
            let Some((_, public, _, _)) = keys.iter().find(|k| k.0 == c.key_id) else {
                if problem.is_none() {
                    problem = Some(LedgerProblem::BadSignature { size: c.size });
                    problem_partition = None;
                }
                break;
            };
            if !verify_checkpoint_signature(c, public) {
                if problem.is_none() {
                    problem = Some(LedgerProblem::BadSignature { size: c.size });
                    problem_partition = None;
                }
                break;
            }
            for check in &checks {
                let Some(size) = c.partition_size(check.part) else {
                    if problem.is_none() {
                        problem = Some(LedgerProblem::CheckpointMismatch {
                            size: c.size,
                            first_suspect: 1,
                        });
                        problem_partition = Some(check.part);
                    }
                    break 'each;
                };
                // What the problem reports: partition sizes in a partitioned ledger.
                let (shown, have) = if partitioned {
                    (size, check.hashes.len() as u64)
                } else {
                    (c.size, check.hashes.len() as u64)
                };
                if size as usize > check.hashes.len() {
                    if problem.is_none() {
                        problem = Some(LedgerProblem::Truncated { size: shown, have });
                        problem_partition = Some(check.part);
                    }
                    break 'each;
                }
                let root = merkle::root(&check.hashes[..size as usize]);
                let expected = if c.partitions.is_empty() {
                    c.root.clone()
                } else {
                    c.partitions[check.part as usize].root.clone()
                };
                if hex::encode(root) != expected {
                    if problem.is_none() {
                        problem = Some(LedgerProblem::CheckpointMismatch {
                            size: shown,
                            first_suspect: *last_good.get(&check.part).unwrap_or(&0) as i64 + 1,
                        });
                        problem_partition = Some(check.part);
                    }
                    break 'each;
                }
                last_good.insert(check.part, size);
            }
        }
        let roots: Vec<(u32, u64, Hash)> = checks
            .iter()
            .map(|c| (c.part, c.hashes.len() as u64, merkle::root(&c.hashes)))
            .collect();
        let root = if partitioned && only.is_none() {
            merkle::combined_root(&roots)
        } else {
            roots
                .first()
                .map(|r| r.2)
                .unwrap_or_else(merkle::empty_root)
        };
        Ok(LedgerReport {
            size: roots.iter().map(|r| r.1).sum(),
            root: hex::encode(root),
            checkpoints_checked: checkpoints.len(),
            problem,
            problem_partition: if partitioned { problem_partition } else { None },
            partitions: if partitioned {
                roots
                    .iter()
                    .map(|(p, s, r)| PartitionHead {
                        partition: *p,
                        size: *s,
                        root: hex::encode(r),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
    }

    /// Re-verifies one partition's sequence and hash chain from its stored events.
    async fn verify_partition_chain(
        &self,
        part: u32,
        head: u64,
        partitioned: bool,
    ) -> Result<PartitionCheck> {
        let rows = crate::db::query(
            "SELECT seq, entry, prev_hash, hash FROM ledger_events WHERE part = $1 ORDER BY seq",
        )
        .bind(i64::from(part))
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
            let claims = serde_json::from_str::<serde_json::Value>(&entry).ok();
            let claimed = claims.as_ref().and_then(|v| v["seq"].as_i64());
            // In a partitioned ledger each entry names its partition: one moved to another
            // partition is out of place there.
            let claimed_part = claims.as_ref().and_then(|v| v["part"].as_i64());
            let part_ok = !partitioned || claimed_part == Some(i64::from(part));
            if claimed != Some(seq) || (claimed.is_some() && !part_ok) {
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
        if problem.is_none() && head > rows.len() as u64 {
            problem = Some(LedgerProblem::Missing {
                seq: rows.len() as i64 + 1,
            });
        }
        Ok(PartitionCheck {
            part,
            hashes,
            problem,
        })
    }
}

/// Partition heads from `ledger_checkpoint_heads` rows.
fn heads_from_rows(rows: &[crate::db::Row]) -> Result<Vec<PartitionHead>> {
    rows.iter()
        .map(|h| {
            Ok(PartitionHead {
                partition: get_i64(h, "part")? as u32,
                size: get_i64(h, "part_size")? as u64,
                root: get_str(h, "part_root")?,
            })
        })
        .collect()
}

fn checkpoint_from_row(r: &crate::db::Row, partitions: Vec<PartitionHead>) -> Result<Checkpoint> {
    Ok(Checkpoint {
        origin: if partitions.is_empty() {
            ORIGIN
        } else {
            ORIGIN_PARTITIONED
        }
        .to_string(),
        size: get_i64(r, "size")? as u64,
        root: get_str(r, "root")?,
        time: get_str(r, "at")?,
        key_id: get_str(r, "key_id")?,
        signature: get_str(r, "signature")?,
        partitions,
    })
}

/// An inclusion proof as the transparency API serves it (hex hashes): of leaf `index` in
/// the tree of `size` leaves of one partition (the whole ledger when it has one).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub root: String,
    pub path: Vec<String>,
}

/// A consistency proof as the transparency API serves it (hex hashes). For a partitioned
/// ledger `from` and `to` are the sizes of two signed checkpoints, the roots their combined
/// roots, `proof` is empty and `partitions` holds each partition's RFC 6962 proof between
/// its sizes in the two checkpoints ([`verify_consistency_proof`] checks it all).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionConsistency>,
}

/// One partition's part of a partitioned ledger's consistency proof (`from` 0: the
/// partition was empty at the first checkpoint, its first root the empty tree's).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartitionConsistency {
    pub partition: u32,
    pub from: u64,
    pub to: u64,
    pub first_root: String,
    pub second_root: String,
    pub proof: Vec<String>,
}

/// Proofs already computed, by (partition, a, b): a proof for given sizes never changes.
#[derive(Debug, Default)]
pub(crate) struct ProofCache {
    inclusion: std::sync::Mutex<HashMap<(u32, u64, u64), InclusionProof>>,
    consistency: std::sync::Mutex<HashMap<(u32, u64, u64), ConsistencyProof>>,
}

/// Entries kept per kind before the cache starts afresh.
const PROOF_CACHE_ENTRIES: usize = 4096;

/// The most partitions a ledger may be created with.
pub const MAX_PARTITIONS: u32 = 1024;

fn cache_put<V>(m: &std::sync::Mutex<HashMap<(u32, u64, u64), V>>, k: (u32, u64, u64), v: V) {
    let mut m = m.lock().expect("proof cache");
    if m.len() >= PROOF_CACHE_ENTRIES {
        m.clear();
    }
    m.insert(k, v);
}

use std::collections::HashMap;
use tongban_core::merkle::{Frontier, Node};

impl Store {
    /// Stored subtree hashes of partition `part`, as found (absent ones are left out).
    async fn stored_nodes(&self, part: u32, wanted: &[Node]) -> Result<HashMap<Node, Hash>> {
        let mut out = HashMap::new();
        let mut wanted: Vec<Node> = wanted.to_vec();
        wanted.sort();
        wanted.dedup();
        // At most 64 parameters a statement: the partition and 31 (level, idx) pairs.
        for chunk in wanted.chunks(31) {
            let cond: Vec<String> = (0..chunk.len())
                .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 2, 2 * i + 3))
                .collect();
            let sql = format!(
                "SELECT level, idx, hash FROM ledger_nodes WHERE part = $1 AND ({})",
                cond.join(" OR ")
            );
            let mut q = crate::db::query(&sql).bind(i64::from(part));
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
    async fn node_hashes(&self, part: u32, wanted: &[Node]) -> Result<HashMap<Node, Hash>> {
        let mut have = self.stored_nodes(part, wanted).await?;
        for n in wanted {
            if have.contains_key(n) {
                continue;
            }
            let lo = n.index << n.level;
            let count = 1u64 << n.level;
            let leaves: Vec<Hash> = self
                .ledger_leaves_in(part, lo, lo + count)
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
    async fn range_hashes(&self, part: u32, ranges: &[(u64, u64)]) -> Result<Vec<Hash>> {
        let parts: Vec<Vec<Node>> = ranges
            .iter()
            .map(|(lo, hi)| merkle::perfect_subtrees(*lo, *hi))
            .collect();
        let all: Vec<Node> = parts.iter().flatten().copied().collect();
        let have = self.node_hashes(part, &all).await?;
        Ok(parts
            .iter()
            .map(|p| merkle::fold_subtrees(&p.iter().map(|n| have[n]).collect::<Vec<_>>()))
            .collect())
    }

    /// RFC 6962 §2.1.1 inclusion proof of leaf `index` in the tree of `size` leaves of a
    /// one-partition ledger; a partitioned ledger needs [`Store::inclusion_proof_in`].
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof> {
        let part = self.ledger_partition_arg(None)?;
        self.inclusion_proof_in(part, index, size).await
    }

    /// RFC 6962 §2.1.1 inclusion proof of leaf `index` in the tree of `size` leaves of
    /// partition `part`, assembled from stored subtrees (O(log n) hashes; cached).
    pub async fn inclusion_proof_in(
        &self,
        part: u32,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof> {
        if let Some(p) = self
            .proofs
            .inclusion
            .lock()
            .expect("cache")
            .get(&(part, index, size))
        {
            return Ok(p.clone());
        }
        if size > self.partition_size(part).await? {
            return Err(StoreError::Invalid(format!("账本没有 {size} 条记录")));
        }
        let ranges = merkle::inclusion_ranges(index, size)
            .ok_or_else(|| StoreError::Invalid("需要 index < size".into()))?;
        let mut all = ranges.clone();
        all.push((index, index + 1));
        all.push((0, size));
        let mut h = self.range_hashes(part, &all).await?;
        let root = h.pop().expect("root");
        let leaf = h.pop().expect("leaf");
        let p = InclusionProof {
            index,
            size,
            leaf_hash: hex::encode(leaf),
            root: hex::encode(root),
            path: h.iter().map(hex::encode).collect(),
        };
        cache_put(&self.proofs.inclusion, (part, index, size), p.clone());
        Ok(p)
    }

    /// A consistency proof of the whole ledger from size `from` to size `to`. With one
    /// partition: RFC 6962 §2.1.2 between those tree sizes. With several: between the
    /// signed checkpoints of those sizes, one RFC 6962 proof per partition (see
    /// [`ConsistencyProof`]).
    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        if self.ledger_partitions() == 1 {
            return self.consistency_proof_in(0, from, to).await;
        }
        if from == 0 || from > to {
            return Err(StoreError::Invalid("需要 0 < from ≤ to".into()));
        }
        if to > self.ledger_size().await? {
            return Err(StoreError::Invalid(format!("账本没有 {to} 条记录")));
        }
        let at = |size: u64| async move {
            self.checkpoint_at(size).await?.ok_or_else(|| {
                StoreError::Invalid(format!(
                    "没有覆盖 {size} 条记录的已签检查点：分区账本的整体一致性证明只在两个已签检查点之间 (no signed checkpoint of size {size})"
                ))
            })
        };
        let (a, b) = (at(from).await?, at(to).await?);
        let mut partitions = Vec::with_capacity(b.partitions.len());
        for (ha, hb) in a.partitions.iter().zip(&b.partitions) {
            partitions.push(if ha.size == 0 {
                PartitionConsistency {
                    partition: hb.partition,
                    from: 0,
                    to: hb.size,
                    first_root: ha.root.clone(),
                    second_root: hb.root.clone(),
                    proof: Vec::new(),
                }
            } else {
                let p = self
                    .consistency_proof_in(hb.partition, ha.size, hb.size)
                    .await?;
                PartitionConsistency {
                    partition: hb.partition,
                    from: p.from,
                    to: p.to,
                    first_root: p.first_root,
                    second_root: p.second_root,
                    proof: p.proof,
                }
            });
        }
        Ok(ConsistencyProof {
            from,
            to,
            first_root: a.root,
            second_root: b.root,
            proof: Vec::new(),
            partitions,
        })
    }

    /// RFC 6962 §2.1.2 consistency proof from the tree of `from` leaves to that of `to` of
    /// partition `part`, assembled from stored subtrees (cached).
    pub async fn consistency_proof_in(
        &self,
        part: u32,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof> {
        if let Some(p) = self
            .proofs
            .consistency
            .lock()
            .expect("cache")
            .get(&(part, from, to))
        {
            return Ok(p.clone());
        }
        if to > self.partition_size(part).await? {
            return Err(StoreError::Invalid(format!("账本没有 {to} 条记录")));
        }
        let ranges = merkle::consistency_ranges(from, to)
            .ok_or_else(|| StoreError::Invalid("需要 0 < from ≤ to".into()))?;
        let mut all = ranges.clone();
        all.push((0, from));
        all.push((0, to));
        let mut h = self.range_hashes(part, &all).await?;
        let second = h.pop().expect("second root");
        let first = h.pop().expect("first root");
        let p = ConsistencyProof {
            from,
            to,
            first_root: hex::encode(first),
            second_root: hex::encode(second),
            proof: h.iter().map(hex::encode).collect(),
            partitions: Vec::new(),
        };
        cache_put(&self.proofs.consistency, (part, from, to), p.clone());
        Ok(p)
    }

    /// Writes the subtree hashes of events appended before `ledger_nodes` existed (or
    /// after the last stored leaf), every partition, in pages of 5,000 events, one
    /// transaction each. Cheap when nothing is missing: one indexed look-up per partition.
    /// Run when the store opens.
    pub async fn backfill_ledger_nodes(&self) -> Result<u64> {
        let mut n = 0;
        for (part, size, _) in self.partition_heads().await? {
            n += self.backfill_partition_nodes(part, size).await?;
        }
        Ok(n)
    }

    async fn backfill_partition_nodes(&self, part: u32, size: u64) -> Result<u64> {
        let r = crate::db::query(
            "SELECT MAX(idx) AS m FROM ledger_nodes WHERE part = $1 AND level = 0",
        )
        .bind(i64::from(part))
        .fetch_one(self.r())
        .await?;
        let mut have = crate::get_opt_i64(&r, "m")?.map_or(0, |m| m as u64 + 1);
        if have >= size {
            return Ok(0);
        }
        let stored = self
            .stored_nodes(part, &merkle::perfect_subtrees(0, have))
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
                "SELECT seq, entry FROM ledger_events WHERE part = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT 5000",
            )
            .bind(i64::from(part))
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
                        "ledger partition {part}: event {} is missing",
                        have + 1
                    )));
                }
                crate::ledger_append::push_leaf(
                    &mut tx,
                    i64::from(part),
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
