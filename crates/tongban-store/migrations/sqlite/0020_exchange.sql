-- Issue #15: the 政务信息共享交换 exchange. This deployment as a member (its keys are the
-- issuer keys of licence_keys), the peers it trusts, the resource catalog (GB/T 21063 core
-- metadata), grants (deny by default), items' declared evidence, the applicant's consent per
-- case, the request ids seen (replay), a hash-chained log of every signed message in and out,
-- conditional requests, and every access to a person's data.
CREATE TABLE exchange_self (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE exchange_peers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    document TEXT NOT NULL,
    trusted_at TEXT NOT NULL
);
CREATE TABLE exchange_resources (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_code TEXT NOT NULL,
    summary TEXT NOT NULL,
    fields TEXT NOT NULL,
    format TEXT NOT NULL,
    update_cycle TEXT NOT NULL,
    published_on TEXT NOT NULL,
    sharing_class TEXT NOT NULL,
    basis TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE exchange_grants (
    resource_code TEXT NOT NULL,
    client_member TEXT NOT NULL,
    client_subsystem TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (resource_code, client_member, client_subsystem)
);
CREATE TABLE exchange_evidence (
    impl_code TEXT NOT NULL,
    resource_code TEXT NOT NULL,
    provider_member TEXT NOT NULL,
    PRIMARY KEY (impl_code, resource_code)
);
CREATE TABLE exchange_consents (
    case_no TEXT PRIMARY KEY,
    confirmed_by TEXT NOT NULL,
    confirmed_at TEXT NOT NULL
);
CREATE TABLE exchange_seen (
    client_member TEXT NOT NULL,
    request_id TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (client_member, request_id)
);
CREATE TABLE exchange_log (
    seq BIGINT PRIMARY KEY,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client_member TEXT NOT NULL,
    provider_member TEXT NOT NULL,
    case_no TEXT NOT NULL,
    service TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX exchange_log_by_request ON exchange_log(request_id);
CREATE TABLE data_accesses (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    department TEXT NOT NULL,
    member TEXT NOT NULL,
    case_no TEXT NOT NULL,
    resource TEXT NOT NULL,
    purpose TEXT NOT NULL
);
CREATE INDEX data_accesses_by_subject ON data_accesses(subject, at);
CREATE TABLE exchange_requests (
    id INTEGER PRIMARY KEY,
    resource_code TEXT NOT NULL,
    client_member TEXT NOT NULL,
    client_subsystem TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL,
    answered_on TEXT
);
