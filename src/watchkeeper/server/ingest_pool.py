"""Ingest worker processes: decoding and validating large batches off the server's event loop.

Parsing JSON and checking every field of every record is pure Python and holds the GIL; on a
server with more than one core the rest of the server (HTTP, the store writer, queries) should
not wait behind it. Bodies of at least ``MIN_BYTES`` go to a pool of worker processes
(``ingest_workers``, default: one per core, none on a single core); smaller ones, and every body while
the pool is still starting, are prepared in-process. The reply and durability rules are the same
either way: the worker only prepares; the server process queues, logs and acknowledges.

The pool starts on the first large body, not with the server, so short-lived servers (tests,
scripts) never pay for it. A worker that dies is replaced; the batch it held is prepared again
in-process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence

from ..ingest.prepare import Step, prepare, prepare_packed, unpack
from ..ingest.records import Batch
from ..ingest.timestamps import now_us

log = logging.getLogger("watchkeeper.ingest")

MIN_BYTES = 16 * 1024  # on the wire (often gzip): a few hundred tabular predictions


def default_workers() -> int:
    """One per core (at most 4), none on one core. The server process mostly waits (on sockets, and on
    DuckDB, which releases the GIL), so a worker per core keeps every core busy under heavy ingest;
    with one fewer, the server's core idles whenever it waits (measured: ~1.3x the throughput on 2 cores)."""
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(4, cores)


class IngestPool:
    def __init__(self, workers: int | None = None, min_bytes: int = MIN_BYTES):
        self.workers = default_workers() if workers is None else max(0, workers)
        self.min_bytes = min_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._ready = False
        self._starting = False
        self._closed = False
        self._lock = threading.Lock()
        self.remote_batches = 0
        self.local_batches = 0

    async def prepare(self, kind: str, body: bytes, content_type: str | None, content_encoding: str | None,
                      limit: int, project: str, steps: Sequence[Step] = ()) -> Batch:
        received = now_us()
        remote, packed = await self.run(len(body), prepare_packed, kind, body, content_type, content_encoding, limit,
                                        project, tuple(steps), received)
        if remote:
            return unpack(packed)
        return prepare(kind, body, content_type, content_encoding, limit, project, steps, received)

    async def run(self, size: int, fn: Callable, *args: Any) -> tuple[bool, Any]:
        """``(True, fn(*args))`` computed in a worker process, or ``(False, None)``: do it in-process (the pool
        is off, starting or closed, or the body is under ``min_bytes``)."""
        if self.workers and size >= self.min_bytes and not self._closed:
            pool = self._pool if self._ready else self._start()
            if pool is not None:
                try:
                    result = await asyncio.wrap_future(pool.submit(fn, *args))
                except BrokenProcessPool:
                    log.warning("an ingest worker died; restarting the pool and preparing this batch in-process")
                    self._reset(pool)
                else:
                    self.remote_batches += 1
                    return True, result
        self.local_batches += 1
        return False, None

    def status(self) -> dict:
        """For /health: how many workers, whether they are up, and where batches were prepared."""
        return {"processes": self.workers, "ready": self._ready, "batches_in_workers": self.remote_batches,
                "batches_in_server": self.local_batches}

    def _start(self) -> ProcessPoolExecutor | None:
        """Begin starting the workers in the background; None until they are ready."""
        with self._lock:
            if self._starting or self._closed:
                return None
            self._starting = True
        threading.Thread(target=self._warm, name="watchkeeper-ingest-pool", daemon=True).start()
        return None

    def _warm(self) -> None:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(os.getpid(),))
        try:
            for fut in [pool.submit(_warm_up) for _ in range(self.workers)]:
                fut.result(timeout=120)
        except Exception as exc:  # the server keeps working in-process
            log.warning("ingest workers did not start (%s); preparing every batch in-process", exc)
            pool.shutdown(wait=False, cancel_futures=True)
            return
        with self._lock:
            if self._closed:
                pool.shutdown(wait=False, cancel_futures=True)
                return
            self._pool, self._ready = pool, True
        log.info("%d ingest worker process(es) ready", self.workers)

    def _reset(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool, self._ready, self._starting = None, False, False
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _init_worker(parent: int, every_s: float = 1.0) -> None:
    """Worker initializer: import everything a batch needs; collect garbage less often (a batch allocates
    tens of thousands of short-lived objects and no cycles worth chasing, so the default thresholds ran
    the collector over the imported modules many times a batch); and leave when the server process is
    gone (a server killed with SIGKILL cannot shut its pool down, and its idle workers would otherwise
    wait for work forever)."""
    _import_all()
    gc.freeze()  # what the imports made is never collected: leave it out of every later collection
    gc.set_threshold(10_000, 10, 10)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="watchkeeper-parent-watch", daemon=True).start()


def _warm_up() -> int:
    """A task that returns once its worker is up (its initializer has imported everything)."""
    return os.getpid()


def _import_all() -> None:
    """Import everything a batch needs, so the first real batch pays nothing."""
    import pyarrow  # noqa: F401

    from ..ingest import prepare as _p  # noqa: F401
    from ..ingest import spans_prepare as _s  # noqa: F401
    from ..store import schema  # noqa: F401

    pyarrow.array([0.5, None])  # pyarrow imports pandas on its first conversion (~0.5 s): pay it now
