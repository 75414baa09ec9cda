"""SQL fragments that differ between DuckDB and ClickHouse.

Feature queries are written once, with these helpers for the few spots where the two dialects
disagree; everything else (SELECT, WHERE, GROUP BY, window functions, CTEs) is common SQL.
Parameters are always positional ``?``; a backend translates them if its driver needs to.
"""

from __future__ import annotations


class Dialect:
    name = "generic"

    def epoch_us(self, col: str) -> str:
        """A TIMESTAMP column -> integer microseconds since the epoch."""
        raise NotImplementedError

    def ts_param(self) -> str:
        """A placeholder taking integer microseconds, compared against a TIMESTAMP column."""
        raise NotImplementedError

    def bucket_us(self, col: str, step_us: int) -> str:
        return f"(({self.epoch_us(col)} // {int(step_us)}) * {int(step_us)})"

    def quantiles(self, expr: str, qs: list[float]) -> str:
        """An aggregate returning a list of interpolated quantiles of ``expr``."""
        raise NotImplementedError

    def approx_quantiles(self, expr: str, qs: list[float]) -> str:
        """Like ``quantiles`` but from a sketch (t-digest): for dashboards over millions of rows."""
        return self.quantiles(expr, qs)

    def count_if(self, cond: str) -> str:
        return f"sum(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def json_num(self, col: str, key: str) -> str:
        """A numeric field of a JSON text column (NULL when absent or not a number)."""
        raise NotImplementedError

    def bin_index(self, expr: str, edges: list[float]) -> str:
        """Which bin ``expr`` falls in: 0 below ``edges[0]``, i for edges[i-1] <= x < edges[i], len(edges) above; NULL stays NULL."""
        cases = " ".join(f"WHEN {expr} < {float(e)!r} THEN {i}" for i, e in enumerate(edges))
        return f"(CASE WHEN {expr} IS NULL THEN NULL {cases} ELSE {len(edges)} END)"

    def json_str(self, col: str, key: str) -> str:
        """A field of a JSON text column as text (NULL when absent)."""
        raise NotImplementedError

    def array_agg_distinct(self, expr: str) -> str:
        raise NotImplementedError

    def in_list(self) -> str:
        """``col IN <this>`` for one list parameter."""
        raise NotImplementedError


def _q(key: str) -> str:
    if not key.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValueError(f"unsafe JSON key {key!r}")
    return key


class DuckDBDialect(Dialect):
    name = "duckdb"

    def epoch_us(self, col: str) -> str:
        return f"epoch_us({col})"

    def ts_param(self) -> str:
        return "make_timestamp(?)"

    def quantiles(self, expr: str, qs: list[float]) -> str:
        return f"quantile_cont({expr}, [{', '.join(repr(float(q)) for q in qs)}])"

    def approx_quantiles(self, expr: str, qs: list[float]) -> str:
        return f"approx_quantile({expr}, [{', '.join(repr(float(q)) for q in qs)}])"

    def json_num(self, col: str, key: str) -> str:
        return f"TRY_CAST(json_extract({col}, '$.\"{_q(key)}\"') AS DOUBLE)"

    def json_str(self, col: str, key: str) -> str:
        return f"json_extract_string({col}, '$.\"{_q(key)}\"')"

    def array_agg_distinct(self, expr: str) -> str:
        return f"list(DISTINCT {expr} ORDER BY {expr})"

    def in_list(self) -> str:
        return "(SELECT unnest(?))"


class ClickHouseDialect(Dialect):
    name = "clickhouse"

    def epoch_us(self, col: str) -> str:
        return f"toUnixTimestamp64Micro({col})"

    def ts_param(self) -> str:
        return "fromUnixTimestamp64Micro(toInt64(?))"

    def quantiles(self, expr: str, qs: list[float]) -> str:
        return f"quantilesExactInclusive({', '.join(repr(float(q)) for q in qs)})({expr})"

    def bucket_us(self, col: str, step_us: int) -> str:
        # `//` starts a comment in ClickHouse SQL, so integer division is intDiv().
        return f"(intDiv({self.epoch_us(col)}, {int(step_us)}) * {int(step_us)})"

    def approx_quantiles(self, expr: str, qs: list[float]) -> str:
        return f"quantilesTDigest({', '.join(repr(float(q)) for q in qs)})({expr})"

    def count_if(self, cond: str) -> str:
        return f"countIf({cond})"

    def json_num(self, col: str, key: str) -> str:
        return f"JSONExtract({col}, '{_q(key)}', 'Nullable(Float64)')"

    def json_str(self, col: str, key: str) -> str:
        return f"JSONExtract({col}, '{_q(key)}', 'Nullable(String)')"

    def array_agg_distinct(self, expr: str) -> str:
        return f"arraySort(groupUniqArray({expr}))"

    def in_list(self) -> str:
        return "?"
