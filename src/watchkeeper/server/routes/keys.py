"""API keys over HTTP (admin scope): create, list, revoke. A key manages only its own project."""

from __future__ import annotations

from fastapi import APIRouter, Request
from ..responses import JSONResponse

from ..errors import ApiError
from ..state import principal, state_of
from ..body import read_json_object

router = APIRouter()


def _public(record) -> dict:
    return {"id": record.id, "project": record.project, "name": record.name, "scopes": list(record.scopes),
            "prefix": record.prefix, "created_at": record.created_at, "revoked": record.revoked}


@router.post("/api/v1/keys")
async def create_key(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    body = await read_json_object(request)
    project = body.get("project") or who.project
    if who.key_id is not None and project != who.project:
        raise ApiError(403, "forbidden", f"this key belongs to project {who.project!r}")
    scopes = body.get("scopes") or ["ingest"]
    if not isinstance(scopes, list):
        raise ApiError(422, "invalid_request", "scopes must be a list", [{"field": "scopes", "message": "must be a list"}])
    record, secret = st.meta.create_key(project, scopes, str(body.get("name", "")))
    st.auth.forget()
    return JSONResponse({**_public(record), "key": secret}, status_code=201)


@router.get("/api/v1/keys")
async def list_keys(request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    project = who.project if who.key_id is not None else (request.query_params.get("project") or None)
    return JSONResponse({"keys": [_public(k) for k in st.meta.list_keys(project)]})


@router.delete("/api/v1/keys/{key_id}")
async def revoke_key(key_id: str, request: Request):
    st = state_of(request)
    who = principal(request, "admin")
    keys = {k.id: k for k in st.meta.list_keys(who.project if who.key_id else None)}
    if key_id not in keys:
        raise ApiError(404, "key_not_found", f"no key {key_id!r} in this project")
    st.meta.revoke_key(key_id)
    st.auth.forget()
    return JSONResponse({"revoked": key_id})
