"""OTLP JSON numbers beyond what the protobuf form can hold reject their span (partial success), never a 500."""

from __future__ import annotations

import json
import time

import pytest

TID = "0af7651916cd43dd8448eb211c80319c"


def _span(span_id: str, **fields) -> dict:
    start = time.time_ns()
    return {"traceId": TID, "spanId": span_id, "name": "op", "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 1_000_000), **fields}


@pytest.mark.parametrize("bad, reason", [
    ({"attributes": [{"key": "n", "value": {"intValue": str(2**63)}}]}, "outside the 64-bit range"),
    ({"endTimeUnixNano": "99999999999999999999999"}, "endTimeUnixNano: must be an unsigned 64-bit integer"),
    ({"kind": 2**40}, "kind: must be a 32-bit enum value"),
    ({"events": [{"timeUnixNano": str(2**64), "name": "e"}]}, "timeUnixNano: must be an unsigned 64-bit integer"),
    ({"status": {"code": 2**70}}, "status.code: must be a 32-bit enum value"),
])
def test_out_of_range_numbers_reject_the_span_and_keep_its_neighbour(client, bad, reason):
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        _span("00f067aa0ba902b7", **bad), _span("00f067aa0ba902b8", attributes=[
            {"key": "n", "value": {"intValue": str(2**63 - 1)}}])]}]}]}).encode()
    r = client.post("/v1/traces", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and reason in partial["errorMessage"]
    spans = client.get(f"/api/v1/traces/{TID}").json()["spans"]
    assert [s["span_id"] for s in spans] == ["00f067aa0ba902b8"]
    assert spans[0]["attributes"] == {"n": 2**63 - 1}


def test_a_resource_attribute_out_of_range_rejects_the_resources_spans(client):
    body = json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "n", "value": {"intValue": str(-2**63 - 1)}}]},
        "scopeSpans": [{"spans": [_span("00f067aa0ba902b9")]}]}]}).encode()
    r = client.post("/v1/traces", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "outside the 64-bit range" in r.json()["error"]["message"]
