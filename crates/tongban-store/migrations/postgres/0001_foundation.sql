-- Foundation: catalog, halls, accounts, sessions.
CREATE TABLE departments (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    retired BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE halls (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    retired BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE hall_windows (
    id BIGSERIAL PRIMARY KEY,
    hall_id BIGINT NOT NULL REFERENCES halls(id),
    number TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0,
    UNIQUE (hall_id, number)
);
CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    impl_code TEXT NOT NULL UNIQUE,
    basic_code TEXT NOT NULL,
    name TEXT NOT NULL,
    item_type TEXT NOT NULL,
    department_id BIGINT NOT NULL REFERENCES departments(id),
    hall_id BIGINT REFERENCES halls(id),
    application BIGINT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    materials TEXT NOT NULL,
    search_text TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX items_department ON items(department_id);
CREATE INDEX items_basic_code ON items(basic_code);
CREATE TABLE item_versions (
    id BIGSERIAL PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES items(id),
    version BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    changes TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    UNIQUE (item_id, version)
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    department_id BIGINT REFERENCES departments(id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
-- Bumped on every catalog write so every node can tell its cached catalog is stale.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('catalog_rev', 0);
