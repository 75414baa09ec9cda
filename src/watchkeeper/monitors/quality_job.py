"""Quality as a stored time series: the periodic job, its reader, /metrics gauges and alert signals.

Every ``INTERVAL_S`` the job ``quality`` (``control/scheduler.py``) computes, for every model of
every project, the realised and CBPE-estimated quality of the last ``WINDOW_S`` per model version,
hourly, and appends it to ``quality_points``: one row per (model, group, metric, bucket, kind),
``kind`` being ``realised`` or ``estimated``; the whole-window summary has ``bucket_s = 0``. Late
labels change old buckets, so the job rewrites them on every run and readers take the latest
``computed_at`` per key. ``/metrics`` exports the latest summary as
``watchkeeper_model_quality{project, model, version, metric, kind}``.
"""

from __future__ import annotations

import logging
from typing import Any

from ..ingest.records import Batch
from ..ingest.timestamps import now_us
from .quality import model_quality

log = logging.getLogger("watchkeeper.quality")

INTERVAL_S = 60.0
WINDOW_S = 24 * 3600
BUCKET_S = 3600
COLUMNS = ("project", "model", "task", "group_by", "grp", "metric", "kind", "ts", "bucket_s", "value", "lower",
           "upper", "n", "computed_at")


def _rows(doc: dict, project: str, since_us: int, computed: int) -> list[tuple]:
    from ..ingest.timestamps import parse_timestamp_us

    rows = []
    for points, bucket in ((doc["summary"], 0), (doc["series"], doc["bucket_s"] or 0)):
        for p in points:
            ts = parse_timestamp_us(p["time"]) if "time" in p else since_us
            for kind in ("metrics", "estimated"):
                for name, m in (p.get(kind) or {}).items():
                    rows.append((project, doc["model"], doc["task"], doc["group_by"], p["group"], name,
                                 "realised" if kind == "metrics" else "estimated", ts, bucket,
                                 m.get("value"), m.get("lower"), m.get("upper"), float(m.get("n") or 0), computed))
    return rows


def snapshot(store, project: str, model: str, *, until_us: int | None = None, window_s: int = WINDOW_S,
             bucket_s: int = BUCKET_S, by: str = "model_version") -> int:
    """Compute and store one model's quality over the window; return the number of points written."""
    until = until_us or now_us()
    since = until - window_s * 1_000_000
    doc = model_quality(store, project, model, since_us=since, until_us=until, bucket_s=bucket_s, by=by)
    rows = _rows(doc, project, since, now_us())
    if rows:
        columns = {name: list(col) for name, col in zip(COLUMNS, zip(*rows))}
        store.write([Batch(kind="quality_points", columns=columns, rows=len(rows))])
    return len(rows)


def run(store, meta=None, until_us: int | None = None) -> int:
    """The scheduled job: snapshot every model of every project. Returns points written."""
    total = 0
    projects = store.rows("SELECT DISTINCT project FROM predictions")
    for p in projects:
        for m in store.models(p["project"]):
            try:
                total += snapshot(store, p["project"], m["model"], until_us=until_us)
            except Exception:  # one broken model must not stop the others
                log.exception("quality snapshot failed for %s/%s", p["project"], m["model"])
    return total


def stored(store, project: str, model: str, *, since_us: int, until_us: int, metric: str | None = None,
           summary: bool = False) -> list[dict[str, Any]]:
    """Stored points (latest computation of each), oldest first."""
    d = store.dialect
    where = ["project = ?", "model = ?", f"ts >= {d.ts_param()}", f"ts < {d.ts_param()}",
             "bucket_s = 0" if summary else "bucket_s > 0"]
    params: list[Any] = [project, model, since_us, until_us]
    if metric:
        where.append("metric = ?")
        params.append(metric)
    rows = store.rows(
        f"""SELECT {d.epoch_us('ts')} AS t_us, grp, metric, kind, task, bucket_s, value, lower, upper, n,
                   {d.epoch_us('computed_at')} AS computed_us
            FROM (SELECT *, row_number() OVER (PARTITION BY grp, metric, kind, ts, bucket_s
                                               ORDER BY computed_at DESC) AS rn
                  FROM quality_points WHERE {' AND '.join(where)}) AS latest
            WHERE rn = 1 ORDER BY t_us, grp, metric, kind""",
        params,
    )
    return rows


def latest_summary(store, max_age_s: int = 3 * 3600) -> list[dict[str, Any]]:
    """The newest whole-window point of every (project, model, group, metric, kind), for /metrics."""
    d = store.dialect
    return store.rows(
        f"""SELECT project, model, grp, metric, kind, value FROM (
                SELECT project, model, grp, metric, kind, value,
                       row_number() OVER (PARTITION BY project, model, grp, metric, kind ORDER BY computed_at DESC) AS rn
                FROM quality_points WHERE bucket_s = 0 AND computed_at >= {d.ts_param()}) AS latest
            WHERE rn = 1 AND value IS NOT NULL""",
        [now_us() - max_age_s * 1_000_000],
    )


class QualityCollector:
    """A Prometheus collector over the latest stored quality summary."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("watchkeeper_model_quality",
                                   "Latest quality of each model version over the last 24 h (realised from labels, "
                                   "or estimated by CBPE).", labels=["project", "model", "version", "metric", "kind"])
        try:
            rows = latest_summary(self.store)
        except Exception:  # a scrape must not fail because the store is busy or closed
            rows = []
        for r in rows:
            family.add_metric([r["project"], r["model"], r["grp"], r["metric"], r["kind"]], float(r["value"]))
        yield family


def _register() -> None:
    try:
        from ..control.scheduler import register_job
    except ImportError:  # pragma: no cover - scheduler not installed
        return
    register_job("quality", INTERVAL_S, run)


_register()
