"""Per-project privacy: redaction mode, retention, and deletion that actually deletes (admin scope).

    GET  /api/v1/projects/{project}/privacy      -> {"mode", "retention_days", "hash_key_set"}
    PUT  /api/v1/projects/{project}/privacy      {"mode": "mask"|"hash"|"drop"|"off", "retention_days": N|null}
    DELETE /api/v1/projects/{project}/data?before=T  -> rows deleted per table

Without a setting a project is redacted with ``mask``: personal data never reaches the store
unless someone turns redaction off on purpose. ``hash`` gets a random per-project HMAC key,
kept in metadata and never returned. A retention job deletes what is older than
``retention_days`` once an hour (``WATCHKEEPER_RETENTION_INTERVAL`` seconds, for tests).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from ...ingest.timestamps import format_us, now_us
from ...security.pipeline import MODES, Privacy
from ...store.queries import security as q
from ...settings import resolve
from ..errors import ApiError
from ..params import parse_time
from ..state import principal, state_of
from ..body import read_json_object

log = logging.getLogger("watchkeeper.privacy")
router = APIRouter()

_PREFIX = "privacy."
_TTL = 5.0
DEFAULT = Privacy("mask")


def privacy_for(state, project: str) -> Privacy:
    """The project's policy, cached for a few seconds (this runs on every ingest request)."""
    cache = state.extras.setdefault("privacy_cache", {})
    hit = cache.get(project)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _TTL:
        return hit[1]
    try:
        values = q.get_settings(state.meta, project, _PREFIX)
    except Exception:  # metadata unreachable: keep redacting with the strictest known policy
        log.warning("privacy settings of %r unreadable; using mask", project, exc_info=True)
        values = {}
    mode = values.get("mode") if values.get("mode") in MODES else DEFAULT.mode
    key = bytes.fromhex(values["hash_key"]) if isinstance(values.get("hash_key"), str) else None
    if mode == "hash" and not key:
        mode = "mask"
    days = values.get("retention_days")
    policy = Privacy(mode, key, int(days) if isinstance(days, (int, float)) and days > 0 else None,
                     names=values.get("names") is True)
    cache[project] = (now, policy)
    return policy


def _project(request: Request, project: str):
    who = principal(request, "admin")
    if who.key_id is not None and project != who.project:
        raise ApiError(403, "forbidden", f"this key belongs to project {who.project!r}, not {project!r}")
    return who


def _public(p: Privacy) -> dict:
    return {"mode": p.mode, "retention_days": p.retention_days, "names": p.names, "hash_key_set": p.key is not None}


@router.get("/api/v1/projects/{project}/privacy")
async def get_privacy(project: str, request: Request):
    st = state_of(request)
    _project(request, project)
    st.extras.setdefault("privacy_cache", {}).pop(project, None)
    return {"project": project, **_public(privacy_for(st, project))}


@router.put("/api/v1/projects/{project}/privacy")
async def put_privacy(project: str, request: Request):
    st = state_of(request)
    _project(request, project)
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"mode", "retention_days", "names"})
    if unknown:
        raise ApiError(422, "invalid_request", f"unknown field {unknown[0]!r}; expected mode, retention_days, names",
                       [{"field": k, "message": "unknown field"} for k in unknown])
    values: dict = {}
    if "mode" in body:
        if body["mode"] not in MODES:
            raise ApiError(422, "invalid_request", f"mode has value {body['mode']!r}; expected one of: {', '.join(MODES)}",
                           [{"field": "mode", "message": "unknown mode"}])
        values["mode"] = body["mode"]
    if "names" in body:
        if not isinstance(body["names"], bool):
            raise ApiError(422, "invalid_request", "names must be true or false (also redact person names and addresses)",
                           [{"field": "names", "message": "not a boolean"}])
        values["names"] = body["names"]
    if "retention_days" in body:
        days = body["retention_days"]
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
            raise ApiError(422, "invalid_request", "retention_days must be a whole number of days >= 1, or null",
                           [{"field": "retention_days", "message": "invalid"}])
        values["retention_days"] = days
    current = await run_in_threadpool(q.get_settings, st.meta, project, _PREFIX)
    if values.get("mode") == "hash" and not current.get("hash_key"):
        values["hash_key"] = secrets.token_hex(32)
    await run_in_threadpool(q.put_settings, st.meta, project, values, _PREFIX)
    st.extras.setdefault("privacy_cache", {}).pop(project, None)
    return {"project": project, **_public(privacy_for(st, project))}


@router.delete("/api/v1/projects/{project}/data")
async def delete_data(project: str, request: Request):
    st = state_of(request)
    _project(request, project)
    raw = request.query_params.get("before")
    if not raw:
        raise ApiError(400, "invalid_argument", "before is required (ISO 8601, epoch seconds, now, or a duration like 30d)",
                       [{"field": "before", "message": "is required"}])
    before = parse_time("before", raw)
    deleted = await run_in_threadpool(q.delete_before, st.store, project, before)
    log.info("deleted data of project %r before %s: %s", project, format_us(before), deleted)
    return {"project": project, "before": format_us(before), "deleted": deleted}


def run_retention(state) -> dict[str, dict[str, int]]:
    """Delete, for every project with ``retention_days``, what is older than that (synchronous)."""
    out = {}
    for project, days in q.projects_with_setting(state.meta, _PREFIX + "retention_days").items():
        if isinstance(days, int) and days > 0:
            out[project] = q.delete_before(state.store, project, now_us() - days * 86_400_000_000)
    return out


def install(state) -> None:
    interval = float(resolve("retention_interval"))
    holder: dict = {}

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                done = await asyncio.get_running_loop().run_in_executor(None, run_retention, state)
                if any(any(v.values()) for v in done.values()):
                    log.info("retention deleted %s", done)
            except Exception:
                log.warning("retention job failed", exc_info=True)

    async def start() -> None:
        holder["task"] = asyncio.create_task(loop())

    async def stop() -> None:
        task = holder.get("task")
        if task is not None:
            task.cancel()

    state.extras.setdefault("startup", []).append(start)
    state.extras.setdefault("shutdown", []).append(stop)
