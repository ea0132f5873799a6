-- Issue 20: the partitioned ledger (ADR 0010). A case's events go to the partition chosen
-- from its id; each partition has its own head row (gapless sequence, hash chain, Merkle
-- frontier), so writers to different partitions do not queue on one row. The number of
-- partitions is fixed when the database is created (meta 'ledger_partitions'); a ledger
-- that already holds events keeps one partition: today's head becomes partition 0.
ALTER TABLE ledger_head ADD COLUMN part BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX ledger_head_part ON ledger_head (part);
INSERT INTO meta (key, value) SELECT 'ledger_partitions', 1 FROM ledger_head WHERE part = 0 AND seq > 0;
CREATE TABLE ledger_events_parted (
    part BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    case_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    entry TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (part, seq),
    UNIQUE (case_id, case_version)
);
INSERT INTO ledger_events_parted (part, seq, case_id, case_version, kind, actor, at, entry, prev_hash, hash)
    SELECT 0, seq, case_id, case_version, kind, actor, at, entry, prev_hash, hash FROM ledger_events;
DROP TABLE ledger_events;
ALTER TABLE ledger_events_parted RENAME TO ledger_events;
-- The Merkle subtrees, per partition.
CREATE TABLE ledger_nodes_parted (
    part BIGINT NOT NULL,
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (part, level, idx)
);
INSERT INTO ledger_nodes_parted (part, level, idx, hash) SELECT 0, level, idx, hash FROM ledger_nodes;
DROP TABLE ledger_nodes;
ALTER TABLE ledger_nodes_parted RENAME TO ledger_nodes;
-- What a checkpoint of a partitioned ledger signed: every partition's size and root (the
-- signed root is the tree over these). A one-partition ledger's checkpoints need no rows.
CREATE TABLE ledger_checkpoint_heads (
    size BIGINT NOT NULL,
    part BIGINT NOT NULL,
    part_size BIGINT NOT NULL,
    part_root TEXT NOT NULL,
    PRIMARY KEY (size, part)
);
