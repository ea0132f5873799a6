-- Issue #12: every view of an uploaded material by someone other than its applicant, so
-- the applicant can see who saw their data (the audit log holds the same fact, chained).
CREATE TABLE material_views (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL,
    material INTEGER NOT NULL,
    material_name TEXT NOT NULL,
    viewer TEXT NOT NULL,
    viewer_role TEXT NOT NULL,
    department TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX material_views_by_case ON material_views(case_id, id);
