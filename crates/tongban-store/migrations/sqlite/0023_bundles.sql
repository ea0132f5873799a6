-- Issue #17 (一件事一次办): bundle definitions as data (versioned), applications (one bundle,
-- one real case per selected member), their members and their events.
CREATE TABLE bundle_definitions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (code, version)
);
CREATE TABLE bundles (
    id INTEGER PRIMARY KEY,
    bundle_no TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    version BIGINT NOT NULL,
    applicant_id BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    idem_key TEXT,
    channel TEXT NOT NULL,
    answers TEXT NOT NULL,
    application TEXT NOT NULL,
    received_on TEXT NOT NULL,
    limit_due TEXT NOT NULL,
    promised_due TEXT NOT NULL,
    status TEXT NOT NULL,
    completed_on TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (created_by, idem_key)
);
CREATE INDEX bundles_code ON bundles(code, status);
CREATE INDEX bundles_applicant ON bundles(applicant_id);
CREATE TABLE bundle_members (
    bundle_id BIGINT NOT NULL,
    item_key TEXT NOT NULL,
    impl_code TEXT NOT NULL,
    position BIGINT NOT NULL,
    state TEXT NOT NULL,
    case_no TEXT,
    PRIMARY KEY (bundle_id, item_key)
);
CREATE INDEX bundle_members_case ON bundle_members(case_no);
CREATE TABLE bundle_events (
    id INTEGER PRIMARY KEY,
    bundle_id BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX bundle_events_bundle ON bundle_events(bundle_id, id);
