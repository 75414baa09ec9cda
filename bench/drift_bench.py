"""Benchmark: `watchkeeper drift` against Evidently, NannyML and a numpy floor on the same Parquet files.

    python bench/drift_bench.py --rows 1000000,5000000 --peer-python /tmp/bench-venv/bin/python

Data: 20 numerical + 5 categorical columns; drift injected in known columns (INJECTED), one of them a
missing-rate jump (1% -> 20% missing, non-missing values unchanged). Files go to bench/out/ (gitignored)
and are reused when present.

Every tool runs as its own subprocess, timed from start to exit (so reading the files is included);
peak memory is the child's max RSS (``resource.getrusage(RUSAGE_CHILDREN)`` read in a tiny wrapper
process per run). Evidently and NannyML pin old libraries, so they run from a separate venv given by
``--peer-python`` (``python3 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install evidently nannyml
pyarrow 'pandas<3'``); a peer that is not installed there is skipped with a message.
Evidently takes ~15 minutes at 5M rows, so it is skipped above ``--skip-evidently-above`` rows (default
1,000,000); pass a larger number to run it.

The numpy floor reads the same files with pyarrow, column by column in one thread per core, and makes
one fixed-bin histogram (100 bins over the reference min..max) per numerical column per file and one
``value_counts`` per categorical column: the least work any binned drift check must do.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUMERICAL = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
INJECTED = {
    "num_03": "mean shift +0.5 sd",
    "num_07": "scale x1.5",
    "num_12": "values x1.3 (a normal with mean 120: a large shift)",
    "num_15": "missing share 1% -> 20%, values unchanged",
    "cat_1": "category shares .5/.3/.2 -> .3/.3/.4",
    "cat_3": "new category 'z' takes 15%",
}


# ---------------------------------------------------------------------------- data
def _numeric(rng, i: int, n: int, drifted: bool):
    import numpy as np

    kind = i % 4
    if kind == 0:
        x = rng.normal(10 * i, 1 + i % 3, n)
    elif kind == 1:
        x = rng.uniform(0, 100, n)
    elif kind == 2:
        x = rng.exponential(2.0, n)
    else:
        x = rng.lognormal(1.0, 0.6, n)
    if drifted:
        name = f"num_{i:02d}"
        if name == "num_03":
            x = x + 0.5 * x.std()
        elif name == "num_07":
            x = x.mean() + (x - x.mean()) * 1.5
        elif name == "num_12":
            x = x * 1.3
    missing = 0.20 if drifted and i == 15 else (0.01 if i % 5 == 0 else 0.0)
    if missing:
        x[rng.random(n) < missing] = np.nan
    return x


def _categorical(rng, i: int, n: int, drifted: bool):
    import numpy as np
    import pyarrow as pa

    cats = ["a", "b", "c", "d", "e", "f", "g", "h"][: 3 if i == 1 else 3 + i]
    p = np.array([0.5, 0.3, 0.2]) if i == 1 else np.full(len(cats), 1 / len(cats))
    if drifted and i == 1:
        p = np.array([0.3, 0.3, 0.4])
    if drifted and i == 3:
        cats, p = cats + ["z"], np.r_[p * 0.85, 0.15]
    idx = rng.choice(len(cats), size=n, p=p / p.sum()).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(cats)).cast(pa.string())


def generate(rows: int, out: Path) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    ref_path, cur_path = out / f"reference_{rows}.parquet", out / f"current_{rows}.parquet"
    if ref_path.exists() and cur_path.exists():
        return ref_path, cur_path
    out.mkdir(parents=True, exist_ok=True)
    for path, seed, drifted in ((ref_path, 1, False), (cur_path, 2, True)):
        rng = np.random.default_rng(seed)
        cols = {}
        for i, name in enumerate(NUMERICAL):
            cols[name] = pa.array(_numeric(rng, i, rows, drifted), from_pandas=True)
        for i, name in enumerate(CATEGORICAL):
            cols[name] = _categorical(rng, i, rows, drifted)
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.table(cols), tmp, row_group_size=1 << 20)
        tmp.rename(path)
    return ref_path, cur_path


# ---------------------------------------------------------------------------- tools
EVIDENTLY = r"""
import json, sys, pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
snap = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
flagged = []
for m in snap.dict()["metrics"]:
    cfg = m.get("config", {})
    if not cfg.get("type", "").endswith("ValueDrift"):
        continue
    v, t = m["value"], cfg["threshold"]
    if ("p_value" in cfg["method"].lower() and v < t) or ("p_value" not in cfg["method"].lower() and v >= t):
        flagged.append(cfg["column"])
print(json.dumps(sorted(flagged)))
"""

NANNYML = r"""
import json, sys, warnings, pandas as pd
import nannyml as nml
warnings.filterwarnings("ignore")
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
calc = nml.UnivariateDriftCalculator(column_names=list(ref.columns), continuous_methods=["kolmogorov_smirnov"],
                                     categorical_methods=["chi2"])
calc.fit(ref)
df = calc.calculate(cur).filter(period="analysis").to_df()
flagged = sorted({c[0] for c in df.columns if c[-1] == "alert" and c[0] != "chunk" and bool(df[c].any())})
print(json.dumps(flagged))
"""

FLOOR = r"""
import json, os, sys, numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from concurrent.futures import ThreadPoolExecutor
names = pq.read_schema(sys.argv[1]).names
def one(name):
    r, c = (pq.read_table(p, columns=[name], use_threads=False).column(name) for p in sys.argv[1:3])
    if pa.types.is_floating(r.type):
        lo, hi = pc.min(r).as_py(), pc.max(r).as_py()
        for col in (r, c):
            for chunk in col.chunks:
                a = chunk.to_numpy(zero_copy_only=False)
                np.histogram(a[np.isfinite(a)] if chunk.null_count else a, bins=100, range=(lo, hi))
    else:
        pc.value_counts(r), pc.value_counts(c)
with ThreadPoolExecutor(os.cpu_count()) as pool:
    list(pool.map(one, names))
print(json.dumps(None))
"""

MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rc": p.returncode, "wall_s": wall, "peak_mb": rss, "stdout": p.stdout[-20000:],
                  "stderr": p.stderr[-2000:]}))
"""


def measure(cmd: list[str]) -> dict:
    """Run ``cmd`` under a one-child wrapper: wall time and that child's own peak RSS."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def peer_has(python: str | None, module: str) -> bool:
    if not python or not Path(python).exists():
        return False
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def run_tool(tool: str, ref: Path, cur: Path, peer: str | None, workdir: Path) -> dict:
    if tool == "watchkeeper":
        out_json = workdir / "watchkeeper.json"
        r = measure([sys.executable, "-m", "watchkeeper.cli", "drift", str(ref), str(cur), "--out", str(out_json)])
        if r["rc"] == 0:
            report = json.loads(out_json.read_text())
            r["flagged"] = sorted(n for n, c in report["columns"].items() if c["drifted"])
        return r
    script = {"evidently": EVIDENTLY, "nannyml": NANNYML, "numpy floor": FLOOR}[tool]
    path = workdir / f"peer_{tool.replace(' ', '_')}.py"  # not evidently.py: that would shadow the package
    path.write_text(script)
    python = sys.executable if tool == "numpy floor" else peer
    r = measure([python, str(path), str(ref), str(cur)])
    if r["rc"] == 0:
        r["flagged"] = json.loads(r["stdout"].strip().splitlines()[-1])
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="1000000,5000000", help="comma-separated row counts")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--peer-python", default="/tmp/bench-venv/bin/python",
                    help="python of the venv with evidently and nannyml installed")
    ap.add_argument("--skip-evidently-above", type=int, default=1_000_000,
                    help="skip Evidently for row counts above this (it takes ~900 s at 5M rows)")
    ap.add_argument("--tools", default="watchkeeper,numpy floor,nannyml,evidently")
    args = ap.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    peers = {"evidently": peer_has(args.peer_python, "evidently"), "nannyml": peer_has(args.peer_python, "nannyml")}
    print(f"injected drift: {', '.join(f'{k} ({v})' for k, v in INJECTED.items())}")
    rows_list = [int(r) for r in args.rows.split(",")]
    summary = []
    for rows in rows_list:
        t = time.perf_counter()
        ref, cur = generate(rows, args.out)
        import pyarrow.parquet as pq

        mem_mb = (pq.read_table(ref).nbytes + pq.read_table(cur).nbytes) / 2**20
        disk_mb = (ref.stat().st_size + cur.stat().st_size) / 2**20
        print(f"\n== {rows:,} rows: data {mem_mb:,.0f} MiB in memory (both files), {disk_mb:,.0f} MiB Parquet "
              f"(ready in {time.perf_counter() - t:.0f} s)")
        for tool in tools:
            if tool in peers and not peers[tool]:
                print(f"  {tool:12s} skipped: not importable from --peer-python {args.peer_python}")
                continue
            if tool == "evidently" and rows > args.skip_evidently_above:
                print(f"  {tool:12s} skipped: {rows:,} rows > --skip-evidently-above {args.skip_evidently_above:,}")
                continue
            with tempfile.TemporaryDirectory() as wd:
                r = run_tool(tool, ref, cur, args.peer_python, Path(wd))
            if r["rc"] != 0:
                print(f"  {tool:12s} FAILED rc={r['rc']}: {r['stderr'].strip().splitlines()[-1:]}")
                continue
            flagged = r.get("flagged")
            verdict = "" if flagged is None else (
                "exactly the injected columns" if set(flagged) == set(INJECTED) else
                f"missed {sorted(set(INJECTED) - set(flagged))}, extra {sorted(set(flagged) - set(INJECTED))}")
            print(f"  {tool:12s} {r['wall_s']:7.2f} s  peak {r['peak_mb']:7,.0f} MiB "
                  f"({r['peak_mb'] / mem_mb:4.2f}x data)  flagged: {flagged if flagged is not None else 'n/a'}"
                  f"{'  -> ' + verdict if verdict else ''}")
            summary.append({"rows": rows, "tool": tool, **{k: r[k] for k in ("wall_s", "peak_mb")},
                            "data_mb": mem_mb, "flagged": flagged})
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
