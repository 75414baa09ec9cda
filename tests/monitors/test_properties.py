"""Property tests: identical data never drifts, and row order never matters."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.monitors.drift.registry import METHODS
from watchkeeper.monitors.profile import compare, profile_current, profile_reference

values = st.lists(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(values, st.sampled_from(sorted(METHODS)))
def test_identical_numerical_data_does_not_drift(xs, method):
    """drift(x, x) is ~0 for every method and never flagged."""
    x = np.array(xs)
    ref = profile_reference(x, "x", sketches=False)
    result = compare(ref, profile_current(ref, x), method=method)
    assert not result.drifted
    if result.p_value is None:
        assert result.statistic == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=300),
       st.sampled_from(sorted(METHODS)))
def test_identical_categorical_data_does_not_drift(xs, method):
    """Identical categorical columns are never flagged, whatever the method."""
    arr = pa.array(xs, type=pa.string())
    ref = profile_reference(arr, "c", kind="categorical")
    assert not compare(ref, profile_current(ref, arr), method=method).drifted


@settings(max_examples=40, deadline=None)
@given(values, values, st.randoms(use_true_random=False), st.sampled_from(sorted(METHODS)))
def test_row_order_does_not_matter(xs, ys, rnd, method):
    """Shuffling either side leaves the statistic unchanged."""
    x, y = np.array(xs), np.array(ys)
    ref = profile_reference(x, "x", sketches=False)
    base = compare(ref, profile_current(ref, y), method=method)
    xs2, ys2 = list(xs), list(ys)
    rnd.shuffle(xs2)
    rnd.shuffle(ys2)
    ref2 = profile_reference(np.array(xs2), "x", sketches=False)
    other = compare(ref2, profile_current(ref2, np.array(ys2)), method=method)
    assert other.statistic == pytest.approx(base.statistic, rel=1e-9, abs=1e-12)
    assert other.drifted == base.drifted
