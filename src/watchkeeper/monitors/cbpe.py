"""Confidence-based performance estimation (CBPE) for binary classifiers.

If ``score`` is a calibrated P(positive), each prediction's chance of being a true positive is
its score (when predicted positive) and of being a false negative is its score (when predicted
negative). Summed over a bucket, the store gives the expected confusion counts and their
variances (sums of p(1-p)); this module turns them into estimated accuracy, precision, recall,
F1 and false positive rate, each with a 95% interval from 1,000 Monte-Carlo draws of the two
independent normal counts (TP among predicted positives, FN among predicted negatives). ROC AUC
is the expected Mann-Whitney statistic over score-level expected class counts, with a
Hanley-McNeil interval. The estimate covers every scored prediction, labelled or not; once labels
land, ``errors`` reports estimated minus realised and whether the realised value fell inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .intervals import hanley_mcneil

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
    npp, npn = float(row.get("e_npp") or 0), float(row.get("e_npn") or 0)
    n = int(npp + npn)
    if n == 0:
        return None
    tp_mean, fn_mean = float(row.get("e_tp") or 0), float(row.get("e_fn") or 0)
    tp_var, fn_var = float(row.get("e_tp_var") or 0), float(row.get("e_fn_var") or 0)
    rng = np.random.default_rng(seed)
    tp = np.clip(rng.normal(tp_mean, np.sqrt(tp_var), DRAWS), 0, npp)
    fn = np.clip(rng.normal(fn_mean, np.sqrt(fn_var), DRAWS), 0, npn)
    point = _ratios(np.array(tp_mean), np.array(fn_mean), np.array(npp), np.array(npn))
    drawn = _ratios(tp, fn, npp, npn)
    out: dict[str, Any] = {}
    for name in ("accuracy", "precision", "recall", "f1", "false_positive_rate"):
        value = float(point[name])
        values = drawn[name][~np.isnan(drawn[name])]
        if n < min_n or value != value or values.size == 0:
            out[name] = {"value": None, "lower": None, "upper": None, "n": n,
                         "reason": f"needs at least {min_n} scored predictions, has {n}" if n < min_n else "undefined"}
            continue
        out[name] = {"value": value, "lower": float(np.quantile(values, 0.025)),
                     "upper": float(np.quantile(values, 0.975)), "n": n}
    auc = None
    if auc_row and (auc_row.get("e_pos") or 0) > 0 and (auc_row.get("e_neg") or 0) > 0:
        auc = auc_row["eu"] / (auc_row["e_pos"] * auc_row["e_neg"])
    if auc is None or n < min_n:
        out["roc_auc"] = {"value": None, "lower": None, "upper": None, "n": n,
                          "reason": f"needs at least {min_n} scored predictions, has {n}" if n < min_n else "undefined"}
    else:
        lo, hi = hanley_mcneil(auc, auc_row["e_pos"], auc_row["e_neg"])
        out["roc_auc"] = {"value": float(auc), "lower": lo, "upper": hi, "n": n}
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
