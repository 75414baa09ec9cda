"""Fixtures for trace tests: the fake OpenAI server and the real OTel SDK collecting spans in memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # trace_helpers

from trace_helpers import FakeOpenAI  # noqa: E402


@pytest.fixture
def fake_openai():
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _memory_exporter():
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(TracerProvider())
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def memory_spans(_memory_exporter):
    """The real OTel SDK, globally installed; finished spans collected in memory (cleared per test)."""
    _memory_exporter.clear()
    yield _memory_exporter
    _memory_exporter.clear()
