-- Drift, data quality and contracts: reference profiles and contracts per model (metadata), drift
-- results and contract violations as time series (events). Times in metadata are integer
-- microseconds (UTC). See monitors/online_drift.py and monitors/contracts.py.
CREATE TABLE reference_profiles (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    release TEXT NOT NULL,
    profile TEXT NOT NULL,
    rows BIGINT NOT NULL,
    source TEXT,
    created_by TEXT,
    created_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, release)
);
CREATE TABLE model_contracts (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    contract TEXT NOT NULL,
    updated_by TEXT,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model)
);
-- drift_results: one row per (model, segment, feature, method) each time a window is judged.
-- kind: input | output | embedding | text; ts is the end of the judged window.
CREATE TABLE drift_results (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    release VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    feature VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    window_s INTEGER,
    statistic DOUBLE,
    threshold DOUBLE,
    drifted INTEGER,
    missing_reference DOUBLE,
    missing_current DOUBLE,
    rows_current DOUBLE,
    details VARCHAR,
    computed_at TIMESTAMP NOT NULL
);
-- contract_violations: one row per broken rule per checked batch or window.
CREATE TABLE contract_violations (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    rule VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    observed VARCHAR,
    expected VARCHAR,
    rows_failed DOUBLE,
    rows_checked DOUBLE,
    samples VARCHAR,
    source VARCHAR,
    computed_at TIMESTAMP NOT NULL
);
