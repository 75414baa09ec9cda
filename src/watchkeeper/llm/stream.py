"""``watchkeeper.llm.stream``: time every token of a streamed LLM response.

    for chunk in watchkeeper.llm.stream(client.chat.completions.create(..., stream=True),
                                        model="gpt-4o-mini", prompt_tokens=812):
        send(chunk)                                       # chunks come through unchanged

    # or hand it the call, so the time to first token includes the request itself:
    s = watchkeeper.llm.stream(lambda: client.chat.completions.create(..., stream=True), model="gpt-4o-mini")

Works with OpenAI-compatible chunk objects (or their dict form) and plain text chunks, sync or
async (``async for``). Each chunk that carries text counts as one token; its arrival time is
kept as an integer gap in microseconds, so a 4,000-token answer costs one 4,000-int attribute on
one span, not 4,000 rows. The span (kind llm) is ended when the stream is exhausted, fails,
or is closed early (``watchkeeper.stream.cancelled``). The server derives TTFT, inter-token
latency percentiles, tokens/s, the slowest tokens and the slowdown point from the gaps.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.trace import Status, StatusCode

from ..sdk.tracing import attributes, tracer

log = logging.getLogger("watchkeeper.sdk")

MAX_TOKENS = 8192         # token times/texts recorded per span; the rest are counted only
MAX_OUTPUT_CHARS = 32_768


def _chunk(chunk: Any) -> tuple[str | None, str | None, Any, str | None]:
    """(text, model, usage, finish_reason) of one chunk, whatever shape it has."""
    if isinstance(chunk, str):
        return chunk, None, None, None
    if isinstance(chunk, bytes):
        return chunk.decode(errors="replace"), None, None, None
    get = chunk.get if isinstance(chunk, dict) else (lambda k, d=None: getattr(chunk, k, d))
    choices = get("choices") or ()
    text = finish = None
    if choices:
        c = choices[0]
        cget = c.get if isinstance(c, dict) else (lambda k, d=None: getattr(c, k, d))
        delta = cget("delta")
        if delta is not None:
            text = delta.get("content") if isinstance(delta, dict) else getattr(delta, "content", None)
        if text is None:
            text = cget("text")
        finish = cget("finish_reason")
    return text, get("model"), get("usage"), finish


def _usage(usage: Any, name: str) -> int | None:
    if usage is None:
        return None
    value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
    return value if isinstance(value, int) else None


class _Recorder:
    def __init__(self, model: str | None, prompt_tokens: int | None, name: str | None, fields: dict):
        self.model = model
        self.prompt_tokens = prompt_tokens
        label = name or (f"chat {model}" if model else "llm.stream")
        attrs = {"openinference.span.kind": "LLM", "watchkeeper.span.kind": "llm", "gen_ai.operation.name": "chat"}
        attrs.update(attributes(model=model, **fields))
        self.span = tracer().start_span(label, attributes=attrs)
        self.start = time.perf_counter_ns()
        self.last = self.start
        self.gaps: list[int] = []
        self.texts: list[str] = []
        self.count = 0
        self.response_model = self.finish_reason = self.usage = None
        self.done = False

    def see(self, chunk: Any) -> None:
        now = time.perf_counter_ns()
        try:
            text, model, usage, finish = _chunk(chunk)
        except Exception:
            return
        if model:
            self.response_model = model
        if usage is not None:
            self.usage = usage
        if finish:
            self.finish_reason = finish
        if text:
            self.count += 1
            if len(self.gaps) < MAX_TOKENS:
                self.gaps.append((now - self.last) // 1000)
                self.texts.append(text)
            self.last = now

    def end(self, error: BaseException | None = None, cancelled: bool = False) -> None:
        if self.done:
            return
        self.done = True
        s = self.span
        try:
            attrs: dict[str, Any] = {
                "gen_ai.usage.output_tokens": _usage(self.usage, "completion_tokens") or self.count,
                "watchkeeper.stream.gaps_us": self.gaps, "watchkeeper.stream.tokens": self.texts,
                "output.value": "".join(self.texts)[:MAX_OUTPUT_CHARS],
            }
            prompt = _usage(self.usage, "prompt_tokens") or self.prompt_tokens
            if prompt is not None:
                attrs["gen_ai.usage.input_tokens"] = prompt
            if self.response_model:
                attrs["gen_ai.response.model"] = self.response_model
            if self.finish_reason:
                attrs["gen_ai.response.finish_reasons"] = [str(self.finish_reason)]
            if self.gaps:
                attrs["gen_ai.response.time_to_first_chunk"] = self.gaps[0] / 1e6
            if self.count > len(self.gaps):
                attrs["watchkeeper.stream.tokens_not_timed"] = self.count - len(self.gaps)
            if cancelled:
                attrs["watchkeeper.stream.cancelled"] = True
            s.set_attributes(attrs)
            if error is not None:
                s.record_exception(error)
                s.set_attribute("error.type", type(error).__name__)
                s.set_status(Status(StatusCode.ERROR, str(error)[:500]))
        except Exception:  # telemetry never breaks the stream
            log.debug("could not record stream attributes", exc_info=True)
        s.end()


class SyncStream:
    """Iterates the wrapped stream, timing each chunk; closes the span at the end."""

    def __init__(self, source: Any, rec: _Recorder):
        self._it = iter(source)
        self._source = source
        self._rec = rec

    def __iter__(self):
        return self

    def __next__(self):
        try:
            chunk = next(self._it)
        except StopIteration:
            self._rec.end()
            raise
        except BaseException as exc:
            self._rec.end(error=exc)
            raise
        self._rec.see(chunk)
        return chunk

    def close(self) -> None:
        self._rec.end(cancelled=True)
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[1] is not None:
            self._rec.end(error=exc[1])
        self.close()

    def __del__(self):
        if not self._rec.done:
            self._rec.end(cancelled=True)

    def __getattr__(self, name: str) -> Any:  # e.g. the OpenAI Stream's .response
        return getattr(self._source, name)


class AsyncStream:
    """The async twin of SyncStream (``async for``); accepts an awaitable that yields the stream."""

    def __init__(self, source: Any, rec: _Recorder):
        self._source = source
        self._it = None
        self._rec = rec

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            if self._it is None:
                if inspect.isawaitable(self._source):
                    with otel.use_span(self._rec.span, end_on_exit=False):
                        self._source = await self._source
                self._it = self._source.__aiter__()
            chunk = await self._it.__anext__()
        except StopAsyncIteration:
            self._rec.end()
            raise
        except BaseException as exc:
            self._rec.end(error=exc)
            raise
        self._rec.see(chunk)
        return chunk

    async def aclose(self) -> None:
        self._rec.end(cancelled=True)
        close = getattr(self._source, "aclose", None) or getattr(self._source, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        if exc[1] is not None:
            self._rec.end(error=exc[1])
        await self.aclose()

    def __del__(self):
        if not self._rec.done:
            self._rec.end(cancelled=True)


def stream(chunks: Any, *, model: str | None = None, prompt_tokens: int | None = None, name: str | None = None,
           **fields: Any):
    """Wrap a streamed response (or a callable that starts one); yields its chunks unchanged.

    Extra keywords are span fields, as for ``watchkeeper.span`` (``prompt_version=``, ``provider=`` ...).
    """
    rec = _Recorder(model, prompt_tokens, name, fields)
    if callable(chunks) and not hasattr(chunks, "__iter__") and not hasattr(chunks, "__aiter__"):
        try:
            with otel.use_span(rec.span, end_on_exit=False):
                chunks = chunks()
        except BaseException as exc:
            rec.end(error=exc)
            raise
    # Async only when it cannot be iterated synchronously (some proxies offer both protocols).
    if (hasattr(chunks, "__aiter__") and not hasattr(chunks, "__iter__")) or inspect.isawaitable(chunks):
        return AsyncStream(chunks, rec)
    return SyncStream(chunks, rec)
