"""Queries behind the control loop's signals, written once for every SQL event store.

Every function takes a *scope* (``model``, ``release``, ``version``, ``segment``) and a window
``[start_us, end_us)`` of prediction time, and returns small aggregates. Labels join predictions by
``request_id``; when a request has several labels the latest one wins (by label time, then arrival).
"""

from __future__ import annotations

from typing import Any

from .labels import winning_labels

SCOPE_KEYS = ("model", "release", "version", "segment")


def scope_where(store, scope: dict | None, start_us: int, end_us: int, alias: str = "") -> tuple[str, list[Any]]:
    """A WHERE clause (without the project term) selecting predictions in scope and window."""
    d = store.dialect
    p = f"{alias}." if alias else ""
    where = [f"{p}ts >= {d.ts_param()}", f"{p}ts < {d.ts_param()}"]
    params: list[Any] = [int(start_us), int(end_us)]
    scope = scope or {}
    if scope.get("model"):
        where.append(f"{p}model = ?")
        params.append(str(scope["model"]))
    if scope.get("release"):
        where.append(f"{p}release_id = ?")
        params.append(str(scope["release"]))
    if scope.get("version"):
        where.append(f"{p}model_version = ?")
        params.append(str(scope["version"]))
    for key, value in sorted((scope.get("segment") or {}).items()):
        where.append(f"{d.json_str(p + 'segment', key)} = ?")
        params.append(str(value))
    return " AND ".join(where), params


def traffic(store, project: str, scope: dict | None, start_us: int, end_us: int,
            latency_threshold_ms: float | None = None) -> dict[str, Any]:
    """Count, errors, latency quantiles (ms), mean cost and (optionally) requests under a latency bound."""
    d = store.dialect
    where, params = scope_where(store, scope, start_us, end_us)
    under = (f", {d.count_if(f'latency_ms <= {float(latency_threshold_ms)!r}')} AS under, "
             f"{d.count_if('latency_ms IS NOT NULL')} AS timed") if latency_threshold_ms is not None else ""
    rows = store.rows(
        f"""SELECT count(*) AS n, {d.count_if('error IS NOT NULL')} AS errors,
                   {d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS q, avg(cost) AS mean_cost,
                   sum(cost) AS total_cost{under}
            FROM predictions WHERE project = ? AND {where}""",
        [project, *params],
    )
    row = rows[0] if rows else {}
    q = list(row.get("q") or []) or [None, None, None]
    q = [None if v is None or v != v else float(v) for v in q]
    out = {"n": int(row.get("n") or 0), "errors": int(row.get("errors") or 0),
           "p50": q[0], "p95": q[1], "p99": q[2],
           "mean_cost": _f(row.get("mean_cost")), "total_cost": _f(row.get("total_cost"))}
    if latency_threshold_ms is not None:
        out["under"] = int(row.get("under") or 0)
        out["timed"] = int(row.get("timed") or 0)
    if out["n"] == 0:
        out.update(p50=None, p95=None, p99=None)
    return out


def confusion(store, project: str, scope: dict | None, start_us: int, end_us: int,
              positive: str = "1") -> dict[str, int]:
    """Confusion counts of labelled predictions in the window (latest label per request wins)."""
    d = store.dialect
    where, params = scope_where(store, scope, start_us, end_us, alias="p")
    pos = str(positive)
    rows = store.rows(
        f"""WITH l AS (
                SELECT k AS request_id, label FROM ({winning_labels(
                    where=f" AND request_id IN (SELECT p.request_id FROM predictions p WHERE p.project = ? AND {where})")})
                AS winning
            )
            SELECT {d.count_if('p.output_label = ? AND l.label = ?')} AS tp,
                   {d.count_if('p.output_label = ? AND l.label <> ?')} AS fp,
                   {d.count_if('p.output_label <> ? AND l.label = ?')} AS fn,
                   {d.count_if('p.output_label <> ? AND l.label <> ?')} AS tn,
                   {d.count_if('p.output_label = l.label')} AS correct,
                   count(*) AS labelled
            FROM predictions p JOIN l ON l.request_id = p.request_id
            WHERE p.project = ? AND {where}""",
        [project, project, *params, pos, pos, pos, pos, pos, pos, pos, pos, project, *params],
    )
    row = rows[0] if rows else {}
    return {k: int(row.get(k) or 0) for k in ("tp", "fp", "fn", "tn", "correct", "labelled")}


def missing_rate(store, project: str, scope: dict | None, start_us: int, end_us: int, feature: str) -> float | None:
    """Share of predictions with a logged payload whose ``feature`` is null or absent."""
    d = store.dialect
    where, params = scope_where(store, scope, start_us, end_us)
    rows = store.rows(
        f"""SELECT count(*) AS n, {d.count_if(f"{d.json_str('inputs', feature)} IS NULL")} AS missing
            FROM predictions WHERE project = ? AND inputs IS NOT NULL AND {where}""",
        [project, *params],
    )
    n = int(rows[0]["n"] or 0) if rows else 0
    return (int(rows[0]["missing"] or 0) / n) if n else None


def samples(store, project: str, scope: dict | None, start_us: int, end_us: int, *, limit: int = 50,
            positive: str | None = None, kind: str = "any") -> list[dict[str, Any]]:
    """Predictions worth preserving for an incident: errors, false positives, then the rest, newest first."""
    d = store.dialect
    where, params = scope_where(store, scope, start_us, end_us, alias="p")
    pos = str(positive if positive is not None else "1")
    rows = store.rows(
        f"""WITH l AS (
                SELECT k AS request_id, label FROM ({winning_labels(
                    where=f" AND request_id IN (SELECT p.request_id FROM predictions p WHERE p.project = ? AND {where})")})
                AS winning
            )
            SELECT p.request_id AS request_id, p.model AS model, p.model_version AS model_version,
                   p.release_id AS release_id, {d.epoch_us('p.ts')} AS ts_us, p.inputs AS inputs,
                   p.output_label AS output_label, p.output_value AS output_value, p.score AS score,
                   l.label AS label, p.error AS error, p.latency_ms AS latency_ms, p.segment AS segment,
                   CASE WHEN p.error IS NOT NULL THEN 0
                        WHEN p.output_label = ? AND l.label IS NOT NULL AND l.label <> ? THEN 1
                        WHEN l.label IS NOT NULL AND p.output_label <> l.label THEN 2
                        ELSE 3 END AS priority
            FROM predictions p LEFT JOIN l ON l.request_id = p.request_id
            WHERE p.project = ? AND {where}
            ORDER BY priority, p.ts DESC, p.request_id LIMIT {int(limit)}""",
        [project, project, *params, pos, pos, project, *params],
    )
    return rows


def shadow_disagreement(store, project: str, primary: dict, shadow: dict, start_us: int, end_us: int,
                        join: str = "request_id") -> dict[str, Any]:
    """Pairs of predictions from two scopes on identical inputs and how often their outputs differ.

    ``join`` is ``request_id`` (the shadow was called with the same request id) or ``inputs`` (the
    same input payload, compared as text; one prediction per payload on each side).
    """
    if join not in ("request_id", "inputs"):
        raise ValueError("join must be 'request_id' or 'inputs'")
    wa, pa = scope_where(store, primary, start_us, end_us)
    wb, pb = scope_where(store, shadow, start_us, end_us)
    key = "request_id" if join == "request_id" else "inputs"
    d = store.dialect
    rows = store.rows(
        f"""WITH a AS (SELECT {key} AS k, min(output_label) AS out, min(output_value) AS val FROM predictions
                       WHERE project = ? AND {key} IS NOT NULL AND {wa} GROUP BY {key}),
                 b AS (SELECT {key} AS k, min(output_label) AS out, min(output_value) AS val FROM predictions
                       WHERE project = ? AND {key} IS NOT NULL AND {wb} GROUP BY {key})
            SELECT count(*) AS pairs,
                   {d.count_if("coalesce(a.out, '') <> coalesce(b.out, '') OR coalesce(a.val, 0) <> coalesce(b.val, 0)")} AS differ
            FROM a JOIN b ON a.k = b.k""",
        [project, *pa, project, *pb],
    )
    pairs = int(rows[0]["pairs"] or 0) if rows else 0
    differ = int(rows[0]["differ"] or 0) if rows else 0
    return {"pairs": pairs, "differ": differ, "rate": (differ / pairs) if pairs else None, "join": join}


def models_seen(store, project: str, start_us: int, end_us: int) -> list[str]:
    d = store.dialect
    rows = store.rows(
        f"SELECT DISTINCT model FROM predictions WHERE project = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()} ORDER BY model",
        [project, int(start_us), int(end_us)],
    )
    return [r["model"] for r in rows]


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if value != value else value
