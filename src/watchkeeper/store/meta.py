"""Open the metadata store named by ``--meta`` (projects, keys, releases, rules, incidents).

- ``postgresql://user:pass@host:5432/db``: the scaled deployment; shared by every replica.
- ``duckdb:///path``: a DuckDB file of its own (for a single node over ``clickhouse://``).

Without ``--meta`` the event store holds metadata itself (DuckDB), or its companion does
(chdb: a DuckDB file beside the data directory); see ``meta_for``.
"""

from __future__ import annotations

from ..errors import ConfigError
from .url import parse_store_url


def open_meta_store(url: str, migrate: bool = True):
    """Open the metadata store at ``url``; with ``migrate``, create a fresh one and check an old one's schema."""
    parsed = parse_store_url(url)
    if parsed.scheme == "postgresql":
        try:
            from .postgres import PostgresMetaStore
        except ModuleNotFoundError as exc:
            raise ConfigError(f"--meta postgresql:// needs {exc.name!r}: pip install 'watchkeeper[clickhouse]'") from None
        meta = PostgresMetaStore(parsed.raw)
    elif parsed.scheme == "duckdb":
        from .duckdb import DuckDBStore

        meta = DuckDBStore(parsed.path)
    else:
        raise ConfigError(f"--meta {parsed.redacted} is not a metadata store. Expected postgresql://... or duckdb:///path.")
    if migrate:
        # Like open_store: a fresh store is created; an old one asks for `watchkeeper migrate`.
        if meta.is_empty():
            meta.migrate()
        meta.check_schema()
    return meta


def meta_for(store):
    """The MetaStore that goes with an event store opened without ``--meta``."""
    return getattr(store, "meta_store", store)
