"""The embedded store: events and metadata in one DuckDB file.

One process owns the file. Each thread gets its own cursor (DuckDB connections are not
thread-safe); writes arrive as Arrow tables and commit in one transaction per group of batches.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any, Sequence

import duckdb

from ..errors import ConfigError, MigrationRequired, StoreError, StoreUnavailable
from ..ingest.records import Batch
from . import keys as keyfmt
from .base import KeyRecord
from .migrations import load, split_statements
from .schema import SCHEMA_VERSION, to_arrow

_PRED_FIELDS = (
    "model, model_version, request_id, epoch_us(ts) AS ts_us, release_id, release, inputs, output_label, "
    "output_value, score, scores, latency_ms, segment, cost, trace_id, error, extra"
)


class DuckDBStore:
    """EventStore and MetaStore over one DuckDB database."""

    backend = "duckdb"

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

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._cur()
        result = cur.execute(sql, list(params))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]

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

    def is_empty(self) -> bool:
        return self._cur().execute("SELECT count(*) FROM information_schema.tables").fetchone()[0] == 0

    def migrate(self) -> int:
        """Apply every migration newer than the store's version; return how many ran."""
        cur = self._cur()
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
        current = self.schema_version()
        ran = 0
        for version, name, sql in load("duckdb"):
            if version <= current:
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
        tables = [(b.kind, to_arrow(b.kind, b.columns)) for b in batches if b.rows]
        if not tables:
            return
        with self._write_lock:
            cur = self._cur()
            try:
                cur.execute("BEGIN TRANSACTION")
                for kind, table in tables:
                    cur.register("_wk_batch", table)
                    cur.execute(f"INSERT INTO {kind} SELECT * FROM _wk_batch")
                    cur.unregister("_wk_batch")
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                raise StoreError(f"DuckDB write failed: {exc}") from None

    def predictions(self, project: str, *, model: str | None = None, since_us: int | None = None,
                    until_us: int | None = None, limit: int = 100,
                    after: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        where, params = ["project = ?"], [project]
        if model:
            where.append("model = ?")
            params.append(model)
        if since_us is not None:
            where.append("ts >= make_timestamp(?)")
            params.append(since_us)
        if until_us is not None:
            where.append("ts < make_timestamp(?)")
            params.append(until_us)
        if after is not None:
            where.append("(ts, request_id) > (make_timestamp(?), ?)")
            params.extend(after)
        sql = (f"SELECT {_PRED_FIELDS} FROM predictions WHERE {' AND '.join(where)} "
               f"ORDER BY ts, request_id LIMIT {int(limit)}")
        return self._rows(sql, params)

    def labels(self, project: str, *, request_ids: Sequence[str] | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        sql = "SELECT request_id, label, label_value, model, trace_id, epoch_us(ts) AS ts_us FROM labels WHERE project = ?"
        params: list[Any] = [project]
        if request_ids is not None:
            sql += " AND request_id IN (SELECT unnest(?))"
            params.append(list(request_ids))
        sql += f" ORDER BY ts LIMIT {int(limit)}"
        return self._rows(sql, params)

    def models(self, project: str) -> list[dict[str, Any]]:
        rows = self._rows(
            """
            SELECT model, count(*) AS predictions, list(DISTINCT model_version ORDER BY model_version) AS versions,
                   epoch_us(min(ts)) AS first_seen_us, epoch_us(max(ts)) AS last_seen_us,
                   count(error) AS errors, avg(latency_ms) AS mean_latency_ms
            FROM predictions WHERE project = ? GROUP BY model ORDER BY model
            """,
            [project],
        )
        labelled = {
            r["model"]: r["n"]
            for r in self._rows(
                """SELECT p.model, count(*) AS n FROM predictions p
                   SEMI JOIN labels l ON l.project = p.project AND l.request_id = p.request_id
                   WHERE p.project = ? GROUP BY p.model""",
                [project],
            )
        }
        for row in rows:
            row["labelled"] = labelled.get(row["model"], 0)
        return rows

    def counts(self, project: str) -> dict[str, int]:
        cur = self._cur()
        return {
            kind: cur.execute(f"SELECT count(*) FROM {kind} WHERE project = ?", [project]).fetchone()[0]
            for kind in ("predictions", "labels", "feedback")
        }

    def latency_series(self, project: str, model: str, *, since_us: int, until_us: int,
                       bucket_s: int) -> list[dict[str, Any]]:
        step = int(bucket_s) * 1_000_000
        rows = self._rows(
            f"""
            SELECT (epoch_us(ts) // {step}) * {step} AS t_us, count(*) AS count, count(error) AS errors,
                   quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS q
            FROM predictions
            WHERE project = ? AND model = ? AND ts >= make_timestamp(?) AND ts < make_timestamp(?)
            GROUP BY 1 ORDER BY 1
            """,
            [project, model, since_us, until_us],
        )
        for row in rows:
            q = row.pop("q") or [None, None, None]
            row["p50"], row["p95"], row["p99"] = q
        return rows

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
        rows = self._rows("SELECT * FROM meta_api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                          [keyfmt.hash_secret(secret)])
        return self._key(rows[0]) if rows else None

    def has_keys(self) -> bool:
        return self._cur().execute("SELECT count(*) FROM meta_api_keys WHERE revoked_at IS NULL").fetchone()[0] > 0

    def list_keys(self, project: str | None = None) -> list[KeyRecord]:
        if project:
            rows = self._rows("SELECT * FROM meta_api_keys WHERE project = ? ORDER BY created_at", [project])
        else:
            rows = self._rows("SELECT * FROM meta_api_keys ORDER BY project, created_at")
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self._write_lock:
            cur = self._cur()
            n = cur.execute("SELECT count(*) FROM meta_api_keys WHERE id = ? AND revoked_at IS NULL", [key_id]).fetchone()[0]
            cur.execute("UPDATE meta_api_keys SET revoked_at = now() WHERE id = ?", [key_id])
        return n > 0

    def projects(self) -> list[str]:
        rows = self._rows(
            "SELECT name FROM meta_projects UNION SELECT DISTINCT project FROM predictions ORDER BY 1"
        )
        return [r["name"] for r in rows]
