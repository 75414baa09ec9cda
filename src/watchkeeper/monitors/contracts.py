"""Check data against a data contract, vectorised, and act on the result in a pipeline.

    report = validate("batch.parquet", "contract.yaml")     # or a DataFrame / Arrow table
    report.valid, report.violations                        # every broken rule: column, rule, observed, expected, samples

All field rules run as **one** DuckDB aggregate over the Arrow data (``count(*) FILTER (WHERE ...)``
per rule), plus one small ``LIMIT 5`` query per broken rule to fetch sample rows; no per-row Python.
The contract format is described in ``contract_spec.py``.

Mitigations for pipelines (:class:`Gate`): ``raise`` (halt: :class:`ContractViolation`), ``fallback``
(hand back the last batch that passed), ``alert`` (log/call a function and continue with the batch).
The server checks each ingested prediction batch against the model's stored contract and records
broken rules in the event table ``contract_violations`` (``server/routes/contracts.py``).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from ..errors import SchemaError, WatchkeeperError
from .contract_spec import Contract, ContractError, FieldRule, load_contract

__all__ = ["validate", "validate_records", "Report", "Violation", "Gate", "ContractViolation", "ContractError",
           "load_contract", "violation_rate_signal"]

log = logging.getLogger("watchkeeper.contracts")
SAMPLES = 5


@dataclass
class Violation:
    column: str
    rule: str
    observed: Any
    expected: Any
    rows_failed: int = 0
    samples: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"column": self.column, "rule": self.rule, "observed": self.observed, "expected": self.expected,
                "rows_failed": self.rows_failed, "samples": self.samples}


@dataclass
class Report:
    contract: str
    rows: int
    violations: list[Violation]
    contacts: dict
    checked_rules: int = 0

    @property
    def valid(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return {"valid": self.valid, "contract": self.contract, "rows": self.rows, "rules_checked": self.checked_rules,
                "violations": [v.to_dict() for v in self.violations], "contacts": self.contacts}

    def text(self) -> str:
        head = f"contract {self.contract or '(unnamed)'}: {self.rows} rows, {self.checked_rules} rules, "
        if self.valid:
            return head + "all passed"
        lines = [head + f"{len(self.violations)} violation(s)"]
        for v in self.violations:
            lines.append(f"  {v.column}: {v.rule} — observed {v.observed}, expected {v.expected}"
                         + (f" ({v.rows_failed} rows)" if v.rows_failed else ""))
            for s in v.samples:
                if "row" in s:
                    lines.append(f"      row {s['row']}: {s.get('value')!r}")
                else:
                    lines.append("      " + ", ".join(f"{k}={val!r}" for k, val in s.items()))
        owner = self.contacts.get("owner")
        if owner or self.contacts.get("upstream"):
            lines.append(f"  owner: {owner or '-'}; upstream: {', '.join(self.contacts.get('upstream') or []) or '-'}")
        return "\n".join(lines)


class ContractViolation(WatchkeeperError):
    """Raised by the ``raise`` mitigation; ``.report`` holds every violation."""

    def __init__(self, report: Report):
        super().__init__(report.text())
        self.report = report


# -- loading ----------------------------------------------------------------------------------------

def _read(data, contract: Contract) -> pa.Table:
    from .report import CSV_SUFFIXES, load_table

    if isinstance(data, (str, Path)) and Path(data).suffix.lower() in CSV_SUFFIXES and Path(data).exists():
        import pyarrow.csv as pcsv

        path = Path(data)
        if path.stat().st_size == 0:
            raise SchemaError(f"data file {str(path)!r} is empty")
        strings = {n: pa.string() for n, r in contract.fields.items() if r.type == "string"}
        try:
            t = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ","),
                              convert_options=pcsv.ConvertOptions(column_types=strings))
        except (pa.ArrowException, OSError) as exc:
            raise SchemaError(f"cannot read data file {str(path)!r}: {str(exc).strip().splitlines()[0]}") from None
    else:
        t = load_table(data, "data")
    if not isinstance(t, pa.Table):  # a lazily read Parquet file: read the contract's columns
        wanted = [c for c in t.column_names if c in contract.fields or
                  (contract.freshness and c == contract.freshness.get("column"))]
        t = pa.table({c: t.column(c) for c in wanted}) if wanted else pa.table({"__wk_rows": pa.nulls(t.num_rows)})
    return t


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_temporal(t):
        return "timestamp"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_null(t):
        return "null"
    return str(t)


# -- the checks -------------------------------------------------------------------------------------

def _field_checks(rule: FieldRule, kind: str) -> list[tuple[str, str, Any, list]]:
    """(rule name, SQL condition of a failing row, expected, params) for one present column."""
    c = _q(rule.name)
    num = f"TRY_CAST({c} AS DOUBLE)"
    isnull = f"({c} IS NULL OR isnan(TRY_CAST({c} AS DOUBLE)))" if kind == "number" else f"{c} IS NULL"
    checks = []
    if not rule.nullable:
        checks.append(("not_null", isnull, "no missing values", []))
    if rule.type and kind != "null":
        if rule.type == "number" and kind not in ("number", "integer"):
            checks.append(("type", f"{c} IS NOT NULL AND {num} IS NULL", "number", []))
        elif rule.type == "integer":
            if kind == "number":
                checks.append(("type", f"{c} IS NOT NULL AND NOT isnan({c}) AND {c} <> floor({c})", "integer", []))
            elif kind != "integer":
                checks.append(("type", f"{c} IS NOT NULL AND TRY_CAST({c} AS BIGINT) IS NULL", "integer", []))
        elif rule.type == "boolean" and kind != "boolean":
            checks.append(("type", f"{c} IS NOT NULL AND TRY_CAST({c} AS BOOLEAN) IS NULL", "boolean", []))
        elif rule.type == "timestamp" and kind != "timestamp":
            checks.append(("type", f"{c} IS NOT NULL AND TRY_CAST({c} AS TIMESTAMP) IS NULL", "timestamp", []))
        elif rule.type == "string" and kind != "string":
            checks.append(("type", f"{c} IS NOT NULL", "string", []))
    if rule.min is not None:
        checks.append(("min", f"{num} < {rule.min!r}", f">= {rule.min:g}", []))
    if rule.max is not None:
        checks.append(("max", f"{num} > {rule.max!r}", f"<= {rule.max:g}", []))
    if rule.enum is not None:
        allowed = [str(v).lower() if isinstance(v, bool) else (f"{v:g}" if isinstance(v, float) else str(v))
                   for v in rule.enum]
        text = f"CAST({c} AS VARCHAR)" if kind != "number" else f"CAST(CASE WHEN {c} = floor({c}) THEN CAST({c} AS BIGINT) END AS VARCHAR)"
        checks.append(("enum", f"{c} IS NOT NULL AND NOT list_contains(?, coalesce({text}, CAST({c} AS VARCHAR)))",
                       f"one of {rule.enum}", [allowed]))
    if rule.regex is not None:
        checks.append(("regex", f"{c} IS NOT NULL AND NOT regexp_matches(CAST({c} AS VARCHAR), ?)",
                       f"matches {rule.regex}", [rule.regex]))
    return checks


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def validate(data, contract, *, previous_rows: int | None = None, reference=None,
             now: float | None = None) -> Report:
    """Check ``data`` (path, DataFrame or Arrow table) against ``contract`` (path, YAML text, dict).

    ``previous_rows``: row count of the previous batch/day, for ``completeness.max_drop``.
    ``reference``: a ``DatasetProfile`` (or profile JSON path/dict) for ``distribution`` rules.
    ``now``: epoch seconds for ``freshness`` (default: the current time).
    """
    import duckdb

    c = load_contract(contract)
    t = _read(data, c)
    n = t.num_rows
    violations: list[Violation] = []
    rules = 0
    present = {}
    for name, rule in c.fields.items():
        if name in t.column_names:
            present[name] = rule
        elif rule.required:
            rules += 1
            violations.append(Violation(name, "required", "column absent", "column present",
                                        samples=[{"columns": list(t.column_names)[:20]}]))
    if n and present:
        con = duckdb.connect()
        try:
            import numpy as np

            data_t = pa.table({**{k: t.column(k) for k in present}, "__wk_row": pa.array(np.arange(n))})
            con.register("wk_data", data_t)
            checks = []
            for name, rule in present.items():
                kind = _kind(t.column(name).type)
                for rname, cond, expected, params in _field_checks(rule, kind):
                    checks.append((name, rname, cond, expected, params, kind))
                if rule.max_missing is not None:
                    checks.append((name, "max_missing", _field_checks(FieldRule(name, nullable=False), kind)[0][1],
                                   rule.max_missing, [], kind))
            rules += len(checks)
            counts = []
            if checks:
                sql = "SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond}) AS r{i}" for i, (_, _, cond, _, _, _) in
                                            enumerate(checks)) + " FROM wk_data"
                params = [p for ch in checks for p in ch[4]]
                try:
                    row = con.execute(sql, params).fetchone()
                except duckdb.Error as exc:
                    raise ContractError(f"a rule could not be evaluated: {str(exc).splitlines()[0]}") from None
                counts = list(row)
            for (name, rname, cond, expected, params, kind), failed in zip(checks, counts):
                if rname == "max_missing":
                    share = failed / n
                    if share > expected:
                        violations.append(Violation(name, "max_missing", round(share, 6), f"<= {expected:g}", int(failed),
                                                    _samples(con, name, cond, params)))
                    continue
                if failed:
                    observed = f"{failed} of {n} rows"
                    if rname == "type":
                        observed = f"{failed} values not {expected} (column type {t.column(name).type})"
                    elif rname in ("min", "max"):
                        agg = "min" if rname == "min" else "max"
                        ext = con.execute(f"SELECT {agg}(TRY_CAST({_q(name)} AS DOUBLE)) FROM wk_data").fetchone()[0]
                        observed = f"{agg} {ext:g} ({failed} rows out of range)"
                    violations.append(Violation(name, rname, observed, expected, int(failed),
                                                _samples(con, name, cond, params)))
            for name, rule in present.items():
                if rule.unique:
                    rules += 1
                    dup = con.execute(f"SELECT count({_q(name)}) - count(DISTINCT {_q(name)}) FROM wk_data").fetchone()[0]
                    if dup:
                        rows = con.execute(
                            f"SELECT {_q(name)} AS v, count(*) AS k, list(__wk_row ORDER BY __wk_row)[1:3] AS r "
                            f"FROM wk_data WHERE {_q(name)} IS NOT NULL GROUP BY v HAVING count(*) > 1 "
                            f"ORDER BY k DESC LIMIT {SAMPLES}").fetchall()
                        violations.append(Violation(name, "unique", f"{dup} duplicate values", "all values distinct",
                                                    int(dup), [{"value": _clean(v), "count": k, "rows": r} for v, k, r in rows]))
        finally:
            con.close()
    rules += _table_rules(c, t, n, previous_rows, now, violations)
    if reference is not None or any(r.distribution is not None for r in present.values()) or c.distribution:
        rules += _distribution_rules(c, t, present, reference, violations)
    return Report(c.name, n, violations, c.contacts(), rules)


def _samples(con, name: str, cond: str, params: list) -> list[dict]:
    rows = con.execute(f"SELECT __wk_row, {_q(name)} FROM wk_data WHERE {cond} ORDER BY __wk_row LIMIT {SAMPLES}",
                       params).fetchall()
    return [{"row": int(r), "value": _clean(v)} for r, v in rows]


def _table_rules(c: Contract, t: pa.Table, n: int, previous_rows, now, violations: list) -> int:
    rules = 0
    comp = c.completeness or {}
    if "min_rows" in comp:
        rules += 1
        if n < comp["min_rows"]:
            violations.append(Violation("(table)", "min_rows", n, f">= {comp['min_rows']}", 0))
    if "max_drop" in comp and previous_rows:
        rules += 1
        drop = 1 - n / previous_rows
        if drop > comp["max_drop"]:
            violations.append(Violation("(table)", "max_drop", f"{n} rows, {drop:.1%} fewer than the previous {previous_rows}",
                                        f"at most {comp['max_drop']:.0%} fewer", 0))
    if c.freshness and c.freshness.get("column"):
        rules += 1
        col = c.freshness["column"]
        if col not in t.column_names:
            violations.append(Violation(col, "freshness", "column absent", "a timestamp column", 0))
        elif n:
            import pyarrow.compute as pc

            arr = t.column(col)
            if not pa.types.is_timestamp(arr.type):
                try:
                    arr = arr.cast(pa.timestamp("us"))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    violations.append(Violation(col, "freshness", f"type {arr.type}", "a timestamp column", 0))
                    return rules
            newest = pc.max(arr).as_py()
            if newest is None:
                violations.append(Violation(col, "freshness", "no timestamps", "a recent row", 0))
                return rules
            import datetime as dt

            if newest.tzinfo is None:
                newest = newest.replace(tzinfo=dt.timezone.utc)
            age = (now if now is not None else time.time()) - newest.timestamp()
            if age > c.freshness["max_age_s"]:
                violations.append(Violation(col, "freshness", f"newest row {age / 3600:.2f} h old ({newest.isoformat()})",
                                            f"at most {c.freshness['max_age_s'] / 3600:g} h old", 0))
    return rules


def _distribution_rules(c: Contract, t: pa.Table, present: dict, reference, violations: list) -> int:
    from .drift.compare import compare
    from .profile import profile_current
    from .references import DatasetProfile

    ref = _load_reference(reference if reference is not None else (c.distribution or {}).get("reference"))
    if ref is None:
        return 0
    rules = 0
    for name, rule in present.items():
        spec = rule.distribution if rule.distribution is not None else c.distribution
        if spec is None or name not in ref.columns:
            continue
        rules += 1
        col_ref = ref.columns[name]
        try:
            cur = profile_current(col_ref, t.column(name))
        except SchemaError as exc:
            violations.append(Violation(name, "distribution", str(exc), "comparable with the reference", 0))
            continue
        res = compare(col_ref, cur, method=spec.get("method"), threshold=spec.get("threshold"))
        if res.drifted:
            violations.append(Violation(name, "distribution", f"{res.method} {res.statistic if res.statistic is not None else '-'}; {res.reason}",
                                        f"{res.method} within {res.threshold:g} of the reference", 0))
    return rules


def _load_reference(ref):
    import json

    from .references import DatasetProfile

    if ref is None or isinstance(ref, DatasetProfile):
        return ref
    if isinstance(ref, dict):
        return DatasetProfile.from_dict(ref)
    path = Path(ref)
    if not path.exists():
        raise ContractError(f"distribution.reference {str(path)!r} does not exist")
    if path.suffix.lower() == ".json":
        return DatasetProfile.from_dict(json.loads(path.read_text()))
    from .references import profile_dataset

    return profile_dataset(path)


def validate_records(records: list, contract, **kw) -> Report:
    """Validate a list of dicts (e.g. logged prediction inputs); a key no record has is an absent column."""
    from .profile import as_arrow

    c = load_contract(contract)
    cols = {}
    for name in c.fields:
        values = [r.get(name) if isinstance(r, dict) else None for r in records]
        if any(isinstance(r, dict) and name in r for r in records):
            cols[name] = as_arrow(values)
    t = pa.table(cols) if cols else pa.table({"__wk_rows": pa.nulls(len(records))})
    return validate(t, c, **kw)


# -- mitigations ------------------------------------------------------------------------------------

class Gate:
    """Validate each batch of a pipeline and apply a mitigation when it breaks the contract.

    ``on_violation``: ``raise`` (default from the contract), ``fallback`` (return the last good batch;
    raise if there is none yet) or ``alert`` (call ``alert(report)``, default a log warning, and go on).
    The last good batch's row count feeds ``completeness.max_drop`` for the next one.
    """

    def __init__(self, contract, on_violation: str | None = None, alert: Callable[[Report], Any] | None = None,
                 reference=None):
        self.contract = load_contract(contract)
        self.on_violation = on_violation or self.contract.mitigation
        if self.on_violation not in ("raise", "fallback", "alert"):
            raise ContractError(f"on_violation must be raise, fallback or alert, got {self.on_violation!r}")
        self.alert = alert or (lambda report: log.warning("%s", report.text()))
        self.reference = reference
        self.last_good = None
        self.last_rows: int | None = None
        self.last_report: Report | None = None

    def check(self, data):
        report = validate(data, self.contract, previous_rows=self.last_rows, reference=self.reference)
        self.last_report = report
        if report.valid:
            self.last_good, self.last_rows = data, report.rows
            return data
        if self.on_violation == "alert":
            self.alert(report)
            return data
        if self.on_violation == "fallback" and self.last_good is not None:
            self.alert(report)
            return self.last_good
        raise ContractViolation(report)


# -- alert signal -----------------------------------------------------------------------------------

def violation_rate_signal(store, project, scope, start_us, end_us, **_) -> float | None:
    """Share of a window's predictions that broke a contract rule (rows failed / predictions; capped at 1)."""
    from ..store.queries import control as cq
    from ..store.queries import drift as q

    model = (scope or {}).get("model")
    v = q.violation_counts(store, project, model, start_us, end_us)
    n = cq.traffic(store, project, scope, start_us, end_us)["n"]
    if not n:
        return None if not v["violations"] else 1.0
    return min(1.0, v["failed"] / n)
