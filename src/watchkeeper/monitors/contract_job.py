"""Contracts on the server: stored per model, checked on every ingested batch and periodically.

- Field rules (types, nullability, ranges, enums, regexes, uniqueness, missing shares) run on each
  accepted prediction batch's ``inputs`` right after it is stored, in a background thread
  (``BatchChecker``), so ingest latency does not change.
- Table rules run in the job ``contracts`` over the store: **freshness** (the model's newest
  prediction at most ``max_age`` old) and **completeness** (the last 24 h hold at least ``min_rows``
  and at most ``max_drop`` fewer rows than the 24 h before: "row count must not drop 20% day over day").

Every broken rule becomes a row of the event table ``contract_violations``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

from ..ingest.records import Batch
from .contract_spec import Contract, load_contract
from .contracts import Report, Violation, validate_records

log = logging.getLogger("watchkeeper.contracts")
INTERVAL_S = 300.0
DAY_US = 86_400 * 1_000_000


def save(meta, project: str, model: str, text: str, updated_by: str = "") -> Contract:
    contract = load_contract(text)
    with meta.transaction() as tx:
        tx.execute("DELETE FROM model_contracts WHERE project = ? AND model = ?", [project, model])
        tx.execute("INSERT INTO model_contracts (project, model, contract, updated_by, updated_us) VALUES (?, ?, ?, ?, ?)",
                   [project, model, text, updated_by, int(time.time() * 1e6)])
    return contract


def get(meta, project: str, model: str) -> dict | None:
    rows = meta.rows("SELECT contract, updated_us FROM model_contracts WHERE project = ? AND model = ?", [project, model])
    return rows[0] if rows else None


def delete(meta, project: str, model: str) -> bool:
    found = get(meta, project, model) is not None
    meta.execute("DELETE FROM model_contracts WHERE project = ? AND model = ?", [project, model])
    return found


def all_contracts(meta) -> list[tuple[str, str, Contract]]:
    out = []
    for r in meta.rows("SELECT project, model, contract FROM model_contracts ORDER BY project, model"):
        try:
            out.append((r["project"], r["model"], load_contract(r["contract"])))
        except Exception:  # a stored contract that no longer parses is skipped, not fatal
            log.warning("stored contract of %s/%s does not parse", r["project"], r["model"])
    return out


def violation_rows(project: str, model: str, report: Report, ts_us: int, source: str) -> dict[str, list]:
    cols: dict[str, list] = {k: [] for k in ("project", "model", "ts", "rule", "column_name", "observed", "expected",
                                              "rows_failed", "rows_checked", "samples", "source", "computed_at")}
    now = int(time.time() * 1e6)
    for v in report.violations:
        cols["project"].append(project)
        cols["model"].append(model)
        cols["ts"].append(int(ts_us))
        cols["rule"].append(v.rule)
        cols["column_name"].append(v.column)
        cols["observed"].append(json.dumps(v.observed, default=str) if not isinstance(v.observed, str) else v.observed)
        cols["expected"].append(json.dumps(v.expected, default=str) if not isinstance(v.expected, str) else v.expected)
        cols["rows_failed"].append(float(v.rows_failed))
        cols["rows_checked"].append(float(report.rows))
        cols["samples"].append(json.dumps(v.samples, default=str))
        cols["source"].append(source)
        cols["computed_at"].append(now)
    return cols


def record(store, project: str, model: str, report: Report, ts_us: int, source: str) -> int:
    cols = violation_rows(project, model, report, ts_us, source)
    n = len(cols["rule"])
    if n:
        store.write([Batch("contract_violations", cols, rows=n)])
    return n


class BatchChecker:
    """Checks ingested prediction batches against stored contracts in one background thread."""

    def __init__(self, store, meta, cache_s: float = 5.0, maxsize: int = 1000):
        self.store, self.meta, self.cache_s = store, meta, cache_s
        self._cache: dict[tuple[str, str], tuple[float, Contract | None]] = {}
        self._q: queue.Queue = queue.Queue(maxsize=maxsize)
        self.dropped = 0
        self.checked = 0
        self._thread = threading.Thread(target=self._loop, name="watchkeeper-contracts", daemon=True)
        self._thread.start()

    def contract(self, project: str, model: str) -> Contract | None:
        key = (project, model)
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[0] < self.cache_s:
            return hit[1]
        row = get(self.meta, project, model)
        contract = None
        if row:
            try:
                contract = load_contract(row["contract"])
            except Exception:
                contract = None
        self._cache[key] = (time.monotonic(), contract)
        return contract

    def invalidate(self, project: str, model: str) -> None:
        self._cache.pop((project, model), None)

    def __call__(self, batch: Batch) -> None:
        """The after-ingest hook: enqueue, never block the request."""
        if batch.kind != "predictions" or not batch.rows:
            return
        try:
            self._q.put_nowait(batch)
        except queue.Full:
            self.dropped += 1

    def _loop(self) -> None:
        while True:
            batch = self._q.get()
            if batch is None:
                return
            try:
                self.check(batch)
            except Exception:  # pragma: no cover - a failed check must not kill the thread
                log.exception("contract check failed")
            finally:
                self._q.task_done()

    def check(self, batch: Batch) -> int:
        summary = batch.summary
        if summary is not None and summary.get("classes") is not None:
            models = {(p, m) for (p, m, _), _label in summary["classes"]}
            if not any((c := self.contract(p, m)) is not None and c.fields for p, m in models):
                return 0  # no contract to check: leave the columns unread (a worker batch builds them lazily)
        cols = batch.columns
        groups: dict[tuple[str, str], list[int]] = {}
        for i, (project, model) in enumerate(zip(cols["project"], cols["model"])):
            groups.setdefault((project, model), []).append(i)
        stored = 0
        for (project, model), idx in groups.items():
            contract = self.contract(project, model)
            if contract is None or not contract.fields:
                continue
            records = []
            for i in idx:
                raw = cols["inputs"][i]
                try:
                    records.append(json.loads(raw) if raw else {})
                except ValueError:
                    records.append({})
            report = validate_records(records, contract)
            self.checked += 1
            for v in report.violations:  # batch row numbers -> the request ids a person can look up
                for sample in v.samples:
                    rows = [sample["row"]] if "row" in sample else sample.get("rows") or []
                    ids = [cols["request_id"][idx[r]] for r in rows if isinstance(r, int) and r < len(idx)]
                    if ids:
                        sample["request_id" if "row" in sample else "request_ids"] = ids[0] if "row" in sample else ids
            ts = max(int(t) if isinstance(t, int) else int(time.time() * 1e6) for t in (cols["ts"][i] for i in idx))
            stored += record(self.store, project, model, report, ts, "ingest")
        return stored

    def drain(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self._q.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        try:
            self._q.put_nowait(None)
        except queue.Full:
            pass


def check_tables(store, project: str, model: str, contract: Contract, now_us: int | None = None) -> Report:
    """Freshness and completeness of a model's logged predictions (the job's checks)."""
    d = store.dialect
    now_us = now_us or int(time.time() * 1e6)
    violations: list[Violation] = []
    rows = store.rows(
        f"""SELECT {d.count_if(f'ts >= {d.ts_param()}')} AS today, {d.count_if(f'ts < {d.ts_param()}')} AS yesterday,
                   {d.epoch_us('max(ts)')} AS newest
            FROM predictions WHERE project = ? AND model = ? AND ts >= {d.ts_param()} AND ts < {d.ts_param()}""",
        [now_us - DAY_US, now_us - DAY_US, project, model, now_us - 2 * DAY_US, now_us])[0]
    today, yesterday = int(rows["today"] or 0), int(rows["yesterday"] or 0)
    comp = contract.completeness or {}
    if "min_rows" in comp and today < comp["min_rows"]:
        violations.append(Violation("(table)", "min_rows", f"{today} predictions in the last 24 h", f">= {comp['min_rows']}"))
    if "max_drop" in comp and yesterday:
        drop = 1 - today / yesterday
        if drop > comp["max_drop"]:
            violations.append(Violation("(table)", "max_drop", f"{today} predictions in the last 24 h, {drop:.1%} fewer "
                                        f"than the {yesterday} of the day before", f"at most {comp['max_drop']:.0%} fewer"))
    if contract.freshness:
        newest = rows["newest"]
        age_s = None if newest is None else (now_us - int(newest)) / 1e6
        if age_s is None or age_s > contract.freshness["max_age_s"]:
            violations.append(Violation("(table)", "freshness",
                                        "no predictions in 48 h" if age_s is None else f"newest prediction {age_s / 60:.1f} min old",
                                        f"at most {contract.freshness['max_age_s'] / 60:g} min old"))
    return Report(contract.name, today, violations, contract.contacts(), 3)


def run(store, meta) -> int:
    stored = 0
    now = int(time.time() * 1e6)
    for project, model, contract in all_contracts(meta):
        if not (contract.completeness or contract.freshness):
            continue
        try:
            stored += record(store, project, model, check_tables(store, project, model, contract, now), now, "job")
        except Exception:
            log.exception("contract job failed for %s/%s", project, model)
    return stored


def _register() -> None:
    try:
        from ..control.scheduler import register_job
    except ImportError:  # pragma: no cover
        return
    register_job("contracts", INTERVAL_S, run)


_register()
