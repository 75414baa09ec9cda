-- Control loop: releases, aliases and their history, alert rules and their state, alerts, SLOs,
-- incidents with their timeline and preserved samples. Times are integer microseconds (UTC).
CREATE TABLE meta_releases (
    project TEXT NOT NULL,
    id TEXT NOT NULL,
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    feature_set_version TEXT,
    prompt_version TEXT,
    retrieval_index_version TEXT,
    policy_version TEXT,
    tool_schema_version TEXT,
    config TEXT,
    description TEXT,
    created_by TEXT,
    created_us BIGINT NOT NULL,
    PRIMARY KEY (project, id)
);
CREATE TABLE meta_aliases (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    release_id TEXT NOT NULL,
    updated_by TEXT,
    reason TEXT,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, alias)
);
CREATE TABLE meta_alias_history (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    from_release TEXT,
    to_release TEXT NOT NULL,
    actor TEXT,
    reason TEXT,
    at_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, alias, seq)
);
CREATE TABLE meta_rules (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    updated_by TEXT,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, kind, name)
);
CREATE TABLE meta_rule_state (
    project TEXT NOT NULL,
    rule TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, rule)
);
CREATE TABLE meta_alerts (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary TEXT,
    value DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    scope TEXT,
    incident_id TEXT,
    started_us BIGINT NOT NULL,
    resolved_us BIGINT
);
CREATE TABLE meta_incidents (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    rule TEXT,
    model TEXT,
    classification TEXT,
    doc TEXT NOT NULL,
    opened_us BIGINT NOT NULL,
    closed_us BIGINT
);
CREATE TABLE meta_incident_events (
    incident_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    body TEXT,
    at_us BIGINT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE TABLE incident_samples (
    incident_id TEXT NOT NULL,
    project TEXT NOT NULL,
    request_id TEXT NOT NULL,
    model TEXT,
    model_version TEXT,
    release_id TEXT,
    ts_us BIGINT,
    inputs TEXT,
    output TEXT,
    score DOUBLE PRECISION,
    label TEXT,
    error TEXT,
    latency_ms DOUBLE PRECISION,
    segment TEXT,
    PRIMARY KEY (incident_id, request_id)
);
