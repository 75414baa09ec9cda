-- Events in ClickHouse: append-only MergeTree tables, one partition per day, sorted for the
-- queries the API and the monitors run (a project, a model, a time range). Statements must be
-- idempotent (IF NOT EXISTS): ClickHouse has no transactional DDL, so a half-applied migration
-- is simply run again. Retention (TTL) is set per store URL (?retention_days=N), not here.
CREATE TABLE IF NOT EXISTS predictions (
    project LowCardinality(String),
    model LowCardinality(String),
    model_version LowCardinality(String),
    request_id String,
    ts DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    release_id Nullable(String),
    release Nullable(String),
    inputs Nullable(String) CODEC(ZSTD(3)),
    input_size Nullable(Int32),
    output_label Nullable(String),
    output_value Nullable(Float64),
    score Nullable(Float64),
    scores Nullable(String) CODEC(ZSTD(3)),
    latency_ms Nullable(Float64),
    segment Nullable(String),
    cost Nullable(Float64),
    trace_id Nullable(String),
    error Nullable(String),
    extra Nullable(String) CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, model, ts);

CREATE TABLE IF NOT EXISTS labels (
    project LowCardinality(String),
    request_id String,
    label Nullable(String),
    label_value Nullable(Float64),
    model Nullable(String),
    trace_id Nullable(String),
    ts DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    INDEX labels_request_id request_id TYPE bloom_filter GRANULARITY 4
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, ts);

CREATE TABLE IF NOT EXISTS feedback (
    project LowCardinality(String),
    request_id Nullable(String),
    trace_id Nullable(String),
    kind LowCardinality(String),
    value Nullable(String),
    value_num Nullable(Float64),
    comment Nullable(String),
    ts DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, kind, ts);
