-- Issue #20 (scale-out): the figure counters are striped by ledger partition. Every case
-- change adds to the city-wide row of its day, month and year; on PostgreSQL one such row
-- per period would be locked by every writer until its commit (like the single ledger head
-- was), so writers of different partitions would still queue one behind another. A case's
-- counter rows now carry its partition (`stripe`, the same number as its ledger
-- partition: one stripe on a one-partition ledger), and every reader sums over stripes.
-- Rows written before this migration, by a rebuild or by bulk seeding are in stripe 0.
CREATE TABLE figure_counters_striped (
    grain TEXT NOT NULL,
    period TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    impl_code TEXT NOT NULL,
    online BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    stripe BIGINT NOT NULL DEFAULT 0,
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
    PRIMARY KEY (grain, period, department_id, impl_code, online, window_id, stripe)
);
INSERT INTO figure_counters_striped (grain, period, department_id, impl_code, online, window_id, stripe,
    received, online_received, accepted, decided, on_time, early, one_pass, post, overdue_closed,
    dur_sum, special_cases, special_days, od_start, od_end, rated, good, bad)
SELECT grain, period, department_id, impl_code, online, window_id, 0,
    received, online_received, accepted, decided, on_time, early, one_pass, post, overdue_closed,
    dur_sum, special_cases, special_days, od_start, od_end, rated, good, bad
FROM figure_counters;
DROP TABLE figure_counters;
ALTER TABLE figure_counters_striped RENAME TO figure_counters;
CREATE TABLE figure_durations_striped (
    grain TEXT NOT NULL,
    period TEXT NOT NULL,
    department_id BIGINT NOT NULL,
    impl_code TEXT NOT NULL,
    online BIGINT NOT NULL,
    window_id BIGINT NOT NULL,
    wd BIGINT NOT NULL,
    stripe BIGINT NOT NULL DEFAULT 0,
    n BIGINT NOT NULL,
    PRIMARY KEY (grain, period, department_id, impl_code, online, window_id, wd, stripe)
);
INSERT INTO figure_durations_striped (grain, period, department_id, impl_code, online, window_id, wd, stripe, n)
SELECT grain, period, department_id, impl_code, online, window_id, wd, 0, n FROM figure_durations;
DROP TABLE figure_durations;
ALTER TABLE figure_durations_striped RENAME TO figure_durations;
