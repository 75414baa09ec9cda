"""Stores: where events and metadata live. ``open_store(url)`` picks the backend from the URL."""

from __future__ import annotations

from ..errors import ConfigError
from .url import parse_store_url


def open_store(url: str, *, create: bool = True):
    """Open the store at ``url``; a fresh store is migrated, an old one raises MigrationRequired."""
    parsed = parse_store_url(url)
    if parsed.scheme == "duckdb":
        from .duckdb import DuckDBStore

        store = DuckDBStore(parsed.path)
    elif parsed.scheme == "chdb":
        try:
            from .chdb import ChDBStore
        except ModuleNotFoundError as exc:
            raise ConfigError(f"--store chdb:// needs {exc.name!r}: pip install 'watchkeeper[clickhouse]'") from None
        store = ChDBStore(parsed.path)
    elif parsed.scheme == "clickhouse":
        try:
            from .clickhouse import ClickHouseStore
        except ModuleNotFoundError as exc:
            raise ConfigError(f"--store clickhouse:// needs {exc.name!r}: pip install 'watchkeeper[clickhouse]'") from None
        store = ClickHouseStore(parsed.raw)
    else:
        raise ConfigError(f"{parsed.scheme}:// is a metadata store; pass it as --meta, and an event store as --store.")
    if create and store.is_empty():
        store.migrate()
    store.check_schema()
    return store
