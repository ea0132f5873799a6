-- The Merkle frontier kept with the head of the ledger, so checkpoints are O(log n).
-- Empty means "rebuild from the events" (done once, on the next checkpoint).
ALTER TABLE ledger_head ADD COLUMN frontier TEXT NOT NULL DEFAULT '';
-- The department inbox reads open cases of one department by deadline: a column that is
-- set only while a case is in approval lets that be one index range scan.
ALTER TABLE cases ADD COLUMN inbox_due TEXT;
CREATE INDEX cases_department_inbox ON cases(department_id, inbox_due);
UPDATE cases SET inbox_due = promised_due WHERE status IN ('in_approval', 'suspended');
