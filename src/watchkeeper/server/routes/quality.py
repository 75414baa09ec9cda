"""Quality API: realised quality from delayed labels and CBPE estimates, live or stored.

GET  /api/v1/models/{model}/quality?since&until&bucket&segment=KEY&by=&task=&positive=&threshold=&k=&min_samples=&stored=
POST /api/v1/models/{model}/quality/snapshot    compute now and append to the stored series
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us, now_us
from ...monitors import quality_job
from ...monitors.quality import TASKS, model_quality
from ..errors import ApiError
from ..params import parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()
DEFAULT_WINDOW_S = 24 * 3600


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_argument", f"{field}: {message}", [{"field": field, "message": message}])


def _int(q, name: str, default: int, lo: int, hi: int) -> int:
    raw = q.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad(name, f"{raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise _bad(name, f"must be between {lo} and {hi}")
    return value


def window(q) -> tuple[int, int]:
    until = parse_time("until", q.get("until")) or now_us()
    since = parse_time("since", q.get("since")) or until - DEFAULT_WINDOW_S * 1_000_000
    if since >= until:
        raise _bad("since", "must be before until")
    return since, until


def grouping(q) -> str:
    segment, by = q.get("segment"), q.get("by")
    if segment:
        return f"segment:{segment}"
    return by or "model_version"


def quality_args(q) -> dict:
    since, until = window(q)
    bucket = _int(q, "bucket", 3600, 0, 366 * 86400)
    if bucket and (until - since) / 1e6 / bucket > 10_000:
        raise _bad("bucket", "too small for this range (at most 10,000 buckets)")
    task = q.get("task") or None
    if task is not None and task not in TASKS:
        raise _bad("task", f"must be one of {', '.join(TASKS)}")
    try:
        threshold = float(q.get("threshold", "0.5"))
    except ValueError:
        raise _bad("threshold", "must be a number") from None
    return {"since_us": since, "until_us": until, "bucket_s": bucket or None, "by": grouping(q), "task": task,
            "positive": q.get("positive") or "1", "threshold": threshold, "k": _int(q, "k", 10, 1, 1000),
            "min_samples": _int(q, "min_samples", 30, 1, 10_000_000)}


def _compute(store, project: str, model: str, args: dict) -> dict:
    try:
        return model_quality(store, project, model, **args)
    except ValueError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None


@router.get("/api/v1/models/{model}/quality")
async def get_quality(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    if q.get("stored", "").lower() in ("1", "true", "yes"):
        since, until = window(q)
        rows = await run_in_threadpool(quality_job.stored, st.store, who.project, model, since_us=since,
                                       until_us=until, metric=q.get("metric") or None)
        for row in rows:
            row["time"] = format_us(row.pop("t_us"))
            row["computed_at"] = format_us(row.pop("computed_us"))
        return JSONResponse({"model": model, "since": format_us(since), "until": format_us(until), "points": rows})
    args = quality_args(q)
    doc = await run_in_threadpool(_compute, st.store, who.project, model, args)
    return JSONResponse(doc)


@router.post("/api/v1/models/{model}/quality/snapshot")
async def snapshot(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "ingest")
    q = request.query_params
    until = parse_time("until", q.get("until")) or now_us()
    window_s = _int(q, "window", quality_job.WINDOW_S, 60, 400 * 86400)
    bucket = _int(q, "bucket", quality_job.BUCKET_S, 1, 366 * 86400)
    try:
        n = await run_in_threadpool(quality_job.snapshot, st.store, who.project, model, until_us=until,
                                    window_s=window_s, bucket_s=bucket, by=grouping(q))
    except ValueError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None
    return JSONResponse({"model": model, "points_written": n})


def install(state) -> None:
    state.metrics.registry.register(quality_job.QualityCollector(state.store))
