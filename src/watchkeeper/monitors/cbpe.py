"""Confidence-based performance estimation (CBPE) for binary classifiers.

If ``score`` is a calibrated P(positive), each prediction's chance of being a true positive is
its score (when predicted positive) and of being a false negative is its score (when predicted
negative). Summed over a bucket, the store gives the expected confusion counts and their
variances (sums of p(1-p)); this module turns them into estimated accuracy, precision, recall,
F1 and false positive rate, each with a 95% interval from 1,000 Monte-Carlo draws of the two
independent normal counts (TP among predicted positives, FN among predicted negatives); the
draws are shared by every point of a request and vectorised (``estimate_many``). ROC AUC is the
expected Mann-Whitney statistic over the expected class counts of 1,000 score levels per unit
(``queries/quality.py``), with a Hanley-McNeil interval. The estimate covers every scored
prediction, labelled or not; once labels land, ``errors`` reports estimated minus realised and
whether the realised value fell inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .intervals import hanley_mcneil, quantile_rows

DRAWS = 1000
ESTIMATED = ("accuracy", "precision", "recall", "f1", "false_positive_rate", "roc_auc")


def _ratios(tp, fn, npp, npn):
    fp = npp - tp
    tn = npn - fn
    n = npp + npn
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "accuracy": (tp + tn) / n,
            "precision": np.where(npp > 0, tp / np.where(npp > 0, npp, 1), np.nan),
            "recall": np.where(tp + fn > 0, tp / np.where(tp + fn > 0, tp + fn, 1), np.nan),
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / np.where(2 * tp + fp + fn > 0, 2 * tp + fp + fn, 1), np.nan),
            "false_positive_rate": np.where(fp + tn > 0, fp / np.where(fp + tn > 0, fp + tn, 1), np.nan),
        }


def estimate(row: dict, auc_row: dict | None, min_n: int, seed: int = 0) -> dict[str, Any] | None:
    """Estimated metrics for one (bucket, group) from the CBPE sums, or None without scores."""
    return estimate_many([row], [auc_row], min_n, seed)[0]


BLOCK = 2000  # points per vectorised block (DRAWS doubles each, several arrays)


def estimate_many(rows: list[dict], auc_rows: list[dict | None], min_n: int,
                  seed: int = 0) -> list[dict[str, Any] | None]:
    """``estimate`` of many points at once: every point uses the same seeded normal draws
    (as a fresh generator per point would), scaled by its own means and variances."""
    z = np.random.default_rng(seed).standard_normal(2 * DRAWS)
    out: list = []
    for start in range(0, len(rows), BLOCK):
        out += _estimate_block(rows[start:start + BLOCK], auc_rows[start:start + BLOCK], min_n, z)
    return out


def _estimate_block(rows, auc_rows, min_n, z) -> list:
    def col(key):
        return np.array([float(r.get(key) or 0) for r in rows], dtype=float)

    npp, npn = col("e_npp"), col("e_npn")
    tp_mean, fn_mean = col("e_tp"), col("e_fn")
    tp_sd, fn_sd = np.sqrt(np.maximum(col("e_tp_var"), 0)), np.sqrt(np.maximum(col("e_fn_var"), 0))
    tp = np.clip(tp_mean[:, None] + tp_sd[:, None] * z[None, :DRAWS], 0, npp[:, None])
    fn = np.clip(fn_mean[:, None] + fn_sd[:, None] * z[None, DRAWS:], 0, npn[:, None])
    point = _ratios(tp_mean, fn_mean, npp, npn)
    drawn = _ratios(tp, fn, npp[:, None], npn[:, None])
    names = ("accuracy", "precision", "recall", "f1", "false_positive_rate")
    bounds = {name: quantile_rows(drawn[name]) for name in names}
    out: list = []
    for i, auc_row in enumerate(auc_rows):
        n = int(npp[i] + npn[i])
        if n == 0:
            out.append(None)
            continue
        est: dict[str, Any] = {}
        for name in names:
            value = float(point[name][i])
            lo, hi = bounds[name][i]
            if n < min_n or value != value or lo is None:
                est[name] = {"value": None, "lower": None, "upper": None, "n": n,
                             "reason": f"needs at least {min_n} scored predictions, has {n}" if n < min_n else "undefined"}
                continue
            est[name] = {"value": value, "lower": lo, "upper": hi, "n": n}
        auc = None
        if auc_row and (auc_row.get("e_pos") or 0) > 0 and (auc_row.get("e_neg") or 0) > 0:
            auc = auc_row["eu"] / (auc_row["e_pos"] * auc_row["e_neg"])
        if auc is None or n < min_n:
            est["roc_auc"] = {"value": None, "lower": None, "upper": None, "n": n,
                              "reason": f"needs at least {min_n} scored predictions, has {n}" if n < min_n else "undefined"}
        else:
            lo, hi = hanley_mcneil(auc, auc_row["e_pos"], auc_row["e_neg"])
            est["roc_auc"] = {"value": float(auc), "lower": lo, "upper": hi, "n": n}
        out.append(est)
    return out


def errors(estimated: dict, realised: dict) -> dict[str, Any]:
    """Estimated minus realised, per metric where both exist, and whether realised lies in the interval."""
    out = {}
    for name in ESTIMATED:
        e, r = estimated.get(name, {}), realised.get(name, {})
        if e.get("value") is None or r.get("value") is None:
            continue
        out[name] = {"error": e["value"] - r["value"],
                     "within_interval": bool(e["lower"] <= r["value"] <= e["upper"])}
    return out


def summarise_errors(points: list[dict]) -> dict[str, Any]:
    """Mean absolute CBPE error and interval coverage per metric over the series' buckets."""
    acc: dict[str, list] = {}
    for p in points:
        for name, e in (p.get("estimation_error") or {}).items():
            acc.setdefault(name, []).append(e)
    return {name: {"mean_absolute_error": float(np.mean([abs(e["error"]) for e in es])),
                   "coverage": float(np.mean([e["within_interval"] for e in es])), "buckets": len(es)}
            for name, es in acc.items()}
