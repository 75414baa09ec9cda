"""What the server's Prometheus metrics need from a batch, boiled down where the batch is built.

An ingest worker process validates a batch and returns this summary instead of the rows; the
server adds it to its counters and histograms (``ServerMetrics.apply``). Latencies and input sizes
arrive already bucketed, so applying a summary costs the same for 10 rows or 100,000.
"""

from __future__ import annotations

from collections import Counter as Tally
from typing import Any

import numpy as np

# Seconds; a boundary at each common SLO threshold (0.05, 0.1, 0.25, 0.5, 1).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_LAT = np.asarray(LATENCY_BUCKETS, dtype=float)
_SIZE = np.asarray(SIZE_BUCKETS, dtype=float)


def bucket(bounds: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-bucket counts (``le`` semantics, last slot = above every bound) and the sum."""
    idx = np.searchsorted(bounds, values, side="left")
    return np.bincount(idx, minlength=len(bounds) + 1), float(values.sum())


def summarize(kind: str, columns: dict[str, list[Any]], rows: int) -> dict[str, Any]:
    """Counts by key and bucketed latencies/sizes of one validated batch."""
    out: dict[str, Any] = {"kind": kind, "rows": rows}
    if not rows:
        return out
    if kind == "predictions":
        uniq, codes = _codes(columns, rows)
        labels = columns["output_label"]
        if codes is None:
            out["classes"] = Tally({(uniq[0], label): n for label, n in Tally(labels).items()})
        else:
            out["classes"] = Tally({(uniq[c], label): n for (c, label), n in Tally(zip(codes.tolist(), labels)).items()})
        errors = columns["error"]
        if errors.count(None) < rows:
            keys = [uniq[0]] * rows if codes is None else [uniq[c] for c in codes.tolist()]
            out["errors"] = Tally(k for k, e in zip(keys, errors) if e is not None)
        else:
            out["errors"] = Tally()
        latency = np.array(columns["latency_ms"], dtype=float) / 1000.0  # None -> nan
        sizes = np.asarray(columns["input_size"], dtype=float)
        lat, size = {}, {}
        for i, key in enumerate(uniq):
            mask = None if codes is None else codes == i
            sel = latency if mask is None else latency[mask]
            sel = sel[~np.isnan(sel)]
            if sel.size:
                lat[key] = bucket(_LAT, sel)
            size[key[:2]] = _add(size.get(key[:2]), bucket(_SIZE, sizes if mask is None else sizes[mask]))
        out["latency"], out["input_size"] = lat, size
    elif kind == "labels":
        out["projects"] = Tally(columns["project"])
    elif kind == "feedback":
        out["kinds"] = Tally(zip(columns["project"], columns["kind"]))
    return out


def _codes(columns: dict[str, list[Any]], rows: int) -> tuple[list[tuple], np.ndarray | None]:
    """The distinct (project, model, version) keys of a batch in first-seen order, and each row's index into
    them (None when the batch has a single key, the usual case: one service logs one model)."""
    projects, models, versions = columns["project"], columns["model"], columns["model_version"]
    first = (projects[0], models[0], versions[0])
    if projects.count(first[0]) == rows and models.count(first[1]) == rows and versions.count(first[2]) == rows:
        return [first], None
    keys = list(zip(projects, models, versions))
    uniq = list(dict.fromkeys(keys))
    index = {key: i for i, key in enumerate(uniq)}
    return uniq, np.fromiter(map(index.__getitem__, keys), dtype=np.intp, count=rows)


def _add(a, b):
    return b if a is None else (a[0] + b[0], a[1] + b[1])
