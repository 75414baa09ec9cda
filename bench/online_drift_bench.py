"""Online drift: the SQL histogram query over logged predictions, timed in DuckDB.

    python bench/online_drift_bench.py [--rows 1000000,10000000] [--threads 2] [--python]

Generates N logged predictions of one model whose ``inputs`` JSON holds 25 features (20 numerical
with ~2% missing, 5 categorical), bulk-loaded with Arrow into a DuckDB store file; profiles a
separate reference sample (100 percentile bins per numerical feature); then times, best of 3:

- ``watchkeeper``: ``store.queries.drift.histograms`` -- every feature, the class mix and the score
  counted against the reference bins in ONE query (CASE-tree binning + GROUPING SETS), the formulation
  kept because it is portable (DuckDB and ClickHouse) and was the fastest portable one tried;
- ``histogram() aggregates``: the DuckDB-only alternative, one ``histogram(bin)`` aggregate per feature;
- ``json read only``: reading the 25 fields and summing them, no binning (the floor of any SQL formulation);
- ``python``: (with ``--python``) fetch the window's inputs into Python, parse, ``np.histogram`` per
  feature: what a pandas-based tool does.

Prints milliseconds, rows/s and the ratio to the floor. Needs ~1.2 GB of disk per 10M rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from watchkeeper.monitors.profile import profile_reference  # noqa: E402
from watchkeeper.store import open_store  # noqa: E402
from watchkeeper.store.queries import drift as q  # noqa: E402

NUM = [f"n{i}" for i in range(20)]
CAT = [f"c{i}" for i in range(5)]
T0 = 1_700_000_000


def _columns(rng, n):
    cols = {}
    for i, f in enumerate(NUM):
        cols[f] = pa.array(rng.normal(i, 1 + i % 3, n).round(4), mask=rng.random(n) < 0.02)
    for i, f in enumerate(CAT):
        cats = np.array([f"v{j}" for j in range(6 + 2 * i)])
        cols[f] = pa.array(cats[rng.integers(0, len(cats), n)])
    return cols


def load(path: str, n: int, threads: int, chunk: int = 2_000_000) -> None:
    import duckdb

    open_store("duckdb:///" + path).close()  # create and migrate
    con = duckdb.connect(path)
    con.execute(f"SET threads={threads}")
    rng = np.random.default_rng(0)
    pack = ", ".join(f"{c} := {c}" for c in NUM + CAT)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        batch = pa.table({**_columns(rng, m), "i": pa.array(np.arange(start, start + m)),
                          "score": pa.array(rng.random(m)), "label": pa.array(rng.integers(0, 2, m).astype(str))})
        con.register("batch", batch)
        con.execute(f"""INSERT INTO predictions (project, model, model_version, request_id, ts, received_at, inputs,
                                                input_size, output_label, score)
                        SELECT 'default', 'bench', 'v1', 'r' || i, make_timestamp(({T0} + i) * 1000000),
                               make_timestamp(({T0} + i) * 1000000), to_json(struct_pack({pack}))::VARCHAR, 25, label, score
                        FROM batch""")
        con.unregister("batch")
    con.close()


def best_of(fn, k=3):
    times = []
    for _ in range(k):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1000000,10000000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--python", action="store_true", help="also time the fetch-into-Python approach")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    ref_cols = _columns(rng, 200_000)
    edges = {f: profile_reference(ref_cols[f], f, "numerical", sketches=False).edges for f in NUM}
    folder = tempfile.mkdtemp(prefix="wk-online-drift-bench-")
    print(f"{'rows':>10} {'formulation':<28} {'ms':>9} {'rows/s':>14} {'x floor':>8}")
    try:
        for n in [int(float(x)) for x in args.rows.split(",")]:
            path = os.path.join(folder, f"p{n}.duckdb")
            t = time.perf_counter()
            load(path, n, args.threads)
            print(f"{n:>10} {'(bulk load, Arrow)':<28} {1000 * (time.perf_counter() - t):>9.0f}")
            store = open_store("duckdb:///" + path)
            store._cur().execute(f"SET threads={args.threads}")
            since, until = T0 * 1_000_000, (T0 + n + 1) * 1_000_000

            def ours():
                h = q.histograms(store, "default", "bench", since, until, numeric=edges, categorical=CAT,
                                 score_edges=np.linspace(0, 1, 21), output_label=True)
                assert h["rows"] == n

            src, exprs = q._readers(store, "inputs", NUM + CAT, [True] * 20 + [False] * 5)
            where = f"project = 'default' AND model = 'bench'"
            floor_sql = (f"SELECT {', '.join(f'sum({e})' for e in exprs[:20])}, "
                         f"{', '.join(f'count({e})' for e in exprs[20:])} FROM {src} WHERE {where}")
            bins = [q.bin_case("(" + e + ")", edges[f]) for f, e in zip(NUM, exprs)]
            hist_sql = (f"SELECT {', '.join(f'histogram({b})' for b in bins)}, "
                        f"{', '.join(f'histogram({e})' for e in exprs[20:])} FROM {src} WHERE {where}")
            floor = best_of(lambda: store.rows(floor_sql))
            rows = [("watchkeeper (GROUPING SETS)", best_of(ours)),
                    ("histogram() aggregates", best_of(lambda: store.rows(hist_sql))),
                    ("json read only (floor)", floor)]
            if args.python and n <= 2_000_000:
                import orjson

                def python():
                    texts = store.rows(f"SELECT inputs FROM predictions WHERE {where}")
                    docs = [orjson.loads(r["inputs"]) for r in texts]
                    for f in NUM:
                        v = np.array([d.get(f) for d in docs], dtype=float)
                        np.histogram(v[np.isfinite(v)], bins=edges[f])

                rows.append(("python fetch + np.histogram", best_of(python, 1)))
            for name, s in rows:
                print(f"{n:>10} {name:<28} {1000 * s:>9.0f} {n / s:>14,.0f} {s / floor:>8.2f}")
            store.close()
            os.remove(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
