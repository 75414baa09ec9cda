"""Histograms of logged predictions against a reference's bin edges, counted inside the store.

One query per window covers every feature, the predicted class and the score: each numerical
feature is read out of the ``inputs`` JSON text, mapped to its reference bin by a balanced ``CASE``
tree over the bin edges (about log2(100) = 7 comparisons a value), and all features are counted in
one scan with ``GROUP BY GROUPING SETS ((b_1), (b_2), ...)``. Only ``features x bins`` small rows
come back to Python. The same SQL runs on DuckDB and ClickHouse (``GROUPING SETS`` and
``GROUPING()`` are standard in both); the one difference is how the JSON fields are read: DuckDB
parses the document once for all keys (``json_extract_string(inputs, [paths])``), ClickHouse runs its
per-key ``JSONExtract`` (simdjson). ``bench/online_drift_bench.py`` times this against the other
formulations tried (per-feature ``histogram()`` aggregates, an ASOF join against an edges table).

Bin layout (the profile's, ``monitors/profile.py``): bin ``j`` = number of edges ``<= x``, so
``0`` is below the reference range and ``len(edges)`` above it. Missing (null, not a number, NaN,
+-inf) counts as bin ``-1``; categorical missing is a NULL category.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
MISSING = -1


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"feature name {key!r} cannot be read from JSON inputs (letters, digits, _ . - only)")
    return key


def _lit(x: float) -> str:
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def bin_case(x: str, edges: Sequence[float]) -> str:
    """SQL giving the profile bin of ``x`` (``searchsorted(edges, x, 'right')``), -1 when missing."""
    e = [float(v) for v in edges]

    def tree(lo: int, hi: int) -> str:
        if lo == hi:
            return str(lo)
        mid = (lo + hi + 1) // 2  # x >= e[mid-1]  <=>  bin >= mid
        return f"CASE WHEN {x} < {_lit(e[mid - 1])} THEN {tree(lo, mid - 1)} ELSE {tree(mid, hi)} END"

    # NOT (x - x = 0) is true for NaN and +-inf on both engines (NaN compares differently in each).
    return f"CASE WHEN {x} IS NULL OR NOT ({x} - {x} = 0) THEN {MISSING} ELSE {tree(0, len(e))} END"


def _readers(store, column: str, keys: Sequence[str], numeric: Sequence[bool]) -> tuple[str, list[str]]:
    """(FROM source, one SQL expression per key) reading ``keys`` of JSON text ``column``."""
    d = store.dialect
    for k in keys:
        check_key(k)
    if d.name == "duckdb" and keys:
        paths = ", ".join("'$.\"" + k + "\"'" for k in keys)
        src = f"(SELECT *, json_extract_string({column}, [{paths}]) AS _wk_v FROM predictions)"
        exprs = [f"TRY_CAST(_wk_v[{i + 1}] AS DOUBLE)" if num else f"_wk_v[{i + 1}]"
                 for i, num in enumerate(numeric)]
        return src, exprs
    exprs = [d.json_num(column, k) if num else d.json_str(column, k) for k, num in zip(keys, numeric)]
    return "predictions", exprs


def window_where(store, project: str, model: str, since_us: int, until_us: int,
                 segment: dict | None = None, release: str | None = None) -> tuple[str, list[Any]]:
    d = store.dialect
    where = ["project = ?", "model = ?", f"ts >= {d.ts_param()}", f"ts < {d.ts_param()}"]
    params: list[Any] = [project, model, int(since_us), int(until_us)]
    if release:
        where.append("(release_id = ? OR model_version = ?)")
        params += [release, release]
    for key, value in sorted((segment or {}).items()):
        where.append(f"{d.json_str('segment', check_key(key))} = ?")
        params.append(str(value))
    return " AND ".join(where), params


def histograms(store, project: str, model: str, since_us: int, until_us: int, *,
               numeric: dict[str, Sequence[float]], categorical: Sequence[str] = (),
               score_edges: Sequence[float] | None = None, output_label: bool = False,
               segment: dict | None = None, release: str | None = None) -> dict[str, Any]:
    """Counts per reference bin (numerical) or category (categorical) of every feature, in one query.

    Returns ``{"rows": n, "inputs_rows": n_with_inputs, "numeric": {name: {bin: count}},
    "categorical": {name: {category_or_None: count}}}``; the output columns appear under the names
    ``@score`` (numerical, with ``score_edges``) and ``@label`` (categorical).
    """
    where, params = window_where(store, project, model, since_us, until_us, segment, release)
    num_keys, cat_keys = list(numeric), list(categorical)
    src, exprs = _readers(store, "inputs", num_keys + cat_keys, [True] * len(num_keys) + [False] * len(cat_keys))
    cols, keys, names = [], [], []
    for i, (name, expr) in enumerate(zip(num_keys, exprs[:len(num_keys)])):
        cols.append(f"{bin_case(f'({expr})', numeric[name])} AS k{i}")
        keys.append((f"k{i}", "numeric", name))
    for j, (name, expr) in enumerate(zip(cat_keys, exprs[len(num_keys):])):
        cols.append(f"{expr} AS c{j}")
        keys.append((f"c{j}", "categorical", name))
    if score_edges is not None:
        cols.append(f"{bin_case('score', score_edges)} AS ks")
        keys.append(("ks", "numeric", "@score"))
    if output_label:
        cols.append("output_label AS cl")
        keys.append(("cl", "categorical", "@label"))
    d = store.dialect
    total = store.rows(f"SELECT count(*) AS n, {d.count_if('inputs IS NOT NULL')} AS with_inputs "
                       f"FROM predictions WHERE {where}", params)[0]
    out: dict[str, Any] = {"rows": int(total["n"] or 0), "inputs_rows": int(total["with_inputs"] or 0),
                           "numeric": {}, "categorical": {}}
    if not keys or not out["rows"]:
        for alias, kind, name in keys:
            out[kind][name] = {}
        return out
    names = [k[0] for k in keys]
    sets = ", ".join(f"({k})" for k in names)
    grouping = ", ".join(f"GROUPING({k}) AS g_{k}" for k in names)
    # Input features count over rows that logged inputs; outputs over every row in the window.
    input_only = {k[0] for k in keys if not k[2].startswith("@")}
    sql = (f"SELECT {', '.join(names)}, {grouping}, count(*) AS n FROM ("
           f"SELECT {', '.join(cols)}, inputs FROM {src} WHERE {where}) AS w "
           f"GROUP BY GROUPING SETS ({sets})")
    for alias, kind, name in keys:
        out[kind][name] = {}
    for row in store.rows(sql, params):
        for alias, kind, name in keys:
            if row[f"g_{alias}"] == 0:
                value = row[alias]
                if kind == "numeric":
                    value = int(value)
                out[kind][name][value] = out[kind][name].get(value, 0) + int(row["n"])
                break
    # rows without logged inputs count as missing for input features: remove them from every input
    # feature's missing/null count, since "missing" should mean "logged inputs lacked the feature".
    gap = out["rows"] - out["inputs_rows"]
    if gap:
        for alias, kind, name in keys:
            if alias in input_only:
                miss = MISSING if kind == "numeric" else None
                left = out[kind][name].get(miss, 0) - gap
                if left > 0:
                    out[kind][name][miss] = left
                else:
                    out[kind][name].pop(miss, None)
    return out


def quantile_edges(store, project: str, model: str, since_us: int, until_us: int, features: Sequence[str],
                   bins: int = 100, include_score: bool = False) -> dict[str, list[float] | None]:
    """Reference bin edges of numerical features from a window of logged predictions (SQL quantiles)."""
    d = store.dialect
    where, params = window_where(store, project, model, since_us, until_us)
    src, exprs = _readers(store, "inputs", list(features), [True] * len(features))
    qs = [i / bins for i in range(bins + 1)]
    finite = "CASE WHEN {x} IS NULL OR NOT ({x} - {x} = 0) THEN NULL ELSE {x} END"
    parts = [f"{d.quantiles(finite.format(x=f'({e})'), qs)} AS q{i}" for i, e in enumerate(exprs)]
    if include_score:
        parts.append(f"{d.quantiles(finite.format(x='score'), qs)} AS qs")
    if not parts:
        return {}
    row = store.rows(f"SELECT {', '.join(parts)} FROM {src} WHERE {where}", params)[0]
    names = list(features) + (["@score"] if include_score else [])
    aliases = [f"q{i}" for i in range(len(features))] + (["qs"] if include_score else [])
    out = {}
    for name, alias in zip(names, aliases):
        q = [float(v) for v in (row[alias] or []) if v is not None and v == v]
        out[name] = q or None
    return out


def moments(store, project: str, model: str, since_us: int, until_us: int, features: Sequence[str]) -> dict:
    """count, mean, population variance, min and max of numerical features over a window."""
    where, params = window_where(store, project, model, since_us, until_us)
    src, exprs = _readers(store, "inputs", list(features), [True] * len(features))
    finite = "CASE WHEN {x} IS NULL OR NOT ({x} - {x} = 0) THEN NULL ELSE {x} END"
    parts = []
    for i, e in enumerate(exprs):
        x = finite.format(x=f"({e})")
        parts.append(f"count({x}) AS n{i}, avg({x}) AS m{i}, avg({x} * {x}) AS s{i}, min({x}) AS lo{i}, max({x}) AS hi{i}")
    if not parts:
        return {}
    row = store.rows(f"SELECT {', '.join(parts)} FROM {src} WHERE {where}", params)[0]
    out = {}
    for i, name in enumerate(features):
        n = int(row[f"n{i}"] or 0)
        mean = float(row[f"m{i}"] or 0.0)
        var = max(float(row[f"s{i}"] or 0.0) - mean * mean, 0.0)
        out[name] = {"n": n, "mean": mean, "m2": var * n, "min": row[f"lo{i}"], "max": row[f"hi{i}"]}
    return out


def sample_values(store, project: str, model: str, since_us: int, until_us: int, feature: str, *,
                  limit: int = 500, segment: dict | None = None) -> list:
    """Up to ``limit`` values of one input feature (embedding vectors, prompts), newest first.

    The sample is small, so the JSON is parsed here: the engines disagree on extracting a nested
    array as text, and a few hundred rows cost nothing.
    """
    import orjson

    where, params = window_where(store, project, model, since_us, until_us, segment)
    check_key(feature)
    rows = store.rows(f"SELECT inputs FROM predictions WHERE {where} AND inputs IS NOT NULL "
                      f"ORDER BY ts DESC LIMIT {int(limit) * 2}", params)
    out = []
    for r in rows:
        try:
            v = orjson.loads(r["inputs"]).get(feature)
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if v is not None:
            out.append(v)
            if len(out) >= limit:
                break
    return out


def segment_values(store, project: str, model: str, since_us: int, until_us: int, key: str,
                   limit: int = 50) -> list[str]:
    """The most frequent values of segment key ``key`` in a window."""
    where, params = window_where(store, project, model, since_us, until_us)
    expr = store.dialect.json_str("segment", check_key(key))
    rows = store.rows(f"SELECT {expr} AS v, count(*) AS n FROM predictions WHERE {where} AND {expr} IS NOT NULL "
                      f"GROUP BY v ORDER BY n DESC LIMIT {int(limit)}", params)
    return [r["v"] for r in rows]


def online_rows(store, project: str, model: str, request_ids: Sequence[str], features: Sequence[str]) -> list[dict]:
    """``request_id`` and the logged ``inputs`` text of the given requests (for the parity check)."""
    d = store.dialect
    rows = store.rows(f"SELECT request_id, inputs FROM predictions WHERE project = ? AND model = ? "
                      f"AND request_id IN {d.in_list()}", [project, model, list(request_ids)])
    return rows


# -- stored results ---------------------------------------------------------------------------------

def latest_results(store, project: str | None = None, max_age_us: int | None = None,
                   model: str | None = None) -> list[dict[str, Any]]:
    """The newest stored drift row per (project, model, segment, feature, method)."""
    d = store.dialect
    where, params = ["1 = 1"], []
    if project:
        where.append("project = ?")
        params.append(project)
    if model:
        where.append("model = ?")
        params.append(model)
    if max_age_us is not None:
        where.append(f"computed_at >= {d.ts_param()}")
        params.append(int(max_age_us))
    return store.rows(
        f"""SELECT project, model, segment, feature, kind, method, statistic, threshold, drifted,
                   missing_reference, missing_current, rows_current, {d.epoch_us('ts')} AS ts_us
            FROM (SELECT *, row_number() OVER (PARTITION BY project, model, segment, feature, method
                                               ORDER BY computed_at DESC, ts DESC) AS rn
                  FROM drift_results WHERE {' AND '.join(where)}) AS latest
            WHERE rn = 1 ORDER BY project, model, feature""",
        params,
    )


def result_series(store, project: str, model: str, since_us: int, until_us: int,
                  feature: str | None = None, segment: str = "") -> list[dict[str, Any]]:
    d = store.dialect
    where = ["project = ?", "model = ?", "segment = ?", f"ts >= {d.ts_param()}", f"ts < {d.ts_param()}"]
    params: list[Any] = [project, model, segment, since_us, until_us]
    if feature:
        where.append("feature = ?")
        params.append(feature)
    return store.rows(
        f"""SELECT feature, kind, method, {d.epoch_us('ts')} AS ts_us, window_s, statistic, threshold, drifted,
                   missing_reference, missing_current, rows_current
            FROM drift_results WHERE {' AND '.join(where)} ORDER BY feature, ts""",
        params,
    )


def violations(store, project: str, model: str, since_us: int, until_us: int, limit: int = 500) -> list[dict]:
    d = store.dialect
    return store.rows(
        f"""SELECT {d.epoch_us('ts')} AS ts_us, rule, column_name, observed, expected, rows_failed, rows_checked,
                   samples, source
            FROM contract_violations
            WHERE project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
            ORDER BY ts DESC LIMIT {int(limit)}""",
        [project, model, since_us, until_us],
    )


def violation_counts(store, project: str, model: str | None, since_us: int, until_us: int) -> dict[str, float]:
    """Rows failed and rows checked by recorded violations in a window (for the alert signal)."""
    d = store.dialect
    where, params = ["project = ?", f"ts >= {d.ts_param()}", f"ts < {d.ts_param()}"], [project, since_us, until_us]
    if model:
        where.append("model = ?")
        params.append(model)
    row = store.rows(f"SELECT count(*) AS n, sum(rows_failed) AS failed, max(rows_checked) AS checked "
                     f"FROM contract_violations WHERE {' AND '.join(where)}", params)[0]
    return {"violations": int(row["n"] or 0), "failed": float(row["failed"] or 0.0), "checked": float(row["checked"] or 0.0)}
