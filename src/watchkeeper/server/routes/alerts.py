"""Alert rules, SLOs, alerts and signals; the scheduler and the control gauges on /metrics.

    GET  /api/v1/rules · POST /api/v1/rules (one rule) · GET|PUT|DELETE /api/v1/rules/{name}
    GET  /api/v1/slos  · POST /api/v1/slos  (one SLO)  · GET (with budget and burn)|DELETE /api/v1/slos/{name}
    PUT  /api/v1/control/config      a YAML or JSON document with ``rules:`` and ``slos:`` (upserts all)
    GET  /api/v1/alerts[?status=firing|resolved]
    POST /api/v1/alerts/evaluate     run one evaluation now (``{"now": T}`` to evaluate at another time)
    GET  /api/v1/signals · GET /api/v1/signals/{name}?model=&window=15m
"""

from __future__ import annotations

import logging

import orjson
from fastapi import APIRouter, Request

from ...control import catalog, engine, signals
from ...control import slo as slo_mod
from ...control.http import actor, call, json_body
from ...control.rules import parse_duration
from ...errors import ConfigError
from ...ingest.timestamps import format_us, now_us, parse_timestamp_us
from ..errors import ApiError
from ..params import parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()
log = logging.getLogger("watchkeeper.control")


def install(state) -> None:
    """Put the control gauges on /metrics (rules are evaluated by the scheduler's ``control.evaluate`` job)."""
    from ...control.prom import ControlCollector

    collector = ControlCollector(state.store, state.meta)
    state.metrics.registry.register(collector)
    state.extras["control_collector"] = collector


# -- rules -----------------------------------------------------------------------------------------

@router.get("/api/v1/rules")
async def list_rules(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    rules = await call(catalog.rules, st.meta, who.project)
    st_map = await call(catalog.states, st.meta, who.project)
    return JSONResponse({"rules": [dict(r.to_dict(), state=_public_state(st_map.get((who.project, r.name)))) for r in rules]})


@router.post("/api/v1/rules")
async def create_rule(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    return JSONResponse({"rule": await call(catalog.save, st.meta, who.project, "rule", body, actor(request, who))}, status_code=201)


@router.get("/api/v1/rules/{name}")
async def get_rule(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    for rule in await call(catalog.rules, st.meta, who.project):
        if rule.name == name:
            state = await call(catalog.get_state, st.meta, who.project, name)
            return JSONResponse({"rule": rule.to_dict(), "state": _public_state(state)})
    raise ApiError(404, "not_found", f"no rule {name!r}")


@router.put("/api/v1/rules/{name}")
async def put_rule(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    if body.setdefault("name", name) != name:
        raise ApiError(400, "invalid_argument", f"the body names rule {body['name']!r}, the path {name!r}")
    return JSONResponse({"rule": await call(catalog.save, st.meta, who.project, "rule", body, actor(request, who))})


@router.delete("/api/v1/rules/{name}")
async def delete_rule(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    await call(catalog.delete, st.meta, who.project, "rule", name)
    return JSONResponse({"deleted": name})


# -- SLOs ------------------------------------------------------------------------------------------

@router.get("/api/v1/slos")
async def list_slos(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"slos": [s.to_dict() for s in await call(catalog.slos, st.meta, who.project)]})


@router.post("/api/v1/slos")
async def create_slo(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    return JSONResponse({"slo": await call(catalog.save, st.meta, who.project, "slo", body, actor(request, who))}, status_code=201)


@router.get("/api/v1/slos/{name}")
async def get_slo(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    for s in await call(catalog.slos, st.meta, who.project):
        if s.name == name:
            until = parse_time("until", request.query_params.get("until")) or now_us()
            status = await call(slo_mod.status, s, st.store, who.project, until)
            return JSONResponse({"slo": s.to_dict(), "status": status})
    raise ApiError(404, "not_found", f"no SLO {name!r}")


@router.delete("/api/v1/slos/{name}")
async def delete_slo(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    await call(catalog.delete, st.meta, who.project, "slo", name)
    return JSONResponse({"deleted": name})


@router.put("/api/v1/control/config")
async def put_config(request: Request):
    """Upsert every rule and SLO of a YAML or JSON document (all validated before any is saved)."""
    st = state_of(request)
    who = principal(request, "admin")
    raw = await request.body()
    try:
        if "yaml" in request.headers.get("content-type", ""):
            import yaml

            doc = yaml.safe_load(raw.decode())
        else:
            doc = orjson.loads(raw)
    except Exception as exc:
        raise ApiError(400, "invalid_body", f"cannot parse the document: {exc}") from None
    if not isinstance(doc, dict) or not set(doc) <= {"rules", "slos"}:
        raise ApiError(400, "invalid_argument", "expected a document with 'rules:' and/or 'slos:' lists")
    from ...control.rules import parse_rule

    try:
        for spec in doc.get("rules") or []:
            parse_rule(spec)
        for spec in doc.get("slos") or []:
            slo_mod.parse_slo(spec)
    except ConfigError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None
    by = actor(request, who)
    saved = {"rules": [await call(catalog.save, st.meta, who.project, "rule", s, by) for s in doc.get("rules") or []],
             "slos": [await call(catalog.save, st.meta, who.project, "slo", s, by) for s in doc.get("slos") or []]}
    return JSONResponse(saved)


# -- alerts and evaluation -------------------------------------------------------------------------

@router.get("/api/v1/alerts")
async def list_alerts(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    status = request.query_params.get("status") or None
    if status not in (None, "firing", "resolved"):
        raise ApiError(400, "invalid_argument", "status must be firing or resolved")
    return JSONResponse({"alerts": await call(catalog.alerts, st.meta, who.project, status)})


@router.post("/api/v1/alerts/evaluate")
async def evaluate(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request, required=False)
    at = None
    if body.get("now") is not None:
        try:
            at = parse_timestamp_us(body["now"])
        except ValueError as exc:
            raise ApiError(400, "invalid_argument", f"now: {exc}") from None
    results = await call(engine.evaluate, st.store, st.meta, at, who.project)
    st.extras["last_monitor_run"] = {"at": format_us(now_us()), "jobs": ["control.evaluate"]}
    return JSONResponse({"evaluated_at": format_us(at or now_us()), "results": results})


@router.get("/api/v1/signals")
async def list_signals(request: Request):
    principal(request, "read")
    names = signals.names()
    return JSONResponse({"signals": [{"name": n, "unit": signals.UNITS.get(n, "")} for n in names],
                         "wired": dict(signals.WIRED)})


@router.get("/api/v1/signals/{name}")
async def signal_value(name: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    qp = request.query_params
    until = parse_time("until", qp.get("until")) or now_us()
    try:
        window = parse_duration(qp.get("window", "15m"), "window")
    except ConfigError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None
    scope = {k: qp[k] for k in ("model", "release", "version") if qp.get(k)}
    params = {k[6:]: v for k, v in qp.items() if k.startswith("param.")}
    value = await call(signals.compute, name, st.store, who.project, scope, int(until - window * 1e6), until, params)
    return JSONResponse({"signal": name, "scope": scope, "window_s": window, "until": format_us(until), "value": value})


def _public_state(state: dict | None) -> dict | None:
    if not state:
        return None
    return {k: state.get(k) for k in ("status", "value", "since", "alert_id", "incident_id", "episode")}
