-- Feedback loop: stored quality time series, online LLM eval scores, eval runs and price tables.
-- quality_points: one row per (model, group, metric, bucket) each time the quality job runs;
-- readers take the latest computed_at per key (late labels change old buckets).
CREATE TABLE quality_points (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    group_by VARCHAR NOT NULL,
    grp VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    bucket_s INTEGER,
    value DOUBLE,
    lower DOUBLE,
    upper DOUBLE,
    n DOUBLE,
    computed_at TIMESTAMP NOT NULL
);
-- online_evals: one row per sampled production LLM trace scored by the online evaluator.
CREATE TABLE online_evals (
    project VARCHAR NOT NULL,
    trace_id VARCHAR NOT NULL,
    model VARCHAR,
    ts TIMESTAMP NOT NULL,
    claims INTEGER,
    unsupported INTEGER,
    unsupported_rate DOUBLE,
    refused INTEGER,
    has_context INTEGER,
    computed_at TIMESTAMP NOT NULL
);
CREATE TABLE meta_eval_runs (
    id VARCHAR PRIMARY KEY,
    project VARCHAR NOT NULL,
    suite VARCHAR NOT NULL,
    target VARCHAR,
    created_us BIGINT NOT NULL,
    total INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    baseline VARCHAR,
    regressions INTEGER,
    document VARCHAR NOT NULL
);
CREATE TABLE meta_prices (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    input_per_1k DOUBLE,
    output_per_1k DOUBLE,
    cached_per_1k DOUBLE,
    compute_per_s DOUBLE,
    currency VARCHAR,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model)
);
