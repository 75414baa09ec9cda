"""Offline drift report: compare two datasets column by column.

``drift_report(reference, current)`` takes pandas DataFrames, pyarrow Tables, or paths to Parquet, CSV
or Arrow/Feather files. Files are read with pyarrow (only the columns compared); each column is then
profiled in one vectorised pass per side (``profile.py``: numpy histograms over reference-quantile edges,
Arrow ``value_counts`` for categories), columns in parallel threads. No per-row Python.

Result (JSON-able)::

    {"dataset": {"drifted": bool, "drifted_columns": int, "columns": int, "share": float},
     "columns": {NAME: {"type", "method", "statistic", "p_value", "threshold", "drifted",
                        "missing": {"reference", "current", ...}, "reason", "histogram", ...}},
     "skipped": {NAME: "why it was not compared"}}

The dataset counts as drifted when at least ``drift_share`` (0.5, Evidently's default) of the compared
columns drifted. A column whose type changed between the files (numbers in the reference, text in the
current data) is reported with ``"type": "mismatched"`` and counts as drifted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from ..errors import SchemaError
from .columns import infer_kind, kind_of_type
from .drift.registry import get_method
from .profile import as_arrow, compare, profile_current, profile_reference

__all__ = ["drift_report", "load_table", "DRIFT_SHARE"]

DRIFT_SHARE = 0.5
#: Categorical columns with more distinct values than this (and than half their rows) are skipped.
IDENTIFIER_MIN_DISTINCT = 1000

PARQUET_SUFFIXES = {".parquet", ".pq", ".parq"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
ARROW_SUFFIXES = {".arrow", ".feather", ".ipc"}


def _from_pandas(df) -> pa.Table:
    arrays, names = [], []
    for name in df.columns:
        arrays.append(as_arrow(df[name]))  # falls back to text for mixed-type object columns
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


class _ParquetColumns:
    """A Parquet file read one column at a time, so memory holds a few columns, not the whole file."""

    def __init__(self, path: Path, role: str):
        import pyarrow.parquet as pq

        self._pq, self.path, self.role = pq, path, role
        meta = pq.read_metadata(path)
        self.schema = pq.read_schema(path)
        self.column_names = self.schema.names
        self.num_rows = meta.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        try:
            return self._pq.read_table(self.path, columns=[name], use_threads=False).column(name)
        except (pa.ArrowException, OSError) as exc:
            raise SchemaError(f"cannot read column {name!r} of {self.role} file {str(self.path)!r}: {exc}") from exc


def _read_file(path: Path, role: str, columns: Sequence[str] | None) -> pa.Table:
    if not path.exists():
        raise SchemaError(f"{role} file {str(path)!r} does not exist")
    if path.is_dir():
        raise SchemaError(f"{role} path {str(path)!r} is a directory; give a Parquet or CSV file")
    if path.stat().st_size == 0:
        raise SchemaError(f"{role} file {str(path)!r} is empty")
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        magic = fh.read(6)
    try:
        if suffix in PARQUET_SUFFIXES or magic[:4] == b"PAR1":
            import pyarrow.parquet as pq

            return _ParquetColumns(path, role)
        if suffix in ARROW_SUFFIXES or magic == b"ARROW1":
            import pyarrow.feather as feather

            return feather.read_table(path, columns=list(columns) if columns else None)
        if suffix in CSV_SUFFIXES:
            import pyarrow.csv as pcsv

            parse = pcsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            return pcsv.read_csv(path, parse_options=parse)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaError(f"cannot read {role} file {str(path)!r}: {first}") from exc
    raise SchemaError(f"cannot read {role} file {str(path)!r}: unknown format {suffix or '(no suffix)'!r}; "
                      "expected .parquet, .csv, .tsv or .feather")


def load_table(source, role: str = "input", columns: Sequence[str] | None = None):
    """A pyarrow Table (or a lazily read Parquet file with the same ``column``/``column_names`` API)."""
    if isinstance(source, pa.Table):
        table = source
    elif isinstance(source, pa.RecordBatch):
        table = pa.Table.from_batches([source])
    elif isinstance(source, (str, os.PathLike)):
        table = _read_file(Path(source), role, columns)
    elif type(source).__module__.split(".")[0] == "pandas" and hasattr(source, "columns"):
        table = _from_pandas(source)
    else:
        raise SchemaError(f"{role}: expected a DataFrame, pyarrow Table or file path, got {type(source).__name__}")
    if table.num_rows == 0:
        raise SchemaError(f"{role} has no rows")
    return table


def _mismatch(name, ref: pa.ChunkedArray, cur: pa.ChunkedArray, rk: str, ck: str) -> dict:
    def share(a):
        return round(a.null_count / len(a), 6) if len(a) else 0.0

    return {"type": "mismatched", "method": "schema", "statistic": None, "p_value": None, "threshold": 0.0,
            "drifted": True, "missing": {"reference": share(ref), "current": share(cur)},
            "rows": {"reference": len(ref), "current": len(cur)},
            "reason": f"type changed: {rk} ({ref.type}) in the reference, {ck} ({cur.type}) in the current data"}


def _per_column(value, name):
    if isinstance(value, Mapping):
        return value.get(name, value.get("*"))
    return value


def _compare_column(name, ref: pa.ChunkedArray, cur: pa.ChunkedArray, method, threshold):
    """Return ("result", dict) or ("skipped", reason) for one column."""
    rk, ck = kind_of_type(ref.type), kind_of_type(cur.type)
    if rk == "null":
        rk = ck if ck != "null" else "numerical"
    if ck == "null":
        ck = rk
    if "unsupported" in (rk, ck):
        return "skipped", f"unsupported type {ref.type if rk == 'unsupported' else cur.type}"
    if rk != ck:
        return "result", _mismatch(name, ref, cur, rk, ck)
    if rk == "datetime":
        return "skipped", "datetime column; not compared (time moves on by design)"
    if rk == "numerical" and ref.null_count < len(ref):
        rk = infer_kind(ref)  # a numerical column with <= 5 distinct values is compared as categories
    ref_p = profile_reference(ref, name, kind=rk, sketches=False)
    if rk == "categorical":
        distinct = len(ref_p.categories)
        if distinct > IDENTIFIER_MIN_DISTINCT and distinct > ref_p.valid / 2:
            return "skipped", (f"{distinct} distinct values in {ref_p.valid} rows: looks like an identifier or free "
                               "text; not compared")
    cur_p = profile_current(ref_p, cur)
    res = compare(ref_p, cur_p, method=_per_column(method, name), threshold=_per_column(threshold, name))
    return "result", res


def drift_report(reference, current, method=None, columns: Sequence[str] | None = None,
                 threshold: float | Mapping[str, float] | None = None, drift_share: float = DRIFT_SHARE,
                 workers: int | None = None) -> dict:
    """Compare ``current`` with ``reference`` column by column; see the module docstring for the result.

    ``method``/``threshold`` apply to every column, or map column name -> value for per-column overrides
    (key ``"*"`` for the rest).
    ``columns`` restricts the comparison; naming a column missing from either side is an error.
    Raises ``SchemaError`` for unreadable/empty inputs and ``UnknownMethod`` for a bad method name.
    """
    for m in method.values() if isinstance(method, Mapping) else [method]:
        if m is not None:
            get_method(m)  # fail fast on a typo, before reading anything
    columns = list(columns) if columns else None
    ref_t = load_table(reference, "reference", columns)
    cur_t = load_table(current, "current", columns)
    ref_names, cur_names = ref_t.column_names, set(cur_t.column_names)
    skipped: dict[str, str] = {}
    if columns:
        absent = [c for c in columns if c not in ref_names or c not in cur_names]
        if absent:
            where = ["reference" if c not in ref_names else "current" for c in absent]
            listed = ", ".join(f"{c!r} (not in {w})" for c, w in zip(absent, where))
            raise SchemaError(f"requested columns missing: {listed}. Reference has: {', '.join(ref_names)}")
        names = columns
    else:
        names = [c for c in ref_names if c in cur_names]
        for c in ref_names:
            if c not in cur_names:
                skipped[c] = "only in the reference; missing from the current data"
        for c in cur_t.column_names:
            if c not in set(ref_names):
                skipped[c] = "only in the current data; missing from the reference"
    if not names:
        raise SchemaError("reference and current have no columns in common: "
                          f"reference has {', '.join(ref_names) or 'none'}; "
                          f"current has {', '.join(cur_t.column_names) or 'none'}")
    for option, value in (("method", method), ("threshold", threshold)):
        unknown = sorted(set(value) - set(names) - {"*"}) if isinstance(value, Mapping) else []
        if unknown:
            raise SchemaError(f"{option} names columns not compared: {', '.join(map(repr, unknown))}. "
                              f"Compared columns: {', '.join(names)}")
    workers = workers or min(len(names), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda n: _compare_column(n, ref_t.column(n), cur_t.column(n), method, threshold),
                                 names))
    results: dict[str, dict] = {}
    for name, (what, value) in zip(names, outcomes):
        if what == "skipped":
            skipped[name] = value
        else:
            results[name] = value if isinstance(value, dict) else value.to_dict()
    drifted = sum(1 for r in results.values() if r["drifted"])
    share = drifted / len(results) if results else 0.0
    return {
        "dataset": {"drifted": bool(results) and share >= drift_share, "drifted_columns": drifted,
                    "columns": len(results), "share": round(share, 6)},
        "columns": results,
        "skipped": skipped,
    }
