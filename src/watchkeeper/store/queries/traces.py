"""Trace queries over the ``spans`` table, written once for DuckDB and ClickHouse.

Duplicates: a retried export may have stored a span twice, so every query here dedupes on
(trace_id, span_id): aggregates read from a ``GROUP BY trace_id, span_id`` subquery, the trace
list groups root spans by trace, and row fetches dedupe in Python.

Listing: the page is chosen from root spans only (``is_root = 1``: no parent, or a remote one),
newest first, with filters as semi-joins (``trace_id IN (SELECT trace_id FROM spans WHERE ...)``)
so a filter on a child span (model, prompt version, index version, errors, attributes) still
selects its trace. Summaries are then computed for the page's trace ids only.
"""

from __future__ import annotations

from typing import Any, Sequence

SPAN_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "is_root", "name", "kind", "span_kind", "service", "scope",
    "duration_ms", "status", "status_message", "error_type", "model", "provider", "operation", "input_tokens",
    "output_tokens", "cost", "finish_reason", "prompt_template", "prompt_version", "request_id", "model_id",
    "index_version", "policy_version", "session_id", "tool_name", "ttft_ms", "flags", "input", "output", "details",
    "attributes", "events", "resource",
)
CONTEXT = ("request_id", "model_id", "prompt_version", "index_version", "policy_version")
FILTER_COLUMNS = ("model", "provider", "service", "session_id", "tool_name", "kind", "name") + CONTEXT


def _dedupe(rows: list[dict]) -> list[dict]:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row["span_id"] not in seen:
            seen.add(row["span_id"])
            out.append(row)
    return out


WINDOWS_S = (300, 3600, 86_400)  # newest-first pages try these look-back windows before scanning everything


def list_traces(store, project: str, *, since_us: int | None = None, until_us: int | None = None,
                limit: int = 50, after: tuple[int, str] | None = None, **filters: Any) -> list[dict]:
    """A page of traces, newest first: trace_id, start_us, duration_ms, name, service.

    Without ``since``, the page is first looked for in the last 5 minutes before ``until`` (or the
    cursor), then the last hour, then the last day, then everywhere: a page found in a window is
    exactly the newest page, and the common case scans a small slice of the table.
    """
    if since_us is None:
        from ...ingest.timestamps import now_us

        top = after[0] + 1 if after is not None else (until_us if until_us is not None else now_us() + 60_000_000)
        for window in WINDOWS_S:
            rows = _list(store, project, since_us=top - window * 1_000_000, until_us=until_us, limit=limit,
                         after=after, **filters)
            if len(rows) >= limit:
                return rows
    return _list(store, project, since_us=since_us, until_us=until_us, limit=limit, after=after, **filters)


def _list(store, project: str, *, since_us: int | None = None, until_us: int | None = None,
          filters: dict[str, str] | None = None, status: str | None = None,
          min_latency_ms: float | None = None, attributes: Sequence[tuple[str, str]] = (),
          text: str | None = None, limit: int = 50, after: tuple[int, str] | None = None) -> list[dict]:
    d = store.dialect
    where, params = ["project = ?", "is_root = 1"], [project]
    if since_us is not None:
        where.append(f"ts >= {d.ts_param()}")
        params.append(since_us)
    if until_us is not None:
        where.append(f"ts < {d.ts_param()}")
        params.append(until_us)

    def semi(cond: str, values: list, negate: bool = False) -> None:
        sub = f"SELECT trace_id FROM spans WHERE project = ? AND {cond}"
        sub_params: list = [project, *values]
        if since_us is not None:
            sub += f" AND ts >= {d.ts_param()}"
            sub_params.append(since_us)
        where.append(f"trace_id {'NOT IN' if negate else 'IN'} ({sub})")
        params.extend(sub_params)

    for column, value in (filters or {}).items():
        if column not in FILTER_COLUMNS:
            raise ValueError(f"cannot filter traces on {column!r}")
        semi(f"{column} = ?", [value])
    if status == "error":
        semi("status = 'error'", [])
    elif status == "ok":
        semi("status = 'error'", [], negate=True)
    for key, value in attributes:
        semi(f"{d.json_str('attributes', key)} = ?", [value])
    if text:
        like = f"%{text.lower()}%"
        semi("(lower(name) LIKE ? OR lower(attributes) LIKE ? OR lower(coalesce(input, '')) LIKE ? "
             "OR lower(coalesce(output, '')) LIKE ?)", [like, like, like, like])
    having, hparams = [], []
    if min_latency_ms is not None:
        having.append("max(duration_ms) >= ?")
        hparams.append(float(min_latency_ms))
    if after is not None:
        having.append(f"(min(ts) < {d.ts_param()} OR (min(ts) = {d.ts_param()} AND trace_id < ?))")
        hparams.extend([after[0], after[0], after[1]])
    sql = (f"SELECT trace_id, {d.epoch_us('min(ts)')} AS start_us, max(duration_ms) AS duration_ms, "
           f"min(name) AS name, min(service) AS service FROM spans WHERE {' AND '.join(where)} GROUP BY trace_id")
    if having:
        sql += " HAVING " + " AND ".join(having)
    sql += f" ORDER BY start_us DESC, trace_id DESC LIMIT {int(limit)}"
    return store.rows(sql, params + hparams)


def summaries(store, project: str, trace_ids: Sequence[str]) -> dict[str, dict]:
    """Per trace: span and error counts, tokens, cost, models, time span, TTFT and the versions that served it."""
    if not trace_ids:
        return {}
    d = store.dialect
    ctx = ", ".join(f"max({c}) AS {c}" for c in CONTEXT)
    sql = f"""
        SELECT trace_id, count(*) AS spans, {d.count_if("status = 'error'")} AS errors,
               sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost,
               {d.epoch_us('min(ts)')} AS start_us, {d.epoch_us('max(end_ts)')} AS end_us,
               {d.array_agg_distinct('model')} AS models, {d.array_agg_distinct('kind')} AS kinds,
               min(ttft_ms) AS ttft_ms, {ctx}
        FROM (SELECT trace_id, span_id, max(status) AS status, max(input_tokens) AS input_tokens,
                     max(output_tokens) AS output_tokens, max(cost) AS cost, min(ts) AS ts, max(end_ts) AS end_ts,
                     max(model) AS model, max(kind) AS kind, min(ttft_ms) AS ttft_ms, {ctx}
              FROM spans WHERE project = ? AND trace_id IN {d.in_list()} GROUP BY trace_id, span_id) AS s
        GROUP BY trace_id
    """
    out = {}
    for row in store.rows(sql, [project, list(trace_ids)]):
        row["models"] = [m for m in (row["models"] or []) if m]
        row["kinds"] = [k for k in (row["kinds"] or []) if k]
        for key in ("spans", "errors", "input_tokens", "output_tokens"):
            row[key] = int(row[key]) if row[key] is not None else None
        out[row["trace_id"]] = row
    return out


def roots(store, project: str, trace_id: str) -> list[dict]:
    d = store.dialect
    return _dedupe(store.rows(
        f"SELECT span_id, name, service, duration_ms, status, {d.epoch_us('ts')} AS ts_us FROM spans "
        "WHERE project = ? AND trace_id = ? AND is_root = 1 ORDER BY ts, span_id", [project, trace_id]))


def skeleton(store, project: str, trace_id: str) -> list[dict]:
    """Every span of a trace as (span_id, parent_span_id, ts_us): enough to order a tree of any size."""
    d = store.dialect
    return _dedupe(store.rows(
        f"SELECT span_id, parent_span_id, {d.epoch_us('ts')} AS ts_us FROM spans WHERE project = ? AND trace_id = ?",
        [project, trace_id]))


def spans(store, project: str, trace_id: str, span_ids: Sequence[str] | None = None,
          kinds: Sequence[str] | None = None, limit: int = 10_000) -> list[dict]:
    """Full rows of some spans of a trace (by id, or by kind), start time as ``ts_us``/``end_us``."""
    d = store.dialect
    sql = (f"SELECT {', '.join(SPAN_COLUMNS)}, {d.epoch_us('ts')} AS ts_us, {d.epoch_us('end_ts')} AS end_us "
           "FROM spans WHERE project = ? AND trace_id = ?")
    params: list[Any] = [project, trace_id]
    if span_ids is not None:
        sql += f" AND span_id IN {d.in_list()}"
        params.append(list(span_ids))
    if kinds is not None:
        sql += f" AND kind IN {d.in_list()}"
        params.append(list(kinds))
    sql += f" ORDER BY ts, span_id LIMIT {int(limit)}"
    return _dedupe(store.rows(sql, params))


def spans_by_trace(store, project: str, trace_ids: Sequence[str], kinds: Sequence[str] | None = None,
                   chunk: int = 200) -> dict[str, list[dict]]:
    """``spans`` for many traces at once (one query per ``chunk`` traces instead of one per trace)."""
    d = store.dialect
    out: dict[str, list[dict]] = {}
    ids = list(dict.fromkeys(trace_ids))
    for i in range(0, len(ids), chunk):
        sql = (f"SELECT {', '.join(SPAN_COLUMNS)}, {d.epoch_us('ts')} AS ts_us, {d.epoch_us('end_ts')} AS end_us "
               f"FROM spans WHERE project = ? AND trace_id IN {d.in_list()}")
        params: list[Any] = [project, ids[i:i + chunk]]
        if kinds is not None:
            sql += f" AND kind IN {d.in_list()}"
            params.append(list(kinds))
        sql += " ORDER BY trace_id, ts, span_id"
        for row in store.rows(sql, params):
            out.setdefault(row["trace_id"], []).append(row)
    return {t: _dedupe(rows) for t, rows in out.items()}


def latency(store, project: str, *, since_us: int, until_us: int, bucket_s: int,
            model: str | None = None, kind: str = "llm") -> list[dict]:
    """P50/P95/P99 of span duration and time to first token, per model per time bucket."""
    d = store.dialect
    step = int(bucket_s) * 1_000_000
    cond, params = "", [project, kind, since_us, until_us]
    if model:
        cond = " AND model = ?"
        params.append(model)
    rows = store.rows(
        f"""
        SELECT model, {d.bucket_us('ts', step)} AS t_us, count(*) AS count, {d.count_if("status = 'error'")} AS errors,
               {d.quantiles('duration_ms', [0.5, 0.95, 0.99])} AS q, {d.quantiles('ttft_ms', [0.5, 0.95, 0.99])} AS qt
        FROM (SELECT trace_id, span_id, max(model) AS model, min(ts) AS ts, max(status) AS status,
                     max(duration_ms) AS duration_ms, min(ttft_ms) AS ttft_ms
              FROM spans WHERE project = ? AND kind = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}{cond}
              GROUP BY trace_id, span_id) AS s
        GROUP BY model, t_us ORDER BY model, t_us
        """, params)
    for row in rows:
        for src, prefix in (("q", "latency"), ("qt", "ttft")):
            q = list(row.pop(src) or []) or [None, None, None]
            for name, v in zip(("p50", "p95", "p99"), q):
                row[f"{prefix}_{name}_ms"] = None if v is None or v != v else v
        row["count"], row["errors"] = int(row["count"]), int(row["errors"])
    return rows
