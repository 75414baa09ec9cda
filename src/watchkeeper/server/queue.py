"""The ingest queue: request handlers hand validated batches to one writer thread.

A handler waits for its batch to be durable before it answers, so a 2xx means durable. Two modes:

- With an ingest log (a DuckDB file store): the writer appends each batch to the log (see
  ingest_log.py) and answers at once; a committer thread moves the acknowledged rows to the store in
  large groups (every ``COMMIT_AGE_S``, stretched to ``BUSY_COMMIT_AGE_S`` under heavy ingest, or
  ``COMMIT_ROWS`` rows) while the writer goes on appending, and whenever a query is about to read,
  so a reader always sees every acknowledged row. Rows waiting beside a running commit are bounded
  (``MAX_PENDING_ROWS``): past that, the writer waits for the commit.
- Without one (in-memory and ClickHouse stores): the writer commits whatever has queued up in
  one transaction (group commit) before answering.

The queue is bounded: when it is full, ingest answers 503 with Retry-After instead of growing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence

from ..errors import StoreError
from ..ingest.records import Batch

log = logging.getLogger("watchkeeper.ingest")

_STOP = object()
_SYNC = object()
_WAKE = object()  # a commit has ended
MAX_GROUP = 64
COMMIT_ROWS = 150_000   # above DuckDB's row-group size, so a commit writes blocks instead of WAL
COMMIT_AGE_S = 1.0
# Under heavy ingest (this many rows pending), rows may wait up to BUSY_COMMIT_AGE_S so that commits grow
# towards COMMIT_ROWS: DuckDB writes a smaller group through its WAL and rewrites the table's last row group
# at each checkpoint, ~14 µs of CPU a span at 20,000 rows a commit against ~5 µs at 150,000.
BUSY_ROWS = 10_000
BUSY_COMMIT_AGE_S = 5.0
MAX_PENDING_ROWS = 2 * COMMIT_ROWS
SEAL_BYTES = 256 << 20  # a log this large is sealed at the next commit (see ingest_log.py)


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
        self._pending_mark = (0, 0)       # (log generation, position) the pending rows reach
        self._inflight = None             # (future, tables, rows, mark, sealed) of the running commit
        self._sealed = False              # a sealed log waits for its commit
        self._committer = None
        self._own_threads: set[int] = set()
        path = getattr(store, "ingest_log_path", None) if store is not None else None
        if path:
            from .ingest_log import IngestLog

            self._log = IngestLog(path, fsync=fsync)
            self._recover()
            store.before_read = self.sync
            self._committer = ThreadPoolExecutor(1, thread_name_prefix="watchkeeper-commit")
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
        """Acknowledged rows not yet committed to the store (waiting or in the running commit)."""
        inflight = self._inflight
        return self._pending_rows + (inflight[2] if inflight is not None else 0)

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
        if self._log is None or (not self._pending and self._inflight is None and self._queue.empty()) or self._closed:
            return
        if threading.get_ident() in self._own_threads or getattr(_relaxed, "on", False):
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
        if self._committer is not None:
            self._committer.shutdown(wait=False)
        if self._store is not None and getattr(self._store, "before_read", None) == self.sync:
            self._store.before_read = None
        if self._log is not None:
            self._log.close()

    # -- writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        self._own_threads.add(threading.get_ident())
        while True:
            self._reap()
            if self._due() and self._inflight is None:
                self._start_commit()
            timeout = None
            if self._pending and self._inflight is None:
                timeout = max(0.0, self._pending_since + self._max_age() - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                continue
            if item is _STOP:
                self._drain()
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
            if self._log is not None:
                if syncs or stop:
                    self._drain()
                elif self._pending_rows >= MAX_PENDING_ROWS and self._inflight is not None:
                    self._wait_for_commit()  # back-pressure: the store is slower than ingest
            for fut in syncs:
                if not fut.done():
                    fut.set_result(None)
            if stop:
                return

    def _max_age(self) -> float:
        """How long acknowledged rows wait for their commit (readers never wait: they force one)."""
        return COMMIT_AGE_S if self._pending_rows < BUSY_ROWS else max(COMMIT_AGE_S, BUSY_COMMIT_AGE_S)

    def _due(self) -> bool:
        return bool(self._pending) and (self._pending_rows >= COMMIT_ROWS
                                        or time.monotonic() - self._pending_since >= self._max_age())

    @staticmethod
    def _take(item, group: list, syncs: list) -> None:
        if item is _WAKE:
            return
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
            batches = [b for item in group for b in item[0] if b.rows]
            tables = [(b.kind, batch_arrow(b)) for b in batches]
            pos = self._log.append(tables, [b.ipc for b in batches]) if tables else self._log.end
        except Exception as exc:
            self._fail(group, exc)
            return
        if tables:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.extend(tables)
            self._pending_rows += sum(t.num_rows for _, t in tables)
            self._pending_mark = (self._log.gen, pos)
        for _, fut in group:
            fut.set_result(None)

    # -- commits: started and reaped by the writer thread, run by the committer thread -----------
    def _start_commit(self) -> None:
        tables, rows, mark = self._pending, self._pending_rows, self._pending_mark
        sealed = self._sealed
        if not sealed and self._log.end >= SEAL_BYTES:
            try:
                self._log.seal()  # the pending rows are all in the sealed log: ``mark`` still points into it
                self._sealed = sealed = True
            except OSError as exc:  # the log goes on growing; the next commit tries again
                log.error("could not seal the ingest log %s: %s", self._log.path, exc)
        self._pending, self._pending_rows = [], 0
        fut = self._committer.submit(self._commit, tables, mark)
        self._inflight = (fut, tables, rows, mark, sealed)
        fut.add_done_callback(self._wake)

    def _commit(self, tables: list, mark: tuple[int, int]) -> float:
        self._own_threads.add(threading.get_ident())
        started = time.perf_counter()
        self._store.write_tables(tables, marker=mark)
        return time.perf_counter() - started

    def _wake(self, _fut) -> None:
        try:
            self._queue.put_nowait(_WAKE)
        except queue.Full:
            pass  # the writer has items to take and reaps the commit on its way

    def _wait_for_commit(self) -> None:
        if self._inflight is not None:
            try:
                self._inflight[0].exception()  # waits
            finally:
                self._reap()

    def _drain(self) -> None:
        """Commit every acknowledged row now (a reader is waiting, or the server is stopping)."""
        self._wait_for_commit()
        if self._pending:
            self._start_commit()
            self._wait_for_commit()

    def _reap(self) -> None:
        if self._inflight is None or not self._inflight[0].done():
            return
        fut, tables, rows, mark, sealed = self._inflight
        self._inflight = None
        exc = fut.exception()
        if exc is not None:  # the rows stay in the log and go back in front of the pending ones; retried later
            self.last_error = f"commit to the store failed (rows are safe in the ingest log): {exc}"
            log.error(self.last_error)
            if not self._pending:
                self._pending_mark = mark
            self._pending = tables + self._pending
            self._pending_rows += rows
            self._pending_since = time.monotonic()
            return
        self.last_error = None
        if self._on_write is not None:
            self._on_write(fut.result(), rows)
        if sealed:
            from .ingest_log import drop_sealed

            drop_sealed(self._log.path)
            self._sealed = False
        if not self._pending and mark == (self._log.gen, self._log.end):
            self._log.reset()

    def _recover(self) -> None:
        """Replay what the logs (sealed, then current) hold beyond the store's marker: rows acknowledged
        before a crash."""
        import os

        from .ingest_log import IngestLog, drop_sealed, sealed_path

        gen, pos = self._store.ingest_log_marker()
        tables = []
        if os.path.exists(sealed_path(self._log.path)):
            old = IngestLog(sealed_path(self._log.path))
            try:
                if gen <= old.gen:  # a later generation in the marker: the sealed log is all in the store
                    for _, record in old.records(pos if gen == old.gen else None):
                        tables.extend(record)
            finally:
                old.close()
        for _, record in self._log.records(pos if gen == self._log.gen else None):
            tables.extend(record)
        if tables:
            self._store.write_tables(tables, marker=(self._log.gen, self._log.end))
            log.warning("replayed %d rows from the ingest log", sum(t.num_rows for _, t in tables))
        drop_sealed(self._log.path)
        if not self._log.empty:
            self._log.reset()
