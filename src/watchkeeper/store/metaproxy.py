"""Event stores that keep their metadata elsewhere forward the MetaStore calls to it.

A ClickHouse-engine store cannot hold mutable metadata well, so it carries a ``meta_store``
(DuckDB beside chdb data; none for a ClickHouse server, which needs ``--meta``). Key management
called on the event store (``watchkeeper keys create --store chdb:///...``) lands there.

``rows`` is NOT forwarded: on an event store it reads events. Code reading metadata tables uses
the server's ``state.meta`` (which is this ``meta_store``), never ``state.store``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError


class CompanionMeta:
    _meta: Any = None

    @property
    def meta_store(self):
        if self._meta is None:
            raise ConfigError(
                f"{getattr(self, 'backend', 'this')} event store keeps no metadata; pass --meta postgresql://... "
                "(or --meta duckdb:///path for a single node)."
            )
        return self._meta

    def create_key(self, project: str, scopes: Sequence[str], name: str = ""):
        return self.meta_store.create_key(project, scopes, name)

    def find_key(self, secret: str):
        return self.meta_store.find_key(secret)

    def has_keys(self) -> bool:
        return self.meta_store.has_keys()

    def list_keys(self, project: str | None = None):
        return self.meta_store.list_keys(project)

    def revoke_key(self, key_id: str) -> bool:
        return self.meta_store.revoke_key(key_id)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Metadata statements go to the metadata store (as DuckDBStore.execute does)."""
        self.meta_store.execute(sql, params)

    def transaction(self):
        return self.meta_store.transaction()

    def try_lock(self, name: str) -> bool:
        return self.meta_store.try_lock(name)

    def unlock(self, name: str) -> None:
        self.meta_store.unlock(name)

    def projects(self) -> list[str]:
        names = set(self.meta_store.projects())
        names.update(r["project"] for r in self.rows("SELECT DISTINCT project AS project FROM predictions"))
        return sorted(names)
