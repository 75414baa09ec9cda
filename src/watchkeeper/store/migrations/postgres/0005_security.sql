-- Per-project settings (privacy: redaction mode, hash key, retention). Values are JSON text.
CREATE TABLE project_settings (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, name)
);
