"""Property tests: whatever an OTLP client sends, the answer is 200 or the right 4xx, and the server stays up."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def small_client():
    from fastapi.testclient import TestClient

    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    with TestClient(create_app(ServerConfig(store_url="duckdb://:memory:", max_body_bytes=200_000))) as c:
        yield c


def _post(c, body: bytes, ctype: str):
    r = c.post("/v1/traces", content=body, headers={"content-type": ctype})
    assert c.get("/health").status_code == 200
    return r


@SETTINGS
@given(st.binary(max_size=2000))
def test_garbage_protobuf_is_400_or_harmless(small_client, body):
    """Random bytes as protobuf: a 400 with a Status body, or (if they happen to parse) a 200 storing nothing invalid."""
    r = _post(small_client, body, "application/x-protobuf")
    assert r.status_code in (200, 400)
    assert r.headers["content-type"] == "application/x-protobuf"


@SETTINGS
@given(st.binary(max_size=2000).filter(lambda b: not b.strip().startswith((b"{", b"["))))
def test_garbage_json_is_400(small_client, body):
    """Bytes that are not a JSON object as application/json always get 400 naming the problem."""
    r = _post(small_client, body, "application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] in ("invalid_json", "invalid_otlp_json")


ids = st.one_of(st.binary(min_size=0, max_size=20), st.just(bytes(16)), st.just(bytes(8)))


@SETTINGS
@given(trace_id=ids, span_id=ids, parent=ids)
def test_wrong_id_lengths_are_rejected_by_span(small_client, trace_id, span_id, parent):
    """Ids of the wrong length (or all zero) reject that span; a valid neighbour is still stored."""
    now = time.time_ns()
    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    spans.add(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name="maybe",
              start_time_unix_nano=now, end_time_unix_nano=now + 1)
    spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="good", start_time_unix_nano=now, end_time_unix_nano=now + 1)
    r = _post(small_client, req.SerializeToString(), "application/x-protobuf")
    assert r.status_code == 200
    valid = (len(trace_id) == 16 and trace_id != bytes(16) and len(span_id) == 8 and span_id != bytes(8)
             and len(parent) in (0, 8))
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    partial = ExportTraceServiceResponse.FromString(r.content).partial_success
    assert partial.rejected_spans == (0 if valid else 1)


@SETTINGS
@given(size=st.integers(min_value=1, max_value=400_000), n=st.integers(min_value=1, max_value=3))
def test_huge_attributes_are_413_over_the_limit_and_clipped_under_it(small_client, size, n):
    """Bodies over max_body_bytes get 413; big values under it are stored clipped, with a partial_success warning."""
    now = time.time_ns()
    attrs = [{"key": f"big{i}", "value": {"stringValue": "x" * size}} for i in range(n)]
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "ab" * 16, "spanId": "cd" * 8, "name": "huge", "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 5), "attributes": attrs}]}]}]}).encode()
    r = _post(small_client, body, "application/json")
    if len(body) > 200_000:
        assert r.status_code == 413
    else:
        assert r.status_code == 200
        if size > 32_768:
            assert "truncated" in r.json()["partialSuccess"]["errorMessage"]


def _nested(depth: int) -> dict:
    value: dict = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"kvlistValue": {"values": [{"key": "k", "value": value}]}}
    return value


@SETTINGS
@given(depth=st.integers(min_value=0, max_value=400))
def test_deep_nesting_is_rejected_cleanly(small_client, depth):
    """Deeply nested attribute values: kept up to 32 levels of containers, rejected beyond (400, the only span), never a crash."""
    now = time.time_ns()
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "ab" * 16, "spanId": "ef" * 8, "name": "deep", "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 5), "attributes": [{"key": "deep", "value": _nested(depth)}]}]}]}]}).encode()
    r = _post(small_client, body, "application/json")
    if len(body) > 200_000:
        assert r.status_code == 413
    elif depth <= 32:  # MAX_DEPTH containers, then the leaf
        assert r.status_code == 200
    else:
        message = r.json()["message"]  # ours past 32 levels, or the JSON parser's own depth limit
        assert r.status_code == 400 and ("nested deeper" in message or "depth limit" in message)


def test_deep_protobuf_nesting_is_400(small_client):
    """A protobuf body nested past the decoder's recursion limit is a 400, not a crash."""
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    value = AnyValue(string_value="leaf")
    for _ in range(150):
        outer = AnyValue()
        outer.kvlist_value.values.add(key="k").value.CopyFrom(value)
        value = outer
    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="deep", start_time_unix_nano=time.time_ns(),
        end_time_unix_nano=time.time_ns() + 1)
    sp.attributes.add(key="deep").value.CopyFrom(value)
    r = _post(small_client, req.SerializeToString(), "application/x-protobuf")
    assert r.status_code == 400
