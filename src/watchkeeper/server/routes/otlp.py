"""POST /v1/traces: OTLP/HTTP trace ingest (protobuf and JSON, optionally gzip).

Answers as the OTLP specification asks: 200 with an ``ExportTraceServiceResponse`` in the request's
content type (``partial_success`` set only when spans were rejected or values clipped), 400 for a
body that cannot be decoded or whose every span is invalid, 413 over the size limit (after
decompression), 415 for other content types, 503 with Retry-After when the ingest queue is full.
Error bodies are ``google.rpc.Status``. A 200 means the spans are committed (the same group-commit
queue and ingest log as every other ingest). Retried exports are not stored twice (ingest/dedupe.py).

Decoding, normalising and redacting (ingest/spans_prepare.py) run in an ingest worker process when
one is idle and in the server otherwise, so under load every core decodes. The security scan of
prompts and tool results never runs on this path (server/scan_stage.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter as Tally

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Counter

from ...errors import AuthError, StoreError
from ...ingest.decode import BodyError
from ...ingest.dedupe import RecentSpans
from ...ingest.otlp import JSON, PROTOBUF, OtlpError, content_type_of, decompress, status_body, success_body
from ...ingest.spans_prepare import PreparedSpans, prepare_spans, prepare_spans_packed, unpack_spans
from ...ingest.timestamps import now_us
from ...ingest.toolschemas import ToolSchemas
from ..body import read_body
from ..metrics import BulkHistogram
from ..queue import QueueFull
from ..state import principal, state_of

router = APIRouter()

INLINE_DECODE_BYTES = 1 << 20  # bigger bodies are decoded off the event loop
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 7.5, 10.0, 20.0, 30.0, 60.0)
ITL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5)
MAX_LABELS = 100  # distinct models / tools per project in /metrics; the rest become "other"


class TraceMetrics:
    """The /metrics series fed by span ingest: TTFT and inter-token latency per model, tool outcomes."""

    def __init__(self, registry):
        self.ttft = BulkHistogram("watchkeeper_llm_time_to_first_token_seconds",
                                  "Time to the first streamed token of an LLM span (prompt processing).",
                                  ("project", "model"), TTFT_BUCKETS)
        self.itl = BulkHistogram("watchkeeper_llm_inter_token_latency_seconds",
                                 "Gap between consecutive streamed tokens of an LLM span (generation).",
                                 ("project", "model"), ITL_BUCKETS)
        registry.register(self.ttft)
        registry.register(self.itl)
        self.tool_calls = Counter("watchkeeper_tool_calls_total", "Agent tool calls, by tool and outcome (ok, error, timeout).",
                                  ["project", "tool", "outcome"], registry=registry)
        self.tool_violations = Counter("watchkeeper_tool_schema_violations_total",
                                       "Tool calls whose arguments violate the tool's registered JSON Schema.",
                                       ["project", "tool"], registry=registry)
        self._labels: dict[tuple[str, str], set[str]] = {}

    def _label(self, project: str, family: str, value: str) -> str:
        seen = self._labels.setdefault((project, family), set())
        if value in seen:
            return value
        if len(seen) >= MAX_LABELS:
            return "other"
        seen.add(value)
        return value

    def observe(self, spans: PreparedSpans) -> None:
        for project, model, gaps in spans.streams:
            labels = (project, self._label(project, "model", model[:128]))
            arr = np.asarray(gaps, dtype=float) / 1e6
            self.ttft.observe_many(labels, arr[:1])
            self.itl.observe_many(labels, arr[1:])
        for (tool, outcome, violated), n in Tally(spans.tool_outcomes).items():
            tool = self._label(spans.project, "tool", tool[:128])
            self.tool_calls.labels(spans.project, tool, outcome).inc(n)
            if violated:
                self.tool_violations.labels(spans.project, tool).inc(n)


def install(state) -> None:
    state.extras["traces"] = {
        "recent": RecentSpans(),
        "tools": ToolSchemas(state.meta),
        "metrics": TraceMetrics(state.metrics.registry),
    }


def _reply(ctype: str, status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return Response(status_body(ctype, status, code, message), status_code=status, media_type=ctype, headers=headers)


@router.post("/v1/traces")
async def post_traces(request: Request):
    st = state_of(request)
    traces = st.extras["traces"]
    header = request.headers.get("content-type")
    fallback = JSON if header and "json" in header.lower() else PROTOBUF
    try:
        ctype = content_type_of(header)
    except OtlpError as exc:
        st.metrics.reject("spans", "unsupported_media_type")
        return _reply(fallback, exc.status, exc.code, exc.message)
    try:
        who = principal(request, "ingest")
    except AuthError as exc:
        status = getattr(exc, "status", 401)
        return _reply(ctype, status, "unauthorized" if status == 401 else "forbidden", str(exc))
    limit = st.config.max_body_bytes
    try:
        raw = await read_body(request, limit)
        body = decompress(raw, request.headers.get("content-encoding"), limit)
        prepared = await _prepare(st, body, ctype, who.project)
    except (OtlpError, BodyError) as exc:
        st.metrics.reject("spans", exc.code)
        return _reply(ctype, exc.status, exc.code, exc.message)
    if prepared.rejected:
        st.metrics.reject("spans", "invalid", prepared.rejected)
        if not prepared.rows:
            return _reply(ctype, 400, "invalid_spans", prepared.message)
    recent: RecentSpans = traces["recent"]
    keep = recent.fresh(who.project, prepared.keys)
    if not all(keep):
        prepared.drop_rows(keep)
    batch = prepared.batch
    if batch is not None:
        try:
            fut = st.queue.submit([batch])
        except QueueFull:
            st.metrics.reject("spans", "queue_full", batch.rows)
            return _reply(ctype, 503, "overloaded", "the ingest queue is full; retry later", {"Retry-After": "1"})
        try:
            await asyncio.wrap_future(fut)
        except StoreError as exc:
            st.metrics.reject("spans", "store_error", batch.rows)
            return _reply(ctype, 503, "store_unavailable", f"the event store did not accept the spans: {exc}",
                          {"Retry-After": "5"})
        recent.remember(who.project, prepared.keys)
        st.metrics.observe(batch)
        traces["metrics"].observe(prepared)
        for hook in st.extras.get("after_ingest_hooks", ()):
            hook(batch)
    return Response(success_body(ctype, prepared.rejected, prepared.message), media_type=ctype)


async def _prepare(st, body: bytes, ctype: str, project: str) -> PreparedSpans:
    """Decode, normalise, redact: in an ingest worker process, or here while the workers start.

    Exports wait for a worker even when every worker is busy: decoding in the server as well took the
    GIL from the event loop and the commits (measured on 2 cores: the server's CPU per span doubled and
    throughput fell).
    """
    traces = st.extras["traces"]
    steps = tuple(step_for(project) for step_for in st.extras.get("ingest_steps", ()))  # redaction, scan capture
    validator = traces["tools"].snapshot(project)
    received = now_us()
    args = (body, ctype, project, received, steps, validator)
    pool = st.extras.get("ingest_pool")
    if pool is not None and pool.workers and len(body) >= pool.min_bytes:
        remote, packed = await pool.run(len(body), prepare_spans_packed, *args)
        if remote:
            return unpack_spans(packed, project)
        return await run_in_threadpool(prepare_spans, *args)
    if len(body) > INLINE_DECODE_BYTES:
        return await run_in_threadpool(prepare_spans, *args)
    return prepare_spans(*args)
