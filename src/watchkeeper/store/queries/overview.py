"""Aggregations behind the web UI's overview and model pages, pushed down to the store.

Each function takes ``(store, project, ...)`` and returns small lists of dicts: one row per model,
per time bucket, per version or per histogram bin, never per event. Quality here is the simple
realised accuracy (prediction label equals the delivered label); the quality feature's own API,
when present, is richer and the UI prefers it.
"""

from __future__ import annotations

from typing import Any

from .labels import winning_labels

# The winning label per request, by the rule quality uses (queries/labels.py).
_LABELS = f"(SELECT k AS request_id, label FROM ({winning_labels()}) AS winning)"


def _nan(v):
    return None if v is None or v != v else float(v)


def _q3(q) -> tuple:
    q = list(q or []) or [None, None, None]
    return tuple(_nan(v) for v in q)


def model_stats(store, project: str, since_us: int, until_us: int) -> list[dict[str, Any]]:
    """Traffic, errors, latency quantiles, cost and versions of every model with events in the range."""
    d = store.dialect
    rows = store.rows(
        f"""
        SELECT model, count(*) AS n, {d.count_if('error IS NOT NULL')} AS errors,
               {d.approx_quantiles('latency_ms', [0.5, 0.95, 0.99])} AS q, sum(cost) AS cost, count(cost) AS costed,
               {d.epoch_us('max(ts)')} AS last_us, {d.array_agg_distinct('model_version')} AS versions
        FROM predictions WHERE project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
        GROUP BY model ORDER BY model
        """,
        [project, since_us, until_us],
    )
    out = []
    for r in rows:
        p50, p95, p99 = _q3(r["q"])
        n = int(r["n"])
        costed = int(r["costed"] or 0)
        out.append({
            "model": r["model"], "requests": n, "errors": int(r["errors"]), "error_rate": int(r["errors"]) / n if n else 0.0,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "cost": _nan(r["cost"]), "cost_per_request": (_nan(r["cost"]) or 0.0) / costed if costed else None,
            "last_seen_us": int(r["last_us"]), "versions": [v for v in r["versions"] if v],
        })
    return out


def model_quality(store, project: str, since_us: int, until_us: int, model: str | None = None) -> dict[str, dict]:
    """Per model: predictions with a label, and how many of those match it."""
    d = store.dialect
    where = f"p.project = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}"
    params: list[Any] = [project, project, since_us, until_us]
    if model is not None:
        where += " AND p.model = ?"
        params.append(model)
    rows = store.rows(
        f"""
        SELECT p.model AS model, count(*) AS labelled, {d.count_if('p.output_label = l.label')} AS correct
        FROM predictions p JOIN {_LABELS} l ON p.request_id = l.request_id
        WHERE {where} AND p.output_label IS NOT NULL AND l.label IS NOT NULL
        GROUP BY p.model
        """,
        params,
    )
    return {r["model"]: {"labelled": int(r["labelled"]), "correct": int(r["correct"])} for r in rows}


def traffic_buckets(store, project: str, since_us: int, until_us: int, step_us: int) -> list[dict[str, Any]]:
    """Requests and errors per model per time bucket (sparklines)."""
    d = store.dialect
    rows = store.rows(
        f"""
        SELECT model, {d.bucket_us('ts', step_us)} AS t_us, count(*) AS n, {d.count_if('error IS NOT NULL')} AS errors
        FROM predictions WHERE project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
        GROUP BY model, t_us ORDER BY model, t_us
        """,
        [project, since_us, until_us],
    )
    return [{"model": r["model"], "t_us": int(r["t_us"]), "n": int(r["n"]), "errors": int(r["errors"])} for r in rows]


def model_series(store, project: str, model: str, since_us: int, until_us: int, step_us: int) -> list[dict[str, Any]]:
    """Per bucket: traffic, errors, latency P50/P95/P99, cost, labelled and correct predictions."""
    d = store.dialect
    rows = store.rows(
        f"""
        SELECT {d.bucket_us('p.ts', step_us)} AS t_us, count(*) AS n, {d.count_if('p.error IS NOT NULL')} AS errors,
               {d.approx_quantiles('p.latency_ms', [0.5, 0.95, 0.99])} AS q, sum(p.cost) AS cost,
               {d.count_if('l.label IS NOT NULL')} AS labelled,
               {d.count_if('l.label IS NOT NULL AND p.output_label = l.label')} AS correct
        FROM predictions p LEFT JOIN {_LABELS} l ON p.request_id = l.request_id
        WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}
        GROUP BY t_us ORDER BY t_us
        """,
        [project, project, model, since_us, until_us],
    )
    out = []
    for r in rows:
        p50, p95, p99 = _q3(r["q"])
        out.append({"t_us": int(r["t_us"]), "requests": int(r["n"]), "errors": int(r["errors"]), "p50_ms": p50,
                    "p95_ms": p95, "p99_ms": p99, "cost": _nan(r["cost"]), "labelled": int(r["labelled"]),
                    "correct": int(r["correct"])})
    return out


def model_versions(store, project: str, model: str, since_us: int, until_us: int) -> list[dict[str, Any]]:
    """Traffic, errors, P95 and first/last seen per model version."""
    d = store.dialect
    rows = store.rows(
        f"""
        SELECT model_version, count(*) AS n, {d.count_if('error IS NOT NULL')} AS errors,
               {d.approx_quantiles('latency_ms', [0.95])} AS q, {d.epoch_us('min(ts)')} AS first_us,
               {d.epoch_us('max(ts)')} AS last_us, avg(cost) AS cost
        FROM predictions WHERE project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
        GROUP BY model_version ORDER BY first_us
        """,
        [project, model, since_us, until_us],
    )
    return [{"version": r["model_version"], "requests": int(r["n"]), "errors": int(r["errors"]),
             "p95_ms": _nan((list(r["q"] or []) or [None])[0]), "first_us": int(r["first_us"]), "last_us": int(r["last_us"]),
             "cost_per_request": _nan(r["cost"])} for r in rows]


def output_distribution(store, project: str, model: str, since_us: int, until_us: int, bins: int = 20) -> dict[str, Any]:
    """The predicted labels (top 20) and a histogram of the score."""
    d = store.dialect
    base = f"project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}"
    params = [project, model, since_us, until_us]
    labels = store.rows(
        f"SELECT output_label AS value, count(*) AS n FROM predictions WHERE {base} AND output_label IS NOT NULL "
        "GROUP BY output_label ORDER BY n DESC, value LIMIT 20", params)
    return {"labels": [{"value": r["value"], "count": int(r["n"])} for r in labels],
            "score": numeric_histogram(store, "score", base, params, bins)}


def numeric_histogram(store, expr: str, where: str, params: list, bins: int = 20) -> dict[str, Any] | None:
    """Equal-width histogram of ``expr`` over rows matching ``where`` (P1..P99 range, tails clamped)."""
    d = store.dialect
    lim = store.rows(f"SELECT {d.quantiles(expr, [0.01, 0.99])} AS q, count({expr}) AS n FROM predictions WHERE {where}", params)
    if not lim or not int(lim[0]["n"] or 0):
        return None
    lo, hi = (_nan(v) for v in (list(lim[0]["q"] or []) or [None, None]))
    if lo is None or hi is None:
        return None
    return histogram_on(store, expr, where, params, lo, hi, bins)


def histogram_on(store, expr: str, where: str, params: list, lo: float, hi: float, bins: int) -> dict[str, Any]:
    """Counts of ``expr`` in ``bins`` equal bins between ``lo`` and ``hi`` (values outside go to the end bins)."""
    width = (hi - lo) / bins if hi > lo else 1.0
    idx = f"least({bins - 1}, greatest(0, CAST(floor(({expr} - {lo!r}) / {width!r}) AS INTEGER)))"
    rows = store.rows(f"SELECT {idx} AS b, count(*) AS n FROM predictions WHERE {where} AND {expr} IS NOT NULL GROUP BY b",
                      params)
    counts = [0] * bins
    for r in rows:
        counts[int(r["b"])] += int(r["n"])
    return {"edges": [lo + i * width for i in range(bins + 1)], "counts": counts}


def segment_quality(store, project: str, model: str, since_us: int, until_us: int, key: str) -> list[dict[str, Any]]:
    """Traffic, label coverage and accuracy per value of one segment key (a cohort)."""
    d = store.dialect
    seg = d.json_str("p.segment", key)
    rows = store.rows(
        f"""
        SELECT {seg} AS value, count(*) AS n, {d.count_if('l.label IS NOT NULL')} AS labelled,
               {d.count_if('l.label IS NOT NULL AND p.output_label = l.label')} AS correct
        FROM predictions p LEFT JOIN {_LABELS} l ON p.request_id = l.request_id
        WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}
        GROUP BY value ORDER BY n DESC LIMIT 12
        """,
        [project, project, model, since_us, until_us],
    )
    return [{"value": r["value"], "requests": int(r["n"]), "labelled": int(r["labelled"]), "correct": int(r["correct"])}
            for r in rows if r["value"] is not None]


def sample_json_keys(store, project: str, model: str, column: str, limit: int = 200) -> list[tuple[str, str]]:
    """(key, kind) of a JSON column, from the latest ``limit`` rows; kind is ``num`` or ``cat``."""
    import orjson

    rows = store.rows(f"SELECT {column} AS v FROM predictions WHERE project = ? AND model = ? AND {column} IS NOT NULL "
                      f"ORDER BY ts DESC LIMIT {int(limit)}", [project, model])
    kinds: dict[str, str] = {}
    for r in rows:
        try:
            obj = orjson.loads(r["v"])
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        for k, v in obj.items():
            if v is None or isinstance(v, (dict, list)) or not str(k).replace("_", "").replace("-", "").replace(".", "").isalnum():
                continue
            kind = "num" if isinstance(v, (int, float)) and not isinstance(v, bool) else "cat"
            if kinds.get(k) != "cat":
                kinds[k] = kind
    return list(kinds.items())


def llm_apps(store, project: str, since_us: int, until_us: int) -> list[dict[str, Any]]:
    """Per service with traces in the range: traces, error share, P95 duration, tokens and cost per trace."""
    d = store.dialect
    rows = store.rows(
        f"""
        SELECT service, count(*) AS traces, {d.count_if('errors > 0')} AS failed,
               {d.quantiles('duration_ms', [0.5, 0.95])} AS q, sum(cost) AS cost, sum(tokens) AS tokens,
               {d.array_agg_distinct('model')} AS models
        FROM (SELECT trace_id, max(service) AS service, max(duration_ms) AS duration_ms, sum(cost) AS cost,
                     sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
                     {d.count_if("status = 'error'")} AS errors, max(model) AS model
              FROM spans WHERE project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
              GROUP BY trace_id) AS t
        GROUP BY service ORDER BY traces DESC LIMIT 50
        """,
        [project, since_us, until_us],
    )
    out = []
    for r in rows:
        n = int(r["traces"])
        p50, p95 = (list(r["q"] or []) + [None, None])[:2]
        out.append({"service": r["service"] or "(unnamed)", "traces": n, "errors": int(r["failed"]),
                    "error_rate": int(r["failed"]) / n if n else 0.0, "p50_ms": _nan(p50), "p95_ms": _nan(p95),
                    "tokens_per_trace": (_nan(r["tokens"]) or 0.0) / n if n else None,
                    "cost_per_request": (_nan(r["cost"]) or 0.0) / n if n and r["cost"] is not None else None,
                    "models": [m for m in (r["models"] or []) if m]})
    return out
