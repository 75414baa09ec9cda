"""Reference profiles, online drift, training-serving parity; drift gauges on /metrics.

    PUT  /api/v1/models/{model}/reference[?release=R]        body: a profile (``watchkeeper reference set``)
    GET  /api/v1/models/{model}/reference[?release=R&full=1]  summary (or the whole profile)
    POST /api/v1/models/{model}/reference/from-window?since=&until=[&release=]   profile logged traffic by SQL
    GET  /api/v1/models/{model}/drift?since=&until=|window=1h[&segment=k=v][&release=][&method=]
    POST /api/v1/models/{model}/drift/run[?window=1h]          judge the last window now and store it
    GET  /api/v1/models/{model}/drift/series?since=&until=[&feature=][&segment=k=v]
    POST /api/v1/models/{model}/parity                         body: {"rows": [{"request_id":..., feature: value}]}
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...errors import SchemaError
from ...ingest.timestamps import format_us, now_us
from ...monitors import online_drift, references
from ...monitors.skew import parity
from ...store.queries import drift as q
from ..body import read_body
from ..errors import ApiError
from ..params import parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()
MAX_PROFILE_BYTES = 64 * 1024 * 1024


def parse_window(q_params, default_s: int = 3600) -> tuple[int, int]:
    until = parse_time("until", q_params.get("until")) or now_us()
    window = q_params.get("window")
    if q_params.get("since"):
        since = parse_time("since", q_params.get("since"))
    elif window:
        since = until - int(duration_s("window", window) * 1_000_000)
    else:
        since = until - default_s * 1_000_000
    if since >= until:
        raise ApiError(400, "invalid_argument", "since must be before until")
    return since, until


def duration_s(name: str, value: str) -> float:
    from ...monitors.contract_spec import ContractError, duration_s as parse

    try:
        out = parse(name, value)
    except ContractError as exc:
        raise ApiError(400, "invalid_argument", str(exc), [{"field": name, "message": "bad duration"}]) from None
    if out <= 0:
        raise ApiError(400, "invalid_argument", f"{name} must be positive")
    return out


def parse_segment(values: list[str]) -> dict[str, str]:
    """``segment=country=US`` (or ``country:US``), repeatable, or one JSON object."""
    out: dict[str, str] = {}
    for raw in values:
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise ApiError(400, "invalid_argument", f"segment={raw!r} is not a JSON object") from None
            out.update({str(k): str(v) for k, v in obj.items()})
            continue
        key, sep, value = raw.partition("=") if "=" in raw else raw.partition(":")
        if not sep or not key or not value:
            raise ApiError(400, "invalid_argument", f"segment={raw!r}: expected KEY=VALUE, e.g. segment=tenant=acme",
                           [{"field": "segment", "message": "expected KEY=VALUE"}])
        try:
            q.check_key(key)
        except ValueError as exc:
            raise ApiError(400, "invalid_argument", str(exc)) from None
        out[key] = value
    return out


def _reference(st, project: str, model: str, release: str | None):
    found = references.load(st.meta, project, model, release)
    if found is None:
        raise ApiError(404, "not_found", f"model {model!r} has no reference profile"
                       + (f" for release {release!r}" if release else "")
                       + "; set one with `watchkeeper reference set` or POST .../reference/from-window")
    return found


@router.put("/api/v1/models/{model}/reference")
async def put_reference(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await read_body(request, MAX_PROFILE_BYTES)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    if isinstance(doc, dict) and "profile" in doc and "columns" not in doc:
        doc = doc["profile"]
    try:
        profile = references.DatasetProfile.from_dict(doc)
    except SchemaError as exc:
        raise ApiError(422, "invalid_profile", str(exc)) from None
    release = request.query_params.get("release") or ""
    info = await run_in_threadpool(references.save, st.meta, who.project, model, profile, release, who.key_id or "")
    return JSONResponse({**info, "summary": profile.summary()})


@router.get("/api/v1/models/{model}/reference")
async def get_reference(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    release = request.query_params.get("release") or None
    profile, info = await run_in_threadpool(_reference, st, who.project, model, release)
    out = {"model": model, **info, "created": format_us(info["created_us"]), "summary": profile.summary()}
    if request.query_params.get("full", "").lower() in ("1", "true", "yes"):
        out["profile"] = profile.to_dict()
    return JSONResponse(out)


@router.post("/api/v1/models/{model}/reference/from-window")
async def reference_from_window(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    since, until = parse_window(request.query_params)
    release = request.query_params.get("release") or ""

    def work():
        try:
            profile = references.profile_window(st.store, who.project, model, since, until)
        except SchemaError as exc:
            raise ApiError(422, "no_data", str(exc)) from None
        return references.save(st.meta, who.project, model, profile, release, who.key_id or ""), profile

    info, profile = await run_in_threadpool(work)
    return JSONResponse({**info, "summary": profile.summary()})


def _compute(st, project: str, model: str, query, since: int, until: int) -> dict:
    release = query.get("release") or None
    profile, info = _reference(st, project, model, release)
    segment = parse_segment(query.getlist("segment"))
    threshold = query.get("threshold")
    try:
        thr = float(threshold) if threshold else None
    except ValueError:
        raise ApiError(400, "invalid_argument", f"threshold={threshold!r} is not a number") from None
    result = online_drift.compute(st.store, project, model, profile, since, until, segment=segment,
                                  release=release, method=query.get("method") or None, threshold=thr)
    result["reference"] = info
    result["window"].update(since=format_us(since), until=format_us(until))
    return result


@router.get("/api/v1/models/{model}/drift")
async def get_drift(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = parse_window(request.query_params)
    result = await run_in_threadpool(_compute, st, who.project, model, request.query_params, since, until)
    return JSONResponse(result)


@router.post("/api/v1/models/{model}/drift/run")
async def run_drift(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    since, until = parse_window(request.query_params)

    def work():
        result = _compute(st, who.project, model, request.query_params, since, until)
        stored = online_drift.record(st.store, who.project, result, request.query_params.get("release") or "") \
            if result["rows"] else 0
        return result, stored

    result, stored = await run_in_threadpool(work)
    return JSONResponse({**result, "stored": stored})


@router.get("/api/v1/models/{model}/drift/series")
async def drift_series(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    since, until = parse_window(request.query_params, default_s=24 * 3600)
    segment = online_drift.segment_label(parse_segment(request.query_params.getlist("segment")))
    rows = await run_in_threadpool(q.result_series, st.store, who.project, model, since, until,
                                   request.query_params.get("feature") or None, segment)
    series: dict[str, dict] = {}
    for r in rows:
        s = series.setdefault(r["feature"], {"feature": r["feature"], "kind": r["kind"], "points": []})
        s["points"].append({"time": format_us(r.pop("ts_us")), "method": r["method"], "statistic": r["statistic"],
                            "threshold": r["threshold"], "drifted": bool(r["drifted"]),
                            "missing_current": r["missing_current"], "rows": r["rows_current"]})
    return JSONResponse({"model": model, "series": list(series.values())})


@router.post("/api/v1/models/{model}/parity")
async def post_parity(model: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    body = await read_body(request, st.config.max_body_bytes)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and r.get("request_id") is not None for r in rows):
        raise ApiError(422, "invalid_input", "expected {\"rows\": [{\"request_id\": ..., FEATURE: VALUE, ...}, ...]} "
                       "with a request_id in every row")
    if len(rows) > 100_000:
        raise ApiError(413, "batch_too_large", "at most 100,000 rows per parity check; sample the request ids")
    opts = doc if isinstance(doc, dict) else {}
    try:
        atol = float(opts.get("atol", 1e-6))
        rtol = float(opts.get("rtol", 1e-3))
    except (TypeError, ValueError):
        raise ApiError(400, "invalid_argument", "atol and rtol must be numbers") from None

    def work():
        ids = [str(r["request_id"]) for r in rows]
        online = {}
        for start in range(0, len(ids), 5000):
            for r in q.online_rows(st.store, who.project, model, ids[start:start + 5000], []):
                try:
                    online[str(r["request_id"])] = orjson.loads(r["inputs"]) if r["inputs"] else {}
                except orjson.JSONDecodeError:
                    online[str(r["request_id"])] = {}
        return parity(rows, online, atol=atol, rtol=rtol)

    report = await run_in_threadpool(work)
    return JSONResponse({"model": model, **report})


def install(state) -> None:
    state.metrics.registry.register(online_drift.DriftCollector(state.store))
