"""The walking skeleton's numbers, in one run.

1. The SDK's per-call cost of ``log_prediction`` (p50/p99, µs) next to the familiar reference:
   creating and ending one OpenTelemetry SDK span with five attributes.
2. Server ingest throughput: predictions/s into DuckDB through the real HTTP server, batches of
   1,000 (gzip JSON), with several keep-alive connections.

    python bench/ingest_bench.py [--calls 200000] [--batches 1000] [--connections 4]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import hostspeed  # noqa: E402  (bench/ is the script's folder)


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    samples_ns.sort()
    p50 = samples_ns[len(samples_ns) // 2] / 1000
    p99 = samples_ns[int(len(samples_ns) * 0.99)] / 1000
    return p50, p99


def bench_sdk(calls: int) -> tuple[float, float]:
    import watchkeeper

    # A large batch and interval keep the sender thread asleep: this measures the caller's cost.
    client = watchkeeper.Client(endpoint="http://127.0.0.1:9", batch_size=10**9, flush_interval=3600,
                                max_queue=calls + 10)
    inputs = {"tenure": 14, "plan": "pro", "spend": 42.5, "country": "DE", "device": "ios"}
    clock = time.perf_counter_ns
    samples = [0] * calls
    log = client.log_prediction
    for i in range(calls):
        t = clock()
        log("churn", inputs, 1, latency_ms=12.0)
        samples[i] = clock() - t
    client.disabled = True
    return percentiles(samples)


def bench_otel(calls: int) -> tuple[float, float]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Null(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Null(), max_queue_size=calls + 10, schedule_delay_millis=3_600_000,
                                                   max_export_batch_size=512))
    tracer = provider.get_tracer("bench")
    attrs = {"model": "churn", "tenure": 14, "plan": "pro", "spend": 42.5, "country": "DE"}
    clock = time.perf_counter_ns
    samples = [0] * calls
    for i in range(calls):
        t = clock()
        tracer.start_span("predict", attributes=attrs).end()
        samples[i] = clock() - t
    provider.shutdown()
    return percentiles(samples)


def make_body(batch: int, seed: int) -> bytes:
    rng = random.Random(seed)
    now = time.time()
    recs = [{
        "request_id": f"{seed}-{i}", "timestamp": now - rng.random() * 3600, "model": f"model-{i % 4}",
        "model_version": "3", "inputs": {"tenure": rng.randint(0, 100), "plan": rng.choice(["a", "b", "c"]),
                                          "spend": round(rng.random() * 100, 2), "country": "DE", "device": "ios"},
        "output": rng.randint(0, 1), "scores": [0.3, 0.7], "latency_ms": rng.random() * 50,
        "segment": {"region": "eu"}, "cost": 0.0001,
    } for i in range(batch)]
    return gzip.compress(json.dumps(recs).encode(), compresslevel=1)


def cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU seconds of ``pid`` (and its children, unless ``children`` is false) so far (Linux /proc)."""
    total = 0.0
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir() if children else ():  # children of every thread
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def bench_ingest(batches: int, batch: int, connections: int) -> dict:
    from helpers import LiveServer, duckdb_url

    folder = tempfile.mkdtemp(prefix="wk-bench-")
    server = LiveServer(duckdb_url(Path(folder) / "bench.duckdb")).start()
    bodies = [make_body(batch, s) for s in range(32)]
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    sent = [0]
    errors = [0]
    lock = threading.Lock()
    per_thread = batches // connections

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for k in range(per_thread):
            conn.request("POST", "/api/v1/predictions", body=bodies[(tid + k) % len(bodies)], headers=headers)
            r = conn.getresponse()
            r.read()
            with lock:
                if r.status == 200:
                    sent[0] += batch
                else:
                    errors[0] += 1
        conn.close()

    # Warm-up: the first large batches start the ingest worker processes; measure once they are up.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn.request("POST", "/api/v1/predictions", body=bodies[0], headers=headers)
        conn.getresponse().read()
        with urllib.request.urlopen(server.url + "/health", timeout=30) as r:
            pool = json.loads(r.read())["ingest_queue"].get("workers") or {}
        if not pool.get("processes") or pool.get("ready"):
            break
        time.sleep(0.2)
    conn.close()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(connections)]
    pid = server.proc.pid
    cpu_main, cpu_all, cpu_client = cpu_seconds(pid, children=False), cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The clock stops once every acknowledged row is committed to DuckDB: a read makes the server commit first.
    with urllib.request.urlopen(server.url + "/api/v1/predictions?limit=1", timeout=120) as r:
        r.read()
    elapsed = time.perf_counter() - started
    cpu_main, cpu_all = cpu_seconds(pid, children=False) - cpu_main, cpu_seconds(pid) - cpu_all
    cpu_client = time.process_time() - cpu_client
    with urllib.request.urlopen(server.url + "/health", timeout=30) as r:
        workers = json.loads(r.read())["ingest_queue"].get("workers")
    server.stop()
    size = os.path.getsize(Path(folder) / "bench.duckdb")
    return {"predictions": sent[0], "seconds": elapsed, "per_s": sent[0] / elapsed, "errors": errors[0],
            "db_mb": size / 1e6, "workers": workers,
            "cpu_ms_per_1000": tuple(1000 * c / max(sent[0] / 1000, 1) for c in (cpu_all, cpu_main, cpu_client))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--batches", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(hostspeed.describe())
    from watchkeeper.ingest import fastpath

    print("compiled JSON decoder (ingest/_predjson.c):", "built" if getattr(fastpath, "_predjson", None) is not None else
          "not built (no C compiler at install time): the msgspec path decodes every batch")
    sdk = bench_sdk(args.calls)
    otel = bench_otel(args.calls)
    print(f"SDK log_prediction          p50 {sdk[0]:6.2f} µs   p99 {sdk[1]:6.2f} µs   ({args.calls:,} calls)")
    print(f"OTel span, 5 attributes     p50 {otel[0]:6.2f} µs   p99 {otel[1]:6.2f} µs")
    print(f"ratio (OTel / SDK)          p50 {otel[0] / sdk[0]:5.1f}x   p99 {otel[1] / sdk[1]:5.1f}x")
    ing = bench_ingest(args.batches, args.batch, args.connections)
    print(f"ingest into DuckDB over HTTP: {ing['predictions']:,} predictions in {ing['seconds']:.2f} s = "
          f"{ing['per_s']:,.0f} predictions/s (batches of {args.batch}, {args.connections} connections, "
          f"{ing['errors']} errors, {ing['db_mb']:.1f} MB on disk)")
    print(f"ingest workers: {ing['workers']}")
    all_ms, main_ms, client_ms = ing["cpu_ms_per_1000"]
    print(f"CPU per 1,000 predictions: server + ingest workers {all_ms:.1f} ms (server process {main_ms:.1f}, "
          f"ingest and scan workers {all_ms - main_ms:.1f}), this benchmark's HTTP client {client_ms:.1f} ms "
          f"({os.getloadavg()[0]:.2f} load average at the end)")


if __name__ == "__main__":
    main()
