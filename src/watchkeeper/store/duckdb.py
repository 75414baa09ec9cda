"""The embedded store: events and metadata in one DuckDB file.

One process owns the file. Each thread gets its own cursor (DuckDB connections are not
thread-safe); writes arrive as Arrow tables and commit in one transaction per group of batches.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from ..errors import ConfigError, ConflictError, MigrationRequired, StoreError, StoreUnavailable
from ..ingest.records import Batch
from . import keys as keyfmt
from .base import KeyRecord
from .migrations import latest_version, load, split_statements
from .dialect import DuckDBDialect
from .schema import TABLES, batch_arrow
from .sqlstore import SQLEventStore



_COMBINE_BYTES = 1 << 30  # a group commit under this is inserted as one Arrow chunk (offsets stay below 2 GiB)
_EVENT_TABLES = re.compile(r"\b(?:" + "|".join(TABLES) + r")\b", re.IGNORECASE)
_READS_EVENTS: dict[str, bool] = {}


def _reads_events(sql: str) -> bool:
    """Whether a query may read an event table (which the ingest log may hold rows of, not yet committed)."""
    hit = _READS_EVENTS.get(sql)
    if hit is None:
        hit = _EVENT_TABLES.search(sql) is not None
        if len(_READS_EVENTS) < 4096:
            _READS_EVENTS[sql] = hit
    return hit


class DuckDBStore(SQLEventStore):
    """EventStore and MetaStore over one DuckDB database."""

    backend = "duckdb"
    dialect = DuckDBDialect()

    def __init__(self, path: str, *, read_only: bool = False):
        self.path = path
        self.url = f"duckdb:///{path}"
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        try:
            self._con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreUnavailable(
                    f"The store {path!r} is in use by another process (a running server?). "
                    "Stop it, or use the server's API with --endpoint and an admin key."
                ) from None
            raise StoreError(f"Cannot open DuckDB store {path!r}: {msg}") from None
        except duckdb.Error as exc:
            raise StoreError(f"Cannot open DuckDB store {path!r}: {exc}") from None
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------------
    def _cur(self) -> duckdb.DuckDBPyConnection:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cur = cur
        return cur

    before_read = None  # set by the ingest queue: commit acknowledged rows before a query sees the tables

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self.before_read is not None and _reads_events(sql):  # metadata never waits for event commits
            self.before_read()
        cur = self._cur()
        result = cur.execute(sql, list(params))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one writing statement (metadata); serialised with every other write."""
        with self._write_lock:
            try:
                self._cur().execute(sql, list(params))
            except duckdb.ConstraintException as exc:
                raise ConflictError(str(exc)) from None
            except duckdb.Error as exc:
                raise StoreError(f"DuckDB statement failed: {exc}") from None

    @contextmanager
    def transaction(self):
        """Run several metadata statements atomically: ``with store.transaction() as tx: tx.execute(...)``."""
        with self._write_lock:
            cur = self._cur()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield _Tx(cur)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._con.close()
            except duckdb.Error:
                pass

    def ping(self) -> None:
        try:
            self._cur().execute("SELECT 1").fetchall()
        except duckdb.Error as exc:
            raise StoreUnavailable(f"DuckDB store is not answering: {exc}") from None

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        cur = self._cur()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        return cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def _missing_migrations(self) -> list[int]:
        if self.schema_version() == 0:
            return []
        applied = {r[0] for r in self._cur().execute("SELECT version FROM schema_migrations").fetchall()}
        return [v for v, _, _ in load("duckdb") if v not in applied]

    def is_empty(self) -> bool:
        return self._cur().execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 0

    def migrate(self) -> int:
        """Apply every migration newer than the store's version; return how many ran."""
        cur = self._cur()
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
        applied = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()}
        ran = 0
        for version, name, sql in load("duckdb"):
            if version in applied:
                continue
            cur.execute("BEGIN TRANSACTION")
            try:
                for stmt in split_statements(sql):
                    cur.execute(stmt)
                cur.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise StoreError(f"Migration {name} failed: {exc}") from None
            ran += 1
        return ran

    def check_schema(self) -> None:
        version = self.schema_version()
        SCHEMA_VERSION = latest_version("duckdb")
        missing = self._missing_migrations()
        if missing and version >= SCHEMA_VERSION:
            raise MigrationRequired(
                f"Store {self.url} lacks migration(s) {', '.join(map(str, missing))}. Run: watchkeeper migrate --store {self.url}"
            )
        if version < SCHEMA_VERSION:
            raise MigrationRequired(
                f"Store {self.url} is at schema {version}; this watchkeeper needs {SCHEMA_VERSION}. "
                f"Run: watchkeeper migrate --store {self.url}"
            )
        if version > SCHEMA_VERSION:
            raise MigrationRequired(
                f"Store {self.url} is at schema {version}, newer than this watchkeeper ({SCHEMA_VERSION}). Upgrade watchkeeper."
            )

    # -- events -----------------------------------------------------------------------------
    def write(self, batches: Sequence[Batch]) -> None:
        """Append every batch in one transaction: all of them are stored or none."""
        self.write_tables([(b.kind, batch_arrow(b)) for b in batches if b.rows])

    def write_tables(self, tables, marker: tuple[int, int] | None = None) -> None:
        """Append Arrow tables (kind, table) in one transaction, with the ingest-log position they reach."""
        if not tables and marker is None:
            return
        by_kind: dict[str, list] = {}
        for kind, table in tables:
            by_kind.setdefault(kind, []).append(table)
        with self._write_lock:
            cur = self._cur()
            try:
                cur.execute("BEGIN TRANSACTION")
                for kind, parts in by_kind.items():
                    table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
                    if table.num_rows > 1 and table.nbytes < _COMBINE_BYTES:
                        # One chunk per column: DuckDB scans it on one thread with ~35-50% less CPU than many small
                        # chunks (it coordinates threads per chunk). Under 1 GiB, string offsets stay below 2 GiB.
                        table = table.combine_chunks()
                    cur.register("_wk_batch", table)
                    cur.execute(f"INSERT INTO {kind} SELECT * FROM _wk_batch")
                    cur.unregister("_wk_batch")
                if marker is not None:
                    cur.execute("DELETE FROM _wk_ingest_log")
                    cur.execute("INSERT INTO _wk_ingest_log VALUES (?, ?)", list(marker))
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise StoreError(f"DuckDB write failed: {exc}") from None

    # -- the ingest log (server/ingest_log.py) ------------------------------------------------
    @property
    def ingest_log_path(self) -> str | None:
        """Where the server keeps its ingest log for this store (None: commit every batch)."""
        return None if self.path == ":memory:" else self.path + ".ingest-log"

    def ingest_log_marker(self) -> tuple[int, int]:
        cur = self._cur()
        cur.execute("CREATE TABLE IF NOT EXISTS _wk_ingest_log (gen BIGINT, pos BIGINT)")
        row = cur.execute("SELECT gen, pos FROM _wk_ingest_log").fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # -- metadata ---------------------------------------------------------------------------
    def _ensure_project(self, cur, project: str) -> None:
        cur.execute("INSERT INTO meta_projects VALUES (?, now()) ON CONFLICT DO NOTHING", [project])

    def create_key(self, project: str, scopes: Sequence[str], name: str = "") -> tuple[KeyRecord, str]:
        if not project or not isinstance(project, str):
            raise ConfigError("A key needs a project name.")
        scopes = keyfmt.check_scopes(scopes)
        secret = keyfmt.new_secret()
        key_id = uuid.uuid4().hex[:12]
        with self._write_lock:
            cur = self._cur()
            self._ensure_project(cur, project)
            cur.execute(
                "INSERT INTO meta_api_keys VALUES (?, ?, ?, ?, ?, ?, now(), NULL)",
                [key_id, project, name, keyfmt.hash_secret(secret), secret[:8], ",".join(scopes)],
            )
        record = KeyRecord(key_id, project, name, scopes, secret[:8], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return record, secret

    def _key(self, row) -> KeyRecord:
        return KeyRecord(row["id"], row["project"], row["name"], tuple(row["scopes"].split(",")), row["prefix"],
                         str(row["created_at"]), row["revoked_at"] is not None)

    def find_key(self, secret: str) -> KeyRecord | None:
        rows = self.rows("SELECT * FROM meta_api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                          [keyfmt.hash_secret(secret)])
        return self._key(rows[0]) if rows else None

    def has_keys(self) -> bool:
        return self._cur().execute("SELECT count(*) FROM meta_api_keys WHERE revoked_at IS NULL").fetchone()[0] > 0

    def list_keys(self, project: str | None = None) -> list[KeyRecord]:
        if project:
            rows = self.rows("SELECT * FROM meta_api_keys WHERE project = ? ORDER BY created_at", [project])
        else:
            rows = self.rows("SELECT * FROM meta_api_keys ORDER BY project, created_at")
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self._write_lock:
            cur = self._cur()
            n = cur.execute("SELECT count(*) FROM meta_api_keys WHERE id = ? AND revoked_at IS NULL", [key_id]).fetchone()[0]
            cur.execute("UPDATE meta_api_keys SET revoked_at = now() WHERE id = ?", [key_id])
        return n > 0

    def projects(self) -> list[str]:
        rows = self.rows(
            "SELECT name FROM meta_projects UNION SELECT DISTINCT project FROM predictions ORDER BY 1"
        )
        return [r["name"] for r in rows]

    # -- locks ------------------------------------------------------------------------------
    def try_lock(self, name: str) -> bool:
        """Take the named lock if free. One process owns a DuckDB file, so an in-process lock is enough."""
        with self._write_lock:
            held = self.__dict__.setdefault("_locks", set())
            if name in held:
                return False
            held.add(name)
            return True

    def unlock(self, name: str) -> None:
        with self._write_lock:
            self.__dict__.setdefault("_locks", set()).discard(name)


class _Tx:
    def __init__(self, cur):
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._cur.execute(sql, list(params))
        except duckdb.ConstraintException as exc:
            raise ConflictError(str(exc)) from None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        result = self._cur.execute(sql, list(params))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]
