-- Issue #13: who uploaded which file. Files are content-addressed, so two people may
-- upload the same bytes: each (file, uploader) is a row. An applicant may cite only files
-- they uploaded themselves; `used_at` is set when a case cites the file; a file that only
-- has unused uploads older than a day is purged by the background worker, with its object.
-- Files stored before this migration have no rows here and are never purged.
CREATE TABLE file_uploads (
    sha256 TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    size BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (sha256, user_id)
);
CREATE INDEX file_uploads_by_user ON file_uploads(user_id, created_at);
CREATE INDEX file_uploads_unused ON file_uploads(created_at) WHERE used_at IS NULL;
