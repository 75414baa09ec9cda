"""OTLP exports decoded in an ingest worker process are stored exactly as the server would store them itself."""

from __future__ import annotations

import json
import random
import time

import urllib.error
import urllib.request

import duckdb
import pytest
from helpers import LiveServer, duckdb_url

EMAIL = "planted.person@example.com"
SCHEMA = {"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}


def _export(rng: random.Random, n_traces: int) -> bytes:
    """A protobuf export (well over the pool's 16 KB threshold) of chain/retriever/llm/tool spans."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "support-bot"
    rs.resource.attributes.add(key="watchkeeper.index_version").value.string_value = "kb-8"
    spans = rs.scope_spans.add(scope={"name": "t"}).spans
    now = time.time_ns()
    for i in range(n_traces):
        tid, root = rng.randbytes(16), rng.randbytes(8)
        for j, kind in enumerate(("CHAIN", "RETRIEVER", "LLM", "TOOL")):
            sp = spans.add(trace_id=tid, span_id=root if j == 0 else rng.randbytes(8), name=f"{kind.lower()} step",
                           start_time_unix_nano=now + j * 1000, end_time_unix_nano=now + 5_000_000)
            if j:
                sp.parent_span_id = root
            attrs = {"openinference.span.kind": kind, "session.id": f"s{i}",
                     "input.value": f"Please refund order {i}, mail me at {EMAIL}" if kind == "CHAIN" else "refund window"}
            if kind == "RETRIEVER":
                attrs["retrieval.documents.0.document.content"] = "Refunds are issued within 30 days."
            if kind == "LLM":
                attrs.update({"gen_ai.request.model": "gpt-4o", "output.value": "Done."})
            if kind == "TOOL":
                attrs.update({"tool.name": "refund", "gen_ai.tool.call.arguments": json.dumps({"order_id": i if i % 2 else "x"})})
            for k, v in attrs.items():
                sp.attributes.add(key=k).value.string_value = v
            sp.attributes.add(key="gen_ai.usage.input_tokens").value.int_value = 10 + i
    return req.SerializeToString()


def _call(url: str, path: str, body: bytes | None = None, method: str = "GET", ctype: str = "application/json"):
    req = urllib.request.Request(url + path, data=body, method=method, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _post(url: str, body: bytes) -> int:
    return _call(url, "/v1/traces", body, "POST", "application/x-protobuf")[0]


def _workers(url: str) -> dict:
    return json.loads(_call(url, "/health")[1])["ingest_queue"]["workers"]


def _rows(db) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * EXCLUDE (received_at) FROM spans ORDER BY trace_id, span_id").fetchall()
    finally:
        con.close()


@pytest.mark.e2e
def test_worker_and_server_decode_store_the_same_rows(tmp_path):
    rng = random.Random(11)
    warm, body, repeat = _export(rng, 30), _export(rng, 40), _export(rng, 36)
    assert min(map(len, (warm, body, repeat))) > 16 * 1024  # over the pool's threshold
    garbage = b"\xff" * 20_000  # not an export: the worker must answer 400 like the server
    servers = {n: LiveServer(duckdb_url(tmp_path / f"w{n}.duckdb"), env={"WATCHKEEPER_INGEST_WORKERS": str(n)}).start()
               for n in (1, 0)}
    try:
        for srv in servers.values():
            assert _call(srv.url, "/api/v1/tools/refund/schema", json.dumps(SCHEMA).encode(), "PUT")[0] == 200
        remote = servers[1].url
        assert _post(remote, warm) == 200  # starts the workers; decoded in the server meanwhile
        deadline = time.monotonic() + 120
        while not _workers(remote)["ready"]:
            assert time.monotonic() < deadline, "ingest workers did not start"
            time.sleep(0.2)
        before = _workers(remote)["batches_in_workers"]
        for srv in servers.values():
            for b in (warm, body, repeat, repeat):  # exports, and retried ones (deduped)
                assert _post(srv.url, b) == 200
            assert _post(srv.url, garbage) == 400
        assert _workers(remote)["batches_in_workers"] >= before + 3
        metrics = _call(remote, "/metrics")[1].decode()
        assert 'watchkeeper_tool_schema_violations_total{project="default",tool="refund"} 53.0' in metrics
    finally:
        for srv in servers.values():
            srv.stop()
    got, want = _rows(tmp_path / "w1.duckdb"), _rows(tmp_path / "w0.duckdb")
    assert len(got) == 4 * (30 + 40 + 36) and got == want
    assert EMAIL not in repr(got)  # redacted in the worker too
    assert sum(1 for r in got if "schema_violation" in repr(r)) == 53  # 15 + 20 + 18 string order_ids
