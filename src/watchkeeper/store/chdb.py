"""The ClickHouse engine in-process (PyPI ``chdb``): ``--store chdb:///path``.

chdb embeds one ClickHouse server per process, bound to one data directory. This module keeps
that engine in a registry and counts the stores using it:

- ``chdb:///path`` opens the engine at ``path`` (database ``watchkeeper``). A second store for the
  same path shares it; a different path while the first is open is refused with a clear error.
- ``chdb://:memory:`` gets a private database ``wk_<random>`` inside whichever engine is open (an
  in-memory one if none is), dropped when the store closes. Tests open many of these side by side.

Every statement goes through one lock per engine: stores switch the current database with
``USE``, and chdb runs one query at a time anyway.

Metadata (projects, keys, and the releases/rules/incidents tables of other features) is mutable
and small, which suits ClickHouse badly, so a chdb store keeps it in a DuckDB file beside the data
directory (``<path>.meta.duckdb``; in memory for ``:memory:``). ``store.meta_store`` is that
DuckDB store; the server uses it as its MetaStore unless ``--meta`` names another one.
"""

from __future__ import annotations

import atexit
import os
import threading
import uuid
import weakref
from urllib.parse import parse_qs

from ..errors import StoreError, StoreUnavailable
from .chbase import SETTINGS, ClickHouseBase, literal, retention_from
from .metaproxy import CompanionMeta

_registry = threading.Lock()
_engine: "_Engine | None" = None
_open_stores: "weakref.WeakSet[ChDBStore]" = weakref.WeakSet()


class _Engine:
    """The process's one chdb session, its lock and how many stores use it."""

    def __init__(self, path: str):
        from chdb import session

        self.path = path
        self.lock = threading.RLock()
        self.refs = 0
        self.current_db: str | None = None
        try:
            self.session = session.Session(path)
        except Exception as exc:
            raise StoreError(f"Cannot open the chdb engine at {path!r}: {_first_line(exc)}") from None
        for name, value in SETTINGS.items():
            self.session.query(f"SET {name} = {literal(value)}")

    def use(self, database: str) -> None:
        if self.current_db != database:
            self.session.query(f"USE {database}")
            self.current_db = database

    def close(self) -> None:
        try:
            self.session.close()
        except Exception:  # pragma: no cover - closing a broken session
            pass


def _acquire(path: str) -> _Engine:
    global _engine
    with _registry:
        eng = _engine
        if eng is not None and eng.refs > 0:
            if path != ":memory:" and eng.path != path:
                raise StoreError(
                    f"chdb runs one engine per process and it is already open at {eng.path!r}; cannot also open "
                    f"{path!r}. Use one chdb path per process, or a ClickHouse server (clickhouse://...)."
                )
        elif eng is None or eng.path != path:
            if eng is not None:
                eng.close()
            eng = _engine = _Engine(path)
        eng.refs += 1
        return eng


@atexit.register
def _close_at_exit() -> None:
    """Close a still-open engine before interpreter teardown (chdb may crash if it is torn down later)."""
    global _engine
    for store in list(_open_stores):
        try:
            store.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass
    with _registry:
        if _engine is not None:
            _engine.close()
            _engine = None


def _release(eng: _Engine) -> None:
    global _engine
    with _registry:
        eng.refs -= 1
        if eng.refs <= 0 and _engine is eng and eng.path != ":memory:":  # keep an idle in-memory engine warm
            eng.close()
            _engine = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ChDBStore(CompanionMeta, ClickHouseBase):
    """EventStore over the in-process ClickHouse engine, with metadata in a DuckDB companion."""

    backend = "chdb"

    def __init__(self, path: str, *, retention_days: int | None = None):
        path, _, query = path.partition("?")
        self.retention_days = retention_days if retention_days is not None else retention_from(parse_qs(query))
        self.memory = path in ("", ":memory:")
        if self.memory:
            self.path = ":memory:"
            self.url = "chdb://:memory:"
            self.database = "wk_" + uuid.uuid4().hex[:16]
        else:
            self.path = os.path.abspath(path)
            self.url = f"chdb:///{path}"
            self.database = "watchkeeper"
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._closed = False
        self._engine = _acquire(self.path)
        try:
            with self._engine.lock:
                self._engine.session.query(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            from .duckdb import DuckDBStore

            self._meta = DuckDBStore(":memory:" if self.memory else self.path + ".meta.duckdb")
            _open_stores.add(self)
        except BaseException:
            self._closed = True
            _release(self._engine)
            raise

    # -- primitives -------------------------------------------------------------------------
    def _run(self, sql: str, fmt: str):
        if self._closed:
            raise StoreUnavailable("the chdb store is closed")
        eng = self._engine
        with eng.lock:
            try:
                eng.use(self.database)
                return eng.session.query(sql, fmt)
            except Exception as exc:
                raise StoreError(f"ClickHouse (chdb) statement failed: {_first_line(exc)}") from None

    def _query(self, sql: str):
        return self._run(sql, "ArrowTable")

    def _command(self, sql: str) -> None:
        self._run(sql, "CSV")

    def _insert(self, table: str, data) -> None:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        payload = sink.getvalue().to_pybytes()
        columns = ", ".join(data.column_names)
        if self._closed:
            raise StoreUnavailable("the chdb store is closed")
        eng = self._engine
        with eng.lock:
            try:
                eng.use(self.database)
                with eng.session.send_insert(f"INSERT INTO {table} ({columns})", "ArrowStream") as ins:
                    ins.append(payload)
                    ins.finish()
            except Exception as exc:
                raise StoreError(f"ClickHouse (chdb) insert into {table} failed: {_first_line(exc)}") from None

    # -- lifecycle --------------------------------------------------------------------------
    def migrate(self) -> int:
        ran = super().migrate()
        self._meta.migrate()
        return ran

    def check_schema(self) -> None:
        super().check_schema()
        self._meta.check_schema()

    def close(self) -> None:
        if self._closed:
            return
        if self.memory:
            try:
                self._command(f"DROP DATABASE IF EXISTS {self.database}")
            except StoreError:
                pass
        self._closed = True
        with self._engine.lock:
            if self._engine.current_db == self.database:
                self._engine.current_db = None
        _release(self._engine)
        self._meta.close()

    def __del__(self):  # a store dropped without close() (an app never started) frees its engine slot
        try:
            self.close()
        except Exception:
            pass

    def disk_bytes(self) -> int:
        """Bytes the event tables occupy on disk (compressed parts)."""
        got = self.rows("SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE active AND database = ?", [self.database])
        return int(got[0]["b"] or 0) if got else 0
