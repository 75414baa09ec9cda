-- Events: append-only, one row per prediction / label / feedback.
CREATE TABLE predictions (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    request_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    release_id VARCHAR,
    release VARCHAR,
    inputs VARCHAR,
    input_size INTEGER,
    output_label VARCHAR,
    output_value DOUBLE,
    score DOUBLE,
    scores VARCHAR,
    latency_ms DOUBLE,
    segment VARCHAR,
    cost DOUBLE,
    trace_id VARCHAR,
    error VARCHAR,
    extra VARCHAR
);
CREATE TABLE labels (
    project VARCHAR NOT NULL,
    request_id VARCHAR NOT NULL,
    label VARCHAR,
    label_value DOUBLE,
    model VARCHAR,
    trace_id VARCHAR,
    ts TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE TABLE feedback (
    project VARCHAR NOT NULL,
    request_id VARCHAR,
    trace_id VARCHAR,
    kind VARCHAR NOT NULL,
    value VARCHAR,
    value_num DOUBLE,
    comment VARCHAR,
    ts TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL
);
-- Metadata.
CREATE TABLE meta_projects (
    name VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE meta_api_keys (
    id VARCHAR PRIMARY KEY,
    project VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL UNIQUE,
    prefix VARCHAR NOT NULL,
    scopes VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
