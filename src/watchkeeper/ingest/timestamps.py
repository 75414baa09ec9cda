"""Parse the timestamps clients send: RFC 3339 / ISO 8601 strings or epoch seconds."""

from __future__ import annotations

import time
from datetime import datetime, timezone

# Accept anything between 1990 and 2200; outside that a timestamp is almost surely a unit mistake.
_MIN_US = 631_152_000_000_000
_MAX_US = 7_258_118_400_000_000
_OUT_OF_RANGE = "timestamp is outside 1990..2200 (epoch seconds expected, not ms or ns)"


def now_us() -> int:
    return time.time_ns() // 1000


def parse_timestamp_us(value: object) -> int:
    """Return microseconds since the epoch (UTC) or raise ValueError with a readable reason.

    Numbers are seconds since the epoch (fractions allowed). Strings are ISO 8601; a string without
    a zone is taken as UTC.
    """
    if isinstance(value, bool):
        raise ValueError("expected an ISO 8601 string or epoch seconds, got a boolean")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("expected a finite number of epoch seconds")
        if not -1e12 < value < 1e12:  # past this, seconds times 1e6 may overflow a float
            raise ValueError(_OUT_OF_RANGE)
        us = int(value * 1_000_000)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value[:64]!r} is not an ISO 8601 timestamp") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        us = int(dt.timestamp() * 1_000_000)
    else:
        raise ValueError(f"expected an ISO 8601 string or epoch seconds, got {type(value).__name__}")
    if not _MIN_US <= us <= _MAX_US:
        raise ValueError(_OUT_OF_RANGE)
    return us


def format_us(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=timezone.utc).isoformat().replace("+00:00", "Z")
