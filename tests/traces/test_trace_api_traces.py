"""The trace read API: filters, cursors, huge traces, latency percentiles, RAG, tools and /metrics."""

from __future__ import annotations

import time

import watchkeeper
from trace_helpers import otlp_json


def _ship(client, memory) -> None:
    r = client.post("/v1/traces", content=otlp_json(memory.get_finished_spans()), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    memory.clear()


def _request(i: int, model: str, prompt_version: str, fail: bool = False) -> str:
    with watchkeeper.trace(f"req-{i}", request_id=f"r{i}", prompt_version=prompt_version, index_version="kb-1") as t:
        with watchkeeper.span("llm", kind="llm", model=model, input_tokens=10, output_tokens=5):
            time.sleep(0.001 * (i % 3))
        if fail:
            with watchkeeper.span("tool", kind="tool", tool="lookup") as s:
                s.fail(RuntimeError("no such order"))
    return format(t.get_span_context().trace_id, "032x")


def test_list_filters_and_cursor_pagination(client, memory_spans):
    """Filters on child spans select whole traces; the cursor walks every trace exactly once, newest first."""
    ids = [_request(i, "big" if i % 2 else "small", "v2" if i < 6 else "v3", fail=(i == 4)) for i in range(10)]
    _ship(client, memory_spans)
    assert {t["trace_id"] for t in client.get("/api/v1/traces?model=big").json()["traces"]} == set(ids[1::2])
    assert {t["trace_id"] for t in client.get("/api/v1/traces?prompt_version=v3").json()["traces"]} == set(ids[6:])
    assert [t["trace_id"] for t in client.get("/api/v1/traces?status=error").json()["traces"]] == [ids[4]]
    assert len(client.get("/api/v1/traces?status=ok").json()["traces"]) == 9
    assert [t["trace_id"] for t in client.get("/api/v1/traces?request_id=r7").json()["traces"]] == [ids[7]]
    assert client.get("/api/v1/traces?index_version=kb-2").json()["traces"] == []
    assert client.get("/api/v1/traces?min_latency_ms=100000").json()["traces"] == []
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/traces", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["trace_id"] for t in page["traces"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 10
    starts = [t["start_us"] for t in client.get("/api/v1/traces").json()["traces"]]
    assert starts == sorted(starts, reverse=True)
    one = client.get("/api/v1/traces?request_id=r4").json()["traces"][0]
    assert one["context"]["index_version"] == "kb-1" and one["errors"] == 1 and one["input_tokens"] == 10
    assert client.get("/api/v1/traces?status=maybe").status_code == 400
    assert client.get("/api/v1/traces?cursor=zzz").status_code == 400


def test_latency_percentiles_per_model_per_bucket(client, memory_spans):
    """P50/P95/P99 of LLM latency come per model and time bucket."""
    for i in range(6):
        _request(i, "big" if i % 2 else "small", "v1")
    _ship(client, memory_spans)
    body = client.get("/api/v1/traces/latency?since=1h&bucket=3600").json()
    by_model = {s["model"]: s["points"] for s in body["series"]}
    assert set(by_model) == {"big", "small"}
    point = by_model["big"][0]
    assert point["count"] == 3 and point["latency_p50_ms"] <= point["latency_p95_ms"] <= point["latency_p99_ms"]
    assert client.get("/api/v1/traces/latency?bucket=0").status_code == 400


def test_a_trace_of_50000_spans_pages_in_tree_order(client):
    """A 50,000-span trace is served page by page, in depth-first order with depths, never all at once."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    tid, now = bytes.fromhex("ab" * 16), time.time_ns()
    for i in range(50_000):
        sp = spans.add(trace_id=tid, span_id=(i + 1).to_bytes(8, "big"), name=f"s{i}",
                       start_time_unix_nano=now + i * 1000, end_time_unix_nano=now + i * 1000 + 500)
        if i:
            sp.parent_span_id = (1 if i < 1000 else (i // 1000) + 1).to_bytes(8, "big")
    r = client.post("/v1/traces", content=req.SerializeToString(), headers={"content-type": "application/x-protobuf"})
    assert r.status_code == 200
    first = client.get(f"/api/v1/traces/{'ab' * 16}?span_limit=500").json()
    assert first["span_count"] == 50_000 and len(first["spans"]) == 500
    assert first["spans"][0]["depth"] == 0 and first["spans"][1]["depth"] == 1 and first["summary"]["spans"] == 50_000
    assert first["spans"][2]["parent_span_id"] == first["spans"][1]["span_id"]  # s1's first child follows it
    total, cursor = 500, first["next_span_cursor"]
    for _ in range(3):
        page = client.get(f"/api/v1/traces/{'AB' * 16}", params={"span_limit": 10_000, "span_cursor": cursor}).json()
        total += len(page["spans"])
        cursor = page["next_span_cursor"]
    assert total == 30_500 and cursor is not None
    assert client.get("/api/v1/traces/not-a-trace").status_code == 400
    assert client.get(f"/api/v1/traces/{'cd' * 16}").status_code == 404


DOCS = [
    {"id": "kb-1", "content": "Refunds are issued within 30 days of purchase to the original payment method.", "score": 0.91},
    {"id": "kb-2", "content": "Shipping to Canada takes five business days.", "score": 0.55},
    {"id": "kb-3", "content": "Gift cards never expire and cannot be refunded.", "score": 0.40},
]
ANSWER = ("Refunds are issued within 30 days to the original payment method. "
          "Our support team will also send you a free blender as compensation.")


def test_rag_retrieved_used_attribution_and_trigger(client, memory_spans):
    """Retrieved vs used chunks, per-sentence attribution, the unsupported claim, and the trigger token."""
    with watchkeeper.trace("rag", index_version="kb-2026") as t:
        with watchkeeper.span("retrieve", kind="retriever", query="refund window", top_k=3, documents=DOCS):
            pass
        def tokens():
            for i, tok in enumerate(["Let", " me", " check", "."]):
                if i == 2:
                    with watchkeeper.span("lookup", kind="retriever", documents=DOCS[2:]):
                        time.sleep(0.01)
                time.sleep(0.005)
                yield tok
        list(watchkeeper.llm.stream(tokens(), model="agent-m"))
        prompt = "Answer from context:\n" + DOCS[0]["content"] + "\n" + DOCS[1]["content"]
        with watchkeeper.span("answer", kind="llm", model="m", input=prompt, output=ANSWER):
            pass
    _ship(client, memory_spans)
    body = client.get(f"/api/v1/traces/{format(t.get_span_context().trace_id, '032x')}").json()
    rag = body["rag"]
    assert rag["retrieved"]["chunks"] == 3 and rag["used"]["chunks"] == 2
    assert rag["used"]["tokens"] < rag["retrieved"]["tokens"]
    assert {d["id"]: d["used"] for d in rag["documents"]} == {"kb-1": True, "kb-2": True, "kb-3": False}
    sentences = rag["attribution"]["sentences"]
    assert sentences[0]["supported"] and sentences[0]["support"][0]["document_id"] == "kb-1"
    assert rag["attribution"]["unsupported"] == [sentences[1]["sentence"]] and "blender" in sentences[1]["sentence"]
    assert [tr["token_index"] for tr in rag["retrieval_triggers"]] == [2]
    retrieve = next(s for s in body["spans"] if s["name"] == "retrieve")
    assert retrieve["retrieval"]["query"] == "refund window" and retrieve["retrieval"]["top_k"] == 3
    assert [d["score"] for d in retrieve["retrieval"]["documents"]] == [0.91, 0.55, 0.40]


def test_tool_schemas_flag_violations_failures_and_timeouts(client, memory_spans):
    """Registered schemas are enforced on tool spans; violations, errors and timeouts are flagged and counted."""
    schema = {"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}
    assert client.put("/api/v1/tools/refund/schema", json=schema).status_code == 200
    assert client.put("/api/v1/tools/bad/schema", json={"type": "nonsense"}).status_code == 422
    assert client.get("/api/v1/tools/refund/schema").json()["schema"] == schema
    with watchkeeper.trace("agent") as t:
        with watchkeeper.span("refund", kind="tool", tool="refund", arguments={"order_id": "seven"}, retries=2):
            pass
        with watchkeeper.span("refund", kind="tool", tool="refund", arguments={"order_id": 7}, side_effect=True,
                              approval="human"):
            pass
        try:
            with watchkeeper.span("search_web", kind="tool", tool="search_web", arguments={"q": "x"}):
                raise TimeoutError("10 s")
        except TimeoutError:
            pass
    _ship(client, memory_spans)
    tools = client.get(f"/api/v1/traces/{format(t.get_span_context().trace_id, '032x')}").json()["tools"]
    bad, good, slow = tools
    assert bad["schema_violations"] == ["order_id: 'seven' is not of type 'integer'"] and bad["retries"] == 2
    assert good.get("schema_violations") is None and good["side_effect"] is True and good["approval"] == "human"
    assert slow["timeout"] is True and slow["error"] == "10 s" and slow["status"] == "error"
    metrics = client.get("/metrics").text
    assert 'watchkeeper_tool_schema_violations_total{project="default",tool="refund"} 1.0' in metrics
    assert 'watchkeeper_tool_calls_total{outcome="timeout",project="default",tool="search_web"} 1.0' in metrics
    assert 'watchkeeper_tool_calls_total{outcome="ok",project="default",tool="refund"} 2.0' in metrics
    assert client.delete("/api/v1/tools/refund/schema").status_code == 200
    assert client.get("/api/v1/tools/refund/schema").status_code == 404
