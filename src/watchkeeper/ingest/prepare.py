"""From request body to a stored-ready batch: decode, validate, run the ingest steps, summarise.

``prepare`` is what the ingest routes run for every batch, in the server process for small bodies
and in an ingest worker process (server/ingest_pool.py) for large ones. An *ingest step* is a
picklable callable that rewrites a batch in place before anything is stored (server-side
redaction is one) and may leave ``notes`` for the after-ingest hooks; it must not depend on
server state, since it may run in another process.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from . import fastpath
from .decode import JSON_TYPES, BodyError, parse_records, unwrap_body
from .records import Batch, FieldError, validate
from .summary import summarize
from .timestamps import now_us

MAX_RECORDS = 100_000

Step = Callable[[Batch], None]


def prepare(kind: str, body: bytes, content_type: str | None, content_encoding: str | None, limit: int,
            project: str, steps: Sequence[Step] = (), received_us: int | None = None) -> Batch:
    ctype, body = unwrap_body(body, content_type, content_encoding, limit)
    received = now_us() if received_us is None else received_us
    batch = None
    if kind == "predictions" and ctype in JSON_TYPES:
        batch = fastpath.predictions(body, project, received)
    if batch is None:
        records = parse_records(ctype, body)
        _check_size(len(records))
        batch = validate(kind, records, project, received)
        del records
    else:
        _check_size(batch.rows)
    for step in steps:
        step(batch)
    batch.summary = summarize(kind, batch.columns, batch.rows)
    return batch


def _check_size(n: int) -> None:
    if n > MAX_RECORDS:
        raise BodyError(413, "batch_too_large", f"a batch holds at most {MAX_RECORDS} records, got {n}", records=n)


# -- the worker side: what crosses the process boundary ---------------------------------------

def prepare_packed(kind: str, body: bytes, content_type: str | None, content_encoding: str | None, limit: int,
                   project: str, steps: Sequence[Step], received_us: int) -> tuple:
    """``prepare`` in a worker process; the rows travel back as one Arrow IPC buffer."""
    try:
        batch = prepare(kind, body, content_type, content_encoding, limit, project, steps, received_us)
    except BodyError as exc:
        return ("error", exc.status, exc.code, exc.message, exc.details, exc.records)
    return pack(batch)


def pack(batch: Batch) -> tuple:
    """A prepared batch as plain values, its rows as one Arrow IPC buffer (``unpack`` is the other half)."""
    ipc = b""
    if batch.rows:
        from ..store.schema import ipc_bytes, to_arrow

        ipc = ipc_bytes(to_arrow(batch.kind, batch.columns))
    errors = [(e.index, e.field, e.message) for e in batch.errors]
    return ("ok", batch.kind, batch.rows, errors, batch.summary, batch.notes, ipc)


def unpack(packed: tuple) -> Batch:
    """The server-side half of ``prepare_packed``: a Batch whose columns come from the table lazily."""
    if packed[0] == "error":
        _, status, code, message, details, records = packed
        raise BodyError(status, code, message, details, records)
    _, kind, rows, errors, summary, notes, ipc = packed
    table = None
    if rows:
        import pyarrow as pa

        table = pa.ipc.open_stream(ipc).read_all()
    return Batch(kind=kind, columns=TableColumns(table) if table is not None else {}, rows=rows,
                 errors=[FieldError(*e) for e in errors], summary=summary, table=table, notes=notes,
                 ipc=ipc if table is not None else None)


_TIMESTAMP_ID = None


class TableColumns(dict):
    """``batch.columns`` of a batch built elsewhere: each column becomes a Python list when first read."""

    def __init__(self, table: Any):
        global _TIMESTAMP_ID
        super().__init__()
        self._table = table
        if _TIMESTAMP_ID is None:
            import pyarrow as pa

            _TIMESTAMP_ID = pa.timestamp("us").id

    def __missing__(self, name: str) -> list[Any]:
        if name not in self._table.column_names:
            raise KeyError(name)
        column = self._table.column(name)
        if column.type.id == _TIMESTAMP_ID:  # the store's timestamps are integer microseconds in Python
            import pyarrow as pa

            column = column.cast(pa.int64())
        values = column.to_pylist()
        self[name] = values
        return values

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return name in self._table.column_names

    def _all(self) -> None:
        for name in self._table.column_names:
            self[name]

    def keys(self):
        self._all()
        return super().keys()

    def values(self):
        self._all()
        return super().values()

    def items(self):
        self._all()
        return super().items()

    def __iter__(self):
        return iter(self._table.column_names)

    def __len__(self) -> int:
        return len(self._table.column_names)
