-- The outbox: follow-up work (signing a licence, later reporting upward) written in the
-- same transaction as the decision that calls for it, done by a worker, retried with
-- backoff until it succeeds. One row per job key, so a job is never enqueued twice.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    job_key TEXT NOT NULL UNIQUE,
    case_no TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX jobs_due ON jobs(run_after) WHERE done_at IS NULL;
CREATE INDEX jobs_case ON jobs(case_no);
