"""From an OTLP trace export to a stored-ready batch of spans, in the server or in an ingest worker.

``prepare_spans`` decodes the body (otlp.py), normalises every span (spans.py) and runs the ingest
steps (server-side redaction and the capture for the security scan, see ingest/prepare.py). The
POST /v1/traces route runs it in an ingest worker process (server/ingest_pool.py) when one is free,
through ``prepare_spans_packed`` (the rows travel back as Arrow IPC, ``unpack_spans`` is the server
half), and in the server otherwise. Either way the server dedupes, queues, logs and acknowledges.
"""

from __future__ import annotations

from typing import Any, Sequence

from .otlp import OtlpError, decode
from .prepare import Step, pack, unpack
from .records import Batch
from .spans import SpanBuilder, ToolValidator


class PreparedSpans:
    """The outcome of one export: the batch (None when no span was accepted) and what the route reports."""

    __slots__ = ("project", "batch", "rejected", "message", "keys", "_streams", "_tools")

    def __init__(self, project: str, batch: Batch | None, rejected: int, message: str, keys: list,
                 streams: list, tools: list):
        self.project = project
        self.batch = batch
        self.rejected = rejected
        self.message = message
        self.keys = keys          # trace_id + span_id (hex) per row
        self._streams = streams   # (row, project, model, gaps_us)
        self._tools = tools       # (row, tool, outcome, schema violated)

    @property
    def rows(self) -> int:
        return self.batch.rows if self.batch is not None else 0

    @property
    def streams(self) -> list[tuple[str, str, list[int]]]:
        """(project, model, gaps_us) of every stored LLM span with token timing (for TraceMetrics)."""
        return [rest for _, *rest in self._streams]

    @property
    def tool_outcomes(self) -> list[tuple[str, str, bool]]:
        """(tool, outcome, schema violated) of every stored tool span."""
        return [tuple(rest) for _, *rest in self._tools]

    def drop_rows(self, keep: list[bool]) -> None:
        """Keep only the rows flagged True (spans an earlier delivery of the same export already stored)."""
        batch = self.batch
        if batch is None or all(keep):
            return
        n = sum(keep)
        if n == 0:
            self.batch = None
        elif batch.table is not None:
            import pyarrow as pa

            from .prepare import TableColumns

            table = batch.table.filter(pa.array(keep))
            self.batch = Batch(kind=batch.kind, columns=TableColumns(table), rows=n, table=table, notes=batch.notes)
        else:
            columns = {name: [v for v, k in zip(col, keep) if k] for name, col in batch.columns.items()}
            self.batch = Batch(kind=batch.kind, columns=columns, rows=n, notes=batch.notes)
        self.keys = [v for v, k in zip(self.keys, keep) if k]
        renumber = {old: new for new, old in enumerate(i for i, k in enumerate(keep) if k)}
        self._streams = [(renumber[r], *rest) for r, *rest in self._streams if r in renumber]
        self._tools = [(renumber[r], *rest) for r, *rest in self._tools if r in renumber]


def prepare_spans(body: bytes, ctype: str, project: str, received_us: int, steps: Sequence[Step] = (),
                  validator: Any = None) -> PreparedSpans:
    """Decode and normalise an export, then run the ingest steps on its batch. Raises ``OtlpError``."""
    check: ToolValidator | None = validator.validate if validator is not None else None
    builder = SpanBuilder(project, received_us, check)
    decode(body, ctype, builder)
    batch = None
    if builder.rows:
        batch = builder.batch()
        for step in steps:
            step(batch)
    return PreparedSpans(project, batch, builder.rejected, builder.message(), builder.keys, builder._streams,
                         builder._tools)


# -- the worker side ---------------------------------------------------------------------------

def prepare_spans_packed(body: bytes, ctype: str, project: str, received_us: int, steps: Sequence[Step],
                         validator: Any) -> tuple:
    """``prepare_spans`` in an ingest worker: plain values, and the rows as one Arrow IPC buffer."""
    try:
        p = prepare_spans(body, ctype, project, received_us, steps, validator)
    except OtlpError as exc:
        return ("error", exc.status, exc.code, exc.message)
    packed = pack(p.batch) if p.batch is not None else None
    return ("ok", packed, p.rejected, p.message, p.keys, p._streams, p._tools)


def unpack_spans(packed: tuple, project: str) -> PreparedSpans:
    """The server half of ``prepare_spans_packed``. Raises ``OtlpError`` for a body the worker refused."""
    if packed[0] == "error":
        _, status, code, message = packed
        raise OtlpError(status, code, message)
    _, batch, rejected, message, keys, streams, tools = packed
    return PreparedSpans(project, unpack(batch) if batch is not None else None, rejected, message, keys, streams,
                         tools)
