"""Fixtures for the quality tests: a real in-memory DuckDB store and a loader for events."""

from __future__ import annotations

import pytest




@pytest.fixture
def store():
    from watchkeeper.store import open_store

    s = open_store("duckdb://:memory:")
    yield s
    s.close()


@pytest.fixture
def load(store):
    """Validate and write records the way the ingest route does: load(kind, records, project=...)."""
    from watchkeeper.ingest.records import validate

    def _load(kind: str, records: list, project: str = "default", received_us: int | None = None) -> None:
        batch = validate(kind, records, project, received_us)
        assert batch.ok, [e.as_dict() for e in batch.errors[:3]]
        store.write([batch])

    return _load
