"""Read API for traces, and the tool-schema registry.

- ``GET /api/v1/traces``: search, newest first, cursor-paginated. Filters: since, until, model,
  prompt_version, index_version, model_id, request_id, policy_version, service, session_id,
  tool_name, name, status (ok|error), min_latency_ms, attr=KEY=VALUE (repeatable), q (free text).
- ``GET /api/v1/traces/latency``: P50/P95/P99 of LLM span latency and TTFT per model per bucket.
- ``GET /api/v1/traces/{trace_id}``: summary, the versions that served it, spans in tree order
  (``span_limit``/``span_cursor`` paginate a trace of any size), token timelines, RAG and tools.
- ``PUT|GET|DELETE /api/v1/tools/{name}/schema``, ``GET /api/v1/tools/schemas``: JSON Schemas for
  tool arguments; tool spans that violate them are flagged at ingest and counted in /metrics.
"""

from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us, now_us
from ...ingest.toolschemas import SchemaInvalid
from ...llm import rag
from ...llm.timing import verdict
from ...store.queries import traces as q
from ..errors import ApiError
from ..params import decode_cursor, encode_cursor, parse_limit, parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_ATTR_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
_FILTERS = ("model", "prompt_version", "index_version", "model_id", "request_id", "policy_version", "service",
            "session_id", "tool_name", "name", "provider")
_JSON = ("details", "attributes", "events", "resource")
DETAIL_KINDS = ["llm", "retriever", "reranker", "tool"]


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_argument", f"{field}: {message}", [{"field": field, "message": message}])


def _float(name: str, value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise _bad(name, f"{value!r} is not a number") from None


def _trace_id(value: str) -> str:
    if not _TRACE_ID.match(value):
        raise _bad("trace_id", f"{value[:64]!r} is not a trace id (32 hex characters, as OpenTelemetry writes them)")
    return value.lower()


def _context(row: dict) -> dict:
    return {c: row.get(c) for c in q.CONTEXT}


# -- list ---------------------------------------------------------------------------------------
@router.get("/api/v1/traces")
async def list_traces(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    p = request.query_params
    limit = parse_limit(p.get("limit"), 50, 1000)
    cursor = decode_cursor(p.get("cursor"), 2)
    status = p.get("status") or None
    if status not in (None, "ok", "error"):
        raise _bad("status", f"{status!r} is not one of ok, error")
    attrs = []
    for item in p.getlist("attr"):
        key, sep, value = item.partition("=")
        if not sep or not _ATTR_KEY.match(key):
            raise _bad("attr", f"{item[:80]!r} is not KEY=VALUE with a key of letters, digits, '.', '_' or '-'")
        attrs.append((key, value))
    filters = {name: p[name] for name in _FILTERS if p.get(name)}
    rows = await run_in_threadpool(
        q.list_traces, st.store, who.project, since_us=parse_time("since", p.get("since")),
        until_us=parse_time("until", p.get("until")), filters=filters, status=status,
        min_latency_ms=_float("min_latency_ms", p.get("min_latency_ms")), attributes=attrs,
        text=p.get("q") or None, limit=limit, after=(int(cursor[0]), cursor[1]) if cursor else None)
    sums = await run_in_threadpool(q.summaries, st.store, who.project, [r["trace_id"] for r in rows])
    out = []
    for row in rows:
        s = sums.get(row["trace_id"], {})
        out.append({
            "trace_id": row["trace_id"], "name": row["name"], "service": row["service"],
            "start": format_us(row["start_us"]), "start_us": row["start_us"], "duration_ms": row["duration_ms"],
            "status": "error" if s.get("errors") else "ok", "spans": s.get("spans"), "errors": s.get("errors"),
            "models": s.get("models", []), "input_tokens": s.get("input_tokens"), "output_tokens": s.get("output_tokens"),
            "cost": s.get("cost"), "time_to_first_token_ms": s.get("ttft_ms"), "context": _context(s),
        })
    nxt = encode_cursor(rows[-1]["start_us"], rows[-1]["trace_id"]) if len(rows) == limit else None
    return JSONResponse({"traces": out, "next_cursor": nxt})


@router.get("/api/v1/traces/latency")
async def trace_latency(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    p = request.query_params
    until = parse_time("until", p.get("until")) or now_us()
    since = parse_time("since", p.get("since")) or until - 3600 * 1_000_000
    if since >= until:
        raise _bad("since", "must be before until")
    try:
        bucket = int(p.get("bucket", "60"))
    except ValueError:
        raise _bad("bucket", "must be a whole number of seconds") from None
    if bucket < 1 or (until - since) / 1_000_000 / bucket > 10_000:
        raise _bad("bucket", "too small for this range (at most 10,000 buckets)")
    rows = await run_in_threadpool(q.latency, st.store, who.project, since_us=since, until_us=until, bucket_s=bucket,
                                   model=p.get("model") or None, kind=p.get("kind") or "llm")
    series: dict[str, list] = {}
    for row in rows:
        model = row.pop("model")
        row["time"] = format_us(row.pop("t_us"))
        series.setdefault(model or "", []).append(row)
    return JSONResponse({"bucket_s": bucket, "series": [{"model": m, "points": pts} for m, pts in series.items()]})


# -- one trace ----------------------------------------------------------------------------------
def _tree_order(skel: list[dict]) -> list[tuple[str, int]]:
    """(span_id, depth) in depth-first order, children by start time; orphans count as roots."""
    ids = {s["span_id"] for s in skel}
    children: dict[str | None, list[dict]] = {}
    for s in skel:
        parent = s["parent_span_id"] if s["parent_span_id"] in ids else None
        children.setdefault(parent, []).append(s)
    for kids in children.values():
        kids.sort(key=lambda s: (s["ts_us"], s["span_id"]))
    out: list[tuple[str, int]] = []
    stack = [(s["span_id"], 0) for s in reversed(children.get(None, []))]
    visited: set[str] = set()
    while stack:
        sid, depth = stack.pop()
        if sid in visited:
            continue
        visited.add(sid)
        out.append((sid, depth))
        stack.extend((c["span_id"], depth + 1) for c in reversed(children.get(sid, [])))
    out.extend((s["span_id"], 0) for s in skel if s["span_id"] not in visited)  # cycles
    return out


def _parse(row: dict) -> dict:
    for name in _JSON:
        if row.get(name) is not None:
            row[name] = orjson.loads(row[name])
    return row


def _llm(row: dict) -> dict:
    details = row.get("details") or {}
    stream = details.get("stream")
    if stream:
        out = {k: v for k, v in stream.items() if k not in ("gaps_us", "token_texts")}
        texts = stream.get("token_texts") or []
        elapsed, timeline = 0, []
        for i, gap in enumerate(stream["gaps_us"]):
            elapsed += gap
            timeline.append({"index": i, "text": texts[i] if i < len(texts) else None,
                             "offset_ms": round(elapsed / 1000, 3), "gap_ms": round(gap / 1000, 3)})
        out["token_timeline"] = timeline
        return out
    ttft = row.get("ttft_ms")
    if ttft is None:
        return {"time_to_first_token_ms": None, "verdict": verdict(None, 0.0, 0, None, None)}
    generation = max(0.0, (row.get("duration_ms") or 0.0) - ttft)
    n = row.get("output_tokens") or 0
    itl = generation / (n - 1) if n > 1 else None
    return {"time_to_first_token_ms": ttft, "tokens": n or None, "generation_ms": round(generation, 3),
            "inter_token_latency_ms": {"mean": round(itl, 3) if itl else None},
            "tokens_per_s": round((n - 1) / (generation / 1000), 2) if n > 1 and generation > 0 else None,
            "token_timeline": None, "verdict": verdict(ttft, generation, n, itl, None)}


def _span(row: dict, depth: int | None = None) -> dict:
    d = row.get("details") or {}
    out = {
        "trace_id": row["trace_id"], "span_id": row["span_id"], "parent_span_id": row["parent_span_id"], "depth": depth,
        "name": row["name"], "kind": row["kind"], "service": row["service"], "scope": row["scope"],
        "start": format_us(row["ts_us"]), "start_us": row["ts_us"], "end_us": row["end_us"],
        "duration_ms": row["duration_ms"], "status": row["status"], "status_message": row["status_message"],
        "error_type": row["error_type"], "model": row["model"], "provider": row["provider"], "operation": row["operation"],
        "input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"], "cost": row["cost"],
        "finish_reason": row["finish_reason"],
        "prompt": {"template": row["prompt_template"], "version": row["prompt_version"]},
        "context": _context(row), "time_to_first_token_ms": row["ttft_ms"],
        "flags": row["flags"].split(",") if row["flags"] else [], "input": row["input"], "output": row["output"],
        "attributes": row.get("attributes") or {}, "events": row.get("events") or [],
    }
    if d.get("output_meta"):
        out["output_meta"] = d["output_meta"]
    if row["kind"] == "llm":
        out["llm"] = _llm(row)
    if row["kind"] in ("retriever", "reranker") or d.get("retrieved"):
        out["retrieval"] = {"query": d.get("query"), "filters": d.get("filters"), "top_k": d.get("top_k"),
                            "index_version": row["index_version"], "documents": d.get("retrieved", []),
                            "reranker_input": d.get("reranker_input"), "reranked": d.get("reranker_output")}
    if d.get("tool"):
        out["tool"] = {**d["tool"], "latency_ms": row["duration_ms"]}
    return out


def _trace(store, project: str, trace_id: str, offset: int, limit: int, method: str) -> dict | None:
    skel = q.skeleton(store, project, trace_id)
    if not skel:
        return None
    order = _tree_order(skel)
    page = order[offset:offset + limit]
    depth = dict(page)
    rows = {r["span_id"]: _parse(r) for r in q.spans(store, project, trace_id, span_ids=list(depth))}
    detail_rows = [_parse(r) for r in q.spans(store, project, trace_id, kinds=DETAIL_KINDS, limit=5000)]
    root_rows = [_parse(r) for r in q.spans(store, project, trace_id,
                                            span_ids=[s["span_id"] for s in skel if s["parent_span_id"] is None][:100])]
    summary = q.summaries(store, project, [trace_id]).get(trace_id, {})
    first_llm = next((r for r in detail_rows if r["kind"] == "llm" and r["ttft_ms"] is not None), None)
    output_meta = {}
    for r in root_rows + detail_rows:
        output_meta.update((r.get("details") or {}).get("output_meta") or {})
    start, end = summary.get("start_us"), summary.get("end_us")
    return {
        "trace_id": trace_id,
        "summary": {
            "name": root_rows[0]["name"] if root_rows else None, "service": root_rows[0]["service"] if root_rows else None,
            "start": format_us(start) if start else None, "start_us": start,
            "duration_ms": (end - start) / 1000 if start and end else None,
            "status": "error" if summary.get("errors") else "ok", "spans": summary.get("spans"),
            "errors": summary.get("errors"), "models": summary.get("models", []), "kinds": summary.get("kinds", []),
            "input_tokens": summary.get("input_tokens"), "output_tokens": summary.get("output_tokens"),
            "cost": summary.get("cost"), "time_to_first_token_ms": first_llm["ttft_ms"] if first_llm else None,
            "verdict": _llm(first_llm)["verdict"] if first_llm else None,
            "context": {**_context(summary), "output": output_meta or None},
        },
        "span_count": len(order),
        "spans": [_span(rows[sid], d) for sid, d in page if sid in rows],
        "next_span_cursor": encode_cursor(offset + limit) if offset + limit < len(order) else None,
        "llm_calls": [_span(r)["llm"] | {"span_id": r["span_id"], "model": r["model"]}
                      for r in detail_rows if r["kind"] == "llm"][:200],
        "rag": rag.analyze(detail_rows, method, answer=next((r["output"] for r in root_rows if r.get("output")), None)),
        "tools": [_span(r)["tool"] | {"span_id": r["span_id"], "status": r["status"]}
                  for r in detail_rows if (r.get("details") or {}).get("tool")][:1000],
    }


@router.get("/api/v1/traces/{trace_id}")
async def get_trace(trace_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    p = request.query_params
    tid = _trace_id(trace_id)
    limit = parse_limit(p.get("span_limit"), 1000, 10_000)
    cursor = decode_cursor(p.get("span_cursor"), 1)
    offset = int(cursor[0]) if cursor and cursor[0].isdigit() else 0
    method = p.get("attribution") or "lexical"
    if method not in ("lexical", "embedding"):
        raise _bad("attribution", f"{method!r} is not one of lexical, embedding")
    body = await run_in_threadpool(_trace, st.store, who.project, tid, offset, limit, method)
    if body is None:
        raise ApiError(404, "not_found", f"no trace {tid} in project {who.project!r}")
    return JSONResponse(body)


# -- tool schemas -------------------------------------------------------------------------------
@router.get("/api/v1/tools/schemas")
async def list_tool_schemas(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"tools": await run_in_threadpool(st.extras["traces"]["tools"].list, who.project)})


@router.put("/api/v1/tools/{name}/schema")
async def put_tool_schema(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    try:
        schema = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise _bad("schema", f"body is not JSON: {exc}") from None
    try:
        await run_in_threadpool(st.extras["traces"]["tools"].put, who.project, name, schema)
    except SchemaInvalid as exc:
        raise ApiError(422, "invalid_schema", f"tool {name!r}: {exc}") from None
    return JSONResponse({"name": name, "schema": schema})


@router.get("/api/v1/tools/{name}/schema")
async def get_tool_schema(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    for item in await run_in_threadpool(st.extras["traces"]["tools"].list, who.project):
        if item["name"] == name:
            return JSONResponse(item)
    raise ApiError(404, "not_found", f"no schema registered for tool {name!r}")


@router.delete("/api/v1/tools/{name}/schema")
async def delete_tool_schema(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    if not await run_in_threadpool(st.extras["traces"]["tools"].delete, who.project, name):
        raise ApiError(404, "not_found", f"no schema registered for tool {name!r}")
    return JSONResponse({"deleted": name})
