"""POST /v1/traces: content types, encodings, OTLP JSON quirks, limits, partial success, idempotency."""

from __future__ import annotations

import gzip
import json
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

TID = "5B8EFFF798038103D269B633813FC60C"


def _span(span_id: str, name: str = "op", parent: str | None = None, attrs: list | None = None, trace_id: str = TID,
          start: int | None = None, dur_ns: int = 2_000_000, status: int = 0) -> dict:
    start = start or time.time_ns()
    out = {"traceId": trace_id, "spanId": span_id, "name": name, "kind": 2, "startTimeUnixNano": str(start),
           "endTimeUnixNano": str(start + dur_ns), "attributes": attrs or [], "status": {"code": status}}
    if parent:
        out["parentSpanId"] = parent
    return out


def _export(*spans: dict, service: str = "svc") -> bytes:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}]}]}).encode()


def _post(client, body: bytes, ctype: str = "application/json", **headers):
    return client.post("/v1/traces", content=body, headers={"content-type": ctype, **headers})


def test_otlp_json_quirks_are_understood(client):
    """Uppercase hex ids, string int64s, integer enums and unknown fields are read as OTLP JSON intends."""
    body = _export(_span("EEE19B7EC3C1B174", "root", attrs=[
        {"key": "n", "value": {"intValue": "42"}}, {"key": "f", "value": {"doubleValue": 1.5}},
        {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}},
        {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "x", "value": {"boolValue": True}}]}}}],
        status=2) | {"someFutureField": 1})
    r = _post(client, body)
    assert r.status_code == 200 and r.json() == {}
    assert r.headers["content-type"].startswith("application/json")
    trace = client.get(f"/api/v1/traces/{TID.lower()}").json()
    span = trace["spans"][0]
    assert span["span_id"] == "eee19b7ec3c1b174" and span["trace_id"] == TID.lower()
    assert span["attributes"] == {"n": 42, "f": 1.5, "tags": ["a", "b"], "kv": {"x": True}}
    assert span["status"] == "error" and span["service"] == "svc"


def test_protobuf_with_gzip_answers_protobuf(client):
    """A gzipped protobuf export is stored, and the reply is an empty ExportTraceServiceResponse."""
    from google.protobuf import json_format

    req = json_format.ParseDict({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": "7uGbfsPBsXQ=", "name": "pb",
        "startTimeUnixNano": str(time.time_ns()), "endTimeUnixNano": str(time.time_ns() + 1000)}]}]}]},
        ExportTraceServiceRequest())
    r = _post(client, gzip.compress(req.SerializeToString()), "application/x-protobuf", **{"content-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(r.content).HasField("partial_success")
    assert client.get("/api/v1/traces/5b8efff798038103d269b633813fc60c").json()["spans"][0]["name"] == "pb"


def test_wrong_content_type_encoding_and_garbage(client):
    """415 for other content types and encodings; 400 for undecodable bodies and bad gzip."""
    assert _post(client, b"{}", "text/plain").status_code == 415
    assert _post(client, b"{}", "application/json", **{"content-encoding": "br"}).status_code == 415
    r = _post(client, b"{not json", "application/json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    assert _post(client, b"\xff\xff\xff\xff", "application/x-protobuf").status_code == 400
    assert _post(client, b"not gzip", "application/json", **{"content-encoding": "gzip"}).status_code == 400
    r = _post(client, json.dumps({"resourceSpans": {"oops": 1}}).encode())
    assert r.status_code == 400 and "resourceSpans" in r.json()["message"]


def test_body_over_the_limit_is_413():
    """A body (or a gzip bomb) larger than max_body_bytes after decompression gets 413."""
    from fastapi.testclient import TestClient

    from watchkeeper.server.app import create_app
    from watchkeeper.server.config import ServerConfig

    with TestClient(create_app(ServerConfig(store_url="duckdb://:memory:", max_body_bytes=10_000))) as c:
        big = _export(_span("eee19b7ec3c1b174", attrs=[{"key": "x", "value": {"stringValue": "a" * 20_000}}]))
        assert _post(c, big).status_code == 413
        assert _post(c, gzip.compress(big), **{"content-encoding": "gzip"}).status_code == 413
        assert c.get("/health").status_code == 200


def test_bad_spans_are_rejected_alone_with_partial_success(client):
    """Spans with bad ids are counted in partial_success; the good ones are stored; all-bad is a 400."""
    good = _span("eee19b7ec3c1b174", "good")
    short = _span("eee19b7e", "short id")
    zero = _span("0000000000000000", "zero id")
    r = _post(client, _export(good, short, zero))
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2" and "span_id must be 8 non-zero bytes" in partial["errorMessage"]
    assert client.get(f"/api/v1/traces/{TID.lower()}").json()["span_count"] == 1
    r = _post(client, _export(_span("abc", "nonhex"), _span("eee19b7ec3c1b174", trace_id="00" * 16)))
    assert r.status_code == 400 and "rejected" in r.json()["message"]


def test_retried_export_is_not_stored_twice(client):
    """Posting the same spans again (a retry after a lost ack) leaves one copy of each."""
    body = _export(_span("eee19b7ec3c1b174", "root"), _span("eee19b7ec3c1b175", "child", parent="eee19b7ec3c1b174"))
    for _ in range(3):
        assert _post(client, body).status_code == 200
    trace = client.get(f"/api/v1/traces/{TID.lower()}").json()
    assert trace["span_count"] == 2 and trace["summary"]["spans"] == 2
    assert [t["spans"] for t in client.get("/api/v1/traces").json()["traces"]] == [2]


def test_duplicates_already_in_the_store_are_deduped_on_read(client):
    """A duplicate that reached the store (after a restart) still counts once in every trace query."""
    body = _export(_span("eee19b7ec3c1b174", "root", attrs=[{"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
                                                          {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 5}}]))
    assert _post(client, body).status_code == 200
    client.app.state.wk.extras["traces"]["recent"].__init__()  # forget, as a restarted server would
    assert _post(client, body).status_code == 200
    assert client.app.state.wk.store.scalar("SELECT count(*) FROM spans") == 2
    listed = client.get("/api/v1/traces").json()["traces"]
    assert len(listed) == 1 and listed[0]["spans"] == 1 and listed[0]["input_tokens"] == 5
    assert client.get(f"/api/v1/traces/{TID.lower()}").json()["span_count"] == 1
    series = client.get("/api/v1/traces/latency").json()["series"]
    assert sum(p["count"] for s in series for p in s["points"]) == 1


def test_full_queue_answers_503_with_retry_after(client):
    """Back-pressure from the ingest queue becomes 503 + Retry-After, which OTLP exporters retry."""
    from watchkeeper.server.queue import QueueFull

    class Full:
        def submit(self, batches):
            raise QueueFull()

    st = client.app.state.wk
    real, st.queue = st.queue, Full()
    try:
        r = _post(client, _export(_span("eee19b7ec3c1b174")))
    finally:
        st.queue = real
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["code"] == 14


def test_unknown_attributes_are_kept_and_searchable(client):
    """An attribute no convention knows is stored and matches attr= and q= searches."""
    body = _export(_span("eee19b7ec3c1b174", "root", attrs=[{"key": "acme.customer_tier", "value": {"stringValue": "gold"}}]))
    assert _post(client, body).status_code == 200
    assert len(client.get("/api/v1/traces?attr=acme.customer_tier=gold").json()["traces"]) == 1
    assert client.get("/api/v1/traces?attr=acme.customer_tier=silver").json()["traces"] == []
    assert len(client.get("/api/v1/traces?q=GOLD").json()["traces"]) == 1
    assert client.get("/api/v1/traces?attr=bad key").status_code == 400
