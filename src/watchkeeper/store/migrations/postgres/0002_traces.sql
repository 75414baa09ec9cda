-- Metadata for traces: JSON Schemas for tool arguments. Times are integer microseconds (UTC).
CREATE TABLE meta_tool_schemas (
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    schema TEXT NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (project, name)
);
