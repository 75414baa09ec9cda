-- Security: detections (injection, jailbreak, extraction, leaks, PII, tool misuse) as events,
-- and per-project privacy settings (redaction mode, hash key, retention).
CREATE TABLE security_events (
    project VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    type VARCHAR NOT NULL,
    detector VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    score DOUBLE,
    action VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    evidence VARCHAR,
    request_id VARCHAR,
    trace_id VARCHAR,
    span_id VARCHAR,
    tenant VARCHAR,
    model VARCHAR,
    details VARCHAR
);
CREATE TABLE project_settings (
    project VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, name)
);
