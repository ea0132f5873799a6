-- The supervision board reads open records newest first and counts them per department and
-- severity: an index for the first, counters kept in the same transaction for the second.
CREATE INDEX supervision_open_newest ON supervision_records(resolved_at, id);
CREATE TABLE supervision_open_counts (
    department_id BIGINT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (department_id, severity)
);
INSERT INTO supervision_open_counts (department_id, severity, n)
    SELECT department_id, severity, COUNT(*) FROM supervision_records WHERE resolved_at IS NULL GROUP BY department_id, severity;
