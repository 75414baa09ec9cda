"""Incidents: the evidence, the timeline, notes and the postmortem.

    GET   /api/v1/incidents[?status=open|mitigated|resolved] · POST /api/v1/incidents (open one by hand)
    GET   /api/v1/incidents/{id}                 frozen versions, classification, slices, rollback, timeline
    PATCH /api/v1/incidents/{id}                 status, classification, customer_impact, detection_gap, ...
    POST  /api/v1/incidents/{id}/notes           {"text": ..., "by": ...}
    GET   /api/v1/incidents/{id}/samples         the preserved requests
    GET   /api/v1/incidents/{id}/postmortem.md   Markdown
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...control import incidents as inc
from ...control.http import actor, call, json_body
from ...control.rules import SEVERITIES, parse_duration
from ...errors import ConfigError
from ..errors import ApiError
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()


@router.get("/api/v1/incidents")
async def list_incidents(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    status = request.query_params.get("status") or None
    if status is not None and status not in inc.STATUSES:
        raise ApiError(400, "invalid_argument", f"status must be one of {', '.join(inc.STATUSES)}")
    return JSONResponse({"incidents": await call(inc.list_incidents, st.meta, who.project, status)})


@router.post("/api/v1/incidents")
async def open_incident(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ApiError(400, "invalid_argument", "title is required")
    severity = body.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ApiError(400, "invalid_argument", f"severity must be one of {', '.join(SEVERITIES)}")
    scope = body.get("scope") or ({"model": body["model"]} if body.get("model") else {})
    if not isinstance(scope, dict):
        raise ApiError(400, "invalid_argument", "scope must be an object")
    try:
        window = parse_duration(body.get("window", "1h"), "window")
    except ConfigError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None
    doc = await call(inc.open_incident, st.meta, st.store, who.project, title=title.strip(), severity=severity,
                     signal=body.get("signal"), scope=scope, params=body.get("params") or {}, window_s=window,
                     actor=actor(request, who, body))
    return JSONResponse(doc, status_code=201)


@router.get("/api/v1/incidents/{incident_id}")
async def get_incident(incident_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse(await call(inc.get, st.meta, who.project, incident_id))


@router.patch("/api/v1/incidents/{incident_id}")
async def update_incident(incident_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    by = actor(request, who, body)
    body.pop("by", None)
    return JSONResponse(await call(inc.update, st.meta, who.project, incident_id, body, by))


@router.post("/api/v1/incidents/{incident_id}/notes")
async def add_note(incident_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "invalid_argument", "text is required")
    await call(inc.get, st.meta, who.project, incident_id)
    await call(inc.add_event, st.meta, incident_id, "note", {"text": text[:10_000]}, actor(request, who, body))
    return JSONResponse(await call(inc.get, st.meta, who.project, incident_id), status_code=201)


@router.get("/api/v1/incidents/{incident_id}/samples")
async def samples(incident_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"incident_id": incident_id, "samples": await call(inc.samples, st.meta, who.project, incident_id)})


@router.get("/api/v1/incidents/{incident_id}/postmortem.md")
async def postmortem(incident_id: str, request: Request):
    from ...reports.postmortem import render

    st = state_of(request)
    who = principal(request, "read")
    doc = await call(inc.get, st.meta, who.project, incident_id)
    rows = await call(inc.samples, st.meta, who.project, incident_id)
    return Response(render(doc, rows), media_type="text/markdown; charset=utf-8")
