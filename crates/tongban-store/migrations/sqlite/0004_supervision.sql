-- Electronic supervision: the next time a case must be looked at, the records raised,
-- and 督办 orders.
ALTER TABLE cases ADD COLUMN next_check_on TEXT;
CREATE INDEX cases_next_check ON cases(next_check_on);
CREATE TABLE supervision_records (
    id INTEGER PRIMARY KEY,
    record_no TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    cause TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    case_no TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    severity TEXT NOT NULL,
    detail TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, rule, cause)
);
CREATE INDEX supervision_open ON supervision_records(resolved_at, department_id);
CREATE TABLE supervision_orders (
    id INTEGER PRIMARY KEY,
    order_no TEXT NOT NULL UNIQUE,
    record_no TEXT NOT NULL DEFAULT '',
    case_no TEXT NOT NULL DEFAULT '',
    department_id BIGINT NOT NULL REFERENCES departments(id),
    instruction TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    answer TEXT NOT NULL DEFAULT '',
    answered_by TEXT NOT NULL DEFAULT '',
    answered_at TEXT,
    closing_note TEXT NOT NULL DEFAULT '',
    closed_at TEXT
);
CREATE INDEX supervision_orders_department ON supervision_orders(department_id, status);
