-- Issue #13: the Merkle tree's complete (perfect) subtrees, written in the transaction of
-- the appends that complete them: level 0 holds the leaf hashes, level k index i the root
-- of leaves [i·2^k, (i+1)·2^k). Proofs are assembled from O(log n) of these instead of
-- reading every leaf. Existing ledgers are back-filled when the store opens.
CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
