-- Security events: one row per detection (type, detector, severity, action). Idempotent DDL.
CREATE TABLE IF NOT EXISTS security_events (
    project LowCardinality(String),
    event_id String,
    ts DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    type LowCardinality(String),
    detector LowCardinality(String),
    severity LowCardinality(String),
    score Nullable(Float64),
    action LowCardinality(String),
    source LowCardinality(String),
    evidence Nullable(String),
    request_id Nullable(String),
    trace_id Nullable(String),
    span_id Nullable(String),
    tenant Nullable(String),
    model Nullable(String),
    details Nullable(String) CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (project, type, ts)
