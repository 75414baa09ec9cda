"""Fixtures for the online drift tests: real stores (DuckDB, and chdb when installed) and a loader."""

from __future__ import annotations

import importlib.util

import pytest

BACKENDS = ["duckdb"] + (["chdb"] if importlib.util.find_spec("chdb") else [])


@pytest.fixture(params=BACKENDS)
def any_store(request):
    """A fresh in-memory event store of each backend."""
    from watchkeeper.store import open_store

    s = open_store(f"{request.param}://:memory:")
    yield s
    s.close()


@pytest.fixture
def duck():
    from watchkeeper.store import open_store

    s = open_store("duckdb://:memory:")
    yield s
    s.close()


def write(store, records: list, project: str = "default") -> None:
    """Validate and store prediction records the way the ingest route does."""
    from watchkeeper.ingest.records import validate

    batch = validate("predictions", records, project)
    assert batch.ok, [e.as_dict() for e in batch.errors[:3]]
    store.write([batch])


@pytest.fixture
def load():
    return write
