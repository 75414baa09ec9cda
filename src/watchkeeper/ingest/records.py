"""Validate batches of predictions, labels and feedback into column lists.

One function per kind turns a list of JSON-decoded records into a ``Batch``: columns ready for
the store plus the errors found, each naming the record's index and the field. Validation is
plain Python written for speed (about 2 µs per record); there is no pydantic on this path.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from .timestamps import now_us, parse_timestamp_us

MAX_STR = 1024
MAX_ID = 256

KINDS = ("predictions", "labels", "feedback")

PREDICTION_COLUMNS = (
    "project", "model", "model_version", "request_id", "ts", "received_at", "release_id", "release",
    "inputs", "input_size", "output_label", "output_value", "score", "scores", "latency_ms",
    "segment", "cost", "trace_id", "error", "extra",
)
LABEL_COLUMNS = ("project", "request_id", "label", "label_value", "model", "trace_id", "ts", "received_at")
FEEDBACK_COLUMNS = ("project", "request_id", "trace_id", "kind", "value", "value_num", "comment", "ts", "received_at")

COLUMNS = {"predictions": PREDICTION_COLUMNS, "labels": LABEL_COLUMNS, "feedback": FEEDBACK_COLUMNS}

_PREDICTION_FIELDS = {
    "request_id", "timestamp", "model", "model_version", "release", "inputs", "output", "scores",
    "probabilities", "latency_ms", "segment", "cost", "trace_id", "error", "project", "id", "version",
}
_POSITIVE_KEYS = ("1", "true", "True", "yes", "positive", "pos")


@dataclass
class FieldError:
    index: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass
class Batch:
    """Validated rows of one kind, column by column.

    A batch validated in an ingest worker process arrives with ``table`` (Arrow) and ``summary``
    (see summary.py) filled in and ``columns`` converted from the table only on demand.
    """

    kind: str
    columns: dict[str, list[Any]]
    errors: list[FieldError] = field(default_factory=list)
    rows: int = 0
    summary: dict[str, Any] | None = None
    table: Any = None
    notes: dict[str, Any] = field(default_factory=dict)  # what ingest steps leave for after-ingest hooks
    ipc: bytes | None = None  # ``table`` as the Arrow IPC stream it was read from (the ingest log reuses it)
    # values the builder had before serialising them (spans: {row: details dict} of rows with documents or a
    # tool call), for ingest steps that would otherwise parse the JSON again; never stored nor sent
    objects: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class _Reject(Exception):
    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message


_DUMP_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _fallback(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars of kinds orjson does not know
        return value.item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=_DUMP_OPTS, default=_fallback).decode()


def _str(rec: dict, name: str, *, required: bool = False, limit: int = MAX_STR, default: str = "") -> str:
    value = rec.get(name)
    if value is None:
        if required:
            raise _Reject(name, "is required")
        return default
    if isinstance(value, str):
        if required and not value:
            raise _Reject(name, "must not be empty")
        if len(value) > limit:
            raise _Reject(name, f"is longer than {limit} characters")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Reject(name, f"must be a string, got {type(value).__name__}")


def _num(rec: dict, name: str, *, minimum: float | None = None) -> float | None:
    value = rec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Reject(name, f"must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise _Reject(name, "must be a finite number")
    if minimum is not None and value < minimum:
        raise _Reject(name, f"must be >= {minimum:g}")
    return value


def _ts(rec: dict, received: int) -> int:
    value = rec.get("timestamp")
    if value is None:
        return received
    try:
        return parse_timestamp_us(value)
    except ValueError as exc:
        raise _Reject("timestamp", str(exc)) from None


def _flat_dict(rec: dict, name: str) -> str | None:
    value = rec.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Reject(name, f"must be an object, got {type(value).__name__}")
    for key, item in value.items():
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise _Reject(f"{name}.{key}", "must be a string, number, boolean or null")
    return _dumps(value)


def _scalar_label(value: Any, name: str) -> tuple[str, float | None]:
    """Return (text, numeric) for a label/output scalar."""
    if isinstance(value, bool):
        return ("true" if value else "false"), (1.0 if value else 0.0)
    if isinstance(value, int):
        return str(value), float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Reject(name, "must be a finite number")
        return "", value
    if isinstance(value, str):
        if len(value) > MAX_STR * 64:
            raise _Reject(name, "is too long")
        return value, None
    raise _Reject(name, f"must be a string, number or boolean, got {type(value).__name__}")


def _scores(value: Any) -> tuple[str | None, float | None]:
    """Validate scores/probabilities; return their JSON and the positive-class score if it is clear."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        raise _Reject("scores", "must be a number, a list of numbers or an object of numbers")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise _Reject("scores", "must be finite")
        return _dumps(value), float(value)
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
                raise _Reject(f"scores[{i}]", "must be a finite number")
        score = float(value[1]) if len(value) == 2 else (float(max(value)) if value else None)
        return _dumps(value), score
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
                raise _Reject(f"scores.{key}", "must be a finite number")
        score = None
        for key in _POSITIVE_KEYS:
            if key in value:
                score = float(value[key])
                break
        if score is None and value:
            score = float(max(value.values()))
        return _dumps(value), score
    raise _Reject("scores", f"must be a number, a list or an object, got {type(value).__name__}")


def _prediction(rec: dict, project: str, received: int) -> tuple:
    model = _str(rec, "model", required=True, limit=MAX_ID)
    request_id = _str(rec, "request_id", limit=MAX_ID) or _str(rec, "id", limit=MAX_ID) or uuid.uuid4().hex
    version = _str(rec, "model_version", limit=MAX_ID) or _str(rec, "version", limit=MAX_ID)
    release = rec.get("release")
    release_json = release_id = None
    if release is not None:
        if isinstance(release, str):
            release_id, release_json = release, None
        elif isinstance(release, dict):
            release_json = _flat_dict(rec, "release")
            rid = release.get("id") or release.get("name")
            release_id = str(rid) if rid is not None else None
        else:
            raise _Reject("release", f"must be an object or a string, got {type(release).__name__}")
    inputs = rec.get("inputs")
    inputs_json = None
    input_size = 0
    if inputs is not None:
        if not isinstance(inputs, dict):
            raise _Reject("inputs", f"must be an object of feature values, got {type(inputs).__name__}")
        input_size = len(inputs)
        inputs_json = _dumps(inputs)
    if "output" not in rec:
        raise _Reject("output", "is required")
    output = rec["output"]
    if output is None:
        output_label, output_value = None, None
    elif isinstance(output, (dict, list)):
        output_label, output_value = _dumps(output), None
    else:
        output_label, output_value = _scalar_label(output, "output")
    scores_json, score = _scores(rec.get("probabilities", rec.get("scores")))
    if score is None and output_value is not None and output_label == "" and 0.0 <= output_value <= 1.0:
        score = None  # a regression value is not a probability; leave score empty
    error = rec.get("error")
    if error is not None and not isinstance(error, str):
        error = _dumps(error)
    extra = None
    unknown = [k for k in rec if k not in _PREDICTION_FIELDS]
    if unknown:
        extra = _dumps({k: rec[k] for k in unknown})
    return (
        project, model, version, request_id, _ts(rec, received), received, release_id, release_json,
        inputs_json, input_size, output_label, output_value, score, scores_json,
        _num(rec, "latency_ms", minimum=0.0), _flat_dict(rec, "segment"), _num(rec, "cost", minimum=0.0),
        _str(rec, "trace_id", limit=64) or None, error, extra,
    )


_FLOATY = (int, float)
_SCALARS = (str, int, float, bool, type(None))
_MIN_S, _MAX_S = 631_152_000, 7_258_118_400


def _prediction_fast(rec: dict, project: str, received: int) -> tuple | None:
    """The common, well-formed prediction in one pass; None sends the record to the careful path.

    Every check here is also made by ``_prediction``; this only avoids its per-field calls, and
    any doubt falls back to it, which then names the field in its error.
    """
    if not rec.keys() <= _PREDICTION_FIELDS or "id" in rec or "version" in rec or "probabilities" in rec:
        return None
    get = rec.get
    model = get("model")
    if type(model) is not str or not model or len(model) > MAX_ID:
        return None
    rid = get("request_id")
    if rid is None:
        rid = uuid.uuid4().hex
    elif type(rid) is not str or not rid or len(rid) > MAX_ID:
        return None
    version = get("model_version", "")
    if type(version) is not str or len(version) > MAX_ID:
        return None
    ts = get("timestamp")
    if ts is None:
        ts_us = received
    elif type(ts) in _FLOATY and _MIN_S <= ts <= _MAX_S:
        ts_us = int(ts * 1_000_000)
    else:
        return None
    if get("release") is not None or get("error") is not None:
        return None
    inputs = get("inputs")
    if inputs is None:
        inputs_json, size = None, 0
    elif type(inputs) is dict:
        inputs_json, size = _dumps(inputs), len(inputs)
    else:
        return None
    if "output" not in rec:
        return None
    out = rec["output"]
    t = type(out)
    if t is int:
        label, value = str(out), float(out)
    elif t is str and len(out) <= MAX_STR:
        label, value = out, None
    elif t is float and math.isfinite(out):
        label, value = "", out
    else:
        return None
    scores = get("scores")
    if scores is None:
        scores_json = score = None
    elif type(scores) is list and len(scores) == 2 and type(scores[0]) is float and type(scores[1]) is float \
            and math.isfinite(scores[0]) and math.isfinite(scores[1]):
        scores_json, score = _dumps(scores), scores[1]
    else:
        return None
    latency = get("latency_ms")
    if latency is not None:
        if type(latency) not in _FLOATY or not 0 <= latency < math.inf:
            return None
        latency = float(latency)
    cost = get("cost")
    if cost is not None:
        if type(cost) not in _FLOATY or not 0 <= cost < math.inf:
            return None
        cost = float(cost)
    segment = get("segment")
    if segment is not None:
        if type(segment) is not dict:
            return None
        for v in segment.values():
            if type(v) not in _SCALARS:
                return None
        segment = _dumps(segment)
    trace_id = get("trace_id")
    if trace_id is not None and (type(trace_id) is not str or len(trace_id) > 64):
        return None
    return (project, model, version, rid, ts_us, received, None, None, inputs_json, size, label, value,
            score, scores_json, latency, segment, cost, trace_id or None, None, None)


def _ranking_label(value: list | dict) -> str:
    """A ranking label: a list of relevant item ids, or an object {item id: graded relevance >= 0}."""
    if isinstance(value, list):
        if not all(isinstance(item, str) and len(item) <= MAX_ID for item in value):
            raise _Reject("label", "must be a string, number or boolean; a list label (ranking) must list "
                                   "relevant item ids as strings")
        return _dumps(value)
    for item in value.values():
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item) or item < 0:
            raise _Reject("label", "must be a string, number or boolean; an object label (ranking) must map "
                                   "item ids to relevance numbers >= 0")
    return _dumps(value)


def _label(rec: dict, project: str, received: int) -> tuple:
    request_id = _str(rec, "request_id", required=True, limit=MAX_ID)
    if "label" not in rec or rec["label"] is None:
        raise _Reject("label", "is required")
    raw = rec["label"]
    if isinstance(raw, (list, dict)):
        text, value = _ranking_label(raw), None
    else:
        text, value = _scalar_label(raw, "label")
    if text == "" and value is not None:
        text = repr(value)
    return (
        project, request_id, text, value, _str(rec, "model", limit=MAX_ID) or None,
        _str(rec, "trace_id", limit=64) or None, _ts(rec, received), received,
    )


def _feedback(rec: dict, project: str, received: int) -> tuple:
    request_id = _str(rec, "request_id", limit=MAX_ID) or None
    trace_id = _str(rec, "trace_id", limit=64) or None
    if request_id is None and trace_id is None:
        raise _Reject("request_id", "is required (or trace_id)")
    kind = _str(rec, "kind", required=True, limit=MAX_ID)
    value = rec.get("value")
    text, num = (None, None) if value is None else _scalar_label(value, "value")
    if text == "" and num is not None:
        text = repr(num)
    comment = _str(rec, "comment", limit=MAX_STR * 16) or None
    return (project, request_id, trace_id, kind, text, num, comment, _ts(rec, received), received)


_BUILDERS: dict[str, Callable[[dict, str, int], tuple]] = {
    "predictions": _prediction,
    "labels": _label,
    "feedback": _feedback,
}


def validate(kind: str, records: list[Any], project: str, received_us: int | None = None) -> Batch:
    """Validate ``records`` of ``kind``; valid rows become columns, invalid ones become errors."""
    build = _BUILDERS[kind]
    fast = _prediction_fast if kind == "predictions" else None
    names = COLUMNS[kind]
    received = now_us() if received_us is None else received_us
    rows: list[tuple] = []
    errors: list[FieldError] = []
    plain = fast is not None
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            errors.append(FieldError(index, "", f"record must be a JSON object, got {type(rec).__name__}"))
            continue
        if fast is not None:
            row = fast(rec, project, received)
            if row is not None:
                rows.append(row)
                if plain:
                    plain = _plain(rec.get("inputs")) and _plain(rec.get("segment"))
                continue
        plain = False
        try:
            rows.append(build(rec, project, received))
        except _Reject as exc:
            errors.append(FieldError(index, exc.field, exc.message))
    columns = {name: list(col) for name, col in zip(names, zip(*rows))} if rows else {n: [] for n in names}
    batch = Batch(kind=kind, columns=columns, errors=errors, rows=len(rows))
    if plain and rows:
        batch.notes[PLAIN_COLUMNS] = ("inputs", "segment")
    return batch


# ``notes`` key: JSON columns whose every value is a flat object of numbers, booleans and strings
# under 5 characters (none under a password-like key). Server-side redaction can find nothing there
# (an email, phone, card, IP or secret needs at least 5 characters) and skips them.
PLAIN_COLUMNS = "plain_json_columns"
_NUMS = (int, float, bool, type(None))
_SECRET_KEY = re.compile(r"(?i)pass|pwd|secret|token|key|auth|credential|cookie")
_SAFE_KEYS: dict[str, bool] = {}


def _plain(obj: Any) -> bool:
    if obj is None:
        return True
    if type(obj) is not dict:
        return False
    for k, v in obj.items():
        t = type(v)
        if t is str:
            if len(v) >= 5 or not safe_key(k):
                return False
        elif t not in _NUMS:
            return False
    return True


def safe_key(key: str) -> bool:
    """Whether a JSON key does not look like a secret's (``api_key``, ``password``...); remembered per key."""
    safe = _SAFE_KEYS.get(key)
    if safe is None:
        safe = _SECRET_KEY.search(key) is None
        if len(_SAFE_KEYS) < 10_000:
            _SAFE_KEYS[key] = safe
    return safe
