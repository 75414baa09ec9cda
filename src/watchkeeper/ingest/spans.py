"""Turn decoded OTLP spans into rows of the ``spans`` table (one normalised span model).

``SpanBuilder.add`` validates one span (ids, times), normalises its GenAI meaning (see genai.py),
analyses a recorded token stream (llm/timing.py), flags tool calls, clips oversized values and
appends the row to column lists. Every attribute is kept in ``attributes`` (JSON), known or not;
the normalised fields are columns so that the API can filter on them.

Limits (never silent: clipped values and dropped events are counted and reported back to the
exporter as a ``partial_success`` warning): string values over MAX_VALUE characters are cut,
structured values over MAX_STRUCTURED bytes of JSON become their truncated JSON text, at most
MAX_ATTRIBUTES attributes and MAX_EVENTS events per span.
"""

from __future__ import annotations

from operator import concat, itemgetter
from typing import Any, Callable

import orjson

from ..llm.timing import analyze
from . import genai as g
from .records import Batch

MAX_VALUE = 32_768
MAX_STRUCTURED = 262_144
MAX_TEXT = 16_384
MAX_ATTRIBUTES = 1024
MAX_EVENTS = 256
MAX_NAME = 1024
_MIN_NS = 631_152_000 * 10**9       # 1990
_MAX_NS = 7_258_118_400 * 10**9     # 2200
_ZERO16, _ZERO8 = bytes(16), bytes(8)

COLUMNS = (
    "project", "trace_id", "span_id", "parent_span_id", "is_root", "name", "kind", "span_kind", "service", "scope",
    "ts", "end_ts", "duration_ms", "received_at", "status", "status_message", "error_type", "model", "provider",
    "operation", "input_tokens", "output_tokens", "cost", "finish_reason", "prompt_template", "prompt_version",
    "request_id", "model_id", "index_version", "policy_version", "session_id", "tool_name", "ttft_ms", "flags",
    "input", "output", "details", "attributes", "events", "resource",
)
_STATUS = {0: "unset", 1: "ok", 2: "error"}
SPAN_DETAILS = "span_details"  # Batch.objects: {row: details dict} of the rows with documents or a tool call
_FIRST_TOKEN_EVENTS = ("First Token Stream Event", "gen_ai.first_token", "first_token")
_CHUNK_EVENTS = ("gen_ai.content.completion.chunk", "llm.content.completion.chunk")

ToolValidator = Callable[[str, str, Any], list[str]]


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # a key that is not a string somewhere inside
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class SpanBuilder:
    """Collects the spans of one export request as columns; counts what it rejected and why."""

    def __init__(self, project: str, received_us: int, tool_validator: ToolValidator | None = None):
        self.project = project
        self.received_us = received_us
        self.tool_validator = tool_validator
        self._rows: list[tuple] = []  # one tuple per span, in COLUMNS order; transposed once in batch()
        self.rejected = 0
        self.reasons: list[str] = []
        self.clipped = 0
        self._streams: list[tuple[int, str, str, list[int]]] = []  # (row, project, model, gaps_us) for metrics
        self._tools: list[tuple[int, str, str, bool]] = []  # (row, tool, outcome, schema violated)
        self._context: dict[int, dict] = {}  # row -> details, for rows with documents or a tool call

    # -- rejections ------------------------------------------------------------------------
    def reject(self, reason: str) -> None:
        self.reject_many(1, reason)

    def reject_many(self, n: int, reason: str) -> None:
        if n <= 0:
            return
        self.rejected += n
        if len(self.reasons) < 5:
            self.reasons.append(reason)

    def message(self) -> str:
        parts = []
        if self.rejected:
            parts.append(f"{self.rejected} span(s) rejected: " + "; ".join(self.reasons))
        if self.clipped:
            parts.append(f"{self.clipped} oversized attribute value(s) or event(s) were truncated")
        return ". ".join(parts)

    @property
    def rows(self) -> int:
        return len(self._rows)

    @property
    def keys(self) -> list[str]:
        """trace_id + span_id (hex) per row: what the server dedupes retried exports on."""
        rows = self._rows
        return list(map(concat, map(_TRACE_ID, rows), map(_SPAN_ID, rows)))

    def batch(self) -> Batch:
        columns = dict(zip(COLUMNS, map(list, zip(*self._rows)))) if self._rows else {c: [] for c in COLUMNS}
        return Batch("spans", columns, rows=len(self._rows), objects={SPAN_DETAILS: self._context})

    # -- one span --------------------------------------------------------------------------
    @staticmethod
    def resource(attrs: dict) -> "Resource":
        """What every span of one resource shares, worked out once (decoders call this per ResourceSpans)."""
        return Resource(attrs)

    def add(self, resource: "Resource | dict", scope: str | None, trace_id: bytes, span_id: bytes, parent: bytes,
            name: str, span_kind: int, start_ns: int, end_ns: int, attrs: dict, events: list, status_code: int,
            status_message: str, flags: int, n_links: int = 0, roles: tuple | None = None) -> None:
        """One span; ``roles`` is ``attribute_roles(attrs)`` when the caller already made that pass."""
        if type(resource) is not Resource:
            resource = Resource(resource)
        if len(trace_id) != 16 or trace_id == _ZERO16:
            return self.reject(f"span {name[:64]!r}: trace_id must be 16 non-zero bytes (32 hex characters), "
                               f"got {len(trace_id)} bytes")
        if len(span_id) != 8 or span_id == _ZERO8:
            return self.reject(f"span {name[:64]!r}: span_id must be 8 non-zero bytes (16 hex characters), "
                               f"got {len(span_id)} bytes")
        if parent and len(parent) != 8:
            return self.reject(f"span {name[:64]!r}: parent_span_id must be empty or 8 bytes, got {len(parent)} bytes")
        if not _MIN_NS <= start_ns <= _MAX_NS:
            return self.reject(f"span {name[:64]!r}: start_time_unix_nano {start_ns} is not a time between 1990 and 2200")
        if end_ns < start_ns:
            if end_ns == 0:
                end_ns = start_ns
            else:
                return self.reject(f"span {name[:64]!r}: end_time_unix_nano is before start_time_unix_nano")
        if len(attrs) > MAX_ATTRIBUTES:
            attrs = dict(list(attrs.items())[:MAX_ATTRIBUTES])
            self.clipped += 1
            roles = None
        tid, sid = trace_id.hex(), span_id.hex()
        pid = parent.hex() if parent and parent != _ZERO8 else None
        kind = g.kind_of(attrs)
        f, flat_docs, flat_msgs, output_meta = roles if roles is not None else attribute_roles(attrs)
        if (flat_docs or flat_msgs) and not (len(attrs) > 4 or kind in ("retriever", "reranker")):
            flat_docs = flat_msgs = None
        for slot, value in resource.context:
            if slot not in f:
                f[slot] = value
        nf: list[Any] = [None] * g.N_FIELDS  # the normalised fields, converted, by slot (g.FIELD_ORDER)
        for slot, value in f.items():
            # text fields keep a short string as it is; the rest go through their conversion
            nf[slot] = value if type(value) is str and slot < g.TEXT_SLOTS and len(value) <= 1024 \
                else _CONVERT[slot](value)
        details: dict[str, Any] = {}
        flags_out: list[str] = []

        # token stream (our SDK writes the gaps; others give at least the first-token time)
        ttft_ms = None
        gaps = attrs.pop("watchkeeper.stream.gaps_us", None)
        tokens = attrs.pop("watchkeeper.stream.tokens", None)
        if isinstance(gaps, list) and gaps and all(isinstance(x, int) and x >= 0 for x in gaps):
            tokens = tokens if isinstance(tokens, list) else None
            stream = analyze(gaps, tokens)
            stream["gaps_us"] = gaps
            if tokens is not None:
                stream["token_texts"] = tokens
            details["stream"] = stream
            ttft_ms = stream["time_to_first_token_ms"]
        else:
            if events:
                chunks = sorted(t for t, n, _ in events if n in _CHUNK_EVENTS and t >= start_ns)
                if chunks:
                    # OpenLLMetry: one event per streamed chunk. Role/finish/usage chunks carry no token, so
                    # keep as many arrivals as output tokens were reported: a close approximation.
                    n_out = g.as_int(g.first(attrs, g.OUTPUT_TOKENS))
                    if n_out is not None and 0 < n_out < len(chunks):
                        chunks = chunks[:n_out]
                    gaps = [(chunks[0] - start_ns) // 1000] + [(b - a) // 1000 for a, b in zip(chunks, chunks[1:])]
                    stream = analyze(gaps[:8192])
                    stream["gaps_us"] = gaps[:8192]
                    stream["source"] = "chunk_events"
                    details["stream"] = stream
                    ttft_ms = stream["time_to_first_token_ms"]
            if ttft_ms is None and "gen_ai.response.time_to_first_chunk" in attrs:
                t = g.as_float(attrs["gen_ai.response.time_to_first_chunk"])
                if t is not None:
                    ttft_ms = t * 1000.0
            if ttft_ms is None and events:
                for ev_time, ev_name, _ in events:
                    if ev_name in _FIRST_TOKEN_EVENTS and ev_time >= start_ns:
                        ttft_ms = (ev_time - start_ns) / 1e6
                        break

        # documents, tools, output metadata
        context = False  # documents or a tool call: what the security scan reads from the details
        if flat_docs or "gen_ai.retrieval.documents" in attrs:
            docs = g.documents(attrs, flat_docs or {})
            if docs:
                details.update(docs)
                context = True
        if kind == "retriever" or kind == "reranker":
            details["query"] = g.text(g.first(attrs, ("gen_ai.retrieval.query.text", "reranker.query", "input.value")))
            for key, out in (("watchkeeper.retrieval.filters", "filters"), ("watchkeeper.retrieval.top_k", "top_k"),
                             ("reranker.top_k", "top_k"), ("reranker.model_name", "reranker_model")):
                if key in attrs:
                    details[out] = g.as_json(attrs[key])
        error_type = attrs.get("error.type")
        if error_type is not None and type(error_type) is not str:
            error_type = g.text(error_type)
        if error_type is None and events:
            for _, ev_name, ev_attrs in events:
                if ev_name == "exception":
                    error_type = g.text(ev_attrs.get("exception.type"))
                    break
        tool_name = nf[4]  # slots: g.FIELD_ORDER
        if kind == "tool":
            tool_name = tool_name or name
            details["tool"] = self._tool(tool_name, attrs, events, status_code, status_message, error_type, flags_out)
            context = True
        used = attrs.get("watchkeeper.rag.used_document_ids")
        if used is not None:
            details["used_document_ids"] = g.as_json(used)
        if output_meta:
            details["output_meta"] = output_meta
        if n_links:
            details["links"] = n_links

        # serialise; clip only a span whose attributes are long enough to hold an oversized value
        attrs_json = _dumps(attrs)
        if len(attrs_json) > MAX_VALUE:
            clipped = self._clip(attrs)
            if clipped is not attrs:
                attrs_json = _dumps(clipped)
        events_json = None
        if events:
            clip = self._clip
            events_json = _dumps([{"ts_us": t // 1000, "name": n[:MAX_NAME], "attributes": clip(a)}
                                  for t, n, a in events[:MAX_EVENTS]])
            if len(events) > MAX_EVENTS:
                self.clipped += 1

        model = nf[0]
        if flat_msgs or "gen_ai.input.messages" in attrs or "gen_ai.output.messages" in attrs:
            flat_msgs = flat_msgs or {}
            input_text = g.messages_text(attrs, flat_msgs, "input") or _text(attrs.get("input.value"))
            output_text = g.messages_text(attrs, flat_msgs, "output") or _text(attrs.get("output.value"))
        else:
            input_text, output_text = attrs.get("input.value"), attrs.get("output.value")
            if input_text is not None and type(input_text) is not str:
                input_text = g.text(input_text)
            if output_text is not None and type(output_text) is not str:
                output_text = g.text(output_text)
        if input_text is not None and len(input_text) > MAX_TEXT:
            input_text = input_text[:MAX_TEXT] + "…[truncated]"
        if output_text is not None and len(output_text) > MAX_TEXT:
            output_text = output_text[:MAX_TEXT] + "…[truncated]"
        cost = nf[13]
        if cost is None and ("llm.cost.prompt" in attrs or "llm.cost.completion" in attrs):
            cost = (g.as_float(attrs.get("llm.cost.prompt")) or 0.0) + (g.as_float(attrs.get("llm.cost.completion")) or 0.0)
        if "gen_ai.response.finish_reasons" in attrs or "llm.finish_reason" in attrs or flat_msgs:
            finish = g.finish_reason(attrs, flat_msgs or {})
        else:
            finish = None

        row = len(self._rows)
        self._rows.append((
            self.project,
            tid,
            sid,
            pid,
            1 if pid is None or (flags & 0x300) == 0x300 else 0,
            name if len(name) <= MAX_NAME else name[:MAX_NAME],
            kind,
            span_kind,
            resource.service,
            scope,
            start_ns // 1000,
            end_ns // 1000,
            (end_ns - start_ns) / 1e6,
            self.received_us,
            _STATUS.get(status_code, "unset"),
            status_message[:MAX_TEXT] or None,
            error_type,
            model,
            nf[1],   # provider
            nf[2],   # operation
            nf[11],  # input_tokens
            nf[12],  # output_tokens
            cost,
            finish,
            nf[10],  # prompt_template
            nf[5],   # prompt_version
            nf[6],   # request_id
            nf[7],   # model_id
            nf[8],   # index_version
            nf[9],   # policy_version
            nf[3],   # session_id
            tool_name,
            ttft_ms,
            ",".join(flags_out) if flags_out else None,
            input_text,
            output_text,
            _dumps(details) if details else None,
            attrs_json,
            events_json,
            resource.json,
        ))
        if context:
            self._context[row] = details
        if "stream" in details:
            self._streams.append((row, self.project, model or "", details["stream"]["gaps_us"]))
        elif ttft_ms is not None and kind == "llm":
            self._streams.append((row, self.project, model or "", [int(ttft_ms * 1000)]))
        return None

    def _tool(self, tool_name: str, attrs: dict, events: list, status_code: int, status_message: str,
              error_type: str | None, flags_out: list[str]) -> dict:
        args = g.as_json(g.first(attrs, ("gen_ai.tool.call.arguments", "watchkeeper.tool.arguments", "tool.parameters",
                                         "input.value")))
        result = g.as_json(g.first(attrs, ("gen_ai.tool.call.result", "watchkeeper.tool.result", "output.value")))
        error = None
        if status_code == 2 or error_type:
            error = status_message or error_type or "error"
            for _, ev_name, ev_attrs in events:
                if ev_name == "exception" and ev_attrs.get("exception.message"):
                    error = g.text(ev_attrs["exception.message"])
                    break
        retries = g.as_int(attrs.get("watchkeeper.tool.retries"))
        if retries is None:
            retries = sum(1 for _, n, _ in events if n in ("retry", "watchkeeper.retry")) if events else 0
        timeout = bool(attrs.get("watchkeeper.tool.timeout")) or (
            error_type is not None and "timeout" in error_type.lower())
        tool = {"name": tool_name, "call_id": g.text(g.first(attrs, ("gen_ai.tool.call.id", "tool.id", "tool_call.id"))),
                "arguments": args, "result": result, "error": error, "retries": retries,
                "approval": g.text(attrs.get("watchkeeper.tool.approval")),
                "side_effect": bool(attrs.get("watchkeeper.tool.side_effect", False)), "timeout": timeout}
        violations = self.tool_validator(self.project, tool_name, args) if self.tool_validator else []
        if violations:
            tool["schema_violations"] = violations
            flags_out.append("schema_violation")
        if timeout:
            flags_out.append("tool_timeout")
        elif error is not None:
            flags_out.append("tool_error")
        if retries:
            flags_out.append("tool_retried")
        outcome = "timeout" if timeout else "error" if error is not None else "ok"
        self._tools.append((len(self._rows), tool_name, outcome, bool(violations)))
        return tool

    def _clip(self, attrs: dict) -> dict:
        out = attrs
        for key, value in attrs.items():
            if isinstance(value, str):
                if len(value) > MAX_VALUE:
                    out = dict(out) if out is attrs else out
                    out[key] = value[:MAX_VALUE] + "…[truncated]"
                    self.clipped += 1
            elif isinstance(value, (list, dict)):
                raw = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
                if len(raw) > MAX_STRUCTURED:
                    out = dict(out) if out is attrs else out
                    out[key] = raw[:MAX_VALUE].decode(errors="ignore") + "…[truncated]"
                    self.clipped += 1
        return out


def attribute_roles(attrs: dict) -> tuple[dict[int, Any], dict | None, dict | None, dict | None]:
    """One pass over a span's attributes: the normalised fields ({slot: raw value}; of each field's names
    the first, by rank, that holds a value wins), flattened documents and messages, output metadata.

    The compiled OTLP reader (_otlpwire.c, ``role_pass``) makes the same pass while it decodes.
    """
    f: dict[int, Any] = {}
    ranks: dict[int, int] = {}
    flat_docs = flat_msgs = output_meta = None
    roles, key_role = g._ROLES, g.key_role
    for key, value in attrs.items():
        role = roles.get(key, False)
        if role is False:
            role = key_role(key)
        if role is None:
            continue
        r = role[0]
        if r == "f":
            if value is None or value == "":
                continue
            slot = role[1]
            if slot in f and role[2] >= ranks[slot]:
                continue
            f[slot] = value
            ranks[slot] = role[2]
        elif r == "d":
            if flat_docs is None:
                flat_docs = {}
            flat_docs.setdefault(role[1], {}).setdefault(role[2], {})[role[3]] = value
        elif r == "m":
            if flat_msgs is None:
                flat_msgs = {}
            flat_msgs.setdefault(role[1], {}).setdefault(role[2], {})[role[3]] = value
        else:
            if output_meta is None:
                output_meta = {}
            output_meta[role[1]] = value
    return f, flat_docs, flat_msgs, output_meta


class Resource:
    """The resource of a group of spans: its attributes, service name, stored JSON and context fields."""

    __slots__ = ("attrs", "service", "json", "context")

    def __init__(self, attrs: dict):
        self.attrs = attrs
        self.service = g.text(attrs.get("service.name")) if attrs else None
        self.json = _dumps(attrs) if attrs else None
        # (slot, value) of the context fields (prompt version, request id...) a span inherits when unset
        self.context: tuple[tuple[int, Any], ...] = tuple(
            (g.SLOT[field], value) for field in g.CONTEXT_FIELDS
            if (value := g.first(attrs, g.FIELDS[field]) if attrs else None) is not None)


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else g.text(value)


def _cut(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_TEXT:
        return value
    return value[:MAX_TEXT] + "…[truncated]"


def _ctx(value: Any) -> str | None:
    return None if value is None else g.text(value)[:1024]


# the conversion of each normalised field to its column's value, by slot (g.FIELD_ORDER)
_CONVERT: tuple[Callable[[Any], Any], ...] = tuple(
    {"prompt_template": lambda v: _cut(_text(v)), "input_tokens": g.as_int, "output_tokens": g.as_int,
     "cost": g.as_float, "model": _text, "provider": _text, "operation": _text, "session_id": _text,
     "tool_name": _text}.get(field, _ctx) for field in g.FIELD_ORDER)
_TRACE_ID, _SPAN_ID = itemgetter(1), itemgetter(2)
