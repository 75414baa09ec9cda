"""Quality over time from delayed labels: SQL in DuckDB vs pandas + scikit-learn on the joined data.

    python bench/quality_bench.py [--rows 10000000] [--days 7] [--bucket 3600] [--db PATH] [--profile]

Builds ``rows`` binary-classifier predictions over ``days`` days (calibrated scores, 5 model
versions), labels for 90% of them in shuffled order, 2% of those twice (a correction with a later
timestamp), and bulk-loads both into a DuckDB file with Arrow (no HTTP). Then times:

* watchkeeper: ``model_quality`` (summary + hourly series per version: accuracy, precision, recall,
  F1, ROC AUC, FPR, Brier, ECE, CBPE estimates, every interval), all aggregation inside DuckDB;
* pandas + scikit-learn: reading both tables into pandas, resolving duplicate labels the same way,
  joining, then the same metrics per (hour, version) with sklearn (accuracy, precision, recall, F1,
  ROC AUC, Brier; no intervals, no ECE, no CBPE - so it does less work).

Prints both times, the ratio, the load average before and after, and checks that the summary
metrics agree. ``--profile`` also prints each SQL statement watchkeeper runs, with its time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from watchkeeper.store.schema import arrow_schema  # noqa: E402

T0_US = 1_700_000_000_000_000


def build(rows: int, days: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    ts = T0_US + np.sort(rng.integers(0, days * 86400 * 1_000_000, rows))
    score = rng.beta(2, 5, rows)
    truth = (rng.uniform(size=rows) < score).astype(np.int8)
    version = rng.integers(0, 5, rows)
    rid = pa.array(np.char.add("r", np.arange(rows).astype(str)))
    n = rows
    pcols = {
        "project": pa.array(np.full(n, "default")), "model": pa.array(np.full(n, "fraud")),
        "model_version": pa.array(np.char.add("v", version.astype(str))), "request_id": rid,
        "ts": pa.array(ts, pa.timestamp("us")), "received_at": pa.array(ts, pa.timestamp("us")),
        "output_label": pa.array(np.where(score >= 0.5, "1", "0")), "score": pa.array(score),
        "latency_ms": pa.array(rng.lognormal(3, 0.4, n)),
    }
    schema = arrow_schema("predictions")
    preds = pa.Table.from_arrays([pcols.get(f.name, pa.nulls(n, f.type)).cast(f.type) for f in schema], schema=schema)
    labelled = rng.permutation(np.flatnonzero(rng.uniform(size=n) < 0.9))
    dup = labelled[: len(labelled) // 50]
    lab_idx = np.concatenate([labelled, dup])
    lab_val = np.concatenate([truth[labelled], 1 - truth[dup]])  # wrong first ...
    lab_ts = ts[lab_idx] + rng.integers(60, 7 * 86400, len(lab_idx)) * 1_000_000
    lab_ts[: len(labelled)][np.isin(labelled, dup)] += 8 * 86400 * 1_000_000  # ... corrected later
    m = len(lab_idx)
    lcols = {"project": pa.array(np.full(m, "default")), "request_id": rid.take(pa.array(lab_idx)),
             "label": pa.array(lab_val.astype(str)), "label_value": pa.array(lab_val.astype(float)),
             "ts": pa.array(lab_ts, pa.timestamp("us")), "received_at": pa.array(lab_ts, pa.timestamp("us"))}
    lschema = arrow_schema("labels")
    labels = pa.Table.from_arrays([lcols.get(f.name, pa.nulls(m, f.type)).cast(f.type) for f in lschema], schema=lschema)
    return preds, labels


def sklearn_side(db: str, bucket_s: int):
    import duckdb
    import pandas as pd
    from sklearn import metrics as skm

    t = time.perf_counter()
    con = duckdb.connect(db, read_only=True)
    p = con.execute("SELECT request_id, model_version, epoch_us(ts) AS ts_us, output_label, score FROM predictions").df()
    lab = con.execute("SELECT request_id, label, epoch_us(ts) AS ts_us, epoch_us(received_at) AS rec FROM labels").df()
    con.close()
    lab = lab.sort_values(["ts_us", "rec", "label"]).drop_duplicates("request_id", keep="last")
    j = p.merge(lab[["request_id", "label"]], on="request_id", how="inner")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    j["y"] = (j["label"] == "1").astype(int)
    j["yhat"] = (j["output_label"] == "1").astype(int)
    j["bucket"] = j["ts_us"] // (bucket_s * 1_000_000)
    out = {}
    for key, g in [(("all", v), g) for v, g in j.groupby("model_version")] + list(j.groupby(["bucket", "model_version"])):
        y, yh, s = g["y"].to_numpy(), g["yhat"].to_numpy(), g["score"].to_numpy()
        out[key] = {"accuracy": skm.accuracy_score(y, yh), "precision": skm.precision_score(y, yh, zero_division=0),
                    "recall": skm.recall_score(y, yh, zero_division=0), "f1": skm.f1_score(y, yh, zero_division=0),
                    "roc_auc": skm.roc_auc_score(y, s) if 0 < y.sum() < len(y) else None,
                    "brier": skm.brier_score_loss(y, s)}
    return load_s, time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--bucket", type=int, default=3600)
    ap.add_argument("--db", default=None, help="DuckDB file (default: a temporary one)")
    ap.add_argument("--profile", action="store_true", help="print each SQL statement of watchkeeper's side and its time")
    args = ap.parse_args()
    load_before = os.getloadavg()

    from watchkeeper.monitors.quality import model_quality
    from watchkeeper.store import open_store

    db = args.db or os.path.join(tempfile.mkdtemp(prefix="wk-qbench-"), "bench.duckdb")
    t = time.perf_counter()
    preds, labels = build(args.rows, args.days)
    gen_s = time.perf_counter() - t
    store = open_store("duckdb:////" + os.path.abspath(db).lstrip("/"))
    t = time.perf_counter()
    cur = store._con.cursor()  # a fresh cursor for the bulk insert
    for name, table in (("predictions", preds), ("labels", labels)):
        cur.register("_bulk", table)
        cur.execute(f"INSERT INTO {name} SELECT * FROM _bulk")
        cur.unregister("_bulk")
    cur.execute("CHECKPOINT")
    load_s = time.perf_counter() - t
    del preds, labels
    since, until = T0_US, T0_US + args.days * 86400 * 1_000_000
    statements = _profiled(store) if args.profile else None
    t = time.perf_counter()
    doc = model_quality(store, "default", "fraud", since_us=since, until_us=until, bucket_s=args.bucket)
    wk_s = time.perf_counter() - t
    store.close()
    for seconds, sql in statements or ():
        print(f"-- {seconds:.2f} s\n{sql.strip()}\n")

    sk_load, sk_metrics, sk = sklearn_side(db, args.bucket)
    print(f"rows: {args.rows:,} predictions, {int(args.rows * 0.9 * 1.02):,} labels (2% duplicated), "
          f"{args.days} days, {args.bucket}s buckets, 5 versions -> {len(doc['series'])} series points")
    print(f"data generation: {gen_s:.1f} s; Arrow bulk load into DuckDB: {load_s:.1f} s")
    print(f"watchkeeper (SQL in DuckDB, all metrics + intervals + CBPE): {wk_s:.2f} s")
    print(f"pandas + scikit-learn: load+dedupe+join {sk_load:.2f} s + metrics {sk_metrics:.2f} s = "
          f"{sk_load + sk_metrics:.2f} s")
    print(f"ratio (sklearn total / watchkeeper): {(sk_load + sk_metrics) / wk_s:.2f}x")
    worst = 0.0
    for point in doc["summary"]:
        ref = sk[("all", point["group"])]
        for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "brier"):
            worst = max(worst, abs(point["metrics"][name]["value"] - ref[name]))
    print(f"largest summary difference vs sklearn: {worst:.2e}")
    print(f"{os.cpu_count()} cores; load average before {_load(load_before)}, after {_load(os.getloadavg())}")


def _load(avg) -> str:
    return " ".join(f"{v:.2f}" for v in avg)


def _profiled(store) -> list:
    """Record (seconds, sql) of every statement the store runs from now on."""
    statements = []
    rows = store.rows

    def timed(sql, params=()):
        t = time.perf_counter()
        try:
            return rows(sql, params)
        finally:
            statements.append((time.perf_counter() - t, sql))

    store.rows = timed
    return statements


if __name__ == "__main__":
    main()
