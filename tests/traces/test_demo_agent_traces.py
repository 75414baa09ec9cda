"""The LLM agent demo scenario sends real traces through the SDK's OTLP exporter."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

RUN = r"""
import sys, threading, time
from watchkeeper.demo import llm_agent
from watchkeeper.sdk import tracing
stop = threading.Event()
llm_agent.start(sys.argv[1], stop)
time.sleep(float(sys.argv[2]))
stop.set()
time.sleep(4)
tracing.flush(10)
"""


def test_llm_agent_demo_produces_streamed_rag_tool_traces(live_server):
    """A few seconds of the demo yield traces with streamed LLM spans, retrieval, tool calls and versions."""
    server = live_server()
    out = subprocess.run([sys.executable, "-c", RUN, server.url, "6"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    listed = json.loads(urllib.request.urlopen(server.url + "/api/v1/traces?limit=100", timeout=10).read())["traces"]
    assert len(listed) >= 2
    assert {t["context"]["prompt_version"] for t in listed} <= {"v12", "v13-canary"}
    assert {t["service"] for t in listed} == {"support-bot"}  # not unknown_service, no server self-traces
    trace = json.loads(urllib.request.urlopen(server.url + f"/api/v1/traces/{listed[-1]['trace_id']}", timeout=10).read())
    kinds = {s["kind"] for s in trace["spans"]}
    assert {"chain", "retriever", "tool", "llm"} <= kinds
    llm = next(s for s in trace["spans"] if s["kind"] == "llm")
    assert llm["model"] == "support-llm-8b" and llm["llm"]["token_timeline"] and llm["time_to_first_token_ms"] > 100
    assert trace["rag"]["retrieved"]["chunks"] >= 4 and trace["rag"]["attribution"]["sentences"]
    schemas = json.loads(urllib.request.urlopen(server.url + "/api/v1/tools/schemas", timeout=10).read())["tools"]
    assert [s["name"] for s in schemas] == ["lookup_order"]
