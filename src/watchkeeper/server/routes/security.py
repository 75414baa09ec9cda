"""Security events: redaction and scanning hooks on every ingest path, the event log API, metrics.

``install(state)`` registers
* an ingest step (``ingest_steps``, pipeline.RedactStep) that captures what the scanners need and
  then redacts the batch with the project's privacy policy (server/routes/privacy.py), before
  anything reaches the store;
* an after-ingest hook that hands the captured texts to the scan stage (server/scan_stage.py: a
  bounded queue and a low-priority worker process; a sample of each batch when it falls behind),
  which queues the resulting ``security_events`` rows (the request never waits for the scan);
* ``watchkeeper_security_events_total{project,type,severity,action}``.

Routes: ``GET /api/v1/security/events`` (filters, cursor), ``GET /api/v1/security/events.jsonl``
(SIEM export), ``GET /api/v1/security/summary``, ``POST /api/v1/security/events`` (the SDK guard).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter as Tally

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from prometheus_client import Counter

from ...ingest.decode import decode_body
from ...ingest.records import Batch
from ...ingest.timestamps import format_us, now_us, parse_timestamp_us
from ...security import pipeline
from ...store.queries import security as q
from ..body import read_body
from ..errors import ApiError
from ..params import decode_cursor, encode_cursor, parse_limit, parse_time
from ..queue import QueueFull
from ..scan_stage import ScanStage
from ..state import principal, state_of
from .privacy import privacy_for

log = logging.getLogger("watchkeeper.security")
router = APIRouter()

TYPES = ("injection", "jailbreak", "extraction", "leak", "pii", "secret", "tool_misuse", "anomaly")
SEVERITIES = ("low", "medium", "high")
ACTIONS = ("detected", "blocked", "allowed")
_MAX_EVENTS = 10_000
_ORIGINALS = "_wk_security_originals"
_SKIPPED = _ORIGINALS + ".skipped"  # rows not captured because the scanner was behind (RedactStep writes it too)


class SecurityRuntime:
    """Per-server state: the scan stage (scan_stage.py) and the events counter."""

    def __init__(self, state):
        self.state = state
        self.stage = ScanStage(self.store_events, registry=state.metrics.registry)
        self.events_total = Counter("watchkeeper_security_events_total", "Security events, by type, severity and action.",
                                    ["project", "type", "severity", "action"], registry=state.metrics.registry)

    def count(self, columns: dict) -> None:
        for key, n in Tally(zip(columns["project"], columns["type"], columns["severity"], columns["action"])).items():
            self.events_total.labels(*key).inc(n)

    def store_events(self, rows: list[dict]) -> Batch | None:
        """Queue rows for the store (fire and forget from the scan thread); counted once committed."""
        if not rows:
            return None
        batch = Batch(kind="security_events", columns=pipeline.event_columns(rows), rows=len(rows))
        try:
            fut = self.state.queue.submit([batch])
        except QueueFull:
            self.state.metrics.reject("security_events", "queue_full", len(rows))
            return None
        fut.add_done_callback(lambda f: None if f.exception() else self.count(batch.columns))
        return batch

    # -- hooks -----------------------------------------------------------------------------
    def step_for(self, project: str) -> "pipeline.RedactStep":
        """The ingest step for one project: capture for the scan stage (a sample when it is behind), then
        redact. Picklable, so it runs in ingest workers too."""
        return pipeline.RedactStep(privacy_for(self.state, project), _ORIGINALS, self.stage.quota())

    def after_store(self, batch) -> None:
        """Hand the captured texts to the scan stage (never waits; see scan_stage.py for the rule when behind)."""
        self.stage.skip(batch.kind, batch.notes.pop(_SKIPPED, 0))
        items = batch.notes.pop(_ORIGINALS, None)
        if items:
            self.stage.submit(items)


def install(state) -> None:
    rt = SecurityRuntime(state)
    state.extras["security"] = rt
    state.extras.setdefault("ingest_steps", []).append(rt.step_for)
    state.extras.setdefault("after_ingest_hooks", []).append(rt.after_store)

    async def stop() -> None:
        await asyncio.get_running_loop().run_in_executor(None, rt.stage.close)
    state.extras.setdefault("shutdown", []).append(stop)
    state.extras.setdefault("health", {})["security_scan"] = rt.stage.status


def runtime(state) -> SecurityRuntime:
    return state.extras["security"]


# -- reading ------------------------------------------------------------------------------
def _filters(request: Request) -> dict[str, list[str]]:
    qp = request.query_params
    out = {}
    for name in q.EVENT_FILTERS:
        values = [v for raw in qp.getlist(name) for v in raw.split(",") if v]
        if values:
            out[name] = values
    for name, allowed in (("type", None), ("severity", SEVERITIES), ("action", ACTIONS)):
        for v in out.get(name, ()):
            if allowed is not None and v not in allowed:
                raise ApiError(400, "invalid_argument", f"{name}={v!r} is not one of: {', '.join(allowed)}",
                               [{"field": name, "message": "unknown value"}])
    return out


def _public(row: dict) -> dict:
    out = dict(row)
    out["timestamp"] = format_us(out.pop("ts_us"))
    if out.get("details"):
        try:
            out["details"] = orjson.loads(out["details"])
        except orjson.JSONDecodeError:
            pass
    return out


@router.get("/api/v1/security/events")
async def list_events(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    qp = request.query_params
    limit = parse_limit(qp.get("limit"), 100, 10_000)
    cursor = decode_cursor(qp.get("cursor"), 2)
    after = (int(cursor[0]), cursor[1]) if cursor else None
    rows = await run_in_threadpool(q.list_events, st.store, who.project, since_us=parse_time("since", qp.get("since")),
                                   until_us=parse_time("until", qp.get("until")), filters=_filters(request),
                                   limit=limit, after=after)
    nxt = encode_cursor(rows[-1]["ts_us"], rows[-1]["event_id"]) if len(rows) == limit else None
    return {"events": [_public(r) for r in rows], "next_cursor": nxt}


@router.get("/api/v1/security/events.jsonl")
async def export_events(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    qp = request.query_params
    since, until, filters = parse_time("since", qp.get("since")), parse_time("until", qp.get("until")), _filters(request)

    def pages():
        after = None
        while True:
            rows = q.list_events(st.store, who.project, since_us=since, until_us=until, filters=filters, limit=1000,
                                 after=after, ascending=True)
            for r in rows:
                yield orjson.dumps({"project": who.project, **_public(r)}) + b"\n"
            if len(rows) < 1000:
                return
            after = (rows[-1]["ts_us"], rows[-1]["event_id"])

    return StreamingResponse(pages(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="security-events.jsonl"'})


@router.get("/api/v1/security/summary")
async def get_summary(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    qp = request.query_params
    until = parse_time("until", qp.get("until")) or now_us()
    since = parse_time("since", qp.get("since")) or until - 24 * 3600 * 1_000_000
    if since >= until:
        raise ApiError(400, "invalid_argument", "since must be before until")
    try:
        bucket = int(qp.get("bucket", "3600"))
    except ValueError:
        raise ApiError(400, "invalid_argument", "bucket must be a number of seconds") from None
    if bucket < 1 or (until - since) / 1_000_000 / bucket > 10_000:
        raise ApiError(400, "invalid_argument", "bucket too small for this range (at most 10,000 buckets)")
    out = await run_in_threadpool(q.summary, st.store, who.project, since_us=since, until_us=until, bucket_s=bucket,
                                  filters=_filters(request))
    for row in out["series"]:
        row["time"] = format_us(row.pop("t_us"))
    detected = out["by_action"].get("detected", 0) + out["by_action"].get("allowed", 0)
    out["detected_vs_blocked"] = {"detected": detected, "blocked": out["by_action"].get("blocked", 0)}
    return {"since": format_us(since), "until": format_us(until), "bucket_s": bucket, **out}


# -- writing (the SDK guard) ----------------------------------------------------------------
@router.post("/api/v1/security/events")
async def post_events(request: Request):
    st = state_of(request)
    who = principal(request, "ingest")
    body = await read_body(request, st.config.max_body_bytes)
    records = decode_body(body, request.headers.get("content-type"), request.headers.get("content-encoding"),
                          st.config.max_body_bytes)
    if len(records) > _MAX_EVENTS:
        raise ApiError(413, "batch_too_large", f"a batch holds at most {_MAX_EVENTS} events, got {len(records)}")
    privacy = privacy_for(st, who.project)
    received = now_us()
    rows, errors = [], []
    for i, rec in enumerate(records):
        try:
            rows.append(_event_row(rec, who.project, received, privacy))
        except ValueError as exc:
            field, _, msg = str(exc).partition(": ")
            errors.append({"index": i, "field": field, "message": msg})
    partial = request.query_params.get("partial", "").lower() in ("1", "true", "yes")
    if errors and not partial:
        raise ApiError(422, "invalid_records", f"{len(errors)} of {len(records)} security events are invalid; nothing "
                       f"was stored (first: record {errors[0]['index']}, field {errors[0]['field']!r}: {errors[0]['message']})",
                       errors)
    if rows:
        batch = Batch(kind="security_events", columns=pipeline.event_columns(rows), rows=len(rows))
        try:
            fut = st.queue.submit([batch])
        except QueueFull:
            raise ApiError(503, "overloaded", "the ingest queue is full; retry later", headers={"Retry-After": "1"}) from None
        await asyncio.wrap_future(fut)
        runtime(st).count(batch.columns)
        st.metrics.ingested.labels("security_events").inc(len(rows))
    return {"accepted": len(rows), "rejected": errors}


def _event_row(rec, project: str, received: int, privacy) -> dict:
    if not isinstance(rec, dict):
        raise ValueError(f": record must be a JSON object, got {type(rec).__name__}")
    def text(name: str, limit: int = 256, required: bool = False):
        v = rec.get(name)
        if v is None or v == "":
            if required:
                raise ValueError(f"{name}: is required")
            return None
        if not isinstance(v, str):
            raise ValueError(f"{name}: must be a string, got {type(v).__name__}")
        if len(v) > limit:
            raise ValueError(f"{name}: is longer than {limit} characters")
        return v
    etype = text("type", 64, True)
    severity = text("severity", 16) or "medium"
    action = text("action", 16) or "detected"
    if severity not in SEVERITIES:
        raise ValueError(f"severity: must be one of {', '.join(SEVERITIES)}")
    if action not in ACTIONS:
        raise ValueError(f"action: must be one of {', '.join(ACTIONS)}")
    score = rec.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1):
        raise ValueError("score: must be a number between 0 and 1")
    ts = rec.get("timestamp")
    try:
        ts_us = parse_timestamp_us(ts) if ts is not None else received
    except ValueError as exc:
        raise ValueError(f"timestamp: {exc}") from None
    details = rec.get("details")
    if details is not None and not isinstance(details, dict):
        raise ValueError("details: must be an object")
    evidence = text("evidence", 2000) or ""
    mode = privacy.mode if privacy.mode != "off" else "mask"  # evidence is always redacted
    evidence = pipeline.Privacy(mode, privacy.key).redact_text(evidence)[:500] if evidence else None
    return {
        "project": project, "event_id": text("event_id", 64) or uuid.uuid4().hex, "ts": ts_us, "received_at": received,
        "type": etype, "detector": text("detector", 64) or "guard", "severity": severity,
        "score": float(score) if score is not None else None, "action": action, "source": text("source", 64) or "sdk",
        "evidence": evidence, "request_id": text("request_id"), "trace_id": text("trace_id", 64),
        "span_id": text("span_id", 64), "tenant": text("tenant"), "model": text("model"),
        "details": orjson.dumps(pipeline.Privacy(mode, privacy.key).redact_obj(details)).decode() if details else None,
    }
