"""The event tables, described once for every backend.

Each column has a logical type; a backend maps it to its own SQL type. Adding a column means a new
numbered migration in every backend's folder and a line here.
"""

from __future__ import annotations

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
}


def arrow_schema(table: str):
    """The pyarrow schema of ``table`` (imported lazily: the SDK never needs pyarrow)."""
    import pyarrow as pa

    types = {"str": pa.string(), "key": pa.string(), "f64": pa.float64(), "i32": pa.int32(), "ts": pa.timestamp("us")}
    return pa.schema([pa.field(name, types[kind], nullable=(kind != "key")) for name, kind in TABLES[table]])


def to_arrow(table: str, columns: dict[str, list]):
    import pyarrow as pa

    schema = arrow_schema(table)
    arrays = [pa.array(columns[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
