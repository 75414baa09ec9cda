"""A ClickHouse server as the event store: ``--store clickhouse://user:pass@host:8123/db``.

Talks HTTP through ``clickhouse-connect``: reads come back as Arrow, writes go in as Arrow (one
block per table per group commit of the ingest queue, so no async-insert setting is needed). HTTP
is stateless, so a restarted server is picked up by the next statement; while it is down every
statement raises ``StoreUnavailable`` and ingest answers 503 with Retry-After.

URL options: ``?secure=true`` (HTTPS), ``?retention_days=N`` (TTL applied by ``watchkeeper
migrate``). Metadata needs ``--meta postgresql://...``: a ClickHouse store keeps none.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ConfigError, StoreError, StoreUnavailable
from .chbase import SETTINGS, ClickHouseBase, check_identifier, retention_from
from .metaproxy import CompanionMeta


class ClickHouseStore(CompanionMeta, ClickHouseBase):
    """EventStore over a ClickHouse server (metadata: pass ``--meta``)."""

    backend = "clickhouse"

    def __init__(self, url: str, *, connect_timeout: float = 10.0):
        import clickhouse_connect
        from clickhouse_connect.driver import exceptions as chx

        self._chx = chx
        parts = urlsplit(url)
        if not parts.hostname:
            raise ConfigError(f"Store URL {url!r} names no host. Expected clickhouse://user:pass@host:8123/db.")
        query = parse_qs(parts.query)
        self.retention_days = retention_from(query)
        self.database = check_identifier(unquote(parts.path.strip("/")) or "watchkeeper")
        secure = (query.get("secure") or ["false"])[0].lower() in ("1", "true", "yes")
        self.url = url.replace(f":{parts.password}@", ":***@") if parts.password else url
        self._closed = False
        try:
            self._client = clickhouse_connect.get_client(
                host=parts.hostname or "localhost", port=parts.port or (8443 if secure else 8123),
                username=unquote(parts.username or "default"), password=unquote(parts.password or ""),
                secure=secure, settings=dict(SETTINGS), connect_timeout=connect_timeout,
                client_name="watchkeeper",
            )
            self._client.command(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        except chx.OperationalError as exc:
            raise StoreUnavailable(f"ClickHouse at {parts.hostname}:{parts.port} is not reachable: {_line(exc)}") from None
        except chx.ClickHouseError as exc:
            raise StoreError(f"Cannot open ClickHouse store {self.url}: {_line(exc)}") from None
        self._client.database = self.database

    def _call(self, fn, *args, **kwargs):
        if self._closed:
            raise StoreUnavailable("the ClickHouse store is closed")
        try:
            return fn(*args, **kwargs)
        except self._chx.OperationalError as exc:
            raise StoreUnavailable(f"ClickHouse is not answering: {_line(exc)}") from None
        except self._chx.ClickHouseError as exc:
            raise StoreError(f"ClickHouse statement failed: {_line(exc)}") from None

    def _query(self, sql: str):
        return self._call(self._client.query_arrow, sql)

    def _command(self, sql: str) -> None:
        self._call(self._client.command, sql)

    def _insert(self, table: str, data) -> None:
        self._call(self._client.insert_arrow, table, data, database=self.database)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._client.close()
            except Exception:  # pragma: no cover
                pass

    def disk_bytes(self) -> int:
        got = self.rows("SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE active AND database = ?", [self.database])
        return int(got[0]["b"] or 0) if got else 0


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    return text.splitlines()[0][:300]

