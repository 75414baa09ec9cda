"""Alert-rule signals over the stored online drift results (``drift_results``, written by the drift job).

- ``drift_score``: with ``params.feature``, the feature's latest statistic in the window (its method's
  units: a distance, KS D, chi-square statistic or MMD^2); without, the largest ``statistic / threshold`` over
  the model's distance-judged features (>= 1 means at least one drifted).
- ``drifted_features``: features judged drifted in the latest result of the window.
- ``feature_missing_ratio``: with ``params.feature``, the latest missing share of that feature.

Each returns None when the window holds no stored result for the scope.
"""

from __future__ import annotations


def _latest(store, project, scope, start_us, end_us, feature=None):
    d = store.dialect
    where = ["project = ?", f"ts >= {d.ts_param()}", f"ts < {d.ts_param()}", "segment = ''"]
    params = [project, int(start_us), int(end_us)]
    if (scope or {}).get("model"):
        where.append("model = ?")
        params.append(str(scope["model"]))
    if feature:
        where.append("feature = ?")
        params.append(str(feature))
    return store.rows(
        f"""SELECT feature, kind, method, statistic, threshold, drifted, missing_current FROM (
                SELECT *, row_number() OVER (PARTITION BY model, feature, method ORDER BY ts DESC, computed_at DESC) AS rn
                FROM drift_results WHERE {' AND '.join(where)}) AS t WHERE rn = 1""",
        params,
    )


def drift_signal(store, project, scope, start_us, end_us, feature: str | None = None, **_):
    rows = _latest(store, project, scope, start_us, end_us, feature)
    if not rows:
        return None
    if feature:
        vals = [r["statistic"] for r in rows if r["statistic"] is not None]
        return max(vals) if vals else None
    ratios = [r["statistic"] / r["threshold"] for r in rows
              if r["statistic"] is not None and r["threshold"] and r["method"] not in ("ks", "chi2", "mmd_rbf")
              and r["kind"] == "input"]
    return max(ratios) if ratios else 0.0


def drifted_features_signal(store, project, scope, start_us, end_us, **_):
    rows = _latest(store, project, scope, start_us, end_us)
    if not rows:
        return None
    return float(len({r["feature"] for r in rows if r["drifted"] and r["kind"] != "output"}))


def missing_ratio_signal(store, project, scope, start_us, end_us, feature: str | None = None, **_):
    rows = [r for r in _latest(store, project, scope, start_us, end_us, feature) if r["missing_current"] is not None]
    return max(r["missing_current"] for r in rows) if rows else None


SIGNALS = {
    "drift_score": drift_signal,
    "drifted_features": drifted_features_signal,
    "feature_missing_ratio": missing_ratio_signal,
}
