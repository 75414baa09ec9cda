"""Releases, aliases and the canary verdict.

    POST /api/v1/releases                                  create (same content -> the existing one)
    GET  /api/v1/releases[?model=M] · GET /api/v1/releases/{id}
    POST /api/v1/releases/{id}/promote                     {"alias": "production", "by": ..., "reason": ...}
    GET  /api/v1/releases/{id}/verdict?baseline=ID|ALIAS   pass/fail for Argo Rollouts or any deploy tool
    GET  /api/v1/aliases[?model=M]
    GET  /api/v1/aliases/{model}/{alias}                   the release an alias points at (the SDK's release())
    PUT  /api/v1/aliases/{model}/{alias}                   {"release_id": ..., "by": ..., "reason": ...}
    POST /api/v1/aliases/{model}/{alias}/rollback          back to the previous release
    GET  /api/v1/aliases/{model}/{alias}/history
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...control import compare as compare_mod
from ...control import releases as rel
from ...control.http import actor, call, json_body
from ...ingest.timestamps import now_us
from ..errors import ApiError
from ..params import parse_time
from ..responses import JSONResponse
from ..state import principal, state_of

router = APIRouter()


@router.post("/api/v1/releases")
async def create_release(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    alias = body.pop("alias", None)
    by = actor(request, who, body)
    body.pop("by", None)
    reason = body.pop("reason", None)
    release, created = await call(rel.create_release, st.meta, who.project, body, by)
    out = {"release": release, "created": created}
    if alias:
        out["alias"] = await call(rel.promote, st.meta, who.project, release["id"], alias, by, reason)
    return JSONResponse(out, status_code=201 if created else 200)


@router.get("/api/v1/releases")
async def list_releases(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    model = request.query_params.get("model") or None
    releases = await call(rel.list_releases, st.meta, who.project, model)
    aliases = await call(rel.list_aliases, st.meta, who.project, model)
    return JSONResponse({"releases": releases, "aliases": aliases})


@router.get("/api/v1/releases/{release_id}")
async def get_release(release_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    release = await call(rel.get_release, st.meta, who.project, release_id)
    aliases = [a for a in await call(rel.list_aliases, st.meta, who.project, release["model"]) if a["release_id"] == release_id]
    return JSONResponse({"release": release, "aliases": aliases})


@router.post("/api/v1/releases/{release_id}/promote")
async def promote(release_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request, required=False)
    move = await call(rel.promote, st.meta, who.project, release_id, body.get("alias", "production"),
                      actor(request, who, body), body.get("reason"))
    return JSONResponse(move)


@router.get("/api/v1/releases/{release_id}/verdict")
async def verdict(release_id: str, request: Request):
    """Compare a candidate release with a baseline over a window; ``pass`` is true only to promote."""
    st = state_of(request)
    who = principal(request, "read")
    qp = request.query_params
    candidate = await call(rel.get_release, st.meta, who.project, release_id)
    baseline = qp.get("baseline") or "production"
    base = await call(rel.get_release, st.meta, who.project, baseline, True)
    if base is None:  # an alias name of the same model
        base = await call(rel.resolve, st.meta, who.project, candidate["model"], baseline)
    until = parse_time("until", qp.get("until")) or now_us()
    since = parse_time("since", qp.get("since")) or parse_time("window", "now-" + qp.get("window", "1h"))
    if since is None or since >= until:
        raise ApiError(400, "invalid_argument", "since (or window) must be before until")
    tolerances = {}
    for key, value in qp.items():
        if key.startswith("max_") and key != "max_disagreement":
            try:
                tolerances[key[4:]] = float(value)
            except ValueError:
                raise ApiError(400, "invalid_argument", f"{key}={value!r} is not a number") from None
    try:
        max_dis = float(qp.get("max_disagreement", "0.1"))
        min_requests = int(qp.get("min_requests", str(compare_mod.MIN_REQUESTS)))
    except ValueError:
        raise ApiError(400, "invalid_argument", "max_disagreement must be a number and min_requests an integer") from None
    shadow = qp.get("shadow") or None
    if shadow not in (None, "request_id", "inputs"):
        raise ApiError(400, "invalid_argument", "shadow must be request_id or inputs")
    result = await call(compare_mod.compare, st.store, who.project, base["id"], release_id, since, until,
                        model=candidate["model"], tolerances=tolerances, shadow_join=shadow,
                        max_disagreement=max_dis, min_requests=min_requests, params={"positive": qp.get("positive", "1")})
    result["model"] = candidate["model"]
    return JSONResponse(result)


@router.get("/api/v1/aliases")
async def list_aliases(request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse({"aliases": await call(rel.list_aliases, st.meta, who.project, request.query_params.get("model") or None)})


@router.get("/api/v1/aliases/{model}/{alias}")
async def resolve_alias(model: str, alias: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    return JSONResponse(await call(rel.resolve, st.meta, who.project, model, alias))


@router.put("/api/v1/aliases/{model}/{alias}")
async def set_alias(model: str, alias: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request)
    release_id = body.get("release_id")
    if not isinstance(release_id, str) or not release_id:
        raise ApiError(400, "invalid_argument", "release_id is required")
    release = await call(rel.get_release, st.meta, who.project, release_id)
    if release["model"] != model:
        raise ApiError(400, "invalid_argument", f"release {release_id!r} belongs to model {release['model']!r}, not {model!r}")
    return JSONResponse(await call(rel.promote, st.meta, who.project, release_id, alias, actor(request, who, body), body.get("reason")))


@router.post("/api/v1/aliases/{model}/{alias}/rollback")
async def rollback(model: str, alias: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await json_body(request, required=False)
    return JSONResponse(await call(rel.rollback, st.meta, who.project, model, alias, actor(request, who, body), body.get("reason")))


@router.get("/api/v1/aliases/{model}/{alias}/history")
async def alias_history(model: str, alias: str, request: Request):
    st = state_of(request)
    who = principal(request, "read")
    rows = await call(rel.history, st.meta, who.project, model, alias)
    for r in rows:
        r.pop("at_us", None)
    return JSONResponse({"model": model, "alias": alias, "history": rows})
