"""Small helpers the control routes share: run store work off the event loop, map errors, read bodies."""

from __future__ import annotations

from typing import Any, Callable

import orjson
from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ..errors import ConfigError, ConflictError
from ..server.errors import ApiError
from .releases import NotFound


async def call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in a thread; NotFound -> 404, ConflictError -> 409, ConfigError -> 400."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except ConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except ConfigError as exc:
        raise ApiError(400, "invalid_argument", str(exc)) from None


async def json_body(request: Request, required: bool = True) -> dict:
    raw = await request.body()
    if not raw:
        if required:
            raise ApiError(400, "invalid_argument", "a JSON object body is required")
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_argument", f"the body must be a JSON object, got {type(body).__name__}")
    return body


def actor(request: Request, who, body: dict | None = None) -> str:
    """Who made a change: the body's ``by``, the X-Watchkeeper-Actor header, else the API key id."""
    named = (body or {}).get("by") or request.headers.get("x-watchkeeper-actor")
    if named:
        return str(named)[:128]
    return f"key:{who.key_id}" if who.key_id else "anonymous"
