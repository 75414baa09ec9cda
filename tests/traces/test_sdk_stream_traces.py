"""SDK tracing (trace/span/traced) and watchkeeper.llm.stream on the real OpenTelemetry SDK."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace as NS

import pytest

import watchkeeper
from watchkeeper.llm.timing import analyze, slowdown_point, token_at


def _attrs(memory, name: str) -> dict:
    return dict(next(s for s in memory.get_finished_spans() if s.name == name).attributes)


def test_trace_and_span_carry_versions_and_kinds(memory_spans):
    """trace() sets the serving versions in one call; span() nests with its kind and fields."""
    with watchkeeper.trace("answer", request_id="r1", model_id="bot@7", prompt_version="v12", index_version="kb-3",
                           policy_version="p2", output_meta={"lang": "en"}):
        with watchkeeper.span("search", kind="retriever", query="refund policy") as s:
            s.set(documents=[{"id": "d1", "content": "Refunds within 30 days.", "score": 0.9, "source": "kb/refunds.md"}])
        with watchkeeper.span("issue_refund", kind="tool", arguments={"order": 7}, side_effect=True, approval="human"):
            pass
    root = _attrs(memory_spans, "answer")
    assert root["watchkeeper.prompt_version"] == "v12" and root["watchkeeper.policy_version"] == "p2"
    assert root["watchkeeper.output.lang"] == "en"
    search = _attrs(memory_spans, "search")
    assert search["openinference.span.kind"] == "RETRIEVER" and search["retrieval.documents.0.document.id"] == "d1"
    assert '"source":"kb/refunds.md"' in search["retrieval.documents.0.document.metadata"]
    tool = _attrs(memory_spans, "issue_refund")
    assert tool["gen_ai.tool.call.arguments"] == '{"order":7}' and tool["watchkeeper.tool.side_effect"] is True
    spans = {s.name: s for s in memory_spans.get_finished_spans()}
    assert spans["search"].parent.span_id == spans["answer"].context.span_id
    with pytest.raises(ValueError, match="kind has value 'bogus'"):
        with watchkeeper.span("x", kind="bogus"):
            pass


def test_traced_decorates_sync_and_async_and_records_errors(memory_spans):
    """@traced wraps sync and async functions; an exception marks the span as an error and propagates."""
    @watchkeeper.traced
    def plain(x):
        return x + 1

    @watchkeeper.traced(name="fetch", kind="tool")
    async def fetch():
        raise TimeoutError("upstream")

    assert plain(1) == 2
    with pytest.raises(TimeoutError):
        asyncio.run(fetch())
    spans = {s.name: s for s in memory_spans.get_finished_spans()}
    assert "test_traced_decorates_sync_and_async_and_records_errors.<locals>.plain" in spans
    assert not spans["fetch"].status.is_ok and spans["fetch"].events[0].name == "exception"


def _chunk(text, model="m-1", finish=None, usage=None):
    return NS(model=model, usage=usage, choices=[NS(delta=NS(content=text), finish_reason=finish)] if text is not None or finish else [])


def test_stream_passes_openai_chunks_through_and_times_tokens(memory_spans):
    """OpenAI-style chunks come out unchanged; each text chunk's gap is recorded, usage wins over counting."""
    def gen():
        time.sleep(0.05)
        yield _chunk("")  # role chunk: no token
        for tok in ["Hel", "lo", "!"]:
            yield _chunk(tok)
            time.sleep(0.01)
        yield _chunk(None, finish="stop")
        yield NS(model="m-1", choices=[], usage=NS(prompt_tokens=9, completion_tokens=3))

    chunks = list(gen())
    out = list(watchkeeper.llm.stream(iter(chunks), model="m-1"))
    assert out == chunks
    attrs = _attrs(memory_spans, "chat m-1")
    gaps = attrs["watchkeeper.stream.gaps_us"]
    assert len(gaps) == 3 and list(attrs["watchkeeper.stream.tokens"]) == ["Hel", "lo", "!"]
    assert attrs["gen_ai.usage.input_tokens"] == 9 and attrs["gen_ai.usage.output_tokens"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",) and attrs["output.value"] == "Hello!"


def test_stream_plain_text_async_and_early_close(memory_spans):
    """Async text streams are timed too; closing a stream early ends its span as cancelled."""
    async def agen():
        for tok in ["a", "b", "c"]:
            await asyncio.sleep(0.01)
            yield tok

    async def consume():
        return [c async for c in watchkeeper.llm.stream(agen(), model="m-async", prompt_tokens=4)]

    assert asyncio.run(consume()) == ["a", "b", "c"]
    attrs = _attrs(memory_spans, "chat m-async")
    assert attrs["gen_ai.usage.input_tokens"] == 4 and len(attrs["watchkeeper.stream.gaps_us"]) == 3
    assert all(g >= 5_000 for g in attrs["watchkeeper.stream.gaps_us"])

    s = watchkeeper.llm.stream(iter(["x", "y", "z"]), model="m-cut")
    next(s)
    s.close()
    attrs = _attrs(memory_spans, "chat m-cut")
    assert attrs["watchkeeper.stream.cancelled"] is True and attrs["output.value"] == "x"


def test_stream_failure_marks_the_span_and_reraises(memory_spans):
    """An error from the underlying stream is re-raised unchanged and recorded on the span."""
    def broken():
        yield "ok"
        raise ConnectionError("reset")

    with pytest.raises(ConnectionError):
        list(watchkeeper.llm.stream(broken(), model="m-err"))
    span = next(s for s in memory_spans.get_finished_spans() if s.name == "chat m-err")
    assert not span.status.is_ok and span.attributes["error.type"] == "ConnectionError"


def test_timing_analysis_finds_the_slowdown_and_the_verdict():
    """analyze() separates TTFT from generation, ranks slow tokens and finds where decoding slowed."""
    gaps = [2_000_000] + [10_000] * 20 + [80_000] * 20
    result = analyze(gaps, [f"t{i}" for i in range(41)])
    assert result["time_to_first_token_ms"] == 2000 and result["tokens"] == 41
    assert result["slowdown"]["token_index"] == 21 and result["slowdown"]["after_ms"] == 80
    assert result["slow_tokens"][0]["gap_ms"] == 80 and result["slow_tokens"][0]["text"].startswith("t")
    assert result["verdict"]["problem"] == "prompt"
    fast_start = analyze([50_000] + [40_000] * 30)
    assert fast_start["verdict"]["problem"] == "generation" and fast_start["slowdown"] is None
    assert fast_start["tokens_per_s"] == pytest.approx(25.0)
    assert slowdown_point([10.0] * 20) is None
    assert token_at([100, 100, 100], 250) == 2


def test_init_installs_an_exporter_only_without_an_app_provider(tmp_path):
    """init() configures OTLP export when the app has no tracer provider, and leaves an existing one alone."""
    import subprocess
    import sys

    code = ("import watchkeeper; from opentelemetry import trace; {pre}"
            "watchkeeper.init(endpoint='http://127.0.0.1:9'); p = trace.get_tracer_provider(); "
            "print(type(p).__name__, [type(x.span_exporter).__name__ for x in p._active_span_processor._span_processors])")
    fresh = subprocess.run([sys.executable, "-c", code.format(pre="")], capture_output=True, text=True, timeout=60)
    assert fresh.stdout.strip() == "TracerProvider ['OTLPSpanExporter']", fresh.stderr
    pre = ("from opentelemetry.sdk.trace import TracerProvider; from opentelemetry.sdk.trace.export import SimpleSpanProcessor, "
           "ConsoleSpanExporter; t = TracerProvider(); t.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter())); "
           "trace.set_tracer_provider(t); ")
    kept = subprocess.run([sys.executable, "-c", code.format(pre=pre)], capture_output=True, text=True, timeout=60)
    assert kept.stdout.strip() == "TracerProvider ['ConsoleSpanExporter']", kept.stderr
