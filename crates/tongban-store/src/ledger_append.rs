//! Appending to the hash-chained ledger: one entry per event, the chain hash and the Merkle
//! frontier kept with the head row.

use crate::db::Conn as AnyConnection;
use crate::{get_i64, get_str, now_text, Result};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tongban_core::case::Event;

/// The hash of a ledger entry: SHA-256 over the predecessor's hash and the entry bytes.
pub fn chain_hash(prev_hash: &str, entry: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(entry.as_bytes());
    hex::encode(h.finalize())
}

/// Appends a case's events to its partition's hash chain (ADR 0010: the partition is chosen
/// from the case id, see [`tongban_core::merkle::partition_of`]). The partition's head row is
/// updated first: on PostgreSQL that row lock orders concurrent appends to the partition
/// (writers to other partitions do not wait); on SQLite the single writer already does.
pub(crate) async fn append_events(
    conn: &mut AnyConnection,
    case_id: i64,
    from_version: i64,
    events: &[Event],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    // The number of partitions is read in the statement (one indexed row of `meta`), so
    // every caller keeps this signature and no node can disagree with the database.
    let head = crate::db::query(
        "UPDATE ledger_head SET seq = seq + $1 \
         WHERE part = $2 % (SELECT value FROM meta WHERE key = 'ledger_partitions') \
         RETURNING part, seq, hash, frontier, (SELECT value FROM meta WHERE key = 'ledger_partitions') AS parts, \
         (SELECT COUNT(*) FROM federation_upstream) AS upstream",
    )
    .bind(events.len() as i64)
    .bind(tongban_core::merkle::partition_key(case_id))
    .fetch_one(&mut *conn)
    .await?;
    let part = get_i64(&head, "part")?;
    let parts = get_i64(&head, "parts")?;
    // Whether this city reports to a province (read in the same statement, not another).
    let reporting = get_i64(&head, "upstream")? > 0;
    let last_seq = get_i64(&head, "seq")?;
    let mut prev = get_str(&head, "hash")?;
    let mut seq = last_seq - events.len() as i64;
    // Keep the Merkle frontier in step; a missing or stale one is rebuilt at the next checkpoint.
    let stored = get_str(&head, "frontier")?;
    let mut frontier = tongban_core::merkle::Frontier::decode(&stored)
        .or_else(|| (seq == 0).then(tongban_core::merkle::Frontier::default))
        .filter(|f| f.size as i64 == seq);
    let at = now_text(now);
    for (i, e) in events.iter().enumerate() {
        seq += 1;
        let case_version = from_version + i as i64 + 1;
        // A one-partition ledger's entries are exactly as before partitions existed; in a
        // partitioned one each entry also names its partition.
        let entry = if parts > 1 {
            serde_json::json!({
                "part": part, "seq": seq, "case_id": case_id, "case_version": case_version,
                "actor": actor, "at": at, "event": e,
            })
        } else {
            serde_json::json!({
                "seq": seq, "case_id": case_id, "case_version": case_version,
                "actor": actor, "at": at, "event": e,
            })
        }
        .to_string();
        let hash = chain_hash(&prev, &entry);
        if let Some(f) = frontier.as_mut() {
            // With the subtree hashes it completes (ledger_nodes): O(log n) proofs.
            let leaf = tongban_core::merkle::leaf_hash(entry.as_bytes());
            push_leaf(&mut *conn, part, f, leaf).await?;
        }
        crate::db::query("INSERT INTO ledger_events (part, seq, case_id, case_version, kind, actor, at, entry, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(part)
            .bind(seq)
            .bind(case_id)
            .bind(case_version)
            .bind(e.kind())
            .bind(actor)
            .bind(&at)
            .bind(&entry)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *conn)
            .await?;
        prev = hash;
    }
    crate::db::query("UPDATE ledger_head SET hash = $1, frontier = $2 WHERE part = $3")
        .bind(&prev)
        .bind(frontier.map(|f| f.encode()).unwrap_or_default())
        .bind(part)
        .execute(&mut *conn)
        .await?;
    // The province link's outbox, in the same transaction as the events it reports.
    if reporting {
        crate::federation::enqueue(conn, case_id, from_version, events, now).await?;
    }
    Ok(())
}

/// Appends a leaf to the frontier and stores the perfect subtrees it completes, in the
/// caller's transaction (the append's). Called by [`append_events`] for every event.
pub(crate) async fn push_leaf(
    conn: &mut crate::db::Conn,
    part: i64,
    f: &mut tongban_core::merkle::Frontier,
    leaf: tongban_core::merkle::Hash,
) -> Result<()> {
    let nodes = f.push_completing(leaf);
    // A leaf at size 2^k completes k + 1 subtrees; the store binds at most 64 parameters
    // a statement, so the rows go 16 (4 parameters each) at a time.
    for chunk in nodes.chunks(16) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(${}, ${}, ${}, ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO ledger_nodes (part, level, idx, hash) VALUES {} ON CONFLICT (part, level, idx) DO NOTHING",
            values.join(", ")
        );
        let mut q = crate::db::query(&sql);
        for (n, h) in chunk {
            q = q
                .bind(part)
                .bind(n.level as i64)
                .bind(n.index as i64)
                .bind(hex::encode(h));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_core::merkle::{Frontier, Node};

    /// The leaf that makes a partition 2^16 long completes 17 subtrees at once: more rows
    /// than one statement may bind (64 parameters); they are all stored, in chunks.
    #[tokio::test]
    async fn a_leaf_completing_seventeen_subtrees_is_stored() {
        for db in crate::testing::TestDb::all().await {
            let size = (1u64 << 16) - 1;
            let mut f = Frontier::from_nodes(size, |_: Node| Some([7u8; 32])).expect("frontier");
            let mut tx = db.store.begin_write().await.expect("tx");
            push_leaf(&mut tx, 0, &mut f, [9u8; 32])
                .await
                .expect("stored");
            db.store.commit(tx).await.expect("commit");
            let r = crate::db::query("SELECT COUNT(*) AS n FROM ledger_nodes WHERE part = 0")
                .fetch_one(db.store.r())
                .await
                .expect("count");
            assert_eq!(crate::get_i64(&r, "n").expect("n"), 17);
            db.cleanup().await;
        }
    }
}
