"""What the ClickHouse server store and the in-process chdb store share.

Both speak the same SQL to the same engine; they differ only in how a statement reaches it. A
subclass provides four primitives (``_query`` returning an Arrow table, ``_command``, ``_insert``
taking an Arrow table, ``_close``) and gets the rest: ``?`` parameters rendered as safely quoted
literals, numbered migrations, schema checks, retention, and every shared event query of
``SQLEventStore`` through ``ClickHouseDialect``.

ClickHouse has no multi-statement transactions: a ``write`` inserts one block per table, each
atomic on its own. A failure between two tables of one group is reported to every request of the
group, so a client that retries may store the first table's rows twice (at least once, never lost).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Sequence

from ..errors import ConfigError, MigrationRequired, StoreError
from ..ingest.records import Batch
from .dialect import ClickHouseDialect
from .migrations import latest_version, load, split_statements
from .schema import batch_arrow
from .sqlstore import SQLEventStore

SETTINGS = {
    # DuckDB semantics for the shared queries: an outer join yields NULL, a bare UNION is DISTINCT.
    "join_use_nulls": 1,
    "union_default_mode": "DISTINCT",
    # `SELECT min(ts) AS ts ... WHERE ts > ?` means the column in WHERE, as in standard SQL/DuckDB.
    "prefer_column_name_to_alias": 1,
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_identifier(name: str, what: str = "database") -> str:
    if not _IDENT.match(name or ""):
        raise ConfigError(f"{what} name {name!r} is not a plain identifier (letters, digits, _).")
    return name


# -- parameters ------------------------------------------------------------------------------
def literal(value: Any) -> str:
    """One Python value as a ClickHouse SQL literal; strings are escaped, never interpolated raw."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0")
        return f"'{escaped}'"
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return f"toDateTime64('{value.isoformat(sep=' ')}', 6, 'UTC')"
    if isinstance(value, _dt.date):
        return f"toDate('{value.isoformat()}')"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(literal(v) for v in items) + "]"
    raise StoreError(f"cannot pass a {type(value).__name__} as a SQL parameter")


def render(sql: str, params: Sequence[Any] = ()) -> str:
    """Replace each ``?`` outside quotes and comments with the next parameter as a literal."""
    params = list(params)
    if not params:
        return sql
    out: list[str] = []
    i, n, used = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote inside a literal
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif c == "?":
            if used >= len(params):
                raise StoreError(f"the statement has more ? placeholders than the {len(params)} parameters given")
            out.append(literal(params[used]))
            used += 1
            i += 1
        else:
            out.append(c)
            i += 1
    if used != len(params):
        raise StoreError(f"the statement has {used} ? placeholders but {len(params)} parameters were given")
    return "".join(out)


def table_rows(table) -> list[dict[str, Any]]:
    """An Arrow result as a list of dicts; timestamps come back as naive UTC, as DuckDB returns them."""
    import pyarrow as pa

    columns = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type) and col.type.tz is not None:
            col = col.cast(pa.timestamp(col.type.unit))
        columns.append(col.to_pylist())
    names = table.column_names
    return [dict(zip(names, values)) for values in zip(*columns)] if columns else []


class ClickHouseBase(SQLEventStore):
    """Everything an event store over the ClickHouse engine needs, given four primitives."""

    dialect = ClickHouseDialect()
    backend = "clickhouse"
    database: str
    retention_days: int | None = None

    # -- primitives (subclasses) ------------------------------------------------------------
    def _query(self, sql: str):  # -> pyarrow.Table
        raise NotImplementedError

    def _command(self, sql: str) -> None:
        raise NotImplementedError

    def _insert(self, table: str, data) -> None:
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return table_rows(self._query(render(sql, params)))

    def ping(self) -> None:
        self._query("SELECT 1 AS ok")

    def write(self, batches: Sequence[Batch]) -> None:
        """Insert the batches as one Arrow block per table (concatenated when several share one)."""
        import pyarrow as pa

        by_kind: dict[str, list] = {}
        for b in batches:
            if b.rows:
                by_kind.setdefault(b.kind, []).append(batch_arrow(b))
        for kind, tables in by_kind.items():
            data = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
            self._insert(kind, data)

    def insert_arrow(self, table: str, data) -> None:
        """Bulk-load an Arrow table whose columns match ``table`` (benchmarks, imports)."""
        self._insert(check_identifier(table, "table"), data)

    # -- schema -----------------------------------------------------------------------------
    def _tables(self) -> set[str]:
        found = self._query(f"SELECT name FROM system.tables WHERE database = {literal(self.database)}")
        return set(found.column("name").to_pylist())

    def is_empty(self) -> bool:
        return not self._tables()

    def schema_version(self) -> int:
        if "schema_migrations" not in self._tables():
            return 0
        got = self._query("SELECT max(version) AS v FROM schema_migrations").column("v").to_pylist()
        return int(got[0] or 0) if got else 0

    def migrate(self) -> int:
        """Apply every migration newer than the store's version, then the retention TTL; return how many ran."""
        self._command(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
            "applied_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY version"
        )
        applied = {int(v) for v in self._query("SELECT version FROM schema_migrations").column("version").to_pylist()}
        ran = 0
        for version, name, sql in load("clickhouse"):
            if version in applied:
                continue  # every missing number runs, also one below the newest applied (merged late)
            try:
                for stmt in split_statements(sql):
                    self._command(stmt)
            except StoreError as exc:
                raise StoreError(f"Migration {name} failed: {exc}") from None
            self._command(f"INSERT INTO schema_migrations VALUES ({version}, {literal(name)}, now64(6))")
            ran += 1
        self.apply_retention()
        return ran

    def check_schema(self) -> None:
        version, needed = self.schema_version(), latest_version("clickhouse")
        if version < needed:
            raise MigrationRequired(
                f"Store {self.url} is at schema {version}; this watchkeeper needs {needed}. "
                f"Run: watchkeeper migrate --store {self.url}"
            )
        if version > needed:
            raise MigrationRequired(
                f"Store {self.url} is at schema {version}, newer than this watchkeeper ({needed}). Upgrade watchkeeper."
            )

    def apply_retention(self) -> None:
        """Set (or with 0, remove) the TTL of every event table that has a ``ts`` column."""
        if self.retention_days is None:
            return
        tables = self._query(
            "SELECT t.name AS name FROM system.tables AS t INNER JOIN system.columns AS c "
            "ON c.database = t.database AND c.table = t.name "
            f"WHERE t.database = {literal(self.database)} AND c.name = 'ts' AND t.engine LIKE '%MergeTree'"
        ).column("name").to_pylist()
        for table in sorted(set(tables)):
            if self.retention_days > 0:
                self._command(f"ALTER TABLE {table} MODIFY TTL toDateTime(ts) + INTERVAL {int(self.retention_days)} DAY "
                              "SETTINGS materialize_ttl_after_modify = 0")
            else:
                try:
                    self._command(f"ALTER TABLE {table} REMOVE TTL")
                except StoreError:
                    pass  # no TTL to remove


def retention_from(query: dict[str, list[str]]) -> int | None:
    """``?retention_days=N`` of a store URL (0 removes the TTL)."""
    raw = (query.get("retention_days") or [None])[0]
    if raw is None:
        return None
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(f"retention_days has value {raw!r}. Expected a whole number of days (0 keeps data forever).") from None
    if days < 0:
        raise ConfigError(f"retention_days has value {raw!r}. Expected 0 or more.")
    return days
