"""Cost API.

GET /api/v1/models/{model}/cost?since&until&bucket=86400&by=|segment=   cost per request, P95 latency,
                                                                       cost per correct prediction
GET /api/v1/cost/tiered?cheap=A&expensive=B&since&until[&segment=]     quality gained vs cost added
GET /api/v1/cost/llm?since&until&bucket=                               LLM spans: calls, tokens, cost per model
GET /api/v1/prices · PUT /api/v1/prices/{model}                         the price table (PUT needs admin)
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us
from ...monitors import cost
from ..body import read_body
from ..errors import ApiError
from ..responses import JSONResponse
from ..state import principal, state_of
from .quality import _int, grouping, window

router = APIRouter()


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None


@router.get("/api/v1/models/{model}/cost")
async def model_cost(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    since, until = window(q)
    bucket = _int(q, "bucket", 86400, 0, 366 * 86400)
    if bucket and (until - since) / 1e6 / bucket > 10_000:
        raise ApiError(400, "invalid_argument", "bucket: too small for this range (at most 10,000 buckets)")
    doc = await run_in_threadpool(_call, cost.cost_report, st.store, st.meta, who.project, model, since_us=since,
                                  until_us=until, bucket_s=bucket or None, by=grouping(q))
    return JSONResponse(doc)


@router.get("/api/v1/cost/tiered")
async def tiered(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    cheap, expensive = q.get("cheap"), q.get("expensive")
    if not cheap or not expensive:
        raise ApiError(400, "invalid_argument", "cheap and expensive (model names) are required",
                       [{"field": "cheap" if not cheap else "expensive", "message": "required"}])
    since, until = window(q)
    by = grouping(q) if (q.get("segment") or q.get("by")) else "all"
    doc = await run_in_threadpool(_call, cost.tiered_report, st.store, st.meta, who.project, cheap, expensive,
                                  since_us=since, until_us=until, by=by)
    return JSONResponse(doc)


@router.get("/api/v1/cost/llm")
async def llm_cost(request: Request):
    from ...store.queries.cost import span_cost

    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    since, until = window(q)
    bucket = _int(q, "bucket", 86400, 60, 366 * 86400)
    rows = await run_in_threadpool(span_cost, st.store, who.project, since_us=since, until_us=until,
                                   step_us=bucket * 1_000_000)
    prices = {p["model"]: p for p in await run_in_threadpool(cost.list_prices, st.meta, who.project)}
    for row in rows:
        row["time"] = format_us(int(row.pop("t_us")))
        price = prices.get(row["model"])
        if row["cost"] is None and price and price.get("input_per_1k") is not None:
            row["cost"] = ((row["input_tokens"] or 0) * price["input_per_1k"]
                           + (row["output_tokens"] or 0) * (price.get("output_per_1k") or 0)) / 1000
            row["cost_source"] = "price_table"
        else:
            row["cost_source"] = "spans"
    return JSONResponse({"since": format_us(since), "until": format_us(until), "bucket_s": bucket, "series": rows})


@router.get("/api/v1/prices")
async def get_prices(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"prices": await run_in_threadpool(cost.list_prices, st.meta, who.project)})


@router.put("/api/v1/prices/{model}")
async def put_price(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await read_body(request, 64 * 1024)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    try:
        price = cost.check_price(doc)
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise ApiError(422, "invalid_input", str(exc), [{"field": field, "message": str(exc)}]) from None
    await run_in_threadpool(cost.put_price, st.meta, who.project, model, price)
    return JSONResponse({"model": model, **price})
