-- Control loop: releases, aliases and their history, alert rules and their state, alerts, SLOs,
-- incidents with their timeline and preserved samples. Times are integer microseconds (UTC).
CREATE TABLE meta_releases (
    project VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    model_version VARCHAR NOT NULL,
    feature_set_version VARCHAR,
    prompt_version VARCHAR,
    retrieval_index_version VARCHAR,
    policy_version VARCHAR,
    tool_schema_version VARCHAR,
    config VARCHAR,
    description VARCHAR,
    created_by VARCHAR,
    created_us BIGINT NOT NULL,
    PRIMARY KEY (project, id)
);
CREATE TABLE meta_aliases (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    release_id VARCHAR NOT NULL,
    updated_by VARCHAR,
    reason VARCHAR,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, alias)
);
CREATE TABLE meta_alias_history (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    action VARCHAR NOT NULL,
    from_release VARCHAR,
    to_release VARCHAR NOT NULL,
    actor VARCHAR,
    reason VARCHAR,
    at_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, alias, seq)
);
CREATE TABLE meta_rules (
    project VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    spec VARCHAR NOT NULL,
    updated_by VARCHAR,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, kind, name)
);
CREATE TABLE meta_rule_state (
    project VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, rule)
);
CREATE TABLE meta_alerts (
    id VARCHAR PRIMARY KEY,
    project VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    summary VARCHAR,
    value DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    scope VARCHAR,
    incident_id VARCHAR,
    started_us BIGINT NOT NULL,
    resolved_us BIGINT
);
CREATE TABLE meta_incidents (
    id VARCHAR PRIMARY KEY,
    project VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    rule VARCHAR,
    model VARCHAR,
    classification VARCHAR,
    doc VARCHAR NOT NULL,
    opened_us BIGINT NOT NULL,
    closed_us BIGINT
);
CREATE TABLE meta_incident_events (
    incident_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    actor VARCHAR,
    body VARCHAR,
    at_us BIGINT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE TABLE incident_samples (
    incident_id VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    request_id VARCHAR NOT NULL,
    model VARCHAR,
    model_version VARCHAR,
    release_id VARCHAR,
    ts_us BIGINT,
    inputs VARCHAR,
    output VARCHAR,
    score DOUBLE PRECISION,
    label VARCHAR,
    error VARCHAR,
    latency_ms DOUBLE PRECISION,
    segment VARCHAR,
    PRIMARY KEY (incident_id, request_id)
);
