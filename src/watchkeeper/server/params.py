"""Query parameters shared by the read API: time ranges and cursors."""

from __future__ import annotations

import base64
import re

from ..ingest.timestamps import now_us, parse_timestamp_us
from .errors import ApiError

_REL = re.compile(r"^(?:now-)?(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(name: str, value: str | None) -> int | None:
    """ISO 8601, epoch seconds, ``now``, or a duration ago (``15m``, ``now-1h``, ``7d``) -> µs."""
    if value is None or value == "":
        return None
    text = value.strip()
    if text == "now":
        return now_us()
    m = _REL.match(text)
    if m:
        return now_us() - int(float(m.group(1)) * _UNIT_S[m.group(2)] * 1_000_000)
    try:
        parsed: object = float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text
        return parse_timestamp_us(parsed)
    except ValueError as exc:
        raise ApiError(400, "invalid_argument", f"{name}={value!r}: {exc}; use ISO 8601, epoch seconds or a duration like 1h",
                       [{"field": name, "message": str(exc)}]) from None


def parse_limit(value: str | None, default: int = 100, maximum: int = 10_000) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise ApiError(400, "invalid_argument", f"limit={value!r} is not an integer", [{"field": "limit", "message": "not an integer"}]) from None
    if not 1 <= n <= maximum:
        raise ApiError(400, "invalid_argument", f"limit must be between 1 and {maximum}", [{"field": "limit", "message": "out of range"}])
    return n


def encode_cursor(*parts: object) -> str:
    raw = "\x1f".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str | None, arity: int) -> list[str] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        parts = raw.split("\x1f")
        if len(parts) != arity:
            raise ValueError
        return parts
    except Exception:
        raise ApiError(400, "invalid_argument", "cursor is not one this server issued", [{"field": "cursor", "message": "malformed"}]) from None
