"""Column kinds for drift and profiling, decided from Arrow types (no per-row work).

``numerical``: integers, floats, decimals, and dates/times (compared as their integer epoch values).
``categorical``: strings, dictionaries, booleans, and numerical columns with at most
``LOW_CARDINALITY`` distinct reference values (0/1 flags, ratings), compared as categories.
Anything else (lists, structs, binary) is ``unsupported`` and reported, not compared.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["kind_of_type", "infer_kind", "to_numeric", "to_categorical", "LOW_CARDINALITY"]

#: Numerical columns with at most this many distinct reference values are compared as categories.
LOW_CARDINALITY = 5


def kind_of_type(t: pa.DataType) -> str:
    """``numerical``, ``datetime``, ``categorical`` or ``unsupported`` from an Arrow type alone."""
    if pa.types.is_dictionary(t):
        return kind_of_type(t.value_type)
    if pa.types.is_boolean(t):
        return "categorical"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numerical"
    if pa.types.is_temporal(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", lambda _: False)(t):
        return "categorical"
    if pa.types.is_null(t):
        return "null"
    return "unsupported"


def to_numeric(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Dates/times as int64 epoch units, decimals as float64; numbers unchanged."""
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.cast(t.value_type)
        t = values.type
    if pa.types.is_decimal(t):
        return values.cast(pa.float64())
    if pa.types.is_temporal(t):
        width = pa.int32() if t.bit_width == 32 else pa.int64()
        return pa.chunked_array([c.view(width) for c in values.chunks], type=width)
    return values


def to_categorical(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Strings (or dictionaries of strings) ready for ``value_counts``; NaN and +-inf become null."""
    t = values.type
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return values
    if pa.types.is_floating(t):
        values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, t))  # NaN and +-inf are missing
        # 1.0 -> "1" so an int reference and a float current agree on category names
        whole = pc.equal(values, pc.floor(values))
        if pc.all(pc.or_kleene(whole, pc.is_null(values))).as_py() is not False:
            try:
                values = values.cast(pa.int64())
            except pa.ArrowInvalid:  # beyond int64: keep the float spelling
                pass
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return values


def infer_kind(values: pa.ChunkedArray) -> str:
    """Kind of a reference column: the type's kind, with low-cardinality numbers moved to categorical."""
    kind = kind_of_type(values.type)
    if kind != "numerical" or len(values) == 0:
        return kind
    head = values.slice(0, 10_000).drop_null()
    if len(head) and len(np.unique(head.to_numpy())) > LOW_CARDINALITY:
        return kind
    distinct = pc.count_distinct(values, mode="only_valid").as_py()
    if pa.types.is_floating(values.type):
        distinct -= int(pc.sum(pc.is_nan(values)).as_py() or 0) > 0
    return "categorical" if 0 < distinct <= LOW_CARDINALITY else kind
