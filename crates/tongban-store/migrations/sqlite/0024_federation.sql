-- Issue #16: the province link. The upstream member this deployment reports to (set at
-- start-up from `upstream_url`; while it is absent nothing is queued), the outbox of case
-- events written in the transaction of the event, and on the receiving side the events and
-- signed ledger checkpoints each member reported, and the alarm raised against a member
-- whose checkpoint failed its consistency proof.
CREATE TABLE federation_upstream (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE federation_outbox (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    case_no TEXT NOT NULL,
    case_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT
);
CREATE UNIQUE INDEX federation_outbox_event ON federation_outbox(event_id);
CREATE INDEX federation_outbox_undelivered ON federation_outbox(delivered_at, id);
CREATE TABLE federation_received (
    member TEXT NOT NULL,
    event_id TEXT NOT NULL,
    case_no TEXT NOT NULL,
    case_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (member, event_id)
);
CREATE INDEX federation_received_by_case ON federation_received(member, case_no, case_version);
CREATE TABLE federation_checkpoints (
    member TEXT NOT NULL,
    size BIGINT NOT NULL,
    root TEXT NOT NULL,
    signature TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    consistent BIGINT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (member, size)
);
CREATE TABLE federation_alarms (
    member TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    raised_at TEXT NOT NULL
);
CREATE TABLE federation_standard_items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    legal_limit BIGINT NOT NULL,
    unit TEXT NOT NULL,
    promised_limit BIGINT NOT NULL,
    received_at TEXT NOT NULL
);
-- 跨域通办 (收受分离): an application received at one member's window for an item another
-- member owns. Both members keep the receipt and the same timeline (each entry arrives as
-- a signed message); `role` says which side this is.
CREATE TABLE federation_cross (
    receipt_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    receiver TEXT NOT NULL,
    owner TEXT NOT NULL,
    impl_code TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    attestation TEXT NOT NULL,
    status TEXT NOT NULL,
    case_no TEXT NOT NULL,
    reasons TEXT NOT NULL,
    waybill TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE federation_cross_timeline (
    receipt_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    at TEXT NOT NULL,
    member TEXT NOT NULL,
    what TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (receipt_id, step)
);
