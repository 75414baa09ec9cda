"""Module-level SDK functions bound to one default Client, created by ``init()``."""

from __future__ import annotations

import logging
from typing import Any

from .client import Client

log = logging.getLogger("watchkeeper.sdk")

_default: Client | None = None
_warned_uninit = False


def init(endpoint: str | None = None, project: str | None = None, api_key: str | None = None,
         sample_rate: float | None = None, **options: Any) -> Client:
    """Configure the default client. Arguments win over WATCHKEEPER_* environment variables."""
    global _default
    if _default is not None:
        _default.shutdown(timeout=2.0)
    _default = Client(endpoint=endpoint, project=project, api_key=api_key, sample_rate=sample_rate, **options)
    for hook in _init_hooks:
        hook(_default)
    return _default


_init_hooks: list = []  # features (tracing) that configure themselves on init()
_flush_hooks: list = []  # features (tracing) that flush with flush(timeout) -> bool


def get_client() -> Client | None:
    return _default


def _uninitialised(fn: str) -> None:
    global _warned_uninit
    if not _warned_uninit:
        _warned_uninit = True
        log.warning("watchkeeper.%s() called before watchkeeper.init(); nothing will be sent. "
                    "Call watchkeeper.init() or set WATCHKEEPER_DISABLED=1.", fn)


def log_prediction(model: str, inputs: dict | None = None, output: Any = None, request_id: str | None = None,
                   **fields: Any) -> str | None:
    """Log one prediction (non-blocking). Optional fields: model_version, release, scores/probabilities,
    latency_ms, segment, cost, trace_id, error, timestamp."""
    client = _default
    if client is None:
        _uninitialised("log_prediction")
        return request_id
    return client.log_prediction(model, inputs, output, request_id, **fields)


def log_label(request_id: str, label: Any, **fields: Any) -> None:
    """Log the ground truth for an earlier prediction, at any delay (non-blocking)."""
    client = _default
    if client is None:
        _uninitialised("log_label")
        return
    client.log_label(request_id, label, **fields)


log_outcome = log_label


def log_feedback(request_id: str | None = None, kind: str = "thumbs", value: Any = None, **fields: Any) -> None:
    """Log product feedback (thumbs, edit, escalation, ticket, ...) for a request or a trace."""
    client = _default
    if client is None:
        _uninitialised("log_feedback")
        return
    client.log_feedback(request_id, kind, value, **fields)


def flush(timeout: float | None = 10.0) -> bool:
    """Block until everything queued is sent (or ``timeout``); True if the queue drained."""
    drained = all([hook(timeout) for hook in _flush_hooks])  # e.g. spans of the tracer provider init() made
    return (True if _default is None else _default.flush(timeout)) and drained


def shutdown(timeout: float = 5.0) -> None:
    """Flush and stop the default client. Also runs at interpreter exit."""
    global _default
    if _default is not None:
        _default.shutdown(timeout)
        _default = None


def stats() -> dict[str, Any]:
    """Counters of the default client: queued, sent, dropped, rejected, retries, send_errors."""
    if _default is None:
        return {"queued": 0, "sent": 0, "dropped": 0, "rejected": 0, "retries": 0, "send_errors": 0, "last_error": None}
    return _default.stats()
