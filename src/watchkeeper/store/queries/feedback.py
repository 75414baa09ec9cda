"""Product feedback per model / release / cohort, joined to predictions in the store.

A feedback event joins the prediction with the same ``request_id`` (or, when it has none, the
same ``trace_id``). Each kind is counted per prediction: ``requests_with`` is how many distinct
predictions received at least one event of that kind, so a user clicking thumbs-down twice counts
once. Thumbs are split by value: ``up`` (1, true, up, +1, yes, positive, 👍) and ``down`` (0, -1,
false, down, no, negative, 👎).
"""

from __future__ import annotations

from typing import Any

from .quality import _numeric, group_expr

UP = ("1", "1.0", "true", "up", "+1", "yes", "positive", "👍")
DOWN = ("0", "0.0", "-1", "-1.0", "false", "down", "no", "negative", "👎")


def _in(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def feedback_rates(store, project: str, model: str, *, since_us: int, until_us: int,
                   by: str = "model_version") -> list[dict[str, Any]]:
    """Per (grp, kind): predictions in the group, events, distinct predictions with an event, up/down."""
    d = store.dialect
    grp = group_expr(d, by)
    sql = f"""
    WITH p AS (SELECT p.request_id AS request_id, p.trace_id AS trace_id, {grp} AS grp FROM predictions AS p
               WHERE p.project = ? AND p.model = ? AND p.ts >= {d.ts_param()} AND p.ts < {d.ts_param()}),
    f AS (SELECT request_id, trace_id, kind, lower(coalesce(value, '')) AS v FROM feedback WHERE project = ?),
    hits AS (
        SELECT p.grp AS grp, p.request_id AS rid, f.kind AS kind, f.v AS v
        FROM p JOIN f ON f.request_id = p.request_id
        UNION ALL
        SELECT p.grp AS grp, p.request_id AS rid, f.kind AS kind, f.v AS v
        FROM p JOIN f ON f.request_id IS NULL AND p.trace_id IS NOT NULL AND f.trace_id = p.trace_id
    ),
    totals AS (SELECT grp, count(*) AS predictions FROM p GROUP BY grp),
    per AS (SELECT grp, kind, count(*) AS events, count(DISTINCT rid) AS requests_with,
                   {d.count_if(f'v IN ({_in(UP)})')} AS up, {d.count_if(f'v IN ({_in(DOWN)})')} AS down
            FROM hits GROUP BY grp, kind)
    SELECT totals.grp AS grp, totals.predictions AS predictions, per.kind AS kind, per.events AS events,
           per.requests_with AS requests_with, per.up AS up, per.down AS down
    FROM totals LEFT JOIN per ON per.grp = totals.grp ORDER BY grp, kind"""
    return _numeric(store.rows(sql, [project, model, since_us, until_us, project]))
