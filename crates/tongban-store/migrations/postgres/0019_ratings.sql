-- Issue #14: 政务服务"好差评". A rating is never deleted: an upheld appeal marks it excluded
-- with the reason. One rating per case, channel and stage per round (round 0 first; the
-- applicant may rate again once a 差评's rectification is done, as round n + 1).
CREATE TABLE ratings (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    case_no TEXT NOT NULL,
    impl_code TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    applicant_id BIGINT NOT NULL,
    hall_id BIGINT,
    window_id BIGINT,
    clerk TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL,
    channel TEXT NOT NULL,
    round BIGINT NOT NULL DEFAULT 0,
    level BIGINT NOT NULL,
    indicators TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    rated_by TEXT NOT NULL,
    rated_at TEXT NOT NULL,
    rated_on TEXT NOT NULL,
    excluded BIGINT NOT NULL DEFAULT 0,
    excluded_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, channel, stage, round)
);
CREATE INDEX ratings_on ON ratings(rated_on, department_id);
-- The follow-up of a 差评 (level 1 or 2), on the working-day clock.
CREATE TABLE rating_rectifications (
    rating_id BIGINT PRIMARY KEY REFERENCES ratings(id),
    department_id BIGINT NOT NULL,
    opened_on TEXT NOT NULL,
    callback_due TEXT NOT NULL,
    rectify_due TEXT NOT NULL,
    called_back_on TEXT,
    called_back_by TEXT NOT NULL DEFAULT '',
    callback_note TEXT NOT NULL DEFAULT '',
    rectified_on TEXT,
    rectified_by TEXT NOT NULL DEFAULT '',
    rectify_note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL
);
CREATE INDEX rating_rectifications_open ON rating_rectifications(status, department_id);
-- 申诉复核: one appeal per rating, decided by a supervisor outside the department.
CREATE TABLE rating_appeals (
    rating_id BIGINT PRIMARY KEY REFERENCES ratings(id),
    department_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    appealed_by TEXT NOT NULL,
    appealed_at TEXT NOT NULL,
    decision TEXT NOT NULL DEFAULT 'pending',
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT,
    decision_reason TEXT NOT NULL DEFAULT ''
);
-- One-time rating links (SMS, the receipt's QR): only the token's hash is kept.
CREATE TABLE rating_tokens (
    token_hash TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    stage TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT
);
-- The case a window's rating pad shows, pushed by the clerk at that window.
CREATE TABLE rating_pads (
    window_id BIGINT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    clerk TEXT NOT NULL,
    set_at TEXT NOT NULL
);
