-- Applicants, the case ledger and its projections, uploaded files, messages, calendar years.
CREATE TABLE applicants (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    id_number TEXT NOT NULL UNIQUE,
    mobile TEXT NOT NULL DEFAULT '',
    legal_rep TEXT NOT NULL DEFAULT '',
    user_id BIGINT UNIQUE REFERENCES users(id),
    verified BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
-- One row: the head of the hash chain. Updating it first serialises appends on PostgreSQL
-- (row lock) as the single writer does on SQLite.
CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE ledger_events (
    seq BIGINT PRIMARY KEY,
    case_id BIGINT NOT NULL,
    case_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    entry TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (case_id, case_version)
);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    case_no TEXT NOT NULL UNIQUE,
    impl_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    applicant_id BIGINT NOT NULL REFERENCES applicants(id),
    created_by BIGINT NOT NULL,
    idem_key TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    step_name TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL,
    submitted_at TEXT NOT NULL,
    accepted_on TEXT,
    promised_due TEXT,
    legal_due TEXT,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_idempotency ON cases(created_by, idem_key);
CREATE INDEX cases_inbox ON cases(department_id, status, promised_due);
CREATE INDEX cases_applicant ON cases(applicant_id, submitted_at);
CREATE INDEX cases_status ON cases(status, submitted_at);
CREATE TABLE case_counters (
    day TEXT PRIMARY KEY,
    n BIGINT NOT NULL
);
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    media_type TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    applicant_id BIGINT NOT NULL REFERENCES applicants(id),
    case_no TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX messages_applicant ON messages(applicant_id, id);
CREATE TABLE calendar_years (
    year BIGINT PRIMARY KEY,
    source TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('calendar_rev', 0);
