"""Reference-versus-current histograms of a model's input features, built in the store.

A quick look for the UI's model page while no drift monitor has a stored reference: the reference
is the model's earliest quarter of history and the current window is the range the user picked.
Numerical features share one set of equal-width bins (reference P1..P99); categorical features
compare their top categories. PSI comes from ``monitors.drift.psi`` on those counts.
"""

from __future__ import annotations

from typing import Any

from .overview import _nan, histogram_on, sample_json_keys


def reference_window(store, project: str, model: str) -> tuple[int, int] | None:
    d = store.dialect
    rows = store.rows(f"SELECT {d.epoch_us('min(ts)')} AS a, {d.epoch_us('max(ts)')} AS b FROM predictions "
                      "WHERE project = ? AND model = ?", [project, model])
    if not rows or rows[0]["a"] is None:
        return None
    a, b = int(rows[0]["a"]), int(rows[0]["b"])
    return a, a + max(1, (b - a) // 4)


def feature_shift(store, project: str, model: str, since_us: int, until_us: int, max_features: int = 12) -> dict[str, Any]:
    from ...monitors.drift.psi import psi

    d = store.dialect
    ref = reference_window(store, project, model)
    if ref is None:
        return {"reference": None, "features": []}
    base = f"project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}"
    ref_params, cur_params = [project, model, ref[0], ref[1]], [project, model, since_us, until_us]
    features = []
    for key, kind in sample_json_keys(store, project, model, "inputs")[:max_features]:
        if kind == "num":
            expr = d.json_num("inputs", key)
            item = _numeric(store, expr, base, ref_params, cur_params)
        else:
            expr = d.json_str("inputs", key)
            item = _categorical(store, expr, base, ref_params, cur_params)
        if item is None:
            continue
        item.update(name=key, kind="numerical" if kind == "num" else "categorical")
        item["psi"] = float(psi(item["reference"], item["current"])) if sum(item["reference"]) and sum(item["current"]) else None
        item["drifted"] = bool(item["psi"] is not None and item["psi"] >= 0.1) or item["missing_change"] >= 0.1
        features.append(item)
    features.sort(key=lambda f: -(f["psi"] or 0.0))
    return {"reference": {"since_us": ref[0], "until_us": ref[1]}, "features": features}


def _missing(store, expr: str, where: str, params: list) -> tuple[int, int]:
    row = store.rows(f"SELECT count(*) AS n, count({expr}) AS present FROM predictions WHERE {where}", params)[0]
    return int(row["n"]), int(row["n"]) - int(row["present"])


def _numeric(store, expr: str, where: str, ref_params: list, cur_params: list, bins: int = 20) -> dict | None:
    d = store.dialect
    lim = store.rows(f"SELECT {d.quantiles(expr, [0.01, 0.99])} AS q FROM predictions WHERE {where}", ref_params)
    q = list(lim[0]["q"] or []) if lim else []
    if len(q) < 2 or _nan(q[0]) is None:
        return None
    lo, hi = float(q[0]), float(q[1])
    ref = histogram_on(store, expr, where, ref_params, lo, hi, bins)
    cur = histogram_on(store, expr, where, cur_params, lo, hi, bins)
    (rn, rm), (cn, cm) = _missing(store, expr, where, ref_params), _missing(store, expr, where, cur_params)
    return {"edges": ref["edges"], "reference": ref["counts"], "current": cur["counts"],
            "missing_reference": rm / rn if rn else 0.0, "missing_current": cm / cn if cn else 0.0,
            "missing_change": (cm / cn if cn else 0.0) - (rm / rn if rn else 0.0)}


def _categorical(store, expr: str, where: str, ref_params: list, cur_params: list, top: int = 12) -> dict | None:
    def counts(params):
        rows = store.rows(f"SELECT {expr} AS v, count(*) AS n FROM predictions WHERE {where} AND {expr} IS NOT NULL "
                          "GROUP BY v ORDER BY n DESC LIMIT 200", params)
        return {r["v"]: int(r["n"]) for r in rows}

    ref, cur = counts(ref_params), counts(cur_params)
    if not ref and not cur:
        return None
    cats = sorted(set(ref) | set(cur), key=lambda c: -(ref.get(c, 0) + cur.get(c, 0)))[:top]
    (rn, rm), (cn, cm) = _missing(store, expr, where, ref_params), _missing(store, expr, where, cur_params)
    return {"categories": cats, "reference": [ref.get(c, 0) for c in cats], "current": [cur.get(c, 0) for c in cats],
            "new_categories": [c for c in cur if c not in ref][:top],
            "missing_reference": rm / rn if rn else 0.0, "missing_current": cm / cn if cn else 0.0,
            "missing_change": (cm / cn if cn else 0.0) - (rm / rn if rn else 0.0)}
