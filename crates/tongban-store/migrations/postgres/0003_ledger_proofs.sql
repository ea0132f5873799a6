-- Signed checkpoints of the ledger's Merkle tree, and the platform's signing keys.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
CREATE TABLE ledger_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    size BIGINT NOT NULL UNIQUE,
    root TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL REFERENCES signing_keys(id),
    signature TEXT NOT NULL
);
