"""OTLP/JSON traces of a small RAG agent (retrieval, a streamed LLM call, tool calls), for UI tests and bench.

Loaded by path from tests/ui/conftest.py and bench/ui_bench.py (tests run with --import-mode=importlib).
"""

from __future__ import annotations

import json
import random
import time
import urllib.request

DOCS = [
    ("kb-101", "Refunds are issued to the original payment method within five business days."),
    ("kb-204", "Premium plans include priority support and a 99.9 percent uptime commitment."),
    ("kb-317", "Accounts can be closed from the settings page after exporting your data."),
    ("kb-422", "Invoices are emailed on the first day of every month."),
]
ANSWER = ("Refunds are issued to the original payment method within five business days. "
          "Our support team will also send you a gift card as an apology.")


def _attr(key: str, value) -> dict:
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [_attr("x", x)["value"] for x in value]}}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def _span(trace_id, span_id, parent, name, start_ns, end_ns, attrs, error=None, events=()):
    span = {"traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
            "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns),
            "attributes": [_attr(k, v) for k, v in attrs.items()], "status": {"code": 2, "message": error} if error else {"code": 1}}
    if parent:
        span["parentSpanId"] = parent
    if events:
        span["events"] = list(events)
    return span


def rag_trace(rng: random.Random, start_s: float | None = None, *, trace_id: str | None = None, prompt_version: str = "v3",
              index_version: str = "2024-06", model: str = "gpt-4o-mini", tool_error: bool = False, slow: bool = False) -> list[dict]:
    """The spans of one agent request: root → retrieve → LLM (streamed, with token gaps) → tool call(s)."""
    tid = trace_id or "%032x" % rng.getrandbits(128)
    sid = lambda: "%016x" % rng.getrandbits(64)  # noqa: E731
    t0 = int((start_s if start_s is not None else time.time() - 2) * 1e9)
    root, ret, llm, tool = sid(), sid(), sid(), sid()
    ret_end = t0 + int(rng.uniform(20, 60) * 1e6)
    docs = rng.sample(DOCS, 3)
    ret_attrs = {"openinference.span.kind": "RETRIEVER", "input.value": "how do refunds work?",
                 "watchkeeper.index_version": index_version}
    for i, (doc_id, text) in enumerate(docs):
        ret_attrs[f"retrieval.documents.{i}.document.id"] = doc_id
        ret_attrs[f"retrieval.documents.{i}.document.content"] = text
        ret_attrs[f"retrieval.documents.{i}.document.score"] = round(0.9 - 0.15 * i + rng.uniform(-0.03, 0.03), 3)
    n_tokens = rng.randint(30, 60)
    ttft_us = int(rng.uniform(250, 900 if not slow else 2500) * 1000)
    gaps = [ttft_us] + [int(rng.uniform(12, 30) * 1000) for _ in range(n_tokens - 1)]
    for j in rng.sample(range(5, n_tokens), 3):
        gaps[j] = int(rng.uniform(150, 400) * 1000)  # a few stalls
    tokens = ANSWER.split(" ")
    tokens = (tokens * (n_tokens // len(tokens) + 1))[:n_tokens]
    llm_start = ret_end + int(2e6)
    llm_end = llm_start + sum(gaps) * 1000
    prompt = "Answer from the context.\n" + "\n".join(t for _, t in docs) + "\nQuestion: how do refunds work?"
    llm_attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model, "gen_ai.system": "openai",
                 "gen_ai.usage.input_tokens": 420 + rng.randint(0, 80), "gen_ai.usage.output_tokens": n_tokens,
                 "watchkeeper.prompt_version": prompt_version, "watchkeeper.cost": round(0.0004 + n_tokens * 6e-7, 6),
                 "watchkeeper.stream.gaps_us": gaps, "watchkeeper.stream.tokens": tokens,
                 "input.value": prompt, "output.value": ANSWER, "llm.model_name": model}
    tool_start = llm_end + int(1e6)
    tool_end = tool_start + int(rng.uniform(30, 120) * 1e6)
    tool_attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
                  "gen_ai.tool.call.arguments": json.dumps({"order_id": rng.randint(1000, 9999), "include_items": True}),
                  "gen_ai.tool.call.result": json.dumps({"status": "shipped"})}
    events = [{"timeUnixNano": str(tool_end), "name": "exception",
               "attributes": [_attr("exception.message", "order service timed out after 100 ms")]}] if tool_error else []
    end = tool_end + int(3e6)
    return [
        _span(tid, root, None, "POST /answer", t0, end, {"service.name": "helpdesk-rag", "watchkeeper.request_id": "req-" + tid[:8],
                                                         "watchkeeper.prompt_version": prompt_version,
                                                         "watchkeeper.index_version": index_version}),
        _span(tid, ret, root, "retrieve", t0 + int(1e6), ret_end, ret_attrs),
        _span(tid, llm, root, "chat " + model, llm_start, llm_end, llm_attrs),
        _span(tid, tool, root, "tool lookup_order", tool_start, tool_end, tool_attrs,
              error="order service timed out" if tool_error else None, events=events),
    ]


def wide_trace(trace_id: str, n_spans: int, start_s: float, rng: random.Random) -> list[dict]:
    """One trace with ``n_spans`` spans: a root, 50 agent steps, each with many short child calls."""
    t0 = int(start_s * 1e9)
    root = "%016x" % 1
    spans = [_span(trace_id, root, None, "batch job", t0, t0 + int(60e9), {"service.name": "indexer"})]
    steps = 50
    children, extra = divmod(max(0, n_spans - 1 - steps), steps)
    k = 2
    for s in range(steps):
        step_id = "%016x" % k; k += 1
        s0 = t0 + int(s * 1.1e9)
        spans.append(_span(trace_id, step_id, root, f"step {s}", s0, s0 + int(1e9), {"watchkeeper.span.kind": "agent"}))
        per = children + (1 if s < extra else 0)
        for c in range(per):
            c0 = s0 + int(c * (1e9 / per))
            spans.append(_span(trace_id, "%016x" % k, step_id, f"embed chunk {c}", c0, c0 + int(rng.uniform(0.2, 0.9) * 1e9 / per),
                               {"watchkeeper.span.kind": "embedding"}, error="rate limited" if rng.random() < 0.001 else None))
            k += 1
    return spans[:n_spans]


def otlp_body(spans: list[dict], service: str = "helpdesk-rag") -> bytes:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [_attr("service.name", service)]},
                                          "scopeSpans": [{"scope": {"name": "ui-tests"}, "spans": spans}]}]}).encode()


def post(url: str, spans: list[dict], key: str | None = None, service: str = "helpdesk-rag") -> int:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(url.rstrip("/") + "/v1/traces", data=otlp_body(spans, service), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status
