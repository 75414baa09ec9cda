"""The SDK's default redactor: personal data and secrets leave the user's process already redacted.

``make_redactor("mask"|"hash"|"drop", key=None)`` returns a function ``record -> record`` for
``Client(redact=...)``. It rewrites payload fields (inputs, output, label, value, comment,
segment, error, extra fields) and leaves identifiers alone (request_id, trace_id, model,
timestamp...), so joins and counts still work. ``from_env()`` reads ``WATCHKEEPER_REDACT``
(mask|hash|drop|off) and ``WATCHKEEPER_REDACT_KEY`` (the HMAC key for ``hash``; without it a
random per-process key is used, so hashes only join within one process).
"""

from __future__ import annotations

import os
import secrets
from typing import Callable

from ..errors import ConfigError
from .pii import redact_value

__all__ = ["make_redactor", "from_env", "IDENTIFIERS"]

IDENTIFIERS = frozenset({"request_id", "trace_id", "span_id", "model", "model_version", "version", "timestamp",
                         "kind", "project", "release", "id", "event_id", "type", "detector", "severity", "action",
                         "score", "scores", "probabilities", "latency_ms", "cost", "evidence", "source", "tenant"})


def make_redactor(mode: str, key: bytes | None = None) -> Callable[[dict], dict]:
    """A record redactor for ``Client(redact=...)``."""
    if mode not in ("mask", "hash", "drop"):
        raise ConfigError(f"redaction mode has value {mode!r}. Expected one of: drop, hash, mask (or off).")
    if mode == "hash" and not key:
        key = secrets.token_bytes(32)

    def redact_record(rec: dict) -> dict:
        return {k: (v if k in IDENTIFIERS else redact_value(v, mode, key)) for k, v in rec.items()}

    redact_record.mode = mode  # type: ignore[attr-defined]
    return redact_record


def from_env(environ: dict[str, str] | None = None) -> Callable[[dict], dict] | None:
    """The redactor named by ``WATCHKEEPER_REDACT``, or None when it is unset or ``off``."""
    env = os.environ if environ is None else environ
    mode = (env.get("WATCHKEEPER_REDACT") or "").strip().lower()
    if mode in ("", "off", "0", "false", "no"):
        return None
    raw = env.get("WATCHKEEPER_REDACT_KEY")
    return make_redactor(mode, raw.encode() if raw else None)
