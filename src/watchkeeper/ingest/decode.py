"""Turn an HTTP request body into a list of records: JSON array or NDJSON, optionally gzip."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

JSON_TYPES = ("application/json", "text/json")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-seq")


class BodyError(Exception):
    """A body that cannot be turned into records. ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str, details: list[dict] | None = None, records: int = 0):
        super().__init__(message)
        self.records = records  # how many records the body held, when that is known
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress gzip, refusing to expand past ``limit`` bytes (gzip bombs)."""
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BodyError(400, "bad_encoding", f"body is not valid gzip: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise BodyError(413, "body_too_large", f"body is larger than {limit} bytes after decompression")
    return out


def decode_body(body: bytes, content_type: str | None, content_encoding: str | None, limit: int) -> list[Any]:
    return parse_records(*unwrap_body(body, content_type, content_encoding, limit))


def unwrap_body(body: bytes, content_type: str | None, content_encoding: str | None, limit: int) -> tuple[str, bytes]:
    """The body's media type and its bytes after checking the type, gunzipping and the size limit."""
    ctype = (content_type or "application/json").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES and ctype not in NDJSON_TYPES:
        raise BodyError(
            415, "unsupported_media_type",
            f"content type {ctype!r} is not supported; send application/json (an array) or application/x-ndjson",
        )
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        body = gunzip(body, limit)
    elif encoding not in ("identity", ""):
        raise BodyError(415, "unsupported_encoding", f"content encoding {encoding!r} is not supported; use gzip")
    if len(body) > limit:
        raise BodyError(413, "body_too_large", f"body is larger than {limit} bytes")
    return ctype, body


def parse_records(ctype: str, body: bytes) -> list[Any]:
    """The records of an unwrapped body: a JSON array (or one object), or NDJSON."""
    if ctype in NDJSON_TYPES:
        return _ndjson(body)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # A JSON content type carrying NDJSON is common; accept it when every line parses.
        if b"\n" in body.strip():
            try:
                return _ndjson(body)
            except BodyError:
                pass
        raise BodyError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        raise BodyError(400, "invalid_batch", f"body must be a JSON array of records, got {type(data).__name__}")
    return data


def _ndjson(body: bytes) -> list[Any]:
    records = []
    for lineno, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise BodyError(400, "invalid_json", f"line {lineno} is not valid JSON: {exc}",
                            [{"line": lineno, "message": str(exc)}]) from None
    return records
