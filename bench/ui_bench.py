"""Page load times of the web UI with a large store, measured in the browser (Debian's Chromium).

    python bench/ui_bench.py [--spans 1000000] [--predictions 1000000] [--runs 5]

Bulk-loads spans (and predictions and labels) straight into a DuckDB store with Arrow, starts
`watchkeeper serve` on it, then loads the overview, a model page and the trace list in headless
Chromium. Per page it prints, from the browser's Performance API (median of --runs loads):

- shell:   navigation start → HTML response end (the server render of the page shell)
- FCP:     first contentful paint
- data:    navigation start → the page's main data rendered (the app's ``wk:ready`` mark)
- API:     the slowest /api/ request of that load (server-side aggregation plus transfer)

Target: every ``data`` figure under 1 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
MODELS = ["fraud-detector", "churn", "credit-limit", "eta-regressor", "spam-filter"]


def load(path: Path, n_spans: int, n_predictions: int) -> None:
    import numpy as np
    import pyarrow as pa

    from watchkeeper.store import open_store
    from watchkeeper.store.schema import TABLES, arrow_schema

    store = open_store("duckdb:////" + str(path).lstrip("/"))
    if "spans" not in TABLES:
        sys.exit("store/schema.py has no spans table yet: the traces feature has not landed")
    rng = np.random.default_rng(7)
    now_us = int(time.time() * 1e6)
    day = 86_400 * 1_000_000
    con = store._cur()

    def insert(table: str, columns: dict) -> None:
        schema = arrow_schema(table)
        n = len(next(iter(columns.values())))
        arrays = [pa.array(columns[f.name], type=f.type) if f.name in columns else pa.nulls(n, type=f.type) for f in schema]
        con.register("bulk", pa.Table.from_arrays(arrays, schema=schema))
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM bulk")
        con.unregister("bulk")

    # spans: traces of 10 spans (root, retrieve, llm, 7 tools/steps), spread over the last 24 h
    per = 10
    n_traces = n_spans // per
    t0 = np.sort(now_us - rng.integers(0, day, n_traces))
    tids = np.array([f"{i:032x}" for i in range(n_traces)], dtype=object)
    idx = np.repeat(np.arange(n_traces), per)
    pos = np.tile(np.arange(per), n_traces)
    start = t0[idx] + pos * 20_000
    dur = np.where(pos == 0, per * 20_000 + 5_000, rng.integers(1_000, 19_000, n_traces * per))
    kinds = np.array(["agent", "retriever", "llm"] + ["tool"] * (per - 3), dtype=object)[pos]
    status = np.where(rng.random(n_traces * per) < 0.01, "error", "ok").astype(object)
    root_ids = np.array([f"{i:08x}00000000" for i in range(n_traces)], dtype=object)
    span_ids = np.array([f"{i:08x}{p:08x}" for i, p in zip(idx, pos)], dtype=object)
    us = lambda a: pa.array(a.astype("datetime64[us]"))  # noqa: E731
    chunk = 250_000
    for lo in range(0, len(idx), chunk):
        s = slice(lo, lo + chunk)
        llm = kinds[s] == "llm"
        insert("spans", {
            "project": ["default"] * len(idx[s]), "trace_id": tids[idx[s]], "span_id": span_ids[s],
            "parent_span_id": np.where(pos[s] == 0, None, root_ids[idx[s]]), "is_root": (pos[s] == 0).astype("int32"),
            "name": np.where(pos[s] == 0, "POST /answer", kinds[s]), "kind": kinds[s], "service": ["support-bot"] * len(idx[s]),
            "ts": us(start[s]), "end_ts": us(start[s] + dur[s]), "duration_ms": dur[s] / 1000.0, "received_at": us(start[s]),
            "status": status[s], "model": np.where(llm, "gpt-4o-mini", None),
            "input_tokens": np.where(llm, 400, None), "output_tokens": np.where(llm, 60, None),
            "cost": np.where(llm, 0.0005, None), "prompt_version": np.where(pos[s] == 0, "v3", None),
            "index_version": np.where(pos[s] <= 1, "2024-06", None), "ttft_ms": np.where(llm, 300.0, None),
        })
    # predictions and labels for five models
    m = rng.integers(0, len(MODELS), n_predictions)
    ts = np.sort(now_us - rng.integers(0, day, n_predictions))
    score = rng.random(n_predictions)
    rids = np.array([f"r{i}" for i in range(n_predictions)], dtype=object)
    insert("predictions", {
        "project": ["default"] * n_predictions, "model": np.array(MODELS, dtype=object)[m], "model_version": ["v1"] * n_predictions,
        "request_id": rids, "ts": us(ts), "received_at": us(ts),
        "inputs": [f'{{"amount": {a:.2f}, "country": "{c}"}}' for a, c in zip(rng.lognormal(3.5, 1, n_predictions), rng.choice(["US", "DE", "GB"], n_predictions))],
        "output_label": (score > 0.5).astype(int).astype(str).astype(object), "output_value": score, "score": score,
        "latency_ms": rng.lognormal(3, 0.4, n_predictions), "cost": [0.0004] * n_predictions,
        "segment": np.array(['{"region": "emea"}', '{"region": "amer"}'], dtype=object)[rng.integers(0, 2, n_predictions)],
    })
    lab = rng.random(n_predictions) < 0.3
    insert("labels", {"project": ["default"] * int(lab.sum()), "request_id": rids[lab],
                      "label": (rng.random(int(lab.sum())) > 0.5).astype(int).astype(str).astype(object),
                      "ts": us(ts[lab]), "received_at": us(ts[lab])})
    store.close()


def serve(db: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "watchkeeper.cli", "serve", "--port", str(port), "--store",
                             "duckdb:////" + str(db).lstrip("/")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except Exception:
            time.sleep(0.1)
    proc.kill()
    sys.exit("server did not start")


MEASURE = """(page) => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const ready = performance.getEntriesByName('wk:ready:' + page)[0];
  const api = performance.getEntriesByType('resource').filter(r => r.name.includes('/api/'));
  return {shell: nav.responseEnd, fcp: fcp ? fcp.startTime : null, data: ready ? ready.startTime : null,
          api: Math.max(0, ...api.map(r => r.duration))};
}"""


def measure(url: str, pages: list[tuple[str, str, str]], runs: int) -> list[tuple[str, dict]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 900})
        page = ctx.new_page()
        page.goto(url + "/")  # warm the asset cache once, as a returning user has it
        page.wait_for_selector("main[data-ready]", timeout=60_000)
        for label, path, name in pages:
            samples = []
            for _ in range(runs):
                page.goto(url + path)
                page.wait_for_selector(f"main[data-ready={name}]", timeout=60_000)
                samples.append(page.evaluate(MEASURE, name))
                page.wait_for_load_state("networkidle")  # lazy sections finish before the next load starts
            out.append((label, {k: statistics.median(s[k] for s in samples if s[k] is not None) for k in samples[0]}))
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--predictions", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is absent: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="wk-ui-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        t = time.perf_counter()
        load(db, args.spans, args.predictions)
        print(f"loaded {args.spans:,} spans and {args.predictions:,} predictions with Arrow in {time.perf_counter() - t:.1f} s")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        proc = serve(db, port)
        try:
            pages = [("overview (24 h)", "/?range=24h", "overview"),
                     ("model page (24 h)", "/models/fraud-detector?range=24h", "model"),
                     (f"trace list ({args.spans:,} spans, 24 h)", "/traces?range=24h", "traces")]
            results = measure(f"http://127.0.0.1:{port}", pages, args.runs)
        finally:
            proc.terminate()
            proc.wait(15)
    print(f"\nmedian of {args.runs} loads in headless Chromium (ms); target: data rendered < 1000 ms")
    print(f"{'page':<34}{'shell':>8}{'FCP':>8}{'API':>8}{'data':>8}  vs target")
    for label, r in results:
        verdict = "ok" if r["data"] < 1000 else "SLOW"
        print(f"{label:<34}{r['shell']:>8.0f}{r['fcp']:>8.0f}{r['api']:>8.0f}{r['data']:>8.0f}  {r['data'] / 1000:.2f}x {verdict}")


if __name__ == "__main__":
    main()
