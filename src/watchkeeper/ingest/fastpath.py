"""Predictions from JSON bytes to columns in one typed decode, for the common well-formed batch.

Two decoders, tried in turn: the compiled one (``_predjson.c``, built where a C compiler is present)
for the plainest batches (ASCII, no escapes), then ``msgspec``. Both build the same columns.

``msgspec`` decodes the body straight into typed records and checks every type, length and range
that ``records._prediction_fast`` checks, in C. Whatever it does not accept (an unknown field, a
nested feature value, an ISO timestamp, a bad value anywhere) makes ``predictions`` return None, and
the batch takes the general path (``decode_body`` + ``records.validate``), which accepts the same
records and names the field of every error. Both paths give identical columns (tested).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Union

import msgspec
import orjson

from .records import _MAX_S, _MIN_S, COLUMNS, MAX_ID, MAX_STR, PLAIN_COLUMNS, Batch, safe_key

try:
    from . import _predjson
except ImportError:  # built without a C compiler: the msgspec path does it all
    _predjson = None

_I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # larger ones: general path
_Scalar = Union[str, bool, _I64, float, None]
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class _Prediction(msgspec.Struct, forbid_unknown_fields=True):
    model: _Id
    output: Union[Annotated[str, msgspec.Meta(max_length=MAX_STR)], _I64, float]
    request_id: Union[_Id, None] = None
    model_version: Union[Annotated[str, msgspec.Meta(max_length=MAX_ID)], None] = ""
    timestamp: Union[Annotated[float, msgspec.Meta(ge=_MIN_S, le=_MAX_S)], None] = None
    inputs: Union[dict[str, _Scalar], None] = None
    scores: Union[Annotated[list[Union[_I64, float]], msgspec.Meta(min_length=2, max_length=2)], None] = None
    latency_ms: Union[_NonNegative, None] = None
    cost: Union[_NonNegative, None] = None
    segment: Union[dict[str, _Scalar], None] = None
    trace_id: Union[Annotated[str, msgspec.Meta(max_length=64)], None] = None


_decode = msgspec.json.Decoder(list[_Prediction]).decode
_dumps = orjson.dumps


def predictions(body: bytes, project: str, received: int) -> Batch | None:
    """The batch in ``body`` (a JSON array of predictions), or None when it needs the general path."""
    if _predjson is not None:
        batch = native_predictions(body, project, received)
        if batch is not None:
            return batch
    return typed_predictions(body, project, received)


def native_predictions(body: bytes, project: str, received: int) -> Batch | None:
    """``typed_predictions`` by the compiled decoder, or None where it declines."""
    out = _predjson.decode(body, received)
    if out is None:
        return None
    (models, versions, rids, ts, inputs, sizes, labels, values, score, scores, latency, segments, cost,
     trace_ids, n, short_values, keys) = out
    columns = _columns(project, received, models, versions, rids, ts, inputs, sizes, labels, values, score, scores,
                       latency, segments, cost, trace_ids)
    batch = Batch(kind="predictions", columns=columns, rows=n)
    if short_values and all(map(safe_key, keys)):
        batch.notes[PLAIN_COLUMNS] = ("inputs", "segment")
    return batch


def _columns(project: str, received: int, models, versions, rids, ts, inputs, sizes, labels, values, score, scores,
             latency, segments, cost, trace_ids) -> dict[str, list]:
    """The prediction columns in store order, with the ones a batch holds constant filled in and a fresh id
    for every record without one."""
    n = len(models)
    if None in rids:
        rids = [rid if rid is not None else uuid.uuid4().hex for rid in rids]
    return dict(zip(COLUMNS["predictions"], (
        [project] * n, models, versions, rids, ts, [received] * n, [None] * n, [None] * n, inputs, sizes, labels,
        values, score, scores, latency, segments, cost, trace_ids, [None] * n, [None] * n,
    )))


def typed_predictions(body: bytes, project: str, received: int) -> Batch | None:
    """The batch by ``msgspec``'s typed decode, or None when it needs the general path."""
    try:
        recs = _decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    n = len(recs)
    if not n:
        return None
    outputs = [r.output for r in recs]
    kinds = set(map(type, outputs))
    if kinds == {int}:
        labels, values = list(map(str, outputs)), list(map(float, outputs))
    elif kinds == {str}:
        labels, values = outputs, [None] * n
    else:
        labels, values = [], []
        for out in outputs:
            t = type(out)
            if t is int:
                labels.append(str(out))
                values.append(float(out))
            elif t is str:
                labels.append(out)
                values.append(None)
            else:
                labels.append("")
                values.append(out)
    rids = [r.request_id for r in recs]
    versions = [r.model_version for r in recs]
    if None in versions:
        versions = [v or "" for v in versions]
    stamps = [r.timestamp for r in recs]
    ts = [received if s is None else int(s * 1_000_000) for s in stamps]
    # msgspec has checked every value is a str, bool, int of 64 bits, float or None: orjson writes them all.
    inputs = [None if r.inputs is None else _dumps(r.inputs).decode() for r in recs]
    segments = [None if r.segment is None else _dumps(r.segment).decode() for r in recs]
    scores = [r.scores for r in recs]
    trace_ids = [r.trace_id or None for r in recs]
    columns = _columns(project, received, [r.model for r in recs], versions, rids, ts, inputs,
                       [0 if r.inputs is None else len(r.inputs) for r in recs], labels, values,
                       [None if s is None else float(s[1]) for s in scores],
                       [None if s is None else _dumps(s).decode() for s in scores], [r.latency_ms for r in recs],
                       segments, [r.cost for r in recs], trace_ids)
    batch = Batch(kind="predictions", columns=columns, rows=n)
    objects = [r.inputs for r in recs if r.inputs] + [r.segment for r in recs if r.segment]
    if _plain(objects, "\n".join(filter(None, inputs + segments))):
        batch.notes[PLAIN_COLUMNS] = ("inputs", "segment")
    return batch


# A string value of 5 or more characters in compact JSON: `":"`, then 5 characters before the closing
# quote, or an escape among the first 5 (an escaped quote would hide the closing one).
_LONG_VALUE = re.compile(r'":"(?:[^"]{5}|[^"]{0,4}\\)')


def _plain(objects: list[dict], json_text: str) -> bool:
    """``records._plain`` for a whole column at once, erring towards False: no key that looks like a
    secret's (whatever its value) and no string value of 5 characters or more in ``json_text``, the
    objects' compact JSON."""
    if not all(map(safe_key, set().union(*objects))):
        return False
    return _LONG_VALUE.search(json_text) is None
