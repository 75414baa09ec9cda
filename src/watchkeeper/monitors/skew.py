"""Training-serving skew, row by row: do the features served online equal the ones recomputed offline?

Give a sample of request ids with their features recomputed by the offline (training) pipeline; each
is joined with the ``inputs`` logged online for the same request and compared per feature:

- numerical: the rows disagree when ``|online - offline| > atol + rtol * |offline|`` (defaults
  ``atol=1e-6``, ``rtol=1e-3``), or when exactly one side is missing;
- anything else: when the text forms differ.

Per feature it reports the share of rows that disagree, the median absolute and relative difference,
the median and spread of ``online / offline``, and a few example rows. When most rows disagree by a
one-sided factor (at least 90% of the ratios on the same side of 1, and their interquartile range
excluding 1), the feature is flagged ``systematic`` with the median factor: the signature of a computation that differs in definition, e.g. a
"30-day sum" served from a 7-day window gives ``online / offline ~ 0.23`` on every row.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable

import numpy as np

DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 1e-3
MAX_EXAMPLES = 5


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _hint(ratio: float) -> str:
    for days_a, days_b in ((7, 30), (1, 7), (1, 30), (7, 28), (14, 30), (30, 90), (1, 24)):
        for a, b in ((days_a, days_b), (days_b, days_a)):
            if abs(ratio - a / b) <= 0.15 * (a / b):
                return (f"online is {ratio:.3g} x offline (median), close to {a}/{b}: the two sides "
                        f"probably aggregate over different windows ({a} vs {b} units)")
    return f"online is {ratio:.3g} x offline (median) and off the same way on almost every row: the feature is computed differently online"


def parity(offline_rows: Iterable[dict[str, Any]], online: dict[str, dict[str, Any]], *,
           atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL, id_field: str = "request_id") -> dict[str, Any]:
    """Compare offline feature rows with online inputs (``{request_id: inputs}``); see the module docstring."""
    rows = list(offline_rows)
    matched = [(r, online[str(r[id_field])]) for r in rows if str(r.get(id_field)) in online]
    unmatched = [str(r.get(id_field)) for r in rows if str(r.get(id_field)) not in online]
    features = sorted({k for r in rows for k in r if k != id_field})
    out: dict[str, Any] = {"rows": len(rows), "matched": len(matched), "unmatched": len(unmatched),
                           "unmatched_examples": unmatched[:MAX_EXAMPLES], "tolerance": {"atol": atol, "rtol": rtol},
                           "features": {}}
    for name in features:
        off = [r.get(name) for r, _ in matched]
        on = [o.get(name) if isinstance(o, dict) else None for _, o in matched]
        out["features"][name] = _feature(name, [str(r[id_field]) for r, _ in matched], on, off, atol, rtol)
    bad = [k for k, v in out["features"].items() if v["disagree_share"] > 0]
    out["disagreeing_features"] = sorted(bad, key=lambda k: -out["features"][k]["disagree_share"])
    out["clean"] = not bad and not unmatched
    return out


def _feature(name: str, ids: list[str], on: list, off: list, atol: float, rtol: float) -> dict[str, Any]:
    n = len(ids)
    if n == 0:
        return {"rows": 0, "disagree": 0, "disagree_share": 0.0, "type": "unknown", "examples": []}
    numeric = all(v is None or _is_num(v) for v in on + off) and any(_is_num(v) for v in on + off)
    if numeric:
        a = np.array([np.nan if v is None else float(v) for v in on])
        b = np.array([np.nan if v is None else float(v) for v in off])
        both = np.isfinite(a) & np.isfinite(b)
        one_missing = np.isnan(a) != np.isnan(b)
        diff = np.abs(a - b)
        bad = one_missing | (both & (diff > atol + rtol * np.abs(b)))
        item: dict[str, Any] = {"type": "numerical", "rows": n, "disagree": int(bad.sum()),
                                "disagree_share": round(float(bad.mean()), 6), "missing_one_side": int(one_missing.sum())}
        sel = both & bad
        if sel.any():
            rel = diff[sel] / np.maximum(np.abs(b[sel]), 1e-12)
            item["median_abs_diff"] = float(f"{np.median(diff[sel]):.6g}")
            item["median_rel_diff"] = float(f"{np.median(rel):.6g}")
            nz = sel & (np.abs(b) > 1e-12)
            if nz.sum() >= 3:
                ratio = a[nz] / b[nz]
                med = float(np.median(ratio))
                q1, q3 = np.percentile(ratio, [25, 75])
                item["ratio_online_to_offline"] = {"median": float(f"{med:.6g}"), "q25": float(f"{q1:.6g}"),
                                                   "q75": float(f"{q3:.6g}")}
                same_side = max(np.mean(ratio < 1), np.mean(ratio > 1))
                steady = med != 0 and same_side >= 0.9 and not (q1 <= 1 <= q3)
                if steady and item["disagree_share"] >= 0.5:
                    item["systematic"] = True
                    item["hint"] = _hint(med)
        idx = np.flatnonzero(bad)[:MAX_EXAMPLES]
        item["examples"] = [{"request_id": ids[i], "online": _clean(a[i]), "offline": _clean(b[i])} for i in idx]
        return item
    s_on = [None if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for v in on]
    s_off = [None if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for v in off]
    bad = [x != y for x, y in zip(s_on, s_off)]
    idx = [i for i, flag in enumerate(bad) if flag][:MAX_EXAMPLES]
    return {"type": "categorical", "rows": n, "disagree": int(sum(bad)), "disagree_share": round(sum(bad) / n, 6),
            "examples": [{"request_id": ids[i], "online": s_on[i], "offline": s_off[i]} for i in idx]}


def _clean(x: float):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def offline_records(table) -> list[dict[str, Any]]:
    """Rows of a parity file (pyarrow Table, DataFrame or path) as dicts; it must have ``request_id``."""
    from ..errors import SchemaError
    from .report import load_table

    t = load_table(table, "offline features")
    if hasattr(t, "column") and not hasattr(t, "to_pylist"):  # a lazily read Parquet file
        import pyarrow as pa

        t = pa.table({name: t.column(name) for name in t.column_names})
    if "request_id" not in t.column_names:
        raise SchemaError(f"the offline features need a 'request_id' column (it has: {', '.join(t.column_names)})")
    return t.to_pylist()
