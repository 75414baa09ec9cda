-- Feedback loop events: stored quality time series and online LLM eval scores (see the DuckDB
-- migration of the same number for what each column holds). Eval runs and prices are metadata.
CREATE TABLE IF NOT EXISTS quality_points (
    project LowCardinality(String),
    model LowCardinality(String),
    task LowCardinality(String),
    group_by LowCardinality(String),
    grp String,
    metric LowCardinality(String),
    kind LowCardinality(String),
    ts DateTime64(6, 'UTC'),
    bucket_s Nullable(Int32),
    value Nullable(Float64),
    lower Nullable(Float64),
    upper Nullable(Float64),
    n Nullable(Float64),
    computed_at DateTime64(6, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, model, metric, ts);

CREATE TABLE IF NOT EXISTS online_evals (
    project LowCardinality(String),
    trace_id String,
    model Nullable(String),
    ts DateTime64(6, 'UTC'),
    claims Nullable(Int32),
    unsupported Nullable(Int32),
    unsupported_rate Nullable(Float64),
    refused Nullable(Int32),
    has_context Nullable(Int32),
    computed_at DateTime64(6, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, ts);
