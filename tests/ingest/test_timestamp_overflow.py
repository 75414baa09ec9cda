"""Epoch seconds so large that seconds x 1e6 overflows a float are a field error, not an OverflowError (a 500)."""

from __future__ import annotations

import orjson
import pytest

from watchkeeper.ingest.records import validate
from watchkeeper.ingest.timestamps import parse_timestamp_us


@pytest.mark.parametrize("value", [1e303, -1e303, 1.7976931348623157e308, 10**400])
def test_huge_epoch_seconds_are_rejected_with_a_reason(value):
    with pytest.raises(ValueError, match="outside 1990..2200"):
        parse_timestamp_us(value)


def test_a_record_with_huge_seconds_is_rejected_by_field_and_the_rest_are_kept():
    recs = orjson.loads(b'[{"model": "m", "output": 1, "timestamp": 1e303}, {"model": "m", "output": 1}]')
    batch = validate("predictions", recs, "p", 1_700_000_000_000_000)
    assert batch.rows == 1
    assert [(e.index, e.field) for e in batch.errors] == [(0, "timestamp")]
