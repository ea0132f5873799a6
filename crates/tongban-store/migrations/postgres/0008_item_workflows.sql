-- Approval steps configured per item (default 承办 → 审核 → 批准 when absent).
CREATE TABLE item_workflows (
    impl_code TEXT PRIMARY KEY,
    steps TEXT NOT NULL,
    joint BIGINT NOT NULL DEFAULT 0,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
