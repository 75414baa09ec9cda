"""Realised model quality from delayed labels, with intervals and a minimum-sample guard.

``model_quality(store, project, model, ...)`` asks the store for small aggregates
(``store/queries/quality.py``) and returns one JSON-ready document::

    {"model", "task", "group_by", "since", "until", "bucket_s", "min_samples",
     "summary": [POINT, ...],          # one per group over the whole window
     "series":  [POINT, ...]}          # one per (time bucket, group), oldest first
    POINT = {"time", "group", "predictions", "labelled", "label_coverage",
             "metrics":   {NAME: {"value", "lower", "upper", "n"[, "reason"]}},
             "estimated": {NAME: {...}},                 # CBPE, binary classification only
             "estimation_error": {NAME: {"error", "within_interval"}}}

Metric names: classification ``accuracy precision recall f1 roc_auc false_positive_rate
calibration_error brier``; regression ``mae rmse mape``; ranking ``ndcg_at_k mrr``; always
``label_coverage``. A metric whose denominator is below ``min_samples`` has ``value: null`` and a
``reason``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ingest.timestamps import format_us
from ..store.queries import quality as q
from . import cbpe
from .intervals import (ece, ece_bootstrap, f1_bootstrap, hanley_mcneil, mean_interval, rmse_interval,
                        wilson)

TASKS = ("classification", "regression", "ranking")
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "false_positive_rate",
                          "calibration_error", "brier")
REGRESSION_METRICS = ("mae", "rmse", "mape")
RANKING_METRICS = ("ndcg_at_k", "mrr")


def metric(value: float | None, interval: tuple[float | None, float | None], n: float, min_n: int,
           what: str = "labelled predictions") -> dict[str, Any]:
    n = int(n or 0)
    if n < min_n or value is None:
        reason = (f"needs at least {min_n} {what}, has {n}" if n < min_n else f"undefined for these {n} {what}")
        return {"value": None, "lower": None, "upper": None, "n": n, "reason": reason}
    lo, hi = interval
    return {"value": float(value), "lower": lo, "upper": hi, "n": n}


def _proportion(k: float, n: float, min_n: int, what: str) -> dict[str, Any]:
    return metric(k / n if n else None, wilson(k, n), n, min_n, what)


def detect_task(store, project: str, model: str, since_us: int, until_us: int) -> str:
    hint = q.task_hint(store, project, model, since_us, until_us)
    n = hint["n"]
    if n and hint["lists"] * 2 > n:
        return "ranking"
    if n and hint["numeric"] * 2 > n and hint["scored"] * 2 < n:
        return "regression"
    return "classification"


def _key(row: dict) -> tuple:
    return int(row["t_us"]), row["grp"]


def _classification(store, args: dict, min_n: int) -> dict[tuple, dict]:
    rows = q.classification(store, **args)
    aucs = {_key(r): r for r in q.auc_parts(store, **{k: v for k, v in args.items() if k != "threshold"})}
    bins: dict[tuple, list] = {}
    for r in q.calibration_bins(store, **{k: v for k, v in args.items() if k != "threshold"}):
        bins.setdefault(_key(r), []).append(r)
    out = {}
    for r in rows:
        key = _key(r)
        tp, fp, fn, tn = (int(r[c] or 0) for c in ("tp", "fp", "fn", "tn"))
        lab = int(r["labelled"] or 0)
        m: dict[str, Any] = {
            "accuracy": _proportion(r["correct"] or 0, lab, min_n, "labelled predictions"),
            "precision": _proportion(tp, tp + fp, min_n, "labelled positive predictions"),
            "recall": _proportion(tp, tp + fn, min_n, "labelled positives"),
            "false_positive_rate": _proportion(fp, fp + tn, min_n, "labelled negatives"),
        }
        f1 = (2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else None
        m["f1"] = metric(f1, f1_bootstrap(tp, fp, fn, tn), lab, min_n)
        a = aucs.get(key)
        auc = None
        if a and a["n_pos"] and a["n_neg"]:
            auc = a["u"] / (a["n_pos"] * a["n_neg"])
        pos_neg = (a["n_pos"] + a["n_neg"]) if a else 0
        m["roc_auc"] = metric(auc, hanley_mcneil(auc, a["n_pos"], a["n_neg"]) if auc is not None else (None, None),
                              pos_neg, min_n, "labelled scored predictions")
        scored = int(r["scored"] or 0)
        brier = (r["brier"] / scored) if scored else None
        m["brier"] = metric(brier, mean_interval(r["brier"] or 0, r["brier_sq"] or 0, scored, lo=0.0, hi=1.0),
                            scored, min_n, "labelled scored predictions")
        b = bins.get(key, [])
        if b:
            counts = np.array([x["n"] for x in b], dtype=float)
            pos = np.array([x["pos"] for x in b], dtype=float)
            sums = np.array([x["score_sum"] for x in b], dtype=float)
            m["calibration_error"] = metric(ece(counts, pos, sums), ece_bootstrap(counts, pos, sums), counts.sum(),
                                            min_n, "labelled scored predictions")
        else:
            m["calibration_error"] = metric(None, (None, None), 0, min_n, "labelled scored predictions")
        point = _point(r, m)
        est = cbpe.estimate(r, a, min_n)
        if est is not None:
            point["estimated"] = est
            point["estimation_error"] = cbpe.errors(est, m)
        out[key] = point
    return out


def _regression(store, args: dict, min_n: int) -> dict[tuple, dict]:
    out = {}
    for r in q.regression(store, **args):
        n, nz = int(r["m"] or 0), int(r["m_nz"] or 0)
        m = {
            "mae": metric((r["abs_sum"] / n) if n else None,
                          mean_interval(r["abs_sum"] or 0, r["sq_sum"] or 0, n, lo=0.0), n, min_n),
            "rmse": metric((r["sq_sum"] / n) ** 0.5 if n else None, rmse_interval(r["sq_sum"] or 0, r["quad_sum"] or 0, n),
                           n, min_n),
            "mape": metric((r["ape_sum"] / nz) if nz else None,
                           mean_interval(r["ape_sum"] or 0, r["ape_sq_sum"] or 0, nz, lo=0.0), nz, min_n,
                           "labelled predictions with a non-zero label"),
        }
        point = _point(r, m)
        if r["unusable"]:
            point["unusable_labels"] = int(r["unusable"])
        out[_key(r)] = point
    return out


def _ranking(store, args: dict, min_n: int) -> dict[tuple, dict]:
    out = {}
    for r in q.ranking(store, **args):
        n, nn = int(r["m"] or 0), int(r["m_ndcg"] or 0)
        m = {
            "ndcg_at_k": metric((r["ndcg_sum"] / nn) if nn else None,
                                mean_interval(r["ndcg_sum"] or 0, r["ndcg_sq_sum"] or 0, nn, lo=0.0, hi=1.0),
                                nn, min_n, "labelled rankings with a relevant item"),
            "mrr": metric((r["rr_sum"] / n) if n else None,
                          mean_interval(r["rr_sum"] or 0, r["rr_sq_sum"] or 0, n, lo=0.0, hi=1.0), n, min_n,
                          "labelled rankings"),
        }
        out[_key(r)] = _point(r, m)
    return out


def _point(r: dict, metrics: dict) -> dict[str, Any]:
    n, lab = int(r["n"] or 0), int(r["labelled"] or 0)
    cover = lab / n if n else None
    lo, hi = wilson(lab, n)
    metrics = {"label_coverage": {"value": cover, "lower": lo, "upper": hi, "n": n}, **metrics}
    return {"time": format_us(int(r["t_us"])), "group": r["grp"], "predictions": n, "labelled": lab,
            "label_coverage": cover, "metrics": metrics}


_RUNNERS = {"classification": _classification, "regression": _regression, "ranking": _ranking}


def model_quality(store, project: str, model: str, *, since_us: int, until_us: int, bucket_s: int | None = 3600,
                  by: str = "model_version", task: str | None = None, positive: str = "1", threshold: float = 0.5,
                  k: int = 10, min_samples: int = 30) -> dict[str, Any]:
    """Quality of ``model`` between since and until, per group and per time bucket."""
    q.group_expr(store.dialect, by)  # validates ``by`` before any query runs
    if task is None:
        task = detect_task(store, project, model, since_us, until_us)
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}")
    base = {"project": project, "model": model, "since_us": since_us, "until_us": until_us, "by": by}
    if task == "classification":
        q.literal_class(positive)
        base.update(positive=positive, threshold=threshold)
    elif task == "ranking":
        base.update(k=k)
    run = _RUNNERS[task]
    summary = list(run(store, {**base, "step_us": None}, min_samples).values())
    series = []
    if bucket_s:
        series = [p for _, p in sorted(run(store, {**base, "step_us": int(bucket_s) * 1_000_000}, min_samples).items())]
    for p in summary:
        p.pop("time", None)
    doc = {"model": model, "task": task, "group_by": by, "since": format_us(since_us), "until": format_us(until_us),
           "bucket_s": bucket_s, "min_samples": min_samples, "summary": summary, "series": series}
    if task == "classification":
        doc["positive"] = positive
        doc["estimation_error"] = cbpe.summarise_errors(series)
    if task == "ranking":
        doc["k"] = k
    return doc


# -- alert signals (control/signals.py wires these in) ---------------------------------------------

def _scope_grouping(scope: dict) -> tuple[str, str | None]:
    if scope.get("version"):
        return "model_version", str(scope["version"])
    if scope.get("release"):
        return "release", str(scope["release"])
    segment = scope.get("segment") or {}
    if isinstance(segment, dict) and len(segment) == 1:
        key, value = next(iter(segment.items()))
        return f"segment:{key}", str(value)
    return "all", ""


def _signal_value(store, project, scope, start_us, end_us, metric, kind, params) -> float | None:
    model = scope.get("model")
    if not model:
        return None
    by, group = _scope_grouping(scope)
    doc = model_quality(store, project, model, since_us=start_us, until_us=end_us, bucket_s=None, by=by,
                        positive=params.get("positive", "1"), min_samples=int(params.get("min_samples", 30)))
    for point in doc["summary"]:
        if point["group"] == group:
            value = (point.get(kind) or {}).get(metric, {}).get("value")
            return None if value is None else float(value)
    return None


def quality_signal(store, project, scope, start_us, end_us, metric: str = "accuracy", **params):
    """Realised ``metric`` (any name of this module) of ``scope['model']`` in the window."""
    return _signal_value(store, project, scope, start_us, end_us, metric, "metrics", params)


def estimated_quality_signal(store, project, scope, start_us, end_us, metric: str = "accuracy", **params):
    """CBPE-estimated ``metric`` (accuracy, precision, recall, f1, false_positive_rate, roc_auc)."""
    return _signal_value(store, project, scope, start_us, end_us, metric, "estimated", params)


def _named(metric: str, kind: str = "metrics"):
    def fn(store, project, scope, start_us, end_us, **params):
        return _signal_value(store, project, scope, start_us, end_us, metric, kind, params)
    return fn


SIGNALS = {name: _named(name) for name in ("f1", "roc_auc", "calibration_error", "brier", "mae", "rmse", "mape",
                                           "ndcg_at_k", "mrr")}
SIGNALS.update({f"estimated_{name}": _named(name, "estimated") for name in cbpe.ESTIMATED})


def _online(which: str):
    def fn(store, project, scope, start_us, end_us, **params):
        from ..llm.evals_online import rate_signal

        return rate_signal(which)(store, project, scope, start_us, end_us, **params)
    return fn


SIGNALS.update({"unsupported_claim_rate": _online("unsupported_claim_rate"), "refusal_rate": _online("refusal_rate")})
