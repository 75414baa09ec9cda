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
