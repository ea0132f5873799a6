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
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND (SELECT value FROM meta WHERE key = 'audit_purge') = 1 THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (only the retention purge deletes)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
