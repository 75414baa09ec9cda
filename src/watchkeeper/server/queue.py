"""The ingest queue: request handlers hand validated batches to one writer thread.

A handler waits for its batch to be durable before it answers, so a 2xx means durable. Two modes:

- With an ingest log (a DuckDB file store): the writer appends each batch to the log (see
  ingest_log.py) and answers at once; it commits to the store in large groups (every
  ``COMMIT_AGE_S``, stretched to ``BUSY_COMMIT_AGE_S`` under heavy ingest, or ``COMMIT_ROWS`` rows)
  and whenever a query is about to read, so a reader always sees every acknowledged row.
- Without one (in-memory and ClickHouse stores): the writer commits whatever has queued up in
  one transaction (group commit) before answering.

The queue is bounded: when it is full, ingest answers 503 with Retry-After instead of growing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable, Sequence

from ..errors import StoreError
from ..ingest.records import Batch

log = logging.getLogger("watchkeeper.ingest")

_STOP = object()
_SYNC = object()
MAX_GROUP = 64
COMMIT_ROWS = 150_000   # above DuckDB's row-group size, so a commit writes blocks instead of WAL
COMMIT_AGE_S = 1.0
# Under heavy ingest (this many rows pending), rows may wait up to BUSY_COMMIT_AGE_S so that commits grow
# towards COMMIT_ROWS: DuckDB writes a smaller group through its WAL and rewrites the table's last row group
# at each checkpoint, ~14 µs of CPU a span at 20,000 rows a commit against ~5 µs at 150,000.
BUSY_ROWS = 10_000
BUSY_COMMIT_AGE_S = 5.0


class QueueFull(Exception):
    pass


_relaxed = threading.local()


def relax_reads() -> None:
    """Let the calling thread's reads skip ``sync``: they see what is committed, at most ``COMMIT_AGE_S`` old
    (``BUSY_COMMIT_AGE_S`` under heavy ingest). For background jobs: forcing a commit for each of their
    queries would break up the group commits."""
    _relaxed.on = True


class IngestQueue:
    def __init__(self, write: Callable[[Sequence[Batch]], None], maxsize: int = 256,
                 on_write: Callable[[float, int], None] | None = None, store=None, fsync: bool = False):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._on_write = on_write
        self.last_error: str | None = None
        self._closed = False
        self._store = store
        self._log = None
        self._pending: list = []          # (kind, arrow table) acknowledged, not yet in the store
        self._pending_rows = 0
        self._pending_since = 0.0
        self._pending_pos = 0
        path = getattr(store, "ingest_log_path", None) if store is not None else None
        if path:
            from .ingest_log import IngestLog

            self._log = IngestLog(path, fsync=fsync)
            self._recover()
            store.before_read = self.sync
        self._writer_ident: int | None = None
        self._thread = threading.Thread(target=self._run, name="watchkeeper-writer", daemon=True)
        self._thread.start()

    # -- public ----------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def capacity(self) -> int:
        return self._queue.maxsize

    @property
    def pending_rows(self) -> int:
        return self._pending_rows

    def submit(self, batches: Sequence[Batch]) -> Future:
        if self._closed:
            raise QueueFull()
        fut: Future = Future()
        try:
            self._queue.put_nowait((list(batches), fut))
        except queue.Full:
            raise QueueFull() from None
        return fut

    def sync(self, timeout: float = 30.0) -> None:
        """Block until every acknowledged row is committed to the store (readers call this)."""
        if self._log is None or (not self._pending and self._queue.empty()) or self._closed:
            return
        if threading.get_ident() == self._writer_ident or getattr(_relaxed, "on", False):
            return
        fut: Future = Future()
        try:
            self._queue.put((_SYNC, fut), timeout=timeout)
            fut.result(timeout)
        except Exception as exc:  # a reader must not fail because a commit is slow or failing
            log.warning("could not commit pending rows before a read: %s", exc)

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._store is not None and getattr(self._store, "before_read", None) == self.sync:
            self._store.before_read = None
        if self._log is not None:
            self._log.close()

    # -- writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        self._writer_ident = threading.get_ident()
        while True:
            timeout = None
            if self._pending:
                timeout = max(0.0, self._pending_since + self._max_age() - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._commit_pending()
                continue
            if item is _STOP:
                self._commit_pending()
                return
            group, syncs, stop = [], [], False
            self._take(item, group, syncs)
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                self._take(nxt, group, syncs)
            if group:
                if self._log is None:
                    self._commit_now(group)
                else:
                    self._append(group)
            if self._log is not None and (syncs or stop or self._pending_rows >= COMMIT_ROWS or (
                    self._pending and time.monotonic() - self._pending_since >= self._max_age())):
                self._commit_pending()
            for fut in syncs:
                if not fut.done():
                    fut.set_result(None)
            if stop:
                return

    def _max_age(self) -> float:
        """How long acknowledged rows wait for their commit (readers never wait: they force one)."""
        return COMMIT_AGE_S if self._pending_rows < BUSY_ROWS else max(COMMIT_AGE_S, BUSY_COMMIT_AGE_S)

    @staticmethod
    def _take(item, group: list, syncs: list) -> None:
        if item[0] is _SYNC:
            syncs.append(item[1])
        else:
            group.append(item)

    def _fail(self, group: list, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StoreError) else str(exc)
        log.error("ingest failed: %s", self.last_error)
        err = exc if isinstance(exc, StoreError) else StoreError(str(exc))
        for _, fut in group:
            fut.set_exception(err)

    def _commit_now(self, group: list) -> None:
        batches = [b for item in group for b in item[0]]
        started = time.perf_counter()
        try:
            self._write(batches)
        except Exception as exc:  # never let the writer thread die
            self._fail(group, exc)
            return
        self.last_error = None
        if self._on_write is not None:
            self._on_write(time.perf_counter() - started, sum(b.rows for b in batches))
        for _, fut in group:
            fut.set_result(None)

    def _append(self, group: list) -> None:
        from ..store.schema import batch_arrow

        try:
            tables = [(b.kind, batch_arrow(b)) for item in group for b in item[0] if b.rows]
            pos = self._log.append(tables) if tables else self._log.end
        except Exception as exc:
            self._fail(group, exc)
            return
        if tables:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.extend(tables)
            self._pending_rows += sum(t.num_rows for _, t in tables)
            self._pending_pos = pos
        for _, fut in group:
            fut.set_result(None)

    def _commit_pending(self) -> None:
        if not self._pending:
            return
        started = time.perf_counter()
        try:
            self._store.write_tables(self._pending, marker=(self._log.gen, self._pending_pos))
        except Exception as exc:  # the rows stay in the log and in memory; retried on the next tick
            self.last_error = f"commit to the store failed (rows are safe in the ingest log): {exc}"
            log.error(self.last_error)
            self._pending_since = time.monotonic()
            return
        self.last_error = None
        if self._on_write is not None:
            self._on_write(time.perf_counter() - started, self._pending_rows)
        self._pending, self._pending_rows = [], 0
        if self._log.end == self._pending_pos:
            self._log.reset()

    def _recover(self) -> None:
        """Replay what the log holds beyond the store's marker (rows acknowledged before a crash)."""
        gen, pos = self._store.ingest_log_marker()
        start = pos if gen == self._log.gen else None
        tables, end = [], None
        for end, record in self._log.records(start):
            tables.extend(record)
        if tables:
            self._store.write_tables(tables, marker=(self._log.gen, end))
            log.warning("replayed %d rows from the ingest log", sum(t.num_rows for _, t in tables))
        if not self._log.empty:
            self._log.reset()
