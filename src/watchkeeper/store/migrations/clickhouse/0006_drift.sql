-- Drift results and contract violations as time series (see the DuckDB migration of the same
-- number for what each column holds). Reference profiles and contracts are metadata.
CREATE TABLE IF NOT EXISTS drift_results (
    project LowCardinality(String),
    model LowCardinality(String),
    release String,
    segment String,
    feature String,
    kind LowCardinality(String),
    method LowCardinality(String),
    ts DateTime64(6, 'UTC'),
    window_s Nullable(Int32),
    statistic Nullable(Float64),
    threshold Nullable(Float64),
    drifted Nullable(Int32),
    missing_reference Nullable(Float64),
    missing_current Nullable(Float64),
    rows_current Nullable(Float64),
    details Nullable(String),
    computed_at DateTime64(6, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, model, feature, ts);

CREATE TABLE IF NOT EXISTS contract_violations (
    project LowCardinality(String),
    model LowCardinality(String),
    ts DateTime64(6, 'UTC'),
    rule LowCardinality(String),
    column_name String,
    observed Nullable(String),
    expected Nullable(String),
    rows_failed Nullable(Float64),
    rows_checked Nullable(Float64),
    samples Nullable(String),
    source Nullable(String),
    computed_at DateTime64(6, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, model, ts);
