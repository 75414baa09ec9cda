"""Real clients against a real server: the OTel SDK's stock OTLP/HTTP exporter, and the openai client
instrumented by OpenInference and by OpenLLMetry, with our stream wrapper, read back through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest
from trace_helpers import ANSWER, FakeOpenAI, otlp_json


def _get(server, path: str) -> dict:
    with urllib.request.urlopen(server.url + path, timeout=10) as r:
        return json.loads(r.read())


def _wait_trace(server, trace_id: str, spans: int, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            body = _get(server, f"/api/v1/traces/{trace_id}")
            if body["span_count"] >= spans:
                return body
        except urllib.error.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"trace {trace_id} did not arrive with {spans} spans")
        time.sleep(0.2)


def _provider(exporter):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    processor = BatchSpanProcessor(exporter) if hasattr(exporter, "_endpoint") else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    return provider


def _emit(provider, name: str) -> str:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(name, attributes={"watchkeeper.prompt_version": "v9"}) as root:
        with tracer.start_as_current_span("chat gpt-4o", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.prompt_tokens": 11, "gen_ai.usage.completion_tokens": 3}):
            pass
        return format(root.get_span_context().trace_id, "032x")


def test_stock_otlp_exporter_with_default_path_and_json(live_server, monkeypatch):
    """The unmodified OTLPSpanExporter (protobuf, endpoint from OTEL_EXPORTER_OTLP_ENDPOINT) and OTLP JSON both land."""
    from opentelemetry.exporter.otlp.proto.http import trace_exporter
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from watchkeeper.server.config import ServerConfig

    assert trace_exporter.DEFAULT_ENDPOINT == "http://localhost:4318/" and ServerConfig().port == 4318
    server = live_server()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.url)  # the exporter appends /v1/traces itself
    provider = _provider(trace_exporter.OTLPSpanExporter())
    trace_id = _emit(provider, "protobuf request")
    provider.shutdown()
    body = _wait_trace(server, trace_id, 2)
    llm = next(s for s in body["spans"] if s["kind"] == "llm")
    assert (llm["model"], llm["provider"], llm["input_tokens"], llm["output_tokens"]) == ("gpt-4o", "openai", 11, 3)
    assert body["summary"]["context"]["prompt_version"] == "v9" and body["summary"]["service"] == "checkout"

    memory = InMemorySpanExporter()
    provider = _provider(memory)
    json_trace = _emit(provider, "json request")
    r = httpx.post(server.url + "/v1/traces", content=otlp_json(memory.get_finished_spans()),
                   headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == {}
    body = _wait_trace(server, json_trace, 2)
    assert body["summary"]["name"] == "json request" and body["summary"]["input_tokens"] == 11
    listed = _get(server, "/api/v1/traces?prompt_version=v9&model=gpt-4o")["traces"]
    assert {t["trace_id"] for t in listed} == {trace_id, json_trace}


APP = r"""
import os, sys, openai, watchkeeper
which, base = sys.argv[1], sys.argv[2]
watchkeeper.init(endpoint=os.environ["WK_URL"])
if which == "openinference":
    from openinference.instrumentation.openai import OpenAIInstrumentor
else:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor
OpenAIInstrumentor().instrument()
client = openai.OpenAI(base_url=base, api_key="test-key")
with watchkeeper.trace("support answer", request_id="req-42", prompt_version="v3", index_version="kb-7") as t:
    chunks = watchkeeper.llm.stream(lambda: client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True, stream_options={"include_usage": True}), model="gpt-4o-mini")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    print(format(t.get_span_context().trace_id, "032x"), text)
assert watchkeeper.flush(10)
"""


@pytest.mark.parametrize("instrumentation", ["openinference", "openllmetry"])
def test_openai_client_instrumented_streams_read_back(live_server, instrumentation):
    """openai + an instrumentation + watchkeeper.llm.stream: model, tokens, TTFT and token timeline come back right."""
    server = live_server()
    fake = FakeOpenAI(ttft=0.4, gap=0.02).start()
    try:
        env = dict(os.environ, WK_URL=server.url, OTEL_SERVICE_NAME="support-bot")
        out = subprocess.run([sys.executable, "-c", APP, instrumentation, fake.url], capture_output=True, text=True,
                             timeout=120, env=env)
    finally:
        fake.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    trace_id, text = out.stdout.strip().split(" ", 1)
    assert text == "".join(ANSWER)
    body = _wait_trace(server, trace_id, 3)
    assert body["summary"]["context"]["request_id"] == "req-42"
    assert body["summary"]["context"]["index_version"] == "kb-7"
    llms = [s for s in body["spans"] if s["kind"] == "llm"]
    ours = next(s for s in llms if s["scope"] == "watchkeeper")
    theirs = next(s for s in llms if s["scope"] != "watchkeeper")
    assert theirs["parent_span_id"] == ours["span_id"]  # the call ran inside our stream span
    for span in (ours, theirs):
        assert span["model"] == "gpt-4o-mini"
        assert span["output_tokens"] == len(ANSWER)
        assert 380 <= span["time_to_first_token_ms"] < 5000
    assert theirs["input_tokens"] == 6 and ours["input_tokens"] == 6
    timeline = ours["llm"]["token_timeline"]
    assert [t["text"] for t in timeline] == ANSWER
    offsets = [t["offset_ms"] for t in timeline]
    assert offsets[0] >= 380 and offsets == sorted(offsets)
    assert ours["llm"]["generation_ms"] >= 100  # six gaps of 20 ms on the server (arrivals may bunch under load)
    assert ours["llm"]["verdict"]["problem"] == "prompt"  # 400 ms to the first token vs 6 x 20 ms after it
    if instrumentation == "openllmetry":  # one event per chunk: a timeline on their span too
        assert len(theirs["llm"]["token_timeline"]) == len(ANSWER)
    metrics = urllib.request.urlopen(server.url + "/metrics", timeout=10).read().decode()
    assert 'watchkeeper_llm_time_to_first_token_seconds_count{model="gpt-4o-mini",project="default"}' in metrics
    gaps = (len(ANSWER) - 1) * (2 if instrumentation == "openllmetry" else 1)  # both spans carry a timeline there
    assert f'watchkeeper_llm_inter_token_latency_seconds_count{{model="gpt-4o-mini",project="default"}} {gaps}.0' in metrics
