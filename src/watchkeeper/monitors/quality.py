"""Realised model quality from delayed labels, with intervals and a minimum-sample guard.

``model_quality(store, project, model, ...)`` asks the store for small aggregates
(``store/queries/quality.py``) in one query, which joins predictions to labels once for the
series and the summary, and returns one JSON-ready document::

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
from .intervals import (ece, ece_bootstrap_many, f1_bootstrap_many, hanley_mcneil, mean_interval,
                        rmse_interval, wilson)

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


def _merge(rows: list[dict], whole: bool, across_buckets: bool) -> dict:
    """The per-bin rows of ``q.classification`` summed per (t_us, grp), or per grp when ``whole``.

    ``across_buckets``: the whole window spans several buckets, so its ROC AUC parts are the
    ``g_`` columns. Those and the per-bucket ones are repeated on each bin row of their bucket."""
    out: dict = {}
    seen = set()
    g = whole and across_buckets
    for r in rows:
        k = r["grp"] if whole else _key(r)
        acc = out.get(k)
        if acc is None:
            acc = out[k] = {"t_us": r["t_us"], "grp": r["grp"], "bins": {}, "rank_pos": 0, "eu": 0.0, "g_ea": 0.0,
                            "g_eb": 0.0, **{c: 0 for c in q.SUMMED}}
        for c in q.SUMMED:
            if r[c] is not None:
                acc[c] += r[c]
        if r["bin"] is not None and r["scored"]:
            cal = acc["bins"].setdefault(int(r["bin"]), [0, 0, 0.0])
            cal[0] += r["scored"]
            cal[1] += r["cal_pos"]
            cal[2] += r["cal_sum"]
        if _key(r) not in seen:  # once per (t_us, grp)
            seen.add(_key(r))
            acc["rank_pos"] += r["g_rank_pos" if g else "rank_pos"] or 0
            for c in ("g_ea", "g_eb") if g else ("eu",):
                acc[c] += r[c] or 0
    if g:  # the CBPE expected U of each group from its one-sided sums (see q.classification)
        for acc in out.values():
            acc["eu"] = (acc["g_ea"] - acc["g_eb"] + acc["e_pos"] * acc["e_neg"]) / 2
    return out


def _classification_points(accs: list[dict], min_n: int) -> list[dict]:
    """Points from the merged sums of ``_merge``; bootstrap and CBPE draws batched over all of them."""
    f1_iv = f1_bootstrap_many([tuple(int(r[c]) for c in ("tp", "fp", "fn", "tn")) for r in accs])
    cal = [tuple(np.array([r["bins"][k][i] for k in sorted(r["bins"])], dtype=float) for i in range(3))
           if r["bins"] else None for r in accs]
    cal_iv = ece_bootstrap_many([c for c in cal if c is not None])[::-1]
    estimates = cbpe.estimate_many(accs, [{"eu": r["eu"], "e_pos": r["e_pos"], "e_neg": r["e_neg"]} for r in accs],
                                   min_n)
    points = []
    for r, f1_interval, bins, est in zip(accs, f1_iv, cal, estimates):
        tp, fp, fn, tn = (int(r[c]) for c in ("tp", "fp", "fn", "tn"))
        lab = int(r["labelled"])
        m: dict[str, Any] = {
            "accuracy": _proportion(r["correct"], lab, min_n, "labelled predictions"),
            "precision": _proportion(tp, tp + fp, min_n, "labelled positive predictions"),
            "recall": _proportion(tp, tp + fn, min_n, "labelled positives"),
            "false_positive_rate": _proportion(fp, fp + tn, min_n, "labelled negatives"),
        }
        f1 = (2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else None
        m["f1"] = metric(f1, f1_interval, lab, min_n)
        n_pos = int(r["cal_pos"])
        n_neg = int(r["scored"]) - n_pos
        # Mann-Whitney U from the doubled midrank sum of the positives (see q.classification)
        auc = (int(r["rank_pos"]) - n_pos * (n_pos + 1)) / 2 / (n_pos * n_neg) if n_pos and n_neg else None
        m["roc_auc"] = metric(auc, hanley_mcneil(auc, n_pos, n_neg) if auc is not None else (None, None),
                              n_pos + n_neg, min_n, "labelled scored predictions")
        scored = int(r["scored"])
        brier = (r["brier"] / scored) if scored else None
        m["brier"] = metric(brier, mean_interval(r["brier"], r["brier_sq"], scored, lo=0.0, hi=1.0),
                            scored, min_n, "labelled scored predictions")
        if bins is not None:
            counts, pos, sums = bins
            m["calibration_error"] = metric(ece(counts, pos, sums), cal_iv.pop(), counts.sum(), min_n,
                                            "labelled scored predictions")
        else:
            m["calibration_error"] = metric(None, (None, None), 0, min_n, "labelled scored predictions")
        point = _point(r, m)
        if est is not None:
            point["estimated"] = est
            point["estimation_error"] = cbpe.errors(est, m)
        points.append(point)
    return points


def _classification(store, args: dict, min_n: int) -> tuple[dict, dict]:
    """(series points by (t_us, grp), summary points by grp) from one store query.

    With ``args['step_us']`` None the query's one bucket is the whole window (no series)."""
    buckets = args["step_us"] is not None
    rows = q.classification(store, **args, whole_window=buckets)
    series = _merge(rows, False, buckets) if buckets else {}
    whole = _merge(rows, True, buckets)
    points = iter(_classification_points(list(series.values()) + list(whole.values()), min_n))
    return {k: next(points) for k in series}, {k: next(points) for k in whole}


def _regression_point(r: dict, min_n: int) -> dict:
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
    return point


def _ranking_point(r: dict, min_n: int) -> dict:
    n, nn = int(r["m"] or 0), int(r["m_ndcg"] or 0)
    m = {
        "ndcg_at_k": metric((r["ndcg_sum"] / nn) if nn else None,
                            mean_interval(r["ndcg_sum"] or 0, r["ndcg_sq_sum"] or 0, nn, lo=0.0, hi=1.0),
                            nn, min_n, "labelled rankings with a relevant item"),
        "mrr": metric((r["rr_sum"] / n) if n else None,
                      mean_interval(r["rr_sum"] or 0, r["rr_sq_sum"] or 0, n, lo=0.0, hi=1.0), n, min_n,
                      "labelled rankings"),
    }
    return _point(r, m)


def _additive(query, point):
    """A runner for a query whose columns are all sums: the whole window is the sum of its buckets."""
    def run(store, args: dict, min_n: int) -> tuple[dict, dict]:
        rows = query(store, **args)
        series = {_key(r): point(r, min_n) for r in rows} if args["step_us"] is not None else {}
        whole: dict = {}
        for r in rows:
            acc = whole.setdefault(r["grp"], {c: None for c in r} | {"t_us": r["t_us"], "grp": r["grp"]})
            for c, v in r.items():
                if c not in ("t_us", "grp") and v is not None:
                    acc[c] = v if acc[c] is None else acc[c] + v
        return series, {g: point(r, min_n) for g, r in whole.items()}
    return run


def _point(r: dict, metrics: dict) -> dict[str, Any]:
    n, lab = int(r["n"] or 0), int(r["labelled"] or 0)
    cover = lab / n if n else None
    lo, hi = wilson(lab, n)
    metrics = {"label_coverage": {"value": cover, "lower": lo, "upper": hi, "n": n}, **metrics}
    return {"time": format_us(int(r["t_us"])), "group": r["grp"], "predictions": n, "labelled": lab,
            "label_coverage": cover, "metrics": metrics}


_RUNNERS = {"classification": _classification, "regression": _additive(q.regression, _regression_point),
            "ranking": _additive(q.ranking, _ranking_point)}


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
    # One store query gives the series and the whole window (summary) at once.
    by_bucket, by_group = _RUNNERS[task](store, {**base, "step_us": int(bucket_s) * 1_000_000 if bucket_s else None},
                                         min_samples)
    summary = [p for _, p in sorted(by_group.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
    series = [p for _, p in sorted(by_bucket.items())]
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
