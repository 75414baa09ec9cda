"""Decode OTLP/HTTP trace exports (protobuf or OTLP JSON) and feed every span to a SpanBuilder.

Two front ends, one output: the protobuf walker reads ``ExportTraceServiceRequest`` messages
(with the compiled reader ``_otlpwire.c`` where it was built, else, and for whatever it declines,
opentelemetry-proto's upb-backed classes), the JSON walker reads OTLP JSON as OTLP writes it (hex ids,
integer enums, 64-bit integers as strings or numbers, lowerCamelCase keys, unknown fields
ignored). Both hand plain Python values to ``SpanBuilder.add``, which validates and normalises.

Errors that make the whole body unreadable raise ``OtlpError`` (400); a bad span is rejected on
its own and reported through ``partial_success``.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from .decode import BodyError, gunzip
from . import genai as g
from .spans import MAX_ATTRIBUTES, SpanBuilder

try:  # the optional compiled protobuf reader (setup.py builds it where a C compiler is present)
    from . import _otlpwire
except ImportError:  # pragma: no cover - exercised by installs without a compiler
    _otlpwire = None

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_DEPTH = 32  # nesting of array/kvlist attribute values


class OtlpError(Exception):
    """A request that cannot be read at all. ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class BadValue(ValueError):
    """An attribute value no OTLP exporter writes: the span (or the resource's spans) is rejected."""


class TooDeep(BadValue):
    pass


def content_type_of(header: str | None) -> str:
    ctype = (header or "").split(";")[0].strip().lower()
    if ctype not in (PROTOBUF, JSON):
        raise OtlpError(415, "unsupported_media_type",
                        f"content type {ctype or '(none)'!r} is not OTLP; send {PROTOBUF} or {JSON}")
    return ctype


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    enc = (encoding or "").strip().lower()
    if enc == "gzip":
        try:
            return gunzip(body, limit)
        except BodyError as exc:  # the same bounded gunzip as the JSON ingest routes; OTLP's own error type
            raise OtlpError(exc.status, exc.code, exc.message) from None
    if enc not in ("", "identity"):
        raise OtlpError(415, "unsupported_encoding", f"content encoding {enc!r} is not supported; use gzip")
    if len(body) > limit:
        raise OtlpError(413, "body_too_large", f"body is larger than {limit} bytes")
    return body


def decode(body: bytes, ctype: str, builder: SpanBuilder) -> None:
    """Parse ``body`` and add each span to ``builder``."""
    if ctype == PROTOBUF:
        _decode_protobuf(body, builder)
    else:
        _decode_json(body, builder)


# -- protobuf ----------------------------------------------------------------------------------
def _pb_any(v, depth: int = 0) -> Any:
    k = v.WhichOneof("value")
    if k == "string_value":
        return v.string_value
    if k == "int_value":
        return v.int_value
    if k == "double_value":
        return v.double_value
    if k == "bool_value":
        return v.bool_value
    if depth >= MAX_DEPTH:
        raise TooDeep(f"an attribute value is nested deeper than {MAX_DEPTH} levels")
    if k == "array_value":
        return [_pb_any(x, depth + 1) for x in v.array_value.values]
    if k == "kvlist_value":
        return {kv.key: _pb_any(kv.value, depth + 1) for kv in v.kvlist_value.values}
    if k == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return None


def _pb_attrs(kvs) -> dict[str, Any]:
    out = {}
    for kv in kvs:
        v = kv.value
        s = v.string_value  # most values are non-empty strings: one field read instead of WhichOneof + read
        out[kv.key] = s if s else _pb_any(v)
    return out


def _decode_protobuf(body: bytes, builder: SpanBuilder) -> None:
    groups = _otlpwire.decode(body, g._ROLES, g.key_role, MAX_ATTRIBUTES) if _otlpwire is not None else None
    if groups is not None:  # the compiled reader; None: it declined, upb reads the body (and words any error)
        add = builder.add
        for attrs, scopes in groups:
            resource = builder.resource(attrs)
            for scope, spans in scopes:
                for sp in spans:
                    add(resource, scope, *sp)
        return
    _decode_upb(body, builder)


def _decode_upb(body: bytes, builder: SpanBuilder) -> None:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    try:
        req = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise OtlpError(400, "invalid_protobuf", f"body is not an OTLP ExportTraceServiceRequest: {exc}") from None
    add, pb_any = builder.add, _pb_any
    for rs in req.resource_spans:
        try:
            resource = builder.resource(_pb_attrs(rs.resource.attributes))
        except TooDeep as exc:
            builder.reject_many(sum(len(ss.spans) for ss in rs.scope_spans), f"resource: {exc}")
            continue
        for ss in rs.scope_spans:
            scope = ss.scope.name or None
            for sp in ss.spans:
                attrs = {}
                try:
                    for kv in sp.attributes:  # _pb_attrs, inline: this loop is most of the decoding time
                        v = kv.value
                        s = v.string_value
                        attrs[kv.key] = s if s else pb_any(v)
                    events = sp.events
                    events = [(ev.time_unix_nano, ev.name, _pb_attrs(ev.attributes)) for ev in events] if events else ()
                except TooDeep as exc:
                    builder.reject(f"span {sp.name[:64]!r}: {exc}")
                    continue
                if sp.HasField("status"):
                    status = sp.status
                    code, message = status.code, status.message
                else:
                    code, message = 0, ""
                add(resource, scope, sp.trace_id, sp.span_id, sp.parent_span_id, sp.name, sp.kind,
                    sp.start_time_unix_nano, sp.end_time_unix_nano, attrs, events, code, message, sp.flags,
                    len(sp.links))


# -- OTLP JSON ---------------------------------------------------------------------------------
def _bad(path: str, message: str) -> OtlpError:
    return OtlpError(400, "invalid_otlp_json", f"{path}: {message}")


def _list(obj: dict, key: str, path: str) -> list:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(f"{path}.{key}", f"must be an array, got {type(value).__name__}")
    return value


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise _bad(path, f"must be an object, got {type(value).__name__}")
    return value


def _int(value: Any, path: str) -> int:
    """OTLP JSON 64-bit integers: a decimal string or a number."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _bad(path, "must be an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _bad(path, f"must be an integer (or a decimal string), got {str(value)[:40]!r}")


_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _json_any(v: Any, depth: int = 0) -> Any:
    if not isinstance(v, dict):
        return None
    if "stringValue" in v:
        s = v["stringValue"]
        return s if isinstance(s, str) else str(s)
    if "intValue" in v:
        try:
            n = int(v["intValue"])
        except (TypeError, ValueError):
            return None
        if not -2**63 <= n < 2**63:
            raise BadValue(f"intValue {str(n)[:30]} is outside the 64-bit range")
        return n
    if "doubleValue" in v:
        d = v["doubleValue"]
        if isinstance(d, str):
            return _FLOATS.get(d, None)
        return float(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else None
    if "boolValue" in v:
        return bool(v["boolValue"])
    if depth >= MAX_DEPTH:
        raise TooDeep(f"an attribute value is nested deeper than {MAX_DEPTH} levels")
    if "arrayValue" in v:
        inner = v["arrayValue"] or {}
        vals = inner.get("values") if isinstance(inner, dict) else None
        return [_json_any(x, depth + 1) for x in vals] if isinstance(vals, list) else []
    if "kvlistValue" in v:
        inner = v["kvlistValue"] or {}
        vals = inner.get("values") if isinstance(inner, dict) else None
        return _json_attrs(vals, depth + 1) if isinstance(vals, list) else {}
    if "bytesValue" in v:
        return v["bytesValue"] if isinstance(v["bytesValue"], str) else None
    return None


def _json_attrs(kvs: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(kvs, list):
        return {}
    out = {}
    for kv in kvs:
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = _json_any(kv.get("value"), depth)
    return out


def _hex_id(value: Any) -> bytes | None:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _decode_json(body: bytes, builder: SpanBuilder) -> None:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpError(400, "invalid_json", f"body is not valid JSON: {exc}") from None
    doc = _obj(doc, "body")
    for i, rs in enumerate(_list(doc, "resourceSpans", "body")):
        p = f"resourceSpans[{i}]"
        rs = _obj(rs, p)
        try:
            resource = builder.resource(_json_attrs(_obj(rs.get("resource") or {}, f"{p}.resource").get("attributes")))
        except BadValue as exc:
            builder.reject_many(sum(len(ss.get("spans") or []) for ss in _list(rs, "scopeSpans", p)
                                    if isinstance(ss, dict)), f"{p}.resource: {exc}")
            continue
        for j, ss in enumerate(_list(rs, "scopeSpans", p)):
            q = f"{p}.scopeSpans[{j}]"
            ss = _obj(ss, q)
            scope = _obj(ss.get("scope") or {}, f"{q}.scope").get("name") or None
            for k, sp in enumerate(_list(ss, "spans", q)):
                r = f"{q}.spans[{k}]"
                try:
                    _json_span(resource, scope, _obj(sp, r), r, builder)
                except OtlpError as exc:
                    builder.reject(exc.message)


_ENUMS = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
          "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
          "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def _enum(value: Any, path: str) -> int:
    # OTLP JSON says integers only; enum names (what stock proto3 JSON writes) are accepted too.
    if isinstance(value, str) and value in _ENUMS:
        return _ENUMS[value]
    n = _int(value, path)
    if not -2**31 <= n < 2**31:
        raise _bad(path, f"must be a 32-bit enum value, got {str(n)[:40]}")
    return n


def _u64(value: Any, path: str) -> int:
    """A fixed64 field (times): what the protobuf form can hold, so both forms store the same range."""
    n = _int(value, path)
    if not 0 <= n < 2**64:
        raise _bad(path, f"must be an unsigned 64-bit integer, got {str(n)[:40]}")
    return n


def _json_span(resource, scope: str | None, sp: dict, r: str, builder: SpanBuilder) -> None:
    status = sp.get("status") or {}
    if not isinstance(status, dict):
        status = {}
    try:
        attrs = _json_attrs(sp.get("attributes"))
        events = [(_u64(ev.get("timeUnixNano"), f"{r}.events.timeUnixNano"), str(ev.get("name") or ""),
                   _json_attrs(ev.get("attributes")))
                  for ev in (sp.get("events") or []) if isinstance(ev, dict)]
    except BadValue as exc:
        builder.reject(f"{r}: {exc}")
        return
    tid, sid, pid = _hex_id(sp.get("traceId")), _hex_id(sp.get("spanId")), _hex_id(sp.get("parentSpanId"))
    if tid is None or sid is None or pid is None:
        builder.reject(f"{r}: traceId, spanId and parentSpanId must be hex strings")
        return
    links = sp.get("links")
    builder.add(resource, scope, tid, sid, pid, str(sp.get("name") or ""), _enum(sp.get("kind"), f"{r}.kind"),
                _u64(sp.get("startTimeUnixNano"), f"{r}.startTimeUnixNano"),
                _u64(sp.get("endTimeUnixNano"), f"{r}.endTimeUnixNano"), attrs, events,
                _enum(status.get("code"), f"{r}.status.code"), str(status.get("message") or ""),
                _int(sp.get("flags"), f"{r}.flags"), len(links) if isinstance(links, list) else 0)


# -- responses ---------------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def success_body(ctype: str, rejected: int, message: str) -> bytes:
    """An ExportTraceServiceResponse; ``partial_success`` only when something was rejected or warned."""
    if ctype == JSON:
        if not rejected and not message:
            return b"{}"
        return orjson.dumps({"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": message}})
    if not rejected and not message:
        return b""
    inner = b""
    if rejected:
        inner += _varint(1 << 3) + _varint(rejected)
    if message:
        inner += _field_bytes(2, message.encode())
    return _field_bytes(1, inner)


# google.rpc.Code values for the statuses we answer with.
_RPC_CODES = {400: 3, 413: 8, 415: 3, 429: 8, 503: 14, 401: 16, 403: 7}


def status_body(ctype: str, http_status: int, code: str, message: str) -> bytes:
    """A google.rpc.Status (what OTLP clients expect), plus our error shape in the JSON form."""
    rpc = _RPC_CODES.get(http_status, 2)
    if ctype == PROTOBUF:
        return _varint(1 << 3) + _varint(rpc) + _field_bytes(2, message.encode())
    return orjson.dumps({"code": rpc, "message": message,
                         "error": {"code": code, "message": message, "details": []}})
