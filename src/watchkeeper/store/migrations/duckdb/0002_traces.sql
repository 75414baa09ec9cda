-- Traces: one row per span, normalised from OTLP (gen_ai.*, OpenInference, watchkeeper.*).
-- Append-only. A retried export can store a span twice; every trace query dedupes on
-- (trace_id, span_id), and the server drops retries it has seen recently before writing.
CREATE TABLE spans (
    project VARCHAR NOT NULL,
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    parent_span_id VARCHAR,
    is_root INTEGER,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    span_kind INTEGER,
    service VARCHAR,
    scope VARCHAR,
    ts TIMESTAMP NOT NULL,
    end_ts TIMESTAMP NOT NULL,
    duration_ms DOUBLE,
    received_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    status_message VARCHAR,
    error_type VARCHAR,
    model VARCHAR,
    provider VARCHAR,
    operation VARCHAR,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost DOUBLE,
    finish_reason VARCHAR,
    prompt_template VARCHAR,
    prompt_version VARCHAR,
    request_id VARCHAR,
    model_id VARCHAR,
    index_version VARCHAR,
    policy_version VARCHAR,
    session_id VARCHAR,
    tool_name VARCHAR,
    ttft_ms DOUBLE,
    flags VARCHAR,
    input VARCHAR,
    output VARCHAR,
    details VARCHAR,
    attributes VARCHAR,
    events VARCHAR,
    resource VARCHAR
);
-- Metadata: JSON Schemas for tool arguments, checked against every ingested tool span.
CREATE TABLE meta_tool_schemas (
    project VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    schema VARCHAR NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, name)
);
