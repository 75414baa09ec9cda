"""Read a request body without ever holding more than the limit in memory."""

from __future__ import annotations

from fastapi import Request

from ..ingest.decode import BodyError


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyError(413, "body_too_large", f"body of {declared} bytes is larger than the limit of {limit} bytes")
        except ValueError:
            raise BodyError(400, "bad_request", "Content-Length is not a number") from None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, "body_too_large", f"body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request) -> dict:
    """The request's JSON object body (an empty body is ``{}``); anything else is a 400."""
    import orjson

    from .errors import ApiError

    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise ApiError(400, "invalid_json", "body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "body must be a JSON object")
    return body
