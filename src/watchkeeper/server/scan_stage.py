"""The security scan stage: ingested prompts, completions and tool results are scanned off the request path.

Ingest captures what the scanners need (``pipeline.originals``) before redaction and hands it here
after the batch is durable; a feeder thread passes it in chunks to a scan worker process
(scan_worker.py) at the lowest CPU priority and stores the security events that come back. So
scanning never holds the server's GIL and only gets CPU that ingest and queries leave idle.

The rule, when scanning falls behind (also in the README, "Security scanning on ingest"):

* while fewer than ``backlog`` items wait, every captured item of every batch is scanned;
* past that, each batch contributes a random sample of ``sample`` rows (spans or predictions);
* past twice that, nothing more is taken until the scanner catches up.

Rows not taken are counted in ``watchkeeper_security_scan_skipped_total{kind}`` and in ``/health``
(``security_scan.skipped``). If the worker process cannot start, scanning runs on the feeder thread
instead, sleeping as long as it scanned so that requests keep at least half of the interpreter.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any, Callable

import orjson
from prometheus_client import Counter, Gauge

from .scan_worker import read_frame, write_frame

log = logging.getLogger("watchkeeper.security")

BACKLOG = 2_000   # items waiting before batches are sampled
SAMPLE = 16       # rows per batch taken while behind
CHUNK = 32        # items per round trip to the worker
MAX_RESTARTS = 5  # deaths of a worker that never answered before scanning moves onto the feeder thread


class _WorkerGone(Exception):
    pass


class ScanStage:
    def __init__(self, on_events: Callable[[list[dict]], Any], registry=None, backlog: int = BACKLOG,
                 sample: int = SAMPLE, use_process: bool = True):
        self.on_events = on_events
        self.backlog = backlog
        self.sample = sample
        self.use_process = use_process
        self._items: deque = deque()
        self._pending = 0
        self._busy = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen | None = None
        self._closed = False
        self._deaths = 0
        self._answered = False
        self.scanned = 0
        self.skipped = 0
        self.errors = 0
        self.skipped_total = Counter("watchkeeper_security_scan_skipped_total",
                                     "Ingested rows (spans, predictions) not scanned for attacks because the "
                                     "scanner was behind.", ["kind"], registry=registry)
        backlog_gauge = Gauge("watchkeeper_security_scan_backlog", "Captured items waiting for the security scanner.",
                              registry=registry)
        backlog_gauge.set_function(lambda: self._pending)

    # -- ingest side -----------------------------------------------------------------------
    def quota(self) -> int | None:
        """How many rows of the next batch to capture for scanning: None for all of them."""
        pending = self._pending
        if pending < self.backlog:
            return None
        return self.sample if pending < 2 * self.backlog else 0

    def skip(self, kind: str, n: int) -> None:
        if n > 0:
            self.skipped += n
            self.skipped_total.labels(kind).inc(n)

    def submit(self, items: list[dict]) -> None:
        """Queue captured items (never blocks; the caller sampled them by ``quota``)."""
        if not items or self._closed:
            return
        with self._cond:
            self._items.extend(items)
            self._pending += len(items)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watchkeeper-security-scan", daemon=True)
                self._thread.start()
            self._cond.notify()

    def status(self) -> dict:
        """For /health."""
        mode = "process" if self.use_process else "thread"
        return {"backlog": self._pending, "scanned": self.scanned, "skipped": self.skipped, "errors": self.errors,
                "runs_in": mode, "rule": f"all items while fewer than {self.backlog} wait, then {self.sample} "
                                      f"rows per batch, none past {2 * self.backlog}"}

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued item is scanned (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Scan what is queued (up to ``timeout``), then stop the thread and the worker."""
        self.drain(timeout)
        with self._cond:
            self._closed = True
            left = len(self._items)
            self._items.clear()
            self._pending -= left
            self._cond.notify_all()
        if left:
            log.warning("security: %d captured items were not scanned before shutdown", left)
        if self._thread is not None:
            self._thread.join(timeout)
        self._stop_worker()

    # -- scanning side ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                chunk = [self._items.popleft() for _ in range(min(CHUNK, len(self._items)))]
            rows: list[dict] = []
            try:
                rows = self._scan(chunk)
            except Exception:  # scanning is best effort; ingest never waits for it
                self.errors += 1
                log.warning("security: scanning %d items failed", len(chunk), exc_info=True)
            finally:
                with self._cond:
                    self._pending -= len(chunk)
                    self.scanned += len(chunk)
                    self._cond.notify_all()
            if rows:
                try:
                    self.on_events(rows)
                except Exception:
                    self.errors += 1
                    log.warning("security: storing %d events failed", len(rows), exc_info=True)

    def _scan(self, chunk: list[dict]) -> list[dict]:
        if self.use_process:
            for attempt in range(2):  # a worker that dies is replaced, and the chunk tried once more
                try:
                    return self._scan_remote(chunk)
                except _WorkerGone:
                    self._deaths += 1
                    self._stop_worker()
                except OSError as exc:  # no worker can be started here at all
                    log.warning("security: cannot start the scan worker (%s); scanning on a thread", exc)
                    self.use_process = False
                    break
                if not self._answered and self._deaths >= MAX_RESTARTS:
                    log.warning("security: the scan worker never came up; scanning on a thread from now on")
                    self.use_process = False
                    break
            else:
                raise RuntimeError("the scan worker died twice on the same chunk; dropped it")
        from ..security.pipeline import scan_batch

        started = time.monotonic()
        rows = scan_batch(chunk)
        time.sleep(time.monotonic() - started)  # leave requests at least half of the interpreter
        return rows

    def _scan_remote(self, chunk: list[dict]) -> list[dict]:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            proc = self._proc = self._start_worker()
        try:
            write_frame(proc.stdin, orjson.dumps(chunk))
            data = read_frame(proc.stdout)
        except (OSError, ValueError):
            data = None
        if data is None:
            raise _WorkerGone()
        self._deaths, self._answered = 0, True
        reply = orjson.loads(data)
        if isinstance(reply, dict):
            raise RuntimeError(f"the scan worker failed on a chunk: {reply.get('error')}")
        return reply

    @staticmethod
    def _start_worker() -> subprocess.Popen:
        import watchkeeper

        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.abspath(watchkeeper.__file__)))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        return subprocess.Popen([sys.executable, "-m", "watchkeeper.server.scan_worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, close_fds=True)

    def _stop_worker(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # the worker exits when its input ends
            proc.wait(5)
        except Exception:
            proc.kill()
            proc.wait(5)
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
