"""Tracing on the OpenTelemetry API: ``trace``, ``span``, ``traced`` and the versions that served a request.

    with watchkeeper.trace("answer", request_id=rid, model_id="support-bot@7", prompt_version="v12",
                           index_version="kb-2026-08", policy_version="p3"):
        with watchkeeper.span("search", kind="retriever", query=q) as s:
            s.set(documents=[{"id": "d1", "content": "...", "score": 0.82}])
        with watchkeeper.span("lookup_order", kind="tool", arguments={"id": 7}, side_effect=False):
            ...

Spans are ordinary OpenTelemetry spans, so OpenInference, OpenLLMetry and our own land in one
trace. ``watchkeeper.init()`` installs an OTLP/HTTP exporter to the server unless the app already
set a tracer provider (then spans go wherever the app sends them). The exporter and SDK
(``pip install 'watchkeeper[otel]'``) are imported only then; without them spans are no-ops.
A span never raises into the caller because of telemetry: attribute errors are logged and dropped.
"""

from __future__ import annotations

import functools
import inspect
import logging
from contextlib import contextmanager
from typing import Any, Iterator

import orjson
from opentelemetry import trace as otel
from opentelemetry.trace import Status, StatusCode

from . import default

log = logging.getLogger("watchkeeper.sdk")

TRACER_NAME = "watchkeeper"
KINDS = ("llm", "retriever", "reranker", "embedding", "tool", "agent", "chain", "guardrail", "evaluator", "other")

# keyword -> attribute name. Plain keywords not listed here are written as given.
ALIASES = {
    "request_id": "watchkeeper.request_id", "model_id": "watchkeeper.model_id",
    "prompt_version": "watchkeeper.prompt_version", "index_version": "watchkeeper.index_version",
    "policy_version": "watchkeeper.policy_version", "prompt_template": "llm.prompt_template.template",
    "model": "gen_ai.request.model", "provider": "gen_ai.provider.name", "input": "input.value",
    "output": "output.value", "input_tokens": "gen_ai.usage.input_tokens", "output_tokens": "gen_ai.usage.output_tokens",
    "cost": "watchkeeper.cost", "session_id": "session.id", "query": "gen_ai.retrieval.query.text",
    "filters": "watchkeeper.retrieval.filters", "top_k": "watchkeeper.retrieval.top_k",
    "tool": "gen_ai.tool.name", "arguments": "gen_ai.tool.call.arguments", "result": "gen_ai.tool.call.result",
    "retries": "watchkeeper.tool.retries", "approval": "watchkeeper.tool.approval",
    "side_effect": "watchkeeper.tool.side_effect", "timeout": "watchkeeper.tool.timeout",
    "used_document_ids": "watchkeeper.rag.used_document_ids",
}

_provider = None  # the TracerProvider init() created, if it created one


def _value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return list(value)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def attributes(**fields: Any) -> dict[str, Any]:
    """Keyword fields -> span attributes (aliases above; documents/output flattened; None dropped)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key == "documents":
            for i, doc in enumerate(value):
                for field in ("id", "content", "score"):
                    if doc.get(field) is not None:
                        out[f"retrieval.documents.{i}.document.{field}"] = _value(doc[field])
                meta = dict(doc.get("metadata") or {})
                if doc.get("source") is not None:
                    meta["source"] = doc["source"]
                if meta:
                    out[f"retrieval.documents.{i}.document.metadata"] = _value(meta)
        elif key == "output_meta" and isinstance(value, dict):
            for k, v in value.items():
                out[f"watchkeeper.output.{k}"] = _value(v)
        else:
            out[ALIASES.get(key, key)] = _value(value)
    return out


class Span:
    """The OpenTelemetry span, plus ``set(**fields)`` with the same keywords as ``span()``."""

    __slots__ = ("otel",)

    def __init__(self, span):
        self.otel = span

    def set(self, **fields: Any) -> "Span":
        try:
            self.otel.set_attributes(attributes(**fields))
        except Exception:  # telemetry never breaks the caller
            log.debug("could not set span attributes", exc_info=True)
        return self

    def fail(self, error: BaseException | str) -> None:
        """Mark the span failed without raising (a tool that returned an error, a guardrail block)."""
        if isinstance(error, BaseException):
            self.otel.record_exception(error)
            self.otel.set_attribute("error.type", type(error).__name__)
        self.otel.set_status(Status(StatusCode.ERROR, str(error)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.otel, name)


def tracer():
    return otel.get_tracer(TRACER_NAME)


@contextmanager
def span(name: str, kind: str = "chain", **fields: Any) -> Iterator[Span]:
    """A child span of the current one (or a new trace). ``kind``: llm, retriever, tool, agent, chain, ..."""
    if kind not in KINDS:
        raise ValueError(f"kind has value {kind!r}. Expected one of {', '.join(KINDS)}.")
    attrs = {"openinference.span.kind": kind.upper(), "watchkeeper.span.kind": kind}
    try:
        attrs.update(attributes(**fields))
    except Exception:
        log.debug("could not convert span fields", exc_info=True)
    with tracer().start_as_current_span(name, attributes=attrs) as s:
        yield Span(s)


@contextmanager
def trace(name: str, *, request_id: str | None = None, model_id: str | None = None,
          prompt_version: str | None = None, index_version: str | None = None, policy_version: str | None = None,
          output_meta: dict | None = None, kind: str = "chain", **fields: Any) -> Iterator[Span]:
    """A request's top span, carrying the versions that served it (indexed and filterable on the server)."""
    with span(name, kind, request_id=request_id, model_id=model_id, prompt_version=prompt_version,
              index_version=index_version, policy_version=policy_version, output_meta=output_meta, **fields) as s:
        yield s


def set_trace_context(**fields: Any) -> None:
    """Set versions or output metadata on the current span (``output_meta={...}`` once the answer is known)."""
    Span(otel.get_current_span()).set(**fields)


def traced(fn=None, *, name: str | None = None, kind: str = "chain"):
    """Decorator: run the function (sync or async) inside a span named after it."""

    def wrap(func):
        label = name or func.__qualname__
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                with span(label, kind):
                    return await func(*args, **kwargs)
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with span(label, kind):
                return func(*args, **kwargs)
        return wrapper

    return wrap(fn) if fn is not None else wrap


# -- exporter setup on init() -------------------------------------------------------------------
def _has_provider() -> bool:
    return not isinstance(otel.get_tracer_provider(), otel.ProxyTracerProvider)


def configure(client) -> None:
    """init() hook: send spans to the watchkeeper server over OTLP/HTTP, unless the app has a provider."""
    global _provider
    if client.disabled or _has_provider():
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.info("watchkeeper: tracing export needs the OpenTelemetry SDK: pip install 'watchkeeper[otel]'. "
                 "Spans are no-ops until then.")
        return
    headers = {"X-Watchkeeper-Project": client.project}
    if client.api_key:
        headers["Authorization"] = f"Bearer {client.api_key}"
    resource = Resource.create({"watchkeeper.project": client.project})
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=client.endpoint.rstrip("/") + "/v1/traces", headers=headers,
                                timeout=client.timeout)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    otel.set_tracer_provider(provider)
    _provider = provider


def flush(timeout: float | None = 10.0) -> bool:
    """Export every ended span now (only for the provider init() created)."""
    if _provider is None:
        return True
    return _provider.force_flush(int((timeout or 30.0) * 1000))


default._init_hooks.append(configure)
default._flush_hooks.append(flush)
