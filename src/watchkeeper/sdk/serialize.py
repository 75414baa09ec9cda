"""JSON for the wire: orjson when it is installed, the standard library otherwise."""

from __future__ import annotations

import json
from typing import Any


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


try:
    import orjson

    _OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value, default=_default, option=_OPTS)

except ImportError:  # pragma: no cover - exercised in a venv without orjson

    def dumps(value: Any) -> bytes:
        return json.dumps(value, default=_default, separators=(",", ":"), allow_nan=False).encode()
