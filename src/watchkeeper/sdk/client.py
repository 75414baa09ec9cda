"""The SDK client: every log call appends to a bounded deque and returns; one thread sends.

The hot path stamps the time, appends a tuple and returns (about a microsecond). Building JSON,
sampling payloads, gzip and HTTP all happen on the background thread. When the server is down
the deque fills, the oldest events are dropped and counted (``stats()``), and the caller never
blocks or sees an exception.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from typing import Any, Callable

from ..settings import resolve
from .serialize import dumps
from .transport import RETRYABLE, Transport, backoff

log = logging.getLogger("watchkeeper.sdk")

_PRED, _LABEL, _FEEDBACK, _SECURITY = 0, 1, 2, 3
_PATHS = {_PRED: "/api/v1/predictions?partial=true", _LABEL: "/api/v1/labels?partial=true",
          _FEEDBACK: "/api/v1/feedback?partial=true"}
_NAMES = {_PRED: "predictions", _LABEL: "labels", _FEEDBACK: "feedback", _SECURITY: "security events"}
_PATHS[_SECURITY] = "/api/v1/security/events?partial=true"  # from watchkeeper.guard

_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


class Client:
    """A connection to one watchkeeper server and project. Module functions use a default one."""

    def __init__(self, endpoint: str | None = None, project: str | None = None, api_key: str | None = None,
                 sample_rate: float | None = None, *, disabled: bool | None = None, max_queue: int | None = None,
                 batch_size: int | None = None, flush_interval: float | None = None, timeout: float | None = None,
                 redact: Callable[[dict], dict] | None = None):
        self.endpoint = resolve("endpoint", endpoint)
        self.project = resolve("project", project)
        self.api_key = resolve("api_key", api_key)
        self.sample_rate = float(resolve("sample_rate", sample_rate))
        if not 0.0 <= self.sample_rate <= 1.0:
            from ..errors import ConfigError

            raise ConfigError(f"sample_rate has value {self.sample_rate!r}. Expected a number between 0 and 1.")
        self.disabled = bool(resolve("disabled", disabled))
        self.max_queue = int(resolve("max_queue", max_queue))
        self.batch_size = int(resolve("batch_size", batch_size))
        self.flush_interval = float(resolve("flush_interval", flush_interval))
        self.timeout = float(resolve("timeout", timeout))
        if redact is None and os.environ.get("WATCHKEEPER_REDACT"):
            from ..security.redactor import from_env  # only loaded when redaction at source is asked for

            redact = from_env()
        elif isinstance(redact, str):
            from ..security.redactor import make_redactor

            redact = None if redact == "off" else make_redactor(redact)
        self.redact = redact
        self._transport = Transport(self.endpoint, self.api_key, self.project, self.timeout)
        self._prefix = os.urandom(6).hex() + "-"
        self._ids = itertools.count(1)
        self._stats = {"queued": 0, "sent": 0, "dropped": 0, "rejected": 0, "retries": 0, "send_errors": 0}
        self.last_error: str | None = None
        self._closed = False
        self._start()
        _clients.add(self)

    # -- lifecycle -------------------------------------------------------------------------
    def _start(self) -> None:
        self._q: deque = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._inflight = 0
        self._thread = threading.Thread(target=self._run, name="watchkeeper-sdk", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        # The child starts empty: the parent still owns (and will send) what was queued.
        self._prefix = os.urandom(6).hex() + "-"
        self._transport.close()
        self._start()

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Send everything queued; return True if the queue drained within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if not self._q and self._inflight == 0:
                return True
            self._idle.clear()
            self._wake.set()
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._idle.wait(0.05 if remaining is None else min(0.05, remaining))

    def shutdown(self, timeout: float = 5.0) -> None:
        """Flush, then stop the background thread. Further calls are dropped."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=1.0)
        self._transport.close()

    def stats(self) -> dict[str, Any]:
        out = dict(self._stats)
        out["queued"] = len(self._q)
        out["last_error"] = self.last_error
        return out

    # -- hot path -------------------------------------------------------------------------
    def log_prediction(self, model: str, inputs: dict | None = None, output: Any = None,
                       request_id: str | None = None, **fields: Any) -> str | None:
        """Queue one prediction; returns its request id (generated when not given)."""
        if self.disabled or self._closed:
            return request_id
        if request_id is None:
            request_id = self._prefix + str(next(self._ids))
        q = self._q
        if len(q) >= self.max_queue:
            q.popleft()
            self._stats["dropped"] += 1
        q.append((_PRED, time.time(), model, inputs, output, request_id, fields))
        if len(q) >= self.batch_size:
            self._wake.set()
        return request_id

    def log_label(self, request_id: str, label: Any, **fields: Any) -> None:
        """Queue the ground truth for an earlier prediction (any delay)."""
        if self.disabled or self._closed:
            return
        q = self._q
        if len(q) >= self.max_queue:
            q.popleft()
            self._stats["dropped"] += 1
        q.append((_LABEL, time.time(), None, None, label, request_id, fields))

    log_outcome = log_label

    def log_security_events(self, build: Callable[[], list]) -> None:
        """Queue security events; ``build()`` makes their records on the send thread (see watchkeeper.guard)."""
        if self.disabled or self._closed:
            return
        q = self._q
        if len(q) >= self.max_queue:
            q.popleft()
            self._stats["dropped"] += 1
        q.append((_SECURITY, time.time(), None, None, build, None, None))

    def log_feedback(self, request_id: str | None = None, kind: str = "thumbs", value: Any = None, **fields: Any) -> None:
        """Queue product feedback (thumbs, edit, escalation, ticket...) for a request or trace."""
        if self.disabled or self._closed:
            return
        q = self._q
        if len(q) >= self.max_queue:
            q.popleft()
            self._stats["dropped"] += 1
        fields["kind"] = kind
        q.append((_FEEDBACK, time.time(), None, None, value, request_id, fields))

    # -- background thread ------------------------------------------------------------------
    def _record(self, item: tuple) -> dict:
        kind, ts, model, inputs, output, request_id, fields = item
        if kind == _PRED:
            rec = {"request_id": request_id, "timestamp": ts, "model": model, "output": output}
            if inputs is not None and (self.sample_rate >= 1.0 or random.random() < self.sample_rate):
                rec["inputs"] = inputs
            rec.update(fields)
        elif kind == _LABEL:
            rec = {"request_id": request_id, "timestamp": ts, "label": output}
            rec.update(fields)
        else:
            rec = {"timestamp": ts, "value": output}
            if request_id is not None:
                rec["request_id"] = request_id
            rec.update(fields)
        if self.redact is not None:
            rec = self.redact(rec)
        return rec

    def _run(self) -> None:
        while not self._stop:
            if len(self._q) < self.batch_size:
                self._wake.wait(self.flush_interval)
            self._wake.clear()
            while self._q and not self._stop_sending():
                self._send_some()
            if not self._q and self._inflight == 0:
                self._idle.set()

    def _stop_sending(self) -> bool:
        return self._stop and not self._q

    def _send_some(self) -> None:
        q = self._q
        groups: dict[int, list] = {}
        self._inflight = 1
        try:
            for _ in range(min(len(q), self.batch_size)):
                try:
                    item = q.popleft()
                except IndexError:
                    break
                try:
                    if item[0] == _SECURITY:  # one verdict, one event per category; evidence is already redacted
                        groups.setdefault(_SECURITY, []).extend(item[4]())
                    else:
                        groups.setdefault(item[0], []).append(self._record(item))
                except Exception as exc:  # a value we cannot serialise: drop it, keep going
                    self._stats["rejected"] += 1
                    self.last_error = f"could not build record: {exc}"
            for kind, records in groups.items():
                self._deliver(kind, records)
        finally:
            self._inflight = 0

    def _deliver(self, kind: int, records: list[dict]) -> None:
        try:
            payload = dumps(records)
        except Exception as exc:
            self._stats["rejected"] += len(records)
            self.last_error = f"could not serialise {_NAMES[kind]}: {exc}"
            return
        attempt = 0
        while True:
            try:
                reply = self._transport.post(_PATHS[kind], payload)
            except Exception as exc:  # connection refused, reset, timeout...
                self._stats["send_errors"] += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                wait = backoff(attempt)
            else:
                if 200 <= reply.status < 300:
                    rejected = _count_rejected(reply.body)
                    self._stats["sent"] += len(records) - rejected
                    self._stats["rejected"] += rejected
                    return
                self.last_error = f"HTTP {reply.status}: {reply.body[:300]!r}"
                if reply.status not in RETRYABLE:
                    self._stats["rejected"] += len(records)
                    _warn_once(f"watchkeeper server rejected {len(records)} {_NAMES[kind]}: {self.last_error}")
                    return
                wait = reply.retry_after if reply.retry_after is not None else backoff(attempt)
            self._stats["retries"] += 1
            attempt += 1
            if self._stop and self._closed:
                self._stats["dropped"] += len(records)
                return
            # Wait, but wake early for shutdown; keep at most one batch in hand while retrying.
            deadline = time.monotonic() + min(wait, 30.0)
            while time.monotonic() < deadline and not (self._stop and self._closed):
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _count_rejected(body: bytes) -> int:
    if b'"rejected":[]' in body or not body:
        return 0
    try:
        import json

        return len(json.loads(body).get("rejected") or [])
    except Exception:
        return 0


_warned: dict[str, float] = {}


def _warn_once(message: str, every: float = 60.0) -> None:
    key = message[:80]
    now = time.monotonic()
    if now - _warned.get(key, -every) >= every:
        _warned[key] = now
        log.warning(message)


def _after_fork_in_child() -> None:
    for client in list(_clients):
        if not client._closed:
            client._after_fork()


def _at_exit() -> None:
    for client in list(_clients):
        try:
            client.shutdown(timeout=3.0)
        except Exception:  # pragma: no cover - never fail interpreter exit
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_at_exit)
