"""Trace figures, in one run.

1. OTLP ingest throughput: spans/s through the real server (`watchkeeper serve`, DuckDB; the clock stops once
   a read has seen every span, so the commit to DuckDB is counted), protobuf
   ExportTraceServiceRequests of 512 GenAI-style spans (LLM, retriever with documents, tool,
   chain; 8-20 attributes each), several keep-alive connections, measured once the server's ingest
   workers are up (see ``warm_up``). Side by side, in-process on one core: the same requests only
   parsed by protobuf's upb classes (the floor a Python receiver built on them pays), and parsed +
   normalised by our decoder without HTTP and storage, with the compiled reader and with upb's.
2. Trace-list latency over N stored spans (default 1,000,000: 100,000 traces of 10 spans, made
   with SQL inside DuckDB), through the HTTP API: the plain newest-first page, filters on model,
   prompt version, status, min latency and an attribute, and a second page by cursor. p50/p95 ms.

    python bench/traces_bench.py [--batches 600] [--connections 4] [--spans 1000000] [--queries 210]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import hostspeed  # noqa: E402  (bench/ is the script's folder)

BATCH = 512


def _attrs(span, items: dict) -> None:
    for key, value in items.items():
        kv = span.attributes.add(key=key)
        if isinstance(value, bool):
            kv.value.bool_value = value
        elif isinstance(value, int):
            kv.value.int_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        else:
            kv.value.string_value = str(value)


def make_request(rng: random.Random) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "support-bot"
    spans = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(BATCH // 4):
        tid = rng.randbytes(16)
        root = rng.randbytes(8)
        start = now - rng.randint(0, 3600) * 10**9
        for j, kind in enumerate(("chain", "retriever", "llm", "tool")):
            sp = spans.add(trace_id=tid, span_id=root if j == 0 else rng.randbytes(8), name=f"{kind} step",
                           start_time_unix_nano=start + j * 1000, end_time_unix_nano=start + rng.randint(10**6, 3 * 10**9))
            if j:
                sp.parent_span_id = root
            attrs = {"openinference.span.kind": kind.upper(), "session.id": f"s{i}", "user.id": f"u{i % 50}"}
            if kind == "chain":
                attrs.update({"watchkeeper.request_id": f"r{i}", "watchkeeper.prompt_version": "v12",
                              "watchkeeper.index_version": "kb-8", "input.value": "How long do refunds take?"})
            elif kind == "retriever":
                attrs["input.value"] = "refund window"
                for d in range(3):
                    attrs[f"retrieval.documents.{d}.document.id"] = f"kb-{d}"
                    attrs[f"retrieval.documents.{d}.document.score"] = 0.9 - d / 10
                    attrs[f"retrieval.documents.{d}.document.content"] = "Refunds are issued within 30 days of purchase."
            elif kind == "llm":
                attrs.update({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                              "gen_ai.request.model": rng.choice(["gpt-4o", "gpt-4o-mini"]), "gen_ai.usage.input_tokens": 812,
                              "gen_ai.usage.output_tokens": 97, "gen_ai.response.finish_reasons": "stop",
                              "gen_ai.request.temperature": 0.2, "llm.prompt_template.version": "v12"})
            else:
                attrs.update({"gen_ai.tool.name": "lookup_order", "gen_ai.tool.call.arguments": '{"order_id": 7}',
                              "gen_ai.tool.call.result": '{"status": "shipped"}'})
            _attrs(sp, attrs)
    return req.SerializeToString()


def in_process(bodies: list[bytes]) -> tuple[float, float, float | None]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from watchkeeper.ingest.otlp import decode
    from watchkeeper.ingest.spans import SpanBuilder

    t = time.perf_counter()
    n = 0
    for body in bodies:
        req = ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    {kv.key: kv.value for kv in sp.attributes}
                    n += 1
    parse_only = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for body in bodies:
        b = SpanBuilder("default", 0)
        decode(body, "application/x-protobuf", b)
        b.batch()
    normalised = n / (time.perf_counter() - t)
    from watchkeeper.ingest import otlp

    upb = getattr(otlp, "_decode_upb", None)  # the reader without the compiled module (older releases: decode)
    if upb is None:
        return parse_only, normalised, None
    t = time.perf_counter()
    for body in bodies:
        b = SpanBuilder("default", 0)
        upb(body, b)
        b.batch()
    return parse_only, normalised, n / (time.perf_counter() - t)


def ingest(url: str, bodies: list[bytes], connections: int) -> float:
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    work = list(bodies)
    lock = threading.Lock()
    errors = []

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                if not work:
                    break
                body = work.pop()
            conn.request("POST", "/v1/traces", body, {"content-type": "application/x-protobuf"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # A read commits whatever the server still holds in its ingest log, so every span counted is in DuckDB
    # (under heavy ingest the server commits every few seconds; without this a short run would skip the cost).
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/api/v1/traces?limit=1")
    conn.getresponse().read()
    conn.close()
    elapsed = time.perf_counter() - t
    if errors:
        raise SystemExit(f"ingest answered {len(errors)} non-200s: {sorted(set(errors))}")
    return len(bodies) * BATCH / elapsed


def warm_up(url: str, rng: random.Random, connections: int) -> None:
    """Start the server's ingest workers and measure once they are up: the first large exports start them,
    and until they are ready (a few seconds of imports) exports are decoded in the server process. The
    warm-up sends spans of its own (re-sent spans would be dropped as retries, not stored)."""
    import json

    deadline = time.monotonic() + 60
    while True:
        ingest(url, [make_request(rng) for _ in range(connections)], connections)
        with urllib.request.urlopen(url + "/health", timeout=30) as r:
            pool = json.loads(r.read())["ingest_queue"].get("workers") or {}
        if not pool.get("processes") or pool.get("ready"):
            break
        if time.monotonic() > deadline:
            raise SystemExit("the ingest workers did not start within 60 s")
        time.sleep(0.2)
    ingest(url, [make_request(rng) for _ in range(2 * connections)], connections)  # a first export in every worker


def fill(store_url: str, n_spans: int) -> None:
    from watchkeeper.store import open_store

    store = open_store(store_url)
    per = 10
    store.execute(f"""
        INSERT INTO spans
        SELECT 'default', lpad(to_hex(t), 32, '0'), lpad(to_hex(t * 16 + s), 16, '0'),
               CASE WHEN s = 0 THEN NULL ELSE lpad(to_hex(t * 16), 16, '0') END, CASE WHEN s = 0 THEN 1 ELSE 0 END,
               CASE WHEN s = 0 THEN 'support answer' ELSE 'step ' || s END,
               CASE s % 4 WHEN 0 THEN 'chain' WHEN 1 THEN 'retriever' WHEN 2 THEN 'llm' ELSE 'tool' END, 1,
               'support-bot', 'bench',
               now()::TIMESTAMP - to_seconds(t * 0.03) + to_microseconds(s * 1000),
               now()::TIMESTAMP - to_seconds(t * 0.03) + to_microseconds(s * 1000 + 5000 + (t % 997) * 1000),
               5 + (t % 997), now()::TIMESTAMP,
               CASE WHEN t % 50 = 0 AND s = 3 THEN 'error' ELSE 'ok' END, NULL, NULL,
               CASE WHEN s % 4 = 2 THEN (['gpt-4o', 'gpt-4o-mini', 'llama-3-70b'])[1 + t % 3] END, 'openai', 'chat',
               812, 97, 0.002, 'stop', NULL, 'v' || (t % 20), 'r' || t, 'bot@7', 'kb-' || (t % 5), 'p3', 's' || t,
               CASE WHEN s % 4 = 3 THEN 'lookup_order' END, CASE WHEN s % 4 = 2 THEN 150 + t % 300 END, NULL,
               'question ' || t, 'answer ' || t, NULL,
               '{{"tenant":"t' || (t % 100) || '","gen_ai.request.model":"gpt-4o"}}', NULL, NULL
        FROM range({n_spans // per}) AS a(t), range({per}) AS b(s)
    """)
    store.close()


def query(url: str, n: int) -> dict[str, tuple[float, float]]:
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def get(path: str) -> dict:
        import json

        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"{path}: {r.status} {body[:200]!r}")
        return json.loads(body)

    first = get("/api/v1/traces?limit=50")
    paths = {
        "newest 50": "/api/v1/traces?limit=50",
        "model=gpt-4o": "/api/v1/traces?limit=50&model=gpt-4o",
        "prompt_version=v7": "/api/v1/traces?limit=50&prompt_version=v7",
        "status=error": "/api/v1/traces?limit=50&status=error",
        "min_latency_ms=900": "/api/v1/traces?limit=50&min_latency_ms=900",
        "attr tenant=t42": "/api/v1/traces?limit=50&attr=tenant=t42",
        "page 2 (cursor)": f"/api/v1/traces?limit=50&cursor={first['next_cursor']}",
    }
    out = {}
    for name, path in paths.items():
        get(path)  # warm
        samples = []
        for _ in range(max(1, n // len(paths))):
            t = time.perf_counter()
            get(path)
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        out[name] = (statistics.median(samples), samples[int(0.95 * (len(samples) - 1))])
    conn.close()
    return out


def ingest_part(tmp: str, rng: random.Random, args) -> None:
    from helpers import LiveServer, duckdb_url

    bodies = [make_request(rng) for _ in range(args.batches)]
    parse_only, decode_rate, upb_rate = in_process(bodies[:40])
    from ingest_bench import cpu_seconds

    server = LiveServer(duckdb_url(Path(tmp) / "ingest.duckdb")).start()
    try:
        warm_up(server.url, rng, args.connections)
        pid = server.proc.pid
        cpu_main, cpu_all = cpu_seconds(pid, children=False), cpu_seconds(pid)
        rate = ingest(server.url, bodies, args.connections)
        cpu_main, cpu_all = cpu_seconds(pid, children=False) - cpu_main, cpu_seconds(pid) - cpu_all
    finally:
        server.stop()
    n = len(bodies) * BATCH
    print(f"OTLP ingest (protobuf, batches of {BATCH}, {args.connections} connections, DuckDB): {rate:,.0f} spans/s "
          f"(target >= 50,000)")
    print(f"  CPU per span: all server processes {cpu_all / n * 1e6:.1f} µs (server process {cpu_main / n * 1e6:.1f}, "
          f"ingest and scan workers {(cpu_all - cpu_main) / n * 1e6:.1f}); {os.getloadavg()[0]:.2f} load average")
    from watchkeeper.ingest import otlp

    reader = "compiled reader (_otlpwire.c)" if getattr(otlp, "_otlpwire", None) is not None else "upb reader"
    print(f"  in-process, one core: protobuf parse only (upb) {parse_only:,.0f} spans/s; parse + normalise with the "
          f"{reader} {decode_rate:,.0f} spans/s" + (f", with the upb reader {upb_rate:,.0f} spans/s "
                                                    f"(x{decode_rate / upb_rate:.2f})" if upb_rate else ""))


def main() -> None:
    from helpers import LiveServer, duckdb_url

    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=600,
                    help="exports to send (600: ~307,000 spans, several seconds, so that the server's periodic "
                         "commits to DuckDB overlap the ingest as they do in a steady stream, and the last one, "
                         "forced by the final read, is a small part of the run)")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=210)
    ap.add_argument("--skip-ingest", action="store_true", help="only the trace-list part")
    ap.add_argument("--skip-list", action="store_true", help="only the ingest part")
    args = ap.parse_args()
    rng = random.Random(7)
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    print(hostspeed.describe())
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_ingest:
            ingest_part(tmp, rng, args)
        if args.skip_list:
            return
        url = duckdb_url(Path(tmp) / "list.duckdb")
        t = time.perf_counter()
        fill(url, args.spans)
        print(f"stored {args.spans:,} spans in {time.perf_counter() - t:.1f} s")
        server = LiveServer(url).start()
        try:
            results = query(server.url, args.queries)
        finally:
            server.stop()
        worst = max(p95 for _, p95 in results.values())
        print(f"trace list over {args.spans:,} spans (HTTP, p50 / p95 ms; target p95 < 200):")
        for name, (p50, p95) in results.items():
            print(f"  {name:<22} {p50:8.1f} {p95:8.1f}")
        print(f"  worst p95: {worst:.1f} ms")


if __name__ == "__main__":
    main()
