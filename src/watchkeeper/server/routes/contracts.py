"""Data contracts per model: store one, and read the violations the server recorded.

    PUT    /api/v1/models/{model}/contract      body: the contract as YAML or JSON (see monitors/contract_spec.py)
    GET    /api/v1/models/{model}/contract
    DELETE /api/v1/models/{model}/contract
    GET    /api/v1/models/{model}/violations?since=&until=[&limit=]

Each accepted prediction batch is checked against its model's contract after it is stored (a
background thread: ingest latency is unchanged); the job ``contracts`` checks freshness and
completeness. Broken rules land in ``contract_violations``.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us
from ...monitors import contract_job
from ...monitors.contract_spec import ContractError
from ...store.queries import drift as q
from ..body import read_body
from ..errors import ApiError
from ..params import parse_limit
from ..responses import JSONResponse
from ..state import principal, state_of
from .drift import parse_window

router = APIRouter()
MAX_CONTRACT_BYTES = 1024 * 1024


@router.put("/api/v1/models/{model}/contract")
async def put_contract(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await read_body(request, MAX_CONTRACT_BYTES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_contract", "the contract is not UTF-8 text") from None
    try:
        contract = await run_in_threadpool(contract_job.save, st.meta, who.project, model, text, who.key_id or "")
    except ContractError as exc:
        raise ApiError(422, "invalid_contract", str(exc)) from None
    checker = st.extras.get("contract_checker")
    if checker is not None:
        checker.invalidate(who.project, model)
    return JSONResponse({"model": model, "name": contract.name, "fields": sorted(contract.fields),
                         "contacts": contract.contacts(), "freshness": contract.freshness,
                         "completeness": contract.completeness})


@router.get("/api/v1/models/{model}/contract")
async def get_contract(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    row = await run_in_threadpool(contract_job.get, st.meta, who.project, model)
    if row is None:
        raise ApiError(404, "not_found", f"model {model!r} has no data contract; PUT one to .../contract")
    contract = contract_job.load_contract(row["contract"])
    return JSONResponse({"model": model, "name": contract.name, "text": row["contract"], "contract": contract.source,
                         "contacts": contract.contacts(), "updated": format_us(int(row["updated_us"]))})


@router.delete("/api/v1/models/{model}/contract")
async def delete_contract(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    found = await run_in_threadpool(contract_job.delete, st.meta, who.project, model)
    checker = st.extras.get("contract_checker")
    if checker is not None:
        checker.invalidate(who.project, model)
    if not found:
        raise ApiError(404, "not_found", f"model {model!r} has no data contract")
    return JSONResponse({"model": model, "deleted": True})


@router.get("/api/v1/models/{model}/violations")
async def list_violations(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = parse_window(request.query_params, default_s=24 * 3600)
    limit = parse_limit(request.query_params.get("limit"), 500, 10_000)
    rows = await run_in_threadpool(q.violations, st.store, who.project, model, since, until, limit)
    out = []
    for r in rows:
        item = dict(r)
        item["time"] = format_us(item.pop("ts_us"))
        for key in ("samples", "observed", "expected"):
            value = item.get(key)
            if isinstance(value, str) and value[:1] in "[{\"0123456789-":
                try:
                    item[key] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    pass
        item["column"] = item.pop("column_name")
        out.append(item)
    by_rule: dict[str, int] = {}
    for v in out:
        by_rule[v["rule"]] = by_rule.get(v["rule"], 0) + 1
    return JSONResponse({"model": model, "violations": out, "by_rule": by_rule,
                         "window": {"since": format_us(since), "until": format_us(until)}})


@router.post("/api/v1/models/{model}/violations/flush")
async def flush_checks(model: str, request: Request):
    """Wait until every queued batch check has run (for tests and scripts that read right after ingest)."""
    st = state_of(request)
    principal(request, "read")
    checker = st.extras.get("contract_checker")
    if checker is not None:
        await run_in_threadpool(checker.drain)
    return JSONResponse({"pending": 0 if checker is None else checker._q.unfinished_tasks,
                         "dropped": 0 if checker is None else checker.dropped})


def install(state) -> None:
    checker = contract_job.BatchChecker(state.store, state.meta)
    state.extras["contract_checker"] = checker
    state.extras.setdefault("after_ingest_hooks", []).append(checker)

    async def stop() -> None:
        await run_in_threadpool(checker.drain, 5.0)  # queued checks finish before the store closes
        checker.close()

    state.extras.setdefault("shutdown", []).append(stop)
