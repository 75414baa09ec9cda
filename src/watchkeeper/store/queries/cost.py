"""Cost per request, P95 latency and cost per correct prediction, aggregated in the store.

A prediction's cost is, in order of preference:

1. its explicit ``cost`` field;
2. tokens x the model's price: ``input_tokens``, ``output_tokens`` and ``cached_tokens`` sent as
   extra top-level fields of the prediction (stored in ``extra``), priced per 1,000 tokens by the
   model's row in the price table (``meta_prices``, set with ``PUT /api/v1/prices/{model}``);
3. compute time x rate: ``latency_ms`` / 1000 x the price row's ``compute_per_s``.

Prices come from the metadata store and are inlined as numeric literals (the event store may be
another database). A *correct* prediction is a labelled one whose normalised class equals its
label's (see ``queries/quality.py``); cost per correct prediction divides the cost of the
labelled predictions by their correct count, so unlabelled traffic does not inflate it.
"""

from __future__ import annotations

from typing import Any

from .quality import _dedup, _norm, _numeric, group_expr, joined


def price_expr(d, price: dict | None, alias: str = "p") -> str:
    """SQL for one prediction's cost under ``price`` (a meta_prices row, or None)."""
    price = price or {}

    def lit(name: str) -> str:
        value = price.get(name)
        return repr(float(value)) if value is not None else "NULL"

    extra = f"{alias}.extra"
    tokens = (f"(coalesce({d.json_num(extra, 'input_tokens')}, 0) * {lit('input_per_1k')} + "
              f"coalesce({d.json_num(extra, 'output_tokens')}, 0) * coalesce({lit('output_per_1k')}, 0) + "
              f"coalesce({d.json_num(extra, 'cached_tokens')}, 0) * coalesce({lit('cached_per_1k')}, {lit('input_per_1k')}, 0)"
              f") / 1000.0")
    has_tokens = (f"({d.json_num(extra, 'input_tokens')} IS NOT NULL OR {d.json_num(extra, 'output_tokens')} IS NOT NULL)")
    compute = f"{alias}.latency_ms / 1000.0 * {lit('compute_per_s')}"
    return (f"coalesce({alias}.cost, CASE WHEN {has_tokens} AND {lit('input_per_1k')} IS NOT NULL THEN {tokens} END, "
            f"{compute})")


def cost_series(store, project: str, model: str, *, since_us: int, until_us: int, step_us: int | None,
                by: str = "model_version", price: dict | None = None) -> list[dict[str, Any]]:
    """Per (t_us, grp): requests, cost, P95 latency, labelled and correct counts, cost of labelled."""
    d = store.dialect
    cte, _ = joined(d, by=by, step_us=step_us, since_us=since_us)
    # the joined CTE keeps cost/latency/extra of each prediction; recompute the effective cost on it
    cost = price_expr(d, price, alias="j")
    sql = f"""{cte},
    c AS (SELECT t_us, grp, has_label, CASE WHEN has_label = 1 AND pc = lc THEN 1 ELSE 0 END AS correct,
                 latency_ms, {cost} AS eff_cost FROM j)
    SELECT t_us, grp, count(*) AS n, {d.count_if('eff_cost IS NOT NULL')} AS costed, sum(eff_cost) AS cost,
           {d.quantiles('latency_ms', [0.95])} AS q, sum(has_label) AS labelled, sum(correct) AS correct,
           sum(CASE WHEN has_label = 1 THEN eff_cost END) AS labelled_cost
    FROM c GROUP BY t_us, grp ORDER BY t_us, grp"""
    rows = _numeric(store.rows(sql, [project, project, project, model, since_us, until_us]))
    for row in rows:
        q = list(row.pop("q") or [None])
        row["p95_latency_ms"] = None if q[0] is None or q[0] != q[0] else float(q[0])
    return rows


def tiered(store, project: str, cheap: str, expensive: str, *, since_us: int, until_us: int,
           cheap_price: dict | None = None, expensive_price: dict | None = None,
           by: str = "all") -> list[dict[str, Any]]:
    """A cheap model on all traffic with an expensive fallback on some requests (same request_id).

    Per group: requests, escalations, labelled, correct of the cheap model alone, correct of the
    tiered answer (the fallback's when escalated), the same two on the escalated subset, and costs.
    """
    d = store.dialect
    grp = group_expr(d, by)
    pred = "coalesce(nullif({a}.output_label, ''), CASE WHEN {a}.score >= 0.5 THEN '1' WHEN {a}.score IS NOT NULL THEN '0' END)"
    ci = d.count_if
    sql = f"""
    WITH lr AS ({_dedup('?', 'request_id', '')}),
    e AS (SELECT request_id, {_norm(pred.format(a='p'))} AS pe, {price_expr(d, expensive_price)} AS ecost
          FROM predictions AS p WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()}),
    c AS (SELECT p.request_id AS request_id, {grp} AS grp, {_norm(pred.format(a='p'))} AS pc,
                 {price_expr(d, cheap_price)} AS ccost
          FROM predictions AS p WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}),
    t AS (SELECT c.grp AS grp, c.pc AS pc, e.pe AS pe, c.ccost AS ccost, e.ecost AS ecost,
                 CASE WHEN e.request_id IS NOT NULL THEN 1 ELSE 0 END AS esc,
                 CASE WHEN lr.k IS NOT NULL THEN 1 ELSE 0 END AS lab, {_norm('lr.label')} AS lc
          FROM c LEFT JOIN e ON e.request_id = c.request_id LEFT JOIN lr ON lr.k = c.request_id)
    SELECT grp, count(*) AS n, sum(esc) AS escalated, sum(lab) AS labelled,
           {ci('lab = 1 AND pc = lc')} AS cheap_correct,
           {ci('lab = 1 AND coalesce(pe, pc) = lc')} AS tiered_correct,
           {ci('lab = 1 AND esc = 1')} AS escalated_labelled,
           {ci('lab = 1 AND esc = 1 AND pc = lc')} AS escalated_cheap_correct,
           {ci('lab = 1 AND esc = 1 AND pe = lc')} AS escalated_expensive_correct,
           sum(ccost) AS cheap_cost, sum(CASE WHEN esc = 1 THEN ecost END) AS fallback_cost
    FROM t GROUP BY grp ORDER BY grp"""
    params = [project, project, expensive, since_us, project, cheap, since_us, until_us]
    return _numeric(store.rows(sql, params))


def span_cost(store, project: str, *, since_us: int, until_us: int, step_us: int) -> list[dict[str, Any]]:
    """LLM spans per (t_us, model): calls, tokens and the cost the spans carry (traces feature)."""
    d = store.dialect
    sql = f"""SELECT {d.bucket_us('ts', step_us)} AS t_us, model, count(*) AS calls, sum(input_tokens) AS input_tokens,
                     sum(output_tokens) AS output_tokens, sum(cost) AS cost, {d.count_if('cost IS NULL')} AS uncosted,
                     {d.quantiles('duration_ms', [0.95])} AS q
              FROM (SELECT trace_id, span_id, max(ts) AS ts, max(model) AS model, max(input_tokens) AS input_tokens,
                           max(output_tokens) AS output_tokens, max(cost) AS cost, max(duration_ms) AS duration_ms
                    FROM spans WHERE project = ? AND kind = 'llm' AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
                    GROUP BY trace_id, span_id) AS s
              GROUP BY t_us, model ORDER BY t_us, model"""
    rows = _numeric(store.rows(sql, [project, since_us, until_us]))
    for row in rows:
        q = list(row.pop("q") or [None])
        row["p95_latency_ms"] = None if q[0] is None or q[0] != q[0] else float(q[0])
    return rows
