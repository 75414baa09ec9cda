-- Metadata in PostgreSQL: small, mutable records. Each migration runs in one transaction.
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
CREATE INDEX meta_api_keys_project ON meta_api_keys (project);
