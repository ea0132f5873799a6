-- Expired sessions are purged (at each login for that user, and by the background worker);
-- the index keeps the purge a range scan.
CREATE INDEX sessions_expiry ON sessions(expires_at);
