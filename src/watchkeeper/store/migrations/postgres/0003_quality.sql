-- Feedback loop metadata: eval runs (the whole run as a JSON document) and price tables.
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
    document TEXT NOT NULL
);
CREATE TABLE meta_prices (
    project VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    input_per_1k DOUBLE PRECISION,
    output_per_1k DOUBLE PRECISION,
    cached_per_1k DOUBLE PRECISION,
    compute_per_s DOUBLE PRECISION,
    currency VARCHAR,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model)
);
