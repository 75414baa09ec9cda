"""Property tests: malformed batches always get a 4xx with the error shape, never a 5xx."""

from __future__ import annotations

import gzip
import json

import pytest

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=10)
field_names = st.sampled_from(["request_id", "timestamp", "model", "model_version", "release", "inputs", "output",
                               "scores", "probabilities", "latency_ms", "segment", "cost", "trace_id", "label", "kind",
                               "value", "error"])
records = st.one_of(values, st.dictionaries(field_names, values, max_size=8))
batches = st.lists(records, max_size=8)

@pytest.fixture(scope="module")
def shared():
    """One app and one TestClient for every example of this module (entering it runs the lifespan)."""
    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    with TestClient(create_app(ServerConfig(store_url="duckdb://:memory:"))) as c:
        yield c


def _check(r) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        err = r.json()["error"]
        assert set(err) == {"code", "message", "details"} and err["message"]
    else:
        body = r.json()
        assert body["accepted"] + len(body["rejected"]) >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["predictions", "labels", "feedback"]), batch=batches, partial=st.booleans())
def test_random_json_batches_never_5xx(shared, kind, batch, partial):
    """Any JSON value as a batch gets 2xx or a 4xx with the error shape."""
    c = shared
    r = c.post(f"/api/v1/{kind}" + ("?partial=true" if partial else ""), content=json.dumps(batch),
               headers={"Content-Type": "application/json"})
    _check(r)
    if r.status_code == 422:
        for d in r.json()["error"]["details"]:
            assert 0 <= d["index"] < len(batch) and "field" in d


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=300), ctype=st.sampled_from(["application/json", "application/x-ndjson", "text/plain", ""]),
       gz=st.booleans())
def test_random_bytes_never_5xx(shared, body, ctype, gz):
    """Garbage bytes, bad gzip and odd content types get a 4xx with the error shape."""
    headers = {"Content-Type": ctype} if ctype else {}
    if gz:
        headers["Content-Encoding"] = "gzip"
    c = shared
    r = c.post("/api/v1/predictions", content=body, headers=headers)
    _check(r)


def test_deeply_nested_input_is_refused_cleanly(shared):
    """A pathologically nested body is a 4xx, not a crash."""
    deep = "[" * 5000 + "]" * 5000
    c = shared
    r = c.post("/api/v1/predictions", content=deep, headers={"Content-Type": "application/json"})
    _check(r)
    assert r.status_code >= 400
    r = c.post("/api/v1/predictions", content=gzip.compress(json.dumps([{"model": "m", "output": 1, "inputs": {"a": {"b": [1]}}}]).encode()),
               headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    _check(r)
