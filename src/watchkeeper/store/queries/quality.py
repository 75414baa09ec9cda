"""Quality from delayed labels, aggregated inside the store.

Each task has one query per request, joining predictions to their winning labels once: it
returns a few rows per (time bucket, group) of sums (confusion counts, sums of errors, rank sums
for ROC AUC, calibration bins) that add up to the whole window's. Python
(``monitors/quality.py``) turns these small arrays into metrics and intervals; no per-prediction
row leaves the store.

Joining labels to predictions
-----------------------------
* A label joins the prediction with the same ``request_id`` in the same project, whichever arrived
  first; a label is kept forever, so one posted before its prediction joins when the prediction
  shows up. A label that names a ``model`` joins only that model's prediction.
* LLM requests: a label whose ``trace_id`` equals the prediction's ``trace_id`` also joins (used
  when the label carries no matching request id).
* Duplicate labels for one request id: **the label with the latest ``timestamp`` wins; ties go to
  the one received last (``received_at``), then to the greater label text** (so the result is
  deterministic). A correction is therefore posted as a new label with a later timestamp.
* Predictions are bucketed by *their* timestamp: a bucket's quality is the quality of the
  predictions made in it, whenever their labels came.

Classes are compared after normalising ``1/1.0/true/yes/positive/pos`` to ``1`` and
``0/0.0/false/no/negative/neg`` to ``0``; the positive class defaults to ``1``.
"""

from __future__ import annotations

import re
from typing import Any

from .labels import winning_labels

_GROUPS = {"model_version": "p.model_version", "version": "p.model_version", "release": "coalesce(p.release_id, '')",
           "model": "p.model", "all": "''"}

POS_WORDS = ("1", "1.0", "true", "yes", "positive", "pos")
NEG_WORDS = ("0", "0.0", "false", "no", "negative", "neg")


def group_expr(d, by: str) -> str:
    """SQL for a grouping key: ``model_version``, ``release``, ``model``, ``all`` or ``segment:KEY``."""
    if by in _GROUPS:
        return _GROUPS[by]
    if by.startswith("segment:") and len(by) > 8:
        return f"coalesce({d.json_str('p.segment', by[8:])}, '')"
    raise ValueError(f"unknown grouping {by!r}; use model_version, release, model, all or segment:KEY")


_SAFE_CLASS = re.compile(r"^[A-Za-z0-9_.:/ -]{1,64}$")


def literal_class(value: str) -> str:
    """The positive class as a SQL literal, after the same normalisation as the data."""
    text = str(value)
    if not _SAFE_CLASS.match(text):
        raise ValueError(f"positive class {text[:70]!r} must be 1-64 letters, digits, spaces or _.:/-")
    low = text.lower()
    text = "1" if low in POS_WORDS else "0" if low in NEG_WORDS else text
    return "'" + text + "'"


def _norm(expr: str) -> str:
    # '1' and '0' first (most rows), then one CASE over lower(): cheaper than IN lists, which
    # DuckDB runs as a join per list
    words = " ".join(f"WHEN '{w}' THEN '1'" for w in POS_WORDS) + " " + " ".join(f"WHEN '{w}' THEN '0'" for w in NEG_WORDS)
    return f"(CASE WHEN {expr} = '1' OR {expr} = '0' THEN {expr} ELSE (CASE lower({expr}) {words} ELSE {expr} END) END)"


def _dedup(project_param: str, key: str, where: str) -> str:
    """The winning label per ``key`` (see queries/labels.py); ``project_param`` must be ``?``."""
    assert project_param == "?"
    return winning_labels(key, where)


def joined(d, *, by: str, step_us: int | None, since_us: int, threshold: float = 0.5) -> tuple[str, int]:
    """The CTEs ``lr``, ``lt`` and ``j`` (one row per prediction with its winning label, if any).

    Parameters, in order: project (labels by request), project (labels by trace), project, model,
    since, until. Returns (sql, number of parameters).
    """
    bucket = d.bucket_us("p.ts", step_us) if step_us else f"CAST({int(since_us)} AS BIGINT)"
    pred_cls = (f"coalesce(nullif(p.output_label, ''), CASE WHEN p.score >= {float(threshold)!r} THEN '1' "
                f"WHEN p.score IS NOT NULL THEN '0' END)")
    lab = "coalesce(lr.label, lt.label)"
    sql = f"""
    WITH lr AS ({_dedup('?', 'request_id', '')}),
    lt AS ({_dedup('?', 'trace_id', ' AND trace_id IS NOT NULL')}),
    j AS (
        SELECT {bucket} AS t_us, {group_expr(d, by)} AS grp,
               p.output_label AS output_label, p.output_value AS output_value, p.score AS score,
               p.cost AS cost, p.latency_ms AS latency_ms, p.extra AS extra, p.request_id AS request_id,
               {_norm(pred_cls)} AS pc, {_norm(lab)} AS lc, {lab} AS label,
               coalesce(lr.label_value, lt.label_value) AS label_value,
               CASE WHEN lr.k IS NOT NULL OR lt.k IS NOT NULL THEN 1 ELSE 0 END AS has_label
        FROM predictions AS p
        LEFT JOIN lr ON lr.k = p.request_id AND (lr.l_model IS NULL OR lr.l_model = p.model)
        LEFT JOIN lt ON p.trace_id IS NOT NULL AND lt.k = p.trace_id AND (lt.l_model IS NULL OR lt.l_model = p.model)
        WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}
    )"""
    return sql, 6


def _params(project: str, model: str, since_us: int, until_us: int) -> list[Any]:
    return [project, project, project, model, since_us, until_us]


def task_hint(store, project: str, model: str, since_us: int, until_us: int) -> dict[str, int]:
    """Counts that tell the task apart: scored, list outputs (ranking), numeric outputs (regression)."""
    d = store.dialect
    rows = store.rows(
        f"""SELECT count(*) AS n, {d.count_if('score IS NOT NULL')} AS scored,
                   {d.count_if("output_label LIKE '[%'")} AS lists,
                   {d.count_if("(output_label IS NULL OR output_label = '') AND output_value IS NOT NULL")} AS numeric
            FROM predictions WHERE project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}""",
        [project, model, since_us, until_us],
    )
    return {k: int(v or 0) for k, v in rows[0].items()} if rows else {"n": 0, "scored": 0, "lists": 0, "numeric": 0}


CBPE_AUC_LEVELS = 1000  # score levels per unit for the CBPE expected ROC AUC (pairs within a level count half)


def classification(store, project: str, model: str, *, since_us: int, until_us: int, step_us: int | None,
                   by: str = "model_version", positive: str = "1", threshold: float = 0.5, bins: int = 10,
                   whole_window: bool = False) -> list[dict[str, Any]]:
    """Every classification aggregate of a request from one join of predictions and labels.

    The joined rows (``f``) are computed once (materialised on DuckDB) and read by three
    aggregations: counts per flag combination, a score-level histogram and a rank window. The
    result has one row per (t_us, grp, bin), ``bin`` being the equal-width calibration bin of the
    score (NULL for unscored rows). The ``SUMMED`` columns add up: a bucket is the sum of its bins,
    the whole window the sum of its buckets.

    * ``n labelled tp fp fn tn correct scored brier brier_sq``: counts and Brier sums;
    * ``e_npp e_npn e_tp e_tp_var e_fn e_fn_var``: CBPE sums (expected confusion counts);
    * ``cal_pos cal_sum``: labelled positives and score sum of the labelled scored rows (ECE;
      summed over the bins, ``cal_pos`` and ``scored - cal_pos`` are ROC AUC's class sizes);
    * ``e_pos e_neg``: sums of score and of 1 - score over every scored row.

    Per (t_us, grp), repeated on each of its bins:

    * ``rank_pos``: twice the sum of the midranks (ties share) of the labelled positives among the
      labelled scored rows of the bucket, so the exact Mann-Whitney U is
      ``(rank_pos - n_pos * (n_pos + 1)) / 2``;
    * ``eu``: the CBPE expected U of the bucket's scored rows, each a positive of weight score
      and a negative of weight 1 - score, over ``CBPE_AUC_LEVELS`` score levels per unit (pairs
      within one level count half, as ties do);
    * with ``whole_window`` (several buckets), the parts of the same within the whole group, to
      be summed over its buckets: ``g_rank_pos`` (midranks within the group) and ``g_ea g_eb``
      (the group's expected U is ``(g_ea - g_eb + e_pos * e_neg) / 2``).
    """
    d = store.dialect
    cte, _ = joined(d, by=by, step_us=step_us, since_us=since_us, threshold=threshold)
    pos = literal_class(positive)
    b, k = int(bins), int(CBPE_AUC_LEVELS)

    def cnt(cond: str) -> str:
        return f"sum(CASE WHEN {cond} THEN n ELSE 0 END)"

    whole = bool(whole_window)
    # DuckDB would otherwise keep the wide joined rows for the several readers of f; ClickHouse
    # runs f (and so the join) once per reader
    keep = "MATERIALIZED " if d.name == "duckdb" else ""
    peers = "ORDER BY score RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    ranks = [f"rank() OVER (PARTITION BY {part} ORDER BY score) + count(*) OVER (PARTITION BY {part} {peers}) AS {p}r2"
             for p, part in (("", "t_us, grp"), ("g_", "grp"))[:1 + whole]]
    ranked = f"""ranked AS (
        SELECT t_us, grp, {', '.join(f'sum(y * {p}r2) AS {p}rank_pos' for p in ('', 'g_')[:1 + whole])}
        FROM (SELECT t_us, grp, y, {', '.join(ranks)} FROM f WHERE hl = 1 AND score IS NOT NULL) AS r
        GROUP BY t_us, grp
    )"""
    # CBPE: per bucket, the levels are distinct, so "below" is the rows before; per group (summed
    # over the buckets later), U = (sum a * B(<=) - sum b * A(<=) + sum a * sum b) / 2 needs no tie term
    upto = "ORDER BY level RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    g_cum = (f", sum(b) OVER (PARTITION BY grp {upto}) AS g_b_upto, sum(a) OVER (PARTITION BY grp {upto}) AS g_a_upto"
             if whole else "")
    g_sums = ", sum(a * g_b_upto) AS g_ea, sum(b * g_a_upto) AS g_eb" if whole else ""
    before = "ORDER BY level ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    expected = f"""expected AS (
        SELECT t_us, grp, sum(a * (coalesce(lower_b, 0) + 0.5 * b)) AS eu{g_sums}
        FROM (SELECT t_us, grp, a, b, sum(b) OVER (PARTITION BY t_us, grp {before}) AS lower_b{g_cum}
              FROM hist) AS h
        GROUP BY t_us, grp
    )"""
    extra = ["ranked.rank_pos AS rank_pos", "expected.eu AS eu"]
    if whole:
        extra += ["ranked.g_rank_pos AS g_rank_pos", "expected.g_ea AS g_ea", "expected.g_eb AS g_eb"]
    score_in_range = "greatest(least(coalesce(score, 0), 1e9), -1e9)"
    y1 = "CASE WHEN y = 1 THEN 1.0 ELSE 0.0 END"
    sql = f"""{cte},
    f AS {keep}(
        SELECT t_us, grp, score, has_label AS hl,
               CASE WHEN pc = {pos} THEN 1 ELSE 0 END AS pp,
               CASE WHEN lc = {pos} THEN 1 WHEN lc IS NOT NULL THEN 0 END AS y,
               CASE WHEN has_label = 1 AND pc = lc THEN 1 ELSE 0 END AS ok,
               CASE WHEN score IS NOT NULL
                    THEN least(CAST(floor(coalesce(score, 0) * {b}) AS INTEGER), {b - 1}) END AS bin,
               CASE WHEN score IS NOT NULL THEN CAST(floor({score_in_range} * {k}) AS BIGINT) END AS level
        FROM j
    ),
    flags AS (
        SELECT t_us, grp, bin, hl, pp, y, ok, count(*) AS n, sum(score) AS s1, sum(1 - score) AS s0,
               sum(score * (1 - score)) AS sv, sum(pow(score - {y1}, 2)) AS e2, sum(pow(score - {y1}, 4)) AS e4
        FROM f GROUP BY t_us, grp, bin, hl, pp, y, ok
    ),
    c AS (
        SELECT t_us, grp, bin, sum(n) AS n, sum(hl * n) AS labelled,
               {cnt('hl = 1 AND pp = 1 AND y = 1')} AS tp, {cnt('hl = 1 AND pp = 1 AND y = 0')} AS fp,
               {cnt('hl = 1 AND pp = 0 AND y = 1')} AS fn, {cnt('hl = 1 AND pp = 0 AND y = 0')} AS tn,
               {cnt('hl = 1 AND ok = 1')} AS correct, {cnt('hl = 1 AND bin IS NOT NULL')} AS scored,
               sum(CASE WHEN hl = 1 THEN e2 END) AS brier, sum(CASE WHEN hl = 1 THEN e4 END) AS brier_sq,
               {cnt('bin IS NOT NULL AND pp = 1')} AS e_npp, {cnt('bin IS NOT NULL AND pp = 0')} AS e_npn,
               sum(CASE WHEN pp = 1 THEN s1 END) AS e_tp, sum(CASE WHEN pp = 1 THEN sv END) AS e_tp_var,
               sum(CASE WHEN pp = 0 THEN s1 END) AS e_fn, sum(CASE WHEN pp = 0 THEN sv END) AS e_fn_var,
               {cnt('hl = 1 AND bin IS NOT NULL AND y = 1')} AS cal_pos, sum(CASE WHEN hl = 1 THEN s1 END) AS cal_sum,
               sum(s1) AS e_pos, sum(s0) AS e_neg
        FROM flags GROUP BY t_us, grp, bin
    ),
    hist AS (
        SELECT t_us, grp, level, sum(score) AS a, sum(1 - score) AS b
        FROM f WHERE level IS NOT NULL GROUP BY t_us, grp, level
    ),
    {ranked},
    {expected}
    SELECT c.t_us AS t_us, c.grp AS grp, c.bin AS bin, {', '.join(f'c.{x} AS {x}' for x in SUMMED)},
           {', '.join(extra)}
    FROM c
    LEFT JOIN ranked ON ranked.t_us = c.t_us AND ranked.grp = c.grp
    LEFT JOIN expected ON expected.t_us = c.t_us AND expected.grp = c.grp
    ORDER BY t_us, grp, bin"""
    return _numeric(store.rows(sql, _params(project, model, since_us, until_us)))


SUMMED = ("n", "labelled", "tp", "fp", "fn", "tn", "correct", "scored", "brier", "brier_sq", "e_npp", "e_npn", "e_tp",
           "e_tp_var", "e_fn", "e_fn_var", "cal_pos", "cal_sum", "e_pos", "e_neg")


def regression(store, project: str, model: str, *, since_us: int, until_us: int, step_us: int | None,
               by: str = "model_version") -> list[dict[str, Any]]:
    """Error sums per (t_us, grp) for MAE, RMSE and MAPE with their normal intervals."""
    d = store.dialect
    cte, _ = joined(d, by=by, step_us=step_us, since_us=since_us)
    ok = "has_label = 1 AND output_value IS NOT NULL AND label_value IS NOT NULL"
    e = "(output_value - label_value)"
    ape = f"abs({e}) / abs(label_value)"
    sql = f"""{cte}
    SELECT t_us, grp, count(*) AS n, sum(has_label) AS labelled,
           {d.count_if(ok)} AS m,
           sum(CASE WHEN {ok} THEN abs({e}) END) AS abs_sum,
           sum(CASE WHEN {ok} THEN pow({e}, 2) END) AS sq_sum,
           sum(CASE WHEN {ok} THEN pow({e}, 4) END) AS quad_sum,
           {d.count_if(f'{ok} AND label_value <> 0')} AS m_nz,
           sum(CASE WHEN {ok} AND label_value <> 0 THEN {ape} END) AS ape_sum,
           sum(CASE WHEN {ok} AND label_value <> 0 THEN pow({ape}, 2) END) AS ape_sq_sum,
           {d.count_if(f'has_label = 1 AND NOT ({ok})')} AS unusable
    FROM j GROUP BY t_us, grp ORDER BY t_us, grp"""
    return _numeric(store.rows(sql, _params(project, model, since_us, until_us)))


# Ranking: a prediction's output is a JSON list of item ids, best first; its label is a JSON list
# of relevant item ids (relevance 1) or a JSON object {item id: graded relevance}. Lists need
# dialect-specific functions, so the per-row gain expressions are kept here per dialect.
_RANK = {
    "duckdb": {
        "P": "json_extract_string(output_label, '$[*]')",
        "K": ("CASE WHEN label LIKE '{%' THEN map_keys(CAST(CAST(label AS JSON) AS MAP(VARCHAR, DOUBLE))) "
              "ELSE json_extract_string(label, '$[*]') END"),
        "G": ("CASE WHEN label LIKE '{%' THEN map_values(CAST(CAST(label AS JSON) AS MAP(VARCHAR, DOUBLE))) "
              "ELSE list_transform(json_extract_string(label, '$[*]'), lambda x: 1.0) END"),
        "dcg": "coalesce(list_sum(list_transform(P[1:{k}], lambda x, i: coalesce(G[list_position(K, x)], 0) / log2(i + 1))), 0)",
        "idcg": "coalesce(list_sum(list_transform(list_reverse_sort(G)[1:{k}], lambda g, i: g / log2(i + 1))), 0)",
        "first": "coalesce(list_position(list_transform(P, lambda x: coalesce(G[list_position(K, x)], 0) > 0), true), 0)",
    },
    "clickhouse": {
        "P": "JSONExtract(ifNull(output_label, ''), 'Array(String)')",
        "K": ("if(startsWith(ifNull(label, ''), '{'), arrayMap(t -> t.1, JSONExtractKeysAndValues(ifNull(label, ''), 'Float64')), "
              "JSONExtract(ifNull(label, ''), 'Array(String)'))"),
        "G": ("if(startsWith(ifNull(label, ''), '{'), arrayMap(t -> t.2, JSONExtractKeysAndValues(ifNull(label, ''), 'Float64')), "
              "arrayMap(x -> 1.0, JSONExtract(ifNull(label, ''), 'Array(String)')))"),
        "dcg": ("arraySum(arrayMap((x, i) -> if(indexOf(K, x) > 0, G[indexOf(K, x)], 0) / log2(i + 1), "
                "arraySlice(P, 1, {k}), arrayEnumerate(arraySlice(P, 1, {k}))))"),
        "idcg": ("arraySum(arrayMap((g, i) -> g / log2(i + 1), arraySlice(arrayReverseSort(G), 1, {k}), "
                 "arrayEnumerate(arraySlice(arrayReverseSort(G), 1, {k}))))"),
        "first": "arrayFirstIndex(x -> if(indexOf(K, x) > 0, G[indexOf(K, x)], 0) > 0, P)",
    },
}


def ranking(store, project: str, model: str, *, since_us: int, until_us: int, step_us: int | None,
            by: str = "model_version", k: int = 10) -> list[dict[str, Any]]:
    """NDCG@k and reciprocal-rank sums per (t_us, grp). Rows without any relevant item are
    left out of NDCG (``no_relevant``) and count as reciprocal rank 0."""
    d = store.dialect
    f = _RANK["clickhouse" if d.name == "clickhouse" else "duckdb"]
    cte, _ = joined(d, by=by, step_us=step_us, since_us=since_us)
    k = int(k)
    ok = "has_label = 1 AND output_label LIKE '[%' AND (label LIKE '[%' OR label LIKE '{%')"
    sql = f"""{cte},
    r0 AS (SELECT t_us, grp, {f['P']} AS P, {f['K']} AS K, {f['G']} AS G FROM j WHERE {ok}),
    r1 AS (SELECT t_us, grp, {f['dcg'].format(k=k)} AS dcg, {f['idcg'].format(k=k)} AS idcg,
                  {f['first']} AS first_hit FROM r0),
    r AS (SELECT t_us, grp, CASE WHEN idcg > 0 THEN dcg / idcg END AS ndcg,
                 CASE WHEN first_hit > 0 THEN 1.0 / first_hit ELSE 0.0 END AS rr FROM r1),
    counts AS (SELECT t_us, grp, count(*) AS n, sum(has_label) AS labelled FROM j GROUP BY t_us, grp),
    agg AS (SELECT t_us, grp, count(*) AS m, {d.count_if('ndcg IS NOT NULL')} AS m_ndcg,
                   sum(ndcg) AS ndcg_sum, sum(pow(ndcg, 2)) AS ndcg_sq_sum,
                   sum(rr) AS rr_sum, sum(pow(rr, 2)) AS rr_sq_sum FROM r GROUP BY t_us, grp)
    SELECT counts.t_us AS t_us, counts.grp AS grp, counts.n AS n, counts.labelled AS labelled,
           coalesce(agg.m, 0) AS m, coalesce(agg.m_ndcg, 0) AS m_ndcg, agg.ndcg_sum AS ndcg_sum,
           agg.ndcg_sq_sum AS ndcg_sq_sum, agg.rr_sum AS rr_sum, agg.rr_sq_sum AS rr_sq_sum
    FROM counts LEFT JOIN agg ON agg.t_us = counts.t_us AND agg.grp = counts.grp
    ORDER BY t_us, grp"""
    return _numeric(store.rows(sql, _params(project, model, since_us, until_us)))


def _numeric(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decimal/None-safe: sums come back as int, float or Decimal depending on the backend."""
    for row in rows:
        for key, value in row.items():
            if key == "grp":
                continue
            if value is not None and not isinstance(value, (int, float, str, list, tuple, dict)):
                row[key] = float(value)
    return rows
