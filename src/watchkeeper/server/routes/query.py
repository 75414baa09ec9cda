"""Read API for predictions, labels and models."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from ..responses import JSONResponse

from ...ingest.timestamps import format_us, now_us
from ..errors import ApiError
from ..params import decode_cursor, encode_cursor, parse_limit, parse_time
from ..state import principal, state_of

router = APIRouter()

_JSON_FIELDS = ("inputs", "release", "segment", "scores", "extra")


def _prediction(row: dict) -> dict:
    out = dict(row)
    for name in _JSON_FIELDS:
        if out.get(name) is not None:
            out[name] = orjson.loads(out[name])
    ts = out.pop("ts_us")
    out["timestamp"] = format_us(ts)
    label, value = out.pop("output_label"), out.pop("output_value")
    out["output"] = label if label not in (None, "") else value
    out["output_value"] = value
    return out


@router.get("/api/v1/predictions")
async def list_predictions(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    limit = parse_limit(q.get("limit"))
    cursor = decode_cursor(q.get("cursor"), 2)
    after = (int(cursor[0]), cursor[1]) if cursor else None
    rows = await run_in_threadpool(
        st.store.predictions, who.project, model=q.get("model") or None,
        since_us=parse_time("since", q.get("since")), until_us=parse_time("until", q.get("until")),
        limit=limit, after=after,
    )
    next_cursor = encode_cursor(rows[-1]["ts_us"], rows[-1]["request_id"]) if len(rows) == limit else None
    return JSONResponse({"predictions": [_prediction(r) for r in rows], "next_cursor": next_cursor})


@router.get("/api/v1/labels")
async def list_labels(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    ids = request.query_params.getlist("request_id") or None
    rows = await run_in_threadpool(st.store.labels, who.project, request_ids=ids,
                                   limit=parse_limit(request.query_params.get("limit"), 1000, 100_000))
    for row in rows:
        row["timestamp"] = format_us(row.pop("ts_us"))
    return JSONResponse({"labels": rows})


@router.get("/api/v1/models")
async def list_models(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    rows = await run_in_threadpool(st.store.models, who.project)
    models = []
    for row in rows:
        n = row["predictions"]
        models.append({
            "model": row["model"],
            "predictions": n,
            "versions": [v for v in row["versions"] if v is not None],
            "first_seen": format_us(row["first_seen_us"]),
            "last_seen": format_us(row["last_seen_us"]),
            "errors": row["errors"],
            "error_rate": (row["errors"] / n) if n else 0.0,
            "labelled": row["labelled"],
            "label_coverage": (row["labelled"] / n) if n else 0.0,
            "mean_latency_ms": row["mean_latency_ms"],
        })
    return JSONResponse({"models": models})


@router.get("/api/v1/models/{model}/latency")
async def latency(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    until = parse_time("until", q.get("until")) or now_us()
    since = parse_time("since", q.get("since")) or until - 3600 * 1_000_000
    if since >= until:
        raise ApiError(400, "invalid_argument", "since must be before until")
    try:
        bucket = int(q.get("bucket", "60"))
    except ValueError:
        raise ApiError(400, "invalid_argument", "bucket must be a number of seconds") from None
    if bucket < 1 or (until - since) / 1_000_000 / bucket > 10_000:
        raise ApiError(400, "invalid_argument", "bucket too small for this range (at most 10,000 buckets)")
    rows = await run_in_threadpool(st.store.latency_series, who.project, model, since_us=since, until_us=until, bucket_s=bucket)
    for row in rows:
        row["time"] = format_us(row.pop("t_us"))
    return JSONResponse({"model": model, "bucket_s": bucket, "series": rows})
