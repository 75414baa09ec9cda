"""Eval runs and online evaluation.

POST /api/v1/evals/runs                a run document from `watchkeeper eval` (llm/evals.py) -> {"id"}
GET  /api/v1/evals/runs?suite=&limit=  run summaries, newest first
GET  /api/v1/evals/runs/{id}           one run; ``latest`` with ?suite= gives the newest of that suite
GET  /api/v1/evals/online?since&until&model=&bucket=   scored production traces: unsupported-claim
                                       rate and refusal rate per bucket (llm/evals_online.py)
"""

from __future__ import annotations

import re
import time

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us, now_us
from ..body import read_body
from ..errors import ApiError
from ..params import parse_limit, parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_RUN_BYTES = 16 * 1024 * 1024


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_input", f"{field}: {message}", [{"field": field, "message": message}])


def _check_run(doc) -> dict:
    if not isinstance(doc, dict):
        raise _invalid("", "a run must be a JSON object")
    if not isinstance(doc.get("suite"), str) or not doc["suite"]:
        raise _invalid("suite", "is required (a string)")
    cases = doc.get("cases")
    if not isinstance(cases, list) or not all(isinstance(c, dict) and "passed" in c for c in cases):
        raise _invalid("cases", "must be a list of case results, each with 'passed'")
    run_id = doc.get("id") or time.strftime("%Y%m%d%H%M%S")
    if not isinstance(run_id, str) or not _ID.match(run_id):
        raise _invalid("id", "must be 1-64 letters, digits or _.-")
    doc["id"] = run_id
    return doc


@router.post("/api/v1/evals/runs")
async def post_run(request: Request):
    st = state_of(request)
    who = principal(request, "ingest")
    body = await read_body(request, MAX_RUN_BYTES)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    doc = _check_run(doc)
    passed = sum(1 for c in doc["cases"] if c.get("passed"))
    created = int(doc.get("created_us") or now_us())
    params = [doc["id"], who.project, doc["suite"], str(doc.get("target") or ""), created, len(doc["cases"]), passed,
              len(doc["cases"]) - passed, doc.get("baseline"), len(doc.get("regressions") or []),
              orjson.dumps(doc).decode()]

    def _store():
        if st.meta.rows("SELECT id FROM meta_eval_runs WHERE id = ?", [doc["id"]]):
            raise ApiError(409, "conflict", f"eval run {doc['id']!r} exists already")
        st.meta.execute("INSERT INTO meta_eval_runs (id, project, suite, target, created_us, total, passed, failed, "
                        "baseline, regressions, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", params)

    await run_in_threadpool(_store)
    return JSONResponse({"id": doc["id"], "passed": passed, "total": len(doc["cases"])})


def _summary(row: dict) -> dict:
    return {"id": row["id"], "suite": row["suite"], "target": row["target"], "created": format_us(int(row["created_us"])),
            "total": row["total"], "passed": row["passed"], "failed": row["failed"], "baseline": row["baseline"],
            "regressions": row["regressions"]}


@router.get("/api/v1/evals/runs")
async def list_runs(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    sql = ("SELECT id, suite, target, created_us, total, passed, failed, baseline, regressions FROM meta_eval_runs "
           "WHERE project = ?")
    params: list = [who.project]
    if q.get("suite"):
        sql += " AND suite = ?"
        params.append(q["suite"])
    sql += f" ORDER BY created_us DESC LIMIT {parse_limit(q.get('limit'), 50, 1000)}"
    rows = await run_in_threadpool(st.meta.rows, sql, params)
    return JSONResponse({"runs": [_summary(r) for r in rows]})


@router.get("/api/v1/evals/runs/{run_id}")
async def get_run(run_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    if run_id == "latest":
        suite = request.query_params.get("suite")
        if not suite:
            raise ApiError(400, "invalid_argument", "latest needs ?suite=NAME")
        rows = await run_in_threadpool(st.meta.rows, "SELECT document FROM meta_eval_runs WHERE project = ? AND suite = ? "
                                       "ORDER BY created_us DESC LIMIT 1", [who.project, suite])
    else:
        rows = await run_in_threadpool(st.meta.rows, "SELECT document FROM meta_eval_runs WHERE project = ? AND id = ?",
                                       [who.project, run_id])
    if not rows:
        raise ApiError(404, "not_found", f"no eval run {run_id!r} in this project")
    return JSONResponse(orjson.loads(rows[0]["document"]))


@router.get("/api/v1/evals/online")
async def online(request: Request):
    from ...llm import evals_online

    st = state_of(request)
    who = principal(request, "read")
    q = request.query_params
    until = parse_time("until", q.get("until")) or now_us()
    since = parse_time("since", q.get("since")) or until - 24 * 3600 * 1_000_000
    try:
        bucket = int(q.get("bucket", "3600"))
    except ValueError:
        raise ApiError(400, "invalid_argument", "bucket must be a number of seconds") from None
    if bucket < 60:
        raise ApiError(400, "invalid_argument", "bucket must be at least 60 seconds")
    rows = await run_in_threadpool(evals_online.series, st.store, who.project, since_us=since, until_us=until,
                                   bucket_s=bucket, model=q.get("model") or None)
    return JSONResponse({"since": format_us(since), "until": format_us(until), "bucket_s": bucket, "series": rows})
