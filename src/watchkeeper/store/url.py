"""Parse store URLs: duckdb:///path, duckdb://:memory:, chdb:///path, clickhouse://..., postgresql://..."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigError

SCHEMES = ("duckdb", "chdb", "clickhouse", "postgresql", "postgres")


@dataclass(frozen=True)
class StoreURL:
    scheme: str
    path: str  # file path for embedded stores, the full URL for servers
    raw: str

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.raw)
        if parts.password:
            return self.raw.replace(f":{parts.password}@", ":***@")
        return self.raw


def parse_store_url(raw: str) -> StoreURL:
    if "://" not in raw:
        # A bare path means a DuckDB file: the friendliest default for a laptop.
        return StoreURL("duckdb", raw, f"duckdb:///{raw}")
    scheme, rest = raw.split("://", 1)
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(f"Store URL {raw!r} has an unknown scheme {scheme!r}. Expected one of: {', '.join(SCHEMES)}.")
    if scheme in ("duckdb", "chdb"):
        # SQLAlchemy's convention: three slashes and a relative path, four for an absolute one
        # (duckdb:///data/wk.duckdb is ./data/wk.duckdb; duckdb:////var/lib/wk.duckdb is absolute).
        if rest in ("", "/", ":memory:", "/:memory:"):
            return StoreURL(scheme, ":memory:", raw)
        if not rest.startswith("/"):
            raise ConfigError(f"Store URL {raw!r} should be {scheme}:///relative/path or {scheme}:////absolute/path.")
        return StoreURL(scheme, rest[1:], raw)
    if scheme == "postgres":
        scheme = "postgresql"
    return StoreURL(scheme, raw, raw)
