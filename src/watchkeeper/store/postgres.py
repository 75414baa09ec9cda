"""PostgreSQL as the metadata store: ``--meta postgresql://user:pass@host:5432/db`` (psycopg 3).

Holds projects and API keys here, and the tables other features add through numbered migrations
in ``migrations/postgres/`` (releases, rules, incidents). Feature code is written once with ``?``
placeholders (``meta.rows``, ``meta.execute``, ``with meta.transaction() as tx``); this backend
turns them into psycopg's ``%s`` (so a literal ``%`` is fine, and PostgreSQL's ``?`` JSON
operators are not available: use ``jsonb_exists()``).

Connections come from a small pool. A pooled connection found dead (the server restarted) is
dropped and the statement is tried once more on a fresh one; when the server cannot be reached
at all, calls raise ``StoreUnavailable`` (the API answers 503 with Retry-After).
``try_lock(name)`` takes a session-level advisory lock on a dedicated connection, so it is held
until ``unlock(name)`` or until this process dies.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Sequence

import psycopg
from psycopg.rows import dict_row

from ..errors import ConfigError, ConflictError, MigrationRequired, StoreError, StoreUnavailable
from . import keys as keyfmt
from .base import KeyRecord
from .migrations import latest_version, load, split_statements


def translate(sql: str) -> str:
    """``?`` placeholders -> ``%s``, and a literal ``%`` -> ``%%``, outside quoted text and comments."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1].replace("%", "%%"))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _Pool:
    """A few open connections, handed out one per caller; broken ones are thrown away."""

    def __init__(self, conninfo: str, size: int, connect_timeout: float):
        self.conninfo, self.size, self.connect_timeout = conninfo, size, connect_timeout
        self._idle: list[psycopg.Connection] = []
        self._open = 0
        self._cond = threading.Condition()
        self.closed = False

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.conninfo, autocommit=True, row_factory=dict_row,
                                   connect_timeout=max(1, int(self.connect_timeout)))
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL is not reachable: {_line(exc)}") from None

    def get(self) -> tuple[psycopg.Connection, bool]:
        """A connection and whether it was reused (and so may have gone stale)."""
        with self._cond:
            while True:
                if self.closed:
                    raise StoreUnavailable("the PostgreSQL metadata store is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed and not conn.broken:
                        return conn, True
                    self._open -= 1
                if self._open < self.size:
                    self._open += 1
                    break
                self._cond.wait(5.0)
        try:
            return self._connect(), False
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def put(self, conn: psycopg.Connection) -> None:
        with self._cond:
            if self.closed or conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self._open -= 1
                _quiet_close(conn)
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            for conn in self._idle:
                _quiet_close(conn)
            self._idle.clear()
            self._cond.notify_all()


class PostgresMetaStore:
    """MetaStore over PostgreSQL: projects, keys, generic rows/execute/transaction, advisory locks."""

    backend = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 8, connect_timeout: float = 5.0):
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"Metadata URL {url!r} should start with postgresql://")
        self.url = url
        self._pool = _Pool(url, pool_size, connect_timeout)
        self._lock_conn: psycopg.Connection | None = None
        self._locks: set[str] = set()
        self._lock_guard = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _conn(self):
        conn, _ = self._pool.get()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    def _run(self, sql: str, params: Sequence[Any], fetch: bool):
        query = translate(sql)
        for attempt in (0, 1):
            conn, reused = self._pool.get()
            try:
                cur = conn.execute(query, list(params))
                return cur.fetchall() if fetch and cur.description is not None else None
            except psycopg.OperationalError as exc:
                if reused and attempt == 0 and conn.broken:
                    continue  # a stale pooled connection: the server restarted; try a fresh one
                raise StoreUnavailable(f"PostgreSQL is not answering: {_line(exc)}") from None
            except psycopg.errors.IntegrityError as exc:
                raise ConflictError(_line(exc)) from None
            except psycopg.Error as exc:
                raise StoreError(f"PostgreSQL statement failed: {_line(exc)}") from None
            finally:
                self._pool.put(conn)
        raise StoreUnavailable("PostgreSQL is not answering")  # pragma: no cover

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return self._run(sql, params, True) or []

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(sql, params, False)

    @contextmanager
    def transaction(self):
        """Several statements atomically: ``with meta.transaction() as tx: tx.execute(...)``."""
        with self._conn() as conn:
            try:
                with conn.transaction():
                    yield _Tx(conn)
            except psycopg.OperationalError as exc:
                raise StoreUnavailable(f"PostgreSQL is not answering: {_line(exc)}") from None

    def ping(self) -> None:
        self.rows("SELECT 1 AS ok")

    def close(self) -> None:
        with self._lock_guard:
            if self._lock_conn is not None:
                _quiet_close(self._lock_conn)
                self._lock_conn = None
                self._locks.clear()
        self._pool.close()

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL AS present"):
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) AS v FROM schema_migrations"))

    def is_empty(self) -> bool:
        return self.scalar("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()") == 0

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction, under an advisory lock."""
        ran = 0
        with self._conn() as conn:
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", [_lock_key("watchkeeper:migrate")])
                try:
                    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                                 "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
                    applied = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
                    for version, name, sql in load("postgres"):
                        if version in applied:
                            continue  # every missing number runs, also one below the newest applied
                        try:
                            with conn.transaction():
                                for stmt in split_statements(sql):
                                    conn.execute(stmt)
                                conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, now())", [version, name])
                        except psycopg.Error as exc:
                            raise StoreError(f"Migration {name} failed: {_line(exc)}") from None
                        ran += 1
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", [_lock_key("watchkeeper:migrate")])
            except psycopg.OperationalError as exc:
                raise StoreUnavailable(f"PostgreSQL is not answering: {_line(exc)}") from None
        return ran

    def check_schema(self) -> None:
        version, needed = self.schema_version(), latest_version("postgres")
        where = self.url.split("@")[-1]
        if version < needed:
            raise MigrationRequired(f"Metadata store {where} is at schema {version}; this watchkeeper needs {needed}. "
                                    "Run: watchkeeper migrate --meta URL")
        if version > needed:
            raise MigrationRequired(f"Metadata store {where} is at schema {version}, newer than this watchkeeper "
                                    f"({needed}). Upgrade watchkeeper.")

    # -- projects and keys (same semantics as DuckDBStore) -----------------------------------
    def create_key(self, project: str, scopes: Sequence[str], name: str = "") -> tuple[KeyRecord, str]:
        if not project or not isinstance(project, str):
            raise ConfigError("A key needs a project name.")
        scopes = keyfmt.check_scopes(scopes)
        secret = keyfmt.new_secret()
        key_id = uuid.uuid4().hex[:12]
        with self.transaction() as tx:
            tx.execute("INSERT INTO meta_projects VALUES (?, now()) ON CONFLICT DO NOTHING", [project])
            tx.execute("INSERT INTO meta_api_keys VALUES (?, ?, ?, ?, ?, ?, now(), NULL)",
                       [key_id, project, name, keyfmt.hash_secret(secret), secret[:8], ",".join(scopes)])
        record = KeyRecord(key_id, project, name, scopes, secret[:8], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return record, secret

    @staticmethod
    def _key(row) -> KeyRecord:
        return KeyRecord(row["id"], row["project"], row["name"], tuple(row["scopes"].split(",")), row["prefix"],
                         str(row["created_at"]), row["revoked_at"] is not None)

    def find_key(self, secret: str) -> KeyRecord | None:
        rows = self.rows("SELECT * FROM meta_api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                         [keyfmt.hash_secret(secret)])
        return self._key(rows[0]) if rows else None

    def has_keys(self) -> bool:
        return self.scalar("SELECT count(*) AS n FROM meta_api_keys WHERE revoked_at IS NULL") > 0

    def list_keys(self, project: str | None = None) -> list[KeyRecord]:
        if project:
            rows = self.rows("SELECT * FROM meta_api_keys WHERE project = ? ORDER BY created_at, id", [project])
        else:
            rows = self.rows("SELECT * FROM meta_api_keys ORDER BY project, created_at, id")
        return [self._key(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.transaction() as tx:
            n = tx.rows("SELECT count(*) AS n FROM meta_api_keys WHERE id = ? AND revoked_at IS NULL", [key_id])[0]["n"]
            tx.execute("UPDATE meta_api_keys SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL", [key_id])
        return n > 0

    def projects(self) -> list[str]:
        return [r["name"] for r in self.rows("SELECT name FROM meta_projects ORDER BY name")]

    # -- advisory locks ---------------------------------------------------------------------
    def try_lock(self, name: str) -> bool:
        """Take the cluster-wide lock ``name`` if no other session holds it; never waits."""
        with self._lock_guard:
            if name in self._locks:
                return False
            conn = self._lock_conn
            if conn is None or conn.closed or conn.broken:
                self._locks.clear()  # a lost session released its locks on the server too
                conn = self._lock_conn = self._pool._connect()
            try:
                got = conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", [_lock_key(name)]).fetchone()["ok"]
            except psycopg.OperationalError as exc:
                self._lock_conn = None
                self._locks.clear()
                raise StoreUnavailable(f"PostgreSQL is not answering: {_line(exc)}") from None
            if got:
                self._locks.add(name)
            return bool(got)

    def unlock(self, name: str) -> None:
        with self._lock_guard:
            if name not in self._locks or self._lock_conn is None:
                return
            self._locks.discard(name)
            try:
                self._lock_conn.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(name)])
            except psycopg.Error:
                _quiet_close(self._lock_conn)  # closing the session releases every lock it held
                self._lock_conn = None
                self._locks.clear()

    def holds_lock(self, name: str) -> bool:
        """Whether this store still holds ``name`` (false once its session was lost)."""
        with self._lock_guard:
            conn = self._lock_conn
            if name not in self._locks or conn is None or conn.closed:
                return False
            try:
                conn.execute("SELECT 1")
            except psycopg.Error:
                self._lock_conn = None
                self._locks.clear()
                return False
            return True


class _Tx:
    def __init__(self, conn):
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._conn.execute(translate(sql), list(params))
        except psycopg.errors.IntegrityError as exc:
            raise ConflictError(_line(exc)) from None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._conn.execute(translate(sql), list(params))
        return cur.fetchall() if cur.description is not None else []


def _lock_key(name: str) -> int:
    """A lock name as the signed 64-bit key pg_advisory_lock takes."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _quiet_close(conn) -> None:
    try:
        conn.close()
    except Exception:  # pragma: no cover
        pass
