-- How many supervision records of a case are open, kept with the records, so a change to
-- a case with none (the common case) need not look them up.
ALTER TABLE cases ADD COLUMN open_records BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET open_records = (
    SELECT COUNT(*) FROM supervision_records r WHERE r.case_id = cases.id AND r.resolved_at IS NULL
) WHERE id IN (SELECT case_id FROM supervision_records WHERE resolved_at IS NULL);
