-- Drift and contracts metadata: reference profiles and data contracts per model (see the DuckDB
-- migration of the same number). Times are integer microseconds (UTC).
CREATE TABLE reference_profiles (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    release TEXT NOT NULL,
    profile TEXT NOT NULL,
    rows BIGINT NOT NULL,
    source TEXT,
    created_by TEXT,
    created_us BIGINT NOT NULL,
    PRIMARY KEY (project, model, release)
);
CREATE TABLE model_contracts (
    project TEXT NOT NULL,
    model TEXT NOT NULL,
    contract TEXT NOT NULL,
    updated_by TEXT,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, model)
);
