"""The event tables, described once for every backend.

Each column has a logical type; a backend maps it to its own SQL type. Adding a column means a new
numbered migration in every backend's folder and a line here.
"""

from __future__ import annotations

import functools

# logical types: str (nullable text), key (non-null text), f64, i32, ts (UTC microseconds)
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "predictions": (
        ("project", "key"), ("model", "key"), ("model_version", "key"), ("request_id", "key"),
        ("ts", "ts"), ("received_at", "ts"), ("release_id", "str"), ("release", "str"),
        ("inputs", "str"), ("input_size", "i32"), ("output_label", "str"), ("output_value", "f64"),
        ("score", "f64"), ("scores", "str"), ("latency_ms", "f64"), ("segment", "str"),
        ("cost", "f64"), ("trace_id", "str"), ("error", "str"), ("extra", "str"),
    ),
    "labels": (
        ("project", "key"), ("request_id", "key"), ("label", "str"), ("label_value", "f64"),
        ("model", "str"), ("trace_id", "str"), ("ts", "ts"), ("received_at", "ts"),
    ),
    "feedback": (
        ("project", "key"), ("request_id", "str"), ("trace_id", "str"), ("kind", "key"),
        ("value", "str"), ("value_num", "f64"), ("comment", "str"), ("ts", "ts"), ("received_at", "ts"),
    ),
    "spans": (  # traces: one row per span, see ingest/spans.py
        ("project", "key"), ("trace_id", "key"), ("span_id", "key"), ("parent_span_id", "str"), ("is_root", "i32"),
        ("name", "key"), ("kind", "key"), ("span_kind", "i32"), ("service", "str"), ("scope", "str"),
        ("ts", "ts"), ("end_ts", "ts"), ("duration_ms", "f64"), ("received_at", "ts"), ("status", "key"),
        ("status_message", "str"), ("error_type", "str"), ("model", "str"), ("provider", "str"), ("operation", "str"),
        ("input_tokens", "i32"), ("output_tokens", "i32"), ("cost", "f64"), ("finish_reason", "str"),
        ("prompt_template", "str"), ("prompt_version", "str"), ("request_id", "str"), ("model_id", "str"),
        ("index_version", "str"), ("policy_version", "str"), ("session_id", "str"), ("tool_name", "str"),
        ("ttft_ms", "f64"), ("flags", "str"), ("input", "str"), ("output", "str"), ("details", "str"),
        ("attributes", "str"), ("events", "str"), ("resource", "str"),
    ),
    "quality_points": (  # stored quality time series, see monitors/quality_job.py
        ("project", "key"), ("model", "key"), ("task", "key"), ("group_by", "key"), ("grp", "key"),
        ("metric", "key"), ("kind", "key"), ("ts", "ts"), ("bucket_s", "i32"), ("value", "f64"),
        ("lower", "f64"), ("upper", "f64"), ("n", "f64"), ("computed_at", "ts"),
    ),
    "security_events": (  # detections, see security/events.py and server/routes/security.py
        ("project", "key"), ("event_id", "key"), ("ts", "ts"), ("received_at", "ts"), ("type", "key"),
        ("detector", "key"), ("severity", "key"), ("score", "f64"), ("action", "key"), ("source", "key"),
        ("evidence", "str"), ("request_id", "str"), ("trace_id", "str"), ("span_id", "str"), ("tenant", "str"),
        ("model", "str"), ("details", "str"),
    ),
    "online_evals": (  # scores of sampled production LLM traces, see llm/evals_online.py
        ("project", "key"), ("trace_id", "key"), ("model", "str"), ("ts", "ts"), ("claims", "i32"),
        ("unsupported", "i32"), ("unsupported_rate", "f64"), ("refused", "i32"), ("has_context", "i32"),
        ("computed_at", "ts"),
    ),
    "drift_results": (  # online drift per model/segment/feature/method and window, see monitors/online_drift.py
        ("project", "key"), ("model", "key"), ("release", "key"), ("segment", "key"), ("feature", "key"),
        ("kind", "key"), ("method", "key"), ("ts", "ts"), ("window_s", "i32"), ("statistic", "f64"),
        ("threshold", "f64"), ("drifted", "i32"), ("missing_reference", "f64"), ("missing_current", "f64"),
        ("rows_current", "f64"), ("details", "str"), ("computed_at", "ts"),
    ),
    "contract_violations": (  # broken data-contract rules, see monitors/contracts.py
        ("project", "key"), ("model", "key"), ("ts", "ts"), ("rule", "key"), ("column_name", "key"),
        ("observed", "str"), ("expected", "str"), ("rows_failed", "f64"), ("rows_checked", "f64"),
        ("samples", "str"), ("source", "str"), ("computed_at", "ts"),
    ),
}


@functools.cache
def arrow_schema(table: str):
    """The pyarrow schema of ``table`` (imported lazily: the SDK never needs pyarrow). Built once per table:
    every batch converted to Arrow asks for it."""
    import pyarrow as pa

    types = {"str": pa.string(), "key": pa.string(), "f64": pa.float64(), "i32": pa.int32(), "ts": pa.timestamp("us")}
    return pa.schema([pa.field(name, types[kind], nullable=(kind != "key")) for name, kind in TABLES[table]])


def to_arrow(table: str, columns: dict[str, list]):
    import pyarrow as pa

    schema = arrow_schema(table)
    arrays = [_array(pa, columns[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(pa, values: list, type_):
    """``pa.array(values, type_)``, 5-20x cheaper for a column holding one value throughout (the project,
    the receive time, the empty ones), which a batch of one service's predictions has many of."""
    n = len(values)
    if n > 1 and values[-1] == values[0] and values.count(values[0]) == n:  # identity first: C speed
        if values[0] is None:
            return pa.nulls(n, type_)
        try:
            return pa.repeat(pa.scalar(values[0], type_), n)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            pass  # pa.array raises the error that names the value
    return pa.array(values, type=type_)


def batch_arrow(batch):
    """A batch as an Arrow table: the one an ingest worker already built, or one made from its columns."""
    table = getattr(batch, "table", None)
    return table if table is not None else to_arrow(batch.kind, batch.columns)


def ipc_bytes(table) -> bytes:
    """An Arrow table as one IPC stream (how rows cross a process boundary and enter the ingest log)."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
