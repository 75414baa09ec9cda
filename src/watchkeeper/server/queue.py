"""The ingest queue: request handlers hand validated batches to one writer thread.

A handler waits for its batch to be committed before it answers, so a 2xx means durable. The
writer commits whatever has queued up in one transaction (group commit), which is what makes
small concurrent batches cheap. The queue is bounded: when it is full, ingest answers 503 with
Retry-After instead of growing without limit.
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
MAX_GROUP = 64


class QueueFull(Exception):
    pass


class IngestQueue:
    def __init__(self, write: Callable[[Sequence[Batch]], None], maxsize: int = 256,
                 on_write: Callable[[float, int], None] | None = None):
        self._write = write
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._on_write = on_write
        self._thread = threading.Thread(target=self._run, name="watchkeeper-writer", daemon=True)
        self._thread.start()
        self.last_error: str | None = None
        self._closed = False

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def capacity(self) -> int:
        return self._queue.maxsize

    def submit(self, batches: Sequence[Batch]) -> Future:
        if self._closed:
            raise QueueFull()
        fut: Future = Future()
        try:
            self._queue.put_nowait((list(batches), fut))
        except queue.Full:
            raise QueueFull() from None
        return fut

    def close(self, timeout: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            group = [item]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                group.append(nxt)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list) -> None:
        batches = [b for item in group for b in item[0]]
        started = time.perf_counter()
        try:
            self._write(batches)
        except StoreError as exc:
            self.last_error = str(exc)
            log.error("store write failed: %s", exc)
            for _, fut in group:
                fut.set_exception(exc)
            return
        except Exception as exc:  # never let the writer thread die
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("store write failed")
            for _, fut in group:
                fut.set_exception(StoreError(str(exc)))
            return
        self.last_error = None
        if self._on_write is not None:
            self._on_write(time.perf_counter() - started, sum(b.rows for b in batches))
        for _, fut in group:
            fut.set_result(None)
