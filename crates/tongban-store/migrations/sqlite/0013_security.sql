-- Security hardening (issue #13): throttled logins per (account, client), forced password
-- changes, idle sessions, and an append-only, hash-chained audit log.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
CREATE TABLE login_failures (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX login_failures_last ON login_failures(last_at);
-- Rows written before this migration keep empty hashes: the chain starts after them.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_at ON audit_log(at);
-- The chain's head; updating it first orders concurrent appends.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, hash) VALUES (1, '');
-- Set to 1 only inside the retention purge's transaction.
INSERT INTO meta (key, value) VALUES ('audit_purge', 0);
-- Dialect-specific below: triggers that refuse UPDATE and DELETE on the audit log.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN (SELECT value FROM meta WHERE key = 'audit_purge') IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (only the retention purge deletes)');
END;
