-- Issue #19 (大数据分析): the facts of each case that the case figures count, one row per
-- case, written in the same transaction as the case's events (tongban-store figures.rs) and
-- recomputable from the ledger alone (`tongban analytics rebuild`). Dates are Beijing dates.
CREATE TABLE case_figures (
    case_id BIGINT PRIMARY KEY,
    department_id BIGINT NOT NULL,
    impl_code TEXT NOT NULL,
    online BIGINT NOT NULL,
    received_on TEXT NOT NULL,
    accepted_on TEXT,
    decided_on TEXT,
    closed_on TEXT,
    promised_due TEXT,
    corrections BIGINT NOT NULL,
    special_days BIGINT NOT NULL,
    post_delivery BIGINT NOT NULL,
    suspended BIGINT NOT NULL
);
CREATE INDEX case_figures_received ON case_figures(received_on);
CREATE INDEX case_figures_accepted ON case_figures(accepted_on);
CREATE INDEX case_figures_decided ON case_figures(decided_on);
CREATE INDEX case_figures_open_due ON case_figures(promised_due) WHERE closed_on IS NULL;
-- Dialect-specific below: the JSON functions differ.
-- Cases written before this migration, from their current state (`analytics rebuild`
-- corrects the first-submission date of cases that were corrected since).
INSERT INTO case_figures (case_id, department_id, impl_code, online, received_on, accepted_on, decided_on, closed_on, promised_due, corrections, special_days, post_delivery, suspended)
SELECT id, department_id, impl_code,
    CASE WHEN (state::jsonb ->> 'channel') IN ('online', 'mobile') THEN 1 ELSE 0 END,
    (((submitted_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours')::date)::text,
    accepted_on,
    CASE WHEN (state::jsonb ->> 'outcome') IN ('approved', 'refused') THEN state::jsonb ->> 'completed_on' END,
    CASE WHEN status IN ('submitted', 'awaiting_correction', 'in_approval', 'suspended') THEN NULL
         ELSE COALESCE(state::jsonb ->> 'completed_on', (((updated_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours')::date)::text) END,
    promised_due,
    COALESCE((state::jsonb ->> 'corrections')::bigint, 0),
    COALESCE((state::jsonb ->> 'paused_days')::bigint, 0),
    CASE WHEN (state::jsonb -> 'delivery' ->> 'method') = 'post' THEN 1 ELSE 0 END,
    CASE WHEN (state::jsonb -> 'special') IS NOT NULL AND (state::jsonb -> 'special') <> 'null'::jsonb THEN 1 ELSE 0 END
FROM cases;
