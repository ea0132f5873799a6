-- Issue #19 (大数据分析 at 10 million cases): pre-aggregated counters of the case figures,
-- kept in the same transaction as the case's events (tongban-store figures.rs), so a range
-- is answered from a few hundred rows per day/month/year instead of one row per case.
-- Each row counts one Beijing day (grain 'd', period YYYY-MM-DD), month ('m', YYYY-MM) or
-- year ('y', YYYY) of one department × item × channel × window; department 0 and item '*'
-- hold the city-wide sums. `od_start` / `od_end` count cases that become overdue (open) /
-- stop being open-overdue that day: the open-overdue count on a day is their prefix sum.
-- `rated` / `good` / `bad`: 好差评 given that day (appeal-upheld ones excluded).
-- The duration of the case in working days (受理 → 办结, paused days excluded), computed with
-- the calendar when the case is decided; the window that accepted it (0: none).
ALTER TABLE case_figures ADD COLUMN duration_wd BIGINT;
ALTER TABLE case_figures ADD COLUMN window_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX case_figures_due ON case_figures(promised_due);
CREATE INDEX case_figures_closed ON case_figures(closed_on);
-- The window of a case is that of the hall ticket linked to it (recorded at 受理).
CREATE INDEX hall_tickets_case ON hall_tickets(case_no);
CREATE TABLE figure_counters (
    grain TEXT NOT NULL,
    period TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    impl_code TEXT NOT NULL,
    online BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    received BIGINT NOT NULL,
    online_received BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    decided BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    early BIGINT NOT NULL,
    one_pass BIGINT NOT NULL,
    post BIGINT NOT NULL,
    overdue_closed BIGINT NOT NULL,
    dur_sum BIGINT NOT NULL,
    special_cases BIGINT NOT NULL,
    special_days BIGINT NOT NULL,
    od_start BIGINT NOT NULL,
    od_end BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    good BIGINT NOT NULL,
    bad BIGINT NOT NULL,
    PRIMARY KEY (grain, period, department_id, impl_code, online, window_id)
);
-- Decided cases by working-day duration (capped at 10,000): the exact median of any range.
CREATE TABLE figure_durations (
    grain TEXT NOT NULL,
    period TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    impl_code TEXT NOT NULL,
    online BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    wd BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (grain, period, department_id, impl_code, online, window_id, wd)
);
-- Figures written before this migration have no duration or counters yet: the server
-- rebuilds them from the ledger at start while this is 1 (`tongban analytics rebuild`).
INSERT INTO meta (key, value) SELECT 'figure_counters_stale', CASE WHEN EXISTS (SELECT 1 FROM case_figures) THEN 1 ELSE 0 END;
