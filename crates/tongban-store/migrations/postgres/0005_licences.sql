-- Electronic licences: types, which items issue them, the licences, their uses, and the
-- issuer keys (with validity, so rotated-out keys still verify what they signed).
CREATE TABLE licence_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    validity_years BIGINT NOT NULL,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE item_licence_types (
    impl_code TEXT PRIMARY KEY,
    type_code TEXT NOT NULL REFERENCES licence_types(code)
);
CREATE TABLE licences (
    id BIGSERIAL PRIMARY KEY,
    licence_id TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL REFERENCES licence_types(code),
    serial TEXT NOT NULL,
    version BIGINT NOT NULL,
    number TEXT NOT NULL,
    holder_applicant_id BIGINT NOT NULL REFERENCES applicants(id),
    issuer_department_id BIGINT NOT NULL REFERENCES departments(id),
    case_no TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    valid_until TEXT,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    status_index BIGINT NOT NULL UNIQUE,
    vc TEXT NOT NULL,
    vc_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX licences_holder ON licences(holder_applicant_id, type_code);
CREATE UNIQUE INDEX licences_case ON licences(case_no);
CREATE TABLE licence_uses (
    id BIGSERIAL PRIMARY KEY,
    licence_id TEXT NOT NULL,
    case_no TEXT NOT NULL,
    used_by TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX licence_uses_licence ON licence_uses(licence_id);
CREATE TABLE licence_keys (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT
);
