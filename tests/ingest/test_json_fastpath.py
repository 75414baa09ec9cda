"""The typed JSON decodes (ingest/fastpath.py: compiled, then msgspec) build exactly the columns of the
general path, or decline."""

from __future__ import annotations

import json
import shutil
import sysconfig

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.ingest import fastpath
from watchkeeper.ingest.prepare import prepare
from watchkeeper.ingest.records import PLAIN_COLUMNS, _plain, validate

RECEIVED = 1_700_000_000_000_000

DECODERS = [fastpath.typed_predictions, fastpath.predictions]
if fastpath._predjson is not None:
    DECODERS.append(fastpath.native_predictions)

scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-10, 10),
                   st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
key = st.one_of(st.sampled_from(["plan", "tenure", "api_key", "Token", "x"]), st.text(max_size=4))
record = st.fixed_dictionaries({"model": st.one_of(st.sampled_from(["churn", "fraud"]), scalar)}, optional={
    "request_id": st.one_of(st.text(min_size=1, max_size=6), scalar),
    "model_version": st.one_of(st.sampled_from(["1", "2"]), scalar),
    "timestamp": st.one_of(st.floats(1e9, 2e9), st.integers(700_000_000, 7_000_000_000),
                           st.just("2026-01-02T03:04:05Z"), scalar),
    "inputs": st.one_of(st.dictionaries(key, scalar, max_size=4),
                        st.dictionaries(key, st.lists(scalar, max_size=1), max_size=1), scalar),
    "output": scalar,
    "scores": st.one_of(st.lists(st.floats(0, 1), min_size=2, max_size=2), st.lists(st.integers(0, 1), min_size=2,
                        max_size=2), st.lists(scalar, max_size=3), scalar),
    "latency_ms": st.one_of(st.floats(0, 1e4), st.integers(-3, 3), scalar),
    "cost": scalar,
    "segment": st.one_of(st.dictionaries(key, scalar, max_size=2), scalar),
    "trace_id": st.one_of(st.text(max_size=70), scalar),
    "error": st.one_of(st.none(), st.text(max_size=3)),
    "probabilities": st.lists(st.floats(0, 1), min_size=2, max_size=2),
})

# Records the fast path should take: every field valid, in the shapes clients send.
text = st.text(max_size=8)
flat = st.dictionaries(key, st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                                      st.floats(allow_nan=False, allow_infinity=False), text), max_size=4)
valid_record = st.fixed_dictionaries({"model": st.sampled_from(["churn", "fraud", "m\u00e9"]),
                                      "output": st.one_of(st.integers(-5, 5), st.floats(-1e6, 1e6), text)}, optional={
    "request_id": st.text(min_size=1, max_size=6),
    "model_version": st.one_of(st.sampled_from(["1", "2", ""]), st.none()),
    "timestamp": st.one_of(st.floats(1e9, 2e9), st.integers(700_000_000, 7_000_000_000), st.none()),
    "inputs": st.one_of(flat, st.none()),
    "scores": st.one_of(st.lists(st.floats(0, 1), min_size=2, max_size=2), st.lists(st.integers(0, 1), min_size=2,
                        max_size=2), st.none()),
    "latency_ms": st.one_of(st.floats(0, 1e4), st.integers(0, 100), st.none()),
    "cost": st.one_of(st.floats(0, 1), st.none()),
    "segment": st.one_of(flat, st.none()),
    "trace_id": st.one_of(st.text(max_size=64), st.none()),
})


def _general(body: bytes):
    return validate("predictions", orjson.loads(body), "p", RECEIVED)


def _typed(values: list) -> list:
    """Values with their types, floats by repr: 1 == 1.0 and 0.0 == -0.0 would hide a difference."""
    return [(type(v), repr(v) if isinstance(v, float) else v) for v in values]


def _same(fast, general, recs) -> None:
    assert not general.errors
    assert fast.rows == general.rows
    for name, column in general.columns.items():
        if name == "request_id":  # generated independently where a record has none
            column = [c if "request_id" in r and r["request_id"] else None for c, r in zip(column, recs)]
            mine = [c if "request_id" in r and r["request_id"] else None for c, r in zip(fast.columns[name], recs)]
            assert mine == column
            continue
        assert _typed(fast.columns[name]) == _typed(column), name
    if PLAIN_COLUMNS in fast.notes:  # plain may only be claimed where the general path's rule holds
        assert all(_plain(r.get("inputs")) and _plain(r.get("segment")) for r in recs)


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
@settings(max_examples=400, deadline=None)
@given(recs=st.lists(st.one_of(valid_record, valid_record, valid_record, record), min_size=1, max_size=4),
       spaced=st.booleans())
def test_fast_path_builds_the_general_paths_columns_or_declines(decode, recs, spaced):
    try:
        body = json.dumps(recs).encode() if spaced else orjson.dumps(recs)
    except (TypeError, ValueError):  # integers orjson cannot write
        body = json.dumps(recs).encode()
    fast = decode(body, "p", RECEIVED)
    try:
        general = _general(body)
    except orjson.JSONDecodeError:
        assert fast is None
        return
    if fast is None:
        return
    _same(fast, general, recs)


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
def test_common_tabular_batch_takes_the_fast_path_and_skips_redaction_of_plain_columns(decode):
    recs = [{"request_id": f"r{i}", "timestamp": 1.7e9 + i, "model": "churn", "model_version": "3",
             "inputs": {"tenure": i, "plan": "pro", "spend": 4.5, "ok": True, "note": None}, "output": i % 2,
             "scores": [0.25, 0.75], "latency_ms": 3, "segment": {"region": "eu"}, "cost": 0.001}
            for i in range(50)]
    for body in (orjson.dumps(recs), json.dumps(recs, indent=2).encode()):
        fast = decode(body, "p", RECEIVED)
        assert fast is not None
        _same(fast, _general(body), recs)
        assert fast.notes[PLAIN_COLUMNS] == ("inputs", "segment")


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
def test_values_the_fast_path_leaves_to_the_general_path(decode):
    base = {"model": "m", "output": 1}
    for extra in ({"inputs": {"nested": {"a": 1}}}, {"timestamp": "2026-01-02T03:04:05Z"}, {"output": True},
                  {"release": {"id": "r1"}}, {"request_id": 7}, {"inputs": {"big": 2**65}}, {"error": "boom"},
                  {"scores": {"yes": 0.9}}, {"model": ""}, {"latency_ms": -1}, {"project": "other"}):
        body = orjson.dumps([base, {**base, **extra}]) if "big" not in str(extra) else json.dumps([base, {**base, **extra}]).encode()
        assert decode(body, "p", RECEIVED) is None, extra


@pytest.mark.parametrize("decode", DECODERS, ids=lambda f: f.__name__)
def test_secrets_and_long_or_escaped_strings_are_never_called_plain(decode):
    for inputs in ({"api_key": 1}, {"pwd": "ab"}, {"e": "a@b.io"}, {"q": 'ab"cdef'}, {"q": "ab\\c"},
                   {"q": "\u00e9\u00e9\u00e9\u00e9\u00e9"}, {"q": "\x01\x02"}):
        body = orjson.dumps([{"model": "m", "output": 1, "inputs": {"plan": "a"}}, {"model": "m", "output": 1, "inputs": inputs}])
        fast = decode(body, "p", RECEIVED)
        if decode is fastpath.native_predictions and fast is None:  # escapes and non-ASCII: left to msgspec
            assert any(not str(v).isascii() or "\\" in json.dumps(v) for v in inputs.values()), inputs
            continue
        assert fast is not None
        long_or_secret = any(len(str(v)) >= 5 for v in inputs.values()) or "key" in str(inputs) or "pwd" in str(inputs)
        if long_or_secret:
            assert PLAIN_COLUMNS not in fast.notes, inputs


def test_prepare_uses_the_fast_path_and_keeps_errors_from_the_general_path():
    good = orjson.dumps([{"model": "m", "output": 1, "inputs": {"a": 1}}] * 3)
    batch = prepare("predictions", good, "application/json", None, 10**6, "p", received_us=RECEIVED)
    assert batch.rows == 3 and not batch.errors
    bad = orjson.dumps([{"model": "m", "output": 1}, {"model": "m"}, {"output": 2}])
    batch = prepare("predictions", bad, "application/json", None, 10**6, "p", received_us=RECEIVED)
    assert batch.rows == 1
    assert [(e.index, e.field) for e in batch.errors] == [(1, "output"), (2, "model")]
