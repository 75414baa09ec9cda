"""The server must not trace its own HTTP requests into the process's OpenTelemetry provider.

`watchkeeper demo` runs the server next to an SDK that installs a global tracer provider; FastAPI
>= 0.165 would otherwise turn every ingest call into a span the demo then sends back to itself.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_server_requests_leave_no_spans_in_a_global_provider(tmp_path):
    script = textwrap.dedent(f"""
        from fastapi.testclient import TestClient
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        from watchkeeper.server.app import create_app
        from watchkeeper.server.config import ServerConfig

        app = create_app(ServerConfig(store_url="duckdb:///{tmp_path}/wk.duckdb"))
        with TestClient(app) as client:
            r = client.post("/api/v1/predictions", json=[{{"model": "m", "output": 1, "inputs": {{"x": 1}}}}])
            assert r.status_code == 200, r.text
            assert client.get("/health").status_code == 200
            with trace.get_tracer("app").start_as_current_span("the user's own span"):
                pass
        print(sorted(s.name for s in exporter.get_finished_spans()))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[\"the user's own span\"]"
