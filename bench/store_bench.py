"""Benchmark: the event stores side by side, DuckDB and the ClickHouse engine (chdb), same data, same SQL.

    python bench/store_bench.py                       # 10M predictions over 7 days, both stores
    python bench/store_bench.py --rows 1000000 --backends chdb

Data: ``--rows`` predictions of 10 models over 7 days, each with 25 numerical features stored as
JSON text in ``predictions.inputs`` (as ingest stores them), log-normal latency, 1% errors. Rows are
generated as Arrow tables with pyarrow compute (no per-row Python) and bulk-loaded in 1M-row
chunks, so the load figure is the store's own Arrow ingest rate. ``write()``, the path the server's
ingest queue takes (Python column lists -> Arrow -> one transaction), is timed separately on 1,000-row
batches.

Queries, each written once with the store's dialect and run on both stores (best of ``--repeat``):

- latency p95: p95 latency per model per minute over one day (the dashboard's latency panel);
- latency_series: the API's per-minute p50/p95/p99 for one model over one day;
- drift 25 features: fixed-bin histograms (10 bins) of all 25 features over the whole week, the
  features read from the JSON text with ``dialect.json_num``; one scan, 25 x 11 counters;
- drift 1 feature: the same for a single feature, to show what each JSON extraction costs;
- typed columns (``--no-typed`` skips it): the 25 histograms again over a copy of the same rows with
  the features as DOUBLE columns, to size what a typed feature schema would save.

Size on disk: the DuckDB file (after CHECKPOINT) and the chdb data directory, both measured with
``du`` semantics (allocated bytes). Files go to ``--dir`` (default: a temp dir, removed afterwards).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MODELS = [f"model_{i}" for i in range(10)]
FEATURES = [f"f{i:02d}" for i in range(25)]
EDGES = [float(e) for e in np.linspace(-2.0, 2.0, 10)]  # 10 edges -> 11 bins
DAY_US = 86_400_000_000
T0 = 1_735_689_600_000_000  # 2025-01-01T00:00:00Z
CHUNK = 1_000_000


def chunk(start: int, n: int, total: int, days: int, seed: int) -> pa.Table:
    """Rows ``start..start+n`` of the synthetic week, time-ordered across chunks, as an Arrow table."""
    from watchkeeper.store.schema import arrow_schema

    rng = np.random.default_rng(seed)
    span = days * DAY_US
    lo, hi = T0 + span * start // total, T0 + span * (start + n) // total
    ts = np.sort(rng.integers(lo, hi, n)).astype("datetime64[us]")
    model_idx = rng.integers(0, len(MODELS), n)
    parts = []
    for j, name in enumerate(FEATURES):
        values = pc.round(pa.array(rng.normal(0.1 * (j % 5), 1.0, n)), 3)
        parts.append(pc.binary_join_element_wise(f'"{name}":', pc.cast(values, pa.string()), ""))
    inputs = pc.binary_join_element_wise("{", pc.binary_join_element_wise(*parts, ","), "}", "")
    ids = pc.binary_join_element_wise("req-", pc.cast(pa.array(np.arange(start, start + n)), pa.string()), "")
    errors = np.where(rng.random(n) < 0.01, "timeout", None)
    output = rng.random(n)
    cols = {
        "project": pa.array(["bench"] * n), "model": pa.array(np.array(MODELS)[model_idx]),
        "model_version": pa.array(["v1"] * n), "request_id": ids, "ts": pa.array(ts), "received_at": pa.array(ts),
        "release_id": pa.nulls(n, pa.string()), "release": pa.nulls(n, pa.string()), "inputs": inputs,
        "input_size": pa.array(np.full(n, len(FEATURES), dtype=np.int32)), "output_label": pa.nulls(n, pa.string()),
        "output_value": pa.array(output), "score": pa.array(output), "scores": pa.nulls(n, pa.string()),
        "latency_ms": pa.array(np.round(rng.lognormal(3.0, 0.5, n), 2)), "segment": pa.nulls(n, pa.string()),
        "cost": pa.array(np.full(n, 0.0001)), "trace_id": pa.nulls(n, pa.string()),
        "error": pa.array(errors, pa.string()), "extra": pa.nulls(n, pa.string()),
    }
    schema = arrow_schema("predictions")
    return pa.Table.from_arrays([cols[f.name].cast(f.type) for f in schema], schema=schema)


def open_backend(name: str, root: str):
    from watchkeeper.store import open_store

    if name == "duckdb":
        return open_store("duckdb:////" + os.path.join(root, "bench.duckdb").lstrip("/"))
    return open_store("chdb:////" + os.path.join(root, "bench.chdb").lstrip("/"))


def _execute_events(store, sql: str) -> None:
    if store.backend == "duckdb":
        store._cur().execute(sql)
    else:
        store._command(sql)


def bulk_load(store, table: pa.Table) -> None:
    if store.backend == "duckdb":
        cur = store._cur()
        cur.register("_bench_chunk", table)
        cur.execute("INSERT INTO predictions SELECT * FROM _bench_chunk")
        cur.unregister("_bench_chunk")
    else:
        store.insert_arrow("predictions", table)


def disk_bytes(path: str) -> int:
    if os.path.isfile(path):
        return os.stat(path).st_blocks * 512
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(dirpath, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def queries(store, days: int) -> dict[str, tuple]:
    d = store.dialect
    day_lo, day_hi = T0 + (days - 1) * DAY_US, T0 + days * DAY_US
    p95_sql = (f"SELECT model, {d.bucket_us('ts', 60_000_000)} AS t_us, {d.quantiles('latency_ms', [0.95])} AS q "
               f"FROM predictions WHERE project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()} "
               "GROUP BY model, t_us ORDER BY model, t_us")
    bins = [(f, d.bin_index(d.json_num("inputs", f), EDGES)) for f in FEATURES]

    def hist_sql(features):
        inner = ", ".join(f"{expr} AS b_{f}" for f, expr in features)
        counts = ", ".join(f"{d.count_if(f'b_{f} = {k}')} AS c_{f}_{k}" for f, _ in features for k in range(len(EDGES) + 1))
        return (f"SELECT {counts} FROM (SELECT {inner} FROM predictions WHERE project = ? AND model = ? "
                f"AND ts >= {d.ts_param()} AND ts < {d.ts_param()}) AS x")

    week = ["bench", MODELS[0], T0, T0 + days * DAY_US]
    return {
        "latency p95 / model / minute, 1 day": (lambda: store.rows(p95_sql, ["bench", day_lo, day_hi]), ),
        "latency_series (API), 1 model, 1 day": (lambda: store.latency_series("bench", MODELS[0], since_us=day_lo,
                                                                              until_us=day_hi, bucket_s=60), ),
        "drift histograms, 25 features, 1 model, week": (lambda: store.rows(hist_sql(bins), week), ),
        "drift histogram, 1 feature, 1 model, week": (lambda: store.rows(hist_sql(bins[:1]), week), ),
    }


def run_backend(name: str, root: str, rows: int, days: int, repeat: int, typed: bool = True) -> dict:
    from watchkeeper.ingest.records import Batch

    store = open_backend(name, root)
    result: dict = {"backend": name}
    gen_s = load_s = 0.0
    for i, start in enumerate(range(0, rows, CHUNK)):
        t = time.perf_counter()
        table = chunk(start, min(CHUNK, rows - start), rows, days, seed=i)
        gen_s += time.perf_counter() - t
        t = time.perf_counter()
        bulk_load(store, table)
        load_s += time.perf_counter() - t
    result["generate_s"], result["load_s"] = gen_s, load_s
    result["load_rows_s"] = rows / load_s
    # write(): the ingest queue's path, 1,000-row batches of Python lists, on 100k extra rows.
    sample = chunk(0, 100_000, 100_000, 1, seed=99).to_pydict()
    sample["project"] = ["bench-write"] * 100_000
    t = time.perf_counter()
    for s in range(0, 100_000, 1000):
        store.write([Batch("predictions", {k: v[s:s + 1000] for k, v in sample.items()}, rows=1000)])
    result["write_rows_s"] = 100_000 / (time.perf_counter() - t)
    if name == "duckdb":
        store._cur().execute("CHECKPOINT")
        path = os.path.join(root, "bench.duckdb")
    else:
        store.rows("SELECT 1")
        path = os.path.join(root, "bench.chdb")
    result["disk_bytes"] = disk_bytes(path)
    result["queries"] = {}
    for label, (fn,) in queries(store, days).items():
        seconds, out = best_of(fn, repeat)
        result["queries"][label] = (seconds, len(out))
    if typed:
        result["typed"] = typed_experiment(store, days, repeat)
    store.close()
    return result


def typed_experiment(store, days: int, repeat: int) -> dict:
    """The same 25 histograms when the features are typed DOUBLE columns instead of JSON text.

    Copies one model's week into a side table (the copy is the one-off cost of extracting the JSON
    once, at write time in a typed schema) and times the histograms on it.
    """
    d = store.dialect
    cols = ", ".join(f"{d.json_num('inputs', f)} AS {f}" for f in FEATURES)
    where = f"project = 'bench' AND model = '{MODELS[0]}'"
    engine = "" if store.backend == "duckdb" else " ENGINE = MergeTree ORDER BY tuple()"
    t = time.perf_counter()
    _execute_events(store, f"CREATE TABLE bench_typed{engine} AS SELECT ts, {cols} FROM predictions WHERE {where}")
    copy_s = time.perf_counter() - t
    counts = ", ".join(f"{d.count_if(f'{d.bin_index(f, EDGES)} = {k}')} AS c_{f}_{k}"
                       for f in FEATURES for k in range(len(EDGES) + 1))
    seconds, _ = best_of(lambda: store.rows(f"SELECT {counts} FROM bench_typed"), repeat)
    _execute_events(store, "DROP TABLE bench_typed")
    return {"copy_s": copy_s, "hist_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="predictions to store (default 10,000,000)")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--backends", default="duckdb,chdb")
    ap.add_argument("--repeat", type=int, default=3, help="runs per query; the best is reported")
    ap.add_argument("--no-typed", action="store_true", help="skip the typed-feature-columns comparison")
    ap.add_argument("--dir", default=None, help="where the stores go (default: a temp dir, removed afterwards)")
    args = ap.parse_args()
    root = args.dir or tempfile.mkdtemp(prefix="wk-store-bench-")
    os.makedirs(root, exist_ok=True)
    print(f"store bench: {args.rows:,} predictions, {len(MODELS)} models, {len(FEATURES)} JSON features, "
          f"{args.days} days; cores={os.cpu_count()}; data in {root}")
    results = []
    try:
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            t = time.perf_counter()
            results.append(run_backend(name, root, args.rows, args.days, args.repeat, not args.no_typed))
            print(f"  {name}: done in {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    report(results, args.rows)


def report(results: list[dict], rows: int) -> None:
    names = [r["backend"] for r in results]
    width = 46
    print()
    print(f"{'':<{width}}" + "".join(f"{n:>14}" for n in names) + ("   chdb/duckdb" if len(names) == 2 else ""))

    def line(label, values, fmt, ratio=True):
        cells = "".join(f"{fmt(v):>14}" for v in values)
        extra = ""
        if ratio and len(values) == 2 and values[0]:
            extra = f"{values[1] / values[0]:>14.2f}x"
        print(f"{label:<{width}}{cells}{extra}")

    line("bulk Arrow load, rows/s", [r["load_rows_s"] for r in results], lambda v: f"{v:,.0f}")
    line("write() in 1,000-row batches, rows/s", [r["write_rows_s"] for r in results], lambda v: f"{v:,.0f}")
    line(f"size on disk ({rows:,} rows), MiB", [r["disk_bytes"] / 2**20 for r in results], lambda v: f"{v:,.1f}")
    line("bytes per prediction", [r["disk_bytes"] / rows for r in results], lambda v: f"{v:,.1f}")
    for label in results[0]["queries"]:
        line(f"{label}, s", [r["queries"][label][0] for r in results], lambda v: f"{v:.3f}")
    if all("typed" in r for r in results):
        line("typed columns: 25 histograms, same rows, s", [r["typed"]["hist_s"] for r in results], lambda v: f"{v:.3f}")
        line("typed columns: one-off JSON -> columns copy, s", [r["typed"]["copy_s"] for r in results], lambda v: f"{v:.3f}")
    print("\n(ratios: chdb value / duckdb value; for times lower is better, for rows/s higher is better)")


if __name__ == "__main__":
    main()
