"""Read-only aggregations for the web UI: one call per page section, computed in the store.

``GET /api/v1/overview``                          every model (traffic, errors, P95, quality, cost, sparkline)
                                                  and every traced LLM app (service)
``GET /api/v1/overview/models/{model}``           one model: series, versions, output distribution, cohorts
``GET /api/v1/overview/models/{model}/features``  reference-versus-current histograms of its inputs
``GET /api/v1/whoami``                            the project and scopes of the caller's key
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us, now_us
from ...store.queries import feature_shift, overview as q
from ...store.schema import TABLES
from ..errors import ApiError
from ..params import parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()

_STEPS_S = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _range(request: Request, default_s: int = 3600) -> tuple[int, int]:
    qp = request.query_params
    until = parse_time("until", qp.get("until")) or now_us()
    since = parse_time("since", qp.get("since")) or until - default_s * 1_000_000
    if since >= until:
        raise ApiError(400, "invalid_argument", "since must be before until",
                       [{"field": "since", "message": "not before until"}])
    return since, until


def _step_us(request: Request, since: int, until: int, points: int = 60) -> int:
    raw = request.query_params.get("bucket")
    if raw:
        try:
            step_s = int(raw)
        except ValueError:
            raise ApiError(400, "invalid_argument", f"bucket={raw!r} is not a whole number of seconds",
                           [{"field": "bucket", "message": "not an integer"}]) from None
        if step_s < 1 or (until - since) / 1e6 / step_s > 10_000:
            raise ApiError(400, "invalid_argument", "bucket too small for this range (at most 10,000 buckets)",
                           [{"field": "bucket", "message": "too small"}])
        return step_s * 1_000_000
    want = (until - since) / 1e6 / points
    return next((s for s in _STEPS_S if s >= want), _STEPS_S[-1]) * 1_000_000


async def _none() -> list:
    return []


def _accuracy(qual: dict | None) -> float | None:
    return qual["correct"] / qual["labelled"] if qual and qual["labelled"] else None


@router.get("/api/v1/whoami")
async def whoami(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"project": who.project, "scopes": list(who.scopes), "key_id": who.key_id,
                         "auth": st.auth.keys_exist()})


@router.get("/api/v1/overview")
async def overview(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = _range(request)
    step = _step_us(request, since, until, points=40)

    stats, quality, buckets, apps = await asyncio.gather(  # independent scans: run them side by side
        run_in_threadpool(q.model_stats, st.store, who.project, since, until),
        run_in_threadpool(q.model_quality, st.store, who.project, since, until),
        run_in_threadpool(q.traffic_buckets, st.store, who.project, since, until, step),
        run_in_threadpool(q.llm_apps, st.store, who.project, since, until) if "spans" in TABLES else _none(),
    )
    spark: dict[str, dict[int, int]] = {}
    for b in buckets:
        spark.setdefault(b["model"], {})[b["t_us"]] = b["n"]
    start = since // step * step
    slots = list(range(start, until, step))
    models = []
    for row in stats:
        qual = quality.get(row["model"])
        per = spark.get(row["model"], {})
        models.append({**row, "last_seen": format_us(row.pop("last_seen_us")),
                       "labelled": qual["labelled"] if qual else 0,
                       "label_coverage": (qual["labelled"] / row["requests"]) if qual and row["requests"] else 0.0,
                       "accuracy": _accuracy(qual),
                       "traffic": [per.get(t, 0) for t in slots]})
    return JSONResponse({"since": format_us(since), "until": format_us(until), "bucket_s": step // 1_000_000,
                         "bucket_times": [t // 1_000_000 for t in slots], "models": models, "apps": apps})


@router.get("/api/v1/overview/models/{model}")
async def model_detail(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = _range(request)
    step = _step_us(request, since, until)

    keys = [k for k, _ in await run_in_threadpool(q.sample_json_keys, st.store, who.project, model, "segment")][:4]
    series, versions, dist, *per_key = await asyncio.gather(
        run_in_threadpool(q.model_series, st.store, who.project, model, since, until, step),
        run_in_threadpool(q.model_versions, st.store, who.project, model, since, until),
        run_in_threadpool(q.output_distribution, st.store, who.project, model, since, until),
        *(run_in_threadpool(q.segment_quality, st.store, who.project, model, since, until, k) for k in keys),
    )
    cohorts = dict(zip(keys, per_key))
    if not series and not versions:
        known = await run_in_threadpool(st.store.rows, "SELECT count(*) AS n FROM predictions WHERE project = ? AND model = ?",
                                        [who.project, model])
        if not int(known[0]["n"]):
            raise ApiError(404, "model_not_found", f"no predictions for model {model!r} in this project")
    for v in versions:
        v["first_seen"], v["last_seen"] = format_us(v.pop("first_us")), format_us(v.pop("last_us"))
    totals = {k: sum(s[k] for s in series) for k in ("requests", "errors", "labelled", "correct")}
    cost = sum(s["cost"] or 0.0 for s in series)
    totals.update(cost=cost, accuracy=totals["correct"] / totals["labelled"] if totals["labelled"] else None,
                  cost_per_request=cost / totals["requests"] if totals["requests"] else None,
                  cost_per_correct=cost * (totals["labelled"] / totals["requests"]) / totals["correct"]
                  if totals["correct"] and totals["requests"] else None)
    return JSONResponse({"model": model, "since": format_us(since), "until": format_us(until), "bucket_s": step // 1_000_000,
                         "totals": totals, "series": [{**s, "t": s.pop("t_us") // 1_000_000} for s in series],
                         "versions": versions, "distribution": dist, "cohorts": cohorts})


@router.get("/api/v1/overview/models/{model}/features")
async def model_features(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = _range(request)
    result = await run_in_threadpool(feature_shift.feature_shift, st.store, who.project, model, since, until)
    ref = result["reference"]
    if ref is not None:
        result["reference"] = {"since": format_us(ref["since_us"]), "until": format_us(ref["until_us"])}
    return JSONResponse({"model": model, "since": format_us(since), "until": format_us(until), **result})
