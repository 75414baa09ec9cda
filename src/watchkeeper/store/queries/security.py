"""Security events, privacy settings and data deletion, written once for every backend.

Event reads go to the event store (``store``); settings live in metadata (``meta``, the
``project_settings`` table). ``delete_before`` really deletes: DuckDB ``DELETE`` then
``CHECKPOINT`` (so the bytes leave the file), ClickHouse ``ALTER TABLE ... DELETE`` with
``mutations_sync`` (the rows are gone when it returns).
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..schema import TABLES

EVENT_FILTERS = ("type", "severity", "action", "tenant", "request_id", "trace_id", "detector", "source", "model")
_FIELDS = ("event_id, {ts} AS ts_us, type, detector, severity, score, action, source, evidence, request_id, "
           "trace_id, span_id, tenant, model, details")


def list_events(store, project: str, *, since_us: int | None = None, until_us: int | None = None,
                filters: dict[str, list[str]] | None = None, limit: int = 100,
                after: tuple[int, str] | None = None, ascending: bool = False) -> list[dict[str, Any]]:
    """Events of ``project``, newest first (or oldest first), filtered; ``after`` is the cursor (ts, id)."""
    d = store.dialect
    where, params = _where(store, project, since_us, until_us, filters)
    if after is not None:
        op = ">" if ascending else "<"
        where.append(f"(ts {op} {d.ts_param()} OR (ts = {d.ts_param()} AND event_id {op} ?))")
        params.extend([after[0], after[0], after[1]])
    order = "ASC" if ascending else "DESC"
    sql = (f"SELECT {_FIELDS.format(ts=d.epoch_us('ts'))} FROM security_events WHERE {' AND '.join(where)} "
           f"ORDER BY ts {order}, event_id {order} LIMIT {int(limit)}")
    return store.rows(sql, params)


def _where(store, project: str, since_us: int | None, until_us: int | None,
           filters: dict[str, list[str]] | None) -> tuple[list[str], list[Any]]:
    d = store.dialect
    where, params = ["project = ?"], [project]
    if since_us is not None:
        where.append(f"ts >= {d.ts_param()}")
        params.append(int(since_us))
    if until_us is not None:
        where.append(f"ts < {d.ts_param()}")
        params.append(int(until_us))
    for name, values in sorted((filters or {}).items()):
        if name not in EVENT_FILTERS or not values:
            continue
        where.append("(" + " OR ".join(f"{name} = ?" for _ in values) + ")")
        params.extend(values)
    return where, params


def summary(store, project: str, *, since_us: int, until_us: int, bucket_s: int,
            filters: dict[str, list[str]] | None = None, top: int = 10) -> dict[str, Any]:
    """Events over time by type, detected vs blocked vs allowed, and the top detectors and patterns."""
    d = store.dialect
    where, params = _where(store, project, since_us, until_us, filters)
    w = " AND ".join(where)
    step = int(bucket_s) * 1_000_000
    series = store.rows(
        f"SELECT {d.bucket_us('ts', step)} AS t_us, type, count(*) AS n FROM security_events WHERE {w} "
        "GROUP BY t_us, type ORDER BY t_us, type", params)
    actions = store.rows(
        f"SELECT type, action, count(*) AS n FROM security_events WHERE {w} GROUP BY type, action ORDER BY type, action",
        params)
    detectors = store.rows(
        f"SELECT detector, type, count(*) AS n, max(score) AS max_score FROM security_events WHERE {w} "
        f"GROUP BY detector, type ORDER BY n DESC, detector LIMIT {int(top)}", params)
    severities = store.rows(
        f"SELECT severity, count(*) AS n FROM security_events WHERE {w} GROUP BY severity ORDER BY severity", params)
    patterns: dict[str, int] = {}
    for row in store.rows(f"SELECT details FROM security_events WHERE {w} AND details IS NOT NULL "
                          f"ORDER BY ts DESC LIMIT 5000", params):
        try:
            hits = json.loads(row["details"]).get("hits") or []
        except (ValueError, AttributeError):
            continue
        for h in hits:
            patterns[h] = patterns.get(h, 0) + 1
    by_action: dict[str, int] = {}
    for r in actions:
        by_action[r["action"]] = by_action.get(r["action"], 0) + int(r["n"])
    return {
        "series": [{"t_us": int(r["t_us"]), "type": r["type"], "count": int(r["n"])} for r in series],
        "by_type_action": [{"type": r["type"], "action": r["action"], "count": int(r["n"])} for r in actions],
        "by_action": by_action,
        "by_severity": {r["severity"]: int(r["n"]) for r in severities},
        "top_detectors": [{"detector": r["detector"], "type": r["type"], "count": int(r["n"]),
                           "max_score": r["max_score"]} for r in detectors],
        "top_patterns": [{"pattern": k, "count": v} for k, v in sorted(patterns.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
    }


def event_tables() -> list[str]:
    """Every event table with a project and a time column: what retention and deletion touch."""
    out = []
    for name, cols in TABLES.items():
        names = {c for c, _ in cols}
        if "project" in names and "ts" in names:
            out.append(name)
    return out


def delete_before(store, project: str, before_us: int) -> dict[str, int]:
    """Delete every event of ``project`` older than ``before_us``; returns rows deleted per table."""
    d = store.dialect
    counts: dict[str, int] = {}
    existing = _existing_tables(store)
    for table in event_tables():
        if table not in existing:
            continue
        cond = f"project = ? AND ts < {d.ts_param()}"
        n = int(store.rows(f"SELECT count(*) AS n FROM {table} WHERE {cond}", [project, int(before_us)])[0]["n"])
        counts[table] = n
        if not n:
            continue
        if d.name == "clickhouse":
            from ..chbase import render

            store._command(render(f"ALTER TABLE {table} DELETE WHERE {cond} SETTINGS mutations_sync = 2",
                                  [project, int(before_us)]))
        else:
            store.execute(f"DELETE FROM {table} WHERE {cond}", [project, int(before_us)])
    if d.name != "clickhouse" and any(counts.values()):
        try:
            store.execute("CHECKPOINT")  # rewrite the file without the deleted rows' blocks
        except Exception:  # pragma: no cover - a concurrent transaction; the next checkpoint reclaims
            pass
    return counts


def _existing_tables(store) -> set[str]:
    if store.dialect.name == "clickhouse":
        rows = store.rows("SELECT name FROM system.tables WHERE database = currentDatabase()")
    else:
        rows = store.rows("SELECT table_name AS name FROM information_schema.tables")
    return {r["name"] for r in rows}


# -- settings (metadata) ---------------------------------------------------------------------
def get_settings(meta, project: str, prefix: str = "") -> dict[str, Any]:
    rows = meta.rows("SELECT name, value FROM project_settings WHERE project = ?", [project])
    out = {}
    for r in rows:
        if r["name"].startswith(prefix):
            try:
                out[r["name"][len(prefix):]] = json.loads(r["value"])
            except ValueError:
                continue
    return out


def put_settings(meta, project: str, values: dict[str, Any], prefix: str = "") -> None:
    now = int(time.time() * 1_000_000)
    with meta.transaction() as tx:
        for name, value in values.items():
            tx.execute("INSERT INTO project_settings (project, name, value, updated_us) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (project, name) DO UPDATE SET value = excluded.value, updated_us = excluded.updated_us",
                       [project, prefix + name, json.dumps(value), now])


def projects_with_setting(meta, name: str) -> dict[str, Any]:
    out = {}
    for r in meta.rows("SELECT project, value FROM project_settings WHERE name = ?", [name]):
        try:
            out[r["project"]] = json.loads(r["value"])
        except ValueError:
            continue
    return out
