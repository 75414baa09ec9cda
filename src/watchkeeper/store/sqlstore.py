"""Event queries written once for every SQL backend.

A backend subclasses ``SQLEventStore`` and provides ``dialect``, ``rows(sql, params)`` and
``write(batches)``; every read query here (and in ``store/queries/``) then works unchanged.
"""

from __future__ import annotations

from typing import Any, Sequence

from .dialect import Dialect

_PRED_FIELDS = (
    "model, model_version, request_id, {ts} AS ts_us, release_id, release, inputs, output_label, "
    "output_value, score, scores, latency_ms, segment, cost, trace_id, error, extra"
)


class SQLEventStore:
    dialect: Dialect

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.rows(sql, params)
        return next(iter(rows[0].values())) if rows else None

    def predictions(self, project: str, *, model: str | None = None, since_us: int | None = None,
                    until_us: int | None = None, limit: int = 100,
                    after: tuple[int, str] | None = None) -> list[dict[str, Any]]:
        d = self.dialect
        where, params = ["project = ?"], [project]
        if model:
            where.append("model = ?")
            params.append(model)
        if since_us is not None:
            where.append(f"ts >= {d.ts_param()}")
            params.append(since_us)
        if until_us is not None:
            where.append(f"ts < {d.ts_param()}")
            params.append(until_us)
        if after is not None:
            where.append(f"(ts > {d.ts_param()} OR (ts = {d.ts_param()} AND request_id > ?))")
            params.extend([after[0], after[0], after[1]])
        sql = (f"SELECT {_PRED_FIELDS.format(ts=d.epoch_us('ts'))} FROM predictions WHERE {' AND '.join(where)} "
               f"ORDER BY ts, request_id LIMIT {int(limit)}")
        return self.rows(sql, params)

    def labels(self, project: str, *, request_ids: Sequence[str] | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        d = self.dialect
        sql = f"SELECT request_id, label, label_value, model, trace_id, {d.epoch_us('ts')} AS ts_us FROM labels WHERE project = ?"
        params: list[Any] = [project]
        if request_ids is not None:
            sql += f" AND request_id IN {d.in_list()}"
            params.append(list(request_ids))
        sql += f" ORDER BY ts, request_id LIMIT {int(limit)}"
        return self.rows(sql, params)

    def models(self, project: str) -> list[dict[str, Any]]:
        d = self.dialect
        rows = self.rows(
            f"""
            SELECT model, count(*) AS predictions, {d.array_agg_distinct('model_version')} AS versions,
                   {d.epoch_us('min(ts)')} AS first_seen_us, {d.epoch_us('max(ts)')} AS last_seen_us,
                   {d.count_if('error IS NOT NULL')} AS errors, avg(latency_ms) AS mean_latency_ms
            FROM predictions WHERE project = ? GROUP BY model ORDER BY model
            """,
            [project],
        )
        labelled = {
            r["model"]: r["n"]
            for r in self.rows(
                """SELECT model, count(*) AS n FROM predictions
                   WHERE project = ? AND request_id IN (SELECT request_id FROM labels WHERE project = ?)
                   GROUP BY model""",
                [project, project],
            )
        }
        for row in rows:
            row["labelled"] = int(labelled.get(row["model"], 0))
            row["predictions"] = int(row["predictions"])
            row["errors"] = int(row["errors"])
            row["versions"] = list(row["versions"])
        return rows

    def counts(self, project: str) -> dict[str, int]:
        return {kind: int(self.scalar(f"SELECT count(*) AS n FROM {kind} WHERE project = ?", [project]))
                for kind in ("predictions", "labels", "feedback")}

    def latency_series(self, project: str, model: str, *, since_us: int, until_us: int,
                       bucket_s: int) -> list[dict[str, Any]]:
        d = self.dialect
        step = int(bucket_s) * 1_000_000
        rows = self.rows(
            f"""
            SELECT {d.bucket_us('ts', step)} AS t_us, count(*) AS count, {d.count_if('error IS NOT NULL')} AS errors,
                   {d.quantiles('latency_ms', [0.5, 0.95, 0.99])} AS q
            FROM predictions
            WHERE project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}
            GROUP BY t_us ORDER BY t_us
            """,
            [project, model, since_us, until_us],
        )
        for row in rows:
            q = list(row.pop("q") or []) or [None, None, None]
            row["p50"], row["p95"], row["p99"] = (None if v != v else v for v in q)
            row["count"], row["errors"] = int(row["count"]), int(row["errors"])
        return rows
